package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testUA = "EvidenceTrackerTest/1.0 (+https://example.org/contact)"

// fakeClock is an injectable clock whose Sleep records the wait and moves
// time on, so rate limits and backoffs are asserted without real waiting.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// testServer is an httptest server that counts requests per path and
// records the Host headers it saw.
type testServer struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	hosts map[string]bool
	reqs  []*http.Request
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	ts := &testServer{hits: map[string]int{}, hosts: map[string]bool{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.hits[r.URL.Path]++
		ts.hosts[r.Host] = true
		ts.reqs = append(ts.reqs, r.Clone(context.Background()))
		ts.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) Hits(path string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.hits[path]
}

// Hosts returns the distinct Host headers received, sorted.
func (ts *testServer) Hosts() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []string
	for h := range ts.hosts {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// Requests returns copies of the requests received for path.
func (ts *testServer) Requests(path string) []*http.Request {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []*http.Request
	for _, r := range ts.reqs {
		if r.URL.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Addr is the server's host:port.
func (ts *testServer) Addr() string { return strings.TrimPrefix(ts.URL, "http://") }

// testOptions are fast defaults for tests: fake clock, no rate limit,
// robots.txt ignored (tests of those turn them back on).
func testOptions(clock *fakeClock) Options {
	return Options{
		UserAgent:    testUA,
		RatePerHost:  -1,
		IgnoreRobots: true,
		Timeout:      5 * time.Second,
		Now:          clock.Now,
		Sleep:        clock.Sleep,
	}
}

func newTestClient(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// robotsHandler serves body at /robots.txt and delegates the rest.
func robotsHandler(body string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			if body == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(body))
			return
		}
		next(w, r)
	}
}

func okHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}
}
