package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index/querylang"
)

var sourceIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Validate checks every key and returns one FieldError per mistake, in key
// order; nil means the configuration is usable.
func Validate(c *Config) Errors {
	var errs Errors
	add := func(key, format string, a ...any) {
		errs = append(errs, FieldError{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	oneOf := func(key, val string, allowed ...string) {
		for _, a := range allowed {
			if val == a {
				return
			}
		}
		add(key, "%q is not one of %s", val, strings.Join(allowed, ", "))
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			add(key, "must be more than 0")
		}
	}

	if strings.TrimSpace(c.DataDir) == "" {
		add("data_dir", "must not be empty")
	}
	oneOf("log.level", strings.ToLower(c.Log.Level), "debug", "info", "warn", "error")
	oneOf("log.format", c.Log.Format, "text", "json")

	f := c.Fetch
	if strings.TrimSpace(f.UserAgent) == "" {
		add("fetch.user_agent", "must not be empty: publishers need to know who is fetching")
	} else if !strings.Contains(f.UserAgent, "http") && !strings.Contains(f.UserAgent, "@") {
		add("fetch.user_agent", "must include a contact URL or e-mail address")
	}
	positive("fetch.timeout", f.Timeout)
	positive("fetch.connect_timeout", f.ConnectTimeout)
	positive("fetch.backoff_base", f.BackoffBase)
	positive("fetch.max_retry_wait", f.MaxRetryWait)
	if f.MaxBodyBytes <= 0 {
		add("fetch.max_body_bytes", "must be more than 0")
	}
	if f.MaxRedirects < 0 || f.MaxRedirects > 20 {
		add("fetch.max_redirects", "must be between 0 and 20, got %d", f.MaxRedirects)
	}
	if f.RatePerHost <= 0 || f.RatePerHost > 100 {
		add("fetch.rate_per_host", "must be more than 0 and at most 100 requests per second, got %v", f.RatePerHost)
	}
	if f.Retries < 0 || f.Retries > 10 {
		add("fetch.retries", "must be between 0 and 10, got %d", f.Retries)
	}
	for i, pair := range f.ConnectTo {
		key := fmt.Sprintf("fetch.connect_to[%d]", i)
		host, addr, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(host) == "" {
			add(key, "%q is not HOST=ADDR (like www.example.org=127.0.0.1:8080)", pair)
			continue
		}
		if _, _, err := net.SplitHostPort(strings.TrimSpace(addr)); err != nil {
			add(key, "address %q: %v", addr, err)
		}
	}

	if c.Ingest.Concurrency < 1 || c.Ingest.Concurrency > 64 {
		add("ingest.concurrency", "must be between 1 and 64, got %d", c.Ingest.Concurrency)
	}
	if c.Ingest.PauseAfterFailures < 1 {
		add("ingest.pause_after_failures", "must be at least 1")
	}
	positive("ingest.pause_for", c.Ingest.PauseFor)
	if c.Ingest.MaxItemPages < 1 {
		add("ingest.max_item_pages", "must be at least 1")
	}
	if c.Index.BatchSize < 1 || c.Index.BatchSize > 100000 {
		add("index.batch_size", "must be between 1 and 100000, got %d", c.Index.BatchSize)
	}
	if c.Index.LockWait < 0 {
		add("index.lock_wait", "must not be negative (0 gives up at once)")
	}
	if f := c.Index.SynonymsFile; f != "" {
		if fi, err := os.Stat(f); err != nil {
			add("index.synonyms_file", "%v", err)
		} else if fi.IsDir() {
			add("index.synonyms_file", "%s is a directory, want a CSV file", f)
		}
	}
	validateTopics(add, c.Topics)

	oneOf("smtp.tls", c.SMTP.TLS, "none", "starttls", "tls")
	if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
		add("smtp.port", "must be a port number (1-65535), got %d", c.SMTP.Port)
	}
	if c.SMTP.Rate < 0 {
		add("smtp.rate", "must be 0 (no limit) or more messages per second, got %v", c.SMTP.Rate)
	}
	if c.SMTP.Connections < 1 || c.SMTP.Connections > 16 {
		add("smtp.connections", "must be 1 to 16, got %d", c.SMTP.Connections)
	}
	if c.SMTP.Retries < 0 {
		add("smtp.retries", "must be 0 or more, got %d", c.SMTP.Retries)
	}
	for _, k := range []struct{ key, v string }{{"digest.secret", c.Digest.Secret}, {"digest.previous_secret", c.Digest.PreviousSecret}} {
		if k.v != "" && len(k.v) < 32 {
			add(k.key, "must be at least 32 characters (a random hex string: openssl rand -hex 32), got %d", len(k.v))
		}
	}
	if c.SMTP.From != "" {
		if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
			add("smtp.from", "%q is not an e-mail address: %v", c.SMTP.From, err)
		}
	}
	if c.Web.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Web.Addr); err != nil {
			add("web.addr", "%q: %v", c.Web.Addr, err)
		}
	}
	checkURL(add, "web.base_url", c.Web.BaseURL)
	if d := c.Web.SessionTTL; d < 5*time.Minute || d > 366*24*time.Hour {
		add("web.session_ttl", "must be between 5m and 366d, got %s", d)
	}
	validateDigest(add, c.Digest)

	if len(c.Sources) == 0 {
		add("sources", "no sources are configured")
	}
	for _, id := range c.Sources.IDs() {
		validateSource(add, id, c.Sources[id])
	}
	return errs
}

