package image

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pierrec/lz4/v4"
	"github.com/u-root/u-root/pkg/cpio"
)

func TestParseModInfo(t *testing.T) {
	raw := []byte("license=GPL\x00softdep=pre: crc32c\x00alias=nft-expr-ct\x00alias=nft-expr-notrack\x00" +
		"depends=nf_tables,nf_conntrack,\x00retpoline=Y\x00name=nft_ct\x00vermagic=6.1.0 SMP\x00\x00\x00")
	got, err := ParseModInfo(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := ModInfo{Name: "nft_ct", Depends: []string{"nf_tables", "nf_conntrack"}, Pre: []string{"crc32c"},
		Aliases: []string{"nft-expr-ct", "nft-expr-notrack"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func mod(rel, name string, deps, pre []string, aliases ...string) *module {
	return &module{rel: rel, info: ModInfo{Name: name, Depends: deps, Pre: pre, Aliases: aliases}}
}

func testTree() *moduleTree {
	t := &moduleTree{mods: map[string]*module{}}
	for _, m := range []*module{
		mod("kernel/net/netfilter/nft_ct.ko", "nft_ct", []string{"nf_tables", "nf_conntrack"}, nil, "nft-expr-ct"),
		mod("kernel/net/netfilter/nf_tables.ko", "nf_tables", []string{"nfnetlink"}, nil),
		mod("kernel/net/netfilter/nfnetlink.ko", "nfnetlink", nil, nil),
		mod("kernel/net/netfilter/nf_conntrack.ko", "nf_conntrack", []string{"libcrc32c"}, nil),
		mod("kernel/lib/libcrc32c.ko", "libcrc32c", nil, []string{"crc32c"}),
		mod("kernel/crypto/crc32c_generic.ko", "crc32c_generic", nil, nil, "crc32c", "crypto-crc32c"),
		mod("kernel/arch/x86/crypto/crc32c_intel.ko", "crc32c_intel", nil, nil, "crc32c"),
		mod("kernel/fs/ext4/ext4.ko", "ext4", nil, nil, "fs-ext4"),
	} {
		t.mods[m.info.Name] = m
	}
	return t
}

// The closure follows depends= and softdeps, aliases resolved, and
// leaves out what nothing needs.
func TestClosure(t *testing.T) {
	tree := testTree()
	mods, err := tree.closure([]string{"nft_ct"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mods {
		got = append(got, m.info.Name)
	}
	want := []string{"crc32c_intel", "crc32c_generic", "libcrc32c", "nf_conntrack", "nf_tables", "nfnetlink", "nft_ct"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := tree.closure([]string{"no_such_module"}); err == nil {
		t.Error("closure of an unknown module succeeded")
	}
}

func TestIndexFiles(t *testing.T) {
	tree := testTree()
	mods, err := tree.closure([]string{"nft_ct"})
	if err != nil {
		t.Fatal(err)
	}
	files, err := tree.indexFiles(mods)
	if err != nil {
		t.Fatal(err)
	}
	dep := string(files["modules.dep"])
	if want := "kernel/net/netfilter/nft_ct.ko: kernel/net/netfilter/nf_tables.ko kernel/net/netfilter/nf_conntrack.ko kernel/net/netfilter/nfnetlink.ko kernel/lib/libcrc32c.ko\n"; !strings.Contains(dep, want) {
		t.Errorf("modules.dep lacks %q:\n%s", want, dep)
	}
	if got := string(files["modules.softdep"]); got != "softdep libcrc32c pre: crc32c\n" {
		t.Errorf("modules.softdep = %q", got)
	}
	if alias := string(files["modules.alias"]); strings.Contains(alias, "fs-ext4") || !strings.Contains(alias, "alias nft-expr-ct nft_ct\n") {
		t.Errorf("modules.alias holds aliases of modules left out, or lacks nft_ct's:\n%s", alias)
	}
}

func testInitramfs() *Initramfs {
	return &Initramfs{
		Init:    []byte("\x7fELF pretend"),
		Release: "6.1.0-test-amd64",
		Files: map[string][]byte{
			"/lib/modules/6.1.0-test-amd64/modules.dep":               []byte("kernel/a.ko:\n"),
			"/lib/modules/6.1.0-test-amd64/kernel/net/netfilter/a.ko": []byte("module"),
		},
		MTime: 1704067200,
	}
}

// The archive holds /init, /dev/console and /sbin/modprobe, every
// directory before its content, and nothing else: no shell.
func TestInitramfsContent(t *testing.T) {
	raw, err := testInitramfs().CPIO()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]cpio.Record{}
	var names []string
	for _, r := range recs {
		if dir := parentDir(r.Name); dir != "" {
			if _, ok := byName[dir]; !ok {
				t.Errorf("%s comes before its directory %s", r.Name, dir)
			}
		}
		byName[r.Name] = r
		names = append(names, r.Name)
	}
	want := []string{"dev", "dev/console", "init", "lib", "lib/modules", "lib/modules/6.1.0-test-amd64",
		"lib/modules/6.1.0-test-amd64/kernel", "lib/modules/6.1.0-test-amd64/kernel/net",
		"lib/modules/6.1.0-test-amd64/kernel/net/netfilter", "lib/modules/6.1.0-test-amd64/kernel/net/netfilter/a.ko",
		"lib/modules/6.1.0-test-amd64/modules.dep", "proc", "run", "sbin", "sbin/modprobe", "sys", "tmp"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	if c := byName["dev/console"]; c.Mode != cpio.S_IFCHR|0o600 || c.Rmajor != 5 || c.Rminor != 1 {
		t.Errorf("/dev/console: %v", c.Info)
	}
	if m := byName["sbin/modprobe"]; m.Mode&cpio.S_IFMT != cpio.S_IFLNK || readAll(t, m) != "/init" {
		t.Errorf("/sbin/modprobe: %v", m.Info)
	}
	if i := byName["init"]; i.Mode != cpio.S_IFREG|0o755 || readAll(t, i) != "\x7fELF pretend" {
		t.Errorf("/init: %v", i.Info)
	}
}

func parentDir(name string) string {
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		return name[:i]
	}
	return ""
}

func readAll(t *testing.T, r cpio.Record) string {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The same content gives the same bytes, and the kernel's LZ4 reader
// (legacy frames) gets the archive back.
func TestInitramfsReproducible(t *testing.T) {
	a, err := testInitramfs().Compressed()
	if err != nil {
		t.Fatal(err)
	}
	b, err := testInitramfs().Compressed()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same initramfs differ")
	}
	if magic := []byte{0x02, 0x21, 0x4c, 0x18}; !bytes.HasPrefix(a, magic) {
		t.Errorf("not a legacy LZ4 frame: % x", a[:4])
	}
	raw, err := io.ReadAll(lz4.NewReader(bytes.NewReader(a)))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := testInitramfs().CPIO()
	if !bytes.Equal(raw, want) {
		t.Error("LZ4 round trip changed the archive")
	}
}

func TestCheckStatic(t *testing.T) {
	if err := checkStatic([]byte("not elf")); err == nil {
		t.Error("accepted a non-ELF file")
	}
}

// Every boot entry carries panic=5: Debian's kernel otherwise hangs on a
// panic, and a hung box never fails over.
func TestBootEntriesCarryPanic(t *testing.T) {
	for name, cfg := range map[string]string{"isolinux": isolinuxConfig(Cmdline), "grub": grubConfig(Cmdline)} {
		if !strings.Contains(cfg, " panic=5") {
			t.Errorf("%s config lacks panic=5:\n%s", name, cfg)
		}
	}
}
