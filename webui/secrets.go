package webui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"rampart/config"
)

// Secrets in the config, the fields tagged `rampart:"secret"` (the HA
// advert passphrases and the state sync secret), never leave the daemon
// through the UI. Every document and tree the UI shows carries
// secretPlaceholder in their place, and a diff says only whether each one
// changed. A document sent back (PUT /api/v1/config) may keep the
// placeholder, which keeps the secret in force at that place; any other
// value replaces it. The placeholder is shorter than the shortest secret
// validation accepts, so it can never become a secret by mistake.
const (
	secretPlaceholder = "<redacted>"
	secretChanged     = "<redacted> (changed)"
	secretUnchanged   = "<redacted> (unchanged)"
)

// maxAliasHops bounds following YAML aliases, as config's decoder does.
const maxAliasHops = 100

// secretPatterns are the document paths of the secret fields; "*" stands
// for any list index or map key. Derived once from the struct tags, so a
// newly tagged field is redacted everywhere at once.
var secretPatterns = sync.OnceValue(func() [][]string {
	var out [][]string
	collectSecretPaths(reflect.TypeFor[config.Config](), nil, 0, &out)
	return out
})

func collectSecretPaths(t reflect.Type, prefix []string, depth int, out *[][]string) {
	if depth > 16 { // config's types are not recursive; this is a guard
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		collectSecretPaths(t.Elem(), prefix, depth+1, out)
	case reflect.Slice, reflect.Map:
		collectSecretPaths(t.Elem(), append(slices.Clone(prefix), "*"), depth+1, out)
	case reflect.Struct:
		if t.PkgPath() != reflect.TypeFor[config.Config]().PkgPath() {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			p := append(slices.Clone(prefix), name)
			if slices.Contains(strings.Split(f.Tag.Get("rampart"), ","), "secret") {
				*out = append(*out, p)
				continue
			}
			collectSecretPaths(f.Type, p, depth+1, out)
		}
	}
}

