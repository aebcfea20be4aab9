package config

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// goField is one field of the model, found by walking the types.
type goField struct {
	typ, goName, key string
	local            bool
}

// goFields lists every field of every struct type reachable from t.
func goFields(t reflect.Type) []goField {
	var out []goField
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeFor[Config]().PkgPath() || seen[t] || t == reflect.TypeFor[PortRange]() {
			return
		}
		seen[t] = true
		for _, f := range orderedFields(t) {
			sf := t.Field(f.index)
			out = append(out, goField{typ: t.Name(), goName: sf.Name, key: f.name, local: f.local})
			walk(sf.Type)
		}
	}
	walk(t)
	return out
}

func TestSchemaUpToDate(t *testing.T) {
	want, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("config/schema.json is out of date with the Go types; run `go generate ./config`\n(-generated +committed):\n%s",
			cmp.Diff(string(want), string(got)))
	}
}

// schemaFields lists the properties of the committed schema as
// Type.key, with whether they are marked node-local.
func schemaFields(t *testing.T) map[string]bool {
	b, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Properties map[string]struct {
			Local bool `json:"x-rampart-local"`
		} `json:"properties"`
		AdditionalProperties *bool `json:"additionalProperties"`
	}
	var root struct {
		object
		Defs map[string]object `json:"$defs"`
	}
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	objs := map[string]object{"Config": root.object}
	for name, o := range root.Defs {
		objs[name] = o
	}
	for name, o := range objs {
		if o.AdditionalProperties == nil || *o.AdditionalProperties {
			t.Errorf("schema %s allows additional properties", name)
		}
		for key, p := range o.Properties {
			out[name+"."+key] = p.Local
		}
	}
	return out
}

// TestSchemaCoversTypes checks that every Go field is in the schema, with
// its node-local mark, and that the schema has nothing else.
func TestSchemaCoversTypes(t *testing.T) {
	inSchema := schemaFields(t)
	fromGo := map[string]bool{}
	for _, f := range goFields(reflect.TypeFor[Config]()) {
		fromGo[f.typ+"."+f.key] = f.local
	}
	if diff := cmp.Diff(fromGo, inSchema); diff != "" {
		t.Errorf("Go fields vs schema properties, with x-rampart-local (-go +schema):\n%s", diff)
	}
	docs := fieldDocs()
	for key := range docs {
		if _, ok := fromGo[key]; !ok {
			t.Errorf("fieldDocs has %s, which is not a field", key)
		}
	}
}

// TestDocsCoverKeys checks that docs/config.md has a row for every key,
// written as its full dotted path (e.g. `ha.groups[].vhid`).
func TestDocsCoverKeys(t *testing.T) {
	b, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = true
	}
	var missing []string
	for _, p := range keyPaths(reflect.TypeFor[Config](), "") {
		if !documented[p] {
			missing = append(missing, p)
		}
		delete(documented, p)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/config.md has no table row for: %s", strings.Join(missing, ", "))
	}
	if len(documented) > 0 {
		t.Errorf("docs/config.md documents keys that do not exist: %v", sortedKeys(documented))
	}
}

// keyPaths lists the dotted paths of all keys, writing list elements as []
// and map entries as <role> or <name>.
func keyPaths(t reflect.Type, prefix string) []string {
	var out []string
	for _, f := range orderedFields(t) {
		p := prefix + f.name
		out = append(out, p)
		ft := t.Field(f.index).Type
		for {
			switch ft.Kind() {
			case reflect.Pointer:
				ft = ft.Elem()
				continue
			case reflect.Slice:
				ft, p = ft.Elem(), p+"[]"
				continue
			case reflect.Map:
				ft, p = ft.Elem(), p+".<name>"
				continue
			}
			break
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() && ft != reflect.TypeFor[PortRange]() {
			out = append(out, keyPaths(ft, p+".")...)
		}
	}
	return out
}

// TestDocsExampleParses parses the annotated example in docs/config.md.
func TestDocsExampleParses(t *testing.T) {
	b, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/config.md has no ```yaml block")
	}
	if _, err := Parse("docs/config.md example", []byte(example)); err != nil {
		t.Errorf("the annotated example does not parse:\n%v", err)
	}
}
