package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Names the config lets an admin choose. Role names become parts of nft
// chain names and appear in the UI, so they are short and plain; device
// names follow the kernel's dev_valid_name.
var (
	roleName  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	aliasName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)
)

const (
	maxRoleName  = 15 // fits IFNAMSIZ, so a role may double as a device name
	maxAliasName = 64 // leaves room for a prefix in the nft set name (max 255)
	maxHostname  = 64 // the kernel's __NEW_UTS_LEN
	ifNameSize   = 16 // IFNAMSIZ, with the terminating NUL
	minSecretLen = 16 // passphrases and secrets shorter than this are guessable
)

// Validate checks a Config built in Go (the web UI, config sync) by the
// same rules Parse applies to a document. Its errors carry key paths but no
// positions. Zero values that have defaults are accepted.
func (c *Config) Validate() error {
	if c == nil {
		return Errors{{Msg: "config is nil"}}
	}
	v := &validator{c: c}
	v.config()
	return v.errs.errOrNil()
}

// validator checks the meaning of a decoded Config. With a locator (from
// Parse) its errors get positions; without one (Validate) only paths.
type validator struct {
	c    *Config
	loc  *locator
	errs Errors
}

func (v *validator) report(p *path, at pos, format string, args ...any) {
	e := &Error{Path: p.s, Msg: fmt.Sprintf(format, args...)}
	if v.loc != nil {
		if v.loc.broken(p) {
			return
		}
		e.File, e.Line, e.Col = v.loc.file, at.line, at.col
	}
	v.errs = append(v.errs, e)
}

// errf reports a problem with the value at p.
func (v *validator) errf(p *path, format string, args ...any) {
	var at pos
	if v.loc != nil {
		at = v.loc.at(p)
	}
	v.report(p, at, format, args...)
}

// keyErrf reports a problem with the key (a name) at p.
func (v *validator) keyErrf(p *path, format string, args ...any) {
	var at pos
	if v.loc != nil {
		at = v.loc.keyAt(p)
	}
	v.report(p, at, format, args...)
}

// present tells an explicit zero from an omitted key. Without a locator
// nothing was "written", so zeros mean defaults.
func (v *validator) present(p *path) bool {
	return v.loc != nil && v.loc.present(p)
}

// docOrder sorts map keys by where they appear in the document, so that
// "already used by" points back to the earlier entry, as a reader expects.
func (v *validator) docOrder(p *path, keys []string) []string {
	if v.loc == nil {
		return keys
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := v.loc.keyAt(p.key(keys[i])), v.loc.keyAt(p.key(keys[j]))
		return a.line < b.line || a.line == b.line && a.col < b.col
	})
	return keys
}

// broken says that a whole section failed to decode; references into it
// are then not checked, as every one would be a false alarm.
func (v *validator) broken(p *path) bool {
	return v.loc != nil && v.loc.broken(p)
}

func (v *validator) config() {
	root := &path{}
	if v.c.SchemaVersion != SchemaVersion {
		p := root.key("schema_version")
		if v.present(p) {
			v.errf(p, "unsupported version %d; expected %d", v.c.SchemaVersion, SchemaVersion)
		} else {
			v.errf(p, "required; expected %d", SchemaVersion)
		}
	}
	v.hostname(root.key("hostname"), v.c.Hostname)
	v.interfaces(root.key("interfaces"))
	v.aliases(root.key("aliases"))
	v.rules(root.key("rules"))
	v.nat(root.key("nat"))
	v.roleList(root.key("management").key("interfaces"), v.c.Management.Interfaces)
	if v.c.HA != nil {
		v.ha(root.key("ha"), v.c.HA)
	}
	if v.c.StateSync != nil {
		v.stateSync(root.key("statesync"), v.c.StateSync)
	}
	v.webUI(root.key("webui"), &v.c.WebUI)
}

// hostname checks an RFC 1123 host name that also fits the kernel.
func (v *validator) hostname(p *path, h string) {
	if h == "" {
		v.errf(p, "required; expected a host name like fw-a")
		return
	}
	if len(h) > maxHostname {
		v.errf(p, "%q is longer than %d characters", h, maxHostname)
		return
	}
	for _, label := range strings.Split(h, ".") {
		if len(label) > 63 || !hostLabel.MatchString(label) {
			v.errf(p, "%q is not a valid host name; expected letters, digits and inner hyphens (RFC 1123)", h)
			return
		}
	}
}

func (v *validator) interfaces(p *path) {
	if len(v.c.Interfaces) == 0 {
		v.errf(p, "required; expected at least one interface role, like lan: {device: eth0}")
		return
	}
	devices := map[string]string{} // device → role
	for _, role := range v.docOrder(p, sortedKeys(v.c.Interfaces)) {
		rp := p.key(role)
		if len(role) > maxRoleName || !roleName.MatchString(role) {
			v.keyErrf(rp, "invalid role name %q; expected a lowercase letter then lowercase letters, digits or _, at most %d characters", role, maxRoleName)
		}
		ifc := v.c.Interfaces[role]
		if ifc == nil {
			v.errf(rp, "empty interface; expected at least device")
			continue
		}
		v.iface(rp, ifc)
		if other, dup := devices[ifc.Device]; dup && ifc.Device != "" {
			v.errf(rp.key("device"), "device %q is already used by role %s", ifc.Device, other)
		} else {
			devices[ifc.Device] = role
		}
	}
}

