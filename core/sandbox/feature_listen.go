package sandbox

import (
	"slices"

	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// listen() on an unbound TCP socket autobinds an ephemeral port without a
// Landlock bind check: mediate it unless the policy allows binding port 0
// (an ephemeral port) anyway, or remaps ports (binds are done on behalf).
func init() {
	registerFeature(feature{name: "listen", order: orderNetwork + 1, prepare: func(b *buildCtx) (instance, error) {
		if slices.Contains(b.Policy.NetBind, 0) || b.Policy.PortRemap {
			return nil, nil
		}
		b.Notify("listen")
		return listenInstance{}, nil
	}})
}

type listenInstance struct{}

func (listenInstance) install(s *Sandbox) error {
	if nr, ok := lookupNr("listen"); ok {
		(&handlers.Listen{Index: s.index}).Register(s.sup, nr)
	}
	return nil
}

func (listenInstance) close() {}
