package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/google/nftables"

	"rampart/config"
)

// Limits that Compile enforces on top of the config package's checks:
// they depend on how rules expand into set elements.
const (
	// MaxElements bounds the elements of all sets together, so that a
	// config cannot exhaust kernel memory.
	MaxElements = 1 << 21
	// MaxRuleElements bounds what one rule may expand to (addresses x
	// ports on each side).
	MaxRuleElements = 1 << 16
	// DefaultWebUIPort is the admin UI's port when cfg.WebUI.Port is 0.
	DefaultWebUIPort = 443
	// DefaultStateSyncPort is the conntrack sync port when
	// cfg.StateSync.Port is 0.
	DefaultStateSyncPort = 7547
)

// Compile turns a config into the complete ruleset: pure, no kernel
// access. It reports every problem it finds, joined.
func Compile(cfg *config.Config) (*Ruleset, error) {
	if cfg == nil {
		return nil, errors.New("firewall: compile: nil config")
	}
	c := &compiler{cfg: cfg, aliases: map[string]*alias{}}
	rs := c.run()
	if err := errors.Join(c.errs...); err != nil {
		return nil, fmt.Errorf("firewall: compile: %w", err)
	}
	return rs, nil
}

type compiler struct {
	cfg     *config.Config
	errs    []error
	aliases map[string]*alias
	sets    []*set   // alias sets
	jumps   []*chain // per-rule chains (log, reject)
	input   segmenter
	forward segmenter
	pre     []*rule // nat prerouting
	post    []*rule // nat postrouting
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

func (c *compiler) run() *Ruleset {
	c.compileAliases()
	c.inputDefaults()
	c.forwardDefaults()
	for i, r := range c.cfg.Rules {
		if r != nil && !r.Disabled {
			c.userRule(i, r)
		}
	}
	// Port-forward accepts follow the user rules, as pfSense places a
	// forward's associated rule: a user rule that drops (a blocklist)
	// still wins over an exposed service.
	c.portForwards()
	c.sourceNAT()

	filter := &table{name: FilterTable, sets: slices.Clone(c.sets)}
	in := &chain{name: "input", hook: &hook{typ: nftables.ChainTypeFilter, num: *nftables.ChainHookInput, policy: vDrop}}
	fwd := &chain{name: "forward", hook: &hook{typ: nftables.ChainTypeFilter, num: *nftables.ChainHookForward, policy: vDrop}}
	out := &chain{name: "output", hook: &hook{typ: nftables.ChainTypeFilter, num: *nftables.ChainHookOutput, policy: vAccept}}
	c.input.build(filter, in)
	c.forward.build(filter, fwd)
	filter.chains = append([]*chain{in, fwd, out}, c.jumps...)

	nat := &table{name: NATTable, chains: []*chain{
		{name: "prerouting", hook: &hook{typ: nftables.ChainTypeNAT, num: *nftables.ChainHookPrerouting, prio: -100, policy: vAccept}, rules: c.pre},
		{name: "postrouting", hook: &hook{typ: nftables.ChainTypeNAT, num: *nftables.ChainHookPostrouting, prio: 100, policy: vAccept}, rules: c.post},
	}}
	seen := map[string]bool{}
	for _, s := range filter.sets {
		if seen[s.name] {
			c.errorf("two aliases compile to the set %q: rename one", s.name)
		}
		seen[s.name] = true
	}
	rs := &Ruleset{tables: []*table{filter, nat}}
	if n := rs.Elements(); n > MaxElements {
		c.errorf("the ruleset has %d set elements, more than %d", n, MaxElements)
	}
	return rs
}

// device resolves an interface role to its kernel device name.
func (c *compiler) device(what, role string) (string, bool) {
	ifc := c.cfg.Interfaces[role]
	if ifc == nil {
		c.errorf("%s: unknown interface role %q", what, role)
		return "", false
	}
	if ifc.Device == "" || len(ifc.Device) > 15 {
		c.errorf("%s: interface %q: bad device name %q", what, role, ifc.Device)
		return "", false
	}
	return ifc.Device, true
}

// alias is an alias compiled to sets: one per address family, or one of
// ports.
type alias struct {
	sets   [3]string // set name by family (famV4, famV6; famAny: ports); "" if none
	addrs  [3][]span
	ports  []span
	isPort bool
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

func (c *compiler) compileAliases() {
	names := make([]string, 0, len(c.cfg.Aliases))
	for n := range c.cfg.Aliases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		a := c.cfg.Aliases[n]
		if a == nil {
			continue
		}
		if !nameRE.MatchString(n) {
			c.errorf("alias %q: a name must start with a letter and hold only letters, digits, _ and -", n)
			continue
		}
		c.aliases[n] = c.compileAlias(n, a)
	}
}

func (c *compiler) compileAlias(name string, a *config.Alias) *alias {
	out := &alias{}
	if len(a.Ports) > 0 {
		out.isPort = true
		for _, p := range a.Ports {
			out.ports = append(out.ports, portSpan(p))
		}
		out.ports = normalize(out.ports, false)
		out.sets[famAny] = portSetName(name)
		s := &set{name: out.sets[famAny], fields: []field{fDPort}, interval: true, comment: a.Comment}
		s.elems = spanElems(out.ports)
		s.sum = fingerprint(s.elems)
		c.sets = append(c.sets, s)
		return out
	}
	for _, f := range []family{famV4, famV6} {
		var spans []span
		for _, p := range a.Addresses {
			if familyOf(p.Addr()) == f {
				spans = append(spans, prefixSpan(p))
			}
		}
		if len(spans) == 0 {
			continue
		}
		out.addrs[f] = normalize(spans, false)
		out.sets[f] = name + "_v" + map[family]string{famV4: "4", famV6: "6"}[f]
		s := &set{name: out.sets[f], fields: []field{saddrField(f)}, interval: true, comment: a.Comment}
		s.elems = spanElems(out.addrs[f])
		s.sum = fingerprint(s.elems)
		c.sets = append(c.sets, s)
	}
	return out
}

// Set names get a suffix so that no alias name can clash with an nft
// keyword (a set called tcp cannot be referenced as @tcp).
func portSetName(alias string) string {
	if strings.HasSuffix(alias, "_ports") {
		return alias
	}
	return alias + "_ports"
}

func familyOf(a netip.Addr) family {
	if a.Is4() {
		return famV4
	}
	return famV6
}

// addrSpans splits prefixes by family, merged for use as keys.
func addrSpans(ps []netip.Prefix) [3][]span {
	var out [3][]span
	for _, p := range ps {
		f := familyOf(p.Addr())
		out[f] = append(out[f], prefixSpan(p))
	}
	for f := range out {
		out[f] = normalize(out[f], true)
	}
	return out
}

// addJump creates a per-rule chain that logs and/or rejects, and returns
// the verdict that reaches it.
func (c *compiler) addJump(name, prefix string, action config.Action, log bool) verdict {
	ch := &chain{name: name}
	var v node
	switch action {
	case config.Accept:
		v = verdictNode{vAccept}
	case config.Drop:
		v = verdictNode{vDrop}
	}
	switch {
	case log && v != nil:
		ch.rules = append(ch.rules, newRule(nil, "", logNode{prefix}, v))
	case log:
		ch.rules = append(ch.rules, newRule(nil, "", logNode{prefix}))
	}
	if action == config.Reject {
		ch.rules = append(ch.rules,
			newRule(nil, "", protoNode{protoTCP}, rejectNode{tcp: true}),
			newRule(nil, "", rejectNode{}))
	}
	c.jumps = append(c.jumps, ch)
	return jumpTo(name)
}
