package handlers

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPath covers the pure parts of the fs_denied path resolver: splitPath,
// which turns the child's path into the components resolvePath walks one
// by one, and under, which decides whether a resolved path lies in a
// granted tree (for procfs objects the supervisor opens itself).
func FuzzPath(f *testing.F) {
	for _, s := range [][2]string{
		{"/", "/"}, {"", "/tmp"}, {"a//b/", "/a"}, {"/proc/self/fd/3/x", "/proc"},
		{"../..//./", "/"}, {"/processes", "/proc"}, {"/tmp/w", "/tmp/w/"}, {"/tmp/w/../x", "/tmp/w"},
		{strings.Repeat("a/", 100), "/a"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, root string) {
		parts := splitPath(p)
		n := 0
		for _, seg := range strings.Split(p, "/") {
			if seg != "" {
				n++
			}
		}
		if len(parts) != n {
			t.Fatalf("splitPath(%q) = %q: %d components, want %d", p, parts, len(parts), n)
		}
		for _, c := range parts {
			// "." and ".." stay: the resolver gives them their meaning.
			if c == "" || strings.Contains(c, "/") {
				t.Fatalf("splitPath(%q) = %q: bad component %q", p, parts, c)
			}
		}
		if got, want := strings.Join(parts, "/"), strings.Trim(collapseSlashes(p), "/"); got != want {
			t.Fatalf("splitPath(%q) joined = %q, want %q", p, got, want)
		}

		got := under([]byte(p), [][]byte{[]byte(root)})
		// under compares clean absolute paths, which is what readlink of
		// an opened object and EvalSymlinks of a grant return.
		if !filepath.IsAbs(p) || !filepath.IsAbs(root) || filepath.Clean(p) != p || filepath.Clean(root) != root {
			return
		}
		rel, err := filepath.Rel(root, p)
		want := err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
		if got != want {
			t.Fatalf("under(%q, [%q]) = %v, want %v (Rel = %q, %v)", p, root, got, want, rel, err)
		}
		if got && root != "/" && p != root && !strings.HasPrefix(p, root+"/") {
			t.Fatalf("under(%q, [%q]): a sibling with a common prefix counts as inside", p, root)
		}
	})
}

func collapseSlashes(s string) string {
	for strings.Contains(s, "//") {
		s = strings.ReplaceAll(s, "//", "/")
	}
	return s
}
