package config

//go:generate go run ./internal/genschema -o schema.json

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
)

// Patterns the schema uses for scalars. They are a guide for editors; the
// parser, which knows every rule, has the last word.
const (
	addrPattern     = `^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$`
	cidrPattern     = `^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(/[0-9]{1,3})?$`
	ifAddrPattern   = `^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)/[0-9]{1,3}$`
	portPattern     = `^[0-9]{1,5}(-[0-9]{1,5})?$`
	durationPattern = `^(0|([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)$`
)

// schemaObj is one JSON Schema object; encoding/json sorts its keys, which
// keeps the generated file stable.
type schemaObj = map[string]any

// JSONSchema returns the JSON Schema (draft 2020-12) of the config format,
// generated from the Go types so that it cannot drift from them. The
// committed copy is config/schema.json (go generate ./config).
func JSONSchema() ([]byte, error) {
	g := &schemaGen{defs: schemaObj{}, docs: fieldDocs()}
	root := g.object(reflect.TypeFor[Config]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "urn:rampart:config:1"
	root["title"] = "Rampart configuration"
	root["description"] = "One firewall node's configuration (docs/config.md)."
	root["$defs"] = g.defs
	if len(g.missing) > 0 {
		return nil, fmt.Errorf("config: schema: no documentation for %s", strings.Join(g.missing, ", "))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("config: schema: %w", err)
	}
	return buf.Bytes(), nil
}

type schemaGen struct {
	defs    schemaObj
	docs    map[string]fieldDoc
	missing []string
}

// object describes struct type t: its keys, which are required, and that no
// others are allowed.
func (g *schemaGen) object(t reflect.Type) schemaObj {
	props := schemaObj{}
	var required []string
	for _, f := range orderedFields(t) {
		key := t.Name() + "." + f.name
		doc, ok := g.docs[key]
		if !ok {
			g.missing = append(g.missing, key)
		}
		s := g.typeSchema(t.Field(f.index).Type, f.ifAddr, doc)
		s["description"] = doc.desc
		if doc.def != nil {
			s["default"] = doc.def
		}
		if doc.constant != nil {
			s = schemaObj{"const": doc.constant, "description": doc.desc}
		}
		if doc.max > 0 {
			s["minimum"], s["maximum"] = doc.min, doc.max
		}
		if f.local {
			s["x-rampart-local"] = true
		}
		if doc.required {
			required = append(required, f.name)
		}
		props[f.name] = s
	}
	obj := schemaObj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		obj["required"] = required
	}
	return obj
}

// typeSchema describes a value of type t.
func (g *schemaGen) typeSchema(t reflect.Type, ifAddr bool, doc fieldDoc) schemaObj {
	if s := scalarSchema(t, ifAddr); s != nil {
		return s
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem(), ifAddr, doc)
	case reflect.Slice:
		return schemaObj{"type": "array", "items": g.typeSchema(t.Elem(), ifAddr, doc)}
	case reflect.Map:
		return schemaObj{
			"type":                 "object",
			"propertyNames":        schemaObj{"pattern": doc.keyPattern},
			"additionalProperties": g.typeSchema(t.Elem(), false, doc),
		}
	case reflect.Struct:
		if _, done := g.defs[t.Name()]; !done {
			g.defs[t.Name()] = schemaObj{} // placeholder against recursion
			g.defs[t.Name()] = g.object(t)
		}
		return schemaObj{"$ref": "#/$defs/" + t.Name()}
	case reflect.String:
		if len(doc.enum) > 0 {
			return schemaObj{"type": "string", "enum": doc.enum}
		}
		return schemaObj{"type": "string"}
	}
	return schemaObj{}
}

// scalarSchema covers the types written as one scalar; nil for others.
func scalarSchema(t reflect.Type, ifAddr bool) schemaObj {
	str := func(pattern string) schemaObj { return schemaObj{"type": "string", "pattern": pattern} }
	intRange := func(lo, hi int) schemaObj { return schemaObj{"type": "integer", "minimum": lo, "maximum": hi} }
	switch t {
	case reflect.TypeFor[netip.Addr]():
		return str(addrPattern)
	case reflect.TypeFor[netip.Prefix]():
		if ifAddr {
			return str(ifAddrPattern)
		}
		return str(cidrPattern)
	case reflect.TypeFor[Duration]():
		return str(durationPattern)
	case reflect.TypeFor[PortRange]():
		return schemaObj{"oneOf": []any{intRange(1, 65535), str(portPattern)}}
	case reflect.TypeFor[Action]():
		return schemaObj{"type": "string", "enum": []string{"accept", "drop", "reject"}}
	case reflect.TypeFor[Protocol]():
		return schemaObj{"type": "string", "enum": []string{"tcp", "udp", "icmp", "icmpv6"}}
	case reflect.TypeFor[Chain]():
		return schemaObj{"type": "string", "enum": []string{"forward", "input"}}
	}
	switch t.Kind() {
	case reflect.Bool:
		return schemaObj{"type": "boolean"}
	case reflect.Int:
		return intRange(0, 1<<31-1)
	case reflect.Uint8:
		return intRange(0, 255)
	case reflect.Uint16:
		return intRange(0, 65535)
	}
	return nil
}
