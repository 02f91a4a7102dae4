package landlock

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// requireABI fails (never skips) the test when the kernel cannot run it: on
// the project's machines (Landlock ABI 7) a skipped security test would hide
// a broken sandbox.
func requireABI(t *testing.T, min int) int {
	t.Helper()
	abi, err := ABIVersion()
	if err != nil {
		t.Fatalf("ABIVersion() = %v; these tests need Landlock", err)
	}
	if abi < min {
		t.Fatalf("ABIVersion() = %d, this test needs Landlock ABI %d", abi, min)
	}
	return abi
}

// tree creates dirs and files (content "data") under a fresh temp dir and
// returns its path. Names ending in "/" are directories.
func tree(t *testing.T, names ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, n := range names {
		p := filepath.Join(root, n)
		if strings.HasSuffix(n, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestABIVersionAndErrata(t *testing.T) {
	abi := requireABI(t, 1)
	again, err := ABIVersion()
	if err != nil || again != abi {
		t.Errorf("second ABIVersion() = %d, %v, want %d, nil", again, err, abi)
	}
	e, err := Errata()
	if err != nil {
		t.Fatalf("Errata() = %v, want nil error", err)
	}
	if e < 0 {
		t.Errorf("Errata() = %#x, want a non-negative bitmask", e)
	}
	t.Logf("Landlock ABI %d, errata %#x", abi, e)
}

func TestFeatures(t *testing.T) {
	// The development machines run ABI 7; Features must say so.
	abi := requireABI(t, 7)
	got := Features()
	seen := map[string]bool{}
	for i, f := range got {
		if f.Name == "" || f.Desc == "" || f.MinABI < 1 {
			t.Errorf("Features()[%d] = %+v, want a name, a description and MinABI >= 1", i, f)
		}
		if seen[f.Name] {
			t.Errorf("Features() lists %q twice", f.Name)
		}
		seen[f.Name] = true
		if i > 0 && f.MinABI < got[i-1].MinABI {
			t.Errorf("Features()[%d] %q has MinABI %d after %d, want oldest first", i, f.Name, f.MinABI, got[i-1].MinABI)
		}
		if want := f.MinABI <= abi; f.Available != want {
			t.Errorf("Features() %q (MinABI %d).Available = %v, want %v with kernel ABI %d", f.Name, f.MinABI, f.Available, want, abi)
		}
	}
	for abiN, names := range map[int][]string{
		1: {"fs"}, 2: {"fs_refer"}, 3: {"fs_truncate"}, 4: {"net_tcp"},
		5: {"fs_ioctl_dev"}, 6: {"scope_abstract_unix", "scope_signal"}, 7: {"audit_log_flags"},
	} {
		for _, n := range names {
			i := slices.IndexFunc(got, func(f Feature) bool { return f.Name == n })
			if i < 0 {
				t.Errorf("Features() has no %q", n)
				continue
			}
			if got[i].MinABI != abiN || !got[i].Available {
				t.Errorf("Features() %q = %+v, want MinABI %d and available", n, got[i], abiN)
			}
		}
	}
}

// TestBuildEveryABI builds a full ruleset as each ABI up to the kernel's
// would, on the real kernel. It checks that go-landlock's ruleset struct,
// larger than the kernel's, is accepted, that each ABI's handled sets are
// valid, and which protections are reported missing.
func TestBuildEveryABI(t *testing.T) {
	kabi := requireABI(t, 6)
	dir := tree(t, "r/f", "w/")
	c := Config{
		Readable:   []string{filepath.Join(dir, "r"), filepath.Join(dir, "r/f")},
		Writable:   []string{filepath.Join(dir, "w")},
		BindTCP:    []uint16{0, 8080},
		ConnectTCP: []uint16{443, 8080},
	}
	for abi := 1; abi <= min(kabi, maxKnownABI); abi++ {
		var wantLacks []string
		if abi < 3 {
			wantLacks = append(wantLacks, "truncate control needs Landlock ABI 3 (Linux 6.2)")
		}
		if abi < 4 {
			wantLacks = append(wantLacks, "TCP port rules need Landlock ABI 4 (Linux 6.7)")
		}
		if abi < 5 {
			wantLacks = append(wantLacks, "device ioctl control needs Landlock ABI 5 (Linux 6.10)")
		}
		if abi < 6 {
			wantLacks = append(wantLacks,
				"abstract unix socket scoping needs Landlock ABI 6 (Linux 6.12)",
				"signal scoping needs Landlock ABI 6 (Linux 6.12)")
		}

		strict, err := build(c, abi)
		if len(wantLacks) == 0 {
			if err != nil {
				t.Errorf("build(c, ABI %d) = %v, want nil error", abi, err)
			} else {
				strict.Close()
			}
		} else {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("build(c, ABI %d) = %v, want an error wrapping ErrUnsupported", abi, err)
			}
			for _, l := range wantLacks {
				if err != nil && !strings.Contains(err.Error(), l) {
					t.Errorf("build(c, ABI %d) error %q does not contain %q", abi, err, l)
				}
			}
		}

		dc := c
		dc.AllowDegraded = true
		rs, err := build(dc, abi)
		if err != nil {
			t.Errorf("build(c with AllowDegraded, ABI %d) = %v, want nil error", abi, err)
			continue
		}
		if rs.ABI != abi || rs.FD < 0 {
			t.Errorf("build(ABI %d) = {FD %d, ABI %d}, want a valid FD and ABI %d", abi, rs.FD, rs.ABI, abi)
		}
		if len(rs.Degraded) != len(wantLacks) {
			t.Errorf("build(ABI %d).Degraded = %q, want %d entries", abi, rs.Degraded, len(wantLacks))
		} else {
			for i, l := range wantLacks {
				if !strings.HasPrefix(rs.Degraded[i], l) {
					t.Errorf("build(ABI %d).Degraded[%d] = %q, want prefix %q", abi, i, rs.Degraded[i], l)
				}
			}
		}
		rs.Close()
	}
}

func TestUnsupportedMessages(t *testing.T) {
	requireABI(t, 6)
	tests := []struct {
		name string
		c    Config
		abi  int
		want string // exact message
	}{
		{"tcp on ABI 3, fs-only otherwise", Config{NoScopes: true}, 3,
			"landlock: TCP port rules need Landlock ABI 4 (Linux 6.7), kernel has ABI 3; " +
				"device ioctl control needs Landlock ABI 5 (Linux 6.10), kernel has ABI 3"},
		{"scopes on ABI 5", Config{NoNetwork: true}, 5,
			"landlock: abstract unix socket scoping needs Landlock ABI 6 (Linux 6.12), kernel has ABI 5; " +
				"signal scoping needs Landlock ABI 6 (Linux 6.12), kernel has ABI 5"},
		{"truncate on ABI 2", Config{NoNetwork: true, NoScopes: true}, 2,
			"landlock: truncate control needs Landlock ABI 3 (Linux 6.2), kernel has ABI 2; " +
				"device ioctl control needs Landlock ABI 5 (Linux 6.10), kernel has ABI 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := build(tt.c, tt.abi)
			if err == nil {
				rs.Close()
				t.Fatalf("build(%+v, %d) = nil error, want %q", tt.c, tt.abi, tt.want)
			}
			if err.Error() != tt.want || !errors.Is(err, ErrUnsupported) {
				t.Errorf("build(%+v, %d) = %q, want %q wrapping ErrUnsupported", tt.c, tt.abi, err, tt.want)
			}
		})
	}
	// Controls: the same configurations build where the ABI suffices, or
	// when the caller opted out of what was missing.
	for _, tt := range []struct {
		c   Config
		abi int
	}{
		{Config{NoScopes: true}, 5},
		{Config{NoNetwork: true}, 6},
		{Config{NoNetwork: true, NoScopes: true}, 5},
	} {
		rs, err := build(tt.c, tt.abi)
		if err != nil {
			t.Errorf("build(%+v, %d) = %v, want nil error", tt.c, tt.abi, err)
			continue
		}
		if len(rs.Degraded) != 0 {
			t.Errorf("build(%+v, %d).Degraded = %q, want none", tt.c, tt.abi, rs.Degraded)
		}
		rs.Close()
	}
}

func TestUnsupportedErrnoMessage(t *testing.T) {
	for _, e := range []unix.Errno{unix.ENOSYS, unix.EOPNOTSUPP} {
		err := errnoError("landlock_create_ruleset", e)
		want := "landlock: landlock_create_ruleset: not supported by kernel or not enabled at boot: " + e.Error()
		if err.Error() != want || !errors.Is(err, ErrUnsupported) || !errors.Is(err, e) {
			t.Errorf("errnoError(%v) = %q, want %q wrapping ErrUnsupported and the errno", e, err, want)
		}
	}
	err := errnoError(`landlock_add_rule "/x"`, unix.EBADF)
	if want := `landlock_add_rule "/x": bad file descriptor`; err.Error() != want || errors.Is(err, ErrUnsupported) {
		t.Errorf("errnoError(EBADF) = %q, want %q not wrapping ErrUnsupported", err, want)
	}
}

// TestCreateRulesetErrors shows the kernel answers createError explains.
func TestCreateRulesetErrors(t *testing.T) {
	abi := requireABI(t, 6)
	// An unknown bit in a known field: EINVAL on every ABI.
	attr := ll.RulesetAttr{HandledAccessFS: fsRightsFor(abi) | 1<<63}
	fd, err := ll.LandlockCreateRuleset(&attr, 0)
	if err == nil {
		unix.Close(fd)
		t.Fatalf("landlock_create_ruleset(fs %#x) succeeded, want EINVAL", attr.HandledAccessFS)
	}
	got := createError(err, abi, &attr)
	if !errors.Is(got, unix.EINVAL) || !strings.Contains(got.Error(), "rejected the handled rights") {
		t.Errorf("createError(%v) = %q, want EINVAL explained", err, got)
	}
	// A field the kernel does not know, set non-zero: E2BIG. The quiet
	// fields arrived with ABI 10, so older kernels refuse them this way.
	if abi < 10 {
		attr = ll.RulesetAttr{HandledAccessFS: fsRightsFor(abi), QuietAccessFS: ll.AccessFSReadFile}
		fd, err = ll.LandlockCreateRuleset(&attr, 0)
		if err == nil {
			unix.Close(fd)
			t.Fatalf("landlock_create_ruleset with a quiet field on ABI %d succeeded, want E2BIG", abi)
		}
		got = createError(err, abi, &attr)
		if !errors.Is(got, unix.E2BIG) || !strings.Contains(got.Error(), "does not know a ruleset field") {
			t.Errorf("createError(%v) = %q, want E2BIG explained", err, got)
		}
	}
	// Control: the same struct with the unknown tail zero is accepted.
	attr = ll.RulesetAttr{HandledAccessFS: fsRightsFor(abi)}
	fd, err = ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		t.Fatalf("landlock_create_ruleset(fs %#x) = %v, want success", attr.HandledAccessFS, err)
	}
	unix.Close(fd)
}

