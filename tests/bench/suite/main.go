// Command suite holds the benchmarks of tests/bench other than spawn
// latency, one subcommand each, and the report that puts every result in
// one table:
//
//	suite notify   [-n 100000] [-reps 3] -sysloop build/bench/sysloop   notified-syscall cost vs a pipe round trip
//	suite workload [-reps 5]                                            python3 imports and tar of /usr/share/doc
//	suite redis    [-n 100000] [-reps 3]                                redis-benchmark SET/GET, server sandboxed
//	suite memory   [-n 32]                                              RSS a live sandbox adds to its host
//	suite callbacks [-n 10000] [-reps 3] -sysloop build/bench/sysloop   policy-callback events per second (C, Python)
//	suite report   [-dir tests/bench/results]                           results.md and results.json
//
// Each measuring subcommand writes -json (results/NAME.json by default).
// Every number is measured against bare execution in the same run, with
// the variants interleaved, because a shared 2-core VM drifts. A tool that
// is missing (redis, bwrap, firejail) skips its variants with a note; make
// bench installs them when it runs as root. Build with -tags landlocktsync.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmds := map[string]func([]string){
		"notify":    notifyMain,
		"workload":  workloadMain,
		"redis":     redisMain,
		"memory":    memoryMain,
		"callbacks": callbacksMain,
		"report":    reportMain,
	}
	f, ok := cmds[os.Args[1]]
	if !ok {
		usage()
	}
	f(os.Args[2:])
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: suite notify|workload|redis|memory|callbacks|report [flags]   (suite CMD -h for the flags)")
	os.Exit(2)
}

func fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench suite: "+f+"\n", a...)
	os.Exit(2)
}

// meta is the header of every JSON result.
type meta struct {
	Time      string `json:"time"`
	GoVersion string `json:"go_version"`
	Kernel    string `json:"kernel"`
	CPUs      int    `json:"cpus"`
	UID       int    `json:"uid"`
}

func newMeta() meta {
	return meta{
		Time:      time.Now().UTC().Format(time.RFC3339),
		GoVersion: runtime.Version(),
		Kernel:    kernelRelease(),
		CPUs:      runtime.NumCPU(),
		UID:       os.Getuid(),
	}
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func writeJSON(path string, v any) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fatalf("%v", err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fatalf("%v", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		fatalf("%v", err)
	}
	fmt.Printf("wrote %s\n", path)
}

// median of xs (which it sorts); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// systemDirs are the trees every sandbox of the suite may read, those that
// exist: the same view as the spawn benchmark and the CLI's -r list.
func systemDirs() []string {
	var out []string
	for _, p := range []string{"/usr", "/lib", "/lib64", "/bin", "/etc"} {
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// basePolicy is sandlock's default policy (supervised: max_processes 64)
// reading the system directories and extra.
func basePolicy(extra ...string) policy.Policy {
	p := policy.Default()
	p.FsReadable = append(systemDirs(), extra...)
	return p
}

// deniedPath is the fs_denied entry that makes file syscalls notified: a
// file inside a readable tree.
const deniedPath = "/etc/shadow"

// bwrapArgs gives bubblewrap the same read-only view as the sandlock
// policy; symlinks (/bin -> usr/bin) are recreated as symlinks.
func bwrapArgs(readable []string) []string {
	var args []string
	for _, p := range readable {
		if t, err := os.Readlink(p); err == nil {
			args = append(args, "--symlink", t, p)
			continue
		}
		args = append(args, "--ro-bind", p, p)
	}
	return args
}

// firejailArgs: a read-only view of everything, firejail's seccomp deny
// list, no_new_privs, no capabilities (as in the spawn benchmark).
var firejailArgs = []string{"--quiet", "--noprofile", "--seccomp", "--nonewprivs", "--caps.drop=all", "--read-only=/"}

func missingNote(bin, pkg string) string {
	return fmt.Sprintf("skipped: %s not installed (make bench installs it as root: apt-get install -y %s)", bin, pkg)
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	return s
}
