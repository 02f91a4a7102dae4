package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/sandlock/sandlock/core/landlock"
	"github.com/sandlock/sandlock/core/policy"
	"github.com/sandlock/sandlock/core/sandbox"
)

func TestStatusOf(t *testing.T) {
	notImpl := policy.Default()
	notImpl.Chroot = "/srv/root"
	invalid := policy.Default()
	invalid.MaxCPU = 1000
	_, spawnNotImpl := sandbox.Spawn(notImpl, []string{"/bin/true"}, sandbox.Options{})
	_, spawnInvalid := sandbox.Spawn(invalid, []string{"/bin/true"}, sandbox.Options{})

	for _, tc := range []struct {
		name      string
		err       error
		wantCode  int
		wantErrno int
		wantMsg   string
	}{
		{"nil", nil, codeOK, 0, ""},
		{"argument", errArg("p is NULL"), codeEINVAL, 0, "p is NULL"},
		{"boundary code", errCode(codeETIMEOUT, "still running"), codeETIMEOUT, 0, "still running"},
		{"validate invalid", invalid.Validate(), codeEPOLICY, 0, "max_cpu"},
		{"validate not implemented", notImpl.Validate(), codeENOTIMPL, 0, "chroot"},
		{"spawn invalid", spawnInvalid, codeEPOLICY, 0, "max_cpu"},
		{"spawn not implemented", spawnNotImpl, codeENOTIMPL, 0, "chroot"},
		{"policy kind", fmt.Errorf("x: %w", sandbox.ErrPolicy), codeEPOLICY, 0, "x:"},
		{"confinement kind", fmt.Errorf("x: %w", sandbox.ErrConfinement), codeECONFINE, 0, "x:"},
		{"spawn kind with errno", fmt.Errorf("%w: %w", sandbox.ErrSpawn, syscall.EAGAIN), codeESPAWN, int(syscall.EAGAIN), "resource"},
		{"state kind", fmt.Errorf("x: %w", sandbox.ErrState), codeESTATE, 0, "x:"},
		{"landlock missing under confinement", errors.Join(sandbox.ErrConfinement, landlock.ErrUnsupported), codeENOTSUP, 0, "lacks"},
		{"not implemented under policy", errors.Join(sandbox.ErrPolicy, policy.ErrNotImplemented), codeENOTIMPL, 0, "not implemented"},
		{"not implemented under confinement", errors.Join(sandbox.ErrConfinement, policy.ErrNotImplemented), codeENOTIMPL, 0, "not implemented"},
		{"bare errno", &fs.PathError{Op: "open", Path: "/dev/null", Err: syscall.EMFILE}, codeEOS, int(syscall.EMFILE), "open /dev/null"},
		{"unclassified", errors.New("boom"), codeEINTERNAL, 0, "internal error (unclassified): boom"},
		{"confine", sandbox.Confine(policy.Default()), codeENOTSUP, 0, "confine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := statusOf(tc.err)
			if st.code != tc.wantCode || st.errno != tc.wantErrno || !strings.Contains(st.msg, tc.wantMsg) {
				t.Errorf("statusOf(%v) = {%s %d %q}, want {%s %d ...%q...}", tc.err,
					codeNames[st.code], st.errno, st.msg, codeNames[tc.wantCode], tc.wantErrno, tc.wantMsg)
			}
		})
	}
}

// Every row of the table is reachable: no kind is shadowed by an earlier
// row unless the order says so.
func TestErrorTableDistinctKinds(t *testing.T) {
	seen := map[error]bool{}
	for _, row := range errorTable {
		if seen[row.kind] {
			t.Errorf("kind %v listed twice", row.kind)
		}
		seen[row.kind] = true
		if got := statusOf(fmt.Errorf("wrapped: %w", row.kind)).code; got != row.code {
			t.Errorf("statusOf(wrapped %v) = %s, want %s", row.kind, codeNames[got], codeNames[row.code])
		}
	}
}

func nilPolicy() *policyHandle { return nil }

func TestPanicStatus(t *testing.T) {
	var st status
	func() {
		defer func() { st = panicStatus(recover()) }()
		nilPolicy().snapshot() // a runtime panic, as a bug would cause
	}()
	if st.code != codeEINTERNAL || !strings.Contains(st.msg, "nil pointer dereference") ||
		!strings.Contains(st.msg, "(*policyHandle).snapshot capi/objects.go:") {
		t.Errorf("panicStatus = {%s %q}, want EINTERNAL naming the panic and its site", codeNames[st.code], st.msg)
	}
}
