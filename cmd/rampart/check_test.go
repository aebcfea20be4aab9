package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckValidPrintsRuleset(t *testing.T) {
	var out, errOut bytes.Buffer
	code := rampart(context.Background(), []string{"check", "../../examples/single.yaml"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "table inet rampart") {
		t.Errorf("stdout does not show the ruleset:\n%s", out.String())
	}
}

func TestCheckInvalidListsEveryError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := `schema_version: 1
hostname: fw
interfaces:
  lan: {device: eth0, addresses: [192.168.1.1/24]}
rules:
  - from: {interface: lna}
    action: accept
  - to: {alias: nosuch}
    action: maybe
bogus_key: 1
`
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := rampart(context.Background(), []string{"check", path}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if out.Len() != 0 {
		t.Errorf("stdout not empty for an invalid file:\n%s", out.String())
	}
	msg := errOut.String()
	for _, want := range []string{"bad.yaml:6:", "lna", "bad.yaml:8:", "nosuch", "bad.yaml:9:", "maybe", "bad.yaml:10:", "bogus_key"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := rampart(context.Background(), []string{"frobnicate"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
}
