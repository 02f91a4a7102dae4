package sandbox

import (
	"bytes"
	"io"
	"os"
	"sync"
)

type streamKind uint8

const (
	streamInherit streamKind = iota
	streamNull
	streamCapture
	streamFile
	streamWriter
	streamReader
)

// Stream says where one of the child's standard streams goes. The zero
// value inherits the host's stream.
type Stream struct {
	kind streamKind
	f    *os.File
	w    io.Writer
	r    io.Reader
}

// Inherit gives the child the host's stream.
func Inherit() Stream { return Stream{kind: streamInherit} }

// Null connects the stream to /dev/null.
func Null() Stream { return Stream{kind: streamNull} }

// Capture collects the output into the Result (stdout and stderr only),
// up to Options.OutputLimit bytes per stream.
func Capture() Stream { return Stream{kind: streamCapture} }

// File hands f to the child; the caller keeps ownership of f.
func File(f *os.File) Stream { return Stream{kind: streamFile, f: f} }

// Writer copies the child's output to w while it runs, all of it:
// Options.OutputLimit caps captured streams only. Each stream is copied
// by its own goroutine, so a w given for both stdout and stderr must be
// safe for concurrent use. If w fails, the rest of the output is drained
// and dropped so that the child never blocks.
func Writer(w io.Writer) Stream { return Stream{kind: streamWriter, w: w} }

// Reader feeds r to the child's stdin.
func Reader(r io.Reader) Stream { return Stream{kind: streamReader, r: r} }

// IsCapture reports whether the stream captures into the Result.
func (s Stream) IsCapture() bool { return s.kind == streamCapture }

// lockedBuffer lets Output be read while the drain goroutine writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}
