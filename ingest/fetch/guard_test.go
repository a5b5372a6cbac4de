package fetch

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/evidencetracker/evidence"
)

const guardHint = "set web.allow_private_fetch to allow"

// fakeDNS is a resolver whose answers come from a map (name → address)
// through an in-memory DNS server speaking the real wire format, so the
// dialer's own resolution path is exercised. Unknown names are NXDOMAIN.
func fakeDNS(t *testing.T, answers map[string]string) (*net.Resolver, *atomic.Int64) {
	t.Helper()
	var queries atomic.Int64
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe()
			go serveDNS(server, answers, &queries)
			return client, nil
		},
	}, &queries
}

// serveDNS answers the queries on one stream connection (2-byte length
// prefix, as over TCP: a net.Pipe is no PacketConn) until it closes.
func serveDNS(conn net.Conn, answers map[string]string, queries *atomic.Int64) {
	defer conn.Close()
	for {
		var n uint16
		if err := binary.Read(conn, binary.BigEndian, &n); err != nil {
			return
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(conn, buf); err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf)
		if err != nil {
			return
		}
		q, err := p.Question()
		if err != nil {
			return
		}
		queries.Add(1)
		name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
		addr, known := answers[name]
		rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionAvailable: true}
		if !known {
			rh.RCode = dnsmessage.RCodeNameError
		}
		b := dnsmessage.NewBuilder(nil, rh)
		b.EnableCompression()
		_ = b.StartQuestions()
		_ = b.Question(q)
		_ = b.StartAnswers()
		if known {
			ip := netip.MustParseAddr(addr)
			rrh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			switch {
			case q.Type == dnsmessage.TypeA && ip.Is4():
				_ = b.AResource(rrh, dnsmessage.AResource{A: ip.As4()})
			case q.Type == dnsmessage.TypeAAAA && ip.Is6():
				_ = b.AAAAResource(rrh, dnsmessage.AAAAResource{AAAA: ip.As16()})
			}
		}
		msg, err := b.Finish()
		if err != nil {
			return
		}
		if err := binary.Write(conn, binary.BigEndian, uint16(len(msg))); err != nil {
			return
		}
		if _, err := conn.Write(msg); err != nil {
			return
		}
	}
}

// guardedClient is a client with a Guard; exempt, if valid, is the one
// address (a loopback test server) the guard treats as public.
func guardedClient(t *testing.T, opts Options, exempt netip.AddrPort) *Client {
	t.Helper()
	g := &Guard{Hint: guardHint}
	if exempt.IsValid() {
		g.exempt = func(ap netip.AddrPort) bool { return ap == exempt }
	}
	opts.Guard = g
	return newTestClient(t, opts)
}

func addrPortOf(t *testing.T, ts *testServer) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(ts.Addr())
	if err != nil {
		t.Fatalf("test server address %q: %v", ts.Addr(), err)
	}
	return ap
}

// checkRefused asserts err is the Guard's refusal of wantURL naming the
// host, the address and the rule, with the hint.
func checkRefused(t *testing.T, err error, wantURL, wantHost, wantAddr, wantRule string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Get succeeded; want a refusal of %s", wantAddr)
	}
	if !errors.Is(err, ErrRefusedAddress) {
		t.Fatalf("err = %v; want ErrRefusedAddress", err)
	}
	ae, ok := asAddressError(err)
	if !ok {
		t.Fatalf("err = %T %v; want an *AddressError", err, err)
	}
	if ae.URL != wantURL || ae.Addr.String() != wantAddr || ae.Rule != wantRule {
		t.Errorf("refusal = {URL %q Addr %s Rule %q}; want {%q %s %q}", ae.URL, ae.Addr, ae.Rule, wantURL, wantAddr, wantRule)
	}
	msg := err.Error()
	for _, want := range []string{"refusing to fetch " + wantURL, wantHost, wantAddr, wantRule, "(" + guardHint + ")"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
}

