package sandbox

import (
	"strings"
	"unicode"

	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// hostname: uname(2) and /etc/hostname (and /proc/sys/kernel/hostname)
// show the policy's Hostname or, when it is empty, the sandbox's name
// (Options.Name) if that is a valid host name.
func init() {
	registerFeature(feature{name: "hostname", order: orderVirtual, prepare: func(b *buildCtx) (instance, error) {
		name := b.Policy.Hostname
		if name == "" && validHostname(b.Options.Name) {
			name = b.Options.Name
		}
		if name == "" {
			return nil, nil
		}
		h, err := handlers.NewHostname(name)
		if err != nil {
			return nil, wrapKind(ErrSpawn, err)
		}
		b.Notify("uname")
		content := []byte(name + "\n")
		gen := func(*Sandbox) ([]byte, error) { return content, nil }
		b.AddVirtual("/etc/hostname", gen)
		b.AddVirtual("/proc/sys/kernel/hostname", gen)
		return &hostnameInstance{h: h}, nil
	}})
}

// validHostname mirrors the policy's check (core/policy checkHostname):
// servable as the uname nodename (at most 64 bytes) and as a one-line file.
func validHostname(h string) bool {
	return h != "" && len(h) <= 64 && !strings.ContainsRune(h, '/') && strings.IndexFunc(h, unicode.IsControl) < 0
}

type hostnameInstance struct{ h *handlers.Hostname }

func (in *hostnameInstance) install(s *Sandbox) error {
	in.h.Register(s.sup, lookupNr)
	return nil
}

func (in *hostnameInstance) close() {}
