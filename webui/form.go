package webui

import (
	"maps"
	"net/url"
	"strconv"
	"strings"
)

// maxFormList bounds list fields: a block list belongs in an alias edited
// through the API or the file, not in a form of thousands of entries.
const maxFormList = 1024

// fromForm builds an item from a submitted form, on top of base (the
// item being edited, or empty for a new one), so keys the form does not
// show survive an edit. Empty fields are left out, as an admin writing
// the file would leave them out. For keyed sections the "name" field is
// returned separately.
func (sec *section) fromForm(form url.Values, base map[string]any) (map[string]any, string) {
	item := deepCopyTree(base)
	name := ""
	for _, f := range sec.Fields {
		raw := strings.TrimSpace(form.Get(f.Name))
		if sec.Keyed && f.Name == "name" {
			name = raw
			continue
		}
		path := strings.Split(f.Name, ".")
		setField(item, path, formValue(f, raw, form.Has(f.Name)))
	}
	pruneEmpty(item)
	return item, name
}

// formValue converts one field; nil means "leave the key out".
func formValue(f field, raw string, present bool) any {
	switch f.Kind {
	case kindBool:
		if present && raw != "" {
			return true
		}
		return nil
	case kindBoolTrue:
		if present && raw != "" {
			return nil // the default, true
		}
		return false
	}
	if raw == "" {
		return nil
	}
	switch f.Kind {
	case kindInt:
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return n
		}
		return raw // not a number: validation says so at the field
	case kindList:
		return splitList(raw)
	case kindVIPs:
		return parseVIPs(raw)
	}
	return raw
}

func splitList(raw string) []any {
	parts := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	out := make([]any, 0, min(len(parts), maxFormList))
	for _, p := range parts[:min(len(parts), maxFormList)] {
		out = append(out, p)
	}
	return out
}

// parseVIPs reads lines of "role address/len"; a line that does not
// split in two keeps its text as the address, so validation points at it.
func parseVIPs(raw string) []any {
	var out []any
	for _, line := range strings.Split(raw, "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case len(fields) == 2:
			out = append(out, map[string]any{"interface": fields[0], "address": fields[1]})
		default:
			out = append(out, map[string]any{"address": strings.Join(fields, " ")})
		}
		if len(out) >= maxFormList {
			break
		}
	}
	return out
}

func setField(item map[string]any, path []string, v any) {
	cur := item
	for _, k := range path[:len(path)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			if v == nil {
				return
			}
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	if v == nil {
		delete(cur, path[len(path)-1])
	} else {
		cur[path[len(path)-1]] = v
	}
}

// pruneEmpty drops maps that the form emptied (a rule's "to" with no
// field set means any destination, which is the key left out).
func pruneEmpty(m map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			pruneEmpty(sub)
			if len(sub) == 0 {
				delete(m, k)
			}
		}
	}
}

// toForm returns the item's values as the form shows them.
func (sec *section) toForm(item map[string]any, key string) map[string]string {
	vals := map[string]string{}
	for _, f := range sec.Fields {
		switch {
		case sec.Keyed && f.Name == "name":
			vals[f.Name] = key
		case f.Kind == kindBoolTrue:
			if str(item, f.Name) != "false" {
				vals[f.Name] = "on"
			}
		case f.Kind == kindBool:
			if str(item, f.Name) == "true" {
				vals[f.Name] = "on"
			}
		case f.Kind == kindVIPs:
			vals[f.Name] = vipLines(item[f.Name])
		default:
			vals[f.Name] = str(item, f.Name)
		}
	}
	return vals
}

func vipLines(v any) string {
	l, _ := v.([]any)
	var lines []string
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			lines = append(lines, strings.TrimSpace(str(m, "interface")+" "+str(m, "address")))
		}
	}
	return strings.Join(lines, "\n")
}

// deepCopyTree copies a document tree, so an edit never aliases the
// running config's tree.
func deepCopyTree(m map[string]any) map[string]any {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range out {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyTree(x)
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = copyValue(e)
		}
		return l
	}
	return v
}
