package sandbox

import (
	"reflect"
	"testing"

	"github.com/sandlock/sandlock/core/seccomp"
)

// Every field of seccomp.Config must change the filter cache key: a field
// the key missed would let two different programs share one cache entry.
func TestFilterKeyCoversConfig(t *testing.T) {
	base := filterKey(seccomp.Config{})
	typ := reflect.TypeOf(seccomp.Config{})
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		var variants []seccomp.Config
		switch f.Type.Kind() {
		case reflect.Bool:
			var c seccomp.Config
			reflect.ValueOf(&c).Elem().Field(i).SetBool(true)
			variants = append(variants, c)
		case reflect.Slice:
			if f.Type.Elem().Kind() != reflect.String {
				t.Fatalf("seccomp.Config.%s: %s is not handled by filterKey", f.Name, f.Type)
			}
			var empty, one seccomp.Config
			reflect.ValueOf(&empty).Elem().Field(i).Set(reflect.MakeSlice(f.Type, 0, 0))
			reflect.ValueOf(&one).Elem().Field(i).Set(reflect.ValueOf([]string{"openat"}))
			variants = append(variants, empty, one)
		default:
			t.Fatalf("seccomp.Config.%s: kind %s is not handled by filterKey", f.Name, f.Type.Kind())
		}
		for _, c := range variants {
			if filterKey(c) == base {
				t.Errorf("seccomp.Config.%s = %#v does not change the filter cache key", f.Name, reflect.ValueOf(c).Field(i).Interface())
			}
		}
	}
	// Names are length-prefixed: a list cannot imitate another split.
	a := filterKey(seccomp.Config{Notify: []string{"ab", "c"}})
	b := filterKey(seccomp.Config{Notify: []string{"a", "bc"}})
	if a == b {
		t.Errorf("lists [ab c] and [a bc] share the key %q", a)
	}
	// The same names in two different lists are different programs.
	if filterKey(seccomp.Config{Deny: []string{"openat"}, Allow: []string{}}) == filterKey(seccomp.Config{Deny: []string{}, Allow: []string{"openat"}}) {
		t.Error("Deny and Allow with the same name share a key")
	}
}
