package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/metrics"
	"github.com/evidencetracker/evidence/web"
)

// fakeMetrics records what observe reports.
type fakeMetrics struct {
	mu   sync.Mutex
	seen []observed
}

type observed struct {
	route  string
	status int
}

func (f *fakeMetrics) ObserveRequest(route string, status int, took time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, observed{route, status})
}

func (f *fakeMetrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fake_metric 1\n") })
}

func (f *fakeMetrics) last() observed {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		return observed{}
	}
	return f.seen[len(f.seen)-1]
}

// panickyArchive serves one week and panics on another.
type panickyArchive struct{ fakeArchive }

func (p panickyArchive) Archived(ctx context.Context, week string) (evidence.ArchivedDigest, error) {
	if week == "2026-W13" {
		panic("boom")
	}
	return p.fakeArchive.Archived(ctx, week)
}

func TestMetricsRoutePatterns(t *testing.T) {
	fm := &fakeMetrics{}
	arch := panickyArchive{fakeArchive{list: []evidence.ArchivedDigest{{Week: "2026-W47", Title: "t", HTML: "<p>x</p>", Text: "x"}}}}
	w, err := web.New(web.Options{Digests: arch, Metrics: fm, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	tests := []struct {
		method, path string
		want         observed
	}{
		{"GET", "/digests/2026-W47", observed{"GET /digests/{week}", 200}},
		{"GET", "/digests/2026-W01", observed{"GET /digests/{week}", 404}},
		{"GET", "/digests/2026-W13", observed{"GET /digests/{week}", 500}}, // a panic, recovered inside observe
		{"GET", "/digests", observed{"GET /digests", 200}},
		{"GET", "/healthz", observed{"GET /healthz", 200}},
		{"HEAD", "/healthz", observed{"GET /healthz", 200}},
		{"POST", "/healthz", observed{"other", 405}},
		{"GET", "/no/such/page", observed{"other", 404}}, // the catch-all "not found" page
		{"GET", "/static/site.css", observed{"GET /static/", 200}},
		{"GET", "/metrics", observed{"GET /metrics", 200}},
		// An unclean path is redirected to its cleaned form: the route is
		// the pattern it would match, never the raw path.
		{"GET", "/digests/../digests/2026-W47", observed{"GET /digests/{week}", 307}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = tt.path // keep "..": the client would clean it
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want.status)
			}
			got := fm.last()
			if got.route == "" {
				got.route = "other" // what metrics.Metrics makes of ""
			}
			if got != tt.want {
				t.Errorf("observed %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Run("absent without Metrics", func(t *testing.T) {
		w, err := web.New(web.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(w.Handler())
		defer srv.Close()
		if code, _, _ := get(t, http.DefaultClient, srv.URL+"/metrics"); code != 404 {
			t.Errorf("/metrics without Metrics = %d, want 404", code)
		}
	})
	t.Run("served by the metrics package", func(t *testing.T) {
		w, err := web.New(web.Options{Metrics: metrics.New(metrics.Options{})})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(w.Handler())
		defer srv.Close()
		get(t, http.DefaultClient, srv.URL+"/healthz")
		get(t, http.DefaultClient, srv.URL+"/nothing-here/12345")
		code, body, h := get(t, http.DefaultClient, srv.URL+"/metrics")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("/metrics = %d %q %q", code, h.Get("Content-Type"), h.Get("Cache-Control"))
		}
		for _, want := range []string{
			`evidence_http_requests_total{route="GET /healthz",status="200"} 1`,
			`evidence_http_requests_total{route="other",status="404"} 1`,
			`evidence_http_request_duration_seconds_count{route="GET /healthz"} 1`,
			"go_goroutines ",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("no %q in /metrics", want)
			}
		}
		if strings.Contains(body, "12345") {
			t.Error("a raw path reached a label")
		}
	})
}
