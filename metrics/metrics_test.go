package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencetracker/evidence/metrics"
)

// scrape GETs the handler and returns the text exposition.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	return string(body)
}

// hasLine reports whether the exposition has a sample line starting with
// prefix (series name, labels and the value's leading part).
func hasLine(text, prefix string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func wantLines(t *testing.T, text string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		if !hasLine(text, p) {
			t.Errorf("no line %q in the scrape", p)
		}
	}
}

func TestRuntimeAndProcessCollectors(t *testing.T) {
	text := scrape(t, metrics.New(metrics.Options{}))
	wantLines(t, text, "go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_start_time_seconds ")
	if strings.Contains(text, "evidence_subscribers") {
		t.Error("evidence_subscribers served without Stats")
	}
}

func TestObserveRequest(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveRequest("GET /items/{id}", 200, 30*time.Millisecond)
	m.ObserveRequest("GET /items/{id}", 200, 2*time.Millisecond)
	m.ObserveRequest("GET /items/{id}", 404, time.Millisecond)
	m.ObserveRequest("", 405, time.Millisecond)
	text := scrape(t, m)
	wantLines(t, text,
		`evidence_http_requests_total{route="GET /items/{id}",status="200"} 2`,
		`evidence_http_requests_total{route="GET /items/{id}",status="404"} 1`,
		`evidence_http_requests_total{route="other",status="405"} 1`,
		`evidence_http_request_duration_seconds_count{route="GET /items/{id}"} 3`,
		`evidence_http_request_duration_seconds_bucket{route="GET /items/{id}",le="0.001"} 1`,
		`evidence_http_request_duration_seconds_bucket{route="GET /items/{id}",le="0.025"} 2`,
		`evidence_http_request_duration_seconds_bucket{route="GET /items/{id}",le="+Inf"} 3`,
		"# TYPE evidence_http_request_duration_seconds histogram",
		"# TYPE evidence_http_requests_total counter",
	)
}

func TestObserveSearch(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveSearch("web", 4*time.Millisecond)
	m.ObserveSearch("api", 1500*time.Millisecond)
	m.ObserveSearch("", time.Millisecond)
	var observer func(via string, d time.Duration) = m.ObserveSearch // the search service's hook
	observer("web", 3*time.Second)
	text := scrape(t, m)
	wantLines(t, text,
		`evidence_search_duration_seconds_count{via="web"} 2`,
		`evidence_search_duration_seconds_bucket{via="web",le="0.005"} 1`,
		`evidence_search_duration_seconds_bucket{via="web",le="2"} 1`,
		`evidence_search_duration_seconds_bucket{via="api",le="1"} 0`,
		`evidence_search_duration_seconds_bucket{via="api",le="2"} 1`,
		`evidence_search_duration_seconds_bucket{via="api",le="0.001"} 0`,
		`evidence_search_duration_seconds_count{via="other"} 1`,
	)
}

