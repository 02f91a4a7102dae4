// Command sandlock runs a program in a sandbox confined by Landlock, a
// seccomp filter and a supervisor, and reports what the kernel offers.
//
//	sandlock run [flags] [--] COMMAND [ARG...]
//	sandlock check
//	sandlock version
//
// Exit statuses of "run": the command's own exit status; 128+N when it was
// killed by signal N; 124 on --timeout; 125 when sandlock could not set up
// the sandbox; 127 when the command could not be executed; 2 on a usage
// error. "sandlock run --help" has the details.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
)

// version is the CLI's version; release builds may set it with
// -ldflags "-X main.version=...".
var version = "0.1.0"

// Exit statuses shared by the commands.
const (
	exitUsage = 2 // bad command line, or an option that is not implemented
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == probeChildCmd {
		os.Exit(probeChild(os.Args[2:]))
	}
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

const mainUsage = `usage: sandlock COMMAND [ARG...]

Run programs in a Linux sandbox (Landlock + seccomp + supervisor); no root needed.

Commands:
  run [flags] [--] CMD [ARG...]   run CMD in a sandbox ("sandlock run --help")
  check                           report the kernel features sandlock uses
  version                         print the version
  list [--json]                   list running sandboxes: name, pid, ports
  kill NAME                       kill a running sandbox (not implemented yet)
  profile list|show|delete        manage profiles (not implemented yet)

Flags:
  -h, --help       this text
  -V, --version    print the version
`

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	switch cmd := args[0]; cmd {
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "version", "--version", "-V":
		if len(args) > 1 && args[1] != "--help" && args[1] != "-h" {
			fmt.Fprintf(stderr, "sandlock version: unexpected argument %q\n", args[1])
			return exitUsage
		}
		if len(args) > 1 {
			fmt.Fprint(stdout, "usage: sandlock version\n\nPrint the version of sandlock and of the Go toolchain that built it.\n")
			return 0
		}
		printVersion(stdout)
		return 0
	case "help", "-h", "--help":
		if len(args) > 1 {
			// "sandlock help run" is "sandlock run --help".
			return dispatch([]string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, mainUsage)
		return 0
	case "list":
		return listCmd(args[1:], stdout, stderr)
	case "kill", "profile":
		for _, a := range args[1:] {
			if a == "-h" || a == "--help" {
				fmt.Fprintf(stdout, "usage: sandlock %s ...\n\nThis command is not implemented yet.\n", cmd)
				return 0
			}
		}
		fmt.Fprintf(stderr, "sandlock: %s: not implemented yet\n", cmd)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "sandlock: unknown command %q\n\n%s", cmd, mainUsage)
		return exitUsage
	}
}

func printVersion(w io.Writer) {
	gov := runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok && bi.GoVersion != "" {
		gov = bi.GoVersion
	}
	fmt.Fprintf(w, "sandlock %s (%s, %s/%s)\n", version, gov, runtime.GOOS, runtime.GOARCH)
}
