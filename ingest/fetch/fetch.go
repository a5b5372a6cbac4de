// Package fetch is the polite HTTP client Evidence Tracker crawls publishers
// with: robots.txt obeyed, one request at a time per host and at most
// RatePerHost per second (slower if robots.txt asks for a Crawl-delay),
// conditional GET, a cap on body size (also after gzip decoding), retries
// with backoff that honour Retry-After, redirects recorded, bot protection
// reported as ErrBlocked rather than hammered, and every text body converted
// to UTF-8 (see ToUTF8).
package fetch

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evidencetracker/evidence"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxBodyBytes   = 15 << 20
	DefaultMaxRedirects   = 5
	DefaultRatePerHost    = 1.0
	DefaultRetries        = 3
	DefaultBackoffBase    = time.Second
	DefaultMaxRetryWait   = 2 * time.Minute
	// RobotsTTL is how long a host's robots.txt is trusted.
	RobotsTTL = 24 * time.Hour
)

// Options configure a Client. Zero values take the defaults above.
type Options struct {
	// UserAgent is sent on every request: an honest product token and a
	// contact URL, e.g. "EvidenceTracker/1.0 (+https://example.org/bot)".
	// Required. Its first word before "/" is the robots.txt product token.
	UserAgent string
	// Timeout bounds one request attempt including reading the body
	// (default 30s). Waiting for the rate limiter is not counted.
	Timeout time.Duration
	// ConnectTimeout bounds the dial and TLS handshake (default 10s).
	ConnectTimeout time.Duration
	// MaxBodyBytes caps the body on the wire and after gzip decoding
	// (default 15 MiB); a larger body is ErrTooLarge.
	MaxBodyBytes int64
	// MaxRedirects is how many redirects are followed (default 5; negative:
	// none). More is ErrTooManyRedirects naming the chain.
	MaxRedirects int
	// RatePerHost is the most requests per second sent to one host
	// (default 1). Negative means unlimited (tests and local replay only).
	// A robots.txt Crawl-delay lowers it for that host.
	RatePerHost float64
	// Retries is how many times a 5xx, 429, timeout or connection error is
	// retried (default 3; negative: never).
	Retries int
	// BackoffBase is the first retry's backoff (default 1s); it doubles per
	// retry, with jitter, up to MaxRetryWait.
	BackoffBase time.Duration
	// MaxRetryWait caps a backoff (default 2m). A Retry-After longer than it
	// makes Get give up with an error saying so.
	MaxRetryWait time.Duration
	// ConnectTo sends requests for a host ("www.example.org", or
	// "www.example.org:443" for one port only) as plain HTTP to another
	// address ("127.0.0.1:8080") with the original Host header, like curl
	// --connect-to. URLs seen by the caller keep the original scheme and host.
	ConnectTo map[string]string
	// IgnoreRobots skips robots.txt (default false: obeyed).
	IgnoreRobots bool
	// RobotsCache, if set, keeps robots.txt between runs for RobotsTTL.
	RobotsCache RobotsCache
	// Logger receives debug and retry logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock (default time.Now); used for the rate limiter,
	// Retry-After dates, robots.txt expiry and FetchState.FetchedAt.
	Now func() time.Time
	// Sleep waits d or until ctx is done (default: a timer honouring ctx).
	// All waits (rate limit, backoff, Retry-After) go through it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Guard, if set, refuses connections to addresses that are not on the
	// public internet (see Guard): for URLs a curator supplies. Nil (the
	// ingest of configured sources): any address. A guarded client uses
	// no proxy.
	Guard *Guard
	// Resolver looks up host names (nil: the system's); tests inject one.
	Resolver *net.Resolver
}

