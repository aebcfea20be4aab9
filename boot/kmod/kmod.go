// Package kmod reads and writes the module index files that modprobe
// needs: modules.dep, modules.alias, modules.softdep and modules.builtin.
// The image builder writes them, because Debian's kernel package ships no
// modules.dep; PID 1 and the /sbin/modprobe that the kernel calls read
// them, because u-root's kmodule follows modules.dep only and ignores
// aliases and soft dependencies.
//
// The formats are depmod's, so the files also read with the usual tools:
//
//	modules.dep      kernel/net/netfilter/nft_ct.ko: kernel/net/netfilter/nf_tables.ko ...
//	modules.alias    alias nft-expr-ct nft_ct
//	modules.softdep  softdep libcrc32c pre: crc32c
//	modules.builtin  kernel/fs/binfmt_misc.ko
package kmod

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
)

// File names inside /lib/modules/<release>.
const (
	DepFile     = "modules.dep"
	AliasFile   = "modules.alias"
	SoftdepFile = "modules.softdep"
	BuiltinFile = "modules.builtin"
)

// Alias maps a pattern (fnmatch, as modprobe uses) to a module name.
type Alias struct {
	Pattern string
	Module  string
}

// Softdep lists the modules (names or aliases) to load before and after a
// module. The kernel's dependency tracking does not know them: they are
// for code a module finds at run time, such as a crc32c implementation.
type Softdep struct {
	Module    string
	Pre, Post []string
}

// Index is the parsed module index of one kernel release.
type Index struct {
	// Paths maps each loadable module's name to its file, relative to the
	// release directory.
	Paths map[string]string
	// Deps maps each module's name to the names of all the modules it
	// needs, transitively, as modules.dep lists them.
	Deps     map[string][]string
	Aliases  []Alias
	Softdeps map[string]Softdep
	// Builtin holds the names of modules built into the kernel.
	Builtin map[string]bool
}

// Name normalises a module name or file name the way the kernel does:
// no directory, no .ko suffix, dashes as underscores.
func Name(s string) string {
	s = path.Base(s)
	if i := strings.Index(s, ".ko"); i >= 0 {
		s = s[:i]
	}
	return strings.ReplaceAll(s, "-", "_")
}

// Resolve turns a module name or an alias into module names, the way
// modprobe does: a module of that name wins; otherwise every module with
// a matching alias, in file order. Built-in modules resolve to nothing
// and report builtin, since there is nothing to load.
func (ix *Index) Resolve(name string) (mods []string, builtin bool) {
	n := Name(name)
	if _, ok := ix.Paths[n]; ok {
		return []string{n}, false
	}
	if ix.Builtin[n] {
		return nil, true
	}
	for _, a := range ix.Aliases {
		if Match(a.Pattern, name) && !slices.Contains(mods, a.Module) {
			mods = append(mods, a.Module)
		}
	}
	return mods, false
}

// Match reports whether an alias pattern matches name. Patterns use
// fnmatch's *, ? and [...]; a malformed pattern matches only itself.
func Match(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	if err != nil {
		return pattern == name
	}
	return ok
}

// Parse reads the index files through open, which returns a missing
// optional file as (nil, nil). modules.dep is required.
func Parse(open func(name string) (io.ReadCloser, error)) (*Index, error) {
	ix := &Index{Paths: map[string]string{}, Deps: map[string][]string{}, Softdeps: map[string]Softdep{}, Builtin: map[string]bool{}}
	steps := []struct {
		file     string
		required bool
		parse    func(io.Reader) error
	}{
		{DepFile, true, ix.parseDeps},
		{AliasFile, false, ix.parseAliases},
		{SoftdepFile, false, ix.parseSoftdeps},
		{BuiltinFile, false, ix.parseBuiltin},
	}
	for _, s := range steps {
		rc, err := open(s.file)
		if err != nil {
			return nil, fmt.Errorf("kmod: open %s: %w", s.file, err)
		}
		if rc == nil {
			if s.required {
				return nil, fmt.Errorf("kmod: %s is missing", s.file)
			}
			continue
		}
		err = s.parse(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("kmod: %s: %w", s.file, err)
		}
	}
	return ix, nil
}

func (ix *Index) parseDeps(r io.Reader) error {
	return eachLine(r, func(line string) error {
		file, deps, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("no colon in %q", line)
		}
		name := Name(file)
		ix.Paths[name] = file
		for _, d := range strings.Fields(deps) {
			ix.Deps[name] = append(ix.Deps[name], Name(d))
		}
		return nil
	})
}

func (ix *Index) parseAliases(r io.Reader) error {
	return eachLine(r, func(line string) error {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "alias" {
			return fmt.Errorf("bad line %q", line)
		}
		ix.Aliases = append(ix.Aliases, Alias{Pattern: f[1], Module: Name(f[2])})
		return nil
	})
}

func (ix *Index) parseSoftdeps(r io.Reader) error {
	return eachLine(r, func(line string) error {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "softdep" {
			return fmt.Errorf("bad line %q", line)
		}
		sd, err := ParseSoftdep(f[1], strings.Join(f[2:], " "))
		if err != nil {
			return err
		}
		ix.Softdeps[sd.Module] = sd
		return nil
	})
}

func (ix *Index) parseBuiltin(r io.Reader) error {
	return eachLine(r, func(line string) error {
		ix.Builtin[Name(line)] = true
		return nil
	})
}

// ParseSoftdep parses "pre: a b post: c", the format of MODULE_SOFTDEP in
// .modinfo and of modules.softdep. Some modules (cifs) leave out the
// "pre:"; names before any keyword count as pre.
func ParseSoftdep(module, spec string) (Softdep, error) {
	sd := Softdep{Module: Name(module)}
	cur := &sd.Pre
	for _, f := range strings.Fields(spec) {
		switch f {
		case "pre:":
			cur = &sd.Pre
		case "post:":
			cur = &sd.Post
		default:
			*cur = append(*cur, f)
		}
	}
	return sd, nil
}

// eachLine calls fn for every non-empty line that is not a comment.
func eachLine(r io.Reader, fn func(string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// FormatDeps writes modules.dep: each module file with the files of all
// the modules it needs, transitively, nearest first as depmod does.
func FormatDeps(w io.Writer, files []string, deps map[string][]string) error {
	for _, f := range files {
		if _, err := fmt.Fprintf(w, "%s:", f); err != nil {
			return err
		}
		for _, d := range deps[f] {
			if _, err := fmt.Fprintf(w, " %s", d); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	return nil
}

// FormatAliases writes modules.alias in the given order.
func FormatAliases(w io.Writer, aliases []Alias) error {
	for _, a := range aliases {
		if _, err := fmt.Fprintf(w, "alias %s %s\n", a.Pattern, a.Module); err != nil {
			return err
		}
	}
	return nil
}

// FormatSoftdeps writes modules.softdep, sorted by module.
func FormatSoftdeps(w io.Writer, sds []Softdep) error {
	sds = slices.Clone(sds)
	sort.Slice(sds, func(i, j int) bool { return sds[i].Module < sds[j].Module })
	for _, sd := range sds {
		line := "softdep " + sd.Module
		if len(sd.Pre) > 0 {
			line += " pre: " + strings.Join(sd.Pre, " ")
		}
		if len(sd.Post) > 0 {
			line += " post: " + strings.Join(sd.Post, " ")
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}
