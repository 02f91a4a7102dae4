package sandbox

import (
	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// Network-interface virtualisation, on in every sandbox: NETLINK_ROUTE
// sockets are answered by the supervisor with lo only, the
// interface-enumeration ioctls are refused (seccomp.Config.VirtualNet),
// /proc/net/dev and /proc/net/if_inet6 show lo only (feature_procfs.go)
// and /sys/class/net is refused (handlers/procfs.go).
func init() {
	registerFeature(feature{name: "netlink", order: orderVirtual, prepare: func(b *buildCtx) (instance, error) {
		b.Seccomp.VirtualNet = true
		b.Notify("bind", "getsockname")
		return &netlinkInstance{}, nil
	}})
}

type netlinkInstance struct{ nl *handlers.Netlink }

func (in *netlinkInstance) install(s *Sandbox) error {
	in.nl = handlers.NewNetlink(s.index)
	in.nl.Register(s.sup, lookupNr)
	return nil
}

func (in *netlinkInstance) close() {
	if in.nl != nil {
		in.nl.Close()
	}
}
