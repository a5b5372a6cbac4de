// Package config loads Evidence Tracker's configuration: the embedded
// defaults (config/default.yaml, which describe the four publishers), one
// YAML file merged over them, then EVIDENCE_* environment variables and
// command-line flags, each overriding single keys. Validate names the key of
// every mistake. Only this package and cmd touch viper.
package config

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"time"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// EnvPrefix is the prefix of every environment variable that overrides a key.
const EnvPrefix = "EVIDENCE"

// Config is the whole configuration. Field tags name the YAML keys.
type Config struct {
	DataDir string  `key:"data_dir"`
	Log     Log     `key:"log"`
	Fetch   Fetch   `key:"fetch"`
	Ingest  Ingest  `key:"ingest"`
	Index   Index   `key:"index"`
	SMTP    SMTP    `key:"smtp"`
	Web     Web     `key:"web"`
	Digest  Digest  `key:"digest"`
	Sources Sources `key:"sources"`
	// Topics is the taxonomy items are tagged with when indexed.
	Topics []Topic `key:"topics"`
}

// Log configures the slog handler.
type Log struct {
	Level  string `key:"level"`
	Format string `key:"format"`
}

// Fetch configures the polite HTTP client.
type Fetch struct {
	UserAgent      string        `key:"user_agent"`
	Timeout        time.Duration `key:"timeout"`
	ConnectTimeout time.Duration `key:"connect_timeout"`
	MaxBodyBytes   int64         `key:"max_body_bytes"`
	MaxRedirects   int           `key:"max_redirects"`
	RatePerHost    float64       `key:"rate_per_host"`
	Retries        int           `key:"retries"`
	BackoffBase    time.Duration `key:"backoff_base"`
	MaxRetryWait   time.Duration `key:"max_retry_wait"`
	IgnoreRobots   bool          `key:"ignore_robots"`
	// ConnectTo holds HOST=ADDR pairs (see ConnectToMap).
	ConnectTo []string `key:"connect_to"`
}

// Ingest configures the pipeline.
type Ingest struct {
	Concurrency        int           `key:"concurrency"`
	PauseAfterFailures int           `key:"pause_after_failures"`
	PauseFor           time.Duration `key:"pause_for"`
	// MaxItemPages bounds the item pages fetched per source in one run;
	// a large backlog (a 50,000-URL sitemap) is worked through over runs.
	MaxItemPages int `key:"max_item_pages"`
}

// Index configures the bleve index.
type Index struct {
	BatchSize int `key:"batch_size"`
	// SynonymsFile is an optional CSV file of synonym groups, used as well
	// as the built-in ones (one group per line: "CBT, cognitive
	// behavioural therapy").
	SynonymsFile string `key:"synonyms_file"`
	// LockWait is how long a command waits for an index another process
	// holds (a long reindex) before giving up, naming the holder; 0 gives
	// up at once.
	LockWait time.Duration `key:"lock_wait"`
}

// Topic is one topic of the taxonomy: items matching Query (in the search
// language; every plain word required) are tagged with Name.
type Topic struct {
	Name        string `key:"name"`
	Description string `key:"description"`
	Query       string `key:"query"`
}

// SMTP configures outgoing mail.
type SMTP struct {
	Host     string `key:"host"`
	Port     int    `key:"port"`
	TLS      string `key:"tls"`
	Username string `key:"username"`
	Password string `key:"password" secret:"true"`
	From     string `key:"from"`
	// Rate is messages per second at most (0: no limit).
	Rate float64 `key:"rate"`
	// Retries after a temporary failure (4xx, a dropped connection).
	Retries int `key:"retries"`
	// Timeout bounds the connection and each read or write on it.
	Timeout time.Duration `key:"timeout"`
	// Connections is how many SMTP connections send at once, each reused.
	Connections int `key:"connections"`
}

// Web configures the web server and the links in mail.
type Web struct {
	Addr    string `key:"addr"`
	BaseURL string `key:"base_url"`
	// Public lets anyone search and read without signing in; false asks
	// every reader to sign in (an account of any role).
	Public bool `key:"public"`
	// SessionTTL is how long a web session lasts after its last use.
	SessionTTL time.Duration `key:"session_ttl"`
	// AllowPrivateFetch lets "add by URL" fetch loopback, private,
	// link-local and metadata addresses (tests and a demo on one
	// machine); false refuses them, checked on each connection made.
	AllowPrivateFetch bool `key:"allow_private_fetch"`
}

