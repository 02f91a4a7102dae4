package sandbox

import (
	"github.com/sandlock/sandlock/core/supervisor/handlers"
)

// File mediation, on in every sandbox: the open family is performed by the
// supervisor on the resolved object, which serves the virtual files the
// features registered (buildCtx.AddVirtual), applies the /proc and /sys
// rules and fs_denied, and re-checks the Landlock grants
// (handlers.Files). With fs_denied set, every other call that reaches a
// file by path is mediated too.
func init() {
	registerFeature(feature{name: "files", order: orderFsDeny, prepare: prepareFiles})
}

// filesSyscalls are mediated in every sandbox: opens, umask (the creation
// mask of on-behalf creations) and the directory listings (/proc shows
// only the sandbox's processes).
var filesSyscalls = []string{
	"open", "creat", "openat", "openat2", "umask", "getdents64", "getdents",
}

// fsDenySyscalls are mediated when fs_denied is set: every call that
// creates, removes, renames, links, truncates or executes by path.
var fsDenySyscalls = []string{
	"rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
	"unlink", "unlinkat", "rmdir", "mkdir", "mkdirat", "mknod", "mknodat",
	"truncate", "execve", "execveat",
}

func prepareFiles(b *buildCtx) (instance, error) {
	b.Notify(filesSyscalls...)
	// A policy callback may deny paths at run time (policyfn.Context):
	// mediate then what fs_denied needs.
	runtime := b.Options.PolicyFn != nil
	if len(b.Policy.FsDenied) > 0 || runtime {
		b.Notify(fsDenySyscalls...)
	}
	readable, writable := b.Policy.FsReadable, b.Policy.FsWritable
	if b.Landlock != nil {
		readable, writable = b.Landlock.Readable, b.Landlock.Writable
	}
	f, err := handlers.NewFiles(readable, writable, b.Policy.FsDenied)
	if err != nil {
		return nil, wrapKind(ErrPolicy, err)
	}
	if runtime {
		f.EnableRuntimeDenials()
	}
	return &filesInstance{f: f, proc: addProcVirtuals(b)}, nil
}

type filesInstance struct {
	f    *handlers.Files
	proc *procVirtuals
}

func (in *filesInstance) install(s *Sandbox) error {
	v := make(map[string]handlers.Virtual, len(s.virtual))
	for path, gen := range s.virtual {
		gen := gen
		v[path] = func() ([]byte, error) { return gen(s) }
	}
	in.proc.start(s)
	in.f.SetVirtual(v)
	in.f.Start(s.index, in.proc.clock)
	in.f.Register(s.sup, lookupNr)
	if in.f.RuntimeDenials() {
		s.paths = in.f
	}
	return nil
}

func (in *filesInstance) close() {
	in.f.Close()
	in.proc.stop()
}
