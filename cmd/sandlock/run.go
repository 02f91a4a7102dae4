package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/core/seccomp"
)

// Exit statuses of "run" besides the command's own (see runHelpHead).
const (
	exitTimeout = 124 // --timeout expired, as timeout(1)
	exitSetup   = 125 // sandlock could not set up or start the sandbox
	// A command killed by signal N gives 128+N, as a POSIX shell reports
	// it in $?. The original CLI returned 1, which cannot be told apart
	// from a command that failed normally; 128+N keeps the signal visible
	// to scripts and to a shell that runs sandlock.
	exitSignalBase = 128
)

// defaultReadable and defaultWritable are granted when the command line
// names no -r/-w path at all; entries missing on this host are skipped.
// They are the least that lets dynamically linked programs and /bin/sh
// run: system binaries and libraries, /etc (loader cache, passwd, locale,
// resolver configuration), the harmless character devices, and /dev/null
// writable for redirections. Not /proc, /sys, /tmp, /home, /run or /dev as
// a whole.
var (
	defaultReadable = []string{
		"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
		"/dev/zero", "/dev/random", "/dev/urandom",
	}
	defaultWritable = []string{"/dev/null"}
)

// fieldFlags maps the policy's field names, which its errors use, to the
// flags that set them, so that messages name what the user typed.
var fieldFlags = map[string]string{
	"fs_writable":         "--fs-write",
	"fs_readable":         "--fs-read",
	"fs_denied":           "--fs-deny",
	"deny_syscalls":       "--deny-syscall",
	"allow_syscalls":      "--allow-syscall",
	"net_allow_hosts":     "--net-allow-host",
	"net_bind":            "--net-bind",
	"net_connect":         "--net-connect",
	"http_allow":          "--http-allow",
	"http_deny":           "--http-deny",
	"http_ports":          "--http-port",
	"https_ca":            "--https-ca",
	"https_key":           "--https-key",
	"max_memory":          "--max-memory",
	"max_processes":       "--max-processes",
	"max_open_files":      "--max-open-files",
	"max_cpu":             "--cpu",
	"cpu_cores":           "--cpu-cores",
	"num_cpus":            "--num-cpus",
	"port_remap":          "--port-remap",
	"random_seed":         "--random-seed",
	"time_start":          "--time-start",
	"no_randomize_memory": "--no-randomize-memory",
	"no_huge_pages":       "--no-huge-pages",
	"deterministic_dirs":  "--deterministic-dirs",
	"gpu_devices":         "--gpu",
	"chroot":              "--chroot",
	"fs_mount":            "--fs-mount",
	"clean_env":           "--clean-env",
	"env":                 "--env",
	"uid":                 "--uid",
	"workdir":             "--workdir",
	"cwd":                 "--cwd",
	"fs_isolation":        "--fs-isolation",
	"fs_storage":          "--fs-storage",
	"max_disk":            "--max-disk",
	"hostname":            "--name",
}

// Headings of the help of "run".
const (
	gFS   = "Filesystem"
	gNet  = "Network"
	gLim  = "Resource limits"
	gProc = "Process and environment"
	gSys  = "System calls and kernel"
	gTodo = "Accepted, not implemented yet (exit status 2)"
)

// runConfig collects what the flags of "run" ask for.
type runConfig struct {
	p        policy.Policy
	fsGiven  bool // any -r or -w
	deny     []string
	allow    []string
	bind     []string
	connect  []string
	httpPort []string
	timeout  time.Duration
	statusFD int
	shell    *string
	name     string
	// nameGiven is set by --name (the default name is made up).
	nameGiven bool
	// cliOnly lists flags of the original that have no policy field and
	// no implementation yet, in the order given.
	cliOnly []string
}

func newRunConfig() *runConfig {
	return &runConfig{p: policy.Default(), statusFD: -1}
}