// refusedTargets are the addresses every guarded connection must refuse,
// with the rule named. PORT is a loopback test server's port (nothing
// must reach it).
var refusedTargets = []struct {
	name, url, host, addr, rule string
}{
	{"loopback", "http://127.0.0.1:PORT/page", "127.0.0.1 is", "127.0.0.1", "a loopback address"},
	{"loopback elsewhere in 127/8", "http://127.1.2.3:PORT/page", "127.1.2.3", "127.1.2.3", "a loopback address"},
	{"10.x", "http://10.0.0.5/page", "10.0.0.5", "10.0.0.5", "a private address"},
	{"172.16.x", "http://172.16.4.2/page", "172.16.4.2", "172.16.4.2", "a private address"},
	{"192.168.x", "http://192.168.1.1/page", "192.168.1.1", "192.168.1.1", "a private address"},
	{"metadata", "http://169.254.169.254/latest/meta-data/", "169.254.169.254", "169.254.169.254", "the cloud metadata address"},
	{"link-local v4", "http://169.254.10.1/page", "169.254.10.1", "169.254.10.1", "a link-local address"},
	{"CGNAT", "http://100.64.0.1/page", "100.64.0.1", "100.64.0.1", "a shared (carrier-grade NAT) address"},
	{"IPv6 loopback", "http://[::1]:PORT/page", "::1", "::1", "a loopback address"},
	{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:PORT/page", "::ffff:127.0.0.1 (127.0.0.1) is", "127.0.0.1", "a loopback address"},
	{"IPv4-mapped private", "http://[::ffff:10.0.0.5]/page", "::ffff:10.0.0.5 (10.0.0.5) is", "10.0.0.5", "a private address"},
	{"IPv6 link-local", "http://[fe80::1]/page", "fe80::1", "fe80::1", "a link-local address"},
	{"IPv6 unique local", "http://[fd12:3456::1]/page", "fd12:3456::1", "fd12:3456::1", "a private address"},
	{"IPv6 metadata", "http://[fd00:ec2::254]/page", "fd00:ec2::254", "fd00:ec2::254", "the cloud metadata address"},
	{"unspecified", "http://0.0.0.0:PORT/page", "0.0.0.0", "0.0.0.0", "the unspecified address"},
	{"IPv6 unspecified", "http://[::]:PORT/page", "::", "::", "the unspecified address"},
	{"broadcast", "http://255.255.255.255/page", "255.255.255.255", "255.255.255.255", "the broadcast address"},
	{"multicast", "http://224.0.0.1/page", "224.0.0.1", "224.0.0.1", "a multicast address"},
}

func TestGuardRefusesDirect(t *testing.T) {
	victim := newTestServer(t, okHandler("secret"))
	port := victim.URL[strings.LastIndex(victim.URL, ":")+1:]
	for _, robots := range []bool{false, true} {
		for _, tc := range refusedTargets {
			name := tc.name
			if robots {
				name += " with robots.txt"
			}
			t.Run(name, func(t *testing.T) {
				opts := testOptions(newFakeClock())
				opts.IgnoreRobots = !robots
				c := guardedClient(t, opts, netip.AddrPort{})
				u := strings.ReplaceAll(tc.url, "PORT", port)
				_, err := c.Get(context.Background(), u, evidence.FetchState{})
				checkRefused(t, err, u, tc.host, tc.addr, tc.rule)
			})
		}
	}
	if n := len(victim.Requests("/page")) + len(victim.Requests("/robots.txt")); n != 0 {
		t.Errorf("the loopback server got %d requests; want none", n)
	}
}

func TestGuardRefusesRedirectTargets(t *testing.T) {
	victim := newTestServer(t, okHandler("secret"))
	port := victim.URL[strings.LastIndex(victim.URL, ":")+1:]
	var target atomic.Value
	public := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/go":
			http.Redirect(w, r, target.Load().(string), http.StatusFound)
		case "/hop":
			http.Redirect(w, r, "/go", http.StatusMovedPermanently)
		}
	})
	for _, robots := range []bool{false, true} {
		for _, tc := range refusedTargets {
			name := tc.name
			if robots {
				name += " with robots.txt"
			}
			t.Run(name, func(t *testing.T) {
				opts := testOptions(newFakeClock())
				opts.IgnoreRobots = !robots
				opts.Retries = 3 // a refusal is never retried
				clock := newFakeClock()
				opts.Now, opts.Sleep = clock.Now, clock.Sleep
				c := guardedClient(t, opts, addrPortOf(t, public))
				u := strings.ReplaceAll(tc.url, "PORT", port)
				target.Store(u)
				_, err := c.Get(context.Background(), public.URL+"/hop", evidence.FetchState{})
				checkRefused(t, err, u, tc.host, tc.addr, tc.rule)
				ae, _ := asAddressError(err)
				if want := []string{public.URL + "/hop", public.URL + "/go"}; strings.Join(ae.Via, " ") != strings.Join(want, " ") {
					t.Errorf("Via = %q; want %q", ae.Via, want)
				}
				if !strings.Contains(err.Error(), "(redirected from "+public.URL+"/hop → "+public.URL+"/go)") {
					t.Errorf("message %q does not name the redirects", err)
				}
				if s := clock.Sleeps(); len(s) != 0 {
					t.Errorf("waited %v: a refusal was retried", s)
				}
			})
		}
	}
	if n := len(victim.Requests("/page")); n != 0 {
		t.Errorf("the loopback server got %d requests; want none", n)
	}
}

