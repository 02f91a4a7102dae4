package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/sandbox"
)

// The registry of running sandboxes, for "sandlock list": one JSON file per
// sandbox started by "sandlock run", in a directory private to the user,
// $SANDLOCK_RUNTIME_DIR or /dev/shm/sandlock-$UID. The run writes its
// entry when the command has started, rewrites it when a port mapping is
// made (--port-remap) and removes it when it ends. An entry whose sandlock
// process is gone (crashed, killed) is stale; "list" skips and removes it.

// regEntry is one registry file.
type regEntry struct {
	Name    string `json:"name"`
	Pid     int    `json:"pid"`
	Command string `json:"command"`
	Started string `json:"started"`
	// HostPid and HostStart name the sandlock process that runs the
	// sandbox (pid and start time, so that a recycled pid is no match).
	HostPid      int                   `json:"host_pid"`
	HostStart    uint64                `json:"host_start"`
	Ports        []sandbox.PortMapping `json:"ports"`
	AllowedHosts []string              `json:"allowed_hosts,omitempty"`
}

func registryDir() string {
	if d := os.Getenv("SANDLOCK_RUNTIME_DIR"); d != "" {
		return d
	}
	return fmt.Sprintf("/dev/shm/sandlock-%d", os.Getuid())
}

// openRegistry returns the registry directory, creating it if needed. It
// refuses a directory it does not own or that others can write: in a
// shared /dev/shm another user could have made it first.
func openRegistry(create bool) (string, error) {
	dir := registryDir()
	if create {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return "", err
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return "", fmt.Errorf("%s is not a directory", dir)
	case int(st.Uid) != os.Getuid():
		return "", fmt.Errorf("%s belongs to uid %d, not to us", dir, st.Uid)
	case st.Mode&0o022 != 0:
		return "", fmt.Errorf("%s is writable by others (mode %o)", dir, st.Mode&0o777)
	}
	return dir, nil
}

func entryPath(dir, name string) string { return filepath.Join(dir, name+".json") }

// startTime returns field 22 of /proc/PID/stat, 0 when pid does not exist.
func startTime(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// alive reports whether the sandlock process of e still runs.
func (e *regEntry) alive() bool {
	return e.HostPid > 0 && e.HostStart != 0 && startTime(e.HostPid) == e.HostStart
}

func readEntry(path string) (*regEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e regEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// registration is the entry of one running sandbox.
type registration struct {
	mu   sync.Mutex
	path string
	e    regEntry
	done bool
	// written is what the entry file last received from us.
	written []byte
}

// errNameInUse: another running sandbox has the name.
var errNameInUse = errors.New("a running sandbox already has this name")

// nameTaken reports whether a running sandbox of another sandlock process
// is registered under name.
func nameTaken(name string) bool {
	// The usual answer is a missing file: look for it before checking
	// the directory, which only matters when there is an entry to trust.
	path := entryPath(registryDir(), name)
	if _, err := os.Lstat(path); err != nil {
		return false
	}
	if _, err := openRegistry(false); err != nil {
		return false
	}
	e, err := readEntry(path)
	return err == nil && e.alive() && e.HostPid != os.Getpid()
}

// register records sb under name. A live entry of the same name is
// errNameInUse; other failures leave the sandbox unlisted, which the caller
// reports as a warning.
func register(name string, sb *sandbox.Sandbox, argv []string, hosts []string) (*registration, error) {
	dir, err := openRegistry(true)
	if err != nil {
		return nil, err
	}
	r := &registration{path: entryPath(dir, name), e: regEntry{
		Name: name, Pid: sb.Pid(), Command: strings.Join(argv, " "),
		Started: time.Now().UTC().Format(time.RFC3339), HostPid: os.Getpid(),
		HostStart: startTime(os.Getpid()), Ports: []sandbox.PortMapping{}, AllowedHosts: hosts,
	}}
	if old, err := readEntry(r.path); err == nil && old.alive() && old.HostPid != os.Getpid() {
		return nil, errNameInUse
	}
	if err := r.write(); err != nil {
		return nil, err
	}
	sb.WatchPorts(func(pm []sandbox.PortMapping) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.done {
			return
		}
		r.e.Ports = append([]sandbox.PortMapping{}, pm...)
		_ = r.writeLocked()
	})
	return r, nil
}

func (r *registration) write() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writeLocked()
}

