package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// AliasRuleSpec maps old URL paths of a source (a site that moved CMS) to
// their current path: Target, with $1… expanded from Pattern's groups, is
// an absolute path on the source's site. Lowercase lower-cases the result
// (new CMSs lower-case slugs that old ones kept).
type AliasRuleSpec struct {
	Pattern, Target string
	Lowercase       bool
}

// AliasRule is a compiled AliasRuleSpec.
type AliasRule struct {
	Pattern   *regexp.Regexp
	Target    string
	Lowercase bool
}

func compileAliasRules(id string, specs []AliasRuleSpec) ([]AliasRule, error) {
	out := make([]AliasRule, 0, len(specs))
	for i, r := range specs {
		re, err := regexp.Compile(r.Pattern)
		if err != nil || r.Pattern == "" {
			if err == nil {
				err = errors.New("empty pattern")
			}
			return nil, fmt.Errorf("source %s: alias_rules[%d] %q: %w", id, i, r.Pattern, err)
		}
		if !strings.HasPrefix(r.Target, "/") || strings.HasPrefix(r.Target, "//") {
			return nil, fmt.Errorf("source %s: alias_rules[%d] target %q is not an absolute path", id, i, r.Target)
		}
		out = append(out, AliasRule{Pattern: re, Target: r.Target, Lowercase: r.Lowercase})
	}
	return out, nil
}

// AliasTarget maps an old URL of the source (or a path on its site) to the
// canonical URL of the item that replaced it, by the first alias rule whose
// pattern matches the old URL's path. ok is false when the URL is not on the
// source's site, no rule matches, or the rule gives something that is not
// an item URL of the source (so a bad guess is never stored as an item's
// alias).
func (s Source) AliasTarget(oldURL string) (string, bool) {
	t, _, _, ok := s.aliasTarget(oldURL)
	return t, ok
}

// aliasTarget is AliasTarget that also returns the old URL as normalised
// and says which rule matched (-1 for none).
func (s Source) aliasTarget(oldURL string) (target, old string, rule int, ok bool) {
	if len(s.AliasRules) == 0 {
		return "", "", -1, false
	}
	old, err := s.oldURL(oldURL)
	if err != nil {
		return "", "", -1, false
	}
	u, err := url.Parse(old)
	if err != nil || !s.ownsHost(strings.ToLower(u.Hostname())) {
		return "", "", -1, false
	}
	for i, r := range s.AliasRules {
		m := r.Pattern.FindStringSubmatchIndex(u.Path)
		if m == nil {
			continue
		}
		p := string(r.Pattern.ExpandString(nil, r.Target, u.Path, m))
		if r.Lowercase {
			p = strings.ToLower(p)
		}
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
			return "", "", i, false
		}
		t, err := urlnorm.Normalize((&url.URL{Path: p}).EscapedPath(), u, s.Rules)
		if err != nil || t == old || !s.IsItemURL(t) {
			return "", "", i, false
		}
		return t, old, i, true
	}
	return "", "", -1, false
}

// oldURL makes a path or URL absolute on the source's site and normalises
// it with the source's rules.
func (s Source) oldURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw != "" && !strings.Contains(raw, "://") && !strings.HasPrefix(raw, "/") {
		raw = "/" + raw // Drupal writes some aliases without the slash
	}
	base, err := url.Parse(s.Home)
	if err != nil {
		return "", fmt.Errorf("source %s: home %q: %w", s.ID, s.Home, err)
	}
	if s.Rules.PreferredHost != "" {
		base.Host = s.Rules.PreferredHost
	}
	return urlnorm.Normalize(raw, base, s.Rules)
}

// OldAlias is one entry of an alias export: Path is the old public path
// (or URL); System, when set, is the CMS's own path for the same page
// ("/node/123"), which redirects there too.
type OldAlias struct {
	Path   string
	System string
}

// Bounds on an alias file.
const (
	maxAliasEntries = 1_000_000
	maxAliasLine    = 64 << 10
)

// ReadAliases parses an alias export: either a JSON object mapping CMS
// paths to old aliases ({"/node/123": "/blog/2023/09/slug", …}, the Drupal
// path-alias export) or plain text with one old path or URL per line
// (blank lines and lines starting with "#" are skipped).
func ReadAliases(r io.Reader) ([]OldAlias, error) {
	br := bufio.NewReader(r)
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, fmt.Errorf("aliases: %w", err)
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		case '{':
			return readAliasJSON(br)
		}
		return readAliasLines(br)
	}
}

func readAliasJSON(r io.Reader) ([]OldAlias, error) {
	dec := json.NewDecoder(r)
	at := func(err error) error {
		return fmt.Errorf("aliases: JSON at byte %d: %w", dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != nil { // the '{' peeked at
		return nil, at(err)
	}
	var out []OldAlias
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, at(err)
		}
		key, _ := tok.(string)
		var val any
		if err := dec.Decode(&val); err != nil {
			return nil, at(err)
		}
		alias, ok := val.(string)
		if !ok {
			return nil, at(fmt.Errorf("value of %q is %T, want a string (an old URL alias)", key, val))
		}
		if len(out) == maxAliasEntries {
			return nil, fmt.Errorf("aliases: more than %d entries", maxAliasEntries)
		}
		out = append(out, OldAlias{Path: alias, System: key})
	}
	if _, err := dec.Token(); err != nil {
		return nil, at(err)
	}
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, at(fmt.Errorf("unexpected %v after the object", tok))
	}
	return out, nil
}

