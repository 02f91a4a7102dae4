package security

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
	"github.com/sandlock/sandlock/internal/testprobe"
)

// Probe exit statuses above the errno range.
const (
	exUsage = 100
	exSetup = 101
)

var isRoot = os.Geteuid() == 0

// systemDirs are the read-only system trees every sandbox of the suite
// gets (those that exist).
var systemDirs = testprobe.SystemDirs()

var (
	existing = testprobe.Existing
	// tempDir is t.TempDir opened up to everyone (the suite also runs as
	// an unprivileged user, and some cases share directories between uids).
	tempDir = testprobe.TempDir
)

// basePolicy is the default policy with the system trees and the probe
// readable and a fresh world-writable directory writable, which it
// returns too.
func basePolicy(t *testing.T) (policy.Policy, string) {
	t.Helper()
	return testprobe.BasePolicy(t, attacker.Dir)
}

func mkdir(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(path, 0o777); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileContent(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// result is how one probe run ended.
type result struct {
	argv    []string
	variant string // which policy variant ran, for messages
	code    int    // exit status; -1 when killed by a signal
	signal  int
	stdout  string
	stderr  string
}

func (r result) String() string {
	s := fmt.Sprintf("%q: exit %d (%s)", r.argv[1:], r.code, errnoName(r.code))
	if r.variant != "" {
		s = "[" + r.variant + "] " + s
	}
	if r.signal != 0 {
		s = fmt.Sprintf("%q: killed by %v", r.argv[1:], unix.Signal(r.signal))
	}
	return s + fmt.Sprintf("; stdout %.300q; stderr %.300q", r.stdout, r.stderr)
}

// kv parses the probe's key=value output (several pairs may share a
// line); later keys win.
func (r result) kv() map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(r.stdout) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

func (r result) num(t *testing.T, key string) int {
	t.Helper()
	v, ok := r.kv()[key]
	if !ok {
		t.Fatalf("%v: no %s= in the output", r, key)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%v: %s=%q is not a number", r, key, v)
	}
	return n
}

// errnoName names a probe exit status.
func errnoName(code int) string {
	switch code {
	case 0:
		return "ok"
	case exUsage:
		return "probe usage error"
	case exSetup:
		return "probe setup failure"
	}
	if n := unix.ErrnoName(unix.Errno(code)); n != "" {
		return n
	}
	return "status " + strconv.Itoa(code)
}

// inSandbox runs the probe under p with captured output and /dev/null as
// stdin unless o says otherwise.
func inSandbox(t *testing.T, p policy.Policy, o sandbox.Options, args ...string) result {
	t.Helper()
	argv := probe(t, args...)
	res := runIn(t, p, argv, o)
	r := result{argv: argv, code: res.ExitCode, signal: res.Signal, stdout: string(res.Stdout), stderr: string(res.Stderr)}
	if r.code == exUsage || r.code == exSetup {
		t.Fatalf("probe malfunction in the sandbox: %v", r)
	}
	return r
}

// runIn is sandbox.Run (its defaults: output captured, stdin /dev/null,
// here a 60 s timeout) with a watchdog: a sandbox whose teardown hangs
// fails the case instead of stalling the suite.
func runIn(t *testing.T, p policy.Policy, argv []string, o sandbox.Options) *sandbox.Result {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	res, err := testprobe.RunBounded(t, p, argv, o)
	if err != nil {
		t.Fatalf("sandbox %q: %v", argv, err)
	}
	if res.Reason == sandbox.Timeout {
		t.Fatalf("sandbox %q timed out; stdout %q stderr %q", argv, res.Stdout, res.Stderr)
	}
	return res
}

// hostOpts are the settings of a control run outside any sandbox.
type hostOpts struct {
	extra []*os.File
	stdin *os.File
	stdio *os.File // all three streams (a pty)
	env   []string
}

// onHost runs the probe directly, as the process the sandbox protects
// would be attacked from outside any sandbox.
func onHost(t *testing.T, o hostOpts, args ...string) result {
	t.Helper()
	argv := probe(t, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.ExtraFiles = o.extra
	if o.stdin != nil {
		cmd.Stdin = o.stdin
	}
	if o.stdio != nil {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = o.stdio, o.stdio, o.stdio
	}
	if o.env != nil {
		cmd.Env = o.env
	}
	err := cmd.Run()
	r := result{argv: argv, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.code, r.signal = -1, int(ws.Signal())
		} else {
			r.code = ws.ExitStatus()
		}
	default:
		t.Fatalf("host run %q: %v", argv, err)
	}
	if r.code == exUsage || r.code == exSetup {
		t.Fatalf("probe malfunction on the host: %v", r)
	}
	return r
}

// wantCode fails t unless r exited with one of the statuses in want.
func wantCode(t *testing.T, r result, want ...unix.Errno) {
	t.Helper()
	for _, w := range want {
		if r.signal == 0 && r.code == int(w) {
			return
		}
	}
	names := make([]string, len(want))
	for i, w := range want {
		names[i] = errnoName(int(w))
	}
	t.Errorf("%v; want exit %s", r, strings.Join(names, " or "))
}

// wantKey fails t unless the probe printed key= one of want (errno names
// or "ok").
func wantKey(t *testing.T, r result, key string, want ...string) {
	t.Helper()
	got, ok := r.kv()[key]
	for _, w := range want {
		if ok && got == w {
			return
		}
	}
	t.Errorf("%v; want %s=%s", r, key, strings.Join(want, " or "))
}

// noLeak fails t if the probe's output holds the secret.
func noLeak(t *testing.T, r result, secret string) {
	t.Helper()
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
		t.Errorf("%v; the secret %q leaked", r, secret)
	}
}

// secret returns a fresh canary string.
func secret(tag string) string {
	return fmt.Sprintf("CANARY-%s-%d-%d", tag, os.Getpid(), time.Now().UnixNano())
}

// snap is a host file's identity for "unchanged" checks: content hash,
// mode, owner, mtime and extended attributes (attacks.md 1, conventions).
type snap struct {
	sum      [32]byte
	mode     uint32
	uid, gid uint32
	mtime    unix.Timespec
	xattrs   string
	missing  bool
}

func snapshot(t *testing.T, path string) snap {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return snap{missing: true}
	}
	s := snap{mode: st.Mode, uid: st.Uid, gid: st.Gid, mtime: st.Mtim}
	if st.Mode&unix.S_IFMT == unix.S_IFREG {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s.sum = sha256.Sum256(b)
	}
	buf := make([]byte, 4096)
	if n, err := unix.Llistxattr(path, buf); err == nil {
		s.xattrs = string(buf[:n])
	}
	return s
}

