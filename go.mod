module github.com/sandlock/sandlock

go 1.26.8

require golang.org/x/sys v0.50.0

require (
	github.com/elastic/go-seccomp-bpf v1.6.0 // indirect
	github.com/landlock-lsm/go-landlock v0.11.2 // indirect
	github.com/mattn/go-pointer v0.0.1 // indirect
	golang.org/x/net v0.62.0 // indirect
	kernel.org/pub/linux/libs/security/libcap/psx v1.2.78 // indirect
)
