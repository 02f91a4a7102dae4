package handlers

import (
	"bytes"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/procindex"
	"github.com/sandlock/sandlock/core/supervisor"
)

// Affinity answers sched_getaffinity for num_cpus: the sandbox sees N CPUs,
// numbered 0..N-1, whatever the host has. nproc, Go's runtime, OpenMP and
// most thread pools size themselves from this call.
//
// The answer copies the kernel's contract (kernel/sched/syscalls.c): EINVAL
// when len is not a multiple of sizeof(long) or is too small for the
// host's CPU ids, otherwise min(len, cpumask_size()) bytes are written and
// that size is returned. The supervisor learns the size by making the same
// call for itself with the same len, so the sizes always agree with the
// host kernel. A pid outside the sandbox does not exist from inside
// (ESRCH).
type Affinity struct {
	Index *procindex.Index
	// N is the CPU count the sandbox sees.
	N int
}

// maxMaskBytes bounds the mask the handler builds: cpumask_size() is at
// most NR_CPUS/8, and NR_CPUS is at most 8192 (x86_64 MAXSMP).
const maxMaskBytes = 8192 / 8

// Register installs the handler on nr (sched_getaffinity).
func (a *Affinity) Register(s *supervisor.Supervisor, nr int) {
	s.Handle(nr, a.handle)
}

// sched_getaffinity(pid, len, user_mask_ptr).
func (a *Affinity) handle(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	pid := int(int32(n.Data.Args[0])) // pid_t
	size := uint64(uint32(n.Data.Args[1]))
	ptr := n.Data.Args[2]
	if pid < 0 {
		return supervisor.Errno(unix.ESRCH)
	}
	if pid != 0 && a.Index.Lookup(pid) == nil {
		return supervisor.Errno(unix.ESRCH)
	}
	if size%8 != 0 {
		return supervisor.Errno(unix.EINVAL)
	}
	// The kernel's answer for this len (EINVAL, or the size it copies).
	var mask [maxMaskBytes]byte
	probe := min(size, maxMaskBytes)
	r, _, e := unix.RawSyscall(unix.SYS_SCHED_GETAFFINITY, 0, uintptr(probe), uintptr(unsafe.Pointer(&mask[0])))
	if e != 0 {
		return supervisor.Errno(e)
	}
	ret := int(r)
	clear(mask[:ret])
	for i := 0; i < a.N && i < ret*8; i++ {
		mask[i/8] |= 1 << (i % 8)
	}
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.ESRCH)
	}
	local := unix.Iovec{Base: &mask[0]}
	local.SetLen(ret)
	remote := unix.RemoteIovec{Base: uintptr(ptr), Len: ret}
	if w, err := unix.ProcessVMWritev(int(n.Pid), []unix.Iovec{local}, []unix.RemoteIovec{remote}, 0); err != nil || w != ret {
		return supervisor.Errno(unix.EFAULT)
	}
	return supervisor.Value(int64(ret))
}

// CPUInfo derives a /proc/cpuinfo with n processors from the host's: the
// host's processor blocks are reused in turn (cycling when n is larger than
// the host's count) and renumbered 0..n-1, with the topology fields made
// consistent (one package of n cores without SMT siblings).
func CPUInfo(host []byte, n int) []byte {
	if n <= 0 {
		return nil
	}
	blocks := bytes.Split(bytes.TrimRight(host, "\n"), []byte("\n\n"))
	var procs [][]byte
	for _, b := range blocks {
		if bytes.HasPrefix(b, []byte("processor")) {
			procs = append(procs, b)
		}
	}
	if len(procs) == 0 {
		// An architecture whose cpuinfo is not per processor (or an
		// unreadable one): a minimal list.
		var out []byte
		for i := 0; i < n; i++ {
			out = append(out, "processor\t: "...)
			out = strconv.AppendInt(out, int64(i), 10)
			out = append(out, "\n\n"...)
		}
		return out
	}
	var out []byte
	for i := 0; i < n; i++ {
		for _, line := range bytes.Split(procs[i%len(procs)], []byte("\n")) {
			key, _, _ := bytes.Cut(line, []byte(":"))
			switch string(bytes.TrimSpace(key)) {
			case "processor", "core id", "apicid", "initial apicid":
				out = appendField(out, key, i)
			case "physical id":
				out = appendField(out, key, 0)
			case "siblings", "cpu cores":
				out = appendField(out, key, n)
			default:
				out = append(out, line...)
				out = append(out, '\n')
			}
		}
		out = append(out, '\n')
	}
	return out
}

func appendField(out, key []byte, v int) []byte {
	out = append(out, key...)
	out = append(out, ": "...)
	out = strconv.AppendInt(out, int64(v), 10)
	return append(out, '\n')
}

// CPUList formats CPUs 0..n-1 the way /sys/devices/system/cpu/online does
// ("0", "0-3").
func CPUList(n int) []byte {
	if n <= 1 {
		return []byte("0\n")
	}
	return []byte("0-" + strconv.Itoa(n-1) + "\n")
}
