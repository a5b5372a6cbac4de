package fetch

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// ErrRefusedAddress: Options.Guard refused to connect to an address that
// is not on the public internet (loopback, private, link-local, the cloud
// metadata address…). Never retried. The error is an *AddressError naming
// the host, the address and the rule.
var ErrRefusedAddress = errors.New("refused address")

// Guard keeps a client off addresses that are not on the public internet,
// for URLs someone outside the operator's control supplies (a curator's
// "add by URL"): the web server must not become a way into the machine it
// runs on, its network or its cloud's metadata service (SSRF).
//
// The check is made on the address actually dialled, after DNS, for every
// connection: so after every redirect, whatever a host name resolves to at
// the moment of connecting (DNS rebinding gains nothing), and for
// Options.ConnectTo addresses too. Proxies from the environment
// (HTTP_PROXY…) are not used by a guarded client: a proxy would make the
// connection itself, out of the guard's sight.
type Guard struct {
	// Hint ends each refusal's message, saying how an operator allows
	// such addresses ("set web.allow_private_fetch to allow").
	Hint string

	// exempt, in tests only, lets one loopback server stand in for a
	// public one (the only servers a test can run are on loopback).
	exempt func(netip.AddrPort) bool
}

// AddressError is a connection the Guard refused.
type AddressError struct {
	// URL is what was being fetched; Via the URLs that redirected to it.
	URL string
	Via []string
	// Host is the host name (or IP literal) of the URL.
	Host string
	// ConnectTo is set when Options.ConnectTo sent Host to Addr.
	ConnectTo bool
	// Addr is the address that would have been dialled.
	Addr netip.Addr
	// Rule names the range it is in: "a loopback address", "a private
	// address", "the cloud metadata address"… (see ClassifyAddr).
	Rule string
	Hint string
}

func (e *AddressError) Error() string {
	var b strings.Builder
	b.WriteString("refusing to fetch ")
	b.WriteString(e.URL)
	if len(e.Via) > 0 {
		b.WriteString(" (redirected from ")
		b.WriteString(strings.Join(e.Via, " → "))
		b.WriteString(")")
	}
	b.WriteString(": ")
	addr := e.Addr.String()
	switch {
	case e.ConnectTo:
		b.WriteString(e.Host + " is sent to " + addr + " by fetch.connect_to, ")
	case strings.Trim(e.Host, "[]") == addr:
		b.WriteString(addr + " is ")
	case isIPLiteral(e.Host):
		b.WriteString(e.Host + " (" + addr + ") is ")
	default:
		b.WriteString(e.Host + " resolves to " + addr + ", ")
	}
	b.WriteString(e.Rule)
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

func (e *AddressError) Unwrap() error { return ErrRefusedAddress }

func isIPLiteral(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

// A range of addresses that are not public, and what to call it.
type addrRule struct {
	prefix netip.Prefix
	name   string
}

// nonPublic lists the ranges a Guard refuses, most specific first (the
// metadata addresses before the ranges holding them). IPv4-mapped IPv6
// addresses (::ffff:10.0.0.1) are unmapped before the lookup; the IPv6
// forms that embed an IPv4 address (NAT64, 6to4) are checked on it too.
var nonPublic = func() []addrRule {
	rules := []struct{ cidr, name string }{
		{"169.254.169.254/32", "the cloud metadata address"},
		{"fd00:ec2::254/128", "the cloud metadata address"},
		{"0.0.0.0/32", "the unspecified address"},
		{"::/128", "the unspecified address"},
		{"255.255.255.255/32", "the broadcast address"},
		{"127.0.0.0/8", "a loopback address"},
		{"::1/128", "a loopback address"},
		{"10.0.0.0/8", "a private address"},
		{"172.16.0.0/12", "a private address"},
		{"192.168.0.0/16", "a private address"},
		{"fc00::/7", "a private address"},
		{"fec0::/10", "a private address"}, // site-local, deprecated
		{"169.254.0.0/16", "a link-local address"},
		{"fe80::/10", "a link-local address"},
		{"100.64.0.0/10", "a shared (carrier-grade NAT) address"},
		{"224.0.0.0/4", "a multicast address"},
		{"ff00::/8", "a multicast address"},
		{"0.0.0.0/8", "a “this network” address"},
		{"192.0.0.0/24", "a reserved address"},
		{"192.0.2.0/24", "a documentation address"},
		{"198.51.100.0/24", "a documentation address"},
		{"203.0.113.0/24", "a documentation address"},
		{"2001:db8::/32", "a documentation address"},
		{"198.18.0.0/15", "a benchmarking address"},
		{"240.0.0.0/4", "a reserved address"},
		{"100::/64", "a discard address"},
		{"::/96", "a reserved address"}, // IPv4-compatible, deprecated
	}
	out := make([]addrRule, len(rules))
	for i, r := range rules {
		out[i] = addrRule{netip.MustParsePrefix(r.cidr), r.name}
	}
	return out
}()

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// ClassifyAddr says which non-public range a is in ("a loopback address",
// "a private address", "the cloud metadata address", …), or "" when a is
// a public address a Guard lets a client connect to.
func ClassifyAddr(a netip.Addr) string {
	if !a.IsValid() {
		return "an invalid address"
	}
	a = a.Unmap().WithZone("")
	for _, r := range nonPublic {
		if r.prefix.Contains(a) {
			return r.name
		}
	}
	if a.Is6() {
		b := a.As16()
		var v4 netip.Addr
		switch {
		case nat64.Contains(a):
			v4 = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixTo4.Contains(a):
			v4 = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
		if v4.IsValid() {
			if name := ClassifyAddr(v4); name != "" {
				return name + " (inside " + a.String() + ")"
			}
		}
	}
	return ""
}

// connectToKey marks a request's context with the host Options.ConnectTo
// redirected, so a refusal can name it.
type connectToKey struct{}

// guardedDial dials like dial, but refuses, before any packet is sent, a
// socket to an address the guard does not allow.
func (g *Guard) guardedDial(dialer *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		connectTo := false
		if orig, ok := ctx.Value(connectToKey{}).(string); ok && orig != "" {
			host, connectTo = orig, true
			if h, _, err := net.SplitHostPort(orig); err == nil {
				host = h
			}
		}
		d := *dialer
		d.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &AddressError{Host: host, ConnectTo: connectTo, Rule: "an address that cannot be checked (" + address + ")", Hint: g.Hint}
			}
			if g.exempt != nil && g.exempt(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())) {
				return nil
			}
			if rule := ClassifyAddr(ap.Addr()); rule != "" {
				return &AddressError{Host: host, ConnectTo: connectTo, Addr: ap.Addr().Unmap().WithZone(""), Rule: rule, Hint: g.Hint}
			}
			return nil
		}
		return d.DialContext(ctx, network, addr)
	}
}

// asAddressError returns the *AddressError in err's chain, if any.
func asAddressError(err error) (*AddressError, bool) {
	var ae *AddressError
	ok := errors.As(err, &ae)
	return ae, ok
}
