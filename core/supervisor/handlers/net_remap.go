package handlers

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Port remapping (port_remap): every sandbox has its own TCP port space.
// A bind to port V is done on behalf: on V itself when it is free (the
// identity mapping), otherwise on a port the kernel picks, R, and V maps to
// R. The sandbox keeps seeing V: getsockname and getpeername translate, a
// connect to a loopback address on V goes to R, and /proc/net/tcp{,6} show
// V. Outside the sandbox, clients use R (Ports, and `sandlock list`).

// PortMapping is one port of a sandbox's private port space.
type PortMapping struct {
	// Virtual is the port the sandbox bound and sees; Real is the port
	// the host sees. They are equal when the port was free.
	Virtual, Real uint16
}

type portMap struct {
	mu  sync.Mutex
	v2r map[uint16]uint16
	r2v map[uint16]uint16
}

func (p *portMap) real(v uint16) (uint16, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.v2r[v]
	return r, ok
}

func (p *portMap) virtual(r uint16) (uint16, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.r2v[r]
	return v, ok
}

// Ports returns the sandbox's port mappings, by virtual port.
func (m *Net) Ports() []PortMapping {
	m.ports.mu.Lock()
	out := make([]PortMapping, 0, len(m.ports.v2r))
	for v, r := range m.ports.v2r {
		out = append(out, PortMapping{Virtual: v, Real: r})
	}
	m.ports.mu.Unlock()
	slices.SortFunc(out, func(a, b PortMapping) int { return int(a.Virtual) - int(b.Virtual) })
	return out
}

// bindRemapped binds c's socket to the real port of a.port (already
// judged). Decisions are serialised so that two binds of one virtual port
// agree on its real port.
func (m *Net) bindRemapped(c *netCall, a *inetAddr) unix.Errno {
	v := a.port
	p := &m.ports
	p.mu.Lock()
	if r, ok := p.v2r[v]; ok {
		p.mu.Unlock()
		// The sandbox's own port: the kernel decides as it would for two
		// binds of one port (EADDRINUSE, or SO_REUSEPORT sharing).
		a.setPort(r)
		return sysBind(c.sock, a.b)
	}
	defer func() {
		if m.cfg.OnPortsChange != nil {
			m.cfg.OnPortsChange()
		}
	}()
	defer p.mu.Unlock()
	e := sysBind(c.sock, a.b)
	if e == 0 {
		p.add(v, v)
		return 0
	}
	if e != unix.EADDRINUSE {
		return e
	}
	// Taken outside the sandbox: a free port picked by the kernel.
	a.setPort(0)
	if e := sysBind(c.sock, a.b); e != 0 {
		return e
	}
	b, e := sysSockname(c.sock, false)
	if e != 0 {
		return e
	}
	ap, ok := decodeSockname(b)
	if !ok {
		return unix.EINVAL
	}
	p.add(v, ap.Port())
	return 0
}

func (p *portMap) add(v, r uint16) {
	p.v2r[v] = r
	p.r2v[r] = v
}

// SocketInodes returns the inodes of the sockets the processes pids hold
// open.
func SocketInodes(pids []int) map[uint64]bool {
	out := map[uint64]bool{}
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd"
		f, err := os.Open(dir)
		if err != nil {
			continue
		}
		names, _ := f.Readdirnames(-1)
		f.Close()
		for _, n := range names {
			l, err := os.Readlink(dir + "/" + n)
			if err != nil || len(l) < 10 || l[:8] != "socket:[" || l[len(l)-1] != ']' {
				continue
			}
			if ino, err := strconv.ParseUint(l[8:len(l)-1], 10, 64); err == nil {
				out[ino] = true
			}
		}
	}
	return out
}

// FilterProcNetTCP rewrites a /proc/net/tcp or /proc/net/tcp6 table for the
// sandbox: only the rows of sockets in inodes, renumbered, with remapped
// ports shown as the sandbox knows them (the local port, and the remote
// port of a connection to a loopback address).
func (m *Net) FilterProcNetTCP(table []byte, inodes map[uint64]bool) []byte {
	lines := bytes.SplitAfter(table, []byte("\n"))
	if len(lines) == 0 {
		return nil
	}
	out := bytes.NewBuffer(make([]byte, 0, len(table)))
	out.Write(lines[0])
	row := 0
	for _, line := range lines[1:] {
		f := bytes.Fields(line)
		if len(f) < 10 {
			continue
		}
		ino, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil || !inodes[ino] {
			continue
		}
		// "  sl  local_address rem_address ...": keep the layout, change
		// the row number and the two port fields in place.
		rest := line[bytes.Index(line, []byte(":"))+1:]
		rest = m.translateHexPort(rest, f[1], false)
		rest = m.translateHexPort(rest, f[2], true)
		fmt.Fprintf(out, "%4d:%s", row, rest)
		row++
	}
	return out.Bytes()
}

// translateHexPort replaces the field ADDR:PORT (hex) in line by the same
// address with the virtual port of a remapped real one; remote ports only
// for loopback addresses.
func (m *Net) translateHexPort(line, field []byte, remote bool) []byte {
	i := bytes.LastIndexByte(field, ':')
	if i < 0 {
		return line
	}
	port, err := strconv.ParseUint(string(field[i+1:]), 16, 16)
	if err != nil {
		return line
	}
	if remote && !hexLoopback(field[:i]) {
		return line
	}
	v, ok := m.ports.virtual(uint16(port))
	if !ok || v == uint16(port) {
		return line
	}
	repl := append(append([]byte(nil), field[:i+1]...), fmt.Sprintf("%04X", v)...)
	return bytes.Replace(line, field, repl, 1)
}

// hexLoopback reports whether a /proc/net address (hex words in host byte
// order) is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
func hexLoopback(h []byte) bool {
	switch len(h) {
	case 8:
		v, err := strconv.ParseUint(string(h), 16, 32)
		if err != nil {
			return false
		}
		var b [4]byte
		putNative32(b[:], uint32(v))
		return b[0] == 127
	case 32:
		var b [16]byte
		for w := 0; w < 4; w++ {
			v, err := strconv.ParseUint(string(h[8*w:8*w+8]), 16, 32)
			if err != nil {
				return false
			}
			putNative32(b[4*w:], uint32(v))
		}
		mapped := [12]byte{10: 0xff, 11: 0xff}
		if [12]byte(b[:12]) == mapped {
			return b[12] == 127
		}
		return b == [16]byte{15: 1}
	}
	return false
}