// options declares every flag of "sandlock run".
func (c *runConfig) options() *optionSet {
	s := &optionSet{}
	add := func(short byte, long, arg, group, help string, set func(string) error) {
		s.add(&option{short: short, long: long, arg: arg, group: group, help: help, set: set})
	}
	// todo declares a flag of the original whose feature is not built yet.
	// The help lists it under gTodo, or under group once probe (flags that
	// exercise it) passes the policy's validation. Without probe the flag
	// has no policy field and is always rejected.
	todo := func(short byte, long, arg, group string, probe []string, help string, set func(string) error) {
		if set == nil {
			set = func(string) error { c.cliOnly = append(c.cliOnly, "--"+long); return nil }
		}
		s.add(&option{short: short, long: long, arg: arg, group: gTodo, help: help, set: set,
			implGroup: group, probe: probe})
	}

	add('r', "fs-read", "PATH", gFS, "allow reading, listing and executing under PATH (repeatable)", func(v string) error {
		c.fsGiven = true
		return appendPath(&c.p.FsReadable, v)
	})
	add('w', "fs-write", "PATH", gFS, "allow reading, writing, creating and deleting under PATH (repeatable)", func(v string) error {
		c.fsGiven = true
		return appendPath(&c.p.FsWritable, v)
	})
	add(0, "fs-deny", "PATH", gFS, "deny PATH even inside an allowed tree (repeatable)", func(v string) error {
		return appendPath(&c.p.FsDenied, v)
	})
	add(0, "cwd", "DIR", gFS, "working directory of the command (default: sandlock's)", func(v string) error {
		abs, err := absPath(v)
		c.p.Cwd = abs
		return err
	})

	add(0, "net-bind", "PORT", gNet, "allow TCP bind on PORT or range LO-HI (repeatable);\nwithout it no TCP port can be bound", func(v string) error {
		return appendPorts(&c.bind, v)
	})
	add(0, "net-connect", "PORT", gNet, "allow TCP connect to PORT or range LO-HI (repeatable);\nwithout it no TCP connection can be made", func(v string) error {
		return appendPorts(&c.connect, v)
	})
	add(0, "net-deny", "udp|raw", gNet, "deny UDP sockets, or raw IP sockets (raw is denied by default)", func(v string) error {
		switch strings.ToLower(v) {
		case "udp":
			c.p.NoUDP = true
		case "raw":
			c.p.NoRawSockets = true
		default:
			return fmt.Errorf("want udp or raw, got %q", v)
		}
		return nil
	})

	add('P', "max-processes", "N", gLim, "at most N processes at once in the sandbox (default 64, 0 = no limit)", func(v string) error {
		n, err := parseInt(v)
		c.p.MaxProcesses = n
		return err
	})
	add(0, "max-open-files", "N", gLim, "limit open files per process (RLIMIT_NOFILE)", func(v string) error {
		n, err := parseUint(v)
		if err == nil && n == 0 {
			err = errors.New("must be at least 1")
		}
		c.p.MaxOpenFiles = n
		return err
	})
	add(0, "cpu-cores", "LIST", gLim, "pin to these CPU cores, e.g. 0,2,3 or 0-3", func(v string) error {
		cores, err := parseIntList(v, true)
		c.p.CPUCores = append(c.p.CPUCores, cores...)
		return err
	})
	add('m', "max-memory", "SIZE", gLim, "memory budget of the whole sandbox, e.g. 512M (K, M, G, T);\nan allocation past it fails with ENOMEM", func(v string) error {
		n, err := policy.ParseSize(v)
		c.p.MaxMemory = n
		return err
	})
	add('c', "cpu", "PCT", gLim, "CPU share of one core in percent (1-100), for each process", func(v string) error {
		n, err := parseInt(v)
		if err == nil && (n < 1 || n > 100) {
			err = fmt.Errorf("must be between 1 and 100, got %d", n)
		}
		c.p.MaxCPU = n
		return err
	})
	add(0, "num-cpus", "N", gLim, "number of CPUs the sandbox sees (nproc, /proc/cpuinfo)", func(v string) error {
		n, err := parseInt(v)
		if err == nil && n < 1 {
			err = fmt.Errorf("must be at least 1, got %d", n)
		}
		c.p.NumCPUs = n
		return err
	})
	add('t', "timeout", "SECS", gLim, "kill the sandbox after SECS seconds (fractions allowed,\ne.g. 0.5, or a Go duration such as 1m30s); exit status 124", func(v string) error {
		d, err := parseSeconds(v)
		c.timeout = d
		return err
	})

	add(0, "clean-env", "", gProc, "start the command with an empty environment", func(string) error {
		c.p.CleanEnv = true
		return nil
	})
	add(0, "env", "K=V", gProc, "set an environment variable, after --clean-env (repeatable)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		if c.p.Env == nil {
			c.p.Env = map[string]string{}
		}
		c.p.Env[k] = val
		return nil
	})
	add('e', "exec-shell", "CMD", gProc, "run /bin/sh -c CMD instead of a command", func(v string) error {
		c.shell = &v
		return nil
	})
	add(0, "name", "NAME", gProc, "name of the sandbox (default sandbox-PID) for 'sandlock list';\nalso its host name once host name virtualisation exists", func(v string) error {
		if v == "" {
			return errors.New("empty name")
		}
		if strings.ContainsRune(v, '/') || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return fmt.Errorf("%q contains '/' or a control character", v)
		}
		c.nameGiven = true
		c.name = v
		return nil
	})
	add('i', "interactive", "", gProc, "accepted for compatibility; runs are always interactive", func(string) error {
		return nil
	})
	add(0, "status-fd", "FD", gProc, "write the outcome as JSON to file descriptor FD at the end:\n{\"exit_code\":N}, {\"exit_code\":-1,\"signal\":S}, or\n{\"exit_code\":-1,\"error\":\"...\"} when the sandbox could not start", func(v string) error {
		fd, err := parseInt(v)
		if err != nil {
			return err
		}
		if fd < 0 {
			return errors.New("must not be negative")
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("file descriptor %d: %v", fd, err)
		}
		c.statusFD = fd
		return nil
	})

	add(0, "no-coredump", "", gSys, "never write core files (RLIMIT_CORE 0)", func(string) error {
		c.p.NoCoredump = true
		return nil
	})
	add(0, "no-randomize-memory", "", gSys, "disable address space layout randomisation", func(string) error {
		c.p.NoRandomizeMemory = true
		return nil
	})
	add(0, "no-huge-pages", "", gSys, "disable transparent huge pages", func(string) error {
		c.p.NoHugePages = true
		return nil
	})
	add(0, "deny-syscall", "NAME", gSys, "also deny these system calls (EPERM), on top of the default\ndeny list; NAME may be a comma-separated list (repeatable)", func(v string) error {
		return appendNames(&c.deny, v)
	})
	add(0, "allow-syscall", "NAME", gSys, "allowlist mode: only these system calls (plus the few sandlock\nneeds) are allowed; the default deny list still applies (repeatable)", func(v string) error {
		return appendNames(&c.allow, v)
	})
	add(0, "allow-degraded", "", gSys, "run even if the kernel lacks a Landlock protection the policy\nneeds; what is missing is reported on stderr", func(string) error {
		c.p.AllowDegraded = true
		return nil
	})

	// Flags of the original whose feature does not exist yet. Those with a
	// policy field set it, so that Validate reports them and the flag works
	// as soon as the engine implements the field.
	todo(0, "gpu", "LIST", gSys, []string{"--gpu=0"}, "grant access to these GPUs, e.g. 0,1", func(v string) error {
		devs, err := parseIntList(v, false)
		if c.p.GPUDevices == nil {
			c.p.GPUDevices = []int{}
		}
		c.p.GPUDevices = append(c.p.GPUDevices, devs...)
		return err
	})
	todo(0, "net-allow-host", "HOST", gNet, []string{"--net-allow-host=localhost"}, "allow IP traffic (connect, UDP sends) only to HOST's addresses,\nresolved at start, and loopback (repeatable); the sandbox sees\na synthetic /etc/hosts; other destinations: ECONNREFUSED", func(v string) error {
		c.p.NetAllowHosts = append(c.p.NetAllowHosts, v)
		return nil
	})
	todo(0, "net-allow", "icmp", gNet, nil, "allow ICMP", nil)
	todo(0, "http-allow", "RULE", gNet, []string{"--http-allow=GET example.com/"}, "allow HTTP requests matching \"METHOD host/path\" (repeatable)", func(v string) error {
		c.p.HTTPAllow = append(c.p.HTTPAllow, v)
		return nil
	})
	todo(0, "http-deny", "RULE", gNet, []string{"--http-deny=GET example.com/"}, "deny HTTP requests matching \"METHOD host/path\" (repeatable)", func(v string) error {
		c.p.HTTPDeny = append(c.p.HTTPDeny, v)
		return nil
	})
	todo(0, "http-port", "PORT", gNet, []string{"--http-port=80"}, "ports whose connections go through the HTTP proxy (repeatable)", func(v string) error {
		return appendPorts(&c.httpPort, v)
	})
	todo(0, "https-ca", "PEM", gNet, []string{"--https-ca=/ca.pem", "--https-key=/ca.key"}, "CA certificate for HTTPS interception", func(v string) error {
		abs, err := absPath(v)
		c.p.HTTPSCA = abs
		return err
	})
	todo(0, "https-key", "PEM", gNet, []string{"--https-ca=/ca.pem", "--https-key=/ca.key"}, "key of the --https-ca certificate", func(v string) error {
		abs, err := absPath(v)
		c.p.HTTPSKey = abs
		return err
	})
	todo(0, "port-remap", "", gNet, []string{"--port-remap"}, "private TCP port space: a bound port taken on the host is\nmapped to a free one; the sandbox keeps seeing its own port\n('sandlock list' shows the real one)", func(string) error {
		c.p.PortRemap = true
		return nil
	})
	todo(0, "chroot", "DIR", gFS, []string{"--chroot=/"}, "run inside the root file system DIR", func(v string) error {
		abs, err := absPath(v)
		c.p.Chroot = abs
		return err
	})
	todo(0, "fs-mount", "VIRT:HOST", gFS, []string{"--chroot=/", "--fs-mount=/mnt:/tmp"}, "mount host directory HOST at VIRT inside --chroot (repeatable)", func(v string) error {
		virt, host, ok := strings.Cut(v, ":")
		if !ok || virt == "" || host == "" {
			return fmt.Errorf("want VIRT:HOST, got %q", v)
		}
		abs, err := absPath(host)
		if err != nil {
			return err
		}
		if c.p.FsMount == nil {
			c.p.FsMount = map[string]string{}
		}
		c.p.FsMount[virt] = abs
		return nil
	})
	todo(0, "image", "NAME", gFS, nil, "use a local Docker image as --chroot", nil)
	todo(0, "workdir", "DIR", gFS, []string{"--workdir=/tmp"}, "copy-on-write working tree", func(v string) error {
		abs, err := absPath(v)
		c.p.Workdir = abs
		return err
	})
	todo(0, "fs-isolation", "MODE", gFS, []string{"--workdir=/tmp", "--fs-isolation=overlayfs"}, "copy-on-write backend: none, overlayfs or branchfs", func(v string) error {
		switch m := policy.FsIsolation(v); m {
		case policy.FsIsolationNone, policy.FsIsolationOverlayFS, policy.FsIsolationBranchFS:
			c.p.FsIsolation = m
			return nil
		}
		return fmt.Errorf("want none, overlayfs or branchfs, got %q", v)
	})
	todo(0, "fs-storage", "DIR", gFS, []string{"--workdir=/tmp", "--fs-storage=/tmp"}, "where the copy-on-write layer is kept", func(v string) error {
		abs, err := absPath(v)
		c.p.FsStorage = abs
		return err
	})
	todo(0, "max-disk", "SIZE", gFS, []string{"--workdir=/tmp", "--max-disk=1M"}, "size limit of the copy-on-write layer", func(v string) error {
		n, err := policy.ParseSize(v)
		c.p.MaxDisk = n
		return err
	})
	todo(0, "dry-run", "", gFS, nil, "run, report the changes to --workdir, keep none", nil)
	todo(0, "time-start", "TIME", gSys, []string{"--time-start=2000-01-01T00:00:00Z"}, "start the wall clock at TIME (ISO 8601 or epoch seconds)", func(v string) error {
		t, err := parseTime(v)
		c.p.TimeStart = &t
		return err
	})
	todo(0, "random-seed", "N", gSys, []string{"--random-seed=1"}, "deterministic randomness from seed N", func(v string) error {
		n, err := parseUint(v)
		c.p.RandomSeed = &n
		return err
	})
	todo(0, "deterministic-dirs", "", gSys, []string{"--deterministic-dirs"}, "list directories in sorted order", func(string) error {
		c.p.DeterministicDirs = true
		return nil
	})
	todo(0, "uid", "N", gProc, []string{"--uid=0"}, "appear as user id N inside a user namespace", func(v string) error {
		n, err := parseInt(v)
		c.p.UID = &n
		return err
	})
	todo('p', "profile", "NAME", gProc, nil, "load the named profile", nil)
	todo(0, "no-supervisor", "", gSys, nil, "confine and exec in place, without a supervisor", nil)
	return s
}

