package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/internal/replay"
	"github.com/evidencetracker/evidence/store"
)

// Bounds the fault test runs under.
const (
	faultMaxPages     = 5
	faultMaxItemPages = 25
	// faultTimeout is the fetch timeout; the "60 s" page never answers within
	// it, and it leaves room for reading a 30 MiB body under -race on a
	// loaded machine (1 s did not).
	faultTimeout    = 4 * time.Second
	faultRetries    = 2
	faultRetryAfter = 7 * time.Second // sent with every 429 of the storm; never really waited
	bigSitemapURLs  = 50000
	hugePageBytes   = 30 << 20
	bombBytes       = 1 << 30 // what the gzip bomb inflates to
	heapBound       = 256 << 20
)

const (
	cmhHost = "www.centreformentalhealth.org.uk"
	kfHost  = "www.kingsfund.org.uk"
)

// hits counts the requests the fault server answered, by host + request URI.
type hits struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *hits) add(r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n[strings.ToLower(r.Host)+r.URL.RequestURI()]++
}

// count returns the requests to host whose URI starts with prefix.
func (h *hits) count(host, prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for k, v := range h.n {
		if strings.HasPrefix(k, host+prefix) {
			n += v
		}
	}
	return n
}

// pages counts the requests to host other than robots.txt.
func (h *hits) pages(host string) int {
	return h.count(host, "/") - h.count(host, "/robots.txt")
}

// itemHTML is a small item page with the metadata the page layer reads.
func itemHTML(title string, day int) string {
	return fmt.Sprintf(`<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<title>%[1]s | Fault Test</title>
<meta name="description" content="What %[1]s found, in one sentence.">
<meta property="article:published_time" content="2026-11-%02[2]dT09:00:00+00:00">
<meta name="author" content="Ann Author">
</head><body><main><h1>%[1]s</h1><p>By Ann Author</p>
<p>This synthetic item page exists for the pipeline fault test. It has a body long enough to summarise.</p>
</main></body></html>`, title, 1+day%28)
}

