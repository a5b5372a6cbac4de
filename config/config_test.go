package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/evidencetracker/evidence"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "evidence.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	l, err := Load(LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatalf("built-in defaults do not load: %v", err)
	}
	c := l.Config
	want := []string{"centre-for-mental-health", "kings-fund", "mental-elf", "national-voices"}
	if got := c.Sources.IDs(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("sources = %v, want %v", got, want)
	}
	me := c.Sources["mental-elf"]
	if len(me.Feeds) == 0 || me.Feeds[0] != "https://www.nationalelfservice.net/mental-health/feed/" {
		t.Errorf("mental-elf = %+v", me)
	}
	if kf := c.Sources["kings-fund"]; len(kf.Feeds) != 0 || len(kf.Sitemaps) == 0 {
		t.Errorf("kings-fund has no feed, so its strategy should be sitemap: %+v", kf)
	}
	if c.Fetch.Timeout != 30*time.Second || c.Fetch.MaxBodyBytes != 15<<20 || c.Fetch.RatePerHost != 1 {
		t.Errorf("fetch defaults = %+v", c.Fetch)
	}
	if c.DataDir != "./data" {
		t.Errorf("data_dir = %q", c.DataDir)
	}
	if c.Index.LockWait != time.Minute {
		t.Errorf("index.lock_wait = %v, want 1m0s", c.Index.LockWait)
	}
}