const runHelpHead = `usage: sandlock run [flags] [--] COMMAND [ARG...]
       sandlock run [flags] -e 'SHELL COMMAND'

Run COMMAND confined by Landlock, a seccomp filter and a supervisor. No root
is needed. Flags end at "--" or at the first argument that is not a flag.

Default filesystem access: when no -r/--fs-read and no -w/--fs-write is
given, the command may read and execute under
  /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc
read /dev/zero /dev/random /dev/urandom, and read and write /dev/null
(paths missing on this host are skipped). Nothing else: not /proc, /sys,
/tmp, /home, /run or the rest of /dev; add them with -r or -w. Note that
/etc includes files such as /etc/shadow, which a command run as root can
read. As soon as one -r or -w is given, only the listed paths are granted,
so list the system directories the command needs as well.

Defaults otherwise: the environment is inherited, at most 64 processes,
no TCP bind or connect, raw IP sockets denied, the default system call
deny list applies. Standard input, output and error are inherited; when
standard input is a terminal the command stays in sandlock's process
group so that it can use the terminal.

Signals: SIGTERM and SIGHUP sent to sandlock are passed on to the command,
and so are SIGINT and SIGQUIT when the command has its own process group
(standard input is not a terminal). With a terminal the command is in the
terminal's foreground group and receives ^C and ^\ from the terminal itself.

Exit status:
  N        the command exited with status N
  128+N    the command was killed by signal N (as a shell reports it)
  124      --timeout expired and the sandbox was killed
  125      sandlock could not set up the sandbox (missing path, kernel
           refused a confinement step, spawn failed); message on stderr
  127      the command could not be executed (not found, not permitted)
  2        usage error: unknown flag, bad value, invalid combination, or
           an option that is not implemented yet
`

