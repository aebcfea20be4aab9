package kmod

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/fs/nls/nls_iso8859-1.ko": "nls_iso8859_1",
		"crc32c-intel.ko.xz":             "crc32c_intel",
		"nf_tables":                      "nf_tables",
		"nft-expr-ct":                    "nft_expr_ct",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSoftdep(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Softdep
	}{
		{"pre: crc32c", Softdep{Module: "m", Pre: []string{"crc32c"}}},
		{"pre: a b post: c", Softdep{Module: "m", Pre: []string{"a", "b"}, Post: []string{"c"}}},
		{"post: c", Softdep{Module: "m", Post: []string{"c"}}},
		// cifs writes MODULE_SOFTDEP("gcm") without "pre:".
		{"gcm", Softdep{Module: "m", Pre: []string{"gcm"}}},
	} {
		got, err := ParseSoftdep("m", tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.spec, d)
		}
	}
}

// The files the image builder writes parse back into the index PID 1 and
// modprobe resolve names with.
func TestFormatParseResolve(t *testing.T) {
	files := map[string]*bytes.Buffer{}
	buf := func(name string) *bytes.Buffer { b := &bytes.Buffer{}; files[name] = b; return b }
	deps := map[string][]string{
		"kernel/net/netfilter/nft_ct.ko":         {"kernel/net/netfilter/nf_tables.ko"},
		"kernel/lib/libcrc32c.ko":                nil,
		"kernel/crypto/crc32c_generic.ko":        nil,
		"kernel/arch/x86/crypto/crc32c_intel.ko": nil,
		"kernel/net/netfilter/nf_tables.ko":      nil,
		"kernel/drivers/net/virtio_net.ko":       nil,
	}
	order := []string{"kernel/net/netfilter/nf_tables.ko", "kernel/net/netfilter/nft_ct.ko", "kernel/lib/libcrc32c.ko",
		"kernel/crypto/crc32c_generic.ko", "kernel/arch/x86/crypto/crc32c_intel.ko", "kernel/drivers/net/virtio_net.ko"}
	if err := FormatDeps(buf(DepFile), order, deps); err != nil {
		t.Fatal(err)
	}
	aliases := []Alias{
		{"nft-expr-ct", "nft_ct"},
		{"crypto-crc32c", "crc32c_generic"}, {"crc32c", "crc32c_generic"},
		{"crc32c", "crc32c_intel"},
		{"virtio:d00000001v*", "virtio_net"},
	}
	if err := FormatAliases(buf(AliasFile), aliases); err != nil {
		t.Fatal(err)
	}
	if err := FormatSoftdeps(buf(SoftdepFile), []Softdep{{Module: "libcrc32c", Pre: []string{"crc32c"}}}); err != nil {
		t.Fatal(err)
	}
	buf(BuiltinFile).WriteString("kernel/net/packet/af_packet.ko\n")

	if got, want := files[DepFile].String(), "kernel/net/netfilter/nf_tables.ko:\nkernel/net/netfilter/nft_ct.ko: kernel/net/netfilter/nf_tables.ko\n"; !strings.HasPrefix(got, want) {
		t.Errorf("modules.dep starts %q, want %q", got, want)
	}
	ix, err := Parse(func(name string) (io.ReadCloser, error) {
		b, ok := files[name]
		if !ok {
			return nil, nil
		}
		return io.NopCloser(bytes.NewReader(b.Bytes())), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		mods    []string
		builtin bool
	}{
		{"nft_ct", []string{"nft_ct"}, false},
		{"nft-expr-ct", []string{"nft_ct"}, false},
		{"crc32c", []string{"crc32c_generic", "crc32c_intel"}, false},
		{"virtio:d00000001v00001AF4", []string{"virtio_net"}, false},
		{"af_packet", nil, true},
		{"nft-expr-nope", nil, false},
	} {
		mods, builtin := ix.Resolve(tc.name)
		if d := cmp.Diff(tc.mods, mods); d != "" || builtin != tc.builtin {
			t.Errorf("Resolve(%q): builtin %v (-want +got):\n%s", tc.name, builtin, d)
		}
	}
	if d := cmp.Diff([]string{"nf_tables"}, ix.Deps["nft_ct"]); d != "" {
		t.Errorf("deps of nft_ct (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Softdep{Module: "libcrc32c", Pre: []string{"crc32c"}}, ix.Softdeps["libcrc32c"]); d != "" {
		t.Errorf("softdep (-want +got):\n%s", d)
	}
}

func TestParseRequiresDep(t *testing.T) {
	_, err := Parse(func(string) (io.ReadCloser, error) { return nil, nil })
	if err == nil {
		t.Fatal("Parse without modules.dep succeeded")
	}
}

func TestAllListsAreDisjoint(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range All() {
		if seen[m] {
			t.Errorf("%s is in two lists", m)
		}
		seen[m] = true
	}
}
