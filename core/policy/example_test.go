package policy_test

import (
	"errors"
	"fmt"

	"github.com/sandlock/sandlock/core/policy"
)

func ExampleNewBuilder() {
	p, err := policy.NewBuilder().
		FsReadable("/usr", "/lib", "/etc").
		FsWritable("/tmp").
		NetConnect(443).
		Build()
	fmt.Println(p.FsWritable, p.NetConnect, p.MaxProcesses, err)

	_, err = policy.NewBuilder().MaxCPU(150).Build()
	fmt.Println(err)

	_, err = policy.NewBuilder().Chroot("/srv/root").Build()
	fmt.Println(err, errors.Is(err, policy.ErrNotImplemented))
	// Output:
	// [/tmp] [443] 64 <nil>
	// policy: max_cpu: must be between 1 and 100, got 150
	// policy: chroot: not implemented yet true
}

func ExampleParseSize() {
	for _, s := range []string{"512M", "1.5G", "4096", "1X"} {
		n, err := policy.ParseSize(s)
		fmt.Println(n, err)
	}
	// Output:
	// 536870912 <nil>
	// 1610612736 <nil>
	// 4096 <nil>
	// 0 policy: parse size "1X": unknown unit "X" (want K, M, G or T)
}

func ExampleParsePorts() {
	ports, err := policy.ParsePorts([]string{"443", "8000-8002,80", "80"})
	fmt.Println(ports, err)
	// Output:
	// [80 443 8000 8001 8002] <nil>
}
