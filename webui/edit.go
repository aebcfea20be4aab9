package webui

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"rampart/config"
)

// Edits work on the config document as a generic tree (maps, lists,
// scalars) rather than on Go values: an edit replaces one item with what
// the form or the API sent, and the whole document then goes through
// config.Parse, the same strict decoding and validation a file on the
// stick gets. Errors come back with key paths such as rules[3].from.alias,
// which map straight back to the item and field that was edited.

// docTree returns cfg as a tree for editing.
func docTree(cfg *config.Config) (map[string]any, error) {
	data, err := config.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	t := map[string]any{}
	if err := yaml.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("read back the config: %w", err)
	}
	return t, nil
}

// buildConfig parses an edited tree as a document named name.
func buildConfig(name string, t map[string]any) (*config.Config, error) {
	data, err := yaml.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode the edited config: %w", err)
	}
	return config.Parse(name, data)
}

// Errors of item operations; handlers map them to 404 and 409.
var (
	errNoItem     = errors.New("no such item")
	errItemExists = errors.New("an item with that name exists")
)

// items returns a list section's items; a missing list is empty.
func (sec *section) items(t map[string]any) []any {
	v, _ := lookup(t, sec.Path)
	l, _ := v.([]any)
	return l
}

// entries returns a keyed section's map; a missing map is empty.
func (sec *section) entries(t map[string]any) map[string]any {
	v, _ := lookup(t, sec.Path)
	m, _ := v.(map[string]any)
	return m
}