// validateTopics checks the taxonomy: names present, unique and tidy,
// queries valid in the search language (and usable for tagging).
func validateTopics(add func(key, format string, a ...any), topics []Topic) {
	seen := map[string]int{}
	for i, t := range topics {
		key := fmt.Sprintf("topics[%d]", i)
		if msg := querylang.CheckTopicName(t.Name); msg != "" {
			add(key+".name", "%s", msg)
		} else {
			if j, dup := seen[querylang.TopicKey(t.Name)]; dup {
				add(key+".name", "%q repeats topics[%d]", t.Name, j)
			}
			seen[querylang.TopicKey(t.Name)] = i
		}
		if strings.TrimSpace(t.Query) == "" {
			add(key+".query", "must not be empty")
		} else if err := querylang.CheckTopicQuery(t.Query); err != nil {
			add(key+".query", "%s", strings.TrimSuffix(strings.TrimPrefix(err.Error(), "query: "), ": invalid"))
		}
	}
}

func validateSource(add func(key, format string, a ...any), id string, s Source) {
	key := func(k string) string { return "sources." + id + "." + k }
	if !sourceIDPattern.MatchString(id) {
		add("sources."+id, "source ID must be lower-case letters, digits and hyphens")
	}
	if strings.TrimSpace(s.Name) == "" {
		add(key("name"), "must not be empty")
	}
	checkURL(add, key("home"), s.Home)
	if s.PollInterval <= 0 {
		add(key("poll_interval"), "must be more than 0")
	}
	switch s.TrailingSlash {
	case "", "keep", "add", "strip":
	default:
		add(key("trailing_slash"), "%q is not one of keep, add, strip", s.TrailingSlash)
	}
	for layer, urls := range map[string][]string{"feeds": s.Feeds, "sitemaps": s.Sitemaps, "listings": s.Listings} {
		for i, u := range urls {
			checkURL(add, fmt.Sprintf("%s[%d]", key(layer), i), u)
		}
	}
	if s.Enabled && len(s.Feeds)+len(s.Sitemaps)+len(s.Listings) == 0 {
		add(key("feeds"), "an enabled source needs at least one feed, sitemap or listing URL")
	}
	for layer, pats := range map[string][]string{"include": s.Include, "exclude": s.Exclude, "pagination": s.Pagination} {
		for i, p := range pats {
			if _, err := regexp.Compile(p); err != nil {
				add(fmt.Sprintf("%s[%d]", key(layer), i), "bad regular expression: %v", err)
			}
		}
	}
	if s.DefaultType != "" && !evidence.IsItemType(s.DefaultType) {
		add(key("default_type"), "%q is not a known item type (%s)", s.DefaultType, typeList())
	}
	for i, r := range s.Types {
		k := fmt.Sprintf("%s[%d]", key("types"), i)
		if _, err := regexp.Compile(r.Pattern); err != nil || r.Pattern == "" {
			if err == nil {
				add(k+".pattern", "must not be empty")
			} else {
				add(k+".pattern", "bad regular expression: %v", err)
			}
		}
		if !evidence.IsItemType(r.Type) {
			add(k+".type", "%q is not a known item type (%s)", r.Type, typeList())
		}
	}
	for i, r := range s.AliasRules {
		validateAliasRule(add, fmt.Sprintf("%s[%d]", key("alias_rules"), i), r)
	}
}