// Response is a successful fetch (2xx, or 304 to a conditional request).
type Response struct {
	// URL is the final URL after redirects, with the original scheme and
	// host (never a ConnectTo address).
	URL string
	// Redirects lists each URL that redirected, in order (aliases to record).
	Redirects []string
	Status    int
	// NotModified: the server answered 304 to our conditional request; Body
	// is empty and State carries the previous validators.
	NotModified bool
	// Unchanged: a 200 whose body hashes the same as prev.ContentHash (the
	// server ignored the validators but nothing changed).
	Unchanged bool
	Header    http.Header
	// ContentType is the media type, lower-case, without parameters (sniffed
	// when absent, and for gzip files the type of the decompressed content).
	ContentType string
	// Charset is the charset the body was decoded from ("" for non-text).
	Charset string
	// Body is the decompressed body, converted to UTF-8 when it is text.
	Body         []byte
	ETag         string
	LastModified string
	// State is what to remember for the next conditional GET: URL is the
	// requested URL (not the final one), ContentHash the sha256 of Body.
	State evidence.FetchState
	// Bytes is how many body bytes were read from the wire for the final
	// response (before decompression).
	Bytes int64
}

// Stats are counters over the client's life.
type Stats struct {
	Requests      int64 // HTTP requests sent: every attempt, redirect hop and robots.txt fetch
	Conditional   int64 // requests carrying If-None-Match or If-Modified-Since
	NotModified   int64 // 304 answers to conditional requests
	BytesRead     int64 // body bytes read from the wire
	Retries       int64 // attempts repeated after a retryable failure
	RobotsFetches int64 // robots.txt fetches (one per host and TTL)
	Throttled     int64 // requests that had to wait for their host's rate limiter
}

type counters struct {
	requests, conditional, notModified, bytesRead, retries, robots, throttled atomic.Int64
}

// Client is a polite HTTP client. It is safe for concurrent use; requests to
// different hosts proceed in parallel, requests to one host one at a time.
type Client struct {
	opts      Options
	agent     string // robots.txt product token
	http      *http.Client
	transport *http.Transport
	log       *slog.Logger
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	hosts  map[string]*hostState   // by lower-case host[:port]
	robots map[string]*robotsEntry // by scheme://host[:port]

	stats counters
}

// New checks opts, fills in defaults and returns a Client.
func New(opts Options) (*Client, error) {
	opts.UserAgent = strings.TrimSpace(opts.UserAgent)
	if opts.UserAgent == "" {
		return nil, fmt.Errorf("fetch: new client: UserAgent is required (product token and contact URL)")
	}
	agent := productToken(opts.UserAgent)
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	switch {
	case opts.MaxRedirects == 0:
		opts.MaxRedirects = DefaultMaxRedirects
	case opts.MaxRedirects < 0:
		opts.MaxRedirects = 0
	}
	if opts.RatePerHost == 0 {
		opts.RatePerHost = DefaultRatePerHost
	}
	switch {
	case opts.Retries == 0:
		opts.Retries = DefaultRetries
	case opts.Retries < 0:
		opts.Retries = 0
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = DefaultBackoffBase
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = DefaultMaxRetryWait
	}
	connectTo := make(map[string]string, len(opts.ConnectTo))
	for host, addr := range opts.ConnectTo {
		host = strings.ToLower(strings.TrimSpace(host))
		addr = strings.TrimSpace(addr)
		if host == "" {
			return nil, fmt.Errorf("fetch: new client: ConnectTo: empty host for address %q", addr)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("fetch: new client: ConnectTo %q: address %q must be HOST:PORT: %w", host, addr, err)
		}
		connectTo[host] = addr
	}
	opts.ConnectTo = connectTo
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}

	dialer := &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second, Resolver: opts.Resolver}
	dial, proxy := dialer.DialContext, http.ProxyFromEnvironment
	if opts.Guard != nil {
		// Every address dialled is checked; a proxy would dial for us.
		dial, proxy = opts.Guard.guardedDial(dialer), nil
	}
	transport := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   opts.ConnectTimeout,
		DisableCompression:    true, // we ask for gzip and decode it ourselves, under the size cap
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c := &Client{
		opts:      opts,
		agent:     agent,
		transport: transport,
		log:       log,
		now:       now,
		sleep:     sleep,
		hosts:     make(map[string]*hostState),
		robots:    make(map[string]*robotsEntry),
	}
	c.http = &http.Client{
		Transport: &connectToTransport{base: transport, addrs: connectTo},
		// Redirects are followed by Get itself, hop by hop, so each hop is
		// checked against robots.txt, rate limited and recorded.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if !strings.Contains(opts.UserAgent, "http") && !strings.Contains(opts.UserAgent, "@") {
		log.Warn("fetch: User-Agent has no contact URL or address", "user_agent", opts.UserAgent)
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:      c.stats.requests.Load(),
		Conditional:   c.stats.conditional.Load(),
		NotModified:   c.stats.notModified.Load(),
		BytesRead:     c.stats.bytesRead.Load(),
		Retries:       c.stats.retries.Load(),
		RobotsFetches: c.stats.robots.Load(),
		Throttled:     c.stats.throttled.Load(),
	}
}

