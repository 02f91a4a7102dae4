package main

import (
	"os"
	"strings"
	"testing"
)

// TestHostname checks that the sandbox's name is its host name: --name
// when given, sandbox-<pid of the CLI> otherwise, and the real host name
// nowhere.
func TestHostname(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	o := sandlock(t, "run", "--name", "cli-box", "--", "sh", "-c", "hostname; uname -n; cat /etc/hostname")
	if o.code != 0 || o.stdout != "cli-box\ncli-box\ncli-box\n" {
		t.Errorf("--name cli-box: %v, want cli-box three times", o)
	}
	o = sandlock(t, "run", "--", "hostname")
	if got := strings.TrimSpace(o.stdout); o.code != 0 || !strings.HasPrefix(got, "sandbox-") || got == host {
		t.Errorf("default name: %v, want sandbox-<pid>", o)
	}
	t.Run("control: outside", func(t *testing.T) {
		if host == "cli-box" || strings.HasPrefix(host, "sandbox-") {
			t.Skipf("the host is called %q", host)
		}
	})
}
