package web_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
	"github.com/evidencetracker/evidence/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// catalogFixture is a real store and index over testdata/items.jsonl
// (hostile text included) behind the real service.Catalog.
type catalogFixture struct {
	srv     *httptest.Server
	handler http.Handler
	ids     map[string]string // URL → ID
	store   *store.Store
}

var fixedNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

var taxonomy = []index.Topic{
	{Name: "recovery", Description: "Personal recovery and recovery colleges", Query: "recovery"},
	{Name: "patient activation", Description: "Knowledge, skills and confidence to manage one's health (the PAM)", Query: `"patient activation"`},
	{Name: "self-management", Description: "Helping people manage their own health", Query: `"self-management" OR "self management"`},
	{Name: "peer support", Description: "Support from people with lived experience", Query: `"peer support"`},
	{Name: "personal stories", Description: "Lived experience and first-person accounts", Query: `"personal stories"`},
}

func newCatalogFixture(t *testing.T, opts web.Options) *catalogFixture {
	t.Helper()
	return newCatalogFixtureTB(t, opts, nil)
}

// newCatalogFixtureB is the fixture for a benchmark, with the server's
// search cache as serve has it.
func newCatalogFixtureB(b *testing.B, opts web.Options) *catalogFixture {
	b.Helper()
	return newCatalogFixtureTB(b, opts, func(c *service.Catalog) {
		c.Cache = &service.SearchCache{Size: 64, MaxStale: 30 * time.Second}
	})
}

func newCatalogFixtureTB(t testing.TB, opts web.Options, tune func(*service.Catalog)) *catalogFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "evidence.db"), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f, err := os.Open("testdata/items.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fx := &catalogFixture{ids: map[string]string{}, store: st}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct {
			evidence.Item
			Links []string `json:"links"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		it := rec.Item
		it.Links = rec.Links
		it.AnnouncedBy = []string{it.Source}
		if _, err := st.SaveItem(ctx, &it, store.SaveOptions{}); err != nil {
			t.Fatalf("save %s: %v", it.URL, err)
		}
		fx.ids[it.URL] = it.ID
	}
	ix, err := index.Open(ctx, index.Options{Path: filepath.Join(dir, "index.bleve"), Topics: taxonomy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	var items []evidence.Item
	if err := st.EachItem(ctx, func(it evidence.Item) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := ix.Index(ctx, items); err != nil {
		t.Fatal(err)
	}
	tax := []evidence.TopicCount{}
	for _, tp := range taxonomy {
		tax = append(tax, evidence.TopicCount{Name: tp.Name, Description: tp.Description, Query: tp.Query})
	}
	cat := &service.Catalog{Store: st, Index: ix, Taxonomy: tax, Names: map[string]string{
		"mental-elf": "The Mental Elf", "centre-for-mental-health": "Centre for Mental Health",
		"kings-fund": "The King's Fund", "national-voices": "National Voices"},
		SourceRows: func(ctx context.Context) ([]evidence.SourceRow, error) {
			list, err := st.SourceStatuses(ctx)
			rows := []evidence.SourceRow{}
			for _, s := range list {
				rows = append(rows, evidence.SourceRow{SourceStatus: s, Enabled: true})
			}
			return rows, err
		}}
	if tune != nil {
		tune(cat)
	}
	opts.Catalog = cat
	opts.Public = true
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	w, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	fx.handler = w.Handler()
	fx.srv = httptest.NewServer(fx.handler)
	t.Cleanup(fx.srv.Close)
	return fx
}

func (fx *catalogFixture) get(t *testing.T, path string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", fx.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// golden compares got with testdata/golden/name (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./web -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended)\n--- got:\n%s", path, got)
	}
}

// assetVersion hides the stylesheet hash, which changes with every CSS edit.
var assetVersion = regexp.MustCompile(`site\.css\?v=[0-9a-f]+`)

func TestGoldenPages(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{BaseURL: "https://evidence.example.org"})
	report := fx.ids["https://www.kingsfund.org.uk/insight-and-analysis/reports/supporting-people-manage-their-health"]
	for _, tc := range []struct{ name, path string }{
		{"search.html", "/search?q=patient+activation&source=national-voices"},
		{"item.html", "/items/" + report},
		{"topic.html", "/topics/patient%20activation"},
		{"topics.html", "/topics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := fx.get(t, tc.path)
			if code != 200 {
				t.Fatalf("GET %s = %d\n%s", tc.path, code, body)
			}
			// Adjacent marks are joined: bleve's highlighter marks a
			// phrase as one run or as words, run to run.
			body = strings.ReplaceAll(body, "</mark> <mark>", " ")
			golden(t, tc.name, assetVersion.ReplaceAllString(body, "site.css?v=HASH"))
		})
	}
}

// unsafeMarkup parses a page as a browser would and reports the first
// thing in it that could run script: a script element, an event-handler
// attribute, or a javascript:/data: link or source.
func unsafeMarkup(page string) string {
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "script" || tok.Data == "iframe" || tok.Data == "object" || tok.Data == "embed" {
				return "<" + tok.Data + ">"
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if strings.HasPrefix(a.Key, "on") {
					return tok.Data + " " + a.Key + "="
				}
				if (a.Key == "href" || a.Key == "src" || a.Key == "action" || a.Key == "formaction") &&
					(strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "data:") || strings.HasPrefix(v, "vbscript:")) {
					return tok.Data + " " + a.Key + "=" + v
				}
			}
		}
	}
}

func TestHostileContentIsInert(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{})
	hostile := fx.ids["https://www.nationalvoices.org.uk/blog/personal-stories-patient-activation/"]
	paths := []string{
		"/search?q=personal+stories", "/search?q=alert", "/search?q=", "/items/" + hostile,
		"/topics/personal%20stories", "/topics", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
		"/search?q=%22%3Cimg+src%3Dx+onerror%3Dalert(1)%3E", "/search?q=x&source=%3Cscript%3E",
	}
	for _, p := range paths {
		code, body, h := fx.get(t, p)
		if code >= 500 {
			t.Errorf("GET %s = %d", p, code)
		}
		if m := unsafeMarkup(body); m != "" {
			t.Errorf("GET %s: unescaped %q in the page", p, m)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") && strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	code, body, _ := fx.get(t, "/items/"+hostile)
	if code != 200 || !strings.Contains(body, "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;") {
		t.Errorf("the hostile title should be shown escaped:\n%s", body)
	}
	// Atom feeds carry the text as text.
	for _, p := range []string{"/search.atom?q=patient+activation", "/topics/personal%20stories.atom"} {
		code, body, h := fx.get(t, p)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/atom+xml") {
			t.Fatalf("GET %s = %d %s", p, code, h.Get("Content-Type"))
		}
		// Text stays text (type="text", escaped); no link is javascript:.
		if strings.Contains(body, "<script") || strings.Contains(body, `href="javascript:`) || strings.Contains(body, `type="html"`) {
			t.Errorf("GET %s: raw markup or a javascript: link in the feed:\n%s", p, body)
		}
		feed, err := gofeed.NewParser().ParseString(body)
		if err != nil {
			t.Fatalf("GET %s: not a valid feed: %v", p, err)
		}
		if len(feed.Items) == 0 {
			t.Errorf("GET %s: no entries", p)
		}
		for _, it := range feed.Items {
			if !strings.HasPrefix(it.Link, "http") || it.Title == "" {
				t.Errorf("GET %s: entry %+v lacks a link or title", p, it)
			}
		}
	}
}

