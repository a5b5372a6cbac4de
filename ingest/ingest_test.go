package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/store"
)

const goodFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Good</title><link>https://%[1]s/</link>
<item><title>Peer support in crisis care</title><link>https://%[1]s/mental-health/peer-support-crisis/?utm_source=rss&amp;utm_medium=rss</link>
<pubDate>Mon, 16 Nov 2026 09:00:00 +0000</pubDate><dc:creator>Ann Author</dc:creator>
<content:encoded><![CDATA[<p>See <a href="https://doi.org/10.1000/XYZ123">the trial</a> and
<a href="https://%[1]s/mental-health/social-prescribing-review/?utm_campaign=x">our earlier post</a>.</p>]]></content:encoded></item>
<item><title>Social prescribing: a review</title><link>https://%[1]s/mental-health/social-prescribing-review/</link>
<pubDate>Fri, 13 Nov 2026 09:00:00 +0000</pubDate></item>
<item><title>An attachment, not an item</title><link>https://%[1]s/mental-health/social-prescribing-review/attachment/figure-1/</link></item>
</channel></rss>`

// A feed in ISO-8859-1 whose title has an é (byte 0xE9).
const latin1Feed = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<rss version=\"2.0\"><channel><title>L</title><link>https://latin1.test/</link>" +
	"<item><title>Caf\xe9 conversations about recovery</title><link>https://latin1.test/mental-health/cafe-recovery/</link><pubDate>Mon, 16 Nov 2026 09:00:00 +0000</pubDate></item></channel></rss>"

const garbageDates = `<?xml version="1.0"?><rss version="2.0"><channel><title>D</title><link>https://dates.test/</link>
<item><title>One</title><link>https://dates.test/mental-health/one/</link><pubDate>Thursday, 32 Foo 2026</pubDate></item>
<item><title>Two</title><link>https://dates.test/mental-health/two/</link><pubDate>yesterday-ish</pubDate></item>
</channel></rss>`

// faultServer answers for several fake publisher hosts, each with its own
// kind of bad input. release unblocks the host that never answers.
func faultServer(t *testing.T) (srv *httptest.Server, release chan struct{}) {
	t.Helper()
	release = make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		switch r.Host {
		case "good.test":
			if r.URL.Path != "/feed/" {
				http.NotFound(w, r) // no item pages: the feed's metadata is kept
				return
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, goodFeed, r.Host)
		case "malformed.test":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><item><title>Broken</title></channel>`)
		case "html.test":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>`)
		case "empty.test":
			w.Header().Set("Content-Type", "application/rss+xml")
		case "huge.test":
			w.Header().Set("Content-Type", "application/rss+xml")
			chunk := []byte(strings.Repeat(" ", 1<<20))
			for range 50 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "slow.test":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "loop.test":
			http.Redirect(w, r, "https://loop.test/feed/", http.StatusFound)
		case "latin1.test":
			if r.URL.Path != "/feed/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, latin1Feed)
		case "dates.test":
			if r.URL.Path != "/feed/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, garbageDates)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv, release
}

func compile(t *testing.T, host string) Source {
	t.Helper()
	s, err := Compile(SourceSpec{
		ID: strings.TrimSuffix(host, ".test"), Name: host, Home: "https://" + host + "/",
		Feeds: []string{"https://" + host + "/feed/"}, PreferredHost: host, TrailingSlash: "add",
		Exclude: []string{"/attachment/"}, DefaultType: evidence.TypeBlog,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadInputIsReportedPerSource(t *testing.T) {
	srv, _ := faultServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	hosts := []string{"good.test", "malformed.test", "html.test", "empty.test", "huge.test", "slow.test", "loop.test", "latin1.test", "dates.test"}
	connect := map[string]string{}
	var sources []Source
	for _, h := range hosts {
		connect[h] = addr
		sources = append(sources, compile(t, h))
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: t.TempDir() + "/e.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fc, err := fetch.New(fetch.Options{
		UserAgent: "EvidenceTrackerTest/1 (+https://example.org)", ConnectTo: connect,
		Timeout: 2 * time.Second, Retries: -1, RatePerHost: -1, MaxBodyBytes: 15 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := New(Options{Store: st, Fetcher: fc, Sources: sources, Concurrency: len(sources)})
	reports := p.Run(ctx, sources, RunOptions{})

	tests := []struct {
		source  string
		wantErr string // "" for a source that must succeed
		wantNew int
	}{
		{"good", "", 2},
		{"malformed", "XML", 0},
		{"html", "HTML", 0},
		{"empty", "empty", 0},
		{"huge", "15 MiB", 0},
		{"slow", "timed out", 0},
		{"loop", "redirect", 0},
		{"latin1", "", 1},
		{"dates", "", 2},
	}
	byID := map[string]Report{}
	for _, r := range reports {
		byID[r.Source] = r
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			r, ok := byID[tt.source]
			if !ok {
				t.Fatalf("no report for %s", tt.source)
			}
			if r.New != tt.wantNew {
				t.Errorf("new = %d, want %d (errors %v)", r.New, tt.wantNew, r.Errors)
			}
			if tt.wantErr == "" {
				if r.Err != nil {
					t.Errorf("unexpected failure: %v", r.Err)
				}
				return
			}
			if r.Err == nil {
				t.Fatalf("want an error mentioning %q, got none", tt.wantErr)
			}
			msg := r.Err.Error()
			if !strings.Contains(msg, "ingest "+tt.source) || !strings.Contains(strings.ToLower(msg), strings.ToLower(tt.wantErr)) {
				t.Errorf("error %q should name the source and say %q", msg, tt.wantErr)
			}
		})
	}

	t.Run("good items are canonical, typed and linked", func(t *testing.T) {
		it, err := st.ItemByURL(ctx, "https://good.test/mental-health/peer-support-crisis/")
		if err != nil {
			t.Fatal(err)
		}
		if it.Source != "good" || it.Type != evidence.TypeBlog || len(it.Authors) != 1 {
			t.Errorf("item = %+v", it)
		}
		if len(it.Cites) != 1 || it.Cites[0].DOI != "10.1000/xyz123" {
			t.Errorf("cites = %+v, want the DOI", it.Cites)
		}
		target, err := st.ItemByURL(ctx, "https://good.test/mental-health/social-prescribing-review/")
		if err != nil {
			t.Fatal(err)
		}
		if len(it.Discusses) != 1 || it.Discusses[0] != target.ID {
			t.Errorf("discusses = %v, want [%s] (utm-tagged link resolved to the canonical item)", it.Discusses, target.ID)
		}
	})
	t.Run("latin1 title decoded", func(t *testing.T) {
		it, err := st.ItemByURL(ctx, "https://latin1.test/mental-health/cafe-recovery/")
		if err != nil {
			t.Fatal(err)
		}
		if it.Title != "Café conversations about recovery" {
			t.Errorf("title = %q", it.Title)
		}
	})
	t.Run("garbage dates stored as null and reported", func(t *testing.T) {
		r := byID["dates"]
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[len(r.Errors)-1], "valid date") {
			t.Errorf("errors = %v, want one saying no item has a valid date", r.Errors)
		}
		it, err := st.ItemByURL(ctx, "https://dates.test/mental-health/one/")
		if err != nil {
			t.Fatal(err)
		}
		if it.Published != nil {
			t.Errorf("published = %v, want null", it.Published)
		}
	})
	n, _ := st.CountItems(ctx)
	if n != 5 {
		t.Errorf("store holds %d items, want 5 (2 good + 1 latin1 + 2 dates)", n)
	}
}

func TestCancelledRunKeepsWhatWasSaved(t *testing.T) {
	srv, _ := faultServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: t.TempDir() + "/e.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fc, _ := fetch.New(fetch.Options{UserAgent: "T/1 (+https://example.org)", RatePerHost: -1, Retries: -1,
		ConnectTo: map[string]string{"good.test": addr, "slow.test": addr}, Timeout: time.Minute})
	good, slow := compile(t, "good.test"), compile(t, "slow.test")
	p := New(Options{Store: st, Fetcher: fc, Sources: []Source{good, slow}})
	if r := p.RunSource(ctx, good, RunOptions{}); r.New != 2 || r.Interrupted {
		t.Fatalf("good: %+v", r)
	}
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	r := p.RunSource(cctx, slow, RunOptions{})
	if r.Err == nil || !r.Interrupted {
		t.Errorf("cancelled run: err %v, interrupted %v; want an error and interrupted", r.Err, r.Interrupted)
	}
	if n, _ := st.CountItems(ctx); n != 2 {
		t.Errorf("after cancel the store holds %d items, want 2", n)
	}
	// Sources still waiting for their turn when the run is cancelled are
	// interrupted too.
	done, stop := context.WithCancel(ctx)
	stop()
	for _, r := range p.Run(done, []Source{good, slow}, RunOptions{}) {
		if !r.Interrupted || r.Err == nil {
			t.Errorf("%s in a cancelled run: err %v, interrupted %v", r.Source, r.Err, r.Interrupted)
		}
	}
}

func TestCanonicalUsesOwningSourceRules(t *testing.T) {
	kf, err := Compile(SourceSpec{ID: "kings-fund", Home: "https://www.kingsfund.org.uk/", PreferredHost: "www.kingsfund.org.uk", TrailingSlash: "strip"})
	if err != nil {
		t.Fatal(err)
	}
	me, err := Compile(SourceSpec{ID: "mental-elf", Home: "https://www.nationalelfservice.net/", PreferredHost: "www.nationalelfservice.net", TrailingSlash: "add"})
	if err != nil {
		t.Fatal(err)
	}
	p := New(Options{Sources: []Source{kf, me}})
	tests := []struct{ in, want string }{
		{"http://kingsfund.org.uk/insight-and-analysis/reports/x/?utm_source=t", "https://www.kingsfund.org.uk/insight-and-analysis/reports/x"},
		{"https://nationalelfservice.net/mental-health/y?utm_medium=rss#c", "https://www.nationalelfservice.net/mental-health/y/"},
		{"https://example.org/a/?fbclid=1&b=2", "https://example.org/a/?b=2"},
		{"mailto:someone@example.org", ""},
	}
	for _, tt := range tests {
		if got := p.Canonical(tt.in); got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
