package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/sandbox"
)

// Tests of the network flags and of "sandlock list". Every address is a
// loopback one; the registry lives in a directory of the test's own
// (SANDLOCK_RUNTIME_DIR).

func withRuntimeDir(dir string) func(*exec.Cmd) {
	return func(c *exec.Cmd) { c.Env = append(os.Environ(), "SANDLOCK_RUNTIME_DIR="+dir) }
}

func runtimeDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "rt")
	return d
}

func python(t *testing.T) string {
	t.Helper()
	// The system's interpreter: one under the home directory (pyenv)
	// is not readable in the default sandbox.
	const p = "/usr/bin/python3"
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("python3 is part of the test environment: %v", err)
	}
	return p
}

func TestListEmpty(t *testing.T) {
	dir := runtimeDir(t)
	o := sandlockCmd(t, withRuntimeDir(dir), "list")
	if o.code != 0 || strings.TrimSpace(o.stdout) != "NAME  PID  PORTS  ALLOWED HOSTS  COMMAND" {
		t.Errorf("list with no sandbox: %v", o)
	}
	o = sandlockCmd(t, withRuntimeDir(dir), "list", "--json")
	if o.code != 0 || strings.TrimSpace(o.stdout) != "[]" {
		t.Errorf("list --json with no sandbox: %v", o)
	}
	if o := sandlock(t, "list", "--bogus"); o.code != 2 {
		t.Errorf("list --bogus: %v", o)
	}
	if o := sandlock(t, "list", "--help"); o.code != 0 || !strings.Contains(o.stdout, "usage: sandlock list") {
		t.Errorf("list --help: %v", o)
	}
}

