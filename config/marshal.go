package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Marshal writes c as a YAML document that Parse reads back to an equal
// Config. Keys come in declaration order and map entries sorted; zero
// values are left out, except that an empty (not nil) list or map is
// written as [] or {} and a non-nil *bool always is, because those differ
// from the key being absent. Comments in the source document are not kept.
func Marshal(c *Config) ([]byte, error) {
	if c == nil {
		return nil, errors.New("config: marshal: nil config")
	}
	n, _ := encode(reflect.ValueOf(c).Elem(), true)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("config: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func intNode(i uint64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(i, 10)}
}

// encode returns the node for v, or false when v is zero and not forced.
// Elements of lists and maps are forced: a list keeps its length.
func encode(v reflect.Value, force bool) (*yaml.Node, bool) {
	if n, ok := encodeScalarType(v, force); ok {
		return n, n != nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		return encode(v.Elem(), true)
	case reflect.Struct:
		return encodeStruct(v, force)
	case reflect.Slice:
		return encodeSlice(v)
	case reflect.Map:
		return encodeMap(v)
	}
	if v.IsZero() && !force {
		return nil, false
	}
	switch v.Kind() {
	case reflect.String:
		return strNode(v.String()), true
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v.Bool())}, true
	case reflect.Int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v.Int(), 10)}, true
	case reflect.Uint8, reflect.Uint16:
		return intNode(v.Uint()), true
	}
	return nil, false
}

// encodeScalarType writes the types that decode from one scalar. The
// second result says whether v was one of them; the node is nil when it
// is to be left out.
func encodeScalarType(v reflect.Value, force bool) (*yaml.Node, bool) {
	var text string
	switch x := v.Interface().(type) {
	case netip.Addr:
		if x.IsValid() {
			text = x.String()
		}
	case netip.Prefix:
		if x.IsValid() {
			text = x.String()
		}
	case Duration:
		if x != 0 {
			text = x.String()
		}
	case PortRange:
		switch {
		case x == PortRange{} && !force:
			return nil, true
		case x.From == x.To:
			return intNode(uint64(x.From)), true
		}
		text = x.String()
	default:
		return nil, false
	}
	if text == "" && !force {
		return nil, true
	}
	return strNode(text), true
}

func encodeStruct(v reflect.Value, force bool) (*yaml.Node, bool) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, f := range orderedFields(v.Type()) {
		if val, ok := encode(v.Field(f.index), false); ok {
			n.Content = append(n.Content, strNode(f.name), val)
		}
	}
	if len(n.Content) == 0 && !force {
		return nil, false
	}
	return n, true
}

func encodeSlice(v reflect.Value) (*yaml.Node, bool) {
	if v.IsNil() {
		return nil, false
	}
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	if v.Len() == 0 {
		n.Style = yaml.FlowStyle
	}
	for i := 0; i < v.Len(); i++ {
		if val, ok := encode(v.Index(i), true); ok {
			n.Content = append(n.Content, val)
		} else {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
		}
	}
	return n, true
}

func encodeMap(v reflect.Value) (*yaml.Node, bool) {
	if v.IsNil() {
		return nil, false
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if v.Len() == 0 {
		n.Style = yaml.FlowStyle
	}
	keys := v.MapKeys()
	names := make(map[string]reflect.Value, len(keys))
	for _, k := range keys {
		names[k.String()] = k
	}
	for _, name := range sortedKeys(names) {
		val, ok := encode(v.MapIndex(names[name]), true)
		if !ok {
			val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
		}
		n.Content = append(n.Content, strNode(name), val)
	}
	return n, true
}
