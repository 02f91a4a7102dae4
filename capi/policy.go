package main

/*
#include "sandlock.h"
*/
import "C"

import (
	"time"
	"unsafe"

	"github.com/sandlock/sandlock/core/policy"
)

func policyArg(p *C.sandlock_policy_t, name string) (*policyHandle, error) {
	return lookup[*policyHandle](unsafe.Pointer(p), name, "sandlock_policy_t")
}

//export capi_policy_new
func capi_policy_new(out **C.sandlock_policy_t) C.int {
	return call("sandlock_policy_new", func() error {
		if out == nil {
			return errArg("out is NULL")
		}
		key, err := newHandle(&policyHandle{p: policy.Default()})
		*out = (*C.sandlock_policy_t)(key)
		return err
	})
}

//export capi_policy_free
func capi_policy_free(p *C.sandlock_policy_t) {
	call("sandlock_policy_free", func() error {
		h, ok, err := release[*policyHandle](unsafe.Pointer(p), "p", "sandlock_policy_t")
		if ok {
			h.setPolicyFn(nil)
		}
		return err
	})
}

//export capi_policy_clone
func capi_policy_clone(p *C.sandlock_policy_t, out **C.sandlock_policy_t) C.int {
	return call("sandlock_policy_clone", func() error {
		if out == nil {
			return errArg("out is NULL")
		}
		*out = nil
		h, err := policyArg(p, "p")
		if err != nil {
			return err
		}
		pfn := h.policyFn()
		key, err := newHandle(&policyHandle{p: h.snapshot(), pfn: pfn})
		if err != nil {
			pfn.unref()
		}
		*out = (*C.sandlock_policy_t)(key)
		return err
	})
}

//export capi_policy_validate
func capi_policy_validate(p *C.sandlock_policy_t) C.int {
	return call("sandlock_policy_validate", func() error {
		h, err := policyArg(p, "p")
		if err != nil {
			return err
		}
		snap := h.snapshot()
		return snap.Validate()
	})
}

// setPolicy is the body of every setter: look p up, then run f under the
// policy's write lock. f checks its arguments before changing anything.
func setPolicy(fn string, p *C.sandlock_policy_t, f func(*policy.Policy) error) C.int {
	return call(fn, func() error {
		h, err := policyArg(p, "p")
		if err != nil {
			return err
		}
		return h.update(f)
	})
}

// Setter shapes shared by many options.

func addString(fn string, p *C.sandlock_policy_t, arg *C.char, name string, list func(*policy.Policy) *[]string) C.int {
	return setPolicy(fn, p, func(q *policy.Policy) error {
		s, err := goString(arg, name)
		if err != nil {
			return err
		}
		l := list(q)
		*l = append(*l, s)
		return nil
	})
}

func setString(fn string, p *C.sandlock_policy_t, arg *C.char, name string, field func(*policy.Policy) *string) C.int {
	return setPolicy(fn, p, func(q *policy.Policy) error {
		s, err := goString(arg, name)
		if err != nil {
			return err
		}
		*field(q) = s
		return nil
	})
}

func setBool(fn string, p *C.sandlock_policy_t, on C.int, field func(*policy.Policy) *bool) C.int {
	return setPolicy(fn, p, func(q *policy.Policy) error {
		b, err := checkBool(int64(on), "on")
		if err != nil {
			return err
		}
		*field(q) = b
		return nil
	})
}

func addPortRange(fn string, p *C.sandlock_policy_t, first, last C.uint16_t, list func(*policy.Policy) *[]uint16) C.int {
	return setPolicy(fn, p, func(q *policy.Policy) error {
		l := list(q)
		ports, err := addPorts(*l, uint16(first), uint16(last))
		if err != nil {
			return err
		}
		*l = ports
		return nil
	})
}

// clearList sets a list back to its default, nil; setEmpty gives an option
// whose nil and empty values differ an empty list.
func clearList[T any](fn string, p *C.sandlock_policy_t, list func(*policy.Policy) *[]T) C.int {
	return setPolicy(fn, p, func(q *policy.Policy) error { *list(q) = nil; return nil })
}

