package handlers

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/supervisor"
)

// Hostname answers uname(2) with the host's struct utsname whose nodename
// is the sandbox's name. The supervisor writes the structure into the
// child's buffer (after checking that the notification is still valid)
// and returns 0; nothing is continued. /etc/hostname is a virtual file
// registered by the feature.
type Hostname struct {
	uts []byte
}

// NewHostname prepares the answer for name (at most 64 bytes, checked by
// the policy).
func NewHostname(name string) (*Hostname, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, err
	}
	u.Nodename = [len(u.Nodename)]byte{}
	copy(u.Nodename[:len(u.Nodename)-1], name)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&u)), unsafe.Sizeof(u))
	return &Hostname{uts: append([]byte(nil), b...)}, nil
}

// Register installs the uname handler.
func (h *Hostname) Register(s *supervisor.Supervisor, lookup func(string) (int, bool)) {
	if nr, ok := lookup("uname"); ok {
		s.Handle(nr, h.uname)
	}
}

func (h *Hostname) uname(s *supervisor.Supervisor, n *supervisor.Notif) supervisor.Response {
	if !s.Valid(n.ID) {
		return supervisor.Errno(unix.EPERM)
	}
	if writeMem(int(n.Pid), n.Data.Args[0], h.uts) != nil {
		return supervisor.Errno(unix.EFAULT)
	}
	return supervisor.Value(0)
}
