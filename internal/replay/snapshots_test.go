package replay

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests check the committed snapshot tree (testdata/snapshots) as the
// fetcher will see it: over real HTTP on 127.0.0.1, with the publisher's Host.

const (
	snapshotDir = "../../testdata/snapshots"
	elfHost     = "www.nationalelfservice.net"
)

type manifest struct {
	Synthetic bool           `json:"synthetic"`
	Feed      string         `json:"feed"`
	Count     int            `json:"count"`
	Items     []manifestItem `json:"items"`
	Redirects []struct {
		From   string `json:"from"`
		To     string `json:"to"`
		Status int    `json:"status"`
	} `json:"redirects"`
	SiteFeed struct {
		URL   string   `json:"url"`
		Items []string `json:"items"`
	} `json:"site_feed"`
	ListingPages []string `json:"listing_pages"`
}

type manifestItem struct {
	URL           string   `json:"url"`
	FeedLink      string   `json:"feed_link"`
	GUID          string   `json:"guid"`
	Title         string   `json:"title"`
	Published     *string  `json:"published"`
	Authors       []string `json:"authors"`
	Categories    []string `json:"categories"`
	DOIs          []string `json:"dois"`
	PubMed        []string `json:"pubmed"`
	Reports       []string `json:"reports"`
	PDFURLs       []string `json:"pdf_urls"`
	RelativeLinks []string `json:"relative_links"`
	Page          *string  `json:"page"`
	PagePublished *string  `json:"page_published"`
}

type rssDocument struct {
	Channel struct {
		Title string    `xml:"title"`
		Items []rssItem `xml:"item"`
	} `xml:"channel"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	GUID        string   `xml:"guid"`
	PubDate     string   `xml:"pubDate"`
	Creators    []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
	Categories  []string `xml:"category"`
	Description string   `xml:"description"`
	Content     string   `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
}

func loadManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(snapshotDir, elfHost, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("MANIFEST.json: %v", err)
	}
	return m
}

// wellFormed fails the test unless b is well-formed XML.
func wellFormed(t *testing.T, name string, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
	}
}

func startSnapshots(t *testing.T) (*Server, string) {
	t.Helper()
	s, err := New(Options{Dir: snapshotDir})
	if err != nil {
		t.Fatal(err)
	}
	return s, startServer(t, s)
}

func TestSnapshotFeed(t *testing.T) {
	s, addr := startSnapshots(t)
	m := loadManifest(t)
	if !m.Synthetic {
		t.Error(`MANIFEST.json must say "synthetic": true`)
	}

	res, body := get(t, addr, elfHost, "/mental-health/feed/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET feed = %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/rss+xml; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if lm := res.Header.Get("Last-Modified"); lm != "Fri, 20 Nov 2026 09:12:44 GMT" {
		t.Errorf("Last-Modified = %q, want the sidecar's", lm)
	}
	wellFormed(t, "mental-health feed", body)

	var doc rssDocument
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	items := doc.Channel.Items
	if len(items) < 32 || len(items) != m.Count || len(m.Items) != m.Count {
		t.Fatalf("feed has %d items, manifest count %d with %d items", len(items), m.Count, len(m.Items))
	}
	relative := 0
	hrefRE := regexp.MustCompile(`(?:href|src)="([^"]*)"`)
	for i, it := range items {
		want := m.Items[i]
		t.Run(want.URL, func(t *testing.T) {
			if it.Title != want.Title {
				t.Errorf("title = %q, want %q", it.Title, want.Title)
			}
			if it.Link != want.FeedLink {
				t.Errorf("link = %q, want %q", it.Link, want.FeedLink)
			}
			u, err := url.Parse(it.Link)
			if err != nil {
				t.Fatal(err)
			}
			u.RawQuery = ""
			if u.String() != want.URL || !strings.HasSuffix(want.URL, "/") {
				t.Errorf("link without query = %q, want %q", u, want.URL)
			}
			if it.GUID != want.GUID {
				t.Errorf("guid = %q, want %q", it.GUID, want.GUID)
			}
			if !slices.Equal(it.Creators, want.Authors) {
				t.Errorf("dc:creator = %q, want %q", it.Creators, want.Authors)
			}
			if !slices.Equal(it.Categories, want.Categories) {
				t.Errorf("categories = %q, want %q", it.Categories, want.Categories)
			}
			pub, err := time.Parse(time.RFC1123Z, it.PubDate)
			switch {
			case want.Published == nil && err == nil:
				t.Errorf("pubDate %q parses, manifest says null", it.PubDate)
			case want.Published != nil && err != nil:
				t.Errorf("pubDate %q: %v", it.PubDate, err)
			case want.Published != nil && pub.UTC().Format(time.RFC3339) != *want.Published:
				t.Errorf("pubDate = %s, want %s", pub.UTC().Format(time.RFC3339), *want.Published)
			}
			for _, l := range slices.Concat(want.DOIs, want.PubMed, want.Reports, want.PDFURLs, want.RelativeLinks) {
				if !strings.Contains(it.Content, `href="`+l+`"`) {
					t.Errorf("content:encoded has no link to %s", l)
				}
			}
			for _, h := range hrefRE.FindAllStringSubmatch(it.Content+it.Description, -1) {
				if !strings.HasPrefix(h[1], "https://") {
					relative++
					if !slices.Contains(want.RelativeLinks, h[1]) {
						t.Errorf("link %q is not absolute https and not in relative_links", h[1])
					}
				}
			}
		})
	}
	if relative != 1 {
		t.Errorf("feed has %d non-absolute links, want exactly 1", relative)
	}

	// A conditional re-fetch is answered 304 and counted.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/mental-health/feed/", nil)
	req.Host = elfHost
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", res2.StatusCode)
	}
	st := s.Stats()
	if st.Requests != 2 || st.Conditional != 1 || st.NotModified != 1 || st.Hosts[elfHost] != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

