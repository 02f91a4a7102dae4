package handlers

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Denials added while the sandbox runs, by the policy callback
// (Context.DenyPath, AllowPath). They are recognised like fs_denied, on the
// resolved object (device and inode, and the canonical path for
// directories and for paths that do not exist yet), and apply from the
// next system call the supervisor examines. AllowPath removes only what
// DenyPath added: the policy's fs_denied stays.

// runtimeDenials is the set of one sandbox. The zero value is empty and
// disabled.
type runtimeDenials struct {
	// enabled: the sandbox may get run-time denials (it has a policy
	// callback), so the calls fs_denied needs are mediated even when the
	// policy denies nothing.
	enabled bool
	// n counts the entries, so that the common case (none) costs one
	// atomic load per call.
	n    atomic.Int32
	dirs atomic.Bool // some entry is matched by path
	mu   sync.RWMutex
	objs []runtimeDenied
}

type runtimeDenied struct {
	key string // the path DenyPath was given, cleaned
	deniedObj
}

// EnableRuntimeDenials makes f ready for DenyPath: call it before
// Register.
func (f *Files) EnableRuntimeDenials() { f.rt.enabled = true }

// RuntimeDenials reports whether EnableRuntimeDenials was called.
func (f *Files) RuntimeDenials() bool { return f.rt.enabled }

// DenyPath denies path (absolute) from now on.
func (f *Files) DenyPath(path string) error {
	if !f.rt.enabled {
		return fmt.Errorf("deny_path: run-time denials are not enabled in this sandbox")
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("deny_path %q: not an absolute path", path)
	}
	key := filepath.Clean(path)
	var add []runtimeDenied
	canon, err := filepath.EvalSymlinks(path)
	if err != nil {
		// Not there (yet): denied by path, so that what is created there
		// later is denied too.
		add = append(add, runtimeDenied{key, deniedObj{path: key, dir: true}})
	} else {
		var st unix.Stat_t
		if err := unix.Stat(canon, &st); err != nil {
			return fmt.Errorf("deny_path %q: %w", path, err)
		}
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		add = append(add, runtimeDenied{key, deniedObj{dev: st.Dev, ino: st.Ino, path: canon, dir: isDir}})
		if isDir {
			// Files below with other names (hard links made before).
			n := 0
			_ = filepath.WalkDir(canon, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				if n++; n > maxDeniedWalk {
					return filepath.SkipAll
				}
				var lst unix.Stat_t
				if !d.IsDir() && unix.Lstat(p, &lst) == nil && lst.Nlink > 1 {
					add = append(add, runtimeDenied{key, deniedObj{dev: lst.Dev, ino: lst.Ino}})
				}
				return nil
			})
		}
	}
	f.rt.mu.Lock()
	f.rt.objs = append(f.rt.objs, add...)
	for _, d := range add {
		if d.path != "" {
			f.rt.dirs.Store(true)
		}
	}
	f.rt.n.Store(int32(len(f.rt.objs)))
	f.rt.mu.Unlock()
	return nil
}

// AllowPath removes the denials DenyPath(path) added.
func (f *Files) AllowPath(path string) error {
	if !f.rt.enabled {
		return fmt.Errorf("allow_path: run-time denials are not enabled in this sandbox")
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("allow_path %q: not an absolute path", path)
	}
	key := filepath.Clean(path)
	f.rt.mu.Lock()
	out := f.rt.objs[:0]
	for _, d := range f.rt.objs {
		if d.key != key {
			out = append(out, d)
		}
	}
	clear(f.rt.objs[len(out):])
	f.rt.objs = out
	f.rt.n.Store(int32(len(out)))
	f.rt.mu.Unlock()
	return nil
}

// any reports whether some run-time denial exists.
func (r *runtimeDenials) any() bool { return r.n.Load() > 0 }

// anyByPath reports whether some run-time denial is matched by path.
func (r *runtimeDenials) anyByPath() bool { return r.n.Load() > 0 && r.dirs.Load() }

// denies reports whether the object with st and canonical path p is
// denied at run time.
func (r *runtimeDenials) denies(st *unix.Stat_t, p []byte) bool {
	if !r.any() {
		return false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for i := range r.objs {
		d := &r.objs[i].deniedObj
		if d.ino != 0 && st.Dev == d.dev && st.Ino == d.ino {
			return true
		}
		if d.path != "" && (string(p) == d.path || d.dir && hasDirPrefix(p, []byte(d.path))) {
			return true
		}
	}
	return false
}