func TestObserveIngest(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveIngestJob(true)
	m.ObserveIngestJob(false)
	m.ObserveIngest(metrics.IngestRun{Source: "kings-fund", Status: "ok", New: 3, Updated: 1, Unchanged: 40, Merged: 2})
	m.ObserveIngest(metrics.IngestRun{Source: "kings-fund", Status: "ok", New: 1})
	m.ObserveIngest(metrics.IngestRun{Source: "mental-elf", Status: "failing", Errors: []string{
		"ingest mental-elf: feed: fetch https://www.nationalelfservice.net/feed/: giving up after 2 retries: HTTP 503 Service Unavailable",
		"ingest mental-elf: item page https://www.nationalelfservice.net/x/: fetch https://www.nationalelfservice.net/x/: HTTP 404 Not Found (kept the feed's metadata)",
		"ingest mental-elf: 4 new item(s) left for the next run (at most 20 item pages a run)",
	}})
	m.ObserveIngest(metrics.IngestRun{Source: "national-voices", Status: "skipped", New: 9})
	text := scrape(t, m)
	wantLines(t, text,
		`evidence_ingest_jobs_total{status="ok"} 1`,
		`evidence_ingest_jobs_total{status="failed"} 1`,
		`evidence_ingest_runs_total{source="kings-fund",status="ok"} 2`,
		`evidence_ingest_runs_total{source="mental-elf",status="failing"} 1`,
		`evidence_ingest_items_total{outcome="new",source="kings-fund"} 4`,
		`evidence_ingest_items_total{outcome="unchanged",source="kings-fund"} 40`,
		`evidence_ingest_items_total{outcome="merged",source="kings-fund"} 2`,
		`evidence_ingest_items_total{outcome="deferred",source="kings-fund"} 0`,
		`evidence_fetch_errors_total{kind="http_5xx",source="mental-elf"} 1`,
		`evidence_fetch_errors_total{kind="http_4xx",source="mental-elf"} 1`,
	)
	if strings.Contains(text, "national-voices") {
		t.Error("a skipped source was counted")
	}
	if strings.Contains(text, `kind="other"`) {
		t.Error("the deferred-items note was counted as an error")
	}
}

func TestObserveDigest(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveDigest("sent", 120, 2)
	m.ObserveDigest("held", 0, 0)
	m.ObserveDigest("sent", 5, 0)
	text := scrape(t, m)
	wantLines(t, text,
		"evidence_digests_sent_total 125",
		"evidence_digests_failed_total 2",
		`evidence_digest_runs_total{status="sent"} 2`,
		`evidence_digest_runs_total{status="held"} 1`,
	)
}

func TestFetchErrorKind(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"ingest kings-fund: feed: fetch https://www.kingsfund.org.uk/feed: timed out after 30s", metrics.KindTimeout},
		{"ingest kings-fund: feed: fetch https://k/feed: giving up after 3 retries: timed out: read tcp: i/o timeout", metrics.KindTimeout},
		{"ingest kings-fund: sitemap: fetch https://k/sitemap.xml: HTTP 404 Not Found", metrics.KindHTTP4xx},
		{"ingest kings-fund: rate limited by the site (HTTP 429 after honouring Retry-After); no more requests this run: fetch https://k/: HTTP 429 Too Many Requests", metrics.KindHTTP4xx},
		{"ingest kings-fund: feed: fetch https://k/feed: giving up after 2 retries: HTTP 502 Bad Gateway", metrics.KindHTTP5xx},
		{"ingest kings-fund: blocked: fetch https://k/: blocked by the site (HTTP 403 Forbidden)", metrics.KindBlocked},
		{"ingest kings-fund: blocked: fetch https://k/: blocked by the site (HTTP 503 Service Unavailable, bot challenge page \"Just a moment...\")", metrics.KindBlocked},
		{"ingest kings-fund: item page https://k/x: page: extract: bot challenge page", metrics.KindBlocked},
		{"ingest kings-fund: feed: fetch https://k/feed: robots.txt unavailable, host not crawled this run: HTTP 503 Service Unavailable", metrics.KindRobots},
		{"ingest kings-fund: feed: fetch https://k/feed: disallowed by robots.txt for user agent \"EvidenceTracker\"", metrics.KindRobots},
		{"ingest kings-fund: feed https://k/feed: feed: parse: not a feed (got HTML document): invalid", metrics.KindParse},
		{"ingest kings-fund: sitemap https://k/s.xml: page: sitemap: malformed XML at line 3, column 1: unexpected EOF: invalid", metrics.KindParse},
		{"ingest kings-fund: item https://k/x: no title in any layer", metrics.KindParse},
		{"ingest kings-fund: feed: fetch https://k/feed: dial tcp 10.0.0.1:443: connect: connection refused", metrics.KindOther},
		{"ingest kings-fund: 3 item(s) could not be saved, to be retried next run (the first: store: database is locked)", metrics.KindOther},
		{"ingest kings-fund: 12 new item(s) left for the next run (at most 200 item pages a run)", ""},
		{"ingest kings-fund: context canceled", ""},
	}
	for _, tt := range tests {
		t.Run(tt.want+"/"+tt.msg[:min(len(tt.msg), 60)], func(t *testing.T) {
			if got := metrics.FetchErrorKind(tt.msg); got != tt.want {
				t.Errorf("FetchErrorKind(%q) = %q, want %q", tt.msg, got, tt.want)
			}
		})
	}
}

