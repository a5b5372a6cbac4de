package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/temoto/robotstxt"
)

// robotsEntry caches one origin's robots.txt. lock (a one-slot channel, so
// waiting honours ctx) serialises the fetch: many concurrent Gets to a new
// host fetch robots.txt once.
type robotsEntry struct {
	lock  chan struct{}
	rules *robotsRules // nil until fetched; guarded by lock
}

// robotsRules is what one robots.txt fetch decided. Immutable once built.
type robotsRules struct {
	fetched    time.Time
	data       *robotstxt.RobotsData // nil: allow all (4xx, empty file)
	crawlDelay time.Duration
	sitemaps   []string
	// err is set when robots.txt was unavailable (5xx, network error, bot
	// block): the whole origin is disallowed, with kind as the sentinel.
	err  error
	kind error
}

func (r *robotsRules) allowed(agent string, u *url.URL) bool {
	if r.data == nil {
		return true
	}
	return r.data.TestAgent(u.RequestURI(), agent)
}

// robotsFor returns the cached robots.txt rules of u's origin, fetching them
// (through the same transport, limiter and retries as any request) when
// absent or older than RobotsTTL. Only a cancelled ctx is an error here;
// an unavailable robots.txt is recorded in the rules.
func (c *Client) robotsFor(ctx context.Context, u *url.URL) (*robotsRules, error) {
	key := u.Scheme + "://" + strings.ToLower(u.Host)
	c.mu.Lock()
	e, ok := c.robots[key]
	if !ok {
		e = &robotsEntry{lock: make(chan struct{}, 1)}
		c.robots[key] = e
	}
	c.mu.Unlock()

	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.lock }()
	if e.rules != nil && c.now().Sub(e.rules.fetched) < RobotsTTL {
		return e.rules, nil
	}
	// A robots.txt another run read less than RobotsTTL ago is still good
	// (RFC 9309 §2.4): an unchanged re-run then asks the host nothing new.
	if cache := c.opts.RobotsCache; cache != nil && e.rules == nil {
		body, status, at, found, err := cache.LoadRobots(ctx, key)
		if err != nil {
			c.log.Warn("fetch: robots.txt cache unreadable; fetching", "origin", key, "err", err)
		} else if found && c.now().Sub(at) < RobotsTTL {
			e.rules = c.robotsRulesFrom(u, status, body, at)
			return e.rules, nil
		}
	}
	rules, status, body, err := c.fetchRobots(ctx, u)
	if err != nil {
		return nil, err
	}
	if rules.kind == ErrRefusedAddress {
		// Not kept: the refusal is about what the host resolves to now.
		return rules, nil
	}
	e.rules = rules
	if cache := c.opts.RobotsCache; cache != nil && rules.err == nil {
		if err := cache.SaveRobots(ctx, key, body, status, rules.fetched); err != nil {
			c.log.Warn("fetch: cannot cache robots.txt", "origin", key, "err", err)
		}
	}
	return rules, nil
}

// RobotsCache keeps robots.txt between runs. Only usable answers are saved
// (a file, or a 4xx meaning "no restrictions"); an unreachable robots.txt is
// asked again next time.
type RobotsCache interface {
	LoadRobots(ctx context.Context, origin string) (body []byte, status int, fetchedAt time.Time, ok bool, err error)
	SaveRobots(ctx context.Context, origin string, body []byte, status int, fetchedAt time.Time) error
}

// robotsRulesFrom rebuilds rules from a cached answer.
func (c *Client) robotsRulesFrom(u *url.URL, status int, body []byte, at time.Time) *robotsRules {
	if status >= 400 {
		return &robotsRules{fetched: at}
	}
	rules := c.parseRobots(u, body)
	rules.fetched = at
	return rules
}

// fetchRobots asks the host for its robots.txt and returns the rules, with
// the status and body to cache.
func (c *Client) fetchRobots(ctx context.Context, u *url.URL) (*robotsRules, int, []byte, error) {
	robotsURL := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	c.stats.robots.Add(1)
	raw, _, err := c.follow(ctx, robotsURL, nil, false)
	rules := &robotsRules{fetched: c.now()}
	var se *StatusError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, 0, nil, ctx.Err()
	case errors.As(err, &se) && se.Status >= 400 && se.Status < 500 && se.Status != http.StatusTooManyRequests:
		// RFC 9309 §2.3.1.3: "unavailable" (4xx, a plain 403 included) means
		// no restrictions; a page fetch will still report a real block.
		c.log.Debug("fetch: no robots.txt, all allowed", "url", robotsURL.String(), "status", se.Status)
		return rules, se.Status, nil, nil
	case errors.Is(err, ErrTooManyRedirects):
		// RFC 9309 §2.3.1.2: more than five redirects may be taken as unavailable.
		return rules, http.StatusNotFound, nil, nil
	case errors.Is(err, ErrBlocked):
		rules.err, rules.kind = err, ErrBlocked
		return rules, 0, nil, nil
	case errors.Is(err, ErrRefusedAddress):
		// The Guard would refuse the page as well: say so, not
		// "robots.txt unavailable".
		rules.err, rules.kind = err, ErrRefusedAddress
		return rules, 0, nil, nil
	default:
		// RFC 9309 §2.3.1.4: unreachable (5xx, network) means disallow all;
		// so does a 429 (slow down) that outlasted the retries.
		rules.err, rules.kind = err, ErrRobotsUnavailable
		return rules, 0, nil, nil
	}
	parsed := c.parseRobots(u, raw.body)
	parsed.fetched = rules.fetched
	return parsed, http.StatusOK, raw.body, nil
}

