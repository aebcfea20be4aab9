package configsync

import (
	"net/netip"
	"reflect"
	"strings"

	"rampart/config"
)

// isLocal reports whether a struct field is node-local.
func isLocal(f reflect.StructField) bool {
	for _, opt := range strings.Split(f.Tag.Get("rampart"), ",") {
		if opt == "local" {
			return true
		}
	}
	return false
}

// yamlName is the field's key in the config document.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// opaque types are copied and compared as whole values: their fields are
// unexported and immutable.
func opaque(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[netip.Addr](), reflect.TypeFor[netip.Prefix]():
		return true
	}
	return t.Kind() == reflect.Struct && t.PkgPath() != reflect.TypeFor[config.Config]().PkgPath()
}

// containsLocal reports whether values of t hold a node-local field
// anywhere inside, so that a merge must descend into them rather than
// replace them whole.
func containsLocal(t reflect.Type) bool {
	return walkLocal(t, map[reflect.Type]bool{})
}

func walkLocal(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] || opaque(t) {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return walkLocal(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && (isLocal(f) || walkLocal(f.Type, seen)) {
				return true
			}
		}
	}
	return false
}

// listKey names the field that identifies an element of a list on both
// nodes, for element types that hold local fields: the two nodes' lists
// are matched by it, never by position, so a group added at the top does
// not take over the priority of the group that was first.
func listKey(elem reflect.Type) (string, bool) {
	switch elem {
	case reflect.TypeFor[config.Group]():
		return "VHID", true
	}
	return "", false
}

// checkKeys finds lists of elements with local fields that listKey does
// not cover, so a new one fails the package's tests, not a sync.
func checkKeys(t reflect.Type, seen map[reflect.Type]bool, missing *[]string) {
	if seen[t] || opaque(t) {
		return
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Map:
		checkKeys(t.Elem(), seen, missing)
	case reflect.Slice:
		elem := deref(t.Elem())
		if _, ok := listKey(elem); !ok && containsLocal(elem) {
			*missing = append(*missing, elem.String())
		}
		checkKeys(t.Elem(), seen, missing)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && !isLocal(f) {
				checkKeys(f.Type, seen, missing)
			}
		}
	}
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// sections lists the config's top-level shared sections by YAML key.
func sections() []string {
	t := reflect.TypeFor[config.Config]()
	var out []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && !isLocal(f) {
			out = append(out, yamlName(f))
		}
	}
	return out
}