// productToken is the UA's first word before "/": "EvidenceTracker" for
// "EvidenceTracker/1.0 (+https://…)".
func productToken(ua string) string {
	tok, _, _ := strings.Cut(ua, " ")
	tok, _, _ = strings.Cut(tok, "/")
	return tok
}

// Get fetches rawURL politely and returns the final response. When prev.URL
// equals rawURL its validators are sent (If-None-Match, If-Modified-Since)
// and a 304 gives a Response with NotModified set. Failures wrap ErrTooLarge,
// ErrDisallowed, ErrRobotsUnavailable, ErrBlocked, ErrTooManyRedirects,
// ErrTimeout, ErrRefusedAddress (an *AddressError: Options.Guard) or a
// *StatusError; every message names the URL and the cause.
func (c *Client) Get(ctx context.Context, rawURL string, prev evidence.FetchState) (*Response, error) {
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return nil, newError(rawURL, nil, err, "%v", err)
	}
	var validators http.Header
	if prev.URL == rawURL && (prev.ETag != "" || prev.LastModified != "") {
		validators = http.Header{}
		if prev.ETag != "" {
			validators.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			validators.Set("If-Modified-Since", prev.LastModified)
		}
	}
	raw, chain, err := c.follow(ctx, u, validators, !c.opts.IgnoreRobots)
	if err != nil {
		return nil, err
	}
	resp := &Response{
		URL:          raw.url.String(),
		Redirects:    chain,
		Status:       raw.status,
		Header:       raw.header,
		ETag:         raw.header.Get("ETag"),
		LastModified: raw.header.Get("Last-Modified"),
		Bytes:        raw.wire,
	}
	now := c.now()
	if raw.status == http.StatusNotModified {
		resp.NotModified = true
		resp.ContentType = mediaTypeOf(raw.header.Get("Content-Type"))
		resp.State = evidence.FetchState{
			URL:          rawURL,
			ETag:         cmp.Or(resp.ETag, prev.ETag),
			LastModified: cmp.Or(resp.LastModified, prev.LastModified),
			ContentHash:  prev.ContentHash,
			FetchedAt:    now,
		}
		return resp, nil
	}
	body, contentType, gunzipped, err := c.decodeBody(raw)
	if err != nil {
		return nil, withURL(raw.url.String(), err)
	}
	resp.ContentType = contentType
	resp.Body = body
	if isText(contentType) {
		declared := raw.header.Get("Content-Type")
		if gunzipped {
			declared = "" // the header described the gzip file, not its content
		}
		out, cs, err := ToUTF8(body, declared)
		if err != nil {
			c.log.Warn("fetch: charset conversion incomplete", "url", resp.URL, "charset", cs, "err", err)
		}
		resp.Body, resp.Charset = out, cs
	}
	sum := sha256.Sum256(resp.Body)
	resp.State = evidence.FetchState{
		URL:          rawURL,
		ETag:         resp.ETag,
		LastModified: resp.LastModified,
		ContentHash:  hex.EncodeToString(sum[:]),
		FetchedAt:    now,
	}
	resp.Unchanged = prev.URL == rawURL && prev.ContentHash != "" && prev.ContentHash == resp.State.ContentHash
	return resp, nil
}

func parseHTTPURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid URL: scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL: no host")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// follow fetches u, following redirects; each hop is checked against
// robots.txt (when checkRobots), rate limited and retried on its own. It
// returns the final response and the URLs that redirected.
func (c *Client) follow(ctx context.Context, u *url.URL, validators http.Header, checkRobots bool) (*rawResponse, []string, error) {
	var chain []string
	seen := map[string]bool{u.String(): true}
	for {
		if checkRobots {
			if err := c.checkRobots(ctx, u); err != nil {
				if ae, ok := asAddressError(err); ok && len(chain) > 0 {
					ae.Via = slices.Clone(chain)
				}
				return nil, chain, err
			}
		}
		raw, err := c.fetchRetrying(ctx, u, validators)
		if err != nil {
			if ae, ok := asAddressError(err); ok && len(chain) > 0 && ae.Via == nil {
				ae.Via = slices.Clone(chain)
			}
			return nil, chain, err
		}
		if !isRedirect(raw.status) {
			if err := c.checkStatus(raw, validators != nil); err != nil {
				return nil, chain, err
			}
			return raw, chain, nil
		}
		loc := raw.header.Get("Location")
		if loc == "" {
			return nil, chain, &StatusError{URL: u.String(), Status: raw.status}
		}
		next, err := u.Parse(loc)
		if err == nil {
			next, err = parseHTTPURL(next.String())
		}
		if err != nil {
			return nil, chain, newError(u.String(), nil, err, "%s with bad Location %q: %v", statusText(raw.status), loc, err)
		}
		chain = append(chain, u.String())
		if seen[next.String()] {
			return nil, chain, newError(chain[0], ErrTooManyRedirects, nil,
				"redirect loop: %s → %s", strings.Join(chain, " → "), next)
		}
		if len(chain) > c.opts.MaxRedirects {
			return nil, chain, newError(chain[0], ErrTooManyRedirects, nil,
				"more than %d redirects: %s → %s", c.opts.MaxRedirects, strings.Join(chain, " → "), next)
		}
		c.log.Debug("fetch: redirect", "from", u.String(), "to", next.String(), "status", raw.status)
		seen[next.String()] = true
		u = next
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// checkStatus turns a final non-success status into an error. Retryable
// statuses and blocks were handled by fetchRetrying.
func (c *Client) checkStatus(raw *rawResponse, conditional bool) error {
	switch {
	case raw.status >= 200 && raw.status < 300:
		return nil
	case raw.status == http.StatusNotModified && conditional:
		c.stats.notModified.Add(1)
		return nil
	}
	return &StatusError{URL: raw.url.String(), Status: raw.status}
}

// hostState is the per-host politeness state.
type hostState struct {
	turn    chan struct{} // one request in flight per host
	limiter *limiter
}

func (c *Client) host(u *url.URL) *hostState {
	key := strings.ToLower(u.Host)
	c.mu.Lock()
	defer c.mu.Unlock()
	hs, ok := c.hosts[key]
	if !ok {
		hs = &hostState{turn: make(chan struct{}, 1), limiter: newLimiter(c.opts.RatePerHost)}
		c.hosts[key] = hs
	}
	return hs
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// connectToTransport sends requests for mapped hosts as plain HTTP to
// another address, keeping the Host header (curl --connect-to).
type connectToTransport struct {
	base  http.RoundTripper
	addrs map[string]string
}

func (t *connectToTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Host)
	addr, ok := t.addrs[host]
	if !ok {
		addr, ok = t.addrs[strings.ToLower(req.URL.Hostname())]
	}
	if !ok {
		return t.base.RoundTrip(req)
	}
	// The original host rides along for a Guard's refusal message.
	r2 := req.Clone(context.WithValue(req.Context(), connectToKey{}, req.URL.Host))
	r2.URL.Scheme = "http"
	r2.URL.Host = addr
	r2.Host = req.URL.Host
	return t.base.RoundTrip(r2)
}

// countingReader counts bytes read into n and the client's stats.
type countingReader struct {
	r     io.Reader
	n     int64
	stats *atomic.Int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	cr.stats.Add(int64(n))
	return n, err
}
