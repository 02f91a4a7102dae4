// Package policyfn runs a sandbox's policy callback: a function that sees
// the system calls the supervisor intercepts and decides on some of them
// while they wait.
//
// # Events and verdicts
//
// Every notified system call becomes an Event (name, category, pid, parent
// pid, destination host and port for network calls, size for memory calls,
// argv for execve, and whether the built-in policy already denied it).
// execve, execveat, connect, sendto, sendmsg, sendmmsg, bind, openat,
// openat2, open and creat are held: the calling thread waits for the
// Verdict (Allow, Audit, Deny, DenyWith). Other events are delivered without
// holding anything. A verdict that does not come within the timeout (5 s by
// default), a callback that panics or returns something outside the set,
// and a sandbox that is going away all deny (fail closed).
//
// # Threads
//
// A Go callback runs on one goroutine per sandbox; the C ABI runs its
// callback on one dedicated, locked OS thread per sandbox. Only while every
// such thread is inside the callback (one of them blocks) and a held call
// has waited a few milliseconds does a second one join, up to four, so a
// slow callback delays only the call that waits for it. Held calls wait in
// their own goroutines, except opens, whose verdict is awaited for up to
// 200 µs on the supervisor's receiving goroutine (a fast callback then
// costs no hand-off) before the wait moves to a goroutine of its own.
//
// # Where the decision is taken
//
// A verdict is only as good as the data it was made on. Opens are decided
// before the file mediation performs them (events carry no path). Connect,
// send and bind are decided by the network mediation right before it
// performs them on behalf of the child, with the address it uses
// (CheckNet), after it applied the static policy. An exec is checked and
// decided while the rest of the sandbox is frozen.
//
// # argv
//
// The argv of an exec is read while every other task of the sandbox is
// stopped with ptrace (freeze.go), so what the callback sees is what the
// kernel executes.
//
// # Context
//
// The callback receives a Context through which it narrows the sandbox at
// run time: network destinations (sandbox-wide or per process), process and
// memory limits, denied paths. Grants never go past the ceiling fixed at
// start and are refused after a restrict.
package policyfn
