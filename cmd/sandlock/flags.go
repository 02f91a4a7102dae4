package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// A small command-line parser. The standard library's flag package has no
// short/long pairs and stops at the first non-flag argument without knowing
// about "--" conventions of GNU tools; this one covers what the CLI needs:
//
//	-r PATH, -rPATH, --fs-read PATH, --fs-read=PATH
//	boolean short flags, also grouped (-ie is -i -e)
//	"--" ends the flags; so does the first argument that is not a flag,
//	which lets "sandlock run ls -l" work without "--".

// errHelp is returned by parse when -h or --help was given.
var errHelp = errors.New("help requested")

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// option is one flag. A flag with an empty arg is boolean.
type option struct {
	short byte   // 0 when the flag has no short form
	long  string // without the leading "--"
	arg   string // name of the value in the help text; "" for booleans
	help  string
	group string // heading in the help text
	// implGroup and probe are for flags whose feature may not be built:
	// probe is a command line that sets it, and the help moves the flag
	// to implGroup when that command line passes validation.
	implGroup string
	probe     []string
	// set receives the value ("" for booleans). An error is reported as
	// a usage error naming the flag.
	set func(v string) error
}

type optionSet struct {
	opts []*option
}

func (s *optionSet) add(o *option) { s.opts = append(s.opts, o) }

func (s *optionSet) byLong(name string) *option {
	for _, o := range s.opts {
		if o.long == name {
			return o
		}
	}
	return nil
}

func (s *optionSet) byShort(c byte) *option {
	for _, o := range s.opts {
		if o.short != 0 && o.short == c {
			return o
		}
	}
	return nil
}

// parse applies the flags in args and returns the remaining arguments.
func (s *optionSet) parse(args []string) ([]string, error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return args[i+1:], nil
		case a == "-h" || a == "--help":
			return nil, errHelp
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			o := s.byLong(name)
			if o == nil {
				return nil, usagef("unknown flag --%s", name)
			}
			if o.arg == "" {
				if hasVal {
					return nil, usagef("flag --%s takes no value", name)
				}
			} else if !hasVal {
				if i+1 >= len(args) {
					return nil, usagef("flag --%s needs a value (%s)", name, o.arg)
				}
				i++
				val = args[i]
			}
			if err := apply(o, "--"+name, val); err != nil {
				return nil, err
			}
		case len(a) > 1 && a[0] == '-':
			// One or more short flags; a flag that takes a value ends the
			// group and takes the rest of it, or the next argument.
			for j := 1; j < len(a); j++ {
				o := s.byShort(a[j])
				if o == nil {
					return nil, usagef("unknown flag -%c", a[j])
				}
				if o.arg == "" {
					if err := apply(o, "-"+string(a[j]), ""); err != nil {
						return nil, err
					}
					continue
				}
				val := a[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return nil, usagef("flag -%c needs a value (%s)", a[j], o.arg)
					}
					i++
					val = args[i]
				}
				if err := apply(o, "-"+string(a[j]), val); err != nil {
					return nil, err
				}
				break
			}
		default:
			return args[i:], nil
		}
	}
	return nil, nil
}

func apply(o *option, typed, val string) error {
	if err := o.set(val); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return usagef("%s: %v", typed, err)
	}
	return nil
}

// printHelp writes the flags grouped under their headings, in the order
// they were added.
func (s *optionSet) printHelp(w io.Writer) {
	var groups []string
	seen := map[string]bool{}
	for _, o := range s.opts {
		if !seen[o.group] {
			seen[o.group] = true
			groups = append(groups, o.group)
		}
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g)
		for _, o := range s.opts {
			if o.group != g {
				continue
			}
			var b strings.Builder
			if o.short != 0 {
				fmt.Fprintf(&b, "  -%c, ", o.short)
			} else {
				b.WriteString("      ")
			}
			b.WriteString("--" + o.long)
			if o.arg != "" {
				b.WriteString(" " + o.arg)
			}
			left := b.String()
			lines := strings.Split(o.help, "\n")
			if len(left) < 30 {
				fmt.Fprintf(w, "%-30s %s\n", left, lines[0])
			} else {
				fmt.Fprintf(w, "%s\n%-30s %s\n", left, "", lines[0])
			}
			for _, l := range lines[1:] {
				fmt.Fprintf(w, "%-30s %s\n", "", l)
			}
		}
	}
}
