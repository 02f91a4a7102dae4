package kernel

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseStat feeds parseStat (/proc/<pid>/stat) and atoi (the numbers of
// /proc/<pid>/status) arbitrary bytes, which must never panic, and checks
// both against an independent reading where the input is well formed.
// comm, ppid and start also build a well-formed line the kernel could
// write, whose parent and start time must come back exactly: comm may hold
// spaces and parentheses, which is why parsing starts after the last ") ".
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (sh) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0"), "sh", int32(7), uint64(12345))
	f.Add([]byte("42 (a) b (c) R 9 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0"), "a) b (c", int32(9), uint64(777))
	f.Add([]byte("42 (x) S 1 2"), ") ) )", int32(0), uint64(0))
	f.Add([]byte(" 0\t"), "", int32(-1), ^uint64(0))
	f.Add([]byte("garbage"), "tab\there", int32(1<<30), uint64(1)<<63)
	f.Fuzz(func(t *testing.T, raw []byte, comm string, ppid int32, start uint64) {
		// Arbitrary input: no panic, and an accepted line agrees with a
		// second, independent reading of its fields.
		if p, s, err := parseStat(raw); err == nil {
			i := bytes.LastIndex(raw, []byte(") "))
			fields := strings.Fields(string(raw[i+2:]))
			wantP, errP := strconv.Atoi(fields[1])
			wantS, errS := strconv.ParseUint(fields[19], 10, 64)
			if errP != nil || errS != nil || p != wantP || s != wantS {
				t.Fatalf("parseStat(%q) = %d, %d; fields say %q, %q", raw, p, s, fields[1], fields[19])
			}
		}
		v := atoi(raw)
		if s := string(bytes.TrimSpace(raw)); len(s) > 0 && len(s) <= 18 && strings.Trim(s, "0123456789") == "" {
			if want, _ := strconv.Atoi(s); v != want {
				t.Fatalf("atoi(%q) = %d, want %d", raw, v, want)
			}
		}

		// A line as the kernel writes it: comm is at most 15 bytes and
		// holds no NUL.
		comm = strings.ReplaceAll(comm, "\x00", "")
		if len(comm) > 15 {
			comm = comm[:15]
		}
		line := fmt.Sprintf("4242 (%s) S %d 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0 0 0\n", comm, ppid, start)
		p, s, err := parseStat([]byte(line))
		if err != nil || p != int(ppid) || s != start {
			t.Fatalf("parseStat(%q) = %d, %d, %v; want %d, %d, nil", line, p, s, err, ppid, start)
		}
	})
}
