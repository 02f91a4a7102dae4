package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bssSource holds 40 MiB in its bss (mapped by execve), then sleeps 3 s
// without any memory call: no libc, whose start-up would allocate. Three
// of them under -m 64M exceed the budget by more than the supervisor's
// slack, so the sandbox is killed.
const bssSource = `static char big[40 << 20];
void _start(void)
{
	for (unsigned long i = 0; i < sizeof big; i += 4096)
		big[i] = 1;
	long ts[2] = {3, 0};
#if defined(__x86_64__)
	__asm__ volatile("syscall" : : "a"(35L), "D"(ts), "S"(0L) : "rcx", "r11", "memory");
	__asm__ volatile("syscall" : : "a"(60L), "D"(0L) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x0 __asm__("x0") = (long)ts;
	register long x1 __asm__("x1") = 0;
	register long x8 __asm__("x8") = 101;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x8) : "memory");
	x0 = 0;
	x8 = 93;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8) : "memory");
#else
#error unsupported architecture
#endif
	for (;;)
		;
}
`

// TestMemoryLimitMessage: a sandbox killed by max_memory exits 137 like
// any SIGKILL, and the CLI says why; a SIGKILL of the command's own gets
// no such message, and without -m the programs run to the end.
func TestMemoryLimitMessage(t *testing.T) {
	dir := tempDir(t)
	src, bin := filepath.Join(dir, "bss.c"), filepath.Join(dir, "bss")
	writeFile(t, src, bssSource)
	if out, err := exec.Command("gcc", "-O0", "-static", "-nostdlib", "-fno-stack-protector", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc bss.c (gcc is part of the test environment): %v: %s", err, out)
	}
	script := bin + " & " + bin + " & " + bin + " & wait"
	const msg = "exceeded its memory limit (--max-memory 64M)"

	o := sandlock(t, join([]string{"run", "-m", "64M", "-r", dir, "-w", "/dev/null"}, system(), []string{"--", "sh", "-c", script})...)
	if o.code != 128+9 || !strings.Contains(o.stderr, msg) {
		t.Errorf("3 x 40M bss under -m 64M: %v; want exit 137 and %q on stderr", o, msg)
	}

	o = sandlock(t, "run", "-m", "64M", "--", "sh", "-c", "kill -KILL $$")
	if o.code != 128+9 || strings.Contains(o.stderr, "memory limit") {
		t.Errorf("control: own SIGKILL under -m 64M: %v; want exit 137 and no memory message", o)
	}
	o = sandlock(t, join([]string{"run", "-r", dir, "-w", "/dev/null"}, system(), []string{"--", "sh", "-c", script})...)
	if o.code != 0 || strings.Contains(o.stderr, "memory limit") {
		t.Errorf("control: without -m: %v; want exit 0", o)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[uint64]string{64 << 20: "64M", 3 << 30: "3G", 1 << 40: "1T", 1536 << 10: "1536K", 1000: "1000", 0: "0"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
