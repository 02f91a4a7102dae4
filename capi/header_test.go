package main

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// readHeader returns include/sandlock.h, the contract these tests compare
// the Go side with.
func readHeader(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../include/sandlock.h")
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	return string(b)
}

// headerInts returns every "NAME = value" enumerator and every
// "#define NAME value" integer macro of the header.
func headerInts(t *testing.T) map[string]int {
	t.Helper()
	h := readHeader(t)
	out := map[string]int{}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\s*(SANDLOCK_[A-Z0-9_]+)\s*=\s*(-?\d+)`),
		regexp.MustCompile(`(?m)^#define\s+(SANDLOCK_[A-Z0-9_]+)\s+\(?(-?\d+)\)?\s*$`),
	} {
		for _, m := range re.FindAllStringSubmatch(h, -1) {
			v, err := strconv.Atoi(m[2])
			if err != nil {
				t.Fatalf("header: %s = %q: %v", m[1], m[2], err)
			}
			if old, dup := out[m[1]]; dup && old != v {
				t.Fatalf("header defines %s twice (%d, %d)", m[1], old, v)
			}
			out[m[1]] = v
		}
	}
	return out
}

// TestVersionMatchesHeader: the header is the one place the version is
// written; the library must report the same.
func TestVersionMatchesHeader(t *testing.T) {
	ints := headerInts(t)
	m := regexp.MustCompile(`(?m)^#define\s+SANDLOCK_VERSION_STRING\s+"([^"]*)"`).FindStringSubmatch(readHeader(t))
	if m == nil {
		t.Fatal("header has no SANDLOCK_VERSION_STRING")
	}
	wantString := m[1]
	wantNumber := ints["SANDLOCK_VERSION_MAJOR"]*10000 + ints["SANDLOCK_VERSION_MINOR"]*100 + ints["SANDLOCK_VERSION_PATCH"]
	parts := strconv.Itoa(ints["SANDLOCK_VERSION_MAJOR"]) + "." + strconv.Itoa(ints["SANDLOCK_VERSION_MINOR"]) + "." + strconv.Itoa(ints["SANDLOCK_VERSION_PATCH"])

	if got := cGoString(capi_version_string()); got != wantString {
		t.Errorf("sandlock_version_string() = %q, header SANDLOCK_VERSION_STRING = %q", got, wantString)
	}
	if parts != wantString {
		t.Errorf("header MAJOR.MINOR.PATCH = %q, SANDLOCK_VERSION_STRING = %q", parts, wantString)
	}
	if got := int(capi_version_number()); got != wantNumber {
		t.Errorf("sandlock_version_number() = %d, header says %d", got, wantNumber)
	}
	if versionString != wantString || versionNumber != wantNumber {
		t.Errorf("Go constants %q/%d, header %q/%d", versionString, versionNumber, wantString, wantNumber)
	}
}

// TestConstantsMatchHeader: the Go copies of the header's codes and enums
// have the header's values, and every status code has a Go name.
func TestConstantsMatchHeader(t *testing.T) {
	ints := headerInts(t)
	want := map[string]int{
		"SANDLOCK_OK": codeOK, "SANDLOCK_EINVAL": codeEINVAL, "SANDLOCK_EPOLICY": codeEPOLICY,
		"SANDLOCK_ENOTSUP": codeENOTSUP, "SANDLOCK_ESPAWN": codeESPAWN, "SANDLOCK_ECONFINE": codeECONFINE,
		"SANDLOCK_ESTATE": codeESTATE, "SANDLOCK_ETIMEOUT": codeETIMEOUT, "SANDLOCK_EOS": codeEOS,
		"SANDLOCK_ENOMEM": codeENOMEM, "SANDLOCK_EINTERNAL": codeEINTERNAL, "SANDLOCK_ENOTIMPL": codeENOTIMPL,
		"SANDLOCK_STDIN": streamStdin, "SANDLOCK_STDOUT": streamStdout, "SANDLOCK_STDERR": streamStderr,
		"SANDLOCK_STDIO_INHERIT": stdioInherit, "SANDLOCK_STDIO_CAPTURE": stdioCapture,
		"SANDLOCK_STDIO_NULL": stdioNull, "SANDLOCK_STDIO_FD": stdioFD,
		"SANDLOCK_FS_ISOLATION_NONE": fsIsolationNone, "SANDLOCK_FS_ISOLATION_OVERLAYFS": fsIsolationOverlayFS,
		"SANDLOCK_FS_ISOLATION_BRANCHFS": fsIsolationBranchFS,
		"SANDLOCK_BRANCH_COMMIT":         branchCommit, "SANDLOCK_BRANCH_ABORT": branchAbort, "SANDLOCK_BRANCH_KEEP": branchKeep,
		"SANDLOCK_REASON_EXITED": reasonExited, "SANDLOCK_REASON_SIGNALED": reasonSignaled,
		"SANDLOCK_REASON_KILLED": reasonKilled, "SANDLOCK_REASON_TIMEOUT": reasonTimeout,
		"SANDLOCK_REASON_MEMORY_LIMIT": reasonMemory,
	}
	for name, v := range want {
		got, ok := ints[name]
		switch {
		case !ok:
			t.Errorf("header lacks %s", name)
		case got != v:
			t.Errorf("header %s = %d, Go side %d", name, got, v)
		}
	}
	for code, name := range codeNames {
		if ints[name] != code {
			t.Errorf("codeNames[%d] = %s, header value %d", code, name, ints[name])
		}
	}
	// Every status code in the header is known here.
	for name, v := range ints {
		if v < 0 && regexp.MustCompile(`^SANDLOCK_E[A-Z]+$`).MatchString(name) && codeNames[v] != name {
			t.Errorf("header status %s = %d has no Go constant", name, v)
		}
	}
}