// unchanged fails t if path differs from before.
func unchanged(t *testing.T, path string, before snap) {
	t.Helper()
	if after := snapshot(t, path); after != before {
		t.Errorf("host file %s changed: before %+v, after %+v", path, before, after)
	}
}

// tcpCanary is a loopback listener that counts accepted connections.
type tcpCanary struct {
	ln       net.Listener
	accepted atomic.Int64
	port     int
}

func newTCPCanary(t *testing.T, network, addr string) *tcpCanary {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen %s %s: %v", network, addr, err)
	}
	c := &tcpCanary{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.accepted.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

func (c *tcpCanary) portString() string { return strconv.Itoa(c.port) }

// expect waits for the count to reach base+want (or, for want 0, a grace
// period) and fails t if it differs.
func (c *tcpCanary) expect(t *testing.T, base, want int64, what string) {
	t.Helper()
	expectCount(t, &c.accepted, base, want, what+": connections accepted by the canary listener")
}

func expectCount(t *testing.T, n *atomic.Int64, base, want int64, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	if want == 0 {
		deadline = time.Now().Add(150 * time.Millisecond)
	}
	for time.Now().Before(deadline) && n.Load()-base < want {
		time.Sleep(5 * time.Millisecond)
	}
	if want == 0 {
		time.Sleep(time.Until(deadline))
	}
	if got := n.Load() - base; (want == 0 && got != 0) || (want > 0 && got < want) {
		t.Errorf("%s = %d, want %s%d", what, got, map[bool]string{true: "", false: "at least "}[want == 0], want)
	}
}

// udpCanary counts datagrams.
type udpCanary struct {
	conn net.PacketConn
	got  atomic.Int64
	port int
}

func newUDPCanary(t *testing.T, network, addr string) *udpCanary {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatalf("listen %s %s: %v", network, addr, err)
	}
	c := &udpCanary{conn: pc, port: pc.LocalAddr().(*net.UDPAddr).Port}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			c.got.Add(1)
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return c
}

