package policy

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// fracDigits is how many fractional digits ParseSize uses. The result is
// floor(x * 2^s) with s <= 40, and every threshold N/2^s where that floor
// changes has at most 40 decimal places, so truncating x to 40 digits never
// changes the result; it only bounds the work for absurdly long inputs.
const fracDigits = 40

// ParseSize reads a byte count the way the original's parse_memory_size does:
// a plain integer is bytes, and a K, M, G or T unit (powers of 1024, any case,
// optionally followed by "B" or "iB") may scale an integer or a decimal
// fraction such as "1.5G". Fractional results are rounded down. Surrounding
// white space and white space before the unit are ignored. Negative, NaN,
// infinite, empty and out-of-range values are errors wrapping ErrInvalid.
func ParseSize(s string) (uint64, error) {
	fail := func(msg string) (uint64, error) {
		return 0, &parseError{what: "size", input: s, msg: msg}
	}
	in := strings.TrimSpace(s)
	if in == "" {
		return fail("empty")
	}
	if in[0] == '-' {
		return fail("negative")
	}
	end := 0
	for end < len(in) && (isDigit(in[end]) || in[end] == '.') {
		end++
	}
	num, unit := in[:end], strings.TrimSpace(in[end:])
	whole, frac, hasPoint := strings.Cut(num, ".")
	switch {
	case whole == "" && frac == "":
		return fail("no number")
	case strings.Contains(frac, "."):
		return fail("more than one decimal point")
	}
	shift, ok := unitShift(unit)
	if !ok {
		return fail("unknown unit " + strconv.Quote(unit) + " (want K, M, G or T)")
	}
	if hasPoint && shift == 0 {
		// Python's int() refuses "1.5" too: a byte count is whole.
		return fail("fraction without a K, M, G or T unit")
	}

	w, ok := parseDigits(whole)
	if !ok || w > math.MaxUint64>>shift {
		return fail("too large")
	}
	n := w << shift
	if len(frac) > fracDigits {
		frac = frac[:fracDigits]
	}
	if frac != "" {
		// The fractional part adds floor(frac * 2^shift / 10^len(frac)),
		// which is below 2^shift and so cannot overflow next to w<<shift
		// once w passed the check above; bits.Add64 double-checks it.
		f, _ := new(big.Int).SetString(frac, 10)
		f.Lsh(f, shift)
		f.Quo(f, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil))
		var carry uint64
		n, carry = bits.Add64(n, f.Uint64(), 0)
		if carry != 0 {
			return fail("too large")
		}
	}
	return n, nil
}

// unitShift maps a unit to its power of two. Only ASCII letters are folded,
// so that look-alikes such as the Kelvin sign are not taken for "K".
func unitShift(unit string) (uint, bool) {
	u := []byte(unit)
	for i, c := range u {
		if c >= 'A' && c <= 'Z' {
			u[i] = c + ('a' - 'A')
		}
	}
	switch string(u) {
	case "", "b":
		return 0, true
	case "k", "kb", "kib":
		return 10, true
	case "m", "mb", "mib":
		return 20, true
	case "g", "gb", "gib":
		return 30, true
	case "t", "tb", "tib":
		return 40, true
	}
	return 0, false
}

// parseDigits parses a string of ASCII digits, "" being 0, and reports
// overflow as !ok.
func parseDigits(s string) (uint64, bool) {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return 0, true
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParsePorts reads port specifications as the original's parse_ports does and
// returns the union, sorted and without duplicates. Each spec is a port
// ("80"), an inclusive range ("8000-8010") or a comma-separated list of
// those ("80,443"); ports are 0..65535. Errors wrap ErrInvalid. No specs
// yield a nil list.
func ParsePorts(specs []string) ([]uint16, error) {
	var set portSet
	for _, spec := range specs {
		if err := set.addSpec(spec); err != nil {
			return nil, err
		}
	}
	return set.list(), nil
}

// ParsePort reads one port specification; see ParsePorts.
func ParsePort(spec string) ([]uint16, error) {
	return ParsePorts([]string{spec})
}

// portSet is a bitmap of all 65536 ports: it deduplicates for free, yields
// a sorted list, and costs the same for "0-65535" as for "80".
type portSet [65536 / 64]uint64

func (ps *portSet) addSpec(spec string) error {
	fail := func(msg string) error {
		return &parseError{what: "port", input: spec, msg: msg}
	}
	if strings.TrimSpace(spec) == "" {
		return fail("empty")
	}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return fail("empty item in list")
		}
		loText, hiText, isRange := strings.Cut(item, "-")
		lo, err := parsePortNumber(loText)
		if err != "" {
			return fail(err)
		}
		hi := lo
		if isRange {
			if hi, err = parsePortNumber(hiText); err != "" {
				return fail(err)
			}
			if lo > hi {
				return fail("range " + strconv.Quote(item) + " ends before it starts")
			}
		}
		for p := uint32(lo); p <= uint32(hi); p++ {
			ps[p/64] |= 1 << (p % 64)
		}
	}
	return nil
}

func (ps *portSet) list() []uint16 {
	var out []uint16
	for i, w := range ps {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, uint16(i*64+b))
			w &^= 1 << b
		}
	}
	return out
}

// parsePortNumber returns the port or a message; digits only, because a
// sign would make "-80" ambiguous with a range.
func parsePortNumber(text string) (uint16, string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, "missing port number"
	}
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) {
			return 0, "port " + strconv.Quote(text) + " is not a number"
		}
	}
	v, err := strconv.ParseUint(text, 10, 16)
	if err != nil {
		return 0, "port " + text + " out of range 0-65535"
	}
	return uint16(v), ""
}