func (v *validator) iface(p *path, ifc *Interface) {
	if msg := checkDevice(ifc.Device); msg != "" {
		v.errf(p.key("device"), "%s", msg)
	}
	seen := map[netip.Addr]bool{}
	for i, a := range ifc.Addresses {
		ap := p.key("addresses").index(i)
		switch {
		case !a.IsValid():
			v.errf(ap, "expected an address with prefix length like 192.0.2.1/24")
		case seen[a.Addr()]:
			v.errf(ap, "address %s is listed twice", a.Addr())
		case a.Addr().IsUnspecified() || a.Addr().IsMulticast():
			v.errf(ap, "%s cannot be an interface address", a)
		}
		seen[a.Addr()] = true
	}
	if ifc.Gateway != nil {
		v.gateway(p.key("gateway"), *ifc.Gateway, ifc.Addresses)
	}
}

// checkDevice follows the kernel's dev_valid_name.
func checkDevice(dev string) string {
	switch {
	case dev == "":
		return "required; expected a device name like eth0"
	case len(dev) >= ifNameSize:
		return fmt.Sprintf("device name %q is longer than %d bytes", dev, ifNameSize-1)
	case dev == "." || dev == "..":
		return fmt.Sprintf("%q is not a valid device name", dev)
	case strings.ContainsFunc(dev, func(r rune) bool { return r == '/' || r == ':' || r <= ' ' || r == 0x7f }):
		return fmt.Sprintf("device name %q contains '/', ':', a space or a control character", dev)
	}
	return ""
}

// gateway must be on a connected subnet, or the kernel cannot reach it.
func (v *validator) gateway(p *path, gw netip.Addr, addrs []IfAddr) {
	if !gw.IsValid() {
		v.errf(p, "expected an IP address")
		return
	}
	for _, a := range addrs {
		if a.IsValid() && a.Masked().Contains(gw) {
			if a.Addr() == gw {
				v.errf(p, "gateway %s is this interface's own address", gw)
			}
			return
		}
	}
	v.errf(p, "gateway %s is not inside any subnet of this interface (%s)", gw, prefixList(addrs))
}

func prefixList(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "it has no addresses"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

func (v *validator) aliases(p *path) {
	for _, name := range sortedKeys(v.c.Aliases) {
		ap := p.key(name)
		if len(name) > maxAliasName || !aliasName.MatchString(name) {
			v.keyErrf(ap, "invalid alias name %q; expected a letter then letters, digits, _ or -, at most %d characters", name, maxAliasName)
		}
		a := v.c.Aliases[name]
		switch {
		case a == nil || len(a.Addresses) == 0 && len(a.Ports) == 0:
			v.errf(ap, "empty alias; expected addresses or ports")
		case len(a.Addresses) > 0 && len(a.Ports) > 0:
			v.errf(ap.key("ports"), "an alias holds addresses or ports, not both; split it in two")
		default:
			v.prefixes(ap.key("addresses"), a.Addresses)
			v.ports(ap.key("ports"), a.Ports)
		}
	}
}

// prefixes checks address lists built in Go, which did not pass the parser.
func (v *validator) prefixes(p *path, ps []netip.Prefix) {
	for i, pfx := range ps {
		switch {
		case !pfx.IsValid():
			v.errf(p.index(i), "expected an address or CIDR")
		case pfx.Masked() != pfx:
			v.errf(p.index(i), "%s has host bits set; write the network %s", pfx, pfx.Masked())
		}
	}
}

// ports checks port ranges built in Go, which did not pass the parser.
func (v *validator) ports(p *path, rs []PortRange) {
	for i, r := range rs {
		v.portRange(p.index(i), r)
	}
}

func (v *validator) portRange(p *path, r PortRange) {
	if r.From == 0 || r.From > r.To {
		v.errf(p, "invalid port range %d-%d; expected ports 1-65535, low to high", r.From, r.To)
	}
}

// roleList checks a list of references to interface roles.
func (v *validator) roleList(p *path, roles []string) {
	seen := map[string]bool{}
	for i, r := range roles {
		v.role(p.index(i), r)
		if seen[r] {
			v.errf(p.index(i), "%s is listed twice", r)
		}
		seen[r] = true
	}
}

// role checks one reference to an interface role.
func (v *validator) role(p *path, r string) {
	if r == "" {
		v.errf(p, "required; expected an interface role (%s)", v.roleNames())
		return
	}
	if _, ok := v.c.Interfaces[r]; !ok && !v.broken(&path{s: "interfaces"}) {
		v.errf(p, "interface %q does not exist; expected one of: %s", r, v.roleNames())
	}
}

func (v *validator) roleNames() string {
	if len(v.c.Interfaces) == 0 {
		return "none are defined"
	}
	return strings.Join(sortedKeys(v.c.Interfaces), ", ")
}

func (v *validator) webUI(p *path, w *WebUI) {
	if w.Port == 0 && v.present(p.key("port")) {
		v.errf(p.key("port"), "port 0 is not valid; expected 1-65535 (leave it out for %d)", DefaultWebUIPort)
	}
	v.positive(p.key("session_idle"), w.SessionIdle)
	v.positive(p.key("confirm_timeout"), w.ConfirmTimeout)
}

// positive rejects an explicit zero (or a negative value built in Go) for a
// duration whose zero means "use the default".
func (v *validator) positive(p *path, d Duration) {
	if d < 0 || d == 0 && v.present(p) {
		v.errf(p, "expected a positive duration (leave it out for the default)")
	}
}

// between checks a duration that has bounds; zero means the default.
func (v *validator) between(p *path, d Duration, lo, hi time.Duration) {
	v.positive(p, d)
	if d > 0 && (time.Duration(d) < lo || time.Duration(d) > hi) {
		v.errf(p, "%s is out of range; expected %s to %s", d, Duration(lo), Duration(hi))
	}
}
