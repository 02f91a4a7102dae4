package main

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sandlock/sandlock/core/policy"
)

func wantEINVAL(t *testing.T, call string, err error, fragment string) {
	t.Helper()
	if err == nil || statusOf(err).code != codeEINVAL || !strings.Contains(err.Error(), fragment) {
		t.Errorf("%s error = %v, want EINVAL mentioning %q", call, err, fragment)
	}
}

func TestCheckUTF8(t *testing.T) {
	for _, s := range []string{"", "/usr", "héllo", "日本"} {
		if got, err := checkUTF8(s, "path"); got != s || err != nil {
			t.Errorf("checkUTF8(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"\xff", "/tmp/\x80", "a\xc3"} {
		_, err := checkUTF8(s, "path")
		wantEINVAL(t, "checkUTF8("+s+")", err, "path is not valid UTF-8")
	}
}

func TestCheckBool(t *testing.T) {
	for v, want := range map[int64]bool{0: false, 1: true} {
		if got, err := checkBool(v, "on"); got != want || err != nil {
			t.Errorf("checkBool(%d) = %v, %v", v, got, err)
		}
	}
	for _, v := range []int64{-1, 2, 255, math.MinInt32} {
		_, err := checkBool(v, "on")
		wantEINVAL(t, "checkBool", err, "on must be 0 or 1")
	}
}

func TestMsDuration(t *testing.T) {
	max := int64(math.MaxInt64 / int64(time.Millisecond))
	for ms, want := range map[int64]time.Duration{0: 0, 1: time.Millisecond, 1500: 1500 * time.Millisecond, max: time.Duration(max) * time.Millisecond} {
		if got, err := msDuration(ms, "timeout_ms"); got != want || err != nil {
			t.Errorf("msDuration(%d) = %v, %v; want %v", ms, got, err, want)
		}
	}
	_, err := msDuration(-1, "timeout_ms")
	wantEINVAL(t, "msDuration(-1)", err, "must not be negative")
	_, err = msDuration(max+1, "timeout_ms")
	wantEINVAL(t, "msDuration(max+1)", err, "too large")
}

func TestAddPorts(t *testing.T) {
	for _, tc := range []struct {
		name        string
		in          []uint16
		first, last uint16
		want        []uint16
	}{
		{"into empty", nil, 80, 80, []uint16{80}},
		{"before", []uint16{443}, 80, 80, []uint16{80, 443}},
		{"after", []uint16{80}, 443, 443, []uint16{80, 443}},
		{"duplicate", []uint16{80, 443}, 80, 80, []uint16{80, 443}},
		{"range over existing", []uint16{1, 5, 9}, 4, 6, []uint16{1, 4, 5, 6, 9}},
		{"range edges", []uint16{0, 65535}, 65534, 65535, []uint16{0, 65534, 65535}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := addPorts(slices.Clone(tc.in), tc.first, tc.last)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("addPorts(%v, %d, %d) = %v, %v; want %v", tc.in, tc.first, tc.last, got, err, tc.want)
			}
			// What addPorts builds is what Validate accepts.
			p := policy.Default()
			p.NetBind = got
			if err := p.Validate(); err != nil {
				t.Errorf("Validate(%v): %v", got, err)
			}
		})
	}
	all, err := addPorts([]uint16{7}, 0, 65535)
	if err != nil || len(all) != 65536 || all[0] != 0 || all[65535] != 65535 {
		t.Errorf("addPorts(full range) = %d ports, %v", len(all), err)
	}
	_, err = addPorts(nil, 9, 8)
	wantEINVAL(t, "addPorts(9, 8)", err, "ends before it starts")
}

func TestEnums(t *testing.T) {
	for v, want := range map[int64]policy.FsIsolation{
		fsIsolationNone: policy.FsIsolationNone, fsIsolationOverlayFS: policy.FsIsolationOverlayFS,
		fsIsolationBranchFS: policy.FsIsolationBranchFS,
	} {
		if got, err := fsIsolationOf(v); got != want || err != nil {
			t.Errorf("fsIsolationOf(%d) = %q, %v", v, got, err)
		}
	}
	for v, want := range map[int64]policy.BranchAction{
		branchCommit: policy.ActionCommit, branchAbort: policy.ActionAbort, branchKeep: policy.ActionKeep,
	} {
		if got, err := branchActionOf(v); got != want || err != nil {
			t.Errorf("branchActionOf(%d) = %q, %v", v, got, err)
		}
	}
	for _, v := range []int64{-1, 3, math.MaxInt32} {
		_, err := fsIsolationOf(v)
		wantEINVAL(t, "fsIsolationOf", err, "SANDLOCK_FS_ISOLATION_")
		_, err = branchActionOf(v)
		wantEINVAL(t, "branchActionOf", err, "SANDLOCK_BRANCH_")
	}
}

func TestCheckFD(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	fd := int64(f.Fd())
	if err := checkFD(fd, "fd"); err != nil {
		t.Errorf("checkFD(open) = %v", err)
	}
	f.Close()
	wantEINVAL(t, "checkFD(closed)", checkFD(fd, "fd"), "is not open")
	wantEINVAL(t, "checkFD(-1)", checkFD(-1, "fd"), "not a file descriptor")
	wantEINVAL(t, "checkFD(2^40)", checkFD(1<<40, "fd"), "not a file descriptor")
}