// TestListStaleEntry: an entry whose sandlock process is gone is dropped.
func TestListStaleEntry(t *testing.T) {
	dir := runtimeDir(t)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf(`{"name":"ghost","pid":1,"host_pid":%d,"host_start":1,"ports":[]}`, os.Getpid())
	if err := os.WriteFile(filepath.Join(dir, "ghost.json"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	o := sandlockCmd(t, withRuntimeDir(dir), "list")
	if o.code != 0 || strings.Contains(o.stdout, "ghost") {
		t.Errorf("list shows a stale entry: %v", o)
	}
	if _, err := os.Stat(filepath.Join(dir, "ghost.json")); !os.IsNotExist(err) {
		t.Errorf("stale entry not removed: %v", err)
	}
	// A directory others may write is not trusted.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if o := sandlockCmd(t, withRuntimeDir(dir), "list"); o.code == 0 || !strings.Contains(o.stderr, "writable by others") {
		t.Errorf("list with a world-writable registry: %v", o)
	}
}

type listed struct {
	Name  string `json:"name"`
	Pid   int    `json:"pid"`
	Ports []struct {
		Virtual uint16 `json:"virtual"`
		Real    uint16 `json:"real"`
	} `json:"ports"`
	AllowedHosts []string `json:"allowed_hosts"`
}

func listJSON(t *testing.T, dir string) []listed {
	t.Helper()
	o := sandlockCmd(t, withRuntimeDir(dir), "list", "--json")
	if o.code != 0 {
		t.Fatalf("list --json: %v", o)
	}
	var out []listed
	if err := json.Unmarshal([]byte(o.stdout), &out); err != nil {
		t.Fatalf("list --json output %q: %v", o.stdout, err)
	}
	return out
}

// TestListPortRemap: a sandbox run with --port-remap binds a port the host
// holds; it sees its own port, "sandlock list" shows the real one, and a
// host client reaches the sandbox through it. The name is taken while it
// runs and free again after.
func TestListPortRemap(t *testing.T) {
	dir := runtimeDir(t)
	host, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	_, port, _ := net.SplitHostPort(host.Addr().String())
	script := fmt.Sprintf("import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',%s))\ns.listen()\n"+
		"print(s.getsockname()[1],flush=True)\nc,_=s.accept()\nc.sendall(b'hi')\nc.close()\nsys.stdin.read()\n", port)
	cmd := exec.Command(cli, "run", "--name", "remap-test", "--port-remap", "--net-bind", port,
		"--net-allow-host", "127.0.0.1", "--", python(t), "-c", script)
	withRuntimeDir(dir)(cmd)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != port {
		t.Fatalf("the sandbox's getsockname said %q (%v), want its own port %s", line, err, port)
	}
	var entry listed
	for _, e := range listJSON(t, dir) {
		if e.Name == "remap-test" {
			entry = e
		}
	}
	want, _ := strconv.Atoi(port)
	if entry.Pid <= 0 || len(entry.Ports) != 1 || int(entry.Ports[0].Virtual) != want || entry.Ports[0].Real == 0 ||
		int(entry.Ports[0].Real) == want || strings.Join(entry.AllowedHosts, ",") != "127.0.0.1" {
		t.Fatalf("list entry %+v: want pid, %s mapped to another port, allowed host 127.0.0.1", entry, port)
	}
	o := sandlockCmd(t, withRuntimeDir(dir), "list")
	if !strings.Contains(o.stdout, fmt.Sprintf("%s->%d", port, entry.Ports[0].Real)) {
		t.Errorf("list table lacks the mapping: %v", o)
	}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", entry.Ports[0].Real), 5*time.Second)
	if err != nil {
		t.Fatalf("host connect to the real port: %v", err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "hi" {
		t.Errorf("the sandbox answered %q through the real port, want hi", b)
	}

	// The name is taken while the sandbox runs.
	o = sandlockCmd(t, withRuntimeDir(dir), "run", "--name", "remap-test", "--", "true")
	if o.code != 2 || !strings.Contains(o.stderr, "already has this name") {
		t.Errorf("second run with the same name: %v", o)
	}

	stdin.Close()
	_ = cmd.Wait()
	for _, e := range listJSON(t, dir) {
		if e.Name == "remap-test" {
			t.Errorf("entry still listed after the end: %+v", e)
		}
	}
	if o := sandlockCmd(t, withRuntimeDir(dir), "run", "--name", "remap-test", "--", "true"); o.code != 0 {
		t.Errorf("the name is free again after the end: %v", o)
	}
}

// TestNetFlags: --net-allow-host and --net-connect together: only the
// listed host, only the listed port.
func TestNetFlags(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	connect := func(host string) string {
		return fmt.Sprintf("import socket,sys\ntry:\n  socket.create_connection(('%s',%s),5)\nexcept OSError as e:\n  sys.exit(e.errno)\n", host, port)
	}
	py := python(t)
	for _, tc := range []struct {
		args []string
		host string
		want int
	}{
		{[]string{"--net-allow-host", "127.0.0.1", "--net-connect", port}, "127.0.0.1", 0},
		{[]string{"--net-allow-host", "127.0.0.1", "--net-connect", port}, "127.0.0.2", int(unix.ECONNREFUSED)},
		{[]string{"--net-allow-host", "127.0.0.1"}, "127.0.0.1", int(unix.EACCES)},
		{[]string{"--net-connect", port}, "127.0.0.1", 0},
	} {
		o := sandlock(t, join([]string{"run"}, tc.args, []string{"--", py, "-c", connect(tc.host)})...)
		if o.code != tc.want {
			t.Errorf("%q to %s: %v, want exit %d", tc.args, tc.host, o, tc.want)
		}
	}
	if o := sandlock(t, "run", "--net-allow-host", "", "--", "true"); o.code != 2 {
		t.Errorf("empty host: %v", o)
	}
	if o := sandlock(t, "run", "--name", "a/b", "--", "true"); o.code != 2 {
		t.Errorf("--name with a slash: %v", o)
	}
}

// TestEntryEncoding: the hand-written encoding of a registry entry is the
// one encoding/json gives, for awkward strings too.
func TestEntryEncoding(t *testing.T) {
	odd := []string{"", "plain", `q"b\s`, "ctl\x00\x01\b\f\n\r\t\x1f\x7f", "<a>&", "\u2028\u2029", "é漢🙂", "bad\xff\xc3", "\xed\xa0\x80"}
	for _, s := range odd {
		for _, e := range []regEntry{
			{Name: s, Pid: 12, Command: s + " x", Started: "2026-01-02T03:04:05Z", HostPid: 34, HostStart: 1 << 40,
				Ports: []sandbox.PortMapping{}},
			{Name: "n", Pid: -1, Command: s, Ports: []sandbox.PortMapping{{Proto: "tcp", Virtual: 80, Real: 65535}, {Proto: s, Virtual: 1}},
				AllowedHosts: []string{"h", s}},
			{Name: "nil ports", Ports: nil, AllowedHosts: []string{}},
		} {
			want, err := json.Marshal(&e)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.appendJSON(nil); string(got) != string(want) {
				t.Errorf("entry %+v:\n got %s\nwant %s", e, got, want)
			}
		}
	}
}
