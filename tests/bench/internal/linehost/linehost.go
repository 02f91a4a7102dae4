// Package linehost drives a benchmark host process (tests/bench/hosts)
// that answers one request line with one line on its stdout. The spawn and
// suite benchmarks share it; what a request means and how a failed host is
// retried stay with them.
package linehost

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrGreeting marks a first line that is neither "ready ..." nor
// "skip ...", so callers can add their own context to it alone.
var ErrGreeting = errors.New("unexpected greeting")

// stopGrace is how long a host may take to exit after "quit" before it
// is killed: a hung host must not hang the benchmark's exit.
const stopGrace = 5 * time.Second

// Proc is one started host process.
type Proc struct {
	name  string // in messages: "NAME host exited"
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

// Start starts argv with env added to this process's environment. The
// host's stderr goes to ours so its diagnostics reach the benchmark log.
// Errors are returned as exec reports them; callers add the context.
func Start(name string, argv, env []string) (*Proc, error) {
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = append(os.Environ(), env...)
	c.Stderr = os.Stderr
	in, err := c.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	// Lines are read in the background so Read can give up after a
	// timeout; closing the channel tells Read the host exited.
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return &Proc{name: name, cmd: c, in: in, lines: lines}, nil
}

// Greet reads the first line of a host that announces itself: "ready
// INFO" returns INFO; "skip REASON" returns REASON with skip set. Any
// other line is an error wrapping ErrGreeting.
func (p *Proc) Greet(timeout time.Duration) (text string, skip bool, err error) {
	line, err := p.Read(timeout)
	if err != nil {
		return "", false, err
	}
	if reason, ok := strings.CutPrefix(line, "skip "); ok {
		return reason, true, nil
	}
	if info, ok := strings.CutPrefix(line, "ready "); ok {
		return info, false, nil
	}
	return "", false, fmt.Errorf("%w %q", ErrGreeting, line)
}

// Read returns the host's next line, or an error if the host exited or
// said nothing within timeout.
func (p *Proc) Read(timeout time.Duration) (string, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("%s host exited", p.name)
		}
		return line, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("%s host did not answer within %v", p.name, timeout)
	}
}

// Send writes one request line.
func (p *Proc) Send(line string) error {
	_, err := io.WriteString(p.in, line+"\n")
	return err
}

// Stop asks the host to quit and waits for it, killing it after
// stopGrace. It is safe on a nil or already stopped Proc, so owners can
// stop whatever they hold unconditionally.
func (p *Proc) Stop() {
	if p == nil || p.cmd == nil {
		return
	}
	// Errors are moot here: a host that cannot take "quit" is killed
	// below, and Wait's status says nothing the benchmark needs.
	io.WriteString(p.in, "quit\n")
	p.in.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopGrace):
		p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}
