package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ptrace helpers for the argv freeze of the policy callback.

// Options of PTRACE_SEIZE (<linux/ptrace.h>).
const (
	PtraceOTraceFork  = 0x2 // PTRACE_O_TRACEFORK
	PtraceOTraceVfork = 0x4 // PTRACE_O_TRACEVFORK
	PtraceOTraceClone = 0x8 // PTRACE_O_TRACECLONE
	ptraceSeize       = 0x4206
	cldTrapped        = 4 // CLD_TRAPPED
	cldStopped        = 5 // CLD_STOPPED
)

// PtraceSeize attaches to task tid without stopping it, with options.
func PtraceSeize(tid int, options int) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, ptraceSeize, uintptr(tid), 0, uintptr(options), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// TaskWait is what waitid reported about one traced task.
type TaskWait struct {
	Pid     int  // 0: nothing to report (WNOHANG)
	Exited  bool // exited or was killed
	Stopped bool // in a ptrace stop (or group stop)
	// Status is si_status: the stop signal with the ptrace event in bits
	// 8-15 (PTRACE_EVENT_* << 8 | SIGTRAP), or the exit status or signal.
	Status int
}

// WaitTask is waitid(P_PID, tid, ...) for a tracer thread: options are
// WEXITED, WSTOPPED, WNOHANG, WNOWAIT, __WALL, __WNOTHREAD as needed.
func WaitTask(tid int, options int) (TaskWait, error) {
	var info unix.Siginfo
	var err error
	for {
		err = unix.Waitid(unix.P_PID, tid, &info, options, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return TaskWait{}, err
	}
	b := (*[128]byte)(unsafe.Pointer(&info))
	code := *(*int32)(unsafe.Pointer(&b[siCodeOff]))
	w := TaskWait{
		Pid:    int(*(*int32)(unsafe.Pointer(&b[16]))),
		Status: int(*(*int32)(unsafe.Pointer(&b[siStatusOff]))),
	}
	if w.Pid == 0 {
		return w, nil
	}
	switch code {
	case cldExited, cldKilled, cldDumped:
		w.Exited = true
	case cldTrapped, cldStopped:
		w.Stopped = true
	}
	return w, nil
}
