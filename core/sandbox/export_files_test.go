package sandbox

// Test hooks of the file mediation for the external tests.

// RegisterVirtualForTest makes files (absolute path -> content) virtual
// files of every sandbox spawned with Options.Name == name, as a feature
// that calls buildCtx.AddVirtual would.
func RegisterVirtualForTest(name string, files map[string]string) {
	registerFeature(feature{name: "test-virtual-" + name, order: orderVirtual, prepare: func(b *buildCtx) (instance, error) {
		if b.Options.Name != name {
			return nil, nil
		}
		for p, c := range files {
			content := []byte(c)
			b.AddVirtual(p, func(*Sandbox) ([]byte, error) { return content, nil })
		}
		return nil, nil
	}})
}