func setEmpty[T any](fn string, p *C.sandlock_policy_t, list func(*policy.Policy) *[]T) C.int {
	return setPolicy(fn, p, func(q *policy.Policy) error { *list(q) = []T{}; return nil })
}

func setInt(fn string, p *C.sandlock_policy_t, v int, field func(*policy.Policy) *int) C.int {
	return setPolicy(fn, p, func(q *policy.Policy) error { *field(q) = v; return nil })
}

func setUint64(fn string, p *C.sandlock_policy_t, v uint64, field func(*policy.Policy) *uint64) C.int {
	return setPolicy(fn, p, func(q *policy.Policy) error { *field(q) = v; return nil })
}

// Field accessors, in the order of the header.
func fsWritable(q *policy.Policy) *[]string    { return &q.FsWritable }
func fsReadable(q *policy.Policy) *[]string    { return &q.FsReadable }
func fsDenied(q *policy.Policy) *[]string      { return &q.FsDenied }
func denySyscalls(q *policy.Policy) *[]string  { return &q.DenySyscalls }
func allowSyscalls(q *policy.Policy) *[]string { return &q.AllowSyscalls }
func netAllowHosts(q *policy.Policy) *[]string { return &q.NetAllowHosts }
func netBind(q *policy.Policy) *[]uint16       { return &q.NetBind }
func netConnect(q *policy.Policy) *[]uint16    { return &q.NetConnect }
func httpAllow(q *policy.Policy) *[]string     { return &q.HTTPAllow }
func httpDeny(q *policy.Policy) *[]string      { return &q.HTTPDeny }
func httpPorts(q *policy.Policy) *[]uint16     { return &q.HTTPPorts }
func cpuCores(q *policy.Policy) *[]int         { return &q.CPUCores }
func gpuDevices(q *policy.Policy) *[]int       { return &q.GPUDevices }

// --- Filesystem

//export capi_policy_add_fs_writable
func capi_policy_add_fs_writable(p *C.sandlock_policy_t, path *C.char) C.int {
	return addString("sandlock_policy_add_fs_writable", p, path, "path", fsWritable)
}

//export capi_policy_clear_fs_writable
func capi_policy_clear_fs_writable(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_fs_writable", p, fsWritable)
}

//export capi_policy_add_fs_readable
func capi_policy_add_fs_readable(p *C.sandlock_policy_t, path *C.char) C.int {
	return addString("sandlock_policy_add_fs_readable", p, path, "path", fsReadable)
}

//export capi_policy_clear_fs_readable
func capi_policy_clear_fs_readable(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_fs_readable", p, fsReadable)
}

//export capi_policy_add_fs_denied
func capi_policy_add_fs_denied(p *C.sandlock_policy_t, path *C.char) C.int {
	return addString("sandlock_policy_add_fs_denied", p, path, "path", fsDenied)
}

//export capi_policy_clear_fs_denied
func capi_policy_clear_fs_denied(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_fs_denied", p, fsDenied)
}

// --- System calls

//export capi_policy_add_deny_syscalls
func capi_policy_add_deny_syscalls(p *C.sandlock_policy_t, name *C.char) C.int {
	return addString("sandlock_policy_add_deny_syscalls", p, name, "name", denySyscalls)
}

//export capi_policy_set_deny_syscalls_empty
func capi_policy_set_deny_syscalls_empty(p *C.sandlock_policy_t) C.int {
	return setEmpty("sandlock_policy_set_deny_syscalls_empty", p, denySyscalls)
}

//export capi_policy_clear_deny_syscalls
func capi_policy_clear_deny_syscalls(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_deny_syscalls", p, denySyscalls)
}

//export capi_policy_add_allow_syscalls
func capi_policy_add_allow_syscalls(p *C.sandlock_policy_t, name *C.char) C.int {
	return addString("sandlock_policy_add_allow_syscalls", p, name, "name", allowSyscalls)
}