func TestSearchPage(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{})
	long := strings.Repeat("care ", 2000)
	deep := strings.Repeat("(", 500) + "care" + strings.Repeat(")", 500)
	for _, tc := range []struct {
		name, path string
		status     int
		want       []string
	}{
		{"words", "/search?q=patient+activation", 200, []string{`class="result-count"`, "<mark>", `class="facet-value"`, "/items/", `class="timeline"`}},
		{"home lists everything", "/", 200, []string{"<strong>7</strong> items", "/items/"}},
		{"facet applied", "/search?q=patient+activation&source=kings-fund", 200, []string{`class="remove-filter"`, "Publisher: The King&#39;s Fund", "<strong>1</strong> item"}},
		{"year", "/search?q=&year=2014", 200, []string{"<strong>1</strong> item", "Year: 2014"}},
		{"did you mean", "/search?q=recovry", 200, []string{`class="suggestion"`, "recovery"}},
		{"unclosed quote", "/search?q=%22peer+support", 400, []string{`class="query-error"`, "column", `aria-invalid="true"`}},
		{"bad date", "/search?q=published:%3E%3Dnotadate", 400, []string{`class="query-error"`, "column"}},
		{"script query", "/search?q=%3Cscript%3E", 200, []string{"&lt;script&gt;"}},
		{"NUL byte", "/search?q=care%00x", 400, []string{"control character"}},
		{"10,000 characters", "/search?q=" + url.QueryEscape(long), 400, []string{"at most 1000"}},
		{"deep parentheses", "/search?q=" + url.QueryEscape(deep), 400, []string{`class="query-error"`}},
		{"page not a number", "/search?q=care&page=abc", 400, []string{"not a page number"}},
		{"huge page", "/search?q=care&page=99999999", 400, []string{"too far"}},
		{"past the end", "/search?q=care&page=40", 404, []string{"past the last page"}},
		{"bad sort", "/search?q=care&sort=oldest", 400, []string{"not a sort order"}},
		{"bad year", "/search?year=soon", 400, []string{"not a year"}},
		{"dates", "/search?q=&from=2025-01-01&to=2025-12-31", 200, []string{"<strong>2</strong> items", "Published: from 2025-01-01 to 2025-12-31"}},
		{"from only", "/search?q=&from=2026-10-05", 200, []string{"<strong>2</strong> items", "Published: from 2026-10-05"}},
		{"bad date", "/search?from=yesterday", 400, []string{"not a date"}},
		{"to before from", "/search?from=2025-01-01&to=2024-01-01", 400, []string{"is before"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := fx.get(t, tc.path)
			if code != tc.status {
				t.Errorf("GET %s = %d, want %d", truncate(tc.path), code, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: page lacks %q", truncate(tc.path), w)
				}
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("GET %s: raw <script> in the page", truncate(tc.path))
			}
		})
	}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func TestItemPages(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{})
	brief := fx.ids["https://www.centreformentalhealth.org.uk/publications/recovery-public-mental-health-and-wellbeing/"]
	elf := fx.ids["https://www.nationalelfservice.net/mental-health/recovery/imroc-briefing/"]
	code, body, h := fx.get(t, "/items/"+brief)
	for _, w := range []string{"Appraised by The Mental Elf", "/items/" + elf, `href="https://doi.org/10.1234/imroc.2026.1"`,
		`class="cite-ris" href="/items/` + brief + `.ris"`, `href="/topics/recovery"`, "imroc-briefing.pdf", "More like this"} {
		if !strings.Contains(body, w) {
			t.Errorf("briefing page lacks %q", w)
		}
	}
	if code != 200 || h.Get("Last-Modified") == "" {
		t.Errorf("briefing page = %d, Last-Modified %q", code, h.Get("Last-Modified"))
	}
	_, body, _ = fx.get(t, "/items/"+elf)
	if !strings.Contains(body, "Appraises") || !strings.Contains(body, "/items/"+brief) {
		t.Errorf("the Mental Elf post should link to what it appraises")
	}
	// The item's URL (and forms of it) lead to its page.
	code, _, h = fx.get(t, "/items?url="+url.QueryEscape("https://www.centreformentalhealth.org.uk/publications/recovery-public-mental-health-and-wellbeing/"))
	if code != http.StatusMovedPermanently || h.Get("Location") != "/items/"+brief {
		t.Errorf("/items?url= = %d → %q", code, h.Get("Location"))
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/items/nosuchitem", 404}, {"/items/nosuchitem.ris", 404}, {"/items?url=https://example.org/nothing", 404},
		{"/items?url=javascript:alert(1)", 400}, {"/topics/nosuchtopic", 404}, {"/topics/nosuchtopic.atom", 404}, {"/nowhere", 404},
	} {
		if code, _, _ := fx.get(t, tc.path); code != tc.status {
			t.Errorf("GET %s = %d, want %d", tc.path, code, tc.status)
		}
	}
}