// Digest configures the weekly evidence digest (see package digest).
type Digest struct {
	// Title heads every digest.
	Title string `key:"title"`
	// Timezone is the IANA location whose Monday–Sunday weeks digests cover.
	Timezone string `key:"timezone"`
	// MaxAge: an item counts as new evidence in the week it was first seen
	// only if it was published at most this long before (or has no date).
	MaxAge time.Duration `key:"max_age"`
	// SendEmpty makes a short "nothing new this week" digest for an empty
	// week instead of none.
	SendEmpty bool `key:"send_empty"`
	// Schedule is when the digest goes out: a 5-field cron spec (minute
	// hour day-of-month month day-of-week), used by the scheduler.
	Schedule string `key:"schedule"`
	// RequireApproval holds the digest until an editor approves the draft.
	RequireApproval bool `key:"require_approval"`
	// BounceLimit is how many bounces unsubscribe an address.
	BounceLimit int `key:"bounce_limit"`
	// Secret signs the confirm, preferences and unsubscribe links; empty
	// means the one generated into the data dir (digest.secret) on first use.
	Secret string `key:"secret" secret:"true"`
	// PreviousSecret is still accepted while a secret is rotated out.
	PreviousSecret string `key:"previous_secret" secret:"true"`
	// Templates is a directory whose digest.html.tmpl, digest.txt.tmpl or
	// digest.md.tmpl replace the built-in ones; empty: the built-in ones.
	Templates string `key:"templates"`
}

// Sources maps a source ID to its configuration.
type Sources map[string]Source

// IDs returns the source IDs in sorted order.
func (s Sources) IDs() []string {
	ids := make([]string, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Source describes one publisher and how to ingest it. Layers are tried in
// order: feeds, then sitemaps, then listing pages.
type Source struct {
	Name          string        `key:"name"`
	Home          string        `key:"home"`
	Enabled       bool          `key:"enabled"`
	PollInterval  time.Duration `key:"poll_interval"`
	PreferredHost string        `key:"preferred_host"`
	TrailingSlash string        `key:"trailing_slash"`
	Feeds         []string      `key:"feeds"`
	Sitemaps      []string      `key:"sitemaps"`
	Listings      []string      `key:"listings"`
	Include       []string      `key:"include"`
	Exclude       []string      `key:"exclude"`
	Pagination    []string      `key:"pagination"`
	DefaultType   string        `key:"default_type"`
	Types         []TypeRule    `key:"types"`
	// AliasRules map the site's old URL paths to current ones, first
	// match wins (links to old URLs resolve; `evidence aliases load`).
	AliasRules []AliasRule `key:"alias_rules"`
}

// TypeRule maps item URLs matching Pattern (a Go regexp) to Type.
type TypeRule struct {
	Pattern string `key:"pattern"`
	Type    string `key:"type"`
}

// AliasRule maps an old URL path matching Pattern (a Go regexp over the
// path, e.g. '^/blog/[0-9]{4}/[0-9]{2}/([^/]+)/?$') to Target, an absolute
// path on the same site with $1… from Pattern's groups; Lowercase
// lower-cases the result.
type AliasRule struct {
	Pattern   string `key:"pattern"`
	Target    string `key:"target"`
	Lowercase bool   `key:"lowercase"`
}

// ConnectToMap parses Fetch.ConnectTo into host → address.
func (f Fetch) ConnectToMap() (map[string]string, error) {
	m := make(map[string]string, len(f.ConnectTo))
	for _, pair := range f.ConnectTo {
		host, addr, ok := strings.Cut(strings.TrimSpace(pair), "=")
		host, addr = strings.ToLower(strings.TrimSpace(host)), strings.TrimSpace(addr)
		if !ok || host == "" || addr == "" {
			return nil, fmt.Errorf("%q is not HOST=ADDR", pair)
		}
		m[host] = addr
	}
	return m, nil
}
