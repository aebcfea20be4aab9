package configsync

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"rampart/config"
)

// Report says what a merge changed.
type Report struct {
	// Changed lists the shared values that differed and were taken from
	// the peer, by path: rules, nat.port_forwards, ha.groups[vhid=3].vips.
	// Empty means the two nodes were already in step.
	Changed []string
}

// Merge returns a copy of own whose shared sections are replaced by the
// peer's, leaving every node-local field as own has it. sections selects
// top-level YAML keys (rules, aliases, nat, ha, ...); nil means every
// shared section. Neither input is modified.
//
// Lists whose elements hold local fields (ha.groups) are matched by key
// (the vhid): a matched element keeps its local fields, an element only
// the peer has gets zero local values (which validation then refuses:
// set the priority on this node first), and an element only this node has
// is dropped. A peer without a section this node has, where this node's
// holds local fields (no ha at all), is an error rather than a loss.
func Merge(own, peer *config.Config, sections []string) (*config.Config, Report, error) {
	if own == nil || peer == nil {
		return nil, Report{}, errors.New("configsync: merge: nil config")
	}
	sel, err := selectSections(sections)
	if err != nil {
		return nil, Report{}, fmt.Errorf("configsync: merge: %w", err)
	}
	out := deepCopy(reflect.ValueOf(own).Elem())
	src := reflect.ValueOf(peer).Elem()
	m := &merger{}
	for i := range out.NumField() {
		f := out.Type().Field(i)
		if !f.IsExported() || isLocal(f) || !sel[yamlName(f)] {
			continue
		}
		if err := m.value(out.Field(i), src.Field(i), yamlName(f)); err != nil {
			return nil, Report{}, fmt.Errorf("configsync: merge: %w", err)
		}
	}
	c := out.Addr().Interface().(*config.Config)
	return c, Report{Changed: m.changed}, nil
}

// selectSections checks the names and returns the set; nil selects all.
func selectSections(names []string) (map[string]bool, error) {
	all := sections()
	if names == nil {
		names = all
	}
	sel := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("no shared section %q; shared sections are %s", n, strings.Join(all, ", "))
		}
		sel[n] = true
	}
	return sel, nil
}

type merger struct {
	changed []string
	quiet   int // inside an element new to this node, noted once as a whole
}

func (m *merger) note(path string) {
	if m.quiet == 0 {
		m.changed = append(m.changed, path)
	}
}

// fresh merges src into the zero value e, an element new to this node.
func (m *merger) fresh(e, src reflect.Value, path string) error {
	m.note(path + " (new on this node)")
	m.quiet++
	defer func() { m.quiet-- }()
	return m.value(e, src, path)
}

