package main

import (
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

type otherHandle struct{ handleBase }

func mustHandle(t *testing.T, v handle) unsafe.Pointer {
	t.Helper()
	p, err := newHandle(v)
	if err != nil || p == nil {
		t.Fatalf("newHandle = %v, %v", p, err)
	}
	return p
}

func TestLookup(t *testing.T) {
	p := mustHandle(t, &policyHandle{})
	defer release[*policyHandle](p, "p", "sandlock_policy_t")
	o := mustHandle(t, &otherHandle{})
	defer release[*otherHandle](o, "o", "other")
	var onStack int

	for _, tc := range []struct {
		name    string
		key     unsafe.Pointer
		wantErr string
	}{
		{"valid", p, ""},
		{"nil", nil, "p is NULL"},
		{"wrong type", o, "p is not a valid sandlock_policy_t"},
		{"not a handle", unsafe.Pointer(&onStack), "p is not a valid sandlock_policy_t"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := lookup[*policyHandle](tc.key, "p", "sandlock_policy_t")
			switch {
			case tc.wantErr == "" && (err != nil || h == nil):
				t.Errorf("lookup = %v, %v; want the handle", h, err)
			case tc.wantErr != "" && (err == nil || err.Error()[:len(tc.wantErr)] != tc.wantErr || statusOf(err).code != codeEINVAL):
				t.Errorf("lookup error = %v, want EINVAL %q...", err, tc.wantErr)
			}
		})
	}
}

func TestReleaseOnce(t *testing.T) {
	if _, ok, err := release[*policyHandle](nil, "p", "sandlock_policy_t"); ok || err != nil {
		t.Errorf("release(nil) = %v, %v; want a no-op", ok, err)
	}
	p := mustHandle(t, &policyHandle{})
	if _, ok, err := release[*otherHandle](p, "p", "other"); ok || err == nil {
		t.Errorf("release with the wrong type = %v, %v; want an error and no release", ok, err)
	}
	if _, err := lookup[*policyHandle](p, "p", "sandlock_policy_t"); err != nil {
		t.Fatalf("a wrong-type release freed the handle: %v", err)
	}
	if _, ok, err := release[*policyHandle](p, "p", "sandlock_policy_t"); !ok || err != nil {
		t.Errorf("release = %v, %v", ok, err)
	}
	if _, ok, err := release[*policyHandle](p, "p", "sandlock_policy_t"); ok || err == nil {
		t.Errorf("second release = %v, %v; want an error", ok, err)
	}
}

// Many threads freeing one handle at once: exactly one releases it.
func TestReleaseConcurrent(t *testing.T) {
	for range 50 {
		h := &policyHandle{}
		p := mustHandle(t, h)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, ok, _ := release[*policyHandle](p, "p", "sandlock_policy_t"); ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d releases succeeded, want 1", wins.Load())
		}
	}
}
