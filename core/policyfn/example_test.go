package policyfn_test

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/policyfn"
	"github.com/sandlock/sandlock/core/sandbox"
)

// A callback that refuses to run cat, refuses SMTP connections with
// EACCES, and cuts the network off once the command has started.
func Example() {
	p := policy.Default()
	p.FsReadable = existing("/usr", "/lib", "/lib64", "/bin", "/etc")
	p.FsWritable = existing("/dev/null")
	started := false
	fn := policyfn.Func(func(ev *policyfn.Event, ctx *policyfn.Context) policyfn.Verdict {
		switch {
		case ev.Syscall == "execve" && len(ev.Argv) > 0 && filepath.Base(ev.Argv[0]) == "cat":
			return policyfn.Deny
		case ev.Syscall == "execve" && !started:
			started = true
			_ = ctx.RestrictNetwork() // no IP destination from now on
		case ev.Category == policyfn.Network && ev.Port == 25:
			return policyfn.DenyWith(unix.EACCES)
		}
		return policyfn.Allow
	})
	res, err := sandbox.Run(p, []string{"/bin/sh", "-c", "echo hi; cat /etc/hostname 2>/dev/null || echo no cat"},
		sandbox.Options{PolicyFn: fn})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(res.Stdout))
	// Output:
	// hi
	// no cat
}