func readAliasLines(r io.Reader) ([]OldAlias, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxAliasLine)
	var out []OldAlias
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(string(bytes.TrimPrefix(sc.Bytes(), []byte("\xef\xbb\xbf"))))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if len(out) == maxAliasEntries {
			return nil, fmt.Errorf("aliases: more than %d entries", maxAliasEntries)
		}
		out = append(out, OldAlias{Path: s})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("aliases: line %d: longer than %d bytes", line+1, maxAliasLine)
		}
		return nil, fmt.Errorf("aliases: line %d: %w", line+1, err)
	}
	return out, nil
}

// AliasStore is what LoadAliases needs from the store.
type AliasStore interface {
	// AddAliases records many aliases in one transaction; refused pairs
	// (an alias that is another stored item's URL) come back one error
	// each, the rest go in.
	AddAliases(ctx context.Context, pairs []evidence.AliasPair) ([]error, error)
}

// AliasReport is what LoadAliases did; `evidence aliases load --json`
// prints it.
type AliasReport struct {
	Source   string `json:"source"`
	Read     int    `json:"read"`
	Mapped   int    `json:"mapped"`
	Unmapped int    `json:"unmapped"`
	// Stored counts the aliases now in the store: the old URL and, when the
	// export gives one, the CMS path of each mapped entry.
	Stored int      `json:"stored"`
	Errors []string `json:"errors"`
	// ByRule counts the entries each alias rule mapped, in rule order.
	ByRule []RuleCount `json:"by_rule"`
	// UnmappedExamples are a few entries left unmapped: those a rule
	// matched but rejected first, then those no rule matched.
	UnmappedExamples []string `json:"unmapped_examples"`
}

// RuleCount is how many entries one alias rule mapped, and how many it
// matched but left unmapped because its target was no item URL (a slug
// with characters the site's include patterns refuse, say).
type RuleCount struct {
	Pattern  string `json:"pattern"`
	Target   string `json:"target"`
	Mapped   int    `json:"mapped"`
	Rejected int    `json:"rejected"`
}

// maxUnmappedExamples bounds AliasReport.UnmappedExamples.
const maxUnmappedExamples = 10

// LoadAliases maps each old alias to its current URL with the source's
// alias rules and stores the old URL (and the CMS path) as aliases of it.
// The item need not be stored yet: the store resolves the alias once it
// is. An alias the store refuses (the URL of another stored item) is
// reported in Errors and the rest go on; a store failure stops the load.
func LoadAliases(ctx context.Context, st AliasStore, src Source, entries []OldAlias) (rep AliasReport, err error) {
	rep = AliasReport{Source: src.ID, Errors: []string{}, ByRule: make([]RuleCount, len(src.AliasRules)), UnmappedExamples: []string{}}
	for i, r := range src.AliasRules {
		rep.ByRule[i] = RuleCount{Pattern: r.Pattern.String(), Target: r.Target}
	}
	if len(src.AliasRules) == 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("source %s has no alias_rules: nothing can be mapped", src.ID))
	}
	// Aliases are stored in batches, one transaction each.
	var batch []evidence.AliasPair
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		refused, err := st.AddAliases(ctx, batch)
		if err != nil {
			return err
		}
		rep.Stored += len(batch) - len(refused)
		for _, r := range refused {
			rep.Errors = append(rep.Errors, r.Error())
		}
		batch = batch[:0]
		return nil
	}
	add := func(old, target string) error {
		batch = append(batch, evidence.AliasPair{Alias: old, URL: target})
		if len(batch) >= aliasBatch {
			return flush()
		}
		return nil
	}
	var rejected, noRule []string
	defer func() {
		rep.UnmappedExamples = append(rep.UnmappedExamples, rejected...)
		rep.UnmappedExamples = append(rep.UnmappedExamples, noRule...)
		rep.UnmappedExamples = rep.UnmappedExamples[:min(len(rep.UnmappedExamples), maxUnmappedExamples)]
	}()
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("aliases: %w", err)
		}
		rep.Read++
		target, old, rule, ok := src.aliasTarget(e.Path)
		if !ok {
			rep.Unmapped++
			switch {
			case rule >= 0:
				rep.ByRule[rule].Rejected++
				if len(rejected) < maxUnmappedExamples {
					rejected = append(rejected, e.Path)
				}
			case len(noRule) < maxUnmappedExamples:
				noRule = append(noRule, e.Path)
			}
			continue
		}
		rep.Mapped++
		rep.ByRule[rule].Mapped++
		if err := add(old, target); err != nil {
			return rep, fmt.Errorf("aliases: %w", err)
		}
		if e.System == "" {
			continue
		}
		sys, err := src.oldURL(e.System)
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s (CMS path of %s): %v", e.System, e.Path, err))
			continue
		}
		if sys != old {
			if err := add(sys, target); err != nil {
				return rep, fmt.Errorf("aliases: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return rep, fmt.Errorf("aliases: %w", err)
	}
	return rep, nil
}

// aliasBatch is how many aliases go into one store transaction.
const aliasBatch = 1000
