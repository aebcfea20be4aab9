package image

import (
	"bytes"
	"debug/elf"
	"fmt"
	"strings"

	"rampart/boot/kmod"
)

// ModInfo is what a kernel module says about itself in its .modinfo
// section. Debian's kernel package ships no modules.dep, so these fields
// are the only source for dependencies, soft dependencies and aliases.
type ModInfo struct {
	Name    string   // name=, the name the kernel knows it by (underscores)
	Depends []string // depends=: modules whose symbols it needs
	Pre     []string // softdep= "pre:" names (module names or aliases)
	Post    []string // softdep= "post:" names
	Aliases []string // alias=: patterns for modprobe and request_module
}

// ReadModInfo parses the .modinfo section of the ELF module in data.
func ReadModInfo(data []byte) (ModInfo, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return ModInfo{}, fmt.Errorf("modinfo: %w", err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return ModInfo{}, fmt.Errorf("modinfo: no .modinfo section")
	}
	raw, err := sec.Data()
	if err != nil {
		return ModInfo{}, fmt.Errorf("modinfo: read section: %w", err)
	}
	return ParseModInfo(raw)
}

// ParseModInfo parses the raw .modinfo section: NUL-separated key=value
// strings.
func ParseModInfo(raw []byte) (ModInfo, error) {
	var m ModInfo
	for _, kv := range bytes.Split(raw, []byte{0}) {
		key, value, ok := strings.Cut(string(kv), "=")
		if !ok {
			continue
		}
		switch key {
		case "name":
			m.Name = value
		case "depends":
			m.Depends = append(m.Depends, splitList(value, ",")...)
		case "softdep":
			sd, err := kmod.ParseSoftdep(m.Name, value)
			if err != nil {
				return ModInfo{}, fmt.Errorf("modinfo: %w", err)
			}
			m.Pre = append(m.Pre, sd.Pre...)
			m.Post = append(m.Post, sd.Post...)
		case "alias":
			m.Aliases = append(m.Aliases, value)
		}
	}
	return m, nil
}

func splitList(s, sep string) []string {
	var out []string
	for _, f := range strings.Split(s, sep) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
