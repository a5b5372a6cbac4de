package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/store"
)

// The store failures a save meets in the field.
var (
	errBusy     = errors.New("database is locked (5) (SQLITE_BUSY)")
	errDiskFull = errors.New("database or disk is full (13) (SQLITE_FULL)")
)

// failingStore is the real store whose item saves fail while failSave is
// set, and whose reads of item pages' validators fail while failPageState
// is set (the store busy past its timeout). It embeds the Store interface,
// not *store.Store, so the pipeline sees only these methods and saves
// through UpsertItem.
type failingStore struct {
	Store
	err           error
	failSave      atomic.Bool
	failPageState atomic.Bool
	saveFailures  atomic.Int32
}

func (f *failingStore) UpsertItem(ctx context.Context, it *evidence.Item) (evidence.UpsertResult, error) {
	if f.failSave.Load() {
		f.saveFailures.Add(1)
		return evidence.Unchanged, fmt.Errorf("store: save item %q: %w", it.URL, f.err)
	}
	return f.Store.UpsertItem(ctx, it)
}

func (f *failingStore) FetchState(ctx context.Context, u string) (evidence.FetchState, error) {
	if f.failPageState.Load() && strings.Contains(u, "/items/") {
		return evidence.FetchState{}, fmt.Errorf("store: fetch state %q: %w", u, f.err)
	}
	return f.Store.FetchState(ctx, u)
}

// durSite serves a feed, a sitemap and a paginated listing of the same
// items, each with an ETag, and counts full (200) answers per path. The
// feed's version (its ETag and each entry's category) is settable, and a
// path may be made to fail with 503 a number of times.
type durSite struct {
	mu          sync.Mutex
	full        map[string]int
	feedVersion int
	fail        map[string]int // path → 503s still to send
	truncate    bool           // cut the feed off in its second entry
}

const durHost = "dur.test"

var durItems = []string{"/items/alpha/", "/items/bravo/", "/items/charlie/", "/items/delta/"}

