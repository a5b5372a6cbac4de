package ingest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// SourceSpec is one source as configured (cmd fills it from config, which
// this package does not import).
type SourceSpec struct {
	ID, Name, Home            string
	Feeds, Sitemaps, Listings []string
	PreferredHost             string
	TrailingSlash             string
	Include, Exclude          []string
	Pagination                []string
	DefaultType               string
	Types                     []TypeRuleSpec
	AliasRules                []AliasRuleSpec
}

// TypeRuleSpec maps URLs matching Pattern to Type.
type TypeRuleSpec struct{ Pattern, Type string }

// Source is a compiled SourceSpec, ready for the pipeline.
type Source struct {
	ID, Name, Home            string
	Feeds, Sitemaps, Listings []string
	Rules                     urlnorm.Rules
	Include, Exclude          []*regexp.Regexp
	Pagination                []*regexp.Regexp
	DefaultType               string
	Types                     []TypeRule
	// AliasRules map the site's old URLs to current ones (see AliasTarget).
	AliasRules []AliasRule
}

// TypeRule is a compiled TypeRuleSpec.
type TypeRule struct {
	Pattern *regexp.Regexp
	Type    string
}

// Compile checks and compiles a spec; errors name the source and pattern.
func Compile(s SourceSpec) (Source, error) {
	out := Source{
		ID: s.ID, Name: s.Name, Home: s.Home,
		Feeds: s.Feeds, Sitemaps: s.Sitemaps, Listings: s.Listings,
		Rules:       urlnorm.Rules{PreferredHost: strings.ToLower(s.PreferredHost), TrailingSlash: s.TrailingSlash},
		DefaultType: s.DefaultType,
	}
	if out.DefaultType == "" {
		out.DefaultType = evidence.TypeArticle
	}
	compile := func(what string, pats []string) ([]*regexp.Regexp, error) {
		res := make([]*regexp.Regexp, 0, len(pats))
		for i, p := range pats {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("source %s: %s[%d] %q: %w", s.ID, what, i, p, err)
			}
			res = append(res, re)
		}
		return res, nil
	}
	var err error
	if out.Include, err = compile("include", s.Include); err != nil {
		return Source{}, err
	}
	if out.Exclude, err = compile("exclude", s.Exclude); err != nil {
		return Source{}, err
	}
	if out.Pagination, err = compile("pagination", s.Pagination); err != nil {
		return Source{}, err
	}
	for i, r := range s.Types {
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return Source{}, fmt.Errorf("source %s: types[%d] %q: %w", s.ID, i, r.Pattern, err)
		}
		out.Types = append(out.Types, TypeRule{Pattern: re, Type: r.Type})
	}
	if out.AliasRules, err = compileAliasRules(s.ID, s.AliasRules); err != nil {
		return Source{}, err
	}
	return out, nil
}

// Strategy names the layer that feeds new items.
func (s Source) Strategy() string {
	switch {
	case len(s.Feeds) > 0:
		return "feed"
	case len(s.Sitemaps) > 0:
		return "sitemap"
	case len(s.Listings) > 0:
		return "listing"
	}
	return "none"
}

// IsItemURL reports whether a canonical URL is an item of this source: it
// matches an include pattern (or there are none), no exclude pattern, and is
// not a WordPress non-item (attachment, feed, /page/N/, ?p=N, /amp).
func (s Source) IsItemURL(u string) bool {
	if urlnorm.IsWordPressNonItem(u) {
		return false
	}
	for _, re := range s.Exclude {
		if re.MatchString(u) {
			return false
		}
	}
	if len(s.Include) == 0 {
		return true
	}
	for _, re := range s.Include {
		if re.MatchString(u) {
			return true
		}
	}
	return false
}

// TypeOf classifies a canonical item URL by the source's type rules.
func (s Source) TypeOf(u string) string {
	for _, r := range s.Types {
		if r.Pattern.MatchString(u) {
			return r.Type
		}
	}
	return s.DefaultType
}

// ownsHost reports whether host (lower-case) is this source's site, with or
// without "www.".
func (s Source) ownsHost(host string) bool {
	ph := s.Host()
	if ph == "" {
		return false
	}
	return host == ph || "www."+host == ph || host == "www."+ph
}

// Host is the host the source's site is on: its preferred host, else its
// home page's ("" if neither says).
func (s Source) Host() string {
	if s.Rules.PreferredHost != "" {
		return s.Rules.PreferredHost
	}
	if u, err := url.Parse(s.Home); err == nil {
		return strings.ToLower(u.Hostname())
	}
	return ""
}

// ownsURL reports whether u is on this source's site.
func (s Source) ownsURL(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && s.ownsHost(strings.ToLower(pu.Hostname()))
}

// canonical is raw under this source's URL rules, "" if it is not a usable
// URL.
func (s Source) canonical(raw string) string {
	c, err := normalize(raw, s)
	if err != nil {
		return ""
	}
	return c
}