// groupRef finds $name, ${name} and $$ in a regexp replacement template,
// as regexp.Expand reads them (the longest run of letters, digits and _).
var groupRef = regexp.MustCompile(`\$(?:\$|\{([^}]*)\}|([A-Za-z0-9_]+))`)

// validateAliasRule checks that the pattern compiles and that the target
// is an absolute path whose $references name groups the pattern has, so
// every match expands to a path on the site.
func validateAliasRule(add func(key, format string, a ...any), k string, r AliasRule) {
	re, err := regexp.Compile(r.Pattern)
	switch {
	case r.Pattern == "":
		add(k+".pattern", "must not be empty")
	case err != nil:
		add(k+".pattern", "bad regular expression: %v", err)
	}
	switch {
	case r.Target == "":
		add(k+".target", "must not be empty")
		return
	case !strings.HasPrefix(r.Target, "/") || strings.HasPrefix(r.Target, "//"):
		add(k+".target", "%q must be an absolute path on the source's site, starting with one \"/\" (like /insight-and-analysis/blogs/$1)", r.Target)
		return
	}
	if re == nil || r.Pattern == "" {
		return
	}
	for _, m := range groupRef.FindAllStringSubmatch(r.Target, -1) {
		name := m[1] + m[2]
		if m[0] == "$$" {
			continue
		}
		if n, err := strconv.Atoi(name); err == nil {
			if n > re.NumSubexp() {
				add(k+".target", "%s refers to group %d but the pattern has %d group(s)", m[0], n, re.NumSubexp())
			}
			continue
		}
		if re.SubexpIndex(name) < 0 {
			add(k+".target", "%s names no group of the pattern (write ${1}x, not $1x, to follow a group with letters or digits)", m[0])
		}
	}
}

// typeList names the item types a type rule may name, for error messages.
func typeList() string {
	return strings.Join(evidence.ItemTypes(), ", ")
}

func checkURL(add func(key, format string, a ...any), key, raw string) {
	if raw == "" {
		add(key, "must not be empty")
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		add(key, "bad URL: %v", err)
		return
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add(key, "%q is not an absolute http(s) URL", raw)
	}
}

// Redacted returns the configuration as nested maps keyed like the YAML,
// with secrets replaced by "<redacted>" (when set), durations as strings.
func (c *Config) Redacted() map[string]any {
	return toMap(reflect.ValueOf(*c)).(map[string]any)
}

func toMap(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.Struct:
		m := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			k := f.Tag.Get("key")
			if k == "" {
				continue
			}
			if f.Tag.Get("secret") == "true" && v.Field(i).String() != "" {
				m[k] = "<redacted>"
				continue
			}
			m[k] = toMap(v.Field(i))
		}
		return m
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[k.String()] = toMap(v.MapIndex(k))
		}
		return m
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = toMap(v.Index(i))
		}
		return out
	default:
		return v.Interface()
	}
}
