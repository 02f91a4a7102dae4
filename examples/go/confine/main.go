// Command confine runs a command under a small sandlock policy and prints
// its output and how it ended. Build with: go build -tags landlocktsync.
//
//	go run -tags landlocktsync ./examples/go/confine -- ls /etc
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

func main() {
	timeout := flag.Duration("timeout", 10*time.Second, "kill the sandbox after this long")
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 {
		argv = []string{"sh", "-c", "echo hello from the sandbox; cat /etc/shadow"}
	}
	p := policy.Default()
	for _, d := range []string{"/usr", "/lib", "/lib64", "/bin", "/etc"} {
		if _, err := os.Stat(d); err == nil {
			p.FsReadable = append(p.FsReadable, d)
		}
	}
	p.FsDenied = []string{"/etc/shadow"}
	p.MaxProcesses = 16

	res, err := sandbox.Run(p, argv, sandbox.Options{Timeout: *timeout})
	switch {
	case errors.Is(err, sandbox.ErrPolicy):
		fmt.Fprintln(os.Stderr, "bad policy:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sandbox failed:", err)
		os.Exit(1)
	}
	fmt.Printf("stdout: %s", res.Stdout)
	fmt.Printf("stderr: %s", res.Stderr)
	fmt.Printf("ended: %s, exit code %d, in %v\n", res.Reason, res.ExitCode, res.Duration.Round(time.Millisecond))
}
