package config

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// scalarType decodes the types that are written as one YAML scalar but are
// not plain Go kinds. It reports whether v was one of them.
func (d *decoder) scalarType(n *yaml.Node, v reflect.Value, p *path, ifAddr bool) bool {
	var what string
	var parse func(string) (any, error)
	switch v.Type() {
	case reflect.TypeFor[netip.Addr]():
		what, parse = "an IP address", func(s string) (any, error) { return parseAddr(s) }
	case reflect.TypeFor[netip.Prefix]():
		if ifAddr {
			what, parse = "an address with prefix length like 192.0.2.1/24", func(s string) (any, error) { return parseIfAddr(s) }
		} else {
			what, parse = "an address or CIDR like 192.0.2.0/24", func(s string) (any, error) { return parseCIDR(s) }
		}
	case reflect.TypeFor[PortRange]():
		d.portRange(n, v, p)
		return true
	case reflect.TypeFor[Duration]():
		what, parse = "a duration like 1s or 200ms", func(s string) (any, error) { return parseDuration(s) }
	default:
		return false
	}
	s, ok := d.str(n, p, what)
	if !ok {
		return true
	}
	x, err := parse(s)
	if err != nil {
		d.errAt(n, p, "%v", err)
		return true
	}
	v.Set(reflect.ValueOf(x))
	return true
}

// portRange accepts 443 or "8000-8080" (or "443").
func (d *decoder) portRange(n *yaml.Node, v reflect.Value, p *path) {
	const what = `a port (1-65535) or a range like "8000-8080"`
	var text string
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int":
		var i int64
		if n.Decode(&i) != nil {
			d.expected(n, p, what)
			return
		}
		text = strconv.FormatInt(i, 10)
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		text = n.Value
	default:
		d.expected(n, p, what)
		return
	}
	r, err := ParsePortRange(text)
	if err != nil {
		d.errAt(n, p, "%v", err)
		return
	}
	v.Set(reflect.ValueOf(r))
}

// parseAddr reads an IP address. Zones and IPv4-mapped IPv6 addresses are
// refused: a role already names the link, and a mapped address would slip
// past the IPv4/IPv6 family checks.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q has a zone; leave it out, the interface role names the link", s)
	}
	if a.Is4In6() {
		return netip.Addr{}, fmt.Errorf("%q is an IPv4-mapped IPv6 address; write %s", s, a.Unmap())
	}
	return a, nil
}

// parseCIDR reads a network for an address list: a bare host (10.0.0.1
// becomes 10.0.0.1/32) or a CIDR without host bits.
func parseCIDR(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := parseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	pfx, err := parsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if m := pfx.Masked(); m != pfx {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; write the network %s, or the host %s",
			s, m, netip.PrefixFrom(pfx.Addr(), pfx.Addr().BitLen()))
	}
	return pfx, nil
}

// parseIfAddr reads an interface address, which needs its prefix length
// (the kernel derives the on-link route from it) and keeps its host bits.
func parseIfAddr(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		return netip.Prefix{}, fmt.Errorf("%q has no prefix length; expected an address like 192.0.2.1/24", s)
	}
	return parsePrefix(s)
}

func parsePrefix(s string) (netip.Prefix, error) {
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a valid address/prefix length", s)
	}
	if pfx.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped IPv6 prefix; write the IPv4 form", s)
	}
	return pfx, nil
}

// ParsePortRange reads "443" or "8000-8080". Port 0 is refused: it is not
// a port a packet can be addressed to.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	from, err1 := parsePort(strings.TrimSpace(lo))
	to := from
	var err2 error
	if isRange {
		to, err2 = parsePort(strings.TrimSpace(hi))
	}
	if err := errors.Join(err1, err2); err != nil {
		return PortRange{}, fmt.Errorf(`%q: expected a port (1-65535) or a range like "8000-8080"`, s)
	}
	if from > to {
		return PortRange{}, fmt.Errorf("%q: range is backwards; write %d-%d", s, to, from)
	}
	return PortRange{From: from, To: to}, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a number")
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, errors.New("out of range")
	}
	return uint16(n), nil
}

// String writes the range as the config does: "443" or "8000-8080".
func (r PortRange) String() string {
	if r.From == r.To {
		return strconv.Itoa(int(r.From))
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// MarshalText implements encoding.TextMarshaler (JSON, the web UI).
func (r PortRange) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *PortRange) UnmarshalText(b []byte) error {
	v, err := ParsePortRange(string(b))
	if err != nil {
		return fmt.Errorf("config: port range: %w", err)
	}
	*r = v
	return nil
}

// MarshalYAML writes a single port as a number, so that a document written
// by yaml.Marshal reads the way an admin would write it.
func (r PortRange) MarshalYAML() (any, error) {
	if r.From == r.To {
		return int(r.From), nil
	}
	return r.String(), nil
}

// parseDuration reads a Go duration; negative ones mean nothing here.
func parseDuration(s string) (Duration, error) {
	t, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; expected one like 1s, 200ms or 2m", s)
	}
	if t < 0 {
		return 0, fmt.Errorf("%q is negative; expected a positive duration", s)
	}
	return Duration(t), nil
}

// String writes the duration the short way: 2m rather than 2m0s.
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return fmt.Errorf("config: duration: %w", err)
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as a string; without it yaml.Marshal
// would write nanoseconds.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