// A host name is checked on what it resolves to when the connection is
// made, directly and as a redirect's target.
func TestGuardRefusesHostNamesResolvingPrivate(t *testing.T) {
	victim := newTestServer(t, okHandler("secret"))
	port := victim.URL[strings.LastIndex(victim.URL, ":")+1:]
	resolver, queries := fakeDNS(t, map[string]string{
		"intranet.example":  "10.0.0.5",
		"loopback.example":  "127.0.0.1",
		"metadata.example":  "169.254.169.254",
		"v6loop.example":    "::1",
		"mapped.example":    "::ffff:127.0.0.1",
		"linklocal.example": "fe80::1",
	})
	public := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		http.NotFound(w, r)
	})
	cases := []struct{ host, addr, rule string }{
		{"intranet.example", "10.0.0.5", "a private address"},
		{"loopback.example", "127.0.0.1", "a loopback address"},
		{"metadata.example", "169.254.169.254", "the cloud metadata address"},
		{"v6loop.example", "::1", "a loopback address"},
		{"mapped.example", "127.0.0.1", "a loopback address"},
		{"linklocal.example", "fe80::1", "a link-local address"},
	}
	for _, tc := range cases {
		u := "http://" + tc.host + ":" + port + "/page"
		t.Run(tc.host+" direct", func(t *testing.T) {
			opts := testOptions(newFakeClock())
			opts.Resolver = resolver
			c := guardedClient(t, opts, netip.AddrPort{})
			_, err := c.Get(context.Background(), u, evidence.FetchState{})
			checkRefused(t, err, u, tc.host+" resolves to "+tc.addr, tc.addr, tc.rule)
		})
		t.Run(tc.host+" after a redirect", func(t *testing.T) {
			opts := testOptions(newFakeClock())
			opts.Resolver = resolver
			c := guardedClient(t, opts, addrPortOf(t, public))
			_, err := c.Get(context.Background(), public.URL+"/?to="+u, evidence.FetchState{})
			checkRefused(t, err, u, tc.host+" resolves to "+tc.addr, tc.addr, tc.rule)
		})
	}
	if queries.Load() == 0 {
		t.Error("the fake DNS server was never asked: the test proves nothing")
	}
	if n := len(victim.Requests("/page")); n != 0 {
		t.Errorf("the loopback server got %d requests; want none", n)
	}
}