func TestOverrides(t *testing.T) {
	file := writeFile(t, `
fetch:
  timeout: 5s
sources:
  mental-elf:
    poll_interval: 2h
`)
	t.Setenv("EVIDENCE_FETCH_USER_AGENT", "Test/1 (+https://example.org/contact)")
	t.Setenv("EVIDENCE_SOURCES_MENTAL_ELF_ENABLED", "false")
	t.Setenv("EVIDENCE_FETCH_CONNECT_TO", "www.nationalelfservice.net=127.0.0.1:9000, www.kingsfund.org.uk=127.0.0.1:9000")
	t.Setenv("EVIDENCE_SMTP_PASSWORD", "hunter2")
	t.Setenv("EVIDENCE_INDEX_LOCK_WAIT", "5s")

	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("data", "./data", "")
	fs.String("log-level", "info", "")
	if err := fs.Parse([]string{"--data", "/tmp/elsewhere"}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(LoadOptions{File: file, Flags: map[string]*pflag.Flag{
		"data_dir":  fs.Lookup("data"),
		"log.level": fs.Lookup("log-level"),
	}, Environ: []string{"EVIDENCE_FETCH_TIMOUT=3s", "EVIDENCE_FETCH_TIMEOUT=1s"}})
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config
	tests := []struct {
		name      string
		got, want any
	}{
		{"file overrides default", c.Fetch.Timeout, 5 * time.Second},
		{"file merges into a source", c.Sources["mental-elf"].PollInterval, 2 * time.Hour},
		{"file keeps the rest of that source", c.Sources["mental-elf"].Name, "The Mental Elf"},
		{"env overrides a string", c.Fetch.UserAgent, "Test/1 (+https://example.org/contact)"},
		{"env overrides a nested source bool", c.Sources["mental-elf"].Enabled, false},
		{"env gives a list", len(c.Fetch.ConnectTo), 2},
		{"env sets the index lock wait", c.Index.LockWait, 5 * time.Second},
		{"set flag overrides", c.DataDir, "/tmp/elsewhere"},
		{"unset flag leaves default", c.Log.Level, "info"},
		{"secret is redacted", c.Redacted()["smtp"].(map[string]any)["password"], "<redacted>"},
		{"file is reported", l.File, file},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "EVIDENCE_FETCH_TIMOUT") {
		t.Errorf("warnings = %v, want one naming EVIDENCE_FETCH_TIMOUT", l.Warnings)
	}
	m, err := c.Fetch.ConnectToMap()
	if err != nil || m["www.kingsfund.org.uk"] != "127.0.0.1:9000" {
		t.Errorf("ConnectToMap = %v, %v", m, err)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantKey string
		wantMsg string
	}{
		{"unknown top-level key", "fetcj: {timeout: 3s}\n", "fetcj", `did you mean "fetch"`},
		{"unknown nested key", "fetch:\n  timout: 3s\n", "fetch.timout", `did you mean "timeout"`},
		{"unknown source key", "sources:\n  mental-elf:\n    feedz: []\n", "sources.mental-elf.feedz", "unknown key"},
		{"bad duration", "fetch:\n  timeout: soon\n", "fetch.timeout", "want a duration"},
		{"duration without unit", "fetch:\n  timeout: 30\n", "fetch.timeout", "with a unit"},
		{"bad number", "fetch:\n  retries: many\n", "fetch.retries", "whole number"},
		{"bad URL", "sources:\n  mental-elf:\n    feeds: ['not a url']\n", "sources.mental-elf.feeds[0]", "absolute http(s) URL"},
		{"bad regex", "sources:\n  kings-fund:\n    include: ['(unclosed']\n", "sources.kings-fund.include[0]", "bad regular expression"},
		{"bad type", "sources:\n  kings-fund:\n    types: [{pattern: '/x/', type: essay}]\n", "sources.kings-fund.types[0].type", "not a known item type"},
		{"bad enum", "smtp:\n  tls: maybe\n", "smtp.tls", "not one of"},
		{"bad connect_to", "fetch:\n  connect_to: ['nohost']\n", "fetch.connect_to[0]", "HOST=ADDR"},
		{"bad source id", "sources:\n  Bad_ID:\n    name: x\n    home: https://x.org/\n    poll_interval: 1h\n    feeds: [https://x.org/feed/]\n", "sources.bad_id", "lower-case"},
		{"user agent without contact", "fetch:\n  user_agent: bot\n", "fetch.user_agent", "contact"},
		{"negative rate", "fetch:\n  rate_per_host: -1\n", "fetch.rate_per_host", "more than 0"},
		{"wrong shape", "fetch: 3\n", "fetch", "mapping"},
		{"negative lock wait", "index:\n  lock_wait: -5s\n", "index.lock_wait", "must not be negative"},
		{"bad lock wait", "index:\n  lock_wait: a while\n", "index.lock_wait", "want a duration"},
		{"missing synonyms file", "index:\n  synonyms_file: /nonexistent/synonyms.csv\n", "index.synonyms_file", "no such file"},
		{"unknown topic key", "topics:\n  - {name: a, query: b, colour: red}\n", "topics[0].colour", "unknown key"},
		{"empty topic name", "topics:\n  - {name: '', query: housing}\n", "topics[0].name", "must not be empty"},
		{"repeated topic name", "topics:\n  - {name: Housing, query: housing}\n  - {name: housing, query: homes}\n", "topics[1].name", "repeats topics[0]"},
		{"empty topic query", "topics:\n  - {name: a, query: ''}\n", "topics[0].query", "must not be empty"},
		{"bad topic query", "topics:\n  - {name: a, query: x}\n  - {name: b, query: x}\n  - {name: c, query: x}\n  - {name: d, query: 'housing OR'}\n", "topics[3].query", "column 9: OR needs a term after it"},
		{"unclosed quote in topic query", "topics:\n  - {name: a, query: '\"peer support'}\n", "topics[0].query", "unclosed quote"},
		{"unknown field in topic query", "topics:\n  - {name: a, query: 'colour:red'}\n", "topics[0].query", `unknown field "colour"`},
		{"topic in topic query", "topics:\n  - {name: a, query: 'topic:housing'}\n", "topics[0].query", "cannot be used in a topic's own query"},
		{"exclusions only", "topics:\n  - {name: a, query: '-housing'}\n", "topics[0].query", "not only -exclusions"},
		{"bad alias pattern", "sources:\n  kings-fund:\n    alias_rules: [{pattern: '^/blog/(', target: '/b/$1'}]\n", "sources.kings-fund.alias_rules[0].pattern", "bad regular expression"},
		{"empty alias pattern", "sources:\n  kings-fund:\n    alias_rules: [{target: '/b/'}]\n", "sources.kings-fund.alias_rules[0].pattern", "must not be empty"},
		{"relative alias target", "sources:\n  kings-fund:\n    alias_rules: [{pattern: '^/blog/(.+)$', target: 'blogs/$1'}]\n", "sources.kings-fund.alias_rules[0].target", "absolute path"},
		{"alias target as a URL", "sources:\n  kings-fund:\n    alias_rules: [{pattern: '^/blog/(.+)$', target: 'https://x.org/$1'}]\n", "sources.kings-fund.alias_rules[0].target", "absolute path"},
		{"scheme-relative alias target", "sources:\n  kings-fund:\n    alias_rules: [{pattern: '^/blog/(.+)$', target: '//x.org/$1'}]\n", "sources.kings-fund.alias_rules[0].target", "absolute path"},
		{"alias target group missing", "sources:\n  kings-fund:\n    alias_rules: [{pattern: '^/blog/(.+)$', target: '/b/$2'}]\n", "sources.kings-fund.alias_rules[0].target", "has 1 group"},
		{"alias target $1x", "sources:\n  kings-fund:\n    alias_rules: [{pattern: '^/blog/(.+)$', target: '/b/$1x'}]\n", "sources.kings-fund.alias_rules[0].target", "${1}x"},
		{"unknown alias rule key", "sources:\n  kings-fund:\n    alias_rules: [{pattern: '^/b/(.+)$', target: '/$1', lower: true}]\n", "sources.kings-fund.alias_rules[0].lower", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, tt.yaml), Environ: []string{}})
			if err == nil {
				t.Fatal("want an error")
			}
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not config.Errors: %v", err, err)
			}
			found := false
			for _, e := range es {
				if e.Key == tt.wantKey && strings.Contains(e.Msg, tt.wantMsg) {
					found = true
				}
			}
			if !found {
				t.Errorf("errors %v: none has key %q with %q", es, tt.wantKey, tt.wantMsg)
			}
		})
	}
}