// publishedTime is the item page's article:published_time (Yoast, site zone).
var publishedTime = regexp.MustCompile(`<meta property="article:published_time" content="([^"]+)" />`)

// TestSnapshotPages checks that every feed item has its page (the pipeline
// fetches each new item's page) and that the page says what the manifest says.
func TestSnapshotPages(t *testing.T) {
	_, addr := startSnapshots(t)
	m := loadManifest(t)
	for _, it := range m.Items {
		if it.Page == nil {
			t.Errorf("%s: no item page in the manifest", it.URL)
			continue
		}
		if _, err := os.Stat(filepath.Join(snapshotDir, *it.Page)); err != nil {
			t.Errorf("%s: %v", it.URL, err)
		}
		t.Run(it.URL, func(t *testing.T) {
			u, _ := url.Parse(it.FeedLink) // with utm: replay drops it
			res, body := get(t, addr, u.Host, u.RequestURI())
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("GET = %d %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			page := string(body)
			for _, want := range []string{
				`<link rel="canonical" href="` + it.URL + `" />`,
				`property="og:title"`, `property="article:published_time"`, `name="twitter:data1"`,
				`"@graph"`, `"BlogPosting"`, `"datePublished"`, `<time class="entry-date published" datetime="`,
				`>By <a`, `href="` + it.URL + `attachment/figure-1/"`, "cookie", "SYNTHETIC",
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, l := range slices.Concat(it.DOIs, it.PubMed, it.Reports, it.PDFURLs) {
				if !strings.Contains(page, `href="`+l+`"`) {
					t.Errorf("page has no link to %s", l)
				}
			}
			if it.PagePublished == nil {
				t.Fatal("page_published missing")
			}
			sub := publishedTime.FindStringSubmatch(page)
			if sub == nil {
				t.Fatal("no article:published_time")
			}
			pt, err := time.Parse(time.RFC3339, sub[1])
			if err != nil {
				t.Fatalf("article:published_time: %v", err)
			}
			if got := pt.UTC().Format(time.RFC3339); got != *it.PagePublished {
				t.Errorf("article:published_time = %s (%s UTC), page_published %s", sub[1], got, *it.PagePublished)
			}
			if it.Published != nil && *it.Published != *it.PagePublished {
				t.Errorf("feed date %s, page date %s", *it.Published, *it.PagePublished)
			}
			// The site's zone: BST (+01:00) until 25 October 2026, GMT after.
			want := "+00:00"
			if pt.Before(time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)) {
				want = "+01:00"
			}
			if !strings.HasSuffix(sub[1], want) {
				t.Errorf("article:published_time %s, want offset %s", sub[1], want)
			}
		})
	}
}

func TestSnapshotOthers(t *testing.T) {
	_, addr := startSnapshots(t)
	m := loadManifest(t)
	for _, r := range m.Redirects {
		t.Run("redirect "+r.From, func(t *testing.T) {
			u, _ := url.Parse(r.From)
			res, _ := get(t, addr, u.Host, u.RequestURI())
			if res.StatusCode != r.Status || res.Header.Get("Location") != r.To {
				t.Errorf("GET = %d → %q, want %d → %q", res.StatusCode, res.Header.Get("Location"), r.Status, r.To)
			}
		})
	}
	t.Run("robots", func(t *testing.T) {
		res, body := get(t, addr, elfHost, "/robots.txt")
		if res.StatusCode != 200 || !bytes.Contains(body, []byte("Disallow: /cms/wp-admin/")) ||
			!bytes.Contains(body, []byte("Sitemap: https://www.nationalelfservice.net/sitemap_index.xml")) {
			t.Errorf("robots.txt = %d %q", res.StatusCode, body)
		}
	})
	for _, p := range []string{"/feed/", "/sitemap_index.xml", "/post-sitemap.xml"} {
		t.Run("xml "+p, func(t *testing.T) {
			res, body := get(t, addr, elfHost, p)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s = %d", p, res.StatusCode)
			}
			wellFormed(t, p, body)
		})
	}
	t.Run("site feed", func(t *testing.T) {
		_, body := get(t, addr, elfHost, "/feed/")
		var doc rssDocument
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range doc.Channel.Items {
			u, _ := url.Parse(it.Link)
			u.RawQuery = ""
			got = append(got, u.String())
		}
		if !slices.Equal(got, m.SiteFeed.Items) {
			t.Errorf("site feed items = %q, want %q", got, m.SiteFeed.Items)
		}
	})
	for _, l := range m.ListingPages {
		t.Run("listing "+l, func(t *testing.T) {
			u, _ := url.Parse(l)
			res, body := get(t, addr, u.Host, u.RequestURI())
			if res.StatusCode != 200 || !bytes.Contains(body, []byte("read the full story")) {
				t.Errorf("GET = %d", res.StatusCode)
			}
		})
	}
	t.Run("attachment and pdf are absent", func(t *testing.T) {
		for _, p := range []string{m.Items[0].URL + "attachment/figure-1/", "/mental-health/page/4/", "/mental-health/feed/?paged=2"} {
			u, _ := url.Parse(p)
			if res, _ := get(t, addr, elfHost, u.RequestURI()); res.StatusCode != 404 {
				t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
			}
		}
	})
}

// TestSnapshotsAreMarked checks that every snapshot file says it is synthetic.
func TestSnapshotsAreMarked(t *testing.T) {
	err := filepath.WalkDir(snapshotDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(bytes.ToLower(b), []byte("synthetic")) {
			t.Errorf("%s does not say SYNTHETIC", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
