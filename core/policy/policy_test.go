package policy

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	got := Default()
	want := Policy{
		NoRawSockets: true,
		MaxProcesses: 64,
		FsIsolation:  FsIsolationNone,
		OnExit:       ActionCommit,
		OnError:      ActionAbort,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
	// Options that default to None in Python must be nil, not empty.
	if got.DenySyscalls != nil || got.AllowSyscalls != nil || got.NetAllowHosts != nil || got.CPUCores != nil || got.GPUDevices != nil {
		t.Errorf("Default() has a non-nil optional list: %+v", got)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v, want nil", err)
	}
}

func TestPolicyFieldCount(t *testing.T) {
	// 42 fields of original.md table 1.2, minus notif_policy, plus Hostname
	// and AllowDegraded. A new field needs a Builder setter, Clone support,
	// validation and, until it works, a row in unimplemented.
	if got, want := reflect.TypeFor[Policy]().NumField(), 43; got != want {
		t.Errorf("Policy has %d fields, want %d", got, want)
	}
}

// fill sets every field reachable from v to a non-zero value derived from
// seed, allocating fresh slices, maps and pointers.
func fill(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(int64(seed), 0)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), seed+i)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fill(s.Index(0), seed)
		fill(s.Index(1), seed+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, seed)
		fill(e, seed)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), seed)
		v.Set(p)
	case reflect.String:
		v.SetString("s" + string(rune('a'+seed%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(seed + 1))
	case reflect.Uint16, reflect.Uint64:
		v.SetUint(uint64(seed + 1))
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

// scribble changes, in place, every value reachable through v's slices,
// maps and pointers, without replacing those containers.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(999999, 0)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if k := v.Field(i).Kind(); k == reflect.Slice || k == reflect.Map || k == reflect.Pointer {
				scribble(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), 77)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, 77)
			v.SetMapIndex(k, e)
		}
	case reflect.Pointer:
		fill(v.Elem(), 77)
	}
}

func TestCloneDeepCopies(t *testing.T) {
	var orig, want Policy
	fill(reflect.ValueOf(&orig).Elem(), 1)
	fill(reflect.ValueOf(&want).Elem(), 1)
	c := orig.Clone()
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Clone() = %+v, want %+v", c, want)
	}
	scribble(reflect.ValueOf(&orig).Elem())
	if reflect.DeepEqual(orig, want) {
		t.Fatal("scribble changed nothing; the test is broken")
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Clone() shares memory with the original: after changing the original, clone = %+v, want %+v", c, want)
	}
}

func TestClonePreservesNil(t *testing.T) {
	p := Default()
	p.NetAllowHosts = []string{}
	p.CPUCores = []int{}
	p.Env = map[string]string{}
	c := p.Clone()
	if c.NetAllowHosts == nil || c.CPUCores == nil || c.Env == nil {
		t.Errorf("Clone() turned an empty list or map into nil: %+v", c)
	}
	if c.DenySyscalls != nil || c.GPUDevices != nil || c.FsMount != nil || c.UID != nil {
		t.Errorf("Clone() turned nil into a value: %+v", c)
	}
}

func TestFieldError(t *testing.T) {
	tests := []struct {
		name     string
		err      *FieldError
		wantText string
		wantIs   error
	}{
		{"message", &FieldError{Field: "max_cpu", Err: ErrInvalid, Msg: "must be between 1 and 100, got 150"},
			"policy: max_cpu: must be between 1 and 100, got 150", ErrInvalid},
		{"sentinel text", &FieldError{Field: "max_memory", Err: ErrNotImplemented},
			"policy: max_memory: not implemented yet", ErrNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.wantText {
				t.Errorf("Error() = %q, want %q", got, tt.wantText)
			}
			if !errors.Is(tt.err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false, want true", tt.err, tt.wantIs)
			}
		})
	}
}