// writeLocked replaces the entry atomically (a reader never sees half).
func (r *registration) writeLocked() error {
	b := append(r.e.appendJSON(nil), '\n')
	tmp := fmt.Sprintf("%s.tmp-%d", r.path, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, r.path); err != nil {
		os.Remove(tmp)
		return err
	}
	r.written = b
	return nil
}

// remove deletes the entry, if it is still ours.
func (r *registration) remove() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = true
	// The file is still ours if it holds what we last wrote (it names
	// our pid and start time); comparing bytes spares decoding the JSON,
	// whose first use costs a tenth of a millisecond in a fresh process.
	if b, err := os.ReadFile(r.path); err == nil && r.written != nil && bytes.Equal(b, r.written) {
		os.Remove(r.path)
	}
}

// listEntries returns the live entries, by name, and removes stale ones.
func listEntries() ([]*regEntry, error) {
	dir, err := openRegistry(false)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*regEntry
	for _, p := range names {
		e, err := readEntry(p)
		if err != nil {
			continue // being written, or not ours to judge
		}
		if !e.alive() {
			os.Remove(p)
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

const listUsage = `usage: sandlock list [--json]

List the sandboxes started by "sandlock run" of this user that are still
running: name, pid of the main process, the port mappings of --port-remap
(VIRTUAL->REAL: the sandbox sees VIRTUAL, clients outside connect to REAL)
and the --net-allow-host list.

Flags:
  --json     one JSON array of entries instead of the table
  -h, --help this text

The entries live in $SANDLOCK_RUNTIME_DIR, by default /dev/shm/sandlock-$UID.
`

// listCmd is "sandlock list".
func listCmd(args []string, stdout, stderr io.Writer) int {
	asJSON := false
	for _, a := range args {
		switch a {
		case "-h", "--help":
			fmt.Fprint(stdout, listUsage)
			return 0
		case "--json":
			asJSON = true
		default:
			fmt.Fprintf(stderr, "sandlock list: unexpected argument %q\n%s", a, listUsage)
			return exitUsage
		}
	}
	entries, err := listEntries()
	if err != nil {
		fmt.Fprintf(stderr, "sandlock list: %v\n", err)
		return 1
	}
	if asJSON {
		if entries == nil {
			entries = []*regEntry{}
		}
		b, _ := json.MarshalIndent(entries, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tPID\tPORTS\tALLOWED HOSTS\tCOMMAND")
	for _, e := range entries {
		ps := make([]string, 0, len(e.Ports))
		for _, p := range e.Ports {
			ps = append(ps, fmt.Sprintf("%d->%d", p.Virtual, p.Real))
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", e.Name, e.Pid, orDash(strings.Join(ps, ",")),
			orDash(strings.Join(e.AllowedHosts, ",")), e.Command)
	}
	w.Flush()
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// appendJSON appends e as json.Marshal spells it (a test compares them).
// The first json.Marshal of a process builds its encoder by reflection,
// about 0.15 ms of a run's start; the entry is small and fixed.
func (e *regEntry) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, e.Name)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(e.Pid), 10)
	b = append(b, `,"command":`...)
	b = appendJSONString(b, e.Command)
	b = append(b, `,"started":`...)
	b = appendJSONString(b, e.Started)
	b = append(b, `,"host_pid":`...)
	b = strconv.AppendInt(b, int64(e.HostPid), 10)
	b = append(b, `,"host_start":`...)
	b = strconv.AppendUint(b, e.HostStart, 10)
	b = append(b, `,"ports":`...)
	if e.Ports == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range e.Ports {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"proto":`...)
			b = appendJSONString(b, p.Proto)
			b = append(b, `,"virtual":`...)
			b = strconv.AppendUint(b, uint64(p.Virtual), 10)
			b = append(b, `,"real":`...)
			b = strconv.AppendUint(b, uint64(p.Real), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(e.AllowedHosts) > 0 {
		b = append(b, `,"allowed_hosts":[`...)
		for i, h := range e.AllowedHosts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, h)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendJSONString quotes s as encoding/json does by default: HTML
// characters and U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
