package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/store"
)

// kingsFundRules are config/default.yaml's kings-fund alias rules.
var kingsFundRules = []AliasRuleSpec{
	{Pattern: `^/blog/[0-9]{4}/[0-9]{2}/([^/]+)/?$`, Target: "/insight-and-analysis/blogs/$1", Lowercase: true},
	{Pattern: `^/press/press-releases/([^/]+)/?$`, Target: "/insight-and-analysis/press-releases/$1", Lowercase: true},
	{Pattern: `^/publications/articles/([^/]+)/?$`, Target: "/insight-and-analysis/articles/$1", Lowercase: true},
	{Pattern: `^/publications/([^/]+)/?$`, Target: "/insight-and-analysis/reports/$1", Lowercase: true},
	{Pattern: `^/audio-video/podcast/([^/]+)/?$`, Target: "/insight-and-analysis/podcast/$1", Lowercase: true},
}

func kingsFund(t testing.TB, rules []AliasRuleSpec) Source {
	t.Helper()
	s, err := Compile(SourceSpec{
		ID: "kings-fund", Name: "The King's Fund", Home: "https://www.kingsfund.org.uk/",
		Sitemaps: []string{"https://www.kingsfund.org.uk/sitemap.xml"}, PreferredHost: "www.kingsfund.org.uk", TrailingSlash: "strip",
		Include:     []string{`^https://www\.kingsfund\.org\.uk/insight-and-analysis/(?:reports|long-reads|blogs|articles|data-and-charts|podcast|press-releases)/[a-z0-9][a-z0-9.-]*/?$`},
		DefaultType: evidence.TypeArticle,
		Types: []TypeRuleSpec{
			{Pattern: "/insight-and-analysis/reports/", Type: evidence.TypeReport},
			{Pattern: "/insight-and-analysis/articles/", Type: evidence.TypeArticle},
		},
		AliasRules: rules,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func centreForMentalHealth(t testing.TB) Source {
	t.Helper()
	s, err := Compile(SourceSpec{
		ID: "centre-for-mental-health", Home: "https://www.centreformentalhealth.org.uk/",
		PreferredHost: "www.centreformentalhealth.org.uk", TrailingSlash: "add",
		Include:    []string{`^https://www\.centreformentalhealth\.org\.uk/(?:news/item/|publications/)?[a-z0-9-]+/$`},
		Exclude:    []string{`^https://www\.centreformentalhealth\.org\.uk/(?:about-us|news|publications|blog|blogs)/$`},
		AliasRules: []AliasRuleSpec{{Pattern: `^/blogs/([^/]+)/?$`, Target: "/$1/"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAliasTarget(t *testing.T) {
	kf, cmh := kingsFund(t, kingsFundRules), centreForMentalHealth(t)
	const ia = "https://www.kingsfund.org.uk/insight-and-analysis/"
	tests := []struct {
		name string
		src  Source
		old  string
		want string // "" for unmapped
	}{
		{"blog", kf, "https://www.kingsfund.org.uk/blog/2023/09/ethnic-inequalities-mortality-england", ia + "blogs/ethnic-inequalities-mortality-england"},
		{"blog slug lower-cased", kf, "https://www.kingsfund.org.uk/blog/2023/10/unsustainable-workload-results-GP-trainee-survey", ia + "blogs/unsustainable-workload-results-gp-trainee-survey"},
		{"http, bare host, slash, tracking", kf, "http://kingsfund.org.uk/press/press-releases/kings-fund-responds-primary-care-plan/?utm_source=x#top", ia + "press-releases/kings-fund-responds-primary-care-plan"},
		{"slug with a dot", kf, "/press/press-releases/kings-fund-responds-latest-nhs-performance-stats-7.3million-people-waiting-list", ia + "press-releases/kings-fund-responds-latest-nhs-performance-stats-7.3million-people-waiting-list"},
		{"article before publication", kf, "https://www.kingsfund.org.uk/publications/articles/seven-day-nhs", ia + "articles/seven-day-nhs"},
		{"publication guessed a report", kf, "https://www.kingsfund.org.uk/publications/mental-health-under-pressure", ia + "reports/mental-health-under-pressure"},
		{"podcast", kf, "https://www.kingsfund.org.uk/audio-video/podcast/never-ending-winter-hospitals", ia + "podcast/never-ending-winter-hospitals"},
		{"path without a slash", kf, "blog/2021/03/reforming-mental-health-act", ia + "blogs/reforming-mental-health-act"},
		{"sub-page of a publication", kf, "https://www.kingsfund.org.uk/publications/social-care-360/access", ""},
		{"old PDF", kf, "https://www.kingsfund.org.uk/sites/default/files/2023-06/report.pdf", ""},
		{"mis-encoded slug is no item URL", kf, "/blog/2012/11/it\ufffds-time-think-differently", ""},
		{"listing page", kf, "https://www.kingsfund.org.uk/publications", ""},
		{"node path", kf, "https://www.kingsfund.org.uk/node/95098", ""},
		{"already current", kf, ia + "blogs/reforming-mental-health-act", ""},
		{"other site", kf, "https://www.nationalvoices.org.uk/blog/2023/09/x", ""},
		{"not a URL", kf, "http://[::1", ""},
		{"cmh blog", cmh, "https://www.centreformentalhealth.org.uk/blogs/racism-and-the-mental-health-act", "https://www.centreformentalhealth.org.uk/racism-and-the-mental-health-act/"},
		{"cmh blog, slash", cmh, "http://centreformentalhealth.org.uk/blogs/beacon-mental-health-equality/", "https://www.centreformentalhealth.org.uk/beacon-mental-health-equality/"},
		{"cmh target excluded", cmh, "/blogs/about-us", ""},
		{"source without rules", compile(t, "good.test"), "https://good.test/blogs/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.src.AliasTarget(tt.old)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("AliasTarget(%q) = %q, %v; want %q", tt.old, got, ok, tt.want)
			}
		})
	}
}

func TestCompileAliasRulesErrors(t *testing.T) {
	tests := []struct {
		name string
		rule AliasRuleSpec
		want string
	}{
		{"bad pattern", AliasRuleSpec{Pattern: "^/blog/(", Target: "/b/$1"}, "alias_rules[0]"},
		{"empty pattern", AliasRuleSpec{Target: "/b/"}, "empty pattern"},
		{"relative target", AliasRuleSpec{Pattern: "^/b/(.+)$", Target: "b/$1"}, "not an absolute path"},
		{"scheme-relative target", AliasRuleSpec{Pattern: "^/b/(.+)$", Target: "//x.org/$1"}, "not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(SourceSpec{ID: "x", Home: "https://x.org/", AliasRules: []AliasRuleSpec{tt.rule}})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "source x") {
				t.Errorf("err = %v, want one naming source x and saying %q", err, tt.want)
			}
		})
	}
}

func TestCanonicalMapsOldURLs(t *testing.T) {
	p := New(Options{Sources: []Source{kingsFund(t, kingsFundRules), centreForMentalHealth(t)}})
	tests := []struct{ in, want string }{
		{"http://www.kingsfund.org.uk/press/press-releases/kings-fund-comments-new-letter-nhs-financial-challenges",
			"https://www.kingsfund.org.uk/insight-and-analysis/press-releases/kings-fund-comments-new-letter-nhs-financial-challenges"},
		{"https://www.kingsfund.org.uk/blog/2023/03/hidden-problems-behind-delayed-discharges?utm_medium=email",
			"https://www.kingsfund.org.uk/insight-and-analysis/blogs/hidden-problems-behind-delayed-discharges"},
		{"https://www.kingsfund.org.uk/sites/default/files/2023-06/report.pdf", "https://www.kingsfund.org.uk/sites/default/files/2023-06/report.pdf"},
		{"https://centreformentalhealth.org.uk/blogs/racism-and-the-mental-health-act", "https://www.centreformentalhealth.org.uk/racism-and-the-mental-health-act/"},
		{"https://example.org/blog/2023/03/x", "https://example.org/blog/2023/03/x"},
	}
	for _, tt := range tests {
		if got := p.Canonical(tt.in); got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReadAliases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []OldAlias
		wantErr string
	}{
		{"drupal export", ` {"/node/95098": "/blog/2023/09/ethnic-inequalities-mortality-england", "/webform/contact": "form/contact"}`,
			[]OldAlias{{Path: "/blog/2023/09/ethnic-inequalities-mortality-england", System: "/node/95098"}, {Path: "form/contact", System: "/webform/contact"}}, ""},
		{"empty object", "{}", nil, ""},
		{"empty input", " \n", nil, ""},
		{"text", "\ufeff# old blog URLs\n/blogs/a\n\n  https://www.centreformentalhealth.org.uk/blogs/b  \r\n",
			[]OldAlias{{Path: "/blogs/a"}, {Path: "https://www.centreformentalhealth.org.uk/blogs/b"}}, ""},
		{"value not a string", `{"/node/1": 7}`, nil, `value of "/node/1"`},
		{"truncated", `{"/node/1": "/a"`, nil, "JSON at byte"},
		{"trailing data", `{"/node/1": "/a"} x`, nil, "JSON at byte"},
		{"line too long", "/" + strings.Repeat("a", maxAliasLine+1) + "\n", nil, "line 1: longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadAliases(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzReadAliases(f *testing.F) {
	for _, s := range []string{`{"/node/1": "/blog/2023/09/x"}`, "/blogs/a\n# c\nhttps://x.org/b\n", `{"a": 1}`, "{", ""} {
		f.Add([]byte(s))
	}
	kf := kingsFund(f, kingsFundRules)
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ReadAliases(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		for _, e := range entries {
			if target, ok := kf.AliasTarget(e.Path); ok && !kf.IsItemURL(target) {
				t.Fatalf("AliasTarget(%q) = %q, not an item URL", e.Path, target)
			}
		}
	})
}

// aliasRecorder is an AliasStore that records, refuses or fails.
type aliasRecorder struct {
	got    map[string]string
	refuse string // alias answered with ErrConflict
	failAt int    // fail the call with this number (1-based); 0 never
	calls  int
}

func (r *aliasRecorder) AddAliases(_ context.Context, pairs []evidence.AliasPair) ([]error, error) {
	var refused []error
	for _, p := range pairs {
		r.calls++
		if r.calls == r.failAt {
			return nil, errors.New("disk full")
		}
		if p.Alias == r.refuse {
			refused = append(refused, fmt.Errorf("store: add alias: %w", evidence.ErrConflict))
			continue
		}
		r.got[p.Alias] = p.URL
	}
	return refused, nil
}

func TestLoadAliases(t *testing.T) {
	kf := kingsFund(t, kingsFundRules)
	const site, ia = "https://www.kingsfund.org.uk", "https://www.kingsfund.org.uk/insight-and-analysis/"
	entries := []OldAlias{
		{Path: "/blog/2023/09/ethnic-inequalities-mortality-england", System: "/node/95098"},
		{Path: "/press/press-releases/kings-fund-responds-primary-care-plan", System: "/node/2"},
		{Path: "/publications", System: "/node/90331"},
		{Path: "/blog/2012/11/it\ufffds-time-think-differently", System: "/node/3"},
		{Path: "/publications/articles/seven-day-nhs"},
		{Path: "/publications/social-care-360", System: "/node/93418"},
	}
	t.Run("counts and aliases", func(t *testing.T) {
		st := &aliasRecorder{got: map[string]string{}, refuse: site + "/node/93418"}
		rep, err := LoadAliases(context.Background(), st, kf, entries)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Read != 6 || rep.Mapped != 4 || rep.Unmapped != 2 || rep.Stored != 6 || len(rep.Errors) != 1 {
			t.Errorf("report = %+v", rep)
		}
		mapped := []int{}
		for _, rc := range rep.ByRule {
			mapped = append(mapped, rc.Mapped, rc.Rejected)
		}
		if want := []int{1, 1, 1, 0, 1, 0, 1, 0, 0, 0}; !slices.Equal(mapped, want) {
			t.Errorf("by rule (mapped, rejected) = %v, want %v", mapped, want)
		}
		if want := []string{"/blog/2012/11/it\ufffds-time-think-differently", "/publications"}; !slices.Equal(rep.UnmappedExamples, want) {
			t.Errorf("unmapped examples = %q, want %q (rejected by a rule first)", rep.UnmappedExamples, want)
		}
		want := map[string]string{
			site + "/blog/2023/09/ethnic-inequalities-mortality-england": ia + "blogs/ethnic-inequalities-mortality-england",
			site + "/node/95098": ia + "blogs/ethnic-inequalities-mortality-england",
			site + "/press/press-releases/kings-fund-responds-primary-care-plan": ia + "press-releases/kings-fund-responds-primary-care-plan",
			site + "/node/2": ia + "press-releases/kings-fund-responds-primary-care-plan",
			site + "/publications/articles/seven-day-nhs": ia + "articles/seven-day-nhs",
			site + "/publications/social-care-360":        ia + "reports/social-care-360",
		}
		if !reflect.DeepEqual(st.got, want) {
			t.Errorf("stored %v\nwant %v", st.got, want)
		}
	})
	t.Run("store failure stops", func(t *testing.T) {
		st := &aliasRecorder{got: map[string]string{}, failAt: 2}
		rep, err := LoadAliases(context.Background(), st, kf, entries)
		// The batch fails as a whole (one transaction): nothing counts as stored.
		if err == nil || !strings.Contains(err.Error(), "disk full") || rep.Stored != 0 {
			t.Errorf("err = %v, report %+v; want disk full and nothing stored", err, rep)
		}
	})
	t.Run("no rules", func(t *testing.T) {
		rep, err := LoadAliases(context.Background(), &aliasRecorder{got: map[string]string{}}, compile(t, "good.test"), entries)
		if err != nil || rep.Mapped != 0 || rep.Unmapped != 6 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "no alias_rules") {
			t.Errorf("report = %+v, %v", rep, err)
		}
	})
}

// TestLinkToOldURLDiscusses: a Mental Elf-style post that links to a King's
// Fund article by its old Drupal URL discusses the article, whichever is
// stored first.
func TestLinkToOldURLDiscusses(t *testing.T) {
	const (
		elfHost = "www.nationalelfservice.net"
		kfHost  = "www.kingsfund.org.uk"
		article = "https://www.kingsfund.org.uk/insight-and-analysis/articles/seven-day-nhs"
		post    = "https://www.nationalelfservice.net/mental-health/workforce/seven-day-services/"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Host + r.URL.Path {
		case elfHost + "/mental-health/feed/":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Elf</title><link>https://%[1]s/</link>
<item><title>Seven-day services and staff wellbeing</title><link>%[2]s</link><pubDate>Mon, 16 Nov 2026 09:00:00 +0000</pubDate>
<description><![CDATA[<p>The King's Fund asked <a href="http://kingsfund.org.uk/publications/articles/seven-day-nhs/?utm_source=elf">whether a seven-day NHS</a> is affordable.</p>]]></description></item>
</channel></rss>`, elfHost, post)
		case kfHost + "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s</loc></url></urlset>`, article)
		case kfHost + "/insight-and-analysis/articles/seven-day-nhs":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!DOCTYPE html><html><head><title>A seven-day NHS? | The King's Fund</title></head>
<body><h1>A seven-day NHS?</h1><p>13 April 2015</p><p>What would it take to run the NHS seven days a week?</p></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	elf, err := Compile(SourceSpec{ID: "mental-elf", Home: "https://" + elfHost + "/", Feeds: []string{"https://" + elfHost + "/mental-health/feed/"},
		PreferredHost: elfHost, TrailingSlash: "add", DefaultType: evidence.TypeBlog})
	if err != nil {
		t.Fatal(err)
	}
	kf := kingsFund(t, kingsFundRules)
	for _, order := range [][]Source{{elf, kf}, {kf, elf}} {
		t.Run(order[0].ID+" first", func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, store.Options{Path: t.TempDir() + "/e.db"})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			fc, err := fetch.New(fetch.Options{UserAgent: "T/1 (+https://example.org)", RatePerHost: -1, Retries: -1,
				ConnectTo: map[string]string{elfHost: addr, kfHost: addr}, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			p := New(Options{Store: st, Fetcher: fc, Sources: []Source{elf, kf}})
			for _, src := range order {
				if r := p.RunSource(ctx, src, RunOptions{}); r.Err != nil || r.New != 1 {
					t.Fatalf("%s: %+v", src.ID, r)
				}
			}
			blog, err := st.ItemByURL(ctx, post)
			if err != nil {
				t.Fatal(err)
			}
			report, err := st.ItemByURL(ctx, article)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(blog.Discusses, []string{report.ID}) || !slices.Equal(report.DiscussedBy, []string{blog.ID}) {
				t.Errorf("blog discusses %v, article discussed_by %v; want the one relation", blog.Discusses, report.DiscussedBy)
			}
			if !slices.Contains(blog.Links, article) {
				t.Errorf("links = %v, want the old URL mapped to %s", blog.Links, article)
			}
		})
	}
}