// secretSite is one secret found in a document or tree.
type secretSite struct {
	path  string // as config.Error spells it: ha.auth.previous[0].passphrase
	field string // the key: passphrase
	keyID string // the key_id beside it, "" without: HA keys are known by it
	value string
	// Tree sites: set replaces the value. Document sites: node is the
	// value's node, aliased when it was reached through an alias.
	set     func(string)
	node    *yaml.Node
	aliased bool
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// treeSecrets finds the secrets in a document tree (maps, lists and
// scalars, from yaml or JSON). A secret that is not a string is reported
// with value "" and a set that replaces it.
func treeSecrets(t map[string]any) []secretSite {
	var out []secretSite
	for _, pat := range secretPatterns() {
		visitTree(t, pat, "", &out)
	}
	return out
}

func visitTree(v any, pat []string, path string, out *[]secretSite) {
	switch v := v.(type) {
	case map[string]any:
		keys := []string{pat[0]}
		if pat[0] == "*" {
			keys = slices.Sorted(func(yield func(string) bool) {
				for k := range v {
					if !yield(k) {
						return
					}
				}
			})
		}
		for _, k := range keys {
			child, ok := v[k]
			if !ok {
				continue
			}
			p := joinPath(path, k)
			if len(pat) == 1 {
				s, _ := child.(string)
				id := ""
				if kid, ok := v["key_id"]; ok {
					id = fmt.Sprint(kid)
				}
				*out = append(*out, secretSite{path: p, field: k, keyID: id, value: s,
					set: func(x string) { v[k] = x }})
				continue
			}
			visitTree(child, pat[1:], p, out)
		}
	case []any:
		if pat[0] != "*" || len(pat) == 1 {
			return
		}
		for i, child := range v {
			visitTree(child, pat[1:], path+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

// redactTree replaces every secret in t with the placeholder.
func redactTree(t map[string]any) {
	for _, s := range treeSecrets(t) {
		if s.value != "" {
			s.set(secretPlaceholder)
		}
	}
}

// restoreTree puts the stored secret (from the running config's tree)
// wherever t holds the placeholder.
func restoreTree(t map[string]any, running []secretSite) error {
	var errs config.Errors
	for _, s := range treeSecrets(t) {
		if s.value != secretPlaceholder {
			continue
		}
		v, err := storedSecret(s, running)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.set(v)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// storedSecret finds what a placeholder stands for: the stored key with
// the same key_id when there is one (a key that moved to previous keeps
// its passphrase), else the secret at the same path.
func storedSecret(s secretSite, running []secretSite) (string, *config.Error) {
	if s.keyID != "" {
		for _, r := range running {
			if r.field == s.field && r.keyID == s.keyID && r.value != "" {
				return r.value, nil
			}
		}
	}
	for _, r := range running {
		if r.path == s.path && r.value != "" {
			return r.value, nil
		}
	}
	return "", &config.Error{Path: s.path, Msg: fmt.Sprintf("%s keeps the stored secret, but none is stored here; send the secret itself", secretPlaceholder)}
}

// runningSecrets returns the secrets of the config in force.
func runningSecrets(cur *config.Config) ([]secretSite, error) {
	if cur == nil {
		return nil, nil
	}
	t, err := docTree(cur)
	if err != nil {
		return nil, err
	}
	return treeSecrets(t), nil
}

// docSecrets finds the secrets in a parsed YAML document.
func docSecrets(root *yaml.Node) []secretSite {
	var out []secretSite
	for _, pat := range secretPatterns() {
		visitNode(root, pat, "", false, &out)
	}
	return out
}

// deref follows aliases, reporting whether there were any.
func deref(n *yaml.Node) (*yaml.Node, bool) {
	aliased := false
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > maxAliasHops {
			return nil, true
		}
		n, aliased = n.Alias, true
	}
	return n, aliased
}

func visitNode(n *yaml.Node, pat []string, path string, aliased bool, out *[]secretSite) {
	n, a := deref(n)
	aliased = aliased || a
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			visitNode(n.Content[0], pat, path, aliased, out)
		}
	case yaml.MappingNode:
		id := ""
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, _ := deref(n.Content[i]); k != nil && k.Value == "key_id" {
				if v, _ := deref(n.Content[i+1]); v != nil {
					id = v.Value
				}
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, _ := deref(n.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode || (pat[0] != "*" && k.Value != pat[0]) {
				continue
			}
			p := joinPath(path, k.Value)
			if len(pat) > 1 {
				visitNode(n.Content[i+1], pat[1:], p, aliased, out)
				continue
			}
			v, a := deref(n.Content[i+1])
			if v == nil {
				continue
			}
			s := secretSite{path: p, field: k.Value, keyID: id, node: v, aliased: aliased || a}
			if v.Kind == yaml.ScalarNode {
				s.value = v.Value
			} else {
				s.value = "(not a string)" // redacted all the same
			}
			*out = append(*out, s)
		}
	case yaml.SequenceNode:
		if pat[0] != "*" || len(pat) == 1 {
			return
		}
		for i, c := range n.Content {
			visitNode(c, pat[1:], path+"["+strconv.Itoa(i)+"]", aliased, out)
		}
	}
}

// replaceSecrets sets the sites of data for which with returns true to
// the value it gives. It edits the source text in place when
// every such site is a one-line scalar there, so the document reads as
// written (comments, layout, line numbers); otherwise, or when force is
// set, it encodes the edited tree anew. The second result says which.
func replaceSecrets(data []byte, root *yaml.Node, sites []secretSite, with func(secretSite) (string, bool), force bool) ([]byte, bool, error) {
	type edit struct {
		from, to int
		text     string
	}
	var edits []edit
	inPlace := !force
	lines := lineStarts(data)
	for _, s := range sites {
		text, ok := with(s)
		if !ok {
			continue
		}
		if inPlace {
			from, to, ok := scalarSpan(data, lines, s.node)
			if ok && !s.aliased {
				edits = append(edits, edit{from, to, scalarText(text)})
			} else {
				inPlace = false
			}
		}
		*s.node = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text, Anchor: s.node.Anchor, Line: s.node.Line, Column: s.node.Column}
	}
	if inPlace {
		if len(edits) == 0 {
			return data, false, nil
		}
		slices.SortFunc(edits, func(a, b edit) int { return b.from - a.from })
		out := slices.Clone(data)
		for i, e := range edits {
			if i > 0 && e.to > edits[i-1].from { // overlapping: cannot happen for distinct nodes
				return nil, false, fmt.Errorf("secrets at overlapping places")
			}
			out = slices.Concat(out[:e.from], []byte(e.text), out[e.to:])
		}
		return out, false, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, true, fmt.Errorf("encode the document: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, true, fmt.Errorf("encode the document: %w", err)
	}
	return buf.Bytes(), true, nil
}

// scalarText writes v as a one-line YAML scalar: the placeholders as
// they are, anything else double-quoted (a JSON string is one).
func scalarText(v string) string {
	switch v {
	case secretPlaceholder, secretChanged, secretUnchanged:
		return v
	}
	q, _ := json.Marshal(v)
	return string(q)
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// scalarSpan finds the source text of a one-line plain or quoted scalar:
// [from, to) in data. Columns count characters, as yaml.v3 does.
func scalarSpan(data []byte, lines []int, n *yaml.Node) (int, int, bool) {
	if n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(lines) || n.Column < 1 {
		return 0, 0, false
	}
	start := lines[n.Line-1]
	eol := bytes.IndexByte(data[start:], '\n')
	if eol < 0 {
		eol = len(data) - start
	}
	line := data[start : start+eol]
	off := 0
	for range n.Column - 1 {
		if off >= len(line) {
			return 0, 0, false
		}
		_, size := utf8.DecodeRune(line[off:])
		off += size
	}
	rest := line[off:]
	var raw []byte
	switch n.Style {
	case 0:
		raw = []byte(n.Value)
	case yaml.SingleQuotedStyle:
		raw = []byte("'" + strings.ReplaceAll(n.Value, "'", "''") + "'")
	case yaml.DoubleQuotedStyle:
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\\' {
				i++
				continue
			}
			if rest[i] == '"' {
				raw = rest[:i+1]
				break
			}
		}
	}
	if len(raw) == 0 || !bytes.HasPrefix(rest, raw) {
		return 0, 0, false
	}
	var got string
	if err := yaml.Unmarshal(raw, &got); err != nil || got != n.Value {
		return 0, 0, false
	}
	return start + off, start + off + len(raw), true
}

func parseDoc(data []byte) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("read the document: %w", err)
	}
	return &root, nil
}

// redactDoc returns the document with every secret replaced by mark's
// text (nil: the placeholder). force encodes it anew even when it could
// be edited in place; the second result says whether it was.
func redactDoc(data []byte, mark func(secretSite) string, force bool) ([]byte, bool, error) {
	root, err := parseDoc(data)
	if err != nil {
		return nil, false, fmt.Errorf("redact secrets: %w", err)
	}
	if mark == nil {
		mark = func(secretSite) string { return secretPlaceholder }
	}
	out, re, err := replaceSecrets(data, root, docSecrets(root), func(s secretSite) (string, bool) {
		return mark(s), s.value != ""
	}, force)
	if err != nil {
		return nil, false, fmt.Errorf("redact secrets: %w", err)
	}
	return out, re, nil
}

// redactPair redacts two documents for a diff. A secret equal to the one
// at the same place in the other document shows as unchanged on both
// sides (an equal line); one that differs shows as the placeholder in a
// and as changed in b. When one of them has to be encoded anew, both
// are, so the diff shows no change of layout.
func redactPair(a, b []byte) ([]byte, []byte, error) {
	ra, err := parseDoc(a)
	if err != nil {
		return nil, nil, fmt.Errorf("redact secrets: %w", err)
	}
	rb, err := parseDoc(b)
	if err != nil {
		return nil, nil, fmt.Errorf("redact secrets: %w", err)
	}
	sa, sb := docSecrets(ra), docSecrets(rb)
	against := func(other []secretSite, changed string) func(secretSite) string {
		return func(s secretSite) string {
			for _, o := range other {
				if o.path == s.path && o.value == s.value {
					return secretUnchanged
				}
			}
			return changed
		}
	}
	oa, rea, err := redactDoc(a, against(sb, secretPlaceholder), false)
	if err != nil {
		return nil, nil, err
	}
	ob, reb, err := redactDoc(b, against(sa, secretChanged), rea)
	if err != nil {
		return nil, nil, err
	}
	if reb && !rea {
		if oa, _, err = redactDoc(a, against(sb, secretPlaceholder), true); err != nil {
			return nil, nil, err
		}
	}
	return oa, ob, nil
}

// restoreDoc puts the stored secrets wherever the document (named name
// in errors) holds the placeholder; errors are config.Errors at the
// placeholder's line.
func restoreDoc(name string, data []byte, running []secretSite) ([]byte, error) {
	root, err := parseDoc(data)
	if err != nil {
		return data, nil // config.Parse reports it, with its position
	}
	var errs config.Errors
	out, _, err := replaceSecrets(data, root, docSecrets(root), func(s secretSite) (string, bool) {
		if s.value != secretPlaceholder || s.node.Kind != yaml.ScalarNode {
			return "", false
		}
		v, e := storedSecret(s, running)
		if e != nil {
			e.File, e.Line, e.Col = name, s.node.Line, s.node.Column
			errs = append(errs, e)
			return "", false
		}
		return v, true
	}, false)
	if len(errs) > 0 {
		return nil, errs
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
