package sandbox_test

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

// TestLandlockReadWrite checks the Landlock grants: reads inside
// fs_readable and writes inside fs_writable work, anything else fails with
// EACCES. Each refusal has a control that grants the tree and succeeds.
func TestLandlockReadWrite(t *testing.T) {
	type dirs struct{ ro, rw, out string }
	const (
		roCanary  = "ro-canary"
		outCanary = "outside-canary"
	)
	tests := []struct {
		name   string
		args   func(d dirs) []string
		grant  func(p *policy.Policy, d dirs)
		want   int
		stdout string
		check  func(t *testing.T, d dirs)
	}{
		{
			name:   "read in readable dir",
			args:   func(d dirs) []string { return []string{"read", filepath.Join(d.ro, "f")} },
			stdout: roCanary,
		},
		{
			name: "read outside grants",
			args: func(d dirs) []string { return []string{"read", filepath.Join(d.out, "f")} },
			want: int(syscall.EACCES),
		},
		{
			name:   "read outside grants/control: dir made readable",
			args:   func(d dirs) []string { return []string{"read", filepath.Join(d.out, "f")} },
			grant:  func(p *policy.Policy, d dirs) { p.FsReadable = append(p.FsReadable, d.out) },
			stdout: outCanary,
		},
		{
			name: "write in read-only dir",
			args: func(d dirs) []string { return []string{"write", filepath.Join(d.ro, "f"), "pwned"} },
			want: int(syscall.EACCES),
			check: func(t *testing.T, d dirs) {
				if got := fileContent(filepath.Join(d.ro, "f")); got != roCanary {
					t.Errorf("read-only canary = %q, want %q", got, roCanary)
				}
			},
		},
		{
			name:  "write in read-only dir/control: dir made writable",
			args:  func(d dirs) []string { return []string{"write", filepath.Join(d.ro, "f"), "pwned"} },
			grant: func(p *policy.Policy, d dirs) { p.FsWritable = append(p.FsWritable, d.ro) },
			check: func(t *testing.T, d dirs) {
				if got := fileContent(filepath.Join(d.ro, "f")); got != "pwned" {
					t.Errorf("file = %q, want %q", got, "pwned")
				}
			},
		},
		{
			name: "create in read-only dir",
			args: func(d dirs) []string { return []string{"write", filepath.Join(d.ro, "new"), "pwned"} },
			want: int(syscall.EACCES),
			check: func(t *testing.T, d dirs) {
				if _, err := os.Lstat(filepath.Join(d.ro, "new")); !os.IsNotExist(err) {
					t.Errorf("lstat(new) = %v, want it absent", err)
				}
			},
		},
		{
			name: "write in writable dir",
			args: func(d dirs) []string { return []string{"write", filepath.Join(d.rw, "new"), "hello"} },
			check: func(t *testing.T, d dirs) {
				if got := fileContent(filepath.Join(d.rw, "new")); got != "hello" {
					t.Errorf("file = %q, want %q", got, "hello")
				}
			},
		},
		{
			name: "write outside grants",
			args: func(d dirs) []string { return []string{"write", filepath.Join(d.out, "f"), "pwned"} },
			want: int(syscall.EACCES),
			check: func(t *testing.T, d dirs) {
				if got := fileContent(filepath.Join(d.out, "f")); got != outCanary {
					t.Errorf("outside canary = %q, want %q", got, outCanary)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, rw := basePolicy(t)
			d := dirs{ro: tempDir(t), rw: rw, out: tempDir(t)}
			writeFile(t, filepath.Join(d.ro, "f"), roCanary)
			writeFile(t, filepath.Join(d.out, "f"), outCanary)
			p.FsReadable = append(p.FsReadable, d.ro)
			if tc.grant != nil {
				tc.grant(&p, d)
			}
			argv := probe(t, tc.args(d)...)
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, tc.want)
			if tc.stdout != "" && string(res.Stdout) != tc.stdout {
				t.Errorf("Run(%q) stdout = %q, want %q", argv, res.Stdout, tc.stdout)
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

// fsLayout is the tree of the fs_denied tests, all inside the writable
// directory w:
//
//	w/denied/secret       denied by its directory
//	w/deniedfile          denied itself
//	w/ok/file, w/okfile   the non-denied siblings the controls use
//	w/lnk-denied -> w/denied/secret, w/lnk-ok -> w/ok/file
//	w/lnkdir-denied -> w/denied, w/lnkdir-ok -> w/ok
//	w/hard-denied, w/hard-deniedfile, w/hard-ok: hard links to
//	denied/secret, deniedfile and ok/file, made before the run
type fsLayout struct{ w string }

const (
	secretCanary     = "secret-canary"
	deniedFileCanary = "denied-file-canary"
	okCanary         = "ok-canary"
	okFileCanary     = "okfile-canary"
)

func (l fsLayout) path(rel string) string { return filepath.Join(l.w, rel) }

func newFsLayout(t *testing.T, w string) fsLayout {
	t.Helper()
	l := fsLayout{w}
	for _, d := range []string{"denied", "ok"} {
		if err := os.Mkdir(l.path(d), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, l.path("denied/secret"), secretCanary)
	writeFile(t, l.path("deniedfile"), deniedFileCanary)
	writeFile(t, l.path("ok/file"), okCanary)
	writeFile(t, l.path("okfile"), okFileCanary)
	for link, target := range map[string]string{
		"lnk-denied": "denied/secret", "lnk-ok": "ok/file",
		"lnkdir-denied": "denied", "lnkdir-ok": "ok",
	} {
		if err := os.Symlink(l.path(target), l.path(link)); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"hard-denied": "denied/secret", "hard-deniedfile": "deniedfile", "hard-ok": "ok/file",
	} {
		if err := os.Link(l.path(target), l.path(link)); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// checkDeniedIntact verifies the denied objects are exactly as created.
func (l fsLayout) checkDeniedIntact(t *testing.T) {
	t.Helper()
	if got := fileContent(l.path("denied/secret")); got != secretCanary {
		t.Errorf("denied/secret = %q, want %q", got, secretCanary)
	}
	if got := fileContent(l.path("deniedfile")); got != deniedFileCanary {
		t.Errorf("deniedfile = %q, want %q", got, deniedFileCanary)
	}
	ents, err := os.ReadDir(l.path("denied"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"secret"}) {
		t.Errorf("denied/ holds %q, want [secret]", names)
	}
}

// TestFsDenied checks that fs_denied holds for every operation and path
// spelling in the table, inside a writable tree. Each attack is paired
// with a control: the same operation on a non-denied sibling succeeds.
func TestFsDenied(t *testing.T) {
	eacces := int(syscall.EACCES)
	absent := func(rel string) func(*testing.T, fsLayout) {
		return func(t *testing.T, l fsLayout) {
			t.Helper()
			if _, err := os.Lstat(l.path(rel)); !os.IsNotExist(err) {
				t.Errorf("lstat(%s) = %v, want it absent", rel, err)
			}
		}
	}
	content := func(rel, want string) func(*testing.T, fsLayout) {
		return func(t *testing.T, l fsLayout) {
			t.Helper()
			if got := fileContent(l.path(rel)); got != want {
				t.Errorf("%s = %q, want %q", rel, got, want)
			}
		}
	}
	tests := []struct {
		name   string
		cwd    string // relative to w; "" keeps the default
		args   func(l fsLayout) []string
		want   int
		stdout string
		check  func(t *testing.T, l fsLayout)
	}{
		// open
		{name: "open read file in denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.path("denied/secret")} }},
		{name: "open read file in denied dir/control", stdout: okCanary,
			args: func(l fsLayout) []string { return []string{"read", l.path("ok/file")} }},
		{name: "open read denied file", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.path("deniedfile")} }},
		{name: "open read denied file/control", stdout: okFileCanary,
			args: func(l fsLayout) []string { return []string{"read", l.path("okfile")} }},
		{name: "open write file in denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"write", l.path("denied/secret"), "pwned"} }},
		{name: "open write file in denied dir/control", check: content("ok/file", "pwned"),
			args: func(l fsLayout) []string { return []string{"write", l.path("ok/file"), "pwned"} }},
		{name: "open write denied file", want: eacces,
			args: func(l fsLayout) []string { return []string{"write", l.path("deniedfile"), "pwned"} }},
		{name: "open write denied file/control", check: content("okfile", "pwned"),
			args: func(l fsLayout) []string { return []string{"write", l.path("okfile"), "pwned"} }},
		{name: "open create in denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"write", l.path("denied/new"), "pwned"} }},
		{name: "open create in denied dir/control", check: content("ok/new", "pwned"),
			args: func(l fsLayout) []string { return []string{"write", l.path("ok/new"), "pwned"} }},

		// openat2
		{name: "openat2 file in denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"openat2", l.path("denied/secret")} }},
		{name: "openat2 file in denied dir/control", stdout: okCanary,
			args: func(l fsLayout) []string { return []string{"openat2", l.path("ok/file")} }},
		{name: "openat2 denied file", want: eacces,
			args: func(l fsLayout) []string { return []string{"openat2", l.path("deniedfile")} }},
		{name: "openat2 denied file/control", stdout: okFileCanary,
			args: func(l fsLayout) []string { return []string{"openat2", l.path("okfile")} }},

		// rename
		{name: "rename out of denied dir", want: eacces, check: absent("stolen"),
			args: func(l fsLayout) []string { return []string{"rename", l.path("denied/secret"), l.path("stolen")} }},
		{name: "rename out of denied dir/control", check: content("stolen", okCanary),
			args: func(l fsLayout) []string { return []string{"rename", l.path("ok/file"), l.path("stolen")} }},
		{name: "rename into denied dir", want: eacces, check: content("okfile", okFileCanary),
			args: func(l fsLayout) []string { return []string{"rename", l.path("okfile"), l.path("denied/planted")} }},
		{name: "rename into denied dir/control", check: content("ok/planted", okFileCanary),
			args: func(l fsLayout) []string { return []string{"rename", l.path("okfile"), l.path("ok/planted")} }},
		{name: "rename denied file away", want: eacces, check: absent("stolen"),
			args: func(l fsLayout) []string { return []string{"rename", l.path("deniedfile"), l.path("stolen")} }},
		{name: "rename denied file away/control", check: content("stolen", okFileCanary),
			args: func(l fsLayout) []string { return []string{"rename", l.path("okfile"), l.path("stolen")} }},
		{name: "rename onto denied file", want: eacces, check: content("okfile", okFileCanary),
			args: func(l fsLayout) []string { return []string{"rename", l.path("okfile"), l.path("deniedfile")} }},
		{name: "rename onto denied file/control", check: content("ok/file", okFileCanary),
			args: func(l fsLayout) []string { return []string{"rename", l.path("okfile"), l.path("ok/file")} }},

		// link
		{name: "link out of denied dir", want: eacces, check: absent("alias"),
			args: func(l fsLayout) []string { return []string{"link", l.path("denied/secret"), l.path("alias")} }},
		{name: "link out of denied dir/control", check: content("alias", okCanary),
			args: func(l fsLayout) []string { return []string{"link", l.path("ok/file"), l.path("alias")} }},
		{name: "link to denied file", want: eacces, check: absent("alias"),
			args: func(l fsLayout) []string { return []string{"link", l.path("deniedfile"), l.path("alias")} }},
		{name: "link to denied file/control", check: content("alias", okFileCanary),
			args: func(l fsLayout) []string { return []string{"link", l.path("okfile"), l.path("alias")} }},
		{name: "link into denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"link", l.path("okfile"), l.path("denied/alias")} }},
		{name: "link into denied dir/control", check: content("ok/alias", okFileCanary),
			args: func(l fsLayout) []string { return []string{"link", l.path("okfile"), l.path("ok/alias")} }},

		// symlink
		{name: "symlink created in denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"symlink", "/etc/hostname", l.path("denied/sl")} }},
		{name: "symlink created in denied dir/control",
			args: func(l fsLayout) []string { return []string{"symlink", "/etc/hostname", l.path("ok/sl")} },
			check: func(t *testing.T, l fsLayout) {
				if got, err := os.Readlink(l.path("ok/sl")); err != nil || got != "/etc/hostname" {
					t.Errorf("readlink(ok/sl) = %q, %v; want /etc/hostname", got, err)
				}
			}},

		// truncate
		{name: "truncate file in denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"truncate", l.path("denied/secret")} }},
		{name: "truncate file in denied dir/control", check: content("ok/file", ""),
			args: func(l fsLayout) []string { return []string{"truncate", l.path("ok/file")} }},
		{name: "truncate denied file", want: eacces,
			args: func(l fsLayout) []string { return []string{"truncate", l.path("deniedfile")} }},
		{name: "truncate denied file/control", check: content("okfile", ""),
			args: func(l fsLayout) []string { return []string{"truncate", l.path("okfile")} }},

		// unlink
		{name: "unlink file in denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"unlink", l.path("denied/secret")} }},
		{name: "unlink file in denied dir/control", check: absent("ok/file"),
			args: func(l fsLayout) []string { return []string{"unlink", l.path("ok/file")} }},
		{name: "unlink denied file", want: eacces,
			args: func(l fsLayout) []string { return []string{"unlink", l.path("deniedfile")} }},
		{name: "unlink denied file/control", check: absent("okfile"),
			args: func(l fsLayout) []string { return []string{"unlink", l.path("okfile")} }},

		// path spellings
		{name: "spelling double slash", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.w + "//denied//secret"} }},
		{name: "spelling double slash/control", stdout: okCanary,
			args: func(l fsLayout) []string { return []string{"read", l.w + "//ok//file"} }},
		{name: "spelling dot", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.w + "/./denied/./secret"} }},
		{name: "spelling dot/control", stdout: okCanary,
			args: func(l fsLayout) []string { return []string{"read", l.w + "/./ok/./file"} }},
		{name: "spelling dotdot", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.w + "/ok/../denied/secret"} }},
		{name: "spelling dotdot/control", stdout: okFileCanary,
			args: func(l fsLayout) []string { return []string{"read", l.w + "/ok/../okfile"} }},
		{name: "spelling trailing dotdot to denied file", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.w + "/denied/../deniedfile"} }},
		{name: "spelling trailing dotdot to denied file/control", stdout: okFileCanary,
			args: func(l fsLayout) []string { return []string{"read", l.w + "/ok/../okfile"} }},
		{name: "spelling proc self fd of dirfd", want: eacces,
			args: func(l fsLayout) []string { return []string{"fdread", l.w, "denied/secret"} }},
		{name: "spelling proc self fd of dirfd/control", stdout: okCanary,
			args: func(l fsLayout) []string { return []string{"fdread", l.w, "ok/file"} }},
		{name: "spelling symlink to denied file", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.path("lnk-denied")} }},
		{name: "spelling symlink to denied file/control", stdout: okCanary,
			args: func(l fsLayout) []string { return []string{"read", l.path("lnk-ok")} }},
		{name: "spelling symlink to denied dir", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.path("lnkdir-denied/secret")} }},
		{name: "spelling symlink to denied dir/control", stdout: okCanary,
			args: func(l fsLayout) []string { return []string{"read", l.path("lnkdir-ok/file")} }},
		{name: "spelling write through symlink", want: eacces,
			args: func(l fsLayout) []string { return []string{"write", l.path("lnk-denied"), "pwned"} }},
		{name: "spelling write through symlink/control", check: content("ok/file", "pwned"),
			args: func(l fsLayout) []string { return []string{"write", l.path("lnk-ok"), "pwned"} }},
		{name: "spelling hard link to file in denied dir made before the run", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.path("hard-denied")} }},
		{name: "spelling hard link to denied file made before the run", want: eacces,
			args: func(l fsLayout) []string { return []string{"read", l.path("hard-deniedfile")} }},
		{name: "spelling hard link to file in denied dir made before the run/control", stdout: okCanary,
			args: func(l fsLayout) []string { return []string{"read", l.path("hard-ok")} }},
		{name: "spelling relative from cwd", cwd: ".", want: eacces,
			args: func(fsLayout) []string { return []string{"read", "denied/secret"} }},
		{name: "spelling relative from cwd/control", cwd: ".", stdout: okCanary,
			args: func(fsLayout) []string { return []string{"read", "ok/file"} }},
		{name: "spelling relative dotdot from sibling cwd", cwd: "ok", want: eacces,
			args: func(fsLayout) []string { return []string{"read", "../denied/secret"} }},
		{name: "spelling relative dotdot from sibling cwd/control", cwd: "ok", stdout: okFileCanary,
			args: func(fsLayout) []string { return []string{"read", "../okfile"} }},
		{name: "spelling relative from cwd inside denied dir", cwd: "denied", want: eacces,
			args: func(fsLayout) []string { return []string{"read", "secret"} }},
		{name: "spelling relative from cwd inside denied dir/control", cwd: "ok", stdout: okCanary,
			args: func(fsLayout) []string { return []string{"read", "file"} }},
		{name: "spelling proc self cwd", cwd: ".", want: eacces,
			args: func(fsLayout) []string { return []string{"read", "/proc/self/cwd/denied/secret"} }},
		{name: "spelling proc self cwd/control", cwd: ".", stdout: okCanary,
			args: func(fsLayout) []string { return []string{"read", "/proc/self/cwd/ok/file"} }},
		{name: "spelling relative write from cwd", cwd: ".", want: eacces,
			args: func(fsLayout) []string { return []string{"write", "denied/secret", "pwned"} }},
		{name: "spelling relative unlink from cwd", cwd: ".", want: eacces,
			args: func(fsLayout) []string { return []string{"unlink", "denied/secret"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, w := basePolicy(t)
			l := newFsLayout(t, w)
			p.FsDenied = []string{l.path("denied"), l.path("deniedfile")}
			if tc.cwd != "" {
				p.Cwd = l.path(tc.cwd)
			}
			argv := probe(t, tc.args(l)...)
			res := run(t, p, argv, sandbox.Options{})
			wantExit(t, argv, res, tc.want)
			if tc.stdout != "" && string(res.Stdout) != tc.stdout {
				t.Errorf("Run(%q) stdout = %q, want %q", argv, res.Stdout, tc.stdout)
			}
			if tc.want != 0 && len(res.Stdout) != 0 {
				t.Errorf("Run(%q) stdout = %q, want nothing (a refused read must leak no byte)", argv, res.Stdout)
			}
			if tc.check != nil {
				tc.check(t, l)
			}
			l.checkDeniedIntact(t)
		})
	}
}
