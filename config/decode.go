package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits for untrusted documents. A real config is a few kilobytes; one
// with a block list of twenty thousand networks is about 400 KB. yaml.v3
// holds about 100 bytes of heap per byte of input, so 1 MiB costs ~100 MB
// at worst, which a small appliance survives. The node limit also bounds
// what anchors and aliases may expand to (the "billion laughs").
const (
	MaxSize  = 1 << 20 // bytes
	maxNodes = 1 << 18 // YAML nodes, counted with aliases expanded
)

// Load reads and parses the config file at path. Errors in the document
// are returned as Errors naming path; I/O errors are wrapped.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: load: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: load: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes one YAML document strictly, validates it and fills in the
// defaults (see applyDefaults). file names the document in errors. On
// failure the error is an Errors holding every problem found, sorted by
// position, and the Config is nil.
func Parse(file string, data []byte) (*Config, error) {
	c, loc, errs := decode(file, data)
	if c == nil {
		return nil, errs.errOrNil()
	}
	v := &validator{c: c, loc: loc}
	v.config()
	errs = append(errs, v.errs...)
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	applyDefaults(c)
	return c, nil
}

// decode turns the document into a Config without judging the values
// beyond their syntax. A nil Config means the document could not be read
// at all (bad YAML, too large); otherwise errs may still hold problems
// with single values, and the Config holds the zero value in their place.
func decode(file string, data []byte) (*Config, *locator, Errors) {
	fail := func(line, col int, format string, args ...any) (*Config, *locator, Errors) {
		return nil, nil, Errors{{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}}
	}
	if len(data) > MaxSize {
		return fail(0, 0, "document is larger than %d bytes", MaxSize)
	}
	root, err := parseYAML(data)
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return fail(pe.line, pe.col, "%s", pe.msg)
		}
		return fail(0, 0, "%v", err)
	}
	if n := countNodes(root, maxNodes+1); n > maxNodes {
		return fail(0, 0, "document has more than %d YAML nodes", maxNodes)
	}
	d := &decoder{loc: newLocator(file), budget: maxNodes}
	c := new(Config)
	d.value(root, reflect.ValueOf(c).Elem(), &path{}, false)
	return c, d.loc, d.errs
}

// parseError is a YAML syntax error with the position yaml.v3 gave.
type parseError struct {
	line, col int
	msg       string
}

func (e *parseError) Error() string { return e.msg }

// parseYAML reads exactly one document and returns its top node.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	// yaml.v3 has panicked on crafted input before (CVE-2022-28948). This
	// code may run in PID 1, where a panic is a kernel panic, so a panic in
	// the parser becomes an ordinary error.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &parseError{msg: fmt.Sprintf("yaml: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &parseError{line: 1, col: 1, msg: "empty document; expected a mapping that starts with schema_version: 1"}
		}
		return nil, yamlError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		return nil, yamlError(err)
	default:
		return nil, &parseError{line: next.Line, col: next.Column, msg: "a second YAML document starts here; expected exactly one"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &parseError{line: 1, col: 1, msg: "empty document; expected a mapping that starts with schema_version: 1"}
	}
	return doc.Content[0], nil
}

// yamlError pulls the line out of yaml.v3's "yaml: line N: msg" text.
func yamlError(err error) error {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "yaml: line ")
	if !ok {
		return &parseError{msg: msg}
	}
	num, text, ok := strings.Cut(rest, ": ")
	line, convErr := strconv.Atoi(num)
	if !ok || convErr != nil {
		return &parseError{msg: msg}
	}
	return &parseError{line: line, msg: "yaml: " + text}
}

// countNodes counts the nodes of the tree as parsed (aliases not
// followed), stopping once it passes limit.
func countNodes(n *yaml.Node, limit int) int {
	count := 0
	stack := []*yaml.Node{n}
	for len(stack) > 0 && count <= limit {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		stack = append(stack, top.Content...)
	}
	return count
}

// decoder walks a yaml.Node tree into Go values by reflection, strictly:
// every mismatch is an error, and it carries on past errors so that one
// pass reports them all.
type decoder struct {
	loc    *locator
	errs   Errors
	budget int // nodes left to visit; aliases count every time they expand
}

func (d *decoder) errAt(n *yaml.Node, p *path, format string, args ...any) {
	d.loc.failed[p.s] = true
	d.errs = append(d.errs, &Error{
		File: d.loc.file, Line: n.Line, Col: n.Column, Path: p.s,
		Msg: fmt.Sprintf(format, args...),
	})
}

// value decodes n into v. ifAddr says that netip.Prefix values at this
// place are interface addresses, which keep their host bits.
func (d *decoder) value(n *yaml.Node, v reflect.Value, p *path, ifAddr bool) {
	d.loc.values[p.s] = nodePos(n)
	n, ok := d.deref(n, p)
	if !ok {
		return
	}
	if d.scalarType(n, v, p, ifAddr) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		elem := reflect.New(v.Type().Elem())
		d.value(n, elem.Elem(), p, ifAddr)
		v.Set(elem)
	case reflect.Struct:
		d.structure(n, v, p)
	case reflect.Slice:
		d.sequence(n, v, p, ifAddr)
	case reflect.Map:
		d.mapping(n, v, p)
	case reflect.String:
		if s, ok := d.str(n, p, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		d.boolean(n, v, p)
	case reflect.Int, reflect.Uint8, reflect.Uint16:
		d.integer(n, v, p)
	default:
		// Only reachable if config.go gains a field of a new kind.
		d.errAt(n, p, "config: no decoder for Go type %s", v.Type())
	}
}