func TestPathErrors(t *testing.T) {
	requireABI(t, 6)
	dir := tree(t, "d/")
	missing := filepath.Join(dir, "nope")
	tests := []struct {
		name string
		c    Config
		want string
		is   error
	}{
		{"missing readable", Config{Readable: []string{dir, missing}},
			`landlock: fs_readable "` + missing + `": no such file or directory`, fs.ErrNotExist},
		{"missing writable", Config{Writable: []string{missing}},
			`landlock: fs_writable "` + missing + `": no such file or directory`, fs.ErrNotExist},
		{"relative", Config{Readable: []string{"d"}},
			`landlock: fs_readable "d": path must be absolute`, nil},
		{"empty", Config{Writable: []string{""}},
			`landlock: fs_writable "": path must be absolute`, nil},
		{"dangling symlink", Config{Readable: []string{symlink(t, missing)}},
			"no such file or directory", fs.ErrNotExist},
	}
	before := openFDs(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Build(tt.c)
			if err == nil {
				rs.Close()
				t.Fatalf("Build(%+v) = nil error, want %q", tt.c, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("Build(%+v) = %q, want %q (is %v)", tt.c, err, tt.want, tt.is)
			}
			if errors.Is(err, ErrUnsupported) {
				t.Errorf("Build(%+v) = %q wraps ErrUnsupported, want a plain path error", tt.c, err)
			}
		})
	}
	if after := openFDs(t); after != before {
		t.Errorf("open fds after failed Builds = %d, want %d (leak)", after, before)
	}
	// Control: the same directory without the missing entry builds.
	rs, err := Build(Config{Readable: []string{dir}})
	if err != nil {
		t.Fatalf("Build(readable %q) = %v, want nil error", dir, err)
	}
	rs.Close()
}

