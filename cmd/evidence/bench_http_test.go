package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/internal/bench"
)

var benchFeed = filepath.Join("..", "..", bench.DefaultFeedPath)

// servesSearch reports whether the server's own handler routes both
// benchmarked endpoints.
func servesSearch(h http.Handler) bool {
	for _, p := range []string{"/search?q=care", "/api/v1/search?q=care"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code == http.StatusNotFound {
			return false
		}
	}
	return true
}

// fakeSearch serves the two endpoints when the server does not route them
// yet (the search pages are being written): a small HTML page and a JSON
// document, everything else by the server.
func fakeSearch(t *testing.T) func(http.Handler) http.Handler {
	return func(real http.Handler) http.Handler {
		if servesSearch(real) {
			return real
		}
		t.Log("the server does not route GET /search and GET /api/v1/search yet: the benchmark loads a fake of them")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/search":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, "<!doctype html><title>Search</title><p>"+r.URL.Query().Get("q"))
			case "/api/v1/search":
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"query": r.URL.Query().Get("q"), "total": 0, "hits": []any{}})
			default:
				real.ServeHTTP(w, r)
			}
		})
	}
}

// TestBenchHTTPReport runs the benchmark on a tiny corpus (200 items, 4
// clients, 1 s a run, with ingest) through the server serve builds, and
// checks the report's structure; a second run reuses the cached data dir.
func TestBenchHTTPReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a data dir and loads a server for two seconds; skipped with -short")
	}
	l, err := config.Load(config.LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	a := &app{stdout: io.Discard, stderr: &stderr, loaded: l}
	a.log = newLogger(&stderr, "warn", "text")
	cache := t.TempDir()
	f := &benchHTTPFlags{items: 200, clients: 4, duration: time.Second, ingest: true, seed: 1, feed: benchFeed, cache: cache, json: true}
	rep, err := a.benchHTTP(t.Context(), f, fakeSearch(t))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if rep.Items != 200 || rep.Clients != 4 || rep.DurationS != 1 || rep.Reused || rep.BuildS <= 0 || !strings.HasPrefix(rep.DataDir, cache) {
		t.Errorf("report header: %+v", rep)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Name != "without ingest" || rep.Runs[1].Name != "with ingest" {
		t.Fatalf("runs: %+v", rep.Runs)
	}
	for _, run := range rep.Runs {
		if len(run.Endpoints) != 2 || run.Endpoints[0].Endpoint != bench.EndpointSearchPage || run.Endpoints[1].Endpoint != bench.EndpointSearchAPI {
			t.Fatalf("%s: endpoints %+v", run.Name, run.Endpoints)
		}
		for _, ep := range run.Endpoints {
			if ep.Requests == 0 || ep.RequestsPerS <= 0 || ep.P50MS <= 0 || ep.P50MS > ep.P95MS || ep.P95MS > ep.P99MS || ep.P99MS > ep.MaxMS {
				t.Errorf("%s %s: %+v", run.Name, ep.Endpoint, ep)
			}
			if ep.Errors != 0 {
				t.Errorf("%s %s: %d errors %v %s", run.Name, ep.Endpoint, ep.Errors, ep.ErrorsBy, ep.FirstError)
			}
		}
		if runtime.GOOS == "linux" && (run.PeakRSSBytes == 0 || run.RSSBytes == 0) {
			t.Errorf("%s: RSS peak %d, now %d on Linux", run.Name, run.PeakRSSBytes, run.RSSBytes)
		}
		if run.WallS < 1 {
			t.Errorf("%s: wall %.2fs, want at least the duration", run.Name, run.WallS)
		}
	}
	if rep.Runs[0].Ingest != nil {
		t.Error("the run without ingest has an ingest")
	}
	if in := rep.Runs[1].Ingest; in == nil || in.Items == 0 || in.Indexed == 0 || in.Errors != 0 || in.Batches == 0 {
		t.Errorf("ingest beside the clients: %+v", in)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("bench http table:\n%s", table.String())
	for _, want := range []string{"without ingest", "with ingest", "GET /search", "GET /api/v1/search", "p99 ms", "items/s", "peak RSS"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	// Again without ingest: the cached data dir, unchanged by the ingest
	// (which ran on a copy), is reused.
	f.ingest = false
	rep2, err := a.benchHTTP(t.Context(), f, fakeSearch(t))
	if err != nil {
		t.Fatal(err)
	}
	if !rep2.Reused || rep2.DataDir != rep.DataDir || len(rep2.Runs) != 1 {
		t.Errorf("second run: reused %v, dir %s (first %s), %d runs", rep2.Reused, rep2.DataDir, rep.DataDir, len(rep2.Runs))
	}
	var n struct{ Total int }
	if code := runInData(t, rep.DataDir, &n, "search", "", "--json"); code != 0 || n.Total != 200 {
		t.Errorf("cached data dir after the runs: exit %d, %d items, want 200", code, n.Total)
	}
}

// runInData runs the CLI on a data dir and decodes its JSON.
func runInData(t *testing.T, dir string, v any, args ...string) int {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), append([]string{"--data", dir, "--log-level", "warn"}, args...), &out, &errb)
	if code == 0 {
		if err := json.Unmarshal(out.Bytes(), v); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	return code
}

// TestBenchHTTPRouteNotServed: until the server routes the search pages,
// `bench http` fails at once saying so, instead of timing 404s.
func TestBenchHTTPRouteNotServed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a data dir; skipped with -short")
	}
	out, errs, code := runCLI(t, "bench", "http", "--items", "50", "--clients", "2", "--duration", "1s", "--json",
		"--feed", benchFeed, "--med", "", "--cache", t.TempDir())
	if code == 0 {
		if strings.Contains(out, `"runs"`) {
			t.Skip("the server routes GET /search and GET /api/v1/search now: nothing to refuse")
		}
		t.Fatalf("exit 0 without a report:\n%s", out)
	}
	if code != 1 || !strings.Contains(errs, "route not served") || !strings.Contains(errs, "GET /search") || out != "" {
		t.Errorf("exit %d\nstdout %q\nstderr %s", code, out, errs)
	}
}