func (d *durSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.URL.Path == "/robots.txt" {
		http.NotFound(w, r)
		return
	}
	if d.fail[r.URL.Path] > 0 {
		d.fail[r.URL.Path]--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	etag := `"` + r.URL.Path + `"`
	var body, ctype string
	switch p := r.URL.Path; {
	case p == "/feed/":
		etag = fmt.Sprintf(`"feed-%d"`, d.feedVersion)
		ctype = "application/rss+xml"
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Dur</title><link>https://%s/</link>`, durHost)
		for i, it := range durItems[:2] {
			fmt.Fprintf(&b, `<item><title>Feed title %d</title><link>https://%s%s</link><pubDate>Mon, %02d Nov 2026 09:00:00 +0000</pubDate><dc:creator>Feed Writer</dc:creator><category>version-%d</category><description>From the feed.</description></item>`,
				i, durHost, it, 16-i, d.feedVersion)
		}
		b.WriteString(`</channel></rss>`)
		body = b.String()
		if d.truncate {
			body = body[:strings.LastIndex(body, "<category>")]
		}
	case p == "/maps/items.xml":
		ctype = "application/xml"
		var locs []string
		for _, it := range durItems[:2] {
			locs = append(locs, "https://"+durHost+it)
		}
		body = urlset(locs...)
	case p == "/list/" || p == "/list/page/2/":
		ctype = "text/html"
		items, more := durItems[:2], `<a rel="next" href="/list/page/2/">Older</a>`
		if p != "/list/" {
			items, more = durItems[2:], ""
		}
		var b strings.Builder
		b.WriteString(`<!DOCTYPE html><html><head><title>All items</title></head><body><main>`)
		for _, it := range items {
			fmt.Fprintf(&b, `<article><h2><a href="%s">Card for %s</a></h2></article>`, it, it)
		}
		b.WriteString(more + `</main></body></html>`)
		body = b.String()
	case slices.Contains(durItems, p):
		ctype = "text/html"
		body = itemHTML("Page title of "+strings.Trim(p, "/"), len(p))
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	d.full[r.URL.Path]++
	w.Header().Set("Content-Type", ctype)
	fmt.Fprint(w, body)
}

func (d *durSite) fullGets(path string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.full[path]
}

func (d *durSite) set(f func(d *durSite)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

type durEnv struct {
	site *durSite
	st   *failingStore
	p    *Pipeline
}

func newDurEnv(t *testing.T, storeErr error, spec SourceSpec) (*durEnv, Source) {
	t.Helper()
	site := &durSite{full: map[string]int{}, fail: map[string]int{}}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	real, err := store.Open(ctx, store.Options{Path: t.TempDir() + "/dur.db"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { real.Close() })
	fs := &failingStore{Store: real, err: storeErr}
	fc, err := fetch.New(fetch.Options{
		UserAgent: "EvidenceTrackerTest/1 (+https://example.org)", ConnectTo: map[string]string{durHost: strings.TrimPrefix(srv.URL, "http://")},
		Timeout: 5 * time.Second, Retries: -1, RatePerHost: -1, MaxBodyBytes: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	spec.ID, spec.Name, spec.Home = "dur", durHost, "https://"+durHost+"/"
	spec.PreferredHost, spec.TrailingSlash = durHost, "add"
	spec.Include = []string{`^https://dur\.test/items/[a-z]+/$`}
	spec.DefaultType = evidence.TypeBlog
	src, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &durEnv{site: site, st: fs, p: New(Options{Store: fs, Fetcher: fc, Sources: []Source{src}})}, src
}

func (e *durEnv) stored(t *testing.T) []string {
	t.Helper()
	var urls []string
	for _, p := range durItems {
		if _, err := e.st.ItemByURL(context.Background(), "https://"+durHost+p); err == nil {
			urls = append(urls, p)
		}
	}
	return urls
}

// TestFailedSaveIsRetried: when the store refuses an item (busy, disk full)
// the source fails, the document that listed the item keeps its old
// validators, and the next run reads that document in full and stores the
// item; a run after that is 304s again.
func TestFailedSaveIsRetried(t *testing.T) {
	layers := []struct {
		name string
		spec SourceSpec
		doc  string // the path of the document that lists the items
		want int    // items it lists
	}{
		{"feed", SourceSpec{Feeds: []string{"https://" + durHost + "/feed/"}}, "/feed/", 2},
		{"sitemap", SourceSpec{Sitemaps: []string{"https://" + durHost + "/maps/items.xml"}}, "/maps/items.xml", 2},
		{"listing", SourceSpec{Listings: []string{"https://" + durHost + "/list/"}}, "/list/", 4},
	}
	failures := []struct {
		name string
		err  error
	}{{"store busy", errBusy}, {"disk full", errDiskFull}}
	for _, l := range layers {
		for _, f := range failures {
			t.Run(l.name+"/"+f.name, func(t *testing.T) {
				ctx := context.Background()
				e, src := newDurEnv(t, f.err, l.spec)
				docURL := "https://" + durHost + l.doc

				e.st.failSave.Store(true)
				r := e.p.RunSource(ctx, src, RunOptions{})
				e.st.failSave.Store(false)
				if e.st.saveFailures.Load() == 0 {
					t.Fatal("no save was attempted")
				}
				if r.Err == nil {
					t.Errorf("run with failed saves: no source error (exit 0, `sources` ok); errors %v", r.Errors)
				} else if !strings.Contains(r.Err.Error(), "dur") || !errors.Is(r.Err, f.err) {
					t.Errorf("source error %q does not name the source and the cause", r.Err)
				}
				if r.Skipped != 0 {
					t.Errorf("failed saves counted as skipped (%d)", r.Skipped)
				}
				if fs, _ := e.st.Store.FetchState(ctx, docURL); fs.ETag != "" {
					t.Errorf("%s validators saved (%q) though its items were not", l.doc, fs.ETag)
				}
				for _, p := range durItems {
					if fs, _ := e.st.Store.FetchState(ctx, "https://"+durHost+p); fs.ETag != "" {
						t.Errorf("item page %s validators saved (%q) though the item was not", p, fs.ETag)
					}
					if sig, _, ok, _ := e.st.Candidate(ctx, "https://"+durHost+p); ok {
						t.Errorf("candidate signature %q recorded for %s though its save failed", sig, p)
					}
				}
				if got := e.stored(t); len(got) != 0 {
					t.Fatalf("stored %v with every save failing", got)
				}

				r = e.p.RunSource(ctx, src, RunOptions{})
				if r.Err != nil || r.New != l.want {
					t.Errorf("next run: err %v, %d new, want %d (errors %v)", r.Err, r.New, l.want, r.Errors)
				}
				if n := e.site.fullGets(l.doc); n != 2 {
					t.Errorf("%s read in full %d time(s) over two runs, want 2", l.doc, n)
				}
				if got := e.stored(t); len(got) != l.want {
					t.Errorf("stored %v, want %d items", got, l.want)
				}

				r = e.p.RunSource(ctx, src, RunOptions{})
				if r.Err != nil || r.Fetched != 0 || r.New != 0 {
					t.Errorf("unchanged third run: err %v, fetched %d, new %d; want all 304s", r.Err, r.Fetched, r.New)
				}
			})
		}
	}
}

// TestUnreadablePageDoesNotFreezeItem: a changed feed entry whose item page
// cannot be read (the store busy when its validators are loaded) keeps what
// the page gave the stored item (its authors) and is fetched again next
// run, so the feed's change lands and nothing is left frozen with the
// feed's metadata.
func TestUnreadablePageDoesNotFreezeItem(t *testing.T) {
	ctx := context.Background()
	e, src := newDurEnv(t, errBusy, SourceSpec{Feeds: []string{"https://" + durHost + "/feed/"}})
	alpha := "https://" + durHost + durItems[0]
	if r := e.p.RunSource(ctx, src, RunOptions{}); r.Err != nil || r.New != 2 {
		t.Fatalf("first run: %v, %d new (errors %v)", r.Err, r.New, r.Errors)
	}
	e.site.set(func(d *durSite) { d.feedVersion = 1 })
	e.st.failPageState.Store(true)
	r := e.p.RunSource(ctx, src, RunOptions{})
	e.st.failPageState.Store(false)
	if fs, _ := e.st.Store.FetchState(ctx, "https://"+durHost+"/feed/"); fs.ETag == `"feed-1"` {
		t.Errorf("the feed's validators were saved though its items' pages were not read (errors %v)", r.Errors)
	}
	check := func(when string) {
		t.Helper()
		it, err := e.st.ItemByURL(ctx, alpha)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(it.Authors, []string{"Ann Author"}) {
			t.Errorf("%s: authors %v, want the page's [Ann Author]", when, it.Authors)
		}
		if when != "after the failing run" && !slices.Contains(it.Categories, "version-1") {
			t.Errorf("%s: categories %v lack the feed's new version-1", when, it.Categories)
		}
	}
	check("after the failing run")
	if r := e.p.RunSource(ctx, src, RunOptions{Backfill: true}); r.Err != nil {
		t.Fatalf("repair run: %v (errors %v)", r.Err, r.Errors)
	}
	check("after the repair run")
	if fs, _ := e.st.Store.FetchState(ctx, "https://"+durHost+"/feed/"); fs.ETag != `"feed-1"` {
		t.Errorf("after the repair run the feed's validators are %q, want \"feed-1\"", fs.ETag)
	}
}

// TestListingPageTwoFailsOnce: page 2 of a listing answers 503 once; the
// run reports it, and the next run walks again and stores page 2's items,
// without --backfill.
func TestListingPageTwoFailsOnce(t *testing.T) {
	for _, backfill := range []bool{false, true} {
		t.Run(fmt.Sprintf("backfill=%v", backfill), func(t *testing.T) {
			ctx := context.Background()
			e, src := newDurEnv(t, errBusy, SourceSpec{Listings: []string{"https://" + durHost + "/list/"}})
			e.site.set(func(d *durSite) { d.fail["/list/page/2/"] = 1 })
			r := e.p.RunSource(ctx, src, RunOptions{Backfill: backfill})
			if !slices.ContainsFunc(r.Errors, func(s string) bool { return strings.Contains(s, "page 2") && strings.Contains(s, "503") }) {
				t.Errorf("first run's errors %v do not say page 2 failed with 503", r.Errors)
			}
			if got := e.stored(t); len(got) != 2 {
				t.Errorf("first run stored %v, want page 1's 2 items", got)
			}
			r = e.p.RunSource(ctx, src, RunOptions{Backfill: backfill})
			if r.Err != nil || len(r.Errors) != 0 {
				t.Errorf("second run: %v %v", r.Err, r.Errors)
			}
			if got := e.stored(t); len(got) != 4 {
				t.Errorf("second run: stored %v, want all 4 (page 2's too)", got)
			}
			r = e.p.RunSource(ctx, src, RunOptions{Backfill: backfill})
			if r.Fetched != 0 || r.New != 0 {
				t.Errorf("third run: fetched %d new %d, want only 304s", r.Fetched, r.New)
			}
		})
	}
}

// TestBackfillReadsPastAnEarlierPageLimit: a run limited to one listing
// page saves that page's validators; a later backfill still reads page 2
// (its items are listed nowhere else), though page 1 has not changed.
func TestBackfillReadsPastAnEarlierPageLimit(t *testing.T) {
	ctx := context.Background()
	e, src := newDurEnv(t, errBusy, SourceSpec{Listings: []string{"https://" + durHost + "/list/"}})
	if r := e.p.RunSource(ctx, src, RunOptions{MaxPages: 1}); r.Err != nil || r.New != 2 {
		t.Fatalf("limited run: %v, %d new", r.Err, r.New)
	}
	if r := e.p.RunSource(ctx, src, RunOptions{Backfill: true}); r.Err != nil || r.New != 2 {
		t.Errorf("backfill: %v, %d new, want page 2's 2 (errors %v)", r.Err, r.New, r.Errors)
	}
	if r := e.p.RunSource(ctx, src, RunOptions{Backfill: true}); r.Fetched != 0 {
		t.Errorf("second backfill of a completed walk fetched %d in full, want only 304s", r.Fetched)
	}
}

// TestDeferredItemsKeepTheFeedUnread: items left for the next run by the
// per-run cap on item pages are owed too, so the feed that listed them is
// read in full again until they are all stored (not answered 304 with the
// backlog forgotten).
func TestDeferredItemsKeepTheFeedUnread(t *testing.T) {
	ctx := context.Background()
	e, src := newDurEnv(t, errBusy, SourceSpec{Feeds: []string{"https://" + durHost + "/feed/"}})
	for run, want := range []int{1, 1, 0} {
		r := e.p.RunSource(ctx, src, RunOptions{MaxItemPages: 1})
		if r.New != want {
			t.Errorf("run %d: %d new, want %d (deferred %d, errors %v)", run+1, r.New, want, r.Deferred, r.Errors)
		}
	}
	if got := e.stored(t); len(got) != 2 {
		t.Errorf("stored %v, want both feed items", got)
	}
}

// TestTruncatedFeedKeepsItsItems: a feed cut off in its last entry gives
// the entries before the damage, with a warning, and its validators are not
// kept, so the next run reads the whole feed and gets the rest.
func TestTruncatedFeedKeepsItsItems(t *testing.T) {
	ctx := context.Background()
	e, src := newDurEnv(t, nil, SourceSpec{Feeds: []string{"https://" + durHost + "/feed/"}})
	e.site.set(func(d *durSite) { d.truncate = true })
	r := e.p.RunSource(ctx, src, RunOptions{})
	if r.Err != nil || r.New != 1 || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "truncated feed") {
		t.Fatalf("cut-off feed: err %v, %d new, errors %v", r.Err, r.New, r.Errors)
	}
	e.site.set(func(d *durSite) { d.truncate = false })
	r = e.p.RunSource(ctx, src, RunOptions{})
	if r.New != 1 || e.site.fullGets("/feed/") != 2 {
		t.Errorf("next run: %d new, feed read in full %d times; want 1 and 2", r.New, e.site.fullGets("/feed/"))
	}
	if got := e.stored(t); len(got) != 2 {
		t.Errorf("stored %v, want both feed items", got)
	}
}