// fakeStats answers the scrape-time gauges; a nil map or fail makes the
// read fail; block makes it wait for the context.
type fakeStats struct {
	subs, items map[string]int
	docs        uint64
	failDocs    bool
	block       bool
	calls       atomic.Int32
}

var errFake = errors.New("database is locked")

func (f *fakeStats) CountSubscribers(ctx context.Context) (map[string]int, error) {
	f.calls.Add(1)
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if f.subs == nil {
		return nil, errFake
	}
	return f.subs, nil
}

func (f *fakeStats) ItemsBySource(context.Context) (map[string]int, error) {
	f.calls.Add(1)
	if f.items == nil {
		return nil, errFake
	}
	return f.items, nil
}

func (f *fakeStats) IndexDocuments(context.Context) (uint64, error) {
	f.calls.Add(1)
	if f.failDocs {
		return 0, errFake
	}
	return f.docs, nil
}

func TestScrapeTimeGauges(t *testing.T) {
	t.Run("read at each scrape", func(t *testing.T) {
		st := &fakeStats{subs: map[string]int{"active": 12, "pending": 0}, items: map[string]int{"kings-fund": 900, "mental-elf": 3}, docs: 903}
		m := metrics.New(metrics.Options{Stats: st})
		text := scrape(t, m)
		wantLines(t, text,
			`evidence_subscribers{status="active"} 12`,
			`evidence_subscribers{status="pending"} 0`,
			`evidence_items{source="kings-fund"} 900`,
			`evidence_items{source="mental-elf"} 3`,
			"evidence_index_documents 903",
			"# TYPE evidence_subscribers gauge",
		)
		st.items["mental-elf"] = 4
		if text := scrape(t, m); !hasLine(text, `evidence_items{source="mental-elf"} 4`) {
			t.Errorf("the second scrape did not read again:\n%s", text)
		}
	})
	t.Run("a failing read is left out and logged", func(t *testing.T) {
		var logs bytes.Buffer
		st := &fakeStats{items: map[string]int{"kings-fund": 1}, failDocs: true}
		m := metrics.New(metrics.Options{Stats: st, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		text := scrape(t, m)
		wantLines(t, text, `evidence_items{source="kings-fund"} 1`, "go_goroutines ")
		if strings.Contains(text, "evidence_subscribers{") || strings.Contains(text, "evidence_index_documents ") {
			t.Errorf("a failed read was served:\n%s", text)
		}
		if !strings.Contains(logs.String(), "database is locked") || !strings.Contains(logs.String(), "evidence_index_documents") {
			t.Errorf("log: %s", logs.String())
		}
	})
	t.Run("a slow read is cut short", func(t *testing.T) {
		st := &fakeStats{block: true, items: map[string]int{"kings-fund": 1}}
		m := metrics.New(metrics.Options{Stats: st, StatsTimeout: 20 * time.Millisecond})
		start := time.Now()
		text := scrape(t, m)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("scrape took %v", took)
		}
		wantLines(t, text, `evidence_items{source="kings-fund"} 1`)
	})
}

func TestRegistriesAreSeparate(t *testing.T) {
	a, b := metrics.New(metrics.Options{}), metrics.New(metrics.Options{})
	a.ObserveRequest("GET /healthz", 200, time.Millisecond)
	if text := scrape(t, b); strings.Contains(text, "evidence_http_requests_total{") {
		t.Error("a request observed on one Metrics shows on another")
	}
}
