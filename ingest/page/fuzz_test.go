package page

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evidencetracker/evidence/ingest/text"
)

// addSeeds adds every file under testdata/<dir> to the corpus.
func addSeeds(f *testing.F, dir, ext string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func checkHTTP(t *testing.T, what, u string) {
	t.Helper()
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		t.Errorf("%s %q is not absolute http(s)", what, u)
	}
	if strings.Contains(u, "#") {
		t.Errorf("%s %q has a fragment", what, u)
	}
}

func checkTime(t *testing.T, what string, tm *time.Time) {
	t.Helper()
	if tm != nil && (tm.Location() != time.UTC || !text.PlausibleDate(*tm)) {
		t.Errorf("%s %v: not UTC or out of range", what, tm)
	}
}

func FuzzParseSitemap(f *testing.F) {
	addSeeds(f, "sitemap", ".xml")
	f.Add([]byte("<urlset><url><loc>https://a.example/</loc><lastmod>2023-11-01</lastmod></url></urlset>"))
	f.Add([]byte("<sitemapindex><sitemap><loc>https://a.example/s.xml</loc></sitemap></sitemapindex>"))
	f.Add(gz(f, []byte("<urlset><url><loc>https://a.example/</loc></url></urlset>")))
	f.Add([]byte("<!DOCTYPE html><html><body>not a sitemap</body></html>"))
	f.Add([]byte("\x1f\x8b\x08\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sm, err := parseSitemap(bytes.NewReader(data), 1<<20, 1000)
		if err == nil && sm.Kind != KindURLSet && sm.Kind != KindSitemapIndex {
			t.Errorf("no error and kind %q", sm.Kind)
		}
		if len(sm.Entries) > 1000 {
			t.Errorf("%d entries over the cap", len(sm.Entries))
		}
		for _, e := range sm.Entries {
			if !strings.HasPrefix(strings.ToLower(e.Loc), "http://") && !strings.HasPrefix(strings.ToLower(e.Loc), "https://") {
				t.Errorf("loc %q", e.Loc)
			}
			checkTime(t, "lastmod", e.LastMod)
		}
	})
}

func FuzzExtract(f *testing.F) {
	addSeeds(f, "item", ".html")
	f.Add([]byte(`<script type="application/ld+json">{"@graph":[{"@type":"Article","author":{"@id":"#a"}},{"@id":"#a","name":"N"}]}</script>`))
	f.Add([]byte(`<h1>T<p>unclosed<title>x`))
	f.Add([]byte(`<meta property="article:published_time" content="2023-11-01T09:00:00"><p>By Jane Doe | 1st November 2023</p>`))
	base := mustURL(f, "https://www.example.org/blog/post/")
	layers := map[string]bool{LayerJSONLD: true, LayerOpenGraph: true, LayerTwitter: true, LayerMeta: true, LayerCitation: true,
		LayerTime: true, LayerVisibleDate: true, LayerByline: true, LayerTagLinks: true, LayerBreadcrumb: true,
		LayerH1: true, LayerTitleTag: true, LayerBody: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Extract(bytes.NewReader(data), base)
		if err != nil {
			if !IsChallenge(data) {
				t.Fatalf("error on a page that is not a challenge: %v", err)
			}
			return
		}
		for field, s := range map[string]string{"title": m.Title, "summary": m.Summary, "body": m.Body, "type": m.Type, "doi": m.DOI} {
			if !utf8.ValidString(s) {
				t.Errorf("%s is not valid UTF-8", field)
			}
		}
		if utf8.RuneCountInString(m.Summary) > SummaryMax {
			t.Errorf("summary of %d runes", utf8.RuneCountInString(m.Summary))
		}
		if len(m.Body) > MaxBodyBytes {
			t.Errorf("body of %d bytes", len(m.Body))
		}
		checkTime(t, "published", m.Published)
		checkTime(t, "updated", m.Updated)
		if m.Canonical != "" {
			checkHTTP(t, "canonical", m.Canonical)
		}
		for _, l := range m.Links {
			checkHTTP(t, "link", l)
		}
		for _, d := range m.Downloads {
			checkHTTP(t, "download", d.URL)
		}
		for field, l := range m.Provenance {
			if field != "body" && !layers[l] {
				t.Errorf("provenance %s = %q, not a layer", field, l)
			}
		}
		for _, a := range m.Authors {
			if a == "" || !utf8.ValidString(a) {
				t.Errorf("author %q", a)
			}
		}
	})
}

func FuzzHarvestLinks(f *testing.F) {
	addSeeds(f, "listing", ".html")
	f.Add([]byte(`<a href="/news/">self</a><a rel=next href="/news/page/2/">next</a><a href="/news/item/a/">A</a>`))
	f.Add([]byte(`<base href="//other.example/"><link rel=alternate type=application/atom+xml href=feed><a href=x>x</a>`))
	base := mustURL(f, "https://www.example.org/news/")
	include := res(f, `/news/item/`, `^https?://[^/]+/[^/]+/?$`)
	exclude := res(f, `/category/`)
	pagination := res(f, `/page/\d+/?$`, `[?&]page=\d+`)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := HarvestLinks(bytes.NewReader(data), base, include, exclude, pagination)
		if err != nil {
			if !IsChallenge(data) {
				t.Fatalf("error on a page that is not a challenge: %v", err)
			}
			return
		}
		self := dedupeKey(base)
		seen := map[string]bool{}
		for _, it := range l.Items {
			checkHTTP(t, "item", it.URL)
			k := dedupeKey(resolve(it.URL, nil))
			if k == self {
				t.Errorf("the page itself %q is an item", it.URL)
			}
			if seen[k] {
				t.Errorf("item %q twice", it.URL)
			}
			seen[k] = true
			if !utf8.ValidString(it.Text) || !utf8.ValidString(it.Excerpt) {
				t.Errorf("invalid UTF-8 in %+v", it)
			}
			checkTime(t, "date", it.Date)
		}
		for _, p := range l.Pagination {
			checkHTTP(t, "page", p)
			pu := resolve(p, nil)
			if dedupeKey(pu) == self || !sameSite(pu, base) {
				t.Errorf("pagination %q is the page itself or off-site", p)
			}
		}
		for _, fl := range l.FeedLinks {
			checkHTTP(t, "feed", fl.URL)
		}
	})
}
