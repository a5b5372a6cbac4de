package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/metrics"
)

// scrapeText GETs a /metrics handler or URL and returns the exposition.
func scrapeText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d\n%s", url, resp.StatusCode, b)
	}
	return string(b)
}

// sample is the value of the exposition's line for series (name and
// labels exactly as printed), or -1 when there is none.
func sample(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// TestServeMetricsFromSummary feeds the schedule's recorder the JSON that
// `run --json` prints (marshalled from the command's own summary type, so
// a renamed field shows here) and reads the series back.
func TestServeMetricsFromSummary(t *testing.T) {
	m := metrics.New(metrics.Options{})
	a := &app{stdout: io.Discard, stderr: io.Discard}
	a.log = newLogger(io.Discard, "error", "text")
	s := &serveSchedule{a: a, metrics: m}
	res := func(src, status string, r ingest.Report) ingest.SourceResult {
		r.Source = src
		return ingest.SourceResult{Report: r, Status: status}
	}
	sum := ingestSummary{Sources: []ingest.SourceResult{
		res("kings-fund", "ok", ingest.Report{New: 2, Updated: 1, Unchanged: 30, Merged: 1, Skipped: 4, Deferred: 5,
			Errors: []string{"ingest kings-fund: 5 new item(s) left for the next run (at most 20 item pages a run)"}}),
		res("mental-elf", "failing", ingest.Report{Errors: []string{
			"ingest mental-elf: feed: fetch https://www.nationalelfservice.net/feed/: timed out after 30s",
			"ingest mental-elf: item page https://www.nationalelfservice.net/x/: fetch https://www.nationalelfservice.net/x/: HTTP 404 Not Found (kept the feed's metadata)",
		}}),
		{Report: ingest.Report{Source: "national-voices"}, Status: ingest.StatusSkipped, Skipped: "not due until 2026-11-25T10:00:00Z"},
	}}
	out, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	s.observeIngest(exitFailure, out)
	s.observeIngest(exitFailure, []byte("evidence: config: bad\n")) // no summary: a failed job

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	text := scrapeText(t, srv.URL)
	for series, want := range map[string]float64{
		`evidence_ingest_jobs_total{status="failed"}`:                          2,
		`evidence_ingest_runs_total{source="kings-fund",status="ok"}`:          1,
		`evidence_ingest_runs_total{source="mental-elf",status="failing"}`:     1,
		`evidence_ingest_items_total{outcome="new",source="kings-fund"}`:       2,
		`evidence_ingest_items_total{outcome="updated",source="kings-fund"}`:   1,
		`evidence_ingest_items_total{outcome="unchanged",source="kings-fund"}`: 30,
		`evidence_ingest_items_total{outcome="merged",source="kings-fund"}`:    1,
		`evidence_ingest_items_total{outcome="skipped",source="kings-fund"}`:   4,
		`evidence_ingest_items_total{outcome="deferred",source="kings-fund"}`:  5,
		`evidence_fetch_errors_total{kind="timeout",source="mental-elf"}`:      1,
		`evidence_fetch_errors_total{kind="http_4xx",source="mental-elf"}`:     1,
	} {
		if got := sample(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if strings.Contains(text, `source="national-voices"`) || strings.Contains(text, `source="kings-fund",kind`) {
		t.Errorf("a skipped source or the deferred note was counted:\n%s", text)
	}
}

// TestServeMetrics runs evidence serve over the snapshots and scrapes
// /metrics once its first scheduled ingest is done: the ingest's runs and
// items, the requests served so far by route, and the gauges read from the
// store and index at scrape time.
func TestServeMetrics(t *testing.T) {
	bin := buildBinary(t)
	addr := startCountingReplay(t, func(int64) {})
	h := newHarness(t, bin, addr)
	h.env = append(h.env, "EVIDENCE_FETCH_RATE_PER_HOST=100")
	s := startServe(t, h)
	s.waitFor("the first scheduled ingest", func(doc map[string]any) bool {
		_, ok := doc["last_ingest"]
		return ok
	})
	if _, code := h.run("subscribers", "add", "reader@example.org"); code != 0 {
		t.Fatal("subscribers add beside serve failed")
	}
	if resp, err := http.Get(s.url + "/items/no-such-thing?q=abc"); err == nil {
		resp.Body.Close()
	}
	text := scrapeText(t, s.url+"/metrics")
	s.stop()

	for _, src := range []string{"mental-elf", "kings-fund", "centre-for-mental-health", "national-voices"} {
		if got := sample(text, `evidence_ingest_runs_total{source="`+src+`",status="ok"}`); got != 1 {
			t.Errorf("%s: ingest runs ok = %v, want 1", src, got)
		}
		if got := sample(text, `evidence_items{source="`+src+`"}`); got <= 0 {
			t.Errorf("%s: evidence_items = %v, want > 0", src, got)
		}
	}
	var stored float64
	for _, src := range []string{"mental-elf", "kings-fund", "centre-for-mental-health", "national-voices"} {
		stored += sample(text, `evidence_items{source="`+src+`"}`)
	}
	newItems := 0.0
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, `evidence_ingest_items_total{outcome="new"`) {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			newItems += v
		}
	}
	if newItems == 0 || newItems > stored {
		t.Errorf("new items counted %v, items stored %v", newItems, stored)
	}
	for series, want := range map[string]float64{
		`evidence_ingest_jobs_total{status="ok"}`:                            1,
		`evidence_subscribers{status="pending"}`:                             0,
		`evidence_subscribers{status="active"}`:                              1, // added by an operator: active at once
		`evidence_http_requests_total{route="GET /items/{id}",status="404"}`: 1,
	} {
		if got := sample(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if got := sample(text, `evidence_http_requests_total{route="GET /healthz",status="200"}`); got < 1 {
		t.Errorf("healthz requests = %v", got)
	}
	if got := sample(text, "evidence_index_documents"); got != stored {
		t.Errorf("evidence_index_documents = %v, want the %v items stored", got, stored)
	}
	if sample(text, "process_resident_memory_bytes") <= 0 || !bytes.Contains([]byte(text), []byte("go_goroutines ")) {
		t.Error("no runtime or process series")
	}
	if strings.Contains(text, "no-such-thing") {
		t.Error("a raw path reached a label")
	}
}
