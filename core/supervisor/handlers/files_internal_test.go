package handlers

import (
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sandlock/sandlock/core/procindex"
)

func TestPidStatRewrite(t *testing.T) {
	c := NewProcClock(1000, 2)
	tests := []struct{ in, want string }{
		{"42 (sh) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n", "42 (sh) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 11345 0 0\n"},
		{"42 (a) b (c) R 9 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1777 0\n", "42 (a) b (c) R 9 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0\n"},
		// Started before the sandbox (cannot happen for a member): clamped.
		{"1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0\n"},
		// Too short to hold field 22: unchanged.
		{"42 (x) S 1 2\n", "42 (x) S 1 2\n"},
	}
	for _, tc := range tests {
		if got := string(c.pidStat([]byte(tc.in))); got != tc.want {
			t.Errorf("pidStat(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	stat := "cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"
	if got := string(c.procStat([]byte(stat))); got != "cpu  1 2 3\nintr 5\nbtime 1700000010\nprocesses 9\n" {
		t.Errorf("procStat = %q", got)
	}
}

func TestProcRule(t *testing.T) {
	f := &Files{index: procindex.New()}
	defer f.index.Close()
	tests := []struct {
		path   string
		inProc bool
		want   unix.Errno
	}{
		{"/proc", true, 0},
		{"/proc/cpuinfo", true, 0},
		{"/proc/kcore", true, unix.EACCES},
		{"/proc/sysrq-trigger", true, unix.EACCES},
		{"/proc/keys", true, unix.EACCES},
		{"/proc/1/cmdline", true, unix.ENOENT},
		{"/proc/1", true, unix.ENOENT},
		{"/elsewhere/1/cmdline", true, unix.EACCES},
		{"/proc2/x", true, unix.EACCES},
		{"/sys/class/net", false, unix.EACCES},
		{"/sys/class/net/lo", false, unix.EACCES},
		{"/sys/devices/virtual/net/lo/address", false, unix.EACCES},
		{"/sys/devices/system/cpu/online", false, 0},
		{"/sys/firmware/acpi", false, unix.EACCES},
		{"/sys/kernel/security", false, unix.EACCES},
		{"/sys/kernel/mm/transparent_hugepage/enabled", false, 0},
	}
	for _, tc := range tests {
		if got := f.procRule([]byte(tc.path), tc.inProc); got != tc.want {
			t.Errorf("procRule(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestLexical(t *testing.T) {
	f := &Files{}
	e := &procindex.Entry{Key: procindex.PidKey{Pid: 77}}
	rs := rootSymlinks()
	tests := []struct{ in, want string }{
		{"/etc/passwd", "/etc/passwd"},
		{"/proc/self/status", "/proc/77/status"},
		{"/proc/thread-self/stat", "/proc/77/task/78/stat"},
		{"/proc/self", "/proc/77"},
		{"/proc/cpuinfo", "/proc/cpuinfo"},
		{"/etc/../passwd", ""},
		{"/etc/./passwd", ""},
		{"/etc//passwd", ""},
		{"/etc/", ""},
		{"relative", ""},
		{"/", ""},
	}
	if !rs.procOK {
		t.Skip("/proc is not the procfs root here")
	}
	for _, tc := range tests {
		var sc scratch
		got := f.lexical(append([]byte(tc.in), 0), e, 78, &sc)
		if got != nil {
			got = got[:len(got)-1]
		}
		if string(got) != tc.want {
			t.Errorf("lexical(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for name, target := range rs.links {
		var sc scratch
		got := f.lexical([]byte("/"+name+"/x\x00"), e, 78, &sc)
		if want := "/" + target + "/x\x00"; string(got) != want {
			t.Errorf("lexical(/%s/x) = %q, want %q", name, got, want)
		}
	}
}

// dirent64 builds one linux_dirent64 record.
func dirent64(name string) []byte {
	reclen := (19 + len(name) + 1 + 7) &^ 7
	b := make([]byte, reclen)
	binary.LittleEndian.PutUint16(b[16:], uint16(reclen))
	copy(b[19:], name)
	return b
}

func TestFilterProcDirents(t *testing.T) {
	ix := procindex.New()
	defer ix.Close()
	var buf []byte
	for _, n := range []string{".", "..", "1", "self", "99999999", "cpuinfo", "2"} {
		buf = append(buf, dirent64(n)...)
	}
	n := filterProcDirents(buf, false, ix)
	var names []string
	for off := 0; off < n; {
		reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
		name := buf[off+19 : off+reclen]
		names = append(names, strings.TrimRight(string(name), "\x00"))
		off += reclen
	}
	if got := strings.Join(names, " "); got != ". .. self cpuinfo" {
		t.Errorf("kept %q, want the non-numeric entries only (no member registered)", got)
	}
}

// nlRequest builds a netlink request with an rtgenmsg/ifinfomsg body.
func nlRequest(typ, flags uint16, seq uint32, body []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(16+len(body)))
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return append(b, body...)
}

// nlTypes lists the message types (and error codes) of a response.
func nlTypes(t *testing.T, b []byte, seq, pid uint32) []string {
	t.Helper()
	var out []string
	for len(b) >= 16 {
		l := int(binary.LittleEndian.Uint32(b))
		typ := binary.LittleEndian.Uint16(b[4:])
		if binary.LittleEndian.Uint32(b[8:]) != seq || binary.LittleEndian.Uint32(b[12:]) != pid {
			t.Errorf("message %d: seq/pid %d/%d, want %d/%d", typ, binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:]), seq, pid)
		}
		s := map[uint16]string{nlmsgDone: "done", nlmsgError: "error", rtmNewLink: "link", rtmNewAddr: "addr"}[typ]
		if typ == nlmsgError {
			s += "(" + unix.Errno(-int32(binary.LittleEndian.Uint32(b[16:]))).Error() + ")"
		}
		if typ == rtmNewAddr {
			s += map[byte]string{unix.AF_INET: "4", unix.AF_INET6: "6"}[b[16]]
		}
		out = append(out, s)
		b = b[min(nlmAlign(l), len(b)):]
	}
	return out
}

func TestNetlinkAnswers(t *testing.T) {
	const seq, pid = 7, 4242
	ifname := func(n string) []byte {
		body := make([]byte, 16)
		a := binary.LittleEndian.AppendUint16(nil, uint16(4+len(n)+1))
		a = binary.LittleEndian.AppendUint16(a, iflaIfname)
		a = append(a, n...)
		a = append(a, 0)
		for len(a)%4 != 0 {
			a = append(a, 0)
		}
		return append(body, a...)
	}
	index := func(i int32) []byte {
		body := make([]byte, 16)
		binary.LittleEndian.PutUint32(body[4:], uint32(i))
		return body
	}
	tests := []struct {
		name string
		req  []byte
		want string
	}{
		{"link dump", nlRequest(rtmGetLink, nlmFRequest|nlmFDump, seq, []byte{unix.AF_UNSPEC, 0, 0, 0}), "link done"},
		{"addr dump", nlRequest(rtmGetAddr, nlmFRequest|nlmFDump, seq, []byte{unix.AF_UNSPEC, 0, 0, 0}), "addr4 addr6 done"},
		{"addr dump v6", nlRequest(rtmGetAddr, nlmFRequest|nlmFDump, seq, []byte{unix.AF_INET6, 0, 0, 0}), "addr6 done"},
		{"route dump", nlRequest(rtmGetRoute, nlmFRequest|nlmFDump, seq, []byte{unix.AF_UNSPEC, 0, 0, 0}), "done"},
		{"link lo by name", nlRequest(rtmGetLink, nlmFRequest|nlmFAck, seq, ifname("lo")), "link error(errno 0)"},
		{"link lo by index", nlRequest(rtmGetLink, nlmFRequest, seq, index(1)), "link"},
		{"link eth0", nlRequest(rtmGetLink, nlmFRequest, seq, ifname("eth0")), "error(no such device)"},
		{"new address", nlRequest(rtmNewAddr, nlmFRequest|nlmFAck, seq, make([]byte, 8)), "error(operation not permitted)"},
		{"set link", nlRequest(19, nlmFRequest|nlmFAck, seq, make([]byte, 16)), "error(operation not permitted)"},
		{"get neighbours", nlRequest(30, nlmFRequest|nlmFDump, seq, make([]byte, 12)), "error(operation not supported)"},
		{"not a request", nlRequest(rtmGetLink, 0, seq, nil), ""},
		{"two requests", append(nlRequest(rtmGetLink, nlmFRequest|nlmFDump, seq, []byte{0, 0, 0, 0}), nlRequest(rtmGetRoute, nlmFRequest|nlmFDump, seq, []byte{0, 0, 0, 0})...), "link done done"},
		{"truncated", nlRequest(rtmGetLink, nlmFRequest|nlmFDump, seq, nil)[:10], ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(nlTypes(t, nlAnswer(tc.req, pid), seq, pid), " ")
			if got != tc.want {
				t.Errorf("answer = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzNetlinkAnswer feeds arbitrary records to the responder: it must
// never panic, and every answer it gives must be a well-formed sequence of
// messages carrying the port id.
func FuzzNetlinkAnswer(f *testing.F) {
	f.Add(nlRequest(rtmGetLink, nlmFRequest|nlmFDump, 1, []byte{0, 0, 0, 0}))
	f.Add(nlRequest(rtmGetAddr, nlmFRequest|nlmFDump, 1, []byte{unix.AF_INET6}))
	f.Add(nlRequest(rtmGetLink, nlmFRequest, 1, make([]byte, 40)))
	f.Fuzz(func(t *testing.T, req []byte) {
		out := nlAnswer(req, 99)
		for len(out) > 0 {
			if len(out) < 16 {
				t.Fatalf("trailing %d bytes", len(out))
			}
			l := int(binary.LittleEndian.Uint32(out))
			if l < 16 || l > len(out) || binary.LittleEndian.Uint32(out[12:]) != 99 {
				t.Fatalf("bad message header % x", out[:16])
			}
			out = out[min(nlmAlign(l), len(out)):]
		}
	})
}

// FuzzPidStatRewrite checks the stat rewriting never panics and keeps
// everything but field 22.
func FuzzPidStatRewrite(f *testing.F) {
	f.Add("42 (sh) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n")
	f.Add("1 (a) b) R 1 2 3")
	f.Fuzz(func(t *testing.T, in string) {
		c := NewProcClock(10, 1)
		out := string(c.pidStat([]byte(in)))
		if len(out) > len(in) {
			t.Fatalf("pidStat grew %q to %q", in, out)
		}
		_ = c.procStat([]byte(in))
	})
}