func TestConditionalAndCompressed(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{})
	code, body, h := fx.get(t, "/search?q=recovery", "Accept-Encoding", "gzip")
	if code != 200 || h.Get("Content-Encoding") != "gzip" || h.Get("ETag") == "" || !strings.Contains(h.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("GET /search = %d, encoding %q, ETag %q, Vary %q", code, h.Get("Content-Encoding"), h.Get("ETag"), h.Get("Vary"))
	}
	if !strings.Contains(body, "</html>") {
		t.Errorf("gzipped body did not decode to the page")
	}
	code, body, _ = fx.get(t, "/search?q=recovery", "If-None-Match", h.Get("ETag"))
	if code != http.StatusNotModified || body != "" {
		t.Errorf("If-None-Match = %d with %d bytes, want 304 and nothing", code, len(body))
	}
	_, _, sh := fx.get(t, "/static/site.css", "Accept-Encoding", "gzip")
	if sh.Get("ETag") == "" || sh.Get("Content-Encoding") != "gzip" {
		t.Errorf("stylesheet: ETag %q, encoding %q", sh.Get("ETag"), sh.Get("Content-Encoding"))
	}
}

func TestSourcesAndTopicsPages(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{})
	code, body, _ := fx.get(t, "/topics")
	if code != 200 || !strings.Contains(body, `<ul class="topic-list">`) || !strings.Contains(body, `href="/topics/patient%20activation"`) {
		t.Errorf("/topics = %d\n%s", code, body)
	}
	code, body, _ = fx.get(t, "/sources")
	if code != 200 || !strings.Contains(body, "National Voices") {
		t.Errorf("/sources = %d\n%s", code, body)
	}
}

// The checker itself must catch what it looks for.
func TestUnsafeMarkupChecker(t *testing.T) {
	for _, tc := range []struct {
		page string
		bad  bool
	}{
		{`<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, false},
		{`<p>&lt;img src=x onerror=alert(1)&gt;</p>`, false},
		{`<script>alert(1)</script>`, true},
		{`<img src=x onerror=alert(1)>`, true},
		{`<a href=" JavaScript:alert(1)">x</a>`, true},
		{`<b onmouseover="x()">b</b>`, true},
		{`<a href="https://example.org/">ok</a>`, false},
	} {
		if got := unsafeMarkup(tc.page) != ""; got != tc.bad {
			t.Errorf("unsafeMarkup(%q) = %v, want %v", tc.page, got, tc.bad)
		}
	}
}