// runCmd is "sandlock run".
func runCmd(args []string, stdout, stderr io.Writer) int {
	c := newRunConfig()
	set := c.options()
	rest, err := set.parse(args)
	if err == errHelp {
		for _, o := range set.opts {
			if o.group == gTodo && o.probe != nil && flagImplemented(o.probe) {
				o.group = o.implGroup
			}
		}
		fmt.Fprint(stdout, runHelpHead)
		set.printHelp(stdout)
		return 0
	}
	if err == nil {
		var argv []string
		if argv, err = c.finish(rest); err == nil {
			return c.run(argv, stderr)
		}
	}
	fmt.Fprintf(stderr, "sandlock run: %v\nusage: sandlock run [flags] [--] COMMAND [ARG...]\nRun 'sandlock run --help' for the flags.\n", err)
	return exitUsage
}

// finish turns the parsed flags into the policy and the command line.
func (c *runConfig) finish(rest []string) ([]string, error) {
	var argv []string
	switch {
	case c.shell != nil && len(rest) > 0:
		return nil, usagef("-e/--exec-shell and a command (%q) cannot be given together", rest[0])
	case c.shell != nil:
		argv = []string{"/bin/sh", "-c", *c.shell}
	case len(rest) == 0:
		return nil, usagef("missing command")
	default:
		argv = rest
	}
	if c.deny != nil && c.allow != nil {
		return nil, usagef("--deny-syscall and --allow-syscall cannot be combined")
	}
	if c.deny != nil {
		// The policy field replaces the default list; on the command line
		// the names add to it, which is what "deny" suggests.
		c.p.DenySyscalls = append(seccomp.DefaultDeny(), c.deny...)
	}
	if c.allow != nil {
		c.p.AllowSyscalls = c.allow
	}
	var err error
	if c.p.NetBind, err = policy.ParsePorts(c.bind); err != nil {
		return nil, usagef("--net-bind: %v", err)
	}
	if c.p.NetConnect, err = policy.ParsePorts(c.connect); err != nil {
		return nil, usagef("--net-connect: %v", err)
	}
	if c.p.HTTPPorts, err = policy.ParsePorts(c.httpPort); err != nil {
		return nil, usagef("--http-port: %v", err)
	}
	if !c.fsGiven {
		c.p.FsReadable = existing(defaultReadable)
		c.p.FsWritable = existing(defaultWritable)
	}
	if c.name == "" {
		c.name = fmt.Sprintf("sandbox-%d", os.Getpid())
	} else if hostnameSupported() {
		c.p.Hostname = c.name
	}
	return argv, nil
}

