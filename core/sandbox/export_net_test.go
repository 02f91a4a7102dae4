package sandbox

import (
	"context"
	"errors"
	"net"

	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// Test hooks of the network mediation for the external tests.

func init() {
	// Tests never query a name server: /etc/hosts answers, anything else
	// fails to resolve.
	netResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
}

// VirtualFileForTest returns the synthetic content a feature registered
// for path in s, and whether there is one.
func VirtualFileForTest(s *Sandbox, path string) ([]byte, bool, error) {
	gen, ok := s.virtual[path]
	if !ok {
		return nil, false, nil
	}
	b, err := gen(s)
	return b, true, err
}

// RegisterNetHookForTest makes h the network hook of every sandbox spawned
// with Options.Name == name.
func RegisterNetHookForTest(name string, h handlers.NetHook) {
	registerNetHook(func(b *buildCtx) netHookFactory {
		if b.Options.Name != name {
			return nil
		}
		return func(*Sandbox) handlers.NetHook { return h }
	})
}