// Without a Guard (web.allow_private_fetch, and ingest) the same names
// and addresses are fetched: the only servers a test has are on loopback.
func TestNoGuardAllowsPrivate(t *testing.T) {
	ts := newTestServer(t, robotsHandler("", okHandler("hello")))
	port := ts.URL[strings.LastIndex(ts.URL, ":")+1:]
	resolver, _ := fakeDNS(t, map[string]string{"loopback.example": "127.0.0.1"})
	opts := testOptions(newFakeClock())
	opts.IgnoreRobots = false
	opts.Resolver = resolver
	c := newTestClient(t, opts)
	for _, u := range []string{ts.URL + "/a", "http://loopback.example:" + port + "/b"} {
		resp, err := c.Get(context.Background(), u, evidence.FetchState{})
		if err != nil {
			t.Fatalf("Get %s: %v", u, err)
		}
		if string(resp.Body) != "hello" {
			t.Errorf("Get %s body = %q", u, resp.Body)
		}
	}
	if c.transport.Proxy == nil {
		t.Error("an unguarded client should honour HTTP_PROXY as before")
	}
}

// The exempt test server stands in for a public one: a guarded client
// fetches it, and follows a redirect to another public-looking place.
func TestGuardAllowsPublic(t *testing.T) {
	ts := newTestServer(t, robotsHandler("", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
			return
		}
		okHandler("public page")(w, r)
	}))
	opts := testOptions(newFakeClock())
	opts.IgnoreRobots = false
	c := guardedClient(t, opts, addrPortOf(t, ts))
	resp, err := c.Get(context.Background(), ts.URL+"/old", evidence.FetchState{})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(resp.Body) != "public page" || resp.URL != ts.URL+"/new" {
		t.Errorf("got %q at %s", resp.Body, resp.URL)
	}
	if c.transport.Proxy != nil {
		t.Error("a guarded client must not use a proxy: the proxy would connect out of the guard's sight")
	}
}

// fetch.connect_to sends a host to another address; the guard checks the
// address dialled, whatever the host name resolves to.
func TestGuardChecksConnectTo(t *testing.T) {
	victim := newTestServer(t, okHandler("secret"))
	resolver, _ := fakeDNS(t, map[string]string{"public.example": "93.184.216.34"})
	opts := testOptions(newFakeClock())
	opts.Resolver = resolver
	opts.ConnectTo = map[string]string{"public.example": victim.Addr()}
	c := guardedClient(t, opts, netip.AddrPort{})
	u := "https://public.example/page"
	_, err := c.Get(context.Background(), u, evidence.FetchState{})
	checkRefused(t, err, u, "public.example is sent to 127.0.0.1 by fetch.connect_to", "127.0.0.1", "a loopback address")
	if n := len(victim.Requests("/page")); n != 0 {
		t.Errorf("the loopback server got %d requests; want none", n)
	}
}

func TestClassifyAddr(t *testing.T) {
	cases := []struct{ addr, want string }{
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"172.32.0.1", ""}, // just outside 172.16/12
		{"100.128.0.1", ""},
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"127.0.0.1", "a loopback address"},
		{"::ffff:127.0.0.1", "a loopback address"},
		{"::ffff:169.254.169.254", "the cloud metadata address"},
		{"172.31.255.255", "a private address"},
		{"fe80::1%eth0", "a link-local address"},
		{"ff02::1", "a multicast address"},
		{"64:ff9b::a00:5", "a private address (inside 64:ff9b::a00:5)"},
		{"2002:7f00:1::1", "a loopback address (inside 2002:7f00:1::1)"},
		{"2002:808:808::1", ""},
		{"0.1.2.3", "a “this network” address"},
		{"::127.0.0.1", "a reserved address"},
	}
	for _, tc := range cases {
		if got := ClassifyAddr(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("ClassifyAddr(%s) = %q; want %q", tc.addr, got, tc.want)
		}
	}
	if got := ClassifyAddr(netip.Addr{}); got == "" {
		t.Error("the zero Addr must not pass")
	}
}