// flagImplemented reports whether the command line args, which set
// options of the original, passes the policy's validation, that is whether
// the engine implements them.
func flagImplemented(args []string) bool {
	c := newRunConfig()
	rest, err := c.options().parse(append(args, "--", "true"))
	if err != nil {
		return false
	}
	if _, err := c.finish(rest); err != nil || len(c.cliOnly) > 0 {
		return false
	}
	return c.p.Validate() == nil
}

// hostnameSupported reports whether the engine implements host name
// virtualisation, so that --name starts setting it without a CLI change.
func hostnameSupported() bool {
	p := policy.Default()
	p.Hostname = "probe"
	return !errors.Is(p.Validate(), policy.ErrNotImplemented)
}

// run validates, spawns and waits, and returns the exit status.
func (c *runConfig) run(argv []string, stderr io.Writer) int {
	fail := func(code int, msg string) int {
		fmt.Fprintf(stderr, "sandlock: %s\n", msg)
		c.writeStatus(stderr, status{ExitCode: -1, Error: msg})
		return code
	}
	if len(c.cliOnly) > 0 {
		return fail(exitUsage, c.cliOnly[0]+": not implemented yet")
	}
	if err := c.p.Validate(); err != nil {
		return fail(exitUsage, policyMessage(err))
	}

	// A terminal on stdin means an interactive run: the command must stay
	// in the terminal's foreground process group to read it. Otherwise it
	// gets its own group, which the timeout and signal forwarding use.
	share := isTerminal(0)
	opts := sandbox.Options{
		Stdin:     sandbox.Inherit(),
		Stdout:    sandbox.Inherit(),
		Stderr:    sandbox.Inherit(),
		Timeout:   c.timeout,
		Name:      c.name,
		SharePgrp: share,
	}

	// Each signal handed to the runtime costs a round trip to its signal
	// thread (about 0.1 ms here): set them up while the engine prepares
	// the sandbox, which holds the command back until they are in place
	// (StartGate), so that a signal to sandlock is forwarded from the
	// command's first instruction on, as before.
	sigs := make(chan os.Signal, 8)
	sigsReady := make(chan struct{})
	go func() {
		defer close(sigsReady)
		for _, s := range []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT} {
			// A signal ignored by whoever started sandlock (nohup, a
			// background job of a non-interactive shell) stays ignored.
			if !signal.Ignored(s) {
				signal.Notify(sigs, s)
			}
		}
	}()
	opts.StartGate = sigsReady
	// Stopping costs as much again and sandlock exits once run returns:
	// stop in the background (a caller that goes on, a test, gets the
	// handlers removed shortly after).
	defer func() {
		go func() {
			<-sigsReady
			signal.Stop(sigs)
		}()
	}()

	if nameTaken(c.name) {
		return fail(exitUsage, "--name "+c.name+": "+errNameInUse.Error())
	}
	sb, err := sandbox.Spawn(c.p, argv, opts)
	if err != nil {
		if errors.Is(err, policy.ErrNotImplemented) {
			return fail(exitUsage, policyMessage(err))
		}
		return fail(exitSetup, err.Error())
	}
	// "sandlock list" shows the sandbox while it runs. The entry costs
	// about 0.3 ms in a fresh process (/proc/self/stat, the file and its
	// rename): write it while the command starts rather than before
	// waiting. Nothing else writes to stderr until regDone is received.
	regDone := make(chan *registration, 1)
	go func() {
		reg, rerr := register(c.name, sb, argv, c.p.NetAllowHosts)
		if rerr != nil && (c.nameGiven || c.p.PortRemap) {
			fmt.Fprintf(stderr, "sandlock: warning: the sandbox is not listed by 'sandlock list': %v\n", rerr)
		}
		regDone <- reg
	}()
	stop := make(chan struct{})
	fwdDone := make(chan struct{})
	go func() {
		defer close(fwdDone)
		forwardSignals(sb, share, sigs, stop)
	}()
	res, err := sb.Wait()
	close(stop)
	<-fwdDone
	defer (<-regDone).remove()
	if err != nil {
		return fail(exitSetup, err.Error())
	}
	for _, d := range res.Degraded {
		fmt.Fprintf(stderr, "sandlock: warning: ran with reduced protection: %s\n", d)
	}

	if res.ExecError != nil && errors.Is(res.ExecError, unix.EACCES) && c.fsGiven {
		// The child already said "Permission denied"; the usual cause is
		// a -r list without the command's own directories.
		fmt.Fprintf(stderr, "sandlock: hint: the command, its interpreter and its libraries must be readable; with -r/-w only the listed paths are, so add e.g. -r /usr -r /lib\n")
	}
	st := status{ExitCode: res.ExitCode}
	var code int
	switch {
	case res.Reason == sandbox.Exited:
		code = res.ExitCode
	case res.Signal > 0:
		st = status{ExitCode: -1, Signal: res.Signal}
		code = exitSignalBase + res.Signal
	default:
		st = status{ExitCode: -1}
		code = exitSetup
	}
	if res.Reason == sandbox.Timeout {
		code = exitTimeout
	}
	if res.Reason == sandbox.MemoryLimit {
		// Otherwise indistinguishable from any other SIGKILL (exit 137).
		fmt.Fprintf(stderr, "sandlock: killed: the sandbox exceeded its memory limit (--max-memory %s)\n", formatBytes(c.p.MaxMemory))
	}
	c.writeStatus(stderr, st)
	return code
}

