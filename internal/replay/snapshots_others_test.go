package replay

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// These tests check the SYNTHETIC snapshots of Centre for Mental Health, The
// King's Fund and National Voices (testdata/snapshots/<host>/) against their
// MANIFEST.json, served over HTTP on 127.0.0.1 the way the fetcher sees them.

var publisherHosts = []string{
	"www.centreformentalhealth.org.uk",
	"www.kingsfund.org.uk",
	"www.nationalvoices.org.uk",
}

type pubManifest struct {
	Synthetic     bool           `json:"synthetic"`
	Host          string         `json:"host"`
	Source        string         `json:"source"`
	TitleSuffix   string         `json:"title_suffix"`
	TrailingSlash string         `json:"trailing_slash"`
	Types         []string       `json:"types"`
	Count         int            `json:"count"`
	TypeCounts    map[string]int `json:"type_counts"`
	Patterns      struct {
		Include     []string `json:"include"`
		Exclude     []string `json:"exclude"`
		Pagination  []string `json:"pagination"`
		DefaultType string   `json:"default_type"`
		Types       []struct {
			Pattern string `json:"pattern"`
			Type    string `json:"type"`
		} `json:"types"`
	} `json:"patterns"`
	Feed     *pubFeed  `json:"feed"`
	Feeds    []pubFeed `json:"feeds"`
	Sitemaps []struct {
		URL      string   `json:"url"`
		Kind     string   `json:"kind"`
		Gzip     bool     `json:"gzip"`
		Children []string `json:"children"`
		URLs     []string `json:"urls"`
	} `json:"sitemaps"`
	Listings []struct {
		URL   string   `json:"url"`
		Items []string `json:"items"`
		Next  *string  `json:"next"`
	} `json:"listings"`
	Items     []pubItem `json:"items"`
	Redirects []struct {
		From   string `json:"from"`
		To     string `json:"to"`
		Status int    `json:"status"`
	} `json:"redirects"`
	NotItems []struct {
		URL string `json:"url"`
		Why string `json:"why"`
	} `json:"not_items"`
	Faults []struct {
		Name  string   `json:"name"`
		URL   string   `json:"url"`
		Items []string `json:"items"`
	} `json:"faults"`
	CrossPublisher []struct {
		Title       string   `json:"title"`
		URLs        []string `json:"urls"`
		AnnouncedBy []string `json:"announced_by"`
		PDF         string   `json:"pdf"`
	} `json:"cross_publisher"`
}

type pubFeed struct {
	URL   string   `json:"url"`
	Items []string `json:"items"`
}

type pubItem struct {
	URL                  string   `json:"url"`
	Type                 string   `json:"type"`
	Title                string   `json:"title"`
	Published            *string  `json:"published"`
	PublishedApproximate bool     `json:"published_approximate"`
	DateSource           string   `json:"date_source"`
	Authors              []string `json:"authors"`
	Summary              string   `json:"summary"`
	PDFURLs              []string `json:"pdf_urls"`
	Downloads            []struct {
		URL string `json:"url"`
	} `json:"downloads"`
	AnnouncedBy []string `json:"announced_by"`
	SameAs      []string `json:"same_as"`
	Links       []struct {
		Href     string `json:"href"`
		Target   string `json:"target"`
		Source   string `json:"source"`
		SameItem bool   `json:"same_item"`
	} `json:"links"`
	Aliases              []string `json:"aliases"`
	DiscussedBy          []string `json:"discussed_by"`
	Page                 string   `json:"page"`
	Encoding             string   `json:"encoding"`
	MoreThanFiveYearsOld bool     `json:"more_than_five_years_old"`
}

// compiled holds a manifest's patterns.
type compiled struct {
	include, exclude []*regexp.Regexp
	types            []*regexp.Regexp
}

func loadPubManifest(t *testing.T, host string) (pubManifest, compiled) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(snapshotDir, host, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m pubManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s/MANIFEST.json: %v", host, err)
	}
	var c compiled
	for _, p := range m.Patterns.Include {
		c.include = append(c.include, regexp.MustCompile(p))
	}
	for _, p := range m.Patterns.Exclude {
		c.exclude = append(c.exclude, regexp.MustCompile(p))
	}
	for _, r := range m.Patterns.Types {
		c.types = append(c.types, regexp.MustCompile(r.Pattern))
	}
	return m, c
}

