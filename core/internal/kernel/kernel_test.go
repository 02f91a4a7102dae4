package kernel

import (
	"os"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		ppid      int
		start     uint64
		wantError bool
	}{
		{"plain", "42 (sh) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0", 7, 12345, false},
		{"comm with paren and space", "42 (a) b (c) R 9 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0", 9, 777, false},
		{"truncated", "42 (x) S 1 2", 0, 0, true},
		{"no comm", "garbage", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ppid, start, err := parseStat([]byte(tc.in))
			if (err != nil) != tc.wantError {
				t.Fatalf("parseStat(%q) err = %v, want error %v", tc.in, err, tc.wantError)
			}
			if err == nil && (ppid != tc.ppid || start != tc.start) {
				t.Fatalf("parseStat(%q) = %d, %d, want %d, %d", tc.in, ppid, start, tc.ppid, tc.start)
			}
		})
	}
}

func TestNotifSizesMatchKernel(t *testing.T) {
	s, err := GetNotifSizes()
	if err != nil {
		t.Fatalf("SECCOMP_GET_NOTIF_SIZES: %v", err)
	}
	if int(s.Notif) != NotifSize || int(s.Resp) != RespSize {
		t.Fatalf("kernel sizes notif=%d resp=%d, ours notif=%d resp=%d", s.Notif, s.Resp, NotifSize, RespSize)
	}
}

func TestSelfStatus(t *testing.T) {
	st, err := ReadTaskStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.Tgid != os.Getpid() || st.PPid != os.Getppid() {
		t.Fatalf("ReadTaskStatus(self) = %+v, want tgid %d ppid %d", st, os.Getpid(), os.Getppid())
	}
	ppid, start, err := StatPpidStart(os.Getpid())
	if err != nil || ppid != os.Getppid() || start == 0 {
		t.Fatalf("StatPpidStart(self) = %d, %d, %v", ppid, start, err)
	}
	if last, err := LastPid(); err != nil || last <= 0 {
		t.Fatalf("LastPid() = %d, %v", last, err)
	}
}

func TestReadStringAcrossPages(t *testing.T) {
	buf := make([]byte, 8192)
	s := "hello-world"
	// Place the string so that it straddles a page boundary.
	off := 4096 - 5
	copy(buf[off:], s)
	addr := uint64(uintptrOf(&buf[off]))
	got, err := ReadString(os.Getpid(), addr, nil, 4096)
	if err != nil || string(got) != s {
		t.Fatalf("ReadString = %q, %v, want %q", got, err, s)
	}
	if _, err := ReadString(os.Getpid(), addr, nil, 3); err == nil {
		t.Fatalf("ReadString with max 3 succeeded, want ENAMETOOLONG")
	}
}
