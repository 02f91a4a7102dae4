package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "1024", "1.5G", " 512m ", "1KiB", "-1", "nan", "1e3", "18446744073709551616", ".5K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseSize(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		// The decimal form of a result is a plain byte count and reads back
		// unchanged.
		if got, err := ParseSize(fmt.Sprint(n)); err != nil || got != n {
			t.Fatalf("ParseSize(%q) = %v, %v, want %v, nil", fmt.Sprint(n), got, err, n)
		}
		// White space around an accepted input changes nothing.
		if got, err := ParseSize(" \t" + s + "\n"); err != nil || got != n {
			t.Fatalf("ParseSize(%q) = %v, %v, want %v, nil", " \t"+s+"\n", got, err, n)
		}
		// Units are case-insensitive. Only ASCII inputs are folded here,
		// because Unicode folding maps look-alikes (the Kelvin sign) to
		// letters that ParseSize rightly refuses.
		if isASCII(s) {
			for _, v := range []string{strings.ToLower(s), strings.ToUpper(s)} {
				if got, err := ParseSize(v); err != nil || got != n {
					t.Fatalf("ParseSize(%q) = %v, %v, want %v, nil (case variant of %q)", v, got, err, n, s)
				}
			}
		}
		// Scaling by K multiplies by 1024 where that fits.
		if n <= math.MaxUint64>>10 {
			k := strconv.FormatUint(n, 10) + "K"
			if got, err := ParseSize(k); err != nil || got != n<<10 {
				t.Fatalf("ParseSize(%q) = %v, %v, want %v, nil", k, got, err, n<<10)
			}
		}
	})
}

func FuzzParsePorts(f *testing.F) {
	for _, p := range [][2]string{{"80", "443"}, {"8000-8010", "22"}, {"80,443", "1-3"}, {"0-65535", "0"}, {"90-80", ""}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got, err := ParsePorts([]string{a, b})
		_, errA := ParsePort(a)
		_, errB := ParsePort(b)
		if (err == nil) != (errA == nil && errB == nil) {
			t.Fatalf("ParsePorts(%q) error = %v, want an error iff ParsePort fails on a part (%v, %v)", []string{a, b}, err, errA, errB)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParsePorts(%q) error %v does not wrap ErrInvalid", []string{a, b}, err)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("ParsePorts(%q) = empty, want at least one port", []string{a, b})
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("ParsePorts(%q) = %v, not sorted and unique at %d", []string{a, b}, got, i)
			}
		}
		// Separate specs and one comma-joined spec mean the same.
		if joined, err := ParsePort(a + "," + b); err != nil || !slices.Equal(joined, got) {
			t.Fatalf("ParsePort(%q) = %v, %v, want %v, nil", a+","+b, joined, err, got)
		}
		// The result printed as a list reads back unchanged.
		parts := make([]string, len(got))
		for i, p := range got {
			parts[i] = strconv.Itoa(int(p))
		}
		list := strings.Join(parts, ",")
		if again, err := ParsePort(list); err != nil || !slices.Equal(again, got) {
			t.Fatalf("ParsePort(%q) = %v, %v, want %v, nil", list, again, err, got)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