// value merges src into dst, which is settable and owned by the result.
func (m *merger) value(dst, src reflect.Value, path string) error {
	t := dst.Type()
	if !containsLocal(t) {
		if !reflect.DeepEqual(dst.Interface(), src.Interface()) {
			dst.Set(deepCopy(src))
			m.note(path)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return m.pointer(dst, src, path)
	case reflect.Struct:
		return m.fields(dst, src, path)
	case reflect.Slice:
		return m.list(dst, src, path)
	case reflect.Map:
		return m.mapping(dst, src, path)
	}
	return fmt.Errorf("%s: cannot merge a %s", path, t)
}

func (m *merger) pointer(dst, src reflect.Value, path string) error {
	switch {
	case src.IsNil() && dst.IsNil():
		return nil
	case src.IsNil():
		return fmt.Errorf("%s: the peer has none, but this node's holds node-local settings; remove it here first", path)
	case dst.IsNil():
		dst.Set(reflect.New(dst.Type().Elem()))
	}
	return m.value(dst.Elem(), src.Elem(), path)
}

func (m *merger) fields(dst, src reflect.Value, path string) error {
	for i := range dst.NumField() {
		f := dst.Type().Field(i)
		if !f.IsExported() || isLocal(f) {
			continue
		}
		if err := m.value(dst.Field(i), src.Field(i), path+"."+yamlName(f)); err != nil {
			return err
		}
	}
	return nil
}

// list rebuilds dst in src's order, matching elements by key.
func (m *merger) list(dst, src reflect.Value, path string) error {
	elem := deref(dst.Type().Elem())
	key, ok := listKey(elem)
	if !ok {
		return fmt.Errorf("%s: no key to match %s elements between nodes", path, elem)
	}
	ours, order, err := keyed(dst, key, path)
	if err != nil {
		return err
	}
	if src.IsNil() {
		if !dst.IsNil() {
			dst.SetZero()
			m.note(path)
		}
		return nil
	}
	out := reflect.MakeSlice(dst.Type(), src.Len(), src.Len())
	var peerOrder []string
	for i := range src.Len() {
		k, err := keyOf(src.Index(i), key, path)
		if err != nil {
			return err
		}
		if slices.Contains(peerOrder, k) {
			return fmt.Errorf("%s: %s %s is listed twice by the peer", path, strings.ToLower(key), k)
		}
		peerOrder = append(peerOrder, k)
		ep := fmt.Sprintf("%s[%s=%s]", path, strings.ToLower(key), k)
		merge := m.fresh
		if old, ok := ours[k]; ok {
			out.Index(i).Set(deepCopy(old))
			merge = m.value
		}
		if err := merge(out.Index(i), src.Index(i), ep); err != nil {
			return err
		}
	}
	for _, k := range order {
		if !slices.Contains(peerOrder, k) {
			m.note(fmt.Sprintf("%s[%s=%s] (removed)", path, strings.ToLower(key), k))
		}
	}
	if !slices.Equal(common(order, peerOrder), common(peerOrder, order)) {
		m.note(path + " (order)")
	}
	dst.Set(out)
	return nil
}

// keyed indexes a list by its elements' key field.
func keyed(list reflect.Value, key, path string) (map[string]reflect.Value, []string, error) {
	byKey := map[string]reflect.Value{}
	var order []string
	for i := range list.Len() {
		k, err := keyOf(list.Index(i), key, path)
		if err != nil {
			return nil, nil, err
		}
		byKey[k] = list.Index(i)
		order = append(order, k)
	}
	return byKey, order, nil
}

func keyOf(e reflect.Value, key, path string) (string, error) {
	for e.Kind() == reflect.Pointer {
		if e.IsNil() {
			return "", fmt.Errorf("%s: empty element", path)
		}
		e = e.Elem()
	}
	return fmt.Sprint(e.FieldByName(key).Interface()), nil
}

// common keeps the elements of a that b also has, in a's order.
func common(a, b []string) []string {
	var out []string
	for _, k := range a {
		if slices.Contains(b, k) {
			out = append(out, k)
		}
	}
	return out
}

func (m *merger) mapping(dst, src reflect.Value, path string) error {
	if src.IsNil() {
		if !dst.IsNil() {
			dst.SetZero()
			m.note(path)
		}
		return nil
	}
	out := reflect.MakeMapWithSize(dst.Type(), src.Len())
	for it := src.MapRange(); it.Next(); {
		ep := fmt.Sprintf("%s[%v]", path, it.Key())
		e := reflect.New(dst.Type().Elem()).Elem()
		merge := m.fresh
		if old := dst.MapIndex(it.Key()); old.IsValid() {
			e.Set(deepCopy(old))
			merge = m.value
		}
		if err := merge(e, it.Value(), ep); err != nil {
			return err
		}
		out.SetMapIndex(it.Key(), e)
	}
	for it := dst.MapRange(); it.Next(); {
		if !src.MapIndex(it.Key()).IsValid() {
			m.note(fmt.Sprintf("%s[%v] (removed)", path, it.Key()))
		}
	}
	dst.Set(out)
	return nil
}
