package kernel

import (
	"bytes"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// TaskStatus holds the ids /proc/<tid>/status reports.
type TaskStatus struct {
	Tgid, PPid int
}

// ReadTaskStatus parses Tgid and PPid from /proc/<tid>/status. For a thread
// the PPid is the parent of the whole thread group, so callers that look
// for children must also check Tgid == tid.
func ReadTaskStatus(tid int) (TaskStatus, error) {
	var st TaskStatus
	var buf [2048]byte
	fd, err := unix.Open("/proc/"+strconv.Itoa(tid)+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, err
	}
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil {
		return st, err
	}
	b := buf[:n]
	found := 0
	for len(b) > 0 && found < 2 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("Tgid:")):
			st.Tgid = atoi(line[5:])
			found++
		case bytes.HasPrefix(line, []byte("PPid:")):
			st.PPid = atoi(line[5:])
			found++
		}
	}
	if found < 2 {
		return st, fmt.Errorf("/proc/%d/status: no Tgid/PPid", tid)
	}
	return st, nil
}

func atoi(b []byte) int {
	v := 0
	for _, c := range bytes.TrimSpace(b) {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int(c-'0')
	}
	return v
}