//export capi_policy_set_allow_syscalls_empty
func capi_policy_set_allow_syscalls_empty(p *C.sandlock_policy_t) C.int {
	return setEmpty("sandlock_policy_set_allow_syscalls_empty", p, allowSyscalls)
}

//export capi_policy_clear_allow_syscalls
func capi_policy_clear_allow_syscalls(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_allow_syscalls", p, allowSyscalls)
}

// --- Network

//export capi_policy_add_net_allow_hosts
func capi_policy_add_net_allow_hosts(p *C.sandlock_policy_t, host *C.char) C.int {
	return addString("sandlock_policy_add_net_allow_hosts", p, host, "host", netAllowHosts)
}

//export capi_policy_set_net_allow_hosts_empty
func capi_policy_set_net_allow_hosts_empty(p *C.sandlock_policy_t) C.int {
	return setEmpty("sandlock_policy_set_net_allow_hosts_empty", p, netAllowHosts)
}

//export capi_policy_clear_net_allow_hosts
func capi_policy_clear_net_allow_hosts(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_net_allow_hosts", p, netAllowHosts)
}

//export capi_policy_add_net_bind
func capi_policy_add_net_bind(p *C.sandlock_policy_t, port C.uint16_t) C.int {
	return addPortRange("sandlock_policy_add_net_bind", p, port, port, netBind)
}

//export capi_policy_add_net_bind_range
func capi_policy_add_net_bind_range(p *C.sandlock_policy_t, first, last C.uint16_t) C.int {
	return addPortRange("sandlock_policy_add_net_bind_range", p, first, last, netBind)
}

//export capi_policy_clear_net_bind
func capi_policy_clear_net_bind(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_net_bind", p, netBind)
}

//export capi_policy_add_net_connect
func capi_policy_add_net_connect(p *C.sandlock_policy_t, port C.uint16_t) C.int {
	return addPortRange("sandlock_policy_add_net_connect", p, port, port, netConnect)
}

//export capi_policy_add_net_connect_range
func capi_policy_add_net_connect_range(p *C.sandlock_policy_t, first, last C.uint16_t) C.int {
	return addPortRange("sandlock_policy_add_net_connect_range", p, first, last, netConnect)
}

//export capi_policy_clear_net_connect
func capi_policy_clear_net_connect(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_net_connect", p, netConnect)
}

//export capi_policy_set_no_raw_sockets
func capi_policy_set_no_raw_sockets(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_no_raw_sockets", p, on, func(q *policy.Policy) *bool { return &q.NoRawSockets })
}

//export capi_policy_set_no_udp
func capi_policy_set_no_udp(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_no_udp", p, on, func(q *policy.Policy) *bool { return &q.NoUDP })
}

//export capi_policy_set_port_remap
func capi_policy_set_port_remap(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_port_remap", p, on, func(q *policy.Policy) *bool { return &q.PortRemap })
}

// --- HTTP

//export capi_policy_add_http_allow
func capi_policy_add_http_allow(p *C.sandlock_policy_t, rule *C.char) C.int {
	return addString("sandlock_policy_add_http_allow", p, rule, "rule", httpAllow)
}

//export capi_policy_clear_http_allow
func capi_policy_clear_http_allow(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_http_allow", p, httpAllow)
}

//export capi_policy_add_http_deny
func capi_policy_add_http_deny(p *C.sandlock_policy_t, rule *C.char) C.int {
	return addString("sandlock_policy_add_http_deny", p, rule, "rule", httpDeny)
}

//export capi_policy_clear_http_deny
func capi_policy_clear_http_deny(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_http_deny", p, httpDeny)
}

//export capi_policy_add_http_ports
func capi_policy_add_http_ports(p *C.sandlock_policy_t, port C.uint16_t) C.int {
	return addPortRange("sandlock_policy_add_http_ports", p, port, port, httpPorts)
}