// rss is an RSS feed of the given item URLs on host.
func rss(host string, paths ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%[1]s</title><link>https://%[1]s/</link>`, host)
	for i, p := range paths {
		fmt.Fprintf(&b, `<item><title>Feed title of %[2]s</title><link>https://%[1]s%[2]s</link><pubDate>Mon, %02[3]d Nov 2026 09:00:00 +0000</pubDate><description>From the feed.</description></item>`,
			host, p, 16-i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// urlset is a sitemap of the given URLs, each with a lastmod.
func urlset(locs ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for _, l := range locs {
		fmt.Fprintf(&b, `<url><loc>%s</loc><lastmod>2026-11-10</lastmod></url>`, l)
	}
	b.WriteString(`</urlset>`)
	return b.String()
}

// bigSitemap is a urlset of n item URLs, newest first by lastmod (one
// minute apart), so the per-run cap must keep the first ones.
func bigSitemap(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 110)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, "<url><loc>https://big.test/items/item-%05d/</loc><lastmod>%s</lastmod></url>\n", i, t0.Add(-time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	b.WriteString("</urlset>\n")
	return b.Bytes()
}

// gzipBomb is a small gzip file that inflates to size bytes: a sitemap
// header followed by spaces. It is one compressed member of 1 MiB repeated
// (gzip readers read concatenated members), so building it is cheap.
func gzipBomb(t *testing.T, size int) []byte {
	t.Helper()
	member := func(data []byte) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var out bytes.Buffer
	out.Write(member([]byte(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)))
	spaces := member(bytes.Repeat([]byte(" "), 1<<20))
	for range size >> 20 {
		out.Write(spaces)
	}
	return out.Bytes()
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// snapshotPatterns reads the include/exclude/pagination/type rules a
// snapshot site's MANIFEST.json was checked against.
func snapshotPatterns(t *testing.T, host string) SourceSpec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "snapshots", host, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		TrailingSlash string `json:"trailing_slash"`
		Patterns      struct {
			Include, Exclude, Pagination []string
			DefaultType                  string `json:"default_type"`
			Types                        []struct{ Pattern, Type string }
		} `json:"patterns"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s manifest: %v", host, err)
	}
	spec := SourceSpec{
		PreferredHost: host, TrailingSlash: m.TrailingSlash,
		Include: m.Patterns.Include, Exclude: m.Patterns.Exclude, Pagination: m.Patterns.Pagination,
		DefaultType: m.Patterns.DefaultType,
	}
	for _, r := range m.Patterns.Types {
		spec.Types = append(spec.Types, TypeRuleSpec{Pattern: r.Pattern, Type: r.Type})
	}
	return spec
}

// faultSite serves the synthetic hosts of the fault test and, for the
// snapshot hosts, the snapshot tree (its /snapshot-faults/ pages). release
// is closed when the test ends, letting the page that never answers go.
func faultSite(t *testing.T, h *hits) *httptest.Server {
	t.Helper()
	rp, err := replay.New(replay.Options{Dir: filepath.Join("..", "testdata", "snapshots")})
	if err != nil {
		t.Fatal(err)
	}
	big := bigSitemap(bigSitemapURLs)
	bomb := gzipBomb(t, bombBytes)
	gzChild := gzipBytes(t, urlset("https://gz.test/posts/one/", "https://gz.test/posts/two/", "https://gz.test/posts/three/"))
	release := make(chan struct{})
	itemRE := regexp.MustCompile(`^/(?:posts|items)/([a-z0-9-]+)/$`)
	listRE := regexp.MustCompile(`^/list/(?:page/([0-9]{1,9})/)?$`)
	huge := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		chunk := bytes.Repeat([]byte("<p>padding padding padding padding padding padding padding.</p>\n"), 1<<14)
		for sent := 0; sent < hugePageBytes; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the client gave up at its cap
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.add(r)
		host, path := strings.ToLower(r.Host), r.URL.Path
		switch host {
		case cmhHost, kfHost:
			rp.ServeHTTP(w, r)
			return
		case "challenge.test":
			if path != "/robots.txt" {
				r2 := r.Clone(r.Context())
				r2.URL.Path, r2.URL.RawPath = "/__replay/blocked", ""
				rp.ServeHTTP(w, r2)
				return
			}
		case "robots.test":
			if path == "/robots.txt" {
				fmt.Fprint(w, "User-agent: *\nDisallow: /\n")
				return
			}
		case "storm.test":
			if path != "/robots.txt" {
				w.Header().Set("Retry-After", fmt.Sprint(int(faultRetryAfter.Seconds())))
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
		case "slow.test":
			if path == "/feed/" {
				select { // "takes 60 s": answers only when the test is over
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
		case "healthy.test":
			switch path {
			case "/robots.txt":
				fmt.Fprint(w, "User-agent: *\nDisallow: /private/\nSitemap: https://healthy.test/sitemap.xml\n")
				return
			case "/feed/":
				w.Header().Set("Content-Type", "application/rss+xml")
				fmt.Fprint(w, rss(host, "/posts/alpha/", "/posts/beta/", "/posts/gamma/"))
				return
			case "/sitemap.xml":
				w.Header().Set("Content-Type", "application/xml")
				fmt.Fprint(w, urlset("https://healthy.test/posts/alpha/", "https://healthy.test/posts/delta/", "https://healthy.test/about/"))
				return
			case "/posts/", "/posts/page/2/":
				next, link := `<a rel="next" href="/posts/page/2/">Next</a>`, "/posts/alpha/"
				if path != "/posts/" {
					next, link = "", "/posts/epsilon/"
				}
				fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Posts</title></head><body><h1>Posts</h1>
<article><h2><a href="%s">A post</a></h2><p>1 November 2026</p></article>%s</body></html>`, link, next)
				return
			}
		case "big.test":
			if path == "/sitemap.xml" {
				w.Header().Set("Content-Type", "application/xml")
				w.Write(big)
				return
			}
		case "gz.test":
			switch path {
			case "/robots.txt":
				fmt.Fprint(w, "User-agent: *\nAllow: /\nSitemap: https://gz.test/sitemap_index.xml\n")
				return
			case "/sitemap_index.xml":
				w.Header().Set("Content-Type", "application/xml")
				fmt.Fprint(w, `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://gz.test/sitemap-1.xml.gz</loc><lastmod>2026-11-10</lastmod></sitemap></sitemapindex>`)
				return
			case "/sitemap-1.xml.gz":
				w.Header().Set("Content-Type", "application/gzip")
				w.Write(gzChild)
				return
			}
		case "bomb.test":
			if path == "/sitemap.xml.gz" {
				w.Header().Set("Content-Type", "application/x-gzip")
				w.Write(bomb)
				return
			}
		case "endless.test":
			// Every listing page links one item and the next page, forever.
			if m := listRE.FindStringSubmatch(path); m != nil {
				n := 1
				if m[1] != "" {
					n, _ = strconv.Atoi(m[1])
				}
				fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Page %[1]d</title><link rel="next" href="/list/page/%[2]d/"></head>
<body><h1>List</h1><article><a href="/posts/item-%[1]d/">Item %[1]d</a></article><a href="/list/page/%[2]d/">Next</a></body></html>`, n, n+1)
				return
			}
		case "huge.test":
			switch path {
			case "/feed/":
				w.Header().Set("Content-Type", "application/rss+xml")
				fmt.Fprint(w, rss(host, "/posts/fed/"))
				return
			case "/sitemap.xml":
				w.Header().Set("Content-Type", "application/xml")
				fmt.Fprint(w, urlset("https://huge.test/posts/fed/", "https://huge.test/posts/bare/"))
				return
			case "/posts/fed/", "/posts/bare/":
				huge(w)
				return
			}
		}
		if path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		if m := itemRE.FindStringSubmatch(path); m != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, itemHTML("Item "+m[1]+" of "+host, len(m[1])))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

// TestFaultsStayWithTheirSource runs every fault as a source of its own,
// all at once, beside a healthy source: each fault gets a report whose
// errors name the source and the cause, is bounded in requests and
// memory, stores nothing wrong, and the healthy source is unaffected.
func TestFaultsStayWithTheirSource(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test serves a 50,000-URL sitemap, a gzip bomb and 30 MB pages; skipped with -short")
	}
	h := &hits{n: map[string]int{}}
	srv := faultSite(t, h)
	addr := strings.TrimPrefix(srv.URL, "http://")

	var sleepMu sync.Mutex
	var slept []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		sleepMu.Lock()
		slept = append(slept, d)
		sleepMu.Unlock()
		return ctx.Err() // record the wait, don't make the test wait
	}

	cmh := snapshotPatterns(t, cmhHost)
	kf := snapshotPatterns(t, kfHost)
	synthetic := func(id, host string) SourceSpec {
		return SourceSpec{
			ID: id, Name: id, Home: "https://" + host + "/", PreferredHost: host, TrailingSlash: "add",
			Include: []string{`^https://` + regexp.QuoteMeta(host) + `/(?:posts|items)/[a-z0-9-]+/$`},
			Exclude: []string{`/page/[0-9]+/$`}, Pagination: []string{`/page/[0-9]+/$`}, DefaultType: evidence.TypeBlog,
		}
	}
	snapshot := func(id string, base SourceSpec) SourceSpec {
		base.ID, base.Name = id, id
		return base // no Home: no feed discovery or whole-site sitemap, only the fault page
	}
	with := func(s SourceSpec, fn func(*SourceSpec)) SourceSpec { fn(&s); return s }

	type faultCase struct {
		spec SourceSpec
		// wantErr: substrings of Report.Err (case-insensitive); none means
		// the source must succeed.
		wantErr []string
		// wantNotes: substrings each found in some entry of Report.Errors.
		wantNotes   []string
		wantBlocked bool
		// wantItems are the URLs stored under this source, exactly
		// (wantCount instead when they are generated).
		wantItems []string
		wantCount int
		check     func(t *testing.T, r Report, stored []evidence.Item)
	}
	cases := []faultCase{
		{
			spec: with(synthetic("healthy", "healthy.test"), func(s *SourceSpec) {
				s.Feeds = []string{"https://healthy.test/feed/"}
				s.Listings = []string{"https://healthy.test/posts/"}
			}),
			wantItems: []string{"https://healthy.test/posts/alpha/", "https://healthy.test/posts/beta/", "https://healthy.test/posts/gamma/",
				"https://healthy.test/posts/delta/", "https://healthy.test/posts/epsilon/"},
			check: func(t *testing.T, r Report, stored []evidence.Item) {
				if len(r.Errors) != 0 {
					t.Errorf("healthy source reported problems: %q", r.Errors)
				}
				for _, it := range stored {
					if !strings.HasPrefix(it.Title, "Item ") || it.Published == nil || len(it.Authors) != 1 {
						t.Errorf("item %s: title %q, published %v, authors %q: want the page's metadata", it.URL, it.Title, it.Published, it.Authors)
					}
				}
			},
		},
		{
			spec:      with(synthetic("big-sitemap", "big.test"), func(s *SourceSpec) { s.Sitemaps = []string{"https://big.test/sitemap.xml"} }),
			wantNotes: []string{fmt.Sprintf("%d new item(s) left for the next run (at most %d item pages a run)", bigSitemapURLs-faultMaxItemPages, faultMaxItemPages)},
			wantCount: faultMaxItemPages,
			check: func(t *testing.T, r Report, stored []evidence.Item) {
				if n := h.count("big.test", "/items/"); n != faultMaxItemPages {
					t.Errorf("fetched %d item pages, want %d (MaxItemPages)", n, faultMaxItemPages)
				}
				if r.Deferred != bigSitemapURLs-faultMaxItemPages || r.Items != bigSitemapURLs {
					t.Errorf("items %d, deferred %d; want %d and %d", r.Items, r.Deferred, bigSitemapURLs, bigSitemapURLs-faultMaxItemPages)
				}
				for _, it := range stored { // the newest by <lastmod> go first
					var n int
					if _, err := fmt.Sscanf(it.URL, "https://big.test/items/item-%05d/", &n); err != nil || n >= faultMaxItemPages {
						t.Errorf("stored %s, not one of the %d newest", it.URL, faultMaxItemPages)
					}
				}
			},
		},
		{
			spec:      with(synthetic("gzip-sitemap", "gz.test"), func(*SourceSpec) {}), // sitemap found through robots.txt
			wantItems: []string{"https://gz.test/posts/one/", "https://gz.test/posts/two/", "https://gz.test/posts/three/"},
			check: func(t *testing.T, r Report, _ []evidence.Item) {
				if r.Strategy != LayerSitemap {
					t.Errorf("strategy %q, want sitemap", r.Strategy)
				}
			},
		},
		{
			spec:    with(synthetic("gzip-bomb", "bomb.test"), func(s *SourceSpec) { s.Sitemaps = []string{"https://bomb.test/sitemap.xml.gz"} }),
			wantErr: []string{"sitemap: fetch https://bomb.test/sitemap.xml.gz", "decompressed body exceeds 15 MiB"},
		},
		{
			spec:      with(synthetic("endless-pagination", "endless.test"), func(s *SourceSpec) { s.Listings = []string{"https://endless.test/list/"} }),
			wantNotes: []string{"listing https://endless.test/list/", fmt.Sprintf("stopped after %d pages", faultMaxPages)},
			wantCount: faultMaxPages,
			check: func(t *testing.T, r Report, _ []evidence.Item) {
				if n := h.count("endless.test", "/list/"); n != faultMaxPages {
					t.Errorf("fetched %d listing pages, want %d (MaxPages)", n, faultMaxPages)
				}
			},
		},
		{
			spec: with(snapshot("self-linking-listing", cmh), func(s *SourceSpec) {
				s.Listings = []string{"https://" + cmhHost + "/snapshot-faults/self-linking-listing/"}
			}),
			wantItems: []string{
				"https://www.centreformentalhealth.org.uk/beacon-mental-health-equality/",
				"https://www.centreformentalhealth.org.uk/news/item/centre-responds-to-new-mental-health-act-code-of-practice/",
				"https://www.centreformentalhealth.org.uk/waiting-lists-are-not-neutral/",
			},
			check: func(t *testing.T, _ Report, _ []evidence.Item) {
				if n := h.count(cmhHost, "/snapshot-faults/self-linking-listing/"); n != 1 {
					t.Errorf("the self-linking listing was fetched %d times, want once", n)
				}
			},
		},
		{
			spec: with(snapshot("pagination-cycle", kf), func(s *SourceSpec) {
				s.Listings = []string{"https://" + kfHost + "/snapshot-faults/listing"}
			}),
			wantItems: []string{
				"https://www.kingsfund.org.uk/insight-and-analysis/data-and-charts/nhs-waiting-lists-key-statistics",
				"https://www.kingsfund.org.uk/insight-and-analysis/reports/social-prescribing-older-people-communities",
				"https://www.kingsfund.org.uk/insight-and-analysis/data-and-charts/mental-health-services-activity-and-waiting-times",
			},
			check: func(t *testing.T, _ Report, _ []evidence.Item) {
				// /listing, ?page=1, ?page=2, ?page=3: each once, then the cycle is seen.
				if n := h.count(kfHost, "/snapshot-faults/listing"); n > 4 {
					t.Errorf("the cycling listing was fetched %d times, want at most 4", n)
				}
			},
		},
		{
			spec: with(snapshot("changed-listing", cmh), func(s *SourceSpec) {
				s.Listings = []string{"https://" + cmhHost + "/snapshot-faults/changed-layout/"}
			}),
			wantErr: []string{"listing https://" + cmhHost + "/snapshot-faults/changed-layout/", "0 items from layer listing"},
		},
		{
			spec: with(snapshot("changed-sitemap", kf), func(s *SourceSpec) {
				s.Sitemaps = []string{"https://" + kfHost + "/snapshot-faults/sitemap-changed-layout.xml"}
			}),
			wantErr: []string{"0 items from layer sitemap", "8 URLs"},
		},
		{
			spec: with(synthetic("huge-page", "huge.test"), func(s *SourceSpec) {
				s.Feeds = []string{"https://huge.test/feed/"}
				s.Sitemaps = []string{"https://huge.test/sitemap.xml"}
			}),
			// The feed entry backs /posts/fed/; /posts/bare/ has nothing else.
			wantNotes: []string{"https://huge.test/posts/fed/: body exceeds 15 MiB limit (kept the feed's metadata)",
				"https://huge.test/posts/bare/: body exceeds 15 MiB limit"},
			wantItems: []string{"https://huge.test/posts/fed/"},
			check: func(t *testing.T, _ Report, stored []evidence.Item) {
				if len(stored) == 1 && stored[0].Title != "Feed title of /posts/fed/" {
					t.Errorf("title %q, want the feed's", stored[0].Title)
				}
			},
		},
		{
			spec:    with(synthetic("slow", "slow.test"), func(s *SourceSpec) { s.Feeds = []string{"https://slow.test/feed/"} }),
			wantErr: []string{"feed: fetch https://slow.test/feed/", "timed out after " + faultTimeout.String()},
			check: func(t *testing.T, _ Report, _ []evidence.Item) {
				// The host does not answer: the other layers do not wait on it again.
				if n := h.pages("slow.test"); n != 1+faultRetries {
					t.Errorf("%d requests to the slow host, want %d (one feed request and its retries)", n, 1+faultRetries)
				}
			},
		},
		{
			spec:    with(synthetic("rate-limited", "storm.test"), func(s *SourceSpec) { s.Feeds = []string{"https://storm.test/feed/"} }),
			wantErr: []string{"https://storm.test/feed/", "HTTP 429", "rate limited"},
			check: func(t *testing.T, _ Report, _ []evidence.Item) {
				if n := h.pages("storm.test"); n != 1+faultRetries {
					t.Errorf("%d requests to the 429 host, want %d: one request and its retries, then the source stops", n, 1+faultRetries)
				}
				sleepMu.Lock()
				defer sleepMu.Unlock()
				if n := countOf(slept, faultRetryAfter); n != faultRetries {
					t.Errorf("waited Retry-After (%v) %d times, want %d; waits %v", faultRetryAfter, n, faultRetries, slept)
				}
			},
		},
		{
			spec:        with(synthetic("challenged", "challenge.test"), func(s *SourceSpec) { s.Feeds = []string{"https://challenge.test/feed/"} }),
			wantErr:     []string{"blocked", "cf-mitigated", "https://challenge.test/feed/"},
			wantBlocked: true,
			check: func(t *testing.T, _ Report, _ []evidence.Item) {
				if n := h.pages("challenge.test"); n != 1 {
					t.Errorf("%d requests to the blocking host, want 1 (no retry, no other layer)", n)
				}
			},
		},
		{
			spec:    with(synthetic("robots-disallowed", "robots.test"), func(s *SourceSpec) { s.Feeds = []string{"https://robots.test/feed/"} }),
			wantErr: []string{"https://robots.test/feed/", "disallowed by robots.txt"},
			check: func(t *testing.T, _ Report, _ []evidence.Item) {
				if n := h.pages("robots.test"); n != 0 {
					t.Errorf("%d requests beyond robots.txt to a host that disallows everything", n)
				}
			},
		},
	}

	var sources []Source
	connect := map[string]string{}
	for _, c := range cases {
		src, err := Compile(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, src)
		connect[src.Rules.PreferredHost] = addr
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "e.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fc, err := fetch.New(fetch.Options{
		UserAgent: "EvidenceTrackerTest/1 (+https://example.org)", ConnectTo: connect,
		Timeout: faultTimeout, Retries: faultRetries, RatePerHost: -1, MaxBodyBytes: 15 << 20,
		BackoffBase: 10 * time.Millisecond, MaxRetryWait: time.Minute, Sleep: sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	p := New(Options{Store: st, Fetcher: fc, Sources: sources, Concurrency: len(sources)})

	// Sample the heap while every fault runs at once.
	runtime.GC()
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	reports := p.Run(ctx, sources, RunOptions{Backfill: true, MaxPages: faultMaxPages, MaxItemPages: faultMaxItemPages})
	close(stop)
	<-sampled
	t.Logf("peak heap in use during the run: %.1f MiB", float64(peak)/(1<<20))
	if peak > heapBound {
		t.Errorf("peak heap in use %d MiB, want under %d MiB", peak>>20, heapBound>>20)
	}

	stored := map[string][]evidence.Item{}
	if err := st.EachItem(ctx, func(it evidence.Item) error {
		stored[it.Source] = append(stored[it.Source], it)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r := reports[i]
		t.Run(c.spec.ID, func(t *testing.T) {
			if r.Source != c.spec.ID {
				t.Fatalf("report %d is for %q, want %q", i, r.Source, c.spec.ID)
			}
			t.Logf("requests %d, new %d, deferred %d, errors %q", r.Requests, r.New, r.Deferred, r.Errors)
			for _, e := range r.Errors {
				if !strings.Contains(e, "ingest "+c.spec.ID+":") {
					t.Errorf("error %q does not name the source", e)
				}
			}
			switch {
			case len(c.wantErr) == 0 && r.Err != nil:
				t.Errorf("unexpected failure: %v", r.Err)
			case len(c.wantErr) > 0 && r.Err == nil:
				t.Errorf("want a failure saying %q, got none (errors %q)", c.wantErr, r.Errors)
			case len(c.wantErr) > 0:
				msg := strings.ToLower(r.Err.Error())
				for _, w := range append([]string{"ingest " + c.spec.ID + ":"}, c.wantErr...) {
					if !strings.Contains(msg, strings.ToLower(w)) {
						t.Errorf("error %q should say %q", r.Err, w)
					}
				}
			}
			for _, w := range c.wantNotes {
				if !slices.ContainsFunc(r.Errors, func(e string) bool { return strings.Contains(e, w) }) {
					t.Errorf("no entry of errors says %q: %q", w, r.Errors)
				}
			}
			if r.Blocked != c.wantBlocked {
				t.Errorf("blocked = %v, want %v", r.Blocked, c.wantBlocked)
			}
			var urls []string
			for _, it := range stored[c.spec.ID] {
				urls = append(urls, it.URL)
			}
			switch {
			case c.wantItems != nil:
				slices.Sort(urls)
				want := slices.Sorted(slices.Values(c.wantItems))
				if !slices.Equal(urls, want) {
					t.Errorf("stored %q, want %q", urls, want)
				}
			case len(urls) != c.wantCount:
				t.Errorf("stored %d items, want %d", len(urls), c.wantCount)
			}
			if r.New != len(urls) {
				t.Errorf("report says %d new, the store holds %d", r.New, len(urls))
			}
			if c.check != nil {
				c.check(t, r, stored[c.spec.ID])
			}
		})
	}
	for src := range stored {
		if !slices.ContainsFunc(cases, func(c faultCase) bool { return c.spec.ID == src }) {
			t.Errorf("items stored under unknown source %q", src)
		}
	}
}

func countOf[T comparable](s []T, v T) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