func TestDefaultTopics(t *testing.T) {
	l, err := Load(LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tp := range l.Config.Topics {
		names[tp.Name] = true
		if tp.Description == "" {
			t.Errorf("topic %q has no description", tp.Name)
		}
	}
	for _, want := range []string{"recovery", "self-management", "patient activation", "peer support",
		"social inclusion", "employment", "housing", "children and young people", "suicide prevention",
		"inequalities", "workforce", "integrated care", "personal stories", "crisis care", "social prescribing", "dementia"} {
		if !names[want] {
			t.Errorf("default topics lack %q", want)
		}
	}
	// A file's list replaces the defaults.
	l, err = Load(LoadOptions{File: writeFile(t, "topics:\n  - {name: only, description: x, query: 'housing OR homes'}\n"), Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Config.Topics) != 1 || l.Config.Topics[0] != (Topic{Name: "only", Description: "x", Query: "housing OR homes"}) {
		t.Errorf("topics = %+v, want the file's one", l.Config.Topics)
	}
}

func TestDefaultAliasRules(t *testing.T) {
	l, err := Load(LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	kf := l.Config.Sources["kings-fund"].AliasRules
	targets := map[string]bool{}
	for _, r := range kf {
		targets[r.Target] = r.Lowercase
	}
	for _, want := range []string{"/insight-and-analysis/blogs/$1", "/insight-and-analysis/press-releases/$1",
		"/insight-and-analysis/articles/$1", "/insight-and-analysis/reports/$1"} {
		if lower, ok := targets[want]; !ok || !lower {
			t.Errorf("kings-fund alias_rules lack %s (lower-cased): %+v", want, kf)
		}
	}
	if cmh := l.Config.Sources["centre-for-mental-health"].AliasRules; len(cmh) != 1 || cmh[0].Target != "/$1/" {
		t.Errorf("centre-for-mental-health alias_rules = %+v, want /blogs/<slug> → /<slug>/", cmh)
	}
	// A file's list replaces the defaults: that is how a wrong guess is fixed.
	l, err = Load(LoadOptions{File: writeFile(t, "sources:\n  kings-fund:\n    alias_rules:\n      - {pattern: '^/publications/([^/]+)$', target: '/insight-and-analysis/long-reads/$1'}\n"), Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Config.Sources["kings-fund"].AliasRules; len(got) != 1 || got[0].Target != "/insight-and-analysis/long-reads/$1" || got[0].Lowercase {
		t.Errorf("alias_rules = %+v, want the file's one", got)
	}
}

func TestMissingAndMalformedFile(t *testing.T) {
	if _, err := Load(LoadOptions{File: filepath.Join(t.TempDir(), "nope.yaml")}); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := Load(LoadOptions{File: writeFile(t, "fetch: [unclosed\n")}); err == nil || !strings.Contains(err.Error(), "parse") {
		t.Errorf("malformed YAML: err = %v", err)
	}
}