//export capi_policy_add_http_ports_range
func capi_policy_add_http_ports_range(p *C.sandlock_policy_t, first, last C.uint16_t) C.int {
	return addPortRange("sandlock_policy_add_http_ports_range", p, first, last, httpPorts)
}

//export capi_policy_clear_http_ports
func capi_policy_clear_http_ports(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_http_ports", p, httpPorts)
}

//export capi_policy_set_https_ca
func capi_policy_set_https_ca(p *C.sandlock_policy_t, path *C.char) C.int {
	return setString("sandlock_policy_set_https_ca", p, path, "path", func(q *policy.Policy) *string { return &q.HTTPSCA })
}

//export capi_policy_set_https_key
func capi_policy_set_https_key(p *C.sandlock_policy_t, path *C.char) C.int {
	return setString("sandlock_policy_set_https_key", p, path, "path", func(q *policy.Policy) *string { return &q.HTTPSKey })
}

// --- Resources

//export capi_policy_set_max_memory
func capi_policy_set_max_memory(p *C.sandlock_policy_t, bytes C.uint64_t) C.int {
	return setUint64("sandlock_policy_set_max_memory", p, uint64(bytes), func(q *policy.Policy) *uint64 { return &q.MaxMemory })
}

//export capi_policy_set_max_processes
func capi_policy_set_max_processes(p *C.sandlock_policy_t, n C.uint32_t) C.int {
	return setInt("sandlock_policy_set_max_processes", p, int(n), func(q *policy.Policy) *int { return &q.MaxProcesses })
}

//export capi_policy_set_max_open_files
func capi_policy_set_max_open_files(p *C.sandlock_policy_t, n C.uint64_t) C.int {
	return setUint64("sandlock_policy_set_max_open_files", p, uint64(n), func(q *policy.Policy) *uint64 { return &q.MaxOpenFiles })
}

//export capi_policy_set_max_cpu
func capi_policy_set_max_cpu(p *C.sandlock_policy_t, percent C.uint32_t) C.int {
	return setInt("sandlock_policy_set_max_cpu", p, int(percent), func(q *policy.Policy) *int { return &q.MaxCPU })
}

//export capi_policy_add_cpu_cores
func capi_policy_add_cpu_cores(p *C.sandlock_policy_t, core C.uint32_t) C.int {
	return setPolicy("sandlock_policy_add_cpu_cores", p, func(q *policy.Policy) error {
		q.CPUCores = append(q.CPUCores, int(core))
		return nil
	})
}

//export capi_policy_clear_cpu_cores
func capi_policy_clear_cpu_cores(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_cpu_cores", p, cpuCores)
}

//export capi_policy_set_num_cpus
func capi_policy_set_num_cpus(p *C.sandlock_policy_t, n C.uint32_t) C.int {
	return setInt("sandlock_policy_set_num_cpus", p, int(n), func(q *policy.Policy) *int { return &q.NumCPUs })
}

//export capi_policy_add_gpu_devices
func capi_policy_add_gpu_devices(p *C.sandlock_policy_t, index C.uint32_t) C.int {
	return setPolicy("sandlock_policy_add_gpu_devices", p, func(q *policy.Policy) error {
		q.GPUDevices = append(q.GPUDevices, int(index))
		return nil
	})
}

//export capi_policy_set_gpu_devices_empty
func capi_policy_set_gpu_devices_empty(p *C.sandlock_policy_t) C.int {
	return setEmpty("sandlock_policy_set_gpu_devices_empty", p, gpuDevices)
}

//export capi_policy_clear_gpu_devices
func capi_policy_clear_gpu_devices(p *C.sandlock_policy_t) C.int {
	return clearList("sandlock_policy_clear_gpu_devices", p, gpuDevices)
}

// --- Determinism and process settings

//export capi_policy_set_no_coredump
func capi_policy_set_no_coredump(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_no_coredump", p, on, func(q *policy.Policy) *bool { return &q.NoCoredump })
}

