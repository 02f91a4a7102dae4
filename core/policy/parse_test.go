package policy

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint64
	}{
		{"zero", "0", 0},
		{"plain bytes", "1024", 1024},
		{"leading zeros", "007", 7},
		{"surrounding space", " \t42\n", 42},
		{"byte unit", "100B", 100},
		{"lower byte unit", "100b", 100},
		{"kilo", "1K", 1 << 10},
		{"kilo lower", "1k", 1 << 10},
		{"kilo KB", "2KB", 2 << 10},
		{"kilo kib", "3kib", 3 << 10},
		{"kilo KiB", "3KiB", 3 << 10},
		{"mega", "512M", 512 << 20},
		{"mega lower", "512m", 512 << 20},
		{"giga", "2G", 2 << 30},
		{"tera", "1T", 1 << 40},
		{"fraction", "1.5G", 3 << 29},
		{"half kilo", "0.5K", 512},
		{"no leading digit", ".5K", 512},
		{"no trailing digit", "5.K", 5 << 10},
		{"rounded down", "0.1K", 102},
		{"exact tiny fraction", "0.0009765625K", 1},
		{"just below one byte", "0.0009765624K", 0},
		{"space before unit", "1.5 G", 3 << 29},
		{"max bytes", "18446744073709551615", math.MaxUint64},
		{"max tera", "16777215T", 16777215 << 40},
		{"max via long fraction", "16777215.99999999999999999999999999999999999999999999999T", math.MaxUint64},
		{"long fraction kept exact", "0.00000000000000000000000000000000000000000000009K", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseSize(%q) = %v, %v, want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseSizeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantMsg string
	}{
		{"empty", "", "empty"},
		{"blank", "  \t ", "empty"},
		{"negative", "-1", "negative"},
		{"negative with unit", "-1K", "negative"},
		{"letters", "abc", "no number"},
		{"unit only", "K", "no number"},
		{"point only", ".", "no number"},
		{"point and unit", ".K", "no number"},
		{"nan", "nan", "no number"},
		{"NaN", "NaN", "no number"},
		{"inf", "inf", "no number"},
		{"plus sign", "+5", "no number"},
		{"unknown unit", "1X", "unknown unit"},
		{"petabyte", "1P", "unknown unit"},
		{"double unit", "1KK", "unknown unit"},
		{"spaced unit", "1 K B", "unknown unit"},
		{"kelvin sign", "1\u212a", "unknown unit"},
		{"exponent", "1e3", "unknown unit"},
		{"hex", "0x10", "unknown unit"},
		{"underscore", "1_000", "unknown unit"},
		{"two numbers", "1 5", "unknown unit"},
		{"two points", "1.2.3K", "more than one decimal point"},
		{"fraction of bytes", "1.5", "fraction without"},
		{"fraction with byte unit", "1.5B", "fraction without"},
		{"overflow bytes", "18446744073709551616", "too large"},
		{"overflow huge", strings.Repeat("9", 100), "too large"},
		{"overflow tera", "16777216T", "too large"},
		{"overflow giga", "17179869184G", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if err == nil {
				t.Fatalf("ParseSize(%q) = %v, nil, want error containing %q", tt.in, got, tt.wantMsg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseSize(%q) error %v does not wrap ErrInvalid", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "policy: parse size ") {
				t.Errorf("ParseSize(%q) error = %q, want \"policy: parse size ...%s...\"", tt.in, err, tt.wantMsg)
			}
		})
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []uint16
	}{
		{"single", "80", []uint16{80}},
		{"zero", "0", []uint16{0}},
		{"max", "65535", []uint16{65535}},
		{"spaces", " 80 ", []uint16{80}},
		{"leading zero", "080", []uint16{80}},
		{"range", "8000-8003", []uint16{8000, 8001, 8002, 8003}},
		{"one-port range", "5-5", []uint16{5}},
		{"spaced range", "1 - 3", []uint16{1, 2, 3}},
		{"list", "80,443", []uint16{80, 443}},
		{"unsorted list with duplicates", "443,80,80", []uint16{80, 443}},
		{"list with range", "80, 81-82", []uint16{80, 81, 82}},
		{"overlapping ranges", "5-7,6-8", []uint16{5, 6, 7, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePort(tt.in)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ParsePort(%q) = %v, %v, want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
	full, err := ParsePort("0-65535")
	if err != nil || len(full) != 65536 || full[0] != 0 || full[65535] != 65535 {
		t.Errorf("ParsePort(\"0-65535\") = %d ports, %v, want all 65536, nil", len(full), err)
	}
}

func TestParsePortErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantMsg string
	}{
		{"empty", "", "empty"},
		{"blank", "  ", "empty"},
		{"too large", "65536", "out of range"},
		{"far too large", "99999999999999999999999", "out of range"},
		{"negative", "-1", "missing port number"},
		{"open range", "80-", "missing port number"},
		{"double range", "1-2-3", "not a number"},
		{"letters", "http", "not a number"},
		{"plus", "+80", "not a number"},
		{"hex", "0x50", "not a number"},
		{"fraction", "1.5", "not a number"},
		{"trailing comma", "80,", "empty item"},
		{"leading comma", ",80", "empty item"},
		{"reversed range", "90-80", "ends before it starts"},
		{"range end too large", "80-70000", "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePort(tt.in)
			if err == nil {
				t.Fatalf("ParsePort(%q) = %v, nil, want error containing %q", tt.in, got, tt.wantMsg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParsePort(%q) error %v does not wrap ErrInvalid", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "policy: parse port ") {
				t.Errorf("ParsePort(%q) error = %q, want \"policy: parse port ...%s...\"", tt.in, err, tt.wantMsg)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []uint16
		wantErr bool
	}{
		{"nil", nil, nil, false},
		{"empty list", []string{}, nil, false},
		{"union", []string{"80", "8000-8002", "80"}, []uint16{80, 8000, 8001, 8002}, false},
		{"sorted", []string{"443", "80"}, []uint16{80, 443}, false},
		{"comma inside spec", []string{"22", "80,443"}, []uint16{22, 80, 443}, false},
		{"empty spec", []string{"80", ""}, nil, true},
		{"bad spec", []string{"80", "x"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePorts(tt.in)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("ParsePorts(%q) = %v, %v, want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