// deref follows aliases and spends the node budget.
func (d *decoder) deref(n *yaml.Node, p *path) (*yaml.Node, bool) {
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 100 {
			d.errAt(n, p, "alias *%s cannot be resolved", n.Value)
			return nil, false
		}
		n = n.Alias
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.errAt(n, p, "document expands to more than %d YAML nodes (through anchors and aliases)", maxNodes)
		}
		return nil, false
	}
	return n, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what the document holds at n, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		if n.ShortTag() != "!!map" {
			return "a mapping tagged " + n.Tag
		}
		return "a mapping"
	case yaml.SequenceNode:
		if n.ShortTag() != "!!seq" {
			return "a list tagged " + n.Tag
		}
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		default:
			return fmt.Sprintf("%q tagged %s", n.Value, n.Tag)
		}
	}
	return "something else"
}

func (d *decoder) expected(n *yaml.Node, p *path, what string) {
	d.errAt(n, p, "expected %s, got %s", what, describe(n))
}

// str returns the scalar as a string. A plain 123 or true where a string
// belongs is an error rather than a silent conversion: YAML's implicit
// typing (NO → false) bites admins, and quoting makes intent plain.
func (d *decoder) str(n *yaml.Node, p *path, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.expected(n, p, what)
		return "", false
	}
	if tag := n.ShortTag(); tag != "!!str" {
		if tag == "!!int" || tag == "!!float" || tag == "!!bool" {
			d.errAt(n, p, "expected %s, got %s; quote it if you mean the text", what, describe(n))
			return "", false
		}
		d.expected(n, p, what)
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, v reflect.Value, p *path) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.expected(n, p, "true or false")
		return
	}
	v.SetBool(b)
}

// integer decodes into an int, uint8 or uint16 field with a range check.
func (d *decoder) integer(n *yaml.Node, v reflect.Value, p *path) {
	lo, hi := int64(0), int64(1<<31-1)
	switch v.Kind() {
	case reflect.Uint8:
		hi = 255
	case reflect.Uint16:
		hi = 65535
	}
	var i int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		d.expected(n, p, fmt.Sprintf("an integer from %d to %d", lo, hi))
		return
	}
	if i < lo || i > hi {
		d.errAt(n, p, "%d is out of range; expected an integer from %d to %d", i, lo, hi)
		return
	}
	if v.CanUint() {
		v.SetUint(uint64(i))
	} else {
		v.SetInt(i)
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, p *path, ifAddr bool) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode || n.ShortTag() != "!!seq" {
		d.expected(n, p, "a list")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, s.Index(i), p.index(i), ifAddr)
	}
	v.Set(s)
}

// entries walks a mapping's key/value pairs, rejecting non-string keys,
// merge keys and duplicates, and calls fn for each good pair.
func (d *decoder) entries(n *yaml.Node, p *path, fn func(key string, kn, vn *yaml.Node, kp *path)) bool {
	if n.Kind != yaml.MappingNode || n.ShortTag() != "!!map" {
		d.expected(n, p, "a mapping")
		return false
	}
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.AliasNode && kn.Alias != nil {
			kn = kn.Alias
		}
		if kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge" {
			d.errAt(kn, p, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if kn.Kind != yaml.ScalarNode || kn.ShortTag() != "!!str" {
			d.errAt(kn, p, "expected a string key, got %s", describe(kn))
			continue
		}
		kp := p.key(kn.Value)
		if prev, dup := first[kn.Value]; dup {
			d.errAt(kn, kp, "duplicate key; first given at line %d", prev.Line)
			continue
		}
		first[kn.Value] = kn
		d.loc.keys[kp.s] = nodePos(kn)
		fn(kn.Value, kn, vn, kp)
	}
	return true
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, p *path) {
	if isNull(n) {
		v.SetZero()
		return
	}
	m := reflect.MakeMap(v.Type())
	ok := d.entries(n, p, func(key string, _, vn *yaml.Node, kp *path) {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(vn, elem, kp, false)
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	})
	if ok {
		v.Set(m)
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, p *path) {
	if isNull(n) {
		return
	}
	fields := yamlFields(v.Type())
	d.entries(n, p, func(key string, kn, vn *yaml.Node, kp *path) {
		f, ok := fields[key]
		if !ok {
			d.errAt(kn, kp, "unknown key; expected one of: %s", strings.Join(sortedKeys(fields), ", "))
			return
		}
		d.value(vn, v.Field(f.index), kp, f.ifAddr)
	})
}

// field is a struct field as the YAML document names it.
type field struct {
	name      string
	index     int
	omitEmpty bool
	local     bool // rampart:"local": node-local, never replaced by config sync
	ifAddr    bool
}

// yamlFields lists the exported fields of struct type t by YAML key.
func yamlFields(t reflect.Type) map[string]field {
	out := map[string]field{}
	for _, f := range orderedFields(t) {
		out[f.name] = f
	}
	return out
}

// orderedFields lists the exported fields of t in declaration order.
func orderedFields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("yaml")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		out = append(out, field{
			name:      name,
			index:     i,
			omitEmpty: strings.Contains(opts, "omitempty"),
			local:     sf.Tag.Get("rampart") == "local",
			ifAddr:    isIfAddrField(t, sf.Name),
		})
	}
	return out
}

// isIfAddrField reports the fields of type IfAddr. IfAddr is an alias of
// netip.Prefix, so reflection cannot tell it apart; the decoder must,
// because an interface address keeps its host bits and a CIDR must not
// have any.
func isIfAddrField(t reflect.Type, name string) bool {
	switch t {
	case reflect.TypeFor[Interface]():
		return name == "Addresses"
	case reflect.TypeFor[VIP]():
		return name == "Address"
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