// victim is a host process the sandbox must not touch: sleep 300 in a
// process group of its own, started by the test.
type victim struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
	ws   syscall.WaitStatus
}

func newVictim(t *testing.T) *victim {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	v := &victim{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		if cmd.ProcessState != nil {
			v.ws = cmd.ProcessState.Sys().(syscall.WaitStatus)
		}
		close(v.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(v.pid, syscall.SIGKILL)
		_ = syscall.Kill(v.pid, syscall.SIGCONT)
		<-v.done
	})
	return v
}

func (v *victim) pidString() string { return strconv.Itoa(v.pid) }

// dead reports whether the victim ended (waiting up to d).
func (v *victim) dead(d time.Duration) bool {
	select {
	case <-v.done:
		return true
	case <-time.After(d):
		return false
	}
}

// state is the victim's /proc state letter ("" once reaped).
func (v *victim) state() string {
	st, _ := procState(v.pid)
	return st
}

// alive fails t unless the victim is still running normally.
func (v *victim) alive(t *testing.T) {
	t.Helper()
	if v.dead(100 * time.Millisecond) {
		t.Errorf("victim %d is dead (%v): the sandbox reached a host process", v.pid, v.ws)
		return
	}
	if st := v.state(); st != "S" && st != "R" {
		t.Errorf("victim %d is in state %q, want S: the sandbox reached a host process", v.pid, st)
	}
}

// procState returns the state letter of /proc/<pid>/stat and the command
// name, or "" when the process is gone.
func procState(pid int) (state, comm string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", ""
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < 0 || end+2 >= len(s) {
		return "", ""
	}
	return s[end+2 : end+3], s[open+1 : end]
}

// statField returns field n (1-based, as in proc(5)) of /proc/<pid>/stat.
func statField(t *testing.T, pid, n int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	return f[n-3]
}

// statusField returns a field of /proc/<pid>/status.
func statusField(t *testing.T, pid int, key string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, key)
	return ""
}

// eventually polls cond every 5 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	return testprobe.Poll(d, 5*time.Millisecond, cond)
}

// stopSandbox kills sb and waits a bounded time for its teardown; a
// teardown that hangs is reported, not waited for.
func stopSandbox(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	_ = sb.Kill()
	if _, ok, _ := sb.WaitTimeout(30 * time.Second); !ok {
		t.Errorf("sandbox %d did not end 30s after Kill (teardown hangs)", sb.Pid())
	}
}

// copyFile copies the probe (or any file) to dst with mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
	return dst
}

// withProc adds /proc to the readable trees.
func withProc(p policy.Policy) policy.Policy {
	p.FsReadable = append(p.FsReadable, "/proc")
	return p
}

// fsDenyActive turns on the supervisor's on-behalf file operations by
// denying an unrelated path: every open, rename, link ... is then done by
// the supervisor (attacks.md: "with any on-behalf open active").
func fsDenyActive(t *testing.T, p policy.Policy) policy.Policy {
	t.Helper()
	d := mkdir(t, filepath.Join(tempDir(t), "unrelated-denied"))
	p.FsReadable = append(p.FsReadable, filepath.Dir(d))
	p.FsDenied = append(p.FsDenied, d)
	return p
}
