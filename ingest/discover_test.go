package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/store"
)

// A source with no feeds configured reads the feed its home page
// advertises on every run, also when the home page answers 304 because it
// has not changed since the last one (the feeds it advertised are
// remembered).
func TestDiscoveredFeedIsReadEveryRun(t *testing.T) {
	const host = "disc.test"
	var mu sync.Mutex
	feedGets := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("ETag", `"home-1"`)
			if r.Header.Get("If-None-Match") == `"home-1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Home</title>
<link rel="alternate" type="application/rss+xml" title="Posts" href="/feed/"></head><body><p>Welcome</p></body></html>`)
		case "/feed/":
			mu.Lock()
			feedGets++
			mu.Unlock()
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, goodFeed, r.Host)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	src, err := Compile(SourceSpec{
		ID: "disc", Name: host, Home: "https://" + host + "/", PreferredHost: host, TrailingSlash: "add",
		Exclude: []string{"/attachment/"}, DefaultType: evidence.TypeBlog,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: t.TempDir() + "/d.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fc, err := fetch.New(fetch.Options{
		UserAgent: "EvidenceTrackerTest/1 (+https://example.org)", ConnectTo: map[string]string{host: strings.TrimPrefix(srv.URL, "http://")},
		Timeout: 2 * time.Second, Retries: -1, RatePerHost: -1, MaxBodyBytes: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := New(Options{Store: st, Fetcher: fc, Sources: []Source{src}})
	for run := 1; run <= 2; run++ {
		reports := p.Run(ctx, []Source{src}, RunOptions{})
		if len(reports) != 1 || reports[0].Err != nil {
			t.Fatalf("run %d: %+v", run, reports)
		}
		mu.Lock()
		got := feedGets
		mu.Unlock()
		if got != run {
			t.Errorf("run %d: the advertised feed was fetched %d time(s) in all, want %d", run, got, run)
		}
		if run == 2 && reports[0].NotModified == 0 {
			t.Errorf("run 2: the home page was not asked for conditionally: %+v", reports[0])
		}
		if run == 1 && reports[0].New != 2 {
			t.Errorf("run 1: %d new, want the feed's 2 (errors %v)", reports[0].New, reports[0].Errors)
		}
	}
}
