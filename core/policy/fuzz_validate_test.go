package policy

import (
	"errors"
	"path/filepath"
	"testing"
)

// FuzzValidate sets the string options of a policy from fuzzed input.
// Validate must not panic, every error must be a *FieldError wrapping
// ErrInvalid or ErrNotImplemented, the verdict must not depend on the call
// (no hidden state), and an accepted policy must never grant /proc or /sys
// writable in any spelling (attacks.md PROC-06).
func FuzzValidate(f *testing.F) {
	f.Add("/tmp/w", "/usr", "/etc/shadow", "mount", "example.com", "GET example.com/ok", "box", "KEY", "value")
	f.Add("/proc/sys", "/", "/", "", "", "", "", "", "")
	f.Add("/./sys/../sys/kernel", "relative", "/a\x00b", "9p", "a b", " ", "a/b", "A=B", "\x00")
	f.Add("/", "/proc", "/processes", "_x", "::1", "POST h/p\n", "\x7f", "", "")
	f.Fuzz(func(t *testing.T, writable, readable, denied, syscall, host, rule, hostname, envKey, envValue string) {
		p := Default()
		p.FsWritable = []string{writable}
		p.FsReadable = []string{readable}
		p.FsDenied = []string{denied}
		p.DenySyscalls = []string{syscall}
		p.NetAllowHosts = []string{host}
		p.HTTPAllow = []string{rule}
		p.Hostname = hostname
		p.Env = map[string]string{envKey: envValue}
		err := p.Validate()
		if err2 := p.Validate(); (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("Validate is not deterministic: %v, then %v", err, err2)
		}
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !(errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotImplemented)) {
				t.Fatalf("Validate() = %v (%T), want a *FieldError wrapping ErrInvalid or ErrNotImplemented", err, err)
			}
		}
		// The writable check alone: http_allow may be refused as not
		// implemented before anything else decides.
		q := Default()
		q.FsWritable = []string{writable}
		if q.Validate() == nil {
			clean := filepath.Clean(writable)
			for _, tree := range []string{"/proc", "/sys"} {
				if within(clean, tree) || within(tree, clean) {
					t.Fatalf("fs_writable %q accepted: it makes %s writable", writable, tree)
				}
			}
		}
	})
}