// parseRobots reads a robots.txt body into rules (Crawl-delay applied to
// the host's limiter).
func (c *Client) parseRobots(u *url.URL, raw []byte) *robotsRules {
	robotsURL := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	rules := &robotsRules{fetched: c.now()}
	body := bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF})
	data, err := robotstxt.FromBytes(body)
	if err != nil {
		// temoto/robotstxt rejects the whole file for a stray line; RFC 9309
		// says to use what parses. Drop the offending lines and try again.
		data, err = robotstxt.FromBytes(sanitizeRobots(body))
	}
	if err != nil {
		rules.err = fmt.Errorf("robots.txt at %s could not be parsed: %w", robotsURL, err)
		rules.kind = ErrRobotsUnavailable
		return rules
	}
	rules.data = data
	rules.sitemaps = data.Sitemaps
	rules.crawlDelay = data.FindGroup(c.agent).CrawlDelay
	if rules.crawlDelay > 0 {
		c.host(u).limiter.atMostEvery(rules.crawlDelay, c.now())
		c.log.Debug("fetch: robots.txt crawl-delay", "host", u.Host, "delay", rules.crawlDelay)
	}
	return rules
}

// sanitizeRobots drops robots.txt lines the parser rejects: rules before any
// User-agent line, and Crawl-delay values that are not non-negative numbers.
func sanitizeRobots(body []byte) []byte {
	var out bytes.Buffer
	seenAgent := false
	for _, line := range bytes.Split(body, []byte("\n")) {
		content, _, _ := bytes.Cut(line, []byte("#"))
		key, val, found := bytes.Cut(content, []byte(":"))
		k := strings.ToLower(strings.TrimSpace(string(key)))
		v := strings.TrimSpace(string(val))
		if found {
			switch k {
			case "user-agent":
				seenAgent = true
			case "allow", "disallow", "crawl-delay", "crawldelay":
				if !seenAgent {
					continue
				}
				if k == "crawl-delay" || k == "crawldelay" {
					if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0 || f > 1e6 {
						continue
					}
				}
			}
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// checkRobots returns nil when robots.txt lets us fetch u.
func (c *Client) checkRobots(ctx context.Context, u *url.URL) error {
	rules, err := c.robotsFor(ctx, u)
	if err != nil {
		return newError(u.String(), nil, err, "robots.txt: %v", err)
	}
	if ae, ok := asAddressError(rules.err); ok {
		refused := *ae
		refused.URL, refused.Via = u.String(), nil
		return &refused
	}
	if rules.err != nil {
		return newError(u.String(), rules.kind, rules.err, "robots.txt unavailable, host not crawled this run: %v", rules.err)
	}
	if !rules.allowed(c.agent, u) {
		return newError(u.String(), ErrDisallowed, nil, "disallowed by robots.txt for user agent %q", c.agent)
	}
	return nil
}

// Allowed reports whether robots.txt lets this client fetch rawURL (always
// true with IgnoreRobots). An unavailable robots.txt gives false and an
// error wrapping ErrRobotsUnavailable or ErrBlocked.
func (c *Client) Allowed(ctx context.Context, rawURL string) (bool, error) {
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return false, newError(rawURL, nil, err, "%v", err)
	}
	if c.opts.IgnoreRobots {
		return true, nil
	}
	err = c.checkRobots(ctx, u)
	if errors.Is(err, ErrDisallowed) {
		return false, nil
	}
	return err == nil, err
}

// CrawlDelay returns the Crawl-delay robots.txt sets for our user agent on
// host ("www.example.org", or an origin "https://www.example.org"), 0 if none.
func (c *Client) CrawlDelay(ctx context.Context, host string) (time.Duration, error) {
	rules, err := c.rulesForHost(ctx, host)
	if err != nil {
		return 0, err
	}
	return rules.crawlDelay, nil
}

// Sitemaps returns the Sitemap: URLs listed in host's robots.txt ("www.example.org",
// or an origin "https://www.example.org"); none when there is no robots.txt.
func (c *Client) Sitemaps(ctx context.Context, host string) ([]string, error) {
	rules, err := c.rulesForHost(ctx, host)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), rules.sitemaps...), nil
}

func (c *Client) rulesForHost(ctx context.Context, host string) (*robotsRules, error) {
	raw := host
	if !strings.Contains(host, "://") {
		raw = "https://" + host
	}
	u, err := parseHTTPURL(raw)
	if err != nil {
		return nil, newError(raw+"/robots.txt", nil, err, "%v", err)
	}
	robotsURL := u.Scheme + "://" + u.Host + "/robots.txt"
	rules, err := c.robotsFor(ctx, u)
	if err != nil {
		return nil, newError(robotsURL, nil, err, "%v", err)
	}
	if rules.err != nil {
		return nil, newError(robotsURL, rules.kind, rules.err, "unavailable: %v", rules.err)
	}
	return rules, nil
}