// forwardSignals passes the signals sandlock receives on to the sandbox
// until stop is closed.
func forwardSignals(sb *sandbox.Sandbox, share bool, sigs <-chan os.Signal, stop <-chan struct{}) {
	// In a shared process group only the main process is signalled, by
	// pidfd, which cannot hit a recycled pid once open. The engine may
	// already have reaped a main process that ended at once, so the pidfd
	// is kept only if it names a child of ours: the pid of an unreaped
	// child cannot have been reused.
	pidfd := -1
	if share {
		if fd, err := unix.PidfdOpen(sb.Pid(), 0); err == nil {
			if parentOf(sb.Pid()) == os.Getpid() {
				pidfd = fd
				defer unix.Close(pidfd)
			} else {
				unix.Close(fd)
			}
		}
	}
	for {
		select {
		case <-stop:
			return
		case s := <-sigs:
			sig, ok := s.(syscall.Signal)
			if !ok {
				continue
			}
			select {
			case <-sb.Done():
				return
			default:
			}
			if share {
				// The terminal sent ^C and ^\ to its whole foreground
				// group, the command included; passing them on again
				// would deliver them twice.
				if sig == unix.SIGINT || sig == unix.SIGQUIT || pidfd < 0 {
					continue
				}
				_ = unix.PidfdSendSignal(pidfd, sig, nil, 0)
				continue
			}
			// The command leads its own process group, whose id is its
			// pid; that id stays reserved until the engine reaps the
			// main process, just before Done is closed, and the engine
			// kills the rest of the group first.
			_ = unix.Kill(-sb.Pid(), sig)
		}
	}
}