//export capi_policy_set_no_randomize_memory
func capi_policy_set_no_randomize_memory(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_no_randomize_memory", p, on, func(q *policy.Policy) *bool { return &q.NoRandomizeMemory })
}

//export capi_policy_set_no_huge_pages
func capi_policy_set_no_huge_pages(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_no_huge_pages", p, on, func(q *policy.Policy) *bool { return &q.NoHugePages })
}

//export capi_policy_set_deterministic_dirs
func capi_policy_set_deterministic_dirs(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_deterministic_dirs", p, on, func(q *policy.Policy) *bool { return &q.DeterministicDirs })
}

//export capi_policy_set_clean_env
func capi_policy_set_clean_env(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_clean_env", p, on, func(q *policy.Policy) *bool { return &q.CleanEnv })
}

//export capi_policy_set_allow_degraded
func capi_policy_set_allow_degraded(p *C.sandlock_policy_t, on C.int) C.int {
	return setBool("sandlock_policy_set_allow_degraded", p, on, func(q *policy.Policy) *bool { return &q.AllowDegraded })
}

//export capi_policy_set_random_seed
func capi_policy_set_random_seed(p *C.sandlock_policy_t, seed C.uint64_t) C.int {
	return setPolicy("sandlock_policy_set_random_seed", p, func(q *policy.Policy) error {
		v := uint64(seed)
		q.RandomSeed = &v
		return nil
	})
}

//export capi_policy_clear_random_seed
func capi_policy_clear_random_seed(p *C.sandlock_policy_t) C.int {
	return setPolicy("sandlock_policy_clear_random_seed", p, func(q *policy.Policy) error {
		q.RandomSeed = nil
		return nil
	})
}

//export capi_policy_set_time_start
func capi_policy_set_time_start(p *C.sandlock_policy_t, sec C.int64_t, nsec C.uint32_t) C.int {
	return setPolicy("sandlock_policy_set_time_start", p, func(q *policy.Policy) error {
		if nsec >= 1e9 {
			return errArg("nanoseconds must be below 1000000000, got %d", uint32(nsec))
		}
		t := time.Unix(int64(sec), int64(nsec)).UTC()
		q.TimeStart = &t
		return nil
	})
}

//export capi_policy_clear_time_start
func capi_policy_clear_time_start(p *C.sandlock_policy_t) C.int {
	return setPolicy("sandlock_policy_clear_time_start", p, func(q *policy.Policy) error {
		q.TimeStart = nil
		return nil
	})
}

//export capi_policy_set_hostname
func capi_policy_set_hostname(p *C.sandlock_policy_t, name *C.char) C.int {
	return setString("sandlock_policy_set_hostname", p, name, "name", func(q *policy.Policy) *string { return &q.Hostname })
}

//export capi_policy_set_env
func capi_policy_set_env(p *C.sandlock_policy_t, key, value *C.char) C.int {
	return setPolicy("sandlock_policy_set_env", p, func(q *policy.Policy) error {
		k, err := goString(key, "key")
		if err != nil {
			return err
		}
		v, err := goString(value, "value")
		if err != nil {
			return err
		}
		if q.Env == nil {
			q.Env = map[string]string{}
		}
		q.Env[k] = v
		return nil
	})
}

//export capi_policy_clear_env
func capi_policy_clear_env(p *C.sandlock_policy_t) C.int {
	return setPolicy("sandlock_policy_clear_env", p, func(q *policy.Policy) error {
		q.Env = nil
		return nil
	})
}

//export capi_policy_set_uid
func capi_policy_set_uid(p *C.sandlock_policy_t, uid C.uint32_t) C.int {
	return setPolicy("sandlock_policy_set_uid", p, func(q *policy.Policy) error {
		v := int(uid)
		q.UID = &v
		return nil
	})
}

//export capi_policy_clear_uid
func capi_policy_clear_uid(p *C.sandlock_policy_t) C.int {
	return setPolicy("sandlock_policy_clear_uid", p, func(q *policy.Policy) error {
		q.UID = nil
		return nil
	})
}

