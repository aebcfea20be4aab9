package webui

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testSection(t *testing.T, name string) *section {
	t.Helper()
	for _, s := range sectionList() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no section %s", name)
	return nil
}

func TestSectionOps(t *testing.T) {
	rules := testSection(t, "rules")
	tree := map[string]any{"rules": []any{map[string]any{"comment": "a"}, map[string]any{"comment": "b"}}}
	comments := func() []string {
		var out []string
		for _, r := range rules.items(tree) {
			out = append(out, r.(map[string]any)["comment"].(string))
		}
		return out
	}
	orig := rules.items(tree)
	key, err := rules.add(tree, "", 1, map[string]any{"comment": "new"})
	if err != nil || key != "1" {
		t.Fatalf("add: %q %v", key, err)
	}
	if orig[1].(map[string]any)["comment"] != "b" {
		t.Error("add modified the old list in place")
	}
	if key, _ := rules.move(tree, "0", 9); key != "2" {
		t.Errorf("move past the end went to %s, want 2 (clamped)", key)
	}
	if diff := cmp.Diff([]string{"new", "b", "a"}, comments()); diff != "" {
		t.Errorf("after add and move (-want +got):\n%s", diff)
	}
	if err := rules.update(tree, "1", map[string]any{"comment": "B"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"3", "-1", "01", "x", ""} {
		if err := rules.remove(tree, bad); err != errNoItem {
			t.Errorf("remove %q: %v, want errNoItem", bad, err)
		}
	}
	for range 3 {
		if err := rules.remove(tree, "0"); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := tree["rules"]; ok {
		t.Error("an emptied list stays in the document")
	}

	aliases := testSection(t, "aliases")
	if _, err := aliases.add(tree, "web", -1, map[string]any{"ports": []any{80}}); err != nil {
		t.Fatal(err)
	}
	if _, err := aliases.add(tree, "web", -1, map[string]any{}); err != errItemExists {
		t.Errorf("second add: %v", err)
	}
	if _, err := aliases.move(tree, "web", 0); err != errNoItem {
		t.Errorf("move in a map: %v", err)
	}
	fwd := testSection(t, "port_forwards")
	if _, err := fwd.add(tree, "", -1, map[string]any{"in": "wan"}); err != nil {
		t.Fatal(err)
	}
	if got := tree["nat"].(map[string]any)["port_forwards"].([]any); len(got) != 1 {
		t.Errorf("nested section not created: %v", tree)
	}
}

func TestAttach(t *testing.T) {
	rules, aliases, groups := testSection(t, "rules"), testSection(t, "aliases"), testSection(t, "groups")
	for _, tc := range []struct {
		sec       *section
		key, path string
		want      string
	}{
		{rules, "3", "rules[3].from.alias", "from.alias"},
		{rules, "3", "rules[3].to.addresses[1]", "to.addresses"},
		{rules, "3", "rules[3].action", "action"},
		{rules, "3", "rules[3]", "-"},
		{rules, "3", "rules[3].nosuch", "-"},
		{rules, "3", "rules[30].action", ""},
		{rules, "3", "aliases.x", ""},
		{aliases, "web", "aliases.web", "name"},
		{aliases, "web", "aliases.web.addresses[0]", "addresses"},
		{aliases, "bad name", `aliases["bad name"]`, "name"},
		{aliases, "web", "aliases.webby", ""},
		{groups, "0", "ha.groups[0].vips[1].address", "vips"},
		{groups, "0", "ha.groups[0].priority", "priority"},
	} {
		errs := []fieldError{{Path: tc.path}}
		tc.sec.attach(errs, tc.key)
		if errs[0].Field != tc.want {
			t.Errorf("%s item %s, error at %s: field %q, want %q", tc.sec.Name, tc.key, tc.path, errs[0].Field, tc.want)
		}
	}
}

func TestFormRoundTrip(t *testing.T) {
	groups := testSection(t, "groups")
	base := map[string]any{"vhid": 1, "priority": 100, "preempt": true, "advbase": "1s", "unknown_future_key": "kept",
		"vips": []any{map[string]any{"interface": "lan", "address": "192.0.2.1/24"}}}
	vals := groups.toForm(base, "0")
	want := map[string]string{"vhid": "1", "priority": "100", "preempt": "on", "preempt_delay": "", "advbase": "1s",
		"vips": "lan 192.0.2.1/24", "track": ""}
	if diff := cmp.Diff(want, vals); diff != "" {
		t.Errorf("toForm (-want +got):\n%s", diff)
	}
	form := url.Values{"vhid": {"1"}, "priority": {"9x"}, "vips": {"lan 192.0.2.1/24\r\n\r\nwan 198.51.100.1/24 extra\n"}, "track": {"lan, wan"}}
	item, _ := groups.fromForm(form, base)
	wantItem := map[string]any{"vhid": int64(1), "priority": "9x", "preempt": false, "unknown_future_key": "kept",
		"vips":  []any{map[string]any{"interface": "lan", "address": "192.0.2.1/24"}, map[string]any{"address": "wan 198.51.100.1/24 extra"}},
		"track": []any{"lan", "wan"}}
	if diff := cmp.Diff(wantItem, item); diff != "" {
		t.Errorf("fromForm (-want +got):\n%s", diff)
	}
	if base["advbase"] != "1s" {
		t.Error("fromForm modified its base")
	}
	rules := testSection(t, "rules")
	item, _ = rules.fromForm(url.Values{"action": {"accept"}, "to.ports": {""}, "from.interface": {"lan"}}, map[string]any{"to": map[string]any{"ports": []any{22}}})
	if diff := cmp.Diff(map[string]any{"action": "accept", "from": map[string]any{"interface": "lan"}}, item); diff != "" {
		t.Errorf("emptied endpoint not pruned (-want +got):\n%s", diff)
	}
}
