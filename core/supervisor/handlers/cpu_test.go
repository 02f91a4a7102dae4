package handlers

import (
	"os"
	"strings"
	"testing"
)

const sampleCPUInfo = `processor	: 0
vendor_id	: GenuineIntel
model name	: Test CPU
physical id	: 0
siblings	: 2
core id		: 0
cpu cores	: 2
apicid		: 0
initial apicid	: 0
flags		: fpu sse2

processor	: 1
vendor_id	: GenuineIntel
model name	: Test CPU
physical id	: 0
siblings	: 2
core id		: 1
cpu cores	: 2
apicid		: 2
initial apicid	: 2
flags		: fpu sse2

`

func TestCPUInfo(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		got := string(CPUInfo([]byte(sampleCPUInfo), n))
		blocks := strings.Split(strings.TrimRight(got, "\n"), "\n\n")
		if len(blocks) != n {
			t.Fatalf("CPUInfo(n=%d) has %d blocks, want %d:\n%s", n, len(blocks), n, got)
		}
		for i, b := range blocks {
			fields := map[string]string{}
			for _, line := range strings.Split(b, "\n") {
				k, v, _ := strings.Cut(line, ":")
				fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			want := map[string]string{
				"processor": itoa(i), "core id": itoa(i), "apicid": itoa(i), "initial apicid": itoa(i),
				"physical id": "0", "siblings": itoa(n), "cpu cores": itoa(n),
				"model name": "Test CPU", "flags": "fpu sse2",
			}
			for k, v := range want {
				if fields[k] != v {
					t.Errorf("CPUInfo(n=%d) block %d %q = %q, want %q", n, i, k, fields[k], v)
				}
			}
		}
	}
	if got := CPUInfo([]byte(sampleCPUInfo), 0); got != nil {
		t.Errorf("CPUInfo(n=0) = %q, want nil", got)
	}
	// A cpuinfo without processor blocks still yields n processors.
	if got := string(CPUInfo([]byte("Hardware: x\n"), 2)); got != "processor\t: 0\n\nprocessor\t: 1\n\n" {
		t.Errorf("CPUInfo(no blocks, 2) = %q", got)
	}
}

func TestCPUInfoHost(t *testing.T) {
	host, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	got := string(CPUInfo(host, 3))
	if c := strings.Count(got, "\nprocessor\t: ") + strings.Count(got[:min(len(got), 10)], "processor"); c != 3 {
		t.Errorf("CPUInfo(host, 3) has %d processor lines, want 3:\n%s", c, got)
	}
}

func TestCPUList(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{1, "0\n"}, {2, "0-1\n"}, {16, "0-15\n"}} {
		if got := string(CPUList(tt.n)); got != tt.want {
			t.Errorf("CPUList(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