// parentOf returns the parent pid of pid from /proc/PID/stat, or -1.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// "pid (comm) state ppid ...": comm may contain spaces and ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
}

// status is what --status-fd receives.
type status struct {
	ExitCode int    `json:"exit_code"`
	Signal   int    `json:"signal,omitempty"`
	Error    string `json:"error,omitempty"`
}

func (c *runConfig) writeStatus(stderr io.Writer, st status) {
	if c.statusFD < 0 {
		return
	}
	b, err := json.Marshal(st)
	if err != nil {
		return
	}
	b = append(b, '\n')
	for len(b) > 0 {
		n, err := unix.Write(c.statusFD, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintf(stderr, "sandlock: warning: --status-fd %d: %v\n", c.statusFD, err)
			return
		}
		b = b[n:]
	}
}

// policyMessage turns a policy error into a message that names the flag.
func policyMessage(err error) string {
	var fe *policy.FieldError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	flag, ok := fieldFlags[fe.Field]
	if !ok {
		flag = fe.Field
	}
	msg := fe.Msg
	if msg == "" && fe.Err != nil {
		msg = fe.Err.Error()
	}
	// Other options mentioned in the message ("requires chroot") are
	// named by their flags too.
	words := strings.Split(msg, " ")
	for i, w := range words {
		if f, ok := fieldFlags[w]; ok {
			words[i] = f
		}
	}
	return flag + ": " + strings.Join(words, " ")
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// existing keeps the paths that exist on this host.
func existing(paths []string) []string {
	out := []string{}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func absPath(v string) (string, error) {
	if v == "" {
		return "", errors.New("empty path")
	}
	return filepath.Abs(v)
}

func appendPath(list *[]string, v string) error {
	abs, err := absPath(v)
	if err != nil {
		return err
	}
	*list = append(*list, abs)
	return nil
}

// appendPorts checks one port spec now, so that the error names the flag
// the user typed; the specs are merged in finish.
func appendPorts(list *[]string, v string) error {
	if _, err := policy.ParsePort(v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// appendNames splits a comma-separated list of system call names.
func appendNames(list *[]string, v string) error {
	for n := range strings.SplitSeq(v, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			return fmt.Errorf("empty system call name in %q", v)
		}
		*list = append(*list, n)
	}
	return nil
}

func parseInt(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	return n, nil
}

func parseUint(v string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a non-negative integer", v)
	}
	return n, nil
}

// parseIntList reads "0,2,3", and also ranges "0-3" when ranges is set.
func parseIntList(v string, ranges bool) ([]int, error) {
	var out []int
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		if isRange && !ranges {
			return nil, fmt.Errorf("%q is not a non-negative integer", item)
		}
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("%q is not a non-negative integer", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", item)
			}
			if b-a > 4096 {
				return nil, fmt.Errorf("range %q is too large", item)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// parseSeconds reads a timeout: seconds as a decimal number, or a Go
// duration such as "1m30s". Zero means no timeout.
func parseSeconds(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > float64(math.MaxInt64/int64(time.Second)) {
			return 0, fmt.Errorf("%q is not a usable number of seconds", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a number of seconds", v)
	}
	return d, nil
}

// parseTime reads an ISO 8601 date-time, a date, or epoch seconds.
func parseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time (2006-01-02T15:04:05Z) or epoch seconds", v)
}

// formatBytes spells n as the largest binary unit that divides it exactly,
// as --max-memory accepts it (64M), or in bytes.
func formatBytes(n uint64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatUint(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatUint(n, 10)
}