func symlink(t *testing.T, target string) string {
	t.Helper()
	l := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, l); err != nil {
		t.Fatal(err)
	}
	return l
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestRulesetFD(t *testing.T) {
	abi := requireABI(t, 6)
	rs, err := Build(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rs.ABI != abi || len(rs.Degraded) != 0 {
		t.Errorf("Build(Config{}) = {ABI %d, Degraded %q}, want ABI %d and none degraded", rs.ABI, rs.Degraded, abi)
	}
	// The child stub uses the fd before execve; it must not survive it.
	flags, err := unix.FcntlInt(uintptr(rs.FD), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("F_GETFD(ruleset fd) = %#x, %v, want FD_CLOEXEC", flags, err)
	}
	fd := rs.FD
	if err := rs.Close(); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
	if err := rs.Close(); err != nil || rs.FD != -1 {
		t.Errorf("second Close() = %v with FD %d, want nil and -1", err, rs.FD)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("F_GETFD(closed fd %d) = %v, want EBADF", fd, err)
	}
	var nilRS *Ruleset
	if err := nilRS.Close(); err != nil {
		t.Errorf("(*Ruleset)(nil).Close() = %v, want nil", err)
	}
}

// TestFileRightsMasked proves the mask is needed (the kernel rejects
// directory rights on a file) and that Build applies it.
func TestFileRightsMasked(t *testing.T) {
	abi := requireABI(t, 6)
	dir := tree(t, "f")
	file := filepath.Join(dir, "f")

	attr := ll.RulesetAttr{HandledAccessFS: fsRightsFor(abi)}
	rfd, err := ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	pfd, err := unix.Open(file, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pfd)
	err = ll.LandlockAddPathBeneathRule(rfd, &ll.PathBeneathAttr{AllowedAccess: fsRightsFor(abi), ParentFd: pfd}, 0)
	if err != unix.EINVAL {
		t.Errorf("landlock_add_rule(file, every right) = %v, want EINVAL", err)
	}
	err = ll.LandlockAddPathBeneathRule(rfd, &ll.PathBeneathAttr{AllowedAccess: fsRightsFor(abi) & fileRights, ParentFd: pfd}, 0)
	if err != nil {
		t.Errorf("landlock_add_rule(file, file rights) = %v, want success", err)
	}

	for _, c := range []Config{
		{Readable: []string{file}},
		{Writable: []string{file}},
		{Readable: []string{file}, Writable: []string{file}},
		{Writable: []string{"/dev/null"}},
	} {
		rs, err := Build(c)
		if err != nil {
			t.Errorf("Build(%+v) = %v, want nil error", c, err)
			continue
		}
		rs.Close()
	}
}

func TestReadConfinement(t *testing.T) {
	requireABI(t, 6)
	dir := tree(t, "in/a", "out/b")
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	t.Run("denied outside", func(t *testing.T) {
		confine(t, Config{Readable: []string{in}},
			probe{Op: "read", Path: in + "/a", Want: ok},
			probe{Op: "readdir", Path: in, Want: ok},
			probe{Op: "read", Path: out + "/b", Want: "EACCES"},
			probe{Op: "readdir", Path: out, Want: "EACCES"},
			probe{Op: "readdir", Path: dir, Want: "EACCES"},
		)
	})
	t.Run("control: granted", func(t *testing.T) {
		confine(t, Config{Readable: []string{in, out}},
			probe{Op: "read", Path: out + "/b", Want: ok},
			probe{Op: "readdir", Path: out, Want: ok},
		)
	})
	t.Run("symlink grants its target", func(t *testing.T) {
		confine(t, Config{Readable: []string{symlink(t, out)}},
			probe{Op: "read", Path: out + "/b", Want: ok},
			probe{Op: "read", Path: in + "/a", Want: "EACCES"},
		)
	})
}

func TestWriteConfinement(t *testing.T) {
	requireABI(t, 6)
	dir := tree(t, "ro/f", "ro/g", "rw/f", "rw/g", "rw2/")
	ro, rw, rw2 := filepath.Join(dir, "ro"), filepath.Join(dir, "rw"), filepath.Join(dir, "rw2")
	c := Config{Readable: []string{ro}, Writable: []string{rw, rw2}}
	t.Run("denied in readable", func(t *testing.T) {
		confine(t, c,
			probe{Op: "read", Path: ro + "/f", Want: ok},
			probe{Op: "write", Path: ro + "/f", Want: "EACCES"},
			probe{Op: "truncate", Path: ro + "/f", Want: "EACCES"},
			probe{Op: "create", Path: ro + "/new", Want: "EACCES"},
			probe{Op: "mkdir", Path: ro + "/d", Want: "EACCES"},
			probe{Op: "unlink", Path: ro + "/g", Want: "EACCES"},
			probe{Op: "rename", Path: ro + "/g", To: rw2 + "/g", Want: "EACCES"},
		)
		if b, err := os.ReadFile(ro + "/f"); err != nil || string(b) != "data" {
			t.Errorf("read-only file after the probes = %q, %v, want %q", b, err, "data")
		}
		if _, err := os.Stat(ro + "/g"); err != nil {
			t.Errorf("read-only file g after the probes: %v, want it present", err)
		}
	})
	t.Run("control: allowed in writable", func(t *testing.T) {
		confine(t, c,
			probe{Op: "write", Path: rw + "/f", Want: ok},
			probe{Op: "truncate", Path: rw + "/f", Want: ok},
			probe{Op: "create", Path: rw + "/new", Want: ok},
			probe{Op: "mkdir", Path: rw + "/d", Want: ok},
			probe{Op: "rename", Path: rw + "/new", To: rw2 + "/new", Want: ok}, // REFER
			probe{Op: "unlink", Path: rw + "/g", Want: ok},
		)
	})
	t.Run("control: path in both lists gets the union", func(t *testing.T) {
		confine(t, Config{Readable: []string{ro}, Writable: []string{ro}},
			probe{Op: "write", Path: ro + "/f", Want: ok},
			probe{Op: "create", Path: ro + "/new2", Want: ok},
		)
	})
}

func TestFileRule(t *testing.T) {
	requireABI(t, 6)
	dir := tree(t, "d/a", "d/sibling", "d/w")
	d := filepath.Join(dir, "d")
	t.Run("readable file, sibling denied", func(t *testing.T) {
		confine(t, Config{Readable: []string{d + "/a"}},
			probe{Op: "read", Path: d + "/a", Want: ok},
			probe{Op: "write", Path: d + "/a", Want: "EACCES"},
			probe{Op: "read", Path: d + "/sibling", Want: "EACCES"},
			probe{Op: "readdir", Path: d, Want: "EACCES"},
		)
	})
	t.Run("control: directory grants the sibling", func(t *testing.T) {
		confine(t, Config{Readable: []string{d}},
			probe{Op: "read", Path: d + "/sibling", Want: ok},
		)
	})
	t.Run("writable file gets only file rights", func(t *testing.T) {
		confine(t, Config{Writable: []string{d + "/w"}},
			probe{Op: "write", Path: d + "/w", Want: ok},
			probe{Op: "truncate", Path: d + "/w", Want: ok},
			probe{Op: "read", Path: d + "/w", Want: ok},
			probe{Op: "write", Path: d + "/sibling", Want: "EACCES"},
			probe{Op: "create", Path: d + "/new", Want: "EACCES"},
			probe{Op: "unlink", Path: d + "/w", Want: "EACCES"},
		)
	})
}

// listen starts a TCP listener on an ephemeral loopback port. Connections
// complete in the kernel backlog; nothing needs to accept them.
func listen(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", loopbackAddr(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", loopbackAddr(0))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestTCPConnect(t *testing.T) {
	requireABI(t, 6)
	p, other := listen(t), listen(t)
	t.Run("denied without rule", func(t *testing.T) {
		confine(t, Config{},
			probe{Op: "connect", Port: p, Want: "EACCES"},
		)
	})
	t.Run("allowed with rule, other port still denied", func(t *testing.T) {
		confine(t, Config{ConnectTCP: []uint16{uint16(p)}},
			probe{Op: "connect", Port: p, Want: ok},
			probe{Op: "connect", Port: other, Want: "EACCES"},
		)
	})
	t.Run("bind rule does not allow connect", func(t *testing.T) {
		confine(t, Config{BindTCP: []uint16{uint16(p)}},
			probe{Op: "connect", Port: p, Want: "EACCES"},
		)
	})
	t.Run("control: network not handled", func(t *testing.T) {
		confine(t, Config{NoNetwork: true, ConnectTCP: []uint16{uint16(other)}},
			probe{Op: "connect", Port: p, Want: ok},
			probe{Op: "connect", Port: other, Want: ok},
		)
	})
}

func TestTCPBind(t *testing.T) {
	requireABI(t, 6)
	q := freePort(t)
	t.Run("denied without rule", func(t *testing.T) {
		confine(t, Config{ConnectTCP: []uint16{uint16(q)}},
			probe{Op: "bind", Port: q, Want: "EACCES"},
			probe{Op: "bind", Port: 0, Want: "EACCES"},
			// Known gap, documented in the package doc: listen(2)
			// autobinds an ephemeral port without a bind check. If a
			// kernel starts checking it, update the doc.
			probe{Op: "listen_unbound", Want: ok},
		)
	})
	t.Run("allowed with rule", func(t *testing.T) {
		confine(t, Config{BindTCP: []uint16{uint16(q)}},
			probe{Op: "bind", Port: q, Want: ok},
			probe{Op: "bind", Port: 0, Want: "EACCES"},
		)
	})
	t.Run("port 0 allows ephemeral bind only", func(t *testing.T) {
		confine(t, Config{BindTCP: []uint16{0}},
			probe{Op: "bind", Port: 0, Want: ok},
			probe{Op: "bind", Port: q, Want: "EACCES"},
		)
	})
	t.Run("control: network not handled", func(t *testing.T) {
		confine(t, Config{NoNetwork: true},
			probe{Op: "bind", Port: q, Want: ok},
		)
	})
}

func TestSignalScope(t *testing.T) {
	requireABI(t, 6)
	parent := os.Getpid()
	t.Run("denied under scopes", func(t *testing.T) {
		confine(t, Config{},
			probe{Op: "kill", Pid: parent, Want: "EPERM"},
			probe{Op: "kill_self", Pid: -1, Want: ok},
		)
	})
	t.Run("control: no scopes", func(t *testing.T) {
		confine(t, Config{NoScopes: true},
			probe{Op: "kill", Pid: parent, Want: ok},
		)
	})
}

func TestAbstractUnixScope(t *testing.T) {
	requireABI(t, 6)
	name := "sandlock-landlock-test-" + time.Now().Format("150405.000000000")
	l, err := net.Listen("unix", "@"+name)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Run("denied under scopes", func(t *testing.T) {
		confine(t, Config{},
			probe{Op: "connect_abstract", Path: name, Want: "EPERM"},
		)
	})
	t.Run("control: no scopes", func(t *testing.T) {
		confine(t, Config{NoScopes: true},
			probe{Op: "connect_abstract", Path: name, Want: ok},
		)
	})
}

// TestDegradedConfines applies a ruleset built as ABI 3 would: TCP is then
// unrestricted (reported in Degraded) while the filesystem stays confined.
func TestDegradedConfines(t *testing.T) {
	requireABI(t, 6)
	dir := tree(t, "in/a", "out/b")
	p := listen(t)
	rs, err := build(Config{Readable: []string{dir + "/in"}, AllowDegraded: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if !slices.ContainsFunc(rs.Degraded, func(s string) bool { return strings.HasPrefix(s, "TCP port rules need") }) {
		t.Errorf("build(ABI 3).Degraded = %q, want the TCP port rules listed", rs.Degraded)
	}
	checkProbes(t, rs, []probe{
		{Op: "connect", Port: p, Want: ok},
		{Op: "read", Path: dir + "/in/a", Want: ok},
		{Op: "read", Path: dir + "/out/b", Want: "EACCES"},
		{Op: "kill", Pid: os.Getpid(), Want: ok},
	})
}