func lookup(t map[string]any, path []string) (any, bool) {
	var cur any = t
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// putPath puts v at path, creating the maps on the way; a nil v removes it.
func putPath(t map[string]any, path []string, v any) {
	cur := t
	for _, k := range path[:len(path)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	if v == nil {
		delete(cur, path[len(path)-1])
		return
	}
	cur[path[len(path)-1]] = v
}

// index parses a list key and checks it against the list's length.
func index(key string, n int) (int, error) {
	i, err := strconv.Atoi(key)
	if err != nil || i < 0 || i >= n || strconv.Itoa(i) != key {
		return 0, errNoItem
	}
	return i, nil
}

// get returns a copy-safe reference to one item.
func (sec *section) get(t map[string]any, key string) (map[string]any, error) {
	if sec.Keyed {
		item, ok := sec.entries(t)[key]
		if !ok {
			return nil, errNoItem
		}
		m, _ := item.(map[string]any)
		return orEmpty(m), nil
	}
	l := sec.items(t)
	i, err := index(key, len(l))
	if err != nil {
		return nil, err
	}
	m, _ := l[i].(map[string]any)
	return orEmpty(m), nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// add inserts item: under name in a keyed section, else before position
// pos (pos < 0 or past the end appends). It returns the new item's key.
func (sec *section) add(t map[string]any, name string, pos int, item map[string]any) (string, error) {
	if sec.Keyed {
		m := maps.Clone(sec.entries(t))
		if m == nil {
			m = map[string]any{}
		}
		if _, ok := m[name]; ok {
			return "", errItemExists
		}
		m[name] = item
		putPath(t, sec.Path, m)
		return name, nil
	}
	l := sec.items(t)
	if pos < 0 || pos > len(l) {
		pos = len(l)
	}
	putPath(t, sec.Path, slices.Insert(slices.Clone(l), pos, any(item)))
	return strconv.Itoa(pos), nil
}

// update replaces the item at key.
func (sec *section) update(t map[string]any, key string, item map[string]any) error {
	if _, err := sec.get(t, key); err != nil {
		return err
	}
	if sec.Keyed {
		m := maps.Clone(sec.entries(t))
		m[key] = item
		putPath(t, sec.Path, m)
		return nil
	}
	l := slices.Clone(sec.items(t))
	i, _ := index(key, len(l))
	l[i] = item
	putPath(t, sec.Path, l)
	return nil
}

// remove deletes the item at key; an emptied section disappears, as an
// admin who writes the file would leave it out.
func (sec *section) remove(t map[string]any, key string) error {
	if _, err := sec.get(t, key); err != nil {
		return err
	}
	if sec.Keyed {
		m := maps.Clone(sec.entries(t))
		delete(m, key)
		if len(m) == 0 {
			putPath(t, sec.Path, nil)
		} else {
			putPath(t, sec.Path, m)
		}
		return nil
	}
	l := sec.items(t)
	i, _ := index(key, len(l))
	l = slices.Delete(slices.Clone(l), i, i+1)
	if len(l) == 0 {
		putPath(t, sec.Path, nil)
	} else {
		putPath(t, sec.Path, l)
	}
	return nil
}

// move puts the item at key at position to (clamped to the list).
func (sec *section) move(t map[string]any, key string, to int) (string, error) {
	if sec.Keyed {
		return "", errNoItem
	}
	l := slices.Clone(sec.items(t))
	i, err := index(key, len(l))
	if err != nil {
		return "", err
	}
	to = min(max(to, 0), len(l)-1)
	item := l[i]
	l = slices.Insert(slices.Delete(l, i, i+1), to, item)
	putPath(t, sec.Path, l)
	return strconv.Itoa(to), nil
}

// itemPath is the key path of an item as config errors spell it.
func (sec *section) itemPath(key string) string {
	base := strings.Join(sec.Path, ".")
	if !sec.Keyed {
		return base + "[" + key + "]"
	}
	if plainKey.MatchString(key) {
		return base + "." + key
	}
	return base + "[" + strconv.Quote(key) + "]"
}

// plainKey matches config's unquoted path keys.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// fieldError is one validation problem as the API reports it.
type fieldError struct {
	Path    string `json:"path"`            // key path in the config: rules[3].from.alias
	Field   string `json:"field,omitempty"` // the edited item's field: from.alias
	Line    int    `json:"line,omitempty"`  // in the document sent, for whole documents
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
}

// validationErrors lists config errors; other errors are not validation.
func validationErrors(err error) ([]fieldError, bool) {
	var es config.Errors
	if !errors.As(err, &es) {
		return nil, false
	}
	out := make([]fieldError, 0, len(es))
	for _, e := range es {
		out = append(out, fieldError{Path: e.Path, Line: e.Line, Col: e.Col, Message: e.Msg})
	}
	return out, true
}

// indexes matches list indexes and quoted keys in a path.
var indexes = regexp.MustCompile(`\[[^\]]*\]`)

// attach fills Field for the errors inside the item at sec/key, naming
// the longest form field the error's path falls under. A keyed item's
// own path (its name) maps to the "name" field.
func (sec *section) attach(errs []fieldError, key string) {
	base := sec.itemPath(key)
	for i, e := range errs {
		var rel string
		switch {
		case e.Path == base:
			if sec.Keyed {
				errs[i].Field = "name"
			} else {
				errs[i].Field = "-"
			}
			continue
		case strings.HasPrefix(e.Path, base+"."):
			rel = e.Path[len(base)+1:]
		case strings.HasPrefix(e.Path, base+"["):
			rel = e.Path[len(base):]
		default:
			continue
		}
		rel = strings.TrimPrefix(indexes.ReplaceAllString(rel, ""), ".")
		errs[i].Field = sec.fieldFor(rel)
	}
}

// fieldFor returns the form field that rel (a path without indexes)
// belongs to: the longest field name equal to it or a dotted prefix of it.
func (sec *section) fieldFor(rel string) string {
	best := ""
	for _, f := range sec.Fields {
		if (rel == f.Name || strings.HasPrefix(rel, f.Name+".")) && len(f.Name) > len(best) {
			best = f.Name
		}
	}
	if best == "" {
		return "-" // inside the item, but no field shows it
	}
	return best
}

// sortedNames returns a map's keys in order, for stable lists.
func sortedNames(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