// isItem applies the include and exclude patterns to a canonical URL.
func (c compiled) isItem(u string) bool {
	if !slices.ContainsFunc(c.include, func(r *regexp.Regexp) bool { return r.MatchString(u) }) {
		return false
	}
	return !slices.ContainsFunc(c.exclude, func(r *regexp.Regexp) bool { return r.MatchString(u) })
}

// typeOf applies the first matching type rule.
func (c compiled) typeOf(m pubManifest, u string) string {
	for i, r := range c.types {
		if r.MatchString(u) {
			return m.Patterns.Types[i].Type
		}
	}
	return m.Patterns.DefaultType
}

// canonical applies the URL-key rules of publishers.md for host's site: https,
// www host, no fragment, no tracking parameters, the site's slash policy.
func canonical(t *testing.T, m pubManifest, base *url.URL, href string) string {
	t.Helper()
	u, err := base.Parse(strings.TrimSpace(html.UnescapeString(href)))
	if err != nil {
		t.Fatalf("bad link %q: %v", href, err)
	}
	u.Scheme, u.Fragment = "https", ""
	u.Host = strings.ToLower(u.Host)
	if slices.Contains(publisherHosts, "www."+u.Host) {
		u.Host = "www." + u.Host
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "utm_") || k == "fbclid" || k == "gclid" || k == "mc_cid" || k == "mc_eid" {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	if u.Host == m.Host && u.RawQuery == "" && path.Ext(u.Path) == "" {
		switch m.TrailingSlash {
		case "add":
			if !strings.HasSuffix(u.Path, "/") {
				u.Path += "/"
			}
		case "strip":
			if u.Path != "/" {
				u.Path = strings.TrimSuffix(u.Path, "/")
			}
		}
	}
	return u.String()
}

var (
	hrefRE     = regexp.MustCompile(`<a\s[^>]*?href=["']([^"']*)["'][^>]*>`)
	linkNextRE = regexp.MustCompile(`<link rel="next" href="([^"]*)"`)
	aNextRE    = regexp.MustCompile(`<a\s[^>]*?href="([^"]*)"[^>]*rel="next"|<a class="next page-numbers" href="([^"]*)"`)
	titleRE    = regexp.MustCompile(`(?s)<title>(.*?)</title>`)
	h1RE       = regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`)
	tagRE      = regexp.MustCompile(`<[^>]*>`)
	visDateRE  = regexp.MustCompile(`\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4}\b`)
	scriptRE   = regexp.MustCompile(`(?s)<script.*?</script>|<head>.*?<body`)
)

func plainText(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(s, " "))), " ")
}

// fetch GETs an absolute URL from the replay server.
func fetch(t *testing.T, addr, raw string) (*http.Response, []byte) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return get(t, addr, u.Host, u.RequestURI())
}

// decodePage returns the page as UTF-8, honouring a windows-1252 page.
func decodePage(t *testing.T, it pubItem, body []byte) string {
	t.Helper()
	if it.Encoding != "windows-1252" {
		return string(body)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func nextLink(page string) string {
	if m := linkNextRE.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	if m := aNextRE.FindStringSubmatch(page); m != nil {
		return m[1] + m[2]
	}
	return ""
}

func TestPublisherSnapshotManifests(t *testing.T) {
	for _, host := range publisherHosts {
		t.Run(host, func(t *testing.T) {
			m, c := loadPubManifest(t, host)
			if !m.Synthetic || m.Host != host || m.Source == "" {
				t.Fatalf("manifest header: synthetic=%v host=%q source=%q", m.Synthetic, m.Host, m.Source)
			}
			if len(m.Items) < 40 || m.Count != len(m.Items) {
				t.Errorf("%d items, count %d: want the same and at least 40", len(m.Items), m.Count)
			}
			seen := map[string]bool{}
			types := map[string]int{}
			dated := 0
			for _, it := range m.Items {
				if seen[it.URL] {
					t.Errorf("duplicate item %s", it.URL)
				}
				seen[it.URL] = true
				types[it.Type]++
				base, _ := url.Parse(it.URL)
				if got := canonical(t, m, base, it.URL); got != it.URL || !strings.HasPrefix(it.URL, "https://"+host+"/") {
					t.Errorf("%s is not canonical (%s)", it.URL, got)
				}
				if !c.isItem(it.URL) {
					t.Errorf("%s does not pass the include/exclude patterns", it.URL)
				}
				if got := c.typeOf(m, it.URL); got != it.Type {
					t.Errorf("%s: type rules give %q, manifest says %q", it.URL, got, it.Type)
				}
				if it.Title == "" || it.Title != strings.TrimSpace(it.Title) || strings.ContainsAny(it.Title, "<>&") {
					t.Errorf("%s: title %q is not plain trimmed text", it.URL, it.Title)
				}
				if it.Published != nil {
					if _, err := time.Parse(time.RFC3339, *it.Published); err != nil {
						t.Errorf("%s: published %q: %v", it.URL, *it.Published, err)
					}
					dated++
				}
				if !slices.Contains(it.AnnouncedBy, m.Source) {
					t.Errorf("%s: announced_by %q lacks %s", it.URL, it.AnnouncedBy, m.Source)
				}
				if _, err := os.Stat(filepath.Join(snapshotDir, it.Page)); err != nil {
					t.Errorf("%s: page file: %v", it.URL, err)
				}
			}
			for _, ty := range m.Types {
				if types[ty] == 0 {
					t.Errorf("no item of type %q", ty)
				}
			}
			for ty, n := range types {
				if !slices.Contains(m.Types, ty) || m.TypeCounts[ty] != n {
					t.Errorf("type %q: %d items, type_counts %d, types %q", ty, n, m.TypeCounts[ty], m.Types)
				}
			}
			if dated*100 < 95*len(m.Items) {
				t.Errorf("only %d of %d items have a date, want >= 95%%", dated, len(m.Items))
			}
			for _, n := range m.NotItems {
				base, _ := url.Parse(n.URL)
				if c.isItem(canonical(t, m, base, n.URL)) || seen[n.URL] {
					t.Errorf("not_items %s (%s) passes the item patterns", n.URL, n.Why)
				}
			}
		})
	}
}

func TestPublisherSnapshotPages(t *testing.T) {
	_, addr := startSnapshots(t)
	for _, host := range publisherHosts {
		m, _ := loadPubManifest(t, host)
		for _, it := range m.Items {
			t.Run(it.URL, func(t *testing.T) {
				res, body := fetch(t, addr, it.URL)
				if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("GET = %d %q", res.StatusCode, res.Header.Get("Content-Type"))
				}
				if it.Encoding == "windows-1252" {
					if ct := res.Header.Get("Content-Type"); ct != "text/html" || !bytes.Contains(body, []byte(`<meta charset="windows-1252">`)) {
						t.Errorf("windows-1252 page: Content-Type %q, meta charset missing?", ct)
					}
					if bytes.Contains(body, []byte("\u2019")) || !bytes.Contains(body, []byte{0x92}) || !bytes.Contains(body, []byte{0xa3}) || !bytes.Contains(body, []byte{0xe9}) {
						t.Error("page is not really in windows-1252 (’ £ é)")
					}
				}
				page := decodePage(t, it, body)
				tm := titleRE.FindStringSubmatch(page)
				if tm == nil {
					t.Fatal("no <title>")
				}
				title := plainText(tm[1])
				if title != it.Title+m.TitleSuffix {
					t.Errorf("<title> = %q, want %q", title, it.Title+m.TitleSuffix)
				}
				h1 := h1RE.FindStringSubmatch(page)
				if h1 == nil || plainText(h1[1]) != it.Title {
					t.Errorf("<h1> = %q, want %q", h1, it.Title)
				}
				if !strings.Contains(page, `rel="canonical" href="`+it.URL+`"`) {
					t.Errorf("no rel=canonical to %s", it.URL)
				}
				if !strings.Contains(page, "SYNTHETIC") {
					t.Error("page does not say SYNTHETIC")
				}
				text := plainText(scriptRE.ReplaceAllString(page, ""))
				for _, a := range it.Authors {
					if !strings.Contains(text, a) {
						t.Errorf("author %q not named on the page", a)
					}
				}
				for _, l := range it.PDFURLs {
					if !strings.Contains(page, `href="`+l+`"`) || !strings.HasSuffix(l, ".pdf") {
						t.Errorf("no PDF link %s", l)
					}
				}
				for _, d := range it.Downloads {
					if !strings.Contains(page, `href="`+d.URL+`"`) {
						t.Errorf("no download link %s", d.URL)
					}
				}
				for _, l := range it.Links {
					if !strings.Contains(page, `href="`+l.Href+`"`) {
						t.Errorf("no outbound link %s", l.Href)
					}
				}
				checkPageDate(t, m, it, page, text)
				switch host {
				case "www.centreformentalhealth.org.uk":
					i, j := strings.Index(page, "Customize Consent Preferences"), strings.Index(page, "Always Active")
					if i < 0 || j < i || j > strings.Index(page, "<h1") {
						t.Error("the cookie-consent block is not at the top of the page")
					}
				case "www.kingsfund.org.uk":
					if !regexp.MustCompile(`\d+-min read`).MatchString(page) {
						t.Error(`no "N-min read"`)
					}
					if old := strings.Contains(page, "This content is more than five years old"); old != it.MoreThanFiveYearsOld {
						t.Errorf("five-years-old notice = %v, manifest %v", old, it.MoreThanFiveYearsOld)
					}
				case "www.nationalvoices.org.uk":
					if d := visDateRE.FindString(text); d != "" {
						t.Errorf("visible date %q on a National Voices page", d)
					}
					if !strings.Contains(text, "Home › ") {
						t.Error("no breadcrumb")
					}
				}
			})
		}
	}
}

// checkPageDate checks that the page gives the manifest's date where
// date_source says.
func checkPageDate(t *testing.T, m pubManifest, it pubItem, page, text string) {
	t.Helper()
	if it.Published == nil {
		if strings.Contains(page, "published_time") || strings.Contains(page, "datePublished") {
			t.Error("manifest says no date, the page has one")
		}
		return
	}
	pub, _ := time.Parse(time.RFC3339, *it.Published)
	yoast := pub.UTC().Format("2006-01-02T15:04:05+00:00")
	switch {
	case strings.HasPrefix(it.DateSource, "visible date"):
		london, _ := time.LoadLocation("Europe/London")
		if !strings.Contains(text, pub.In(london).Format("2 January 2006")) || pub.In(london).Hour() != 0 {
			t.Errorf("visible date %s not on the page", pub.In(london).Format("2 January 2006"))
		}
	case strings.HasPrefix(it.DateSource, "article:published_time"):
		if !strings.Contains(page, `property="article:published_time" content="`+yoast+`"`) {
			t.Errorf("article:published_time %s missing", yoast)
		}
	case strings.HasPrefix(it.DateSource, "json-ld"), strings.HasPrefix(it.DateSource, "JSON-LD"):
		if !strings.Contains(page, `"datePublished":"`+yoast+`"`) {
			t.Errorf("JSON-LD datePublished %s missing", yoast)
		}
		if m.Host == "www.nationalvoices.org.uk" && strings.Contains(page, "article:published_time") {
			t.Error("a JSON-LD-only page has article:published_time")
		}
	case strings.HasPrefix(it.DateSource, "sitemap"):
		if !it.PublishedApproximate || strings.Contains(page, "published_time") || strings.Contains(page, "datePublished") {
			t.Error("a sitemap-dated item must be approximate and have no date on its page")
		}
	default:
		t.Errorf("unknown date_source %q", it.DateSource)
	}
}

// pubSitemap covers both <urlset> and <sitemapindex>.
type pubSitemap struct {
	XMLName xml.Name
	URLs    []struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	} `xml:"url"`
	Sitemaps []struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	} `xml:"sitemap"`
}

func TestPublisherSnapshotDiscovery(t *testing.T) {
	_, addr := startSnapshots(t)
	for _, host := range publisherHosts {
		m, c := loadPubManifest(t, host)
		items := map[string]pubItem{}
		for _, it := range m.Items {
			items[it.URL] = it
		}
		t.Run(host+"/robots.txt", func(t *testing.T) {
			res, body := get(t, addr, host, "/robots.txt")
			if res.StatusCode != 200 || !regexp.MustCompile(`(?m)^Disallow: /\S*$`).Match(body) {
				t.Fatalf("robots.txt = %d %q", res.StatusCode, body)
			}
			sm := regexp.MustCompile(`(?m)^Sitemap: (\S+)$`).FindAllSubmatch(body, -1)
			if len(sm) == 0 || string(sm[0][1]) != m.Sitemaps[0].URL {
				t.Errorf("Sitemap lines %q, want %s", sm, m.Sitemaps[0].URL)
			}
		})
		t.Run(host+"/sitemaps", func(t *testing.T) {
			inSitemap := map[string]bool{}
			for _, s := range m.Sitemaps {
				res, body := fetch(t, addr, s.URL)
				if res.StatusCode != 200 {
					t.Fatalf("GET %s = %d", s.URL, res.StatusCode)
				}
				if s.Gzip {
					if ct := res.Header.Get("Content-Type"); ct != "application/gzip" && ct != "application/x-gzip" {
						t.Errorf("%s: Content-Type %q", s.URL, ct)
					}
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatalf("%s: %v", s.URL, err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatalf("%s: %v", s.URL, err)
					}
				}
				wellFormed(t, s.URL, body)
				var doc pubSitemap
				if err := xml.Unmarshal(body, &doc); err != nil {
					t.Fatal(err)
				}
				var locs []string
				switch s.Kind {
				case "index":
					if doc.XMLName.Local != "sitemapindex" {
						t.Fatalf("%s: root %s", s.URL, doc.XMLName.Local)
					}
					for _, x := range doc.Sitemaps {
						if _, err := time.Parse(time.RFC3339, x.LastMod); err != nil {
							t.Errorf("%s: <lastmod> %q: %v", x.Loc, x.LastMod, err)
						}
						locs = append(locs, x.Loc)
					}
					if !slices.Equal(locs, s.Children) {
						t.Errorf("%s children = %q, want %q", s.URL, locs, s.Children)
					}
				default:
					for _, x := range doc.URLs {
						locs = append(locs, x.Loc)
						base, _ := url.Parse(x.Loc)
						u := canonical(t, m, base, x.Loc)
						if _, ok := items[u]; ok != c.isItem(u) {
							t.Errorf("sitemap URL %s: item in manifest %v, patterns say %v", x.Loc, ok, !ok)
						}
						inSitemap[u] = true
						if it, ok := items[u]; ok && it.PublishedApproximate && (it.Published == nil || !sameInstant(x.LastMod, *it.Published)) {
							t.Errorf("%s: <lastmod> %q, manifest published %v", u, x.LastMod, it.Published)
						}
						if it, ok := items[u]; ok && it.Published == nil && x.LastMod != "" {
							t.Errorf("%s: undated item has <lastmod> %q", u, x.LastMod)
						}
					}
					if !slices.Equal(locs, s.URLs) {
						t.Errorf("%s urls = %q, want %q", s.URL, locs, s.URLs)
					}
				}
			}
			for u := range items {
				if !inSitemap[u] {
					t.Errorf("item %s is in no sitemap", u)
				}
			}
		})
		t.Run(host+"/feeds", func(t *testing.T) {
			feeds := m.Feeds
			if m.Feed != nil {
				feeds = append(feeds, *m.Feed)
			}
			if len(feeds) == 0 { // The King's Fund: no feed, no alternate link
				for _, p := range []string{"/feed/", "/feed", "/rss.xml", "/atom.xml"} {
					if res, _ := get(t, addr, host, p); res.StatusCode != 404 {
						t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
					}
				}
				_, home := get(t, addr, host, "/")
				if bytes.Contains(home, []byte("application/rss+xml")) || bytes.Contains(home, []byte("application/atom+xml")) {
					t.Error("homepage advertises a feed")
				}
				return
			}
			_, home := get(t, addr, host, "/")
			if !bytes.Contains(home, []byte(`type="application/rss+xml"`)) {
				t.Error("homepage has no feed <link rel=alternate>")
			}
			for _, f := range feeds {
				res, body := fetch(t, addr, f.URL)
				if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/rss+xml; charset=utf-8" {
					t.Fatalf("GET %s = %d %q", f.URL, res.StatusCode, res.Header.Get("Content-Type"))
				}
				wellFormed(t, f.URL, body)
				var doc rssDocument
				if err := xml.Unmarshal(body, &doc); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, it := range doc.Channel.Items {
					base, _ := url.Parse(it.Link)
					u := canonical(t, m, base, it.Link)
					got = append(got, u)
					want, ok := items[u]
					if !ok {
						t.Errorf("feed item %s is not in the manifest", u)
						continue
					}
					if html.UnescapeString(it.Title) != want.Title {
						t.Errorf("feed title %q, want %q", it.Title, want.Title)
					}
					pub, err := time.Parse(time.RFC1123Z, it.PubDate)
					if err != nil || want.Published == nil || !sameInstant(pub.Format(time.RFC3339), *want.Published) {
						t.Errorf("%s: pubDate %q, manifest %v", u, it.PubDate, want.Published)
					}
				}
				if !slices.Equal(got, f.Items) || len(got) > 10 || len(got) >= len(m.Items) {
					t.Errorf("%s items = %q, want the manifest's %q (at most 10, fewer than all)", f.URL, got, f.Items)
				}
			}
		})
		t.Run(host+"/listings", func(t *testing.T) {
			for _, l := range m.Listings {
				res, body := fetch(t, addr, l.URL)
				if res.StatusCode != 200 {
					t.Fatalf("GET %s = %d", l.URL, res.StatusCode)
				}
				base, _ := url.Parse(l.URL)
				var got []string
				for _, a := range hrefRE.FindAllStringSubmatch(string(body), -1) {
					u := canonical(t, m, base, a[1])
					if c.isItem(u) && !slices.Contains(got, u) {
						got = append(got, u)
					}
				}
				if !slices.Equal(got, l.Items) {
					t.Errorf("%s: item links %q, want %q", l.URL, got, l.Items)
				}
				next := nextLink(string(body))
				if next != "" {
					next = canonical(t, m, base, next)
				}
				if (l.Next == nil) != (next == "") || (l.Next != nil && canonical(t, m, base, *l.Next) != next) {
					t.Errorf("%s: next %q, want %v", l.URL, next, l.Next)
				}
				if host == "www.centreformentalhealth.org.uk" && (!bytes.Contains(body, []byte(">Read More</a>")) || !visDateRE.Match(body)) {
					t.Errorf("%s: cards lack a date or Read More", l.URL)
				}
			}
		})
		t.Run(host+"/redirects", func(t *testing.T) {
			if len(m.Redirects) < 3 {
				t.Errorf("%d redirects, want at least 3", len(m.Redirects))
			}
			for _, r := range m.Redirects {
				res, _ := fetch(t, addr, r.From)
				if res.StatusCode != r.Status || res.Header.Get("Location") != r.To || (r.Status != 301 && r.Status != 308) {
					t.Errorf("GET %s = %d → %q, want %d → %q", r.From, res.StatusCode, res.Header.Get("Location"), r.Status, r.To)
				}
				if it, ok := items[r.To]; ok && !slices.Contains(it.Aliases, r.From) {
					t.Errorf("%s redirects to item %s, which does not list it in aliases", r.From, r.To)
				}
			}
		})
	}
}

func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339, a)
	tb, err2 := time.Parse(time.RFC3339, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

func TestPublisherSnapshotCrossLinks(t *testing.T) {
	all := map[string]pubItem{}
	manifests := map[string]pubManifest{}
	for _, host := range publisherHosts {
		m, _ := loadPubManifest(t, host)
		manifests[host] = m
		for _, it := range m.Items {
			all[it.URL] = it
		}
	}
	t.Run("mental elf reports", func(t *testing.T) {
		n := 0
		for _, e := range loadManifest(t).Items {
			for _, r := range e.Reports {
				n++
				it, ok := all[r]
				if !ok {
					t.Errorf("%s links to %s, which no snapshot manifest has", e.URL, r)
					continue
				}
				if !slices.Contains(it.DiscussedBy, e.URL) {
					t.Errorf("%s: discussed_by lacks %s", r, e.URL)
				}
			}
		}
		if n < 10 {
			t.Errorf("only %d Mental Elf report links", n)
		}
	})
	t.Run("outbound links", func(t *testing.T) {
		for _, it := range all {
			for _, l := range it.Links {
				target, ok := all[l.Target]
				if l.SameItem != slices.Contains(it.SameAs, l.Target) {
					t.Errorf("%s → %s: same_item %v, same_as %q", it.URL, l.Target, l.SameItem, it.SameAs)
				}
				if !ok || slices.Contains(target.DiscussedBy, it.URL) == l.SameItem {
					t.Errorf("%s → %s: target missing or its discussed_by lacks the source", it.URL, l.Target)
					continue
				}
				tu, _ := url.Parse(l.Target)
				m := manifests[tu.Host]
				base, _ := url.Parse(it.URL)
				if canonical(t, m, base, l.Href) != l.Target && !slices.Contains(target.Aliases, l.Href) {
					t.Errorf("link %s is neither the canonical URL nor an alias of %s", l.Href, l.Target)
				}
			}
		}
	})
	t.Run("report announced by two publishers", func(t *testing.T) {
		cmh := manifests["www.centreformentalhealth.org.uk"].CrossPublisher
		nv := manifests["www.nationalvoices.org.uk"].CrossPublisher
		if len(cmh) != 1 || len(nv) != 1 || !slices.Equal(cmh[0].URLs, nv[0].URLs) {
			t.Fatalf("cross_publisher: %+v / %+v", cmh, nv)
		}
		j := cmh[0]
		a, b := all[j.URLs[0]], all[j.URLs[1]]
		if !strings.EqualFold(a.Title, b.Title) || !slices.Equal(a.AnnouncedBy, j.AnnouncedBy) || !slices.Equal(b.AnnouncedBy, j.AnnouncedBy) {
			t.Errorf("titles %q / %q, announced_by %q / %q", a.Title, b.Title, a.AnnouncedBy, b.AnnouncedBy)
		}
		if !slices.Equal(a.SameAs, []string{b.URL}) || !slices.Equal(b.SameAs, []string{a.URL}) {
			t.Errorf("same_as %q / %q", a.SameAs, b.SameAs)
		}
		if !slices.Contains(a.PDFURLs, j.PDF) || !slices.Contains(b.PDFURLs, j.PDF) {
			t.Errorf("both pages should link the PDF %s", j.PDF)
		}
		ta, _ := time.Parse(time.RFC3339, *a.Published)
		tb, _ := time.Parse(time.RFC3339, *b.Published)
		if d := tb.Sub(ta); d < 0 || d > 72*time.Hour {
			t.Errorf("dates %s and %s are not within a few days", ta, tb)
		}
	})
}

func TestPublisherSnapshotFaults(t *testing.T) {
	_, addr := startSnapshots(t)
	for _, host := range publisherHosts {
		m, c := loadPubManifest(t, host)
		for _, f := range m.Faults {
			t.Run(host+" "+f.Name, func(t *testing.T) {
				seen := map[string]bool{}
				var found []string
				cur := f.URL
				for step := 0; step < 20 && cur != "" && !seen[cur]; step++ {
					seen[cur] = true
					res, body := fetch(t, addr, cur)
					if res.StatusCode == 301 || res.StatusCode == 308 {
						cur = res.Header.Get("Location")
						continue
					}
					if res.StatusCode != 200 {
						t.Fatalf("GET %s = %d", cur, res.StatusCode)
					}
					base, _ := url.Parse(cur)
					for _, a := range hrefRE.FindAllStringSubmatch(string(body), -1) {
						if u := canonical(t, m, base, a[1]); c.isItem(u) && !slices.Contains(found, u) {
							found = append(found, u)
						}
					}
					var sm pubSitemap
					if xml.Unmarshal(body, &sm) == nil {
						for _, x := range sm.URLs {
							if u := canonical(t, m, base, x.Loc); c.isItem(u) {
								found = append(found, u)
							}
						}
					}
					next := nextLink(string(body))
					if next == "" {
						cur = ""
						break
					}
					cur = canonical(t, m, base, next)
				}
				slices.Sort(found)
				want := slices.Clone(f.Items)
				slices.Sort(want)
				if !slices.Equal(found, want) {
					t.Errorf("items found %q, want %q", found, want)
				}
				loops := strings.Contains(f.Name, "loop") || strings.Contains(f.Name, "self")
				if loops != (cur != "" && seen[cur]) {
					t.Errorf("pagination ends at %q (loop expected: %v)", cur, loops)
				}
			})
		}
	}
}

// TestPublisherSnapshotsAreMarked checks that every file of the three sites
// says SYNTHETIC, inside the gzip sitemap too.
func TestPublisherSnapshotsAreMarked(t *testing.T) {
	for _, host := range publisherHosts {
		err := filepath.WalkDir(filepath.Join(snapshotDir, host), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			switch {
			case strings.HasSuffix(p, ".gz"):
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					return err
				}
				if !strings.Contains(zr.Name, "SYNTHETIC") {
					t.Errorf("%s: gzip header name %q does not say SYNTHETIC", p, zr.Name)
				}
				if b, err = io.ReadAll(zr); err != nil {
					return err
				}
			case filepath.Base(p) == "MANIFEST.json":
				if !bytes.Contains(b, []byte(`"synthetic": true`)) {
					t.Errorf("%s lacks \"synthetic\": true", p)
				}
				return nil
			}
			if !bytes.Contains(b, []byte("SYNTHETIC")) {
				t.Errorf("%s does not say SYNTHETIC", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