//export capi_policy_set_cwd
func capi_policy_set_cwd(p *C.sandlock_policy_t, dir *C.char) C.int {
	return setString("sandlock_policy_set_cwd", p, dir, "dir", func(q *policy.Policy) *string { return &q.Cwd })
}

// --- Root and copy-on-write

//export capi_policy_set_chroot
func capi_policy_set_chroot(p *C.sandlock_policy_t, dir *C.char) C.int {
	return setString("sandlock_policy_set_chroot", p, dir, "dir", func(q *policy.Policy) *string { return &q.Chroot })
}

//export capi_policy_add_fs_mount
func capi_policy_add_fs_mount(p *C.sandlock_policy_t, virt, host *C.char) C.int {
	return setPolicy("sandlock_policy_add_fs_mount", p, func(q *policy.Policy) error {
		v, err := goString(virt, "virt")
		if err != nil {
			return err
		}
		h, err := goString(host, "host")
		if err != nil {
			return err
		}
		if q.FsMount == nil {
			q.FsMount = map[string]string{}
		}
		q.FsMount[v] = h
		return nil
	})
}

//export capi_policy_clear_fs_mount
func capi_policy_clear_fs_mount(p *C.sandlock_policy_t) C.int {
	return setPolicy("sandlock_policy_clear_fs_mount", p, func(q *policy.Policy) error {
		q.FsMount = nil
		return nil
	})
}

//export capi_policy_set_workdir
func capi_policy_set_workdir(p *C.sandlock_policy_t, dir *C.char) C.int {
	return setString("sandlock_policy_set_workdir", p, dir, "dir", func(q *policy.Policy) *string { return &q.Workdir })
}

//export capi_policy_set_fs_storage
func capi_policy_set_fs_storage(p *C.sandlock_policy_t, dir *C.char) C.int {
	return setString("sandlock_policy_set_fs_storage", p, dir, "dir", func(q *policy.Policy) *string { return &q.FsStorage })
}

//export capi_policy_set_fs_isolation
func capi_policy_set_fs_isolation(p *C.sandlock_policy_t, isolation C.int) C.int {
	return setPolicy("sandlock_policy_set_fs_isolation", p, func(q *policy.Policy) error {
		f, err := fsIsolationOf(int64(isolation))
		if err != nil {
			return err
		}
		q.FsIsolation = f
		return nil
	})
}

//export capi_policy_set_max_disk
func capi_policy_set_max_disk(p *C.sandlock_policy_t, bytes C.uint64_t) C.int {
	return setUint64("sandlock_policy_set_max_disk", p, uint64(bytes), func(q *policy.Policy) *uint64 { return &q.MaxDisk })
}

//export capi_policy_set_on_exit
func capi_policy_set_on_exit(p *C.sandlock_policy_t, action C.int) C.int {
	return setPolicy("sandlock_policy_set_on_exit", p, func(q *policy.Policy) error {
		a, err := branchActionOf(int64(action))
		if err != nil {
			return err
		}
		q.OnExit = a
		return nil
	})
}

//export capi_policy_set_on_error
func capi_policy_set_on_error(p *C.sandlock_policy_t, action C.int) C.int {
	return setPolicy("sandlock_policy_set_on_error", p, func(q *policy.Policy) error {
		a, err := branchActionOf(int64(action))
		if err != nil {
			return err
		}
		q.OnError = a
		return nil
	})
}

// --- Policy callbacks

//export capi_set_policy_fn
func capi_set_policy_fn(p *C.sandlock_policy_t, fn C.sandlock_policy_fn, userData unsafe.Pointer, userDataFree C.sandlock_free_fn) C.int {
	return call("sandlock_set_policy_fn", func() error {
		h, err := policyArg(p, "policy")
		if err != nil {
			return err
		}
		if fn == nil {
			return errArg("fn is NULL")
		}
		h.setPolicyFn(newCPolicyFn(fn, userData, userDataFree))
		return nil
	})
}
