package security

// tty injection (attacks.md 1.8). TIOCSTI on a pty the probe opened itself
// is core/sandbox TestTIOCSTI; here the pty is the host's, shared as the
// sandbox's standard streams, and the canary is what a shell reading that
// terminal would receive.

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/sandbox"
)

// pty is a pseudo-terminal pair the test owns; neither end is the test's
// controlling terminal.
type pty struct {
	master, slave *os.File
}

func openPty(t *testing.T) *pty {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A reader that returns at once with what is queued: non-canonical,
	// no echo, VMIN 0, VTIME 0.
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Lflag &^= unix.ICANON | unix.ECHO
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 0, 0
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	p := &pty{master: m, slave: s}
	t.Cleanup(func() { s.Close(); m.Close() })
	return p
}

// input drains and returns what a reader of the terminal would get.
func (p *pty) input(t *testing.T) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 256)
	for {
		n, err := unix.Read(int(p.slave.Fd()), buf)
		if n <= 0 || err != nil {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

// drainOutput empties the master's side (what the probe printed).
func (p *pty) drainOutput() {
	fd := int(p.master.Fd())
	_ = unix.SetNonblock(fd, true)
	buf := make([]byte, 4096)
	for {
		if n, err := unix.Read(fd, buf); n <= 0 || err != nil {
			break
		}
	}
	_ = unix.SetNonblock(fd, false)
}

func ttyOpts(p *pty) sandbox.Options {
	return sandbox.Options{Stdin: sandbox.File(p.slave), Stdout: sandbox.File(p.slave), Stderr: sandbox.File(p.slave)}
}

// TestTTY01SharedTerminal: TIOCSTI through stdin, stdout, stderr and
// /dev/tty of a terminal shared with the host.
func TestTTY01SharedTerminal(t *testing.T) {
	targets := []string{"0", "1", "2", "tty"}
	t.Run("TTY-01/attack: push input into the shared terminal", func(t *testing.T) {
		attack(t, "TTY-01")
		p, _ := basePolicy(t)
		p.FsWritable = append(p.FsWritable, existing("/dev/tty")...)
		term := openPty(t)
		for _, tg := range targets {
			if tg == "tty" {
				// Opening /dev/tty may already fail (ENXIO) where the
				// supervisor performs the open: its thread has no
				// controlling terminal. Either way nothing is injected.
				wantCode(t, inSandbox(t, p, ttyOpts(term), "tiocsti", tg), unix.EPERM, unix.ENXIO)
			} else {
				wantCode(t, inSandbox(t, p, ttyOpts(term), "tiocsti", tg), unix.EPERM)
			}
			if in := term.input(t); in != "" {
				t.Errorf("target %s: the host's terminal received %q", tg, in)
			}
			term.drainOutput()
		}
	})
	t.Run("TTY-01/control: the same from the host", func(t *testing.T) {
		control(t, "TTY-01")
		term := openPty(t)
		for _, tg := range targets {
			wantCode(t, onHost(t, hostOpts{stdio: term.slave}, "tiocsti", tg), 0)
			if in := term.input(t); in != "id\n" {
				t.Errorf("target %s: the terminal received %q, want %q", tg, in, "id\n")
			}
			term.drainOutput()
		}
	})
}

// TestTTY02Width: TIOCSTI with high bits in the request (the kernel uses
// the low 32) and TIOCLINUX on the shared terminal.
func TestTTY02Width(t *testing.T) {
	t.Run("TTY-02/attack: TIOCSTI with high bits, TIOCLINUX", func(t *testing.T) {
		attack(t, "TTY-02")
		p, _ := basePolicy(t)
		term := openPty(t)
		wantCode(t, inSandbox(t, p, ttyOpts(term), "tiocsti-hibits", "0"), unix.EPERM)
		wantCode(t, inSandbox(t, p, ttyOpts(term), "tioclinux"), unix.EPERM)
		if in := term.input(t); in != "" {
			t.Errorf("the host's terminal received %q", in)
		}
	})
	t.Run("TTY-02/control: the same from the host", func(t *testing.T) {
		control(t, "TTY-02")
		term := openPty(t)
		wantCode(t, onHost(t, hostOpts{stdio: term.slave}, "tiocsti-hibits", "0"), 0)
		if in := term.input(t); in != "id\n" {
			t.Errorf("the terminal received %q, want %q", in, "id\n")
		}
		if r := onHost(t, hostOpts{stdio: term.slave}, "tioclinux"); r.code == int(unix.EPERM) {
			t.Errorf("%v; the kernel's own answer must differ from the filter's", r)
		}
	})
}

// TestTTY03JobControl: with the output captured, the sandbox may not make
// the host's terminal its controlling terminal, take its foreground group
// or detach it.
func TestTTY03JobControl(t *testing.T) {
	keys := []string{"sctty", "spgrp", "notty"}
	t.Run("TTY-03/attack: take the terminal while output is captured", func(t *testing.T) {
		attack(t, "TTY-03")
		p, _ := basePolicy(t)
		term := openPty(t)
		r := inSandbox(t, p, sandbox.Options{Stdin: sandbox.File(term.slave)}, "jobctl")
		for _, k := range keys {
			wantKey(t, r, k, "EPERM")
		}
		if _, err := unix.IoctlGetInt(int(term.master.Fd()), unix.TIOCGSID); err == nil {
			t.Errorf("the terminal has a session after the run")
		}
	})
	t.Run("TTY-03/control: not captured", func(t *testing.T) {
		control(t, "TTY-03")
		p, _ := basePolicy(t)
		term := openPty(t)
		var out, errw logWriter
		argv := probe(t, "jobctl")
		res := runIn(t, p, argv, sandbox.Options{Stdin: sandbox.File(term.slave), Stdout: sandbox.Writer(&out), Stderr: sandbox.Writer(&errw)})
		r := result{argv: argv, code: res.ExitCode, signal: res.Signal, stdout: string(out.b), stderr: string(errw.b)}
		for _, k := range keys {
			wantKey(t, r, k, "ok")
		}
	})
}

// logWriter collects output written from another goroutine; read it after
// the run.
type logWriter struct{ b []byte }

func (l *logWriter) Write(p []byte) (int, error) { l.b = append(l.b, p...); return len(p), nil }
