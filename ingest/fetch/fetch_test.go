package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no user agent", Options{}, "UserAgent is required"},
		{"blank user agent", Options{UserAgent: "  "}, "UserAgent is required"},
		{"connect-to without port", Options{UserAgent: testUA, ConnectTo: map[string]string{"www.example.org": "127.0.0.1"}}, "must be HOST:PORT"},
		{"connect-to empty host", Options{UserAgent: testUA, ConnectTo: map[string]string{"": "127.0.0.1:80"}}, "empty host"},
		{"ok", Options{UserAgent: testUA}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				defer c.Close()
				o := c.opts
				if o.Timeout != DefaultTimeout || o.MaxBodyBytes != DefaultMaxBodyBytes || o.MaxRedirects != DefaultMaxRedirects ||
					o.RatePerHost != DefaultRatePerHost || o.Retries != DefaultRetries || o.MaxRetryWait != DefaultMaxRetryWait {
					t.Errorf("defaults not applied: %+v", o)
				}
				if c.agent != "EvidenceTrackerTest" {
					t.Errorf("agent = %q", c.agent)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestGetInvalidURL(t *testing.T) {
	c := newTestClient(t, testOptions(newFakeClock()))
	for _, raw := range []string{"ftp://example.org/x", "/relative", "http://", "::"} {
		t.Run(raw, func(t *testing.T) {
			_, err := c.Get(context.Background(), raw, evidence.FetchState{})
			if err == nil || !strings.Contains(err.Error(), "invalid URL") || !strings.Contains(err.Error(), "fetch "+raw) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestConditionalGet(t *testing.T) {
	const etag = `"v1"`
	const lastMod = "Mon, 05 Jan 2026 08:00:00 GMT"
	const body = "<rss><channel><title>Elf</title></channel></rss>"
	tests := []struct {
		name            string
		etag, lastMod   string
		wantHeader      string // request header the 2nd request must carry
		ignoreValidator bool   // server always sends 200
	}{
		{name: "etag", etag: etag, wantHeader: "If-None-Match"},
		{name: "last-modified", lastMod: lastMod, wantHeader: "If-Modified-Since"},
		{name: "both", etag: etag, lastMod: lastMod, wantHeader: "If-None-Match"},
		{name: "server ignores validators", etag: etag, wantHeader: "If-None-Match", ignoreValidator: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.etag != "" {
					w.Header().Set("ETag", tt.etag)
				}
				if tt.lastMod != "" {
					w.Header().Set("Last-Modified", tt.lastMod)
				}
				if !tt.ignoreValidator && ((tt.etag != "" && r.Header.Get("If-None-Match") == tt.etag) ||
					(tt.etag == "" && tt.lastMod != "" && r.Header.Get("If-Modified-Since") == tt.lastMod)) {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("Content-Type", "application/rss+xml")
				_, _ = w.Write([]byte(body))
			})
			clock := newFakeClock()
			c := newTestClient(t, testOptions(clock))
			ctx := context.Background()
			u := ts.URL + "/feed/"

			r1, err := c.Get(ctx, u, evidence.FetchState{})
			if err != nil {
				t.Fatalf("first Get: %v", err)
			}
			sum := sha256.Sum256([]byte(body))
			want1 := evidence.FetchState{URL: u, ETag: tt.etag, LastModified: tt.lastMod,
				ContentHash: hex.EncodeToString(sum[:]), FetchedAt: clock.Now()}
			if r1.Status != 200 || r1.NotModified || string(r1.Body) != body || r1.State != want1 {
				t.Fatalf("first response: status %d notModified %v body %q state %+v, want state %+v",
					r1.Status, r1.NotModified, r1.Body, r1.State, want1)
			}
			if r1.ContentType != "application/rss+xml" {
				t.Errorf("ContentType = %q", r1.ContentType)
			}

			clock.Advance(time.Hour)
			r2, err := c.Get(ctx, u, r1.State)
			if err != nil {
				t.Fatalf("second Get: %v", err)
			}
			reqs := ts.Requests("/feed/")
			if got := reqs[len(reqs)-1].Header.Get(tt.wantHeader); got == "" {
				t.Errorf("second request lacks %s", tt.wantHeader)
			}
			want2 := want1
			want2.FetchedAt = clock.Now()
			if r2.State != want2 {
				t.Errorf("second state = %+v, want %+v", r2.State, want2)
			}
			st := c.Stats()
			if st.Requests != 2 || st.Conditional != 1 {
				t.Errorf("stats = %+v, want 2 requests, 1 conditional", st)
			}
			if tt.ignoreValidator {
				if r2.NotModified || !r2.Unchanged || string(r2.Body) != body {
					t.Errorf("want 200 Unchanged, got notModified %v unchanged %v", r2.NotModified, r2.Unchanged)
				}
				return
			}
			if !r2.NotModified || r2.Status != http.StatusNotModified || len(r2.Body) != 0 || st.NotModified != 1 {
				t.Errorf("want 304 NotModified with empty body, got status %d notModified %v body %q stats %+v",
					r2.Status, r2.NotModified, r2.Body, st)
			}
		})
	}
}

func TestConditionalOnlyForSameURL(t *testing.T) {
	ts := newTestServer(t, okHandler("x"))
	c := newTestClient(t, testOptions(newFakeClock()))
	prev := evidence.FetchState{URL: ts.URL + "/other", ETag: `"a"`, LastModified: "Mon, 05 Jan 2026 08:00:00 GMT"}
	if _, err := c.Get(context.Background(), ts.URL+"/feed", prev); err != nil {
		t.Fatal(err)
	}
	r := ts.Requests("/feed")[0]
	if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" || c.Stats().Conditional != 0 {
		t.Errorf("validators of another URL were sent: %v", r.Header)
	}
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipBomb compresses n zero bytes quickly (a few KiB of gzip).
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zeros))
		if _, err := zw.Write(zeros[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBodyCap(t *testing.T) {
	bomb := gzipBomb(t, 16<<20+1) // just over the 15 MiB cap once decompressed
	tests := []struct {
		name    string
		path    string
		max     int64
		handler http.HandlerFunc
		wantMsg string
	}{
		{
			name: "16 MiB streamed", path: "/big", wantMsg: "body exceeds 15 MiB limit",
			handler: func(w http.ResponseWriter, r *http.Request) {
				chunk := bytes.Repeat([]byte("a"), 1<<20)
				for range 16 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
		},
		{
			name: "Content-Length over cap", path: "/declared", max: 1 << 10, wantMsg: "body exceeds 1 KiB limit (Content-Length 2048)",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "2048")
				_, _ = w.Write(make([]byte, 2048))
			},
		},
		{
			name: "gzip bomb", path: "/feed/", wantMsg: "decompressed body exceeds 15 MiB limit",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", "application/xml")
				_, _ = w.Write(bomb)
			},
		},
		{
			name: "gzip file bomb", path: "/sitemap.xml.gz", wantMsg: "decompressed body exceeds 15 MiB limit",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-gzip")
				_, _ = w.Write(bomb)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.handler)
			opts := testOptions(newFakeClock())
			opts.MaxBodyBytes = tt.max
			c := newTestClient(t, opts)
			u := ts.URL + tt.path
			_, err := c.Get(context.Background(), u, evidence.FetchState{})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if want := "fetch " + u + ": " + tt.wantMsg; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
			if st := c.Stats(); st.Requests != 1 || st.Retries != 0 {
				t.Errorf("stats = %+v, want one request, no retry", st)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name         string
		retries      int
		wantRequests int64
		wantMsg      string
	}{
		{"no retries", -1, 1, "timed out after 200ms"},
		{"retried then given up", 2, 3, "giving up after 2 retries: timed out after 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			t.Cleanup(func() { close(release) }) // runs before the server closes
			opts := testOptions(newFakeClock())
			opts.Timeout = 200 * time.Millisecond
			opts.Retries = tt.retries
			c := newTestClient(t, opts)
			u := ts.URL + "/never"
			_, err := c.Get(context.Background(), u, evidence.FetchState{})
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			if want := "fetch " + u + ": " + tt.wantMsg; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
			if got := c.Stats().Requests; got != tt.wantRequests {
				t.Errorf("requests = %d, want %d", got, tt.wantRequests)
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	var ts *testServer
	ts = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/a":
			http.Redirect(w, r, "/b", http.StatusMovedPermanently)
		case p == "/b":
			http.Redirect(w, r, ts.URL+"/c?x=1", http.StatusFound)
		case p == "/c":
			_, _ = w.Write([]byte("final"))
		case p == "/p":
			w.Header().Set("Location", "q")
			w.WriteHeader(http.StatusPermanentRedirect)
		case p == "/q":
			_, _ = w.Write([]byte("q"))
		case p == "/loop1":
			http.Redirect(w, r, "/loop2", http.StatusFound)
		case p == "/loop2":
			http.Redirect(w, r, "/loop1", http.StatusTemporaryRedirect)
		case strings.HasPrefix(p, "/r/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(p, "/r/"))
			http.Redirect(w, r, fmt.Sprintf("/r/%d", n+1), http.StatusMovedPermanently)
		case p == "/noloc":
			w.WriteHeader(http.StatusMovedPermanently)
		}
	})
	tests := []struct {
		name          string
		path          string
		maxRedirects  int
		wantURL       string
		wantRedirects []string
		wantErr       string
	}{
		{name: "chain", path: "/a", wantURL: ts.URL + "/c?x=1", wantRedirects: []string{ts.URL + "/a", ts.URL + "/b"}},
		{name: "relative 308", path: "/p", wantURL: ts.URL + "/q", wantRedirects: []string{ts.URL + "/p"}},
		{name: "none", path: "/c", wantURL: ts.URL + "/c"},
		{name: "loop", path: "/loop1", wantErr: "fetch " + ts.URL + "/loop1: redirect loop: " +
			ts.URL + "/loop1 → " + ts.URL + "/loop2 → " + ts.URL + "/loop1"},
		{name: "too many", path: "/r/1", maxRedirects: 3, wantErr: "fetch " + ts.URL + "/r/1: more than 3 redirects: " +
			ts.URL + "/r/1 → " + ts.URL + "/r/2 → " + ts.URL + "/r/3 → " + ts.URL + "/r/4 → " + ts.URL + "/r/5"},
		{name: "redirects disabled", path: "/a", maxRedirects: -1, wantErr: "more than 0 redirects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(newFakeClock())
			opts.MaxRedirects = tt.maxRedirects
			c := newTestClient(t, opts)
			resp, err := c.Get(context.Background(), ts.URL+tt.path, evidence.FetchState{})
			if tt.wantErr != "" {
				if !errors.Is(err, ErrTooManyRedirects) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrTooManyRedirects %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if resp.URL != tt.wantURL || !slices.Equal(resp.Redirects, tt.wantRedirects) {
				t.Errorf("URL %q redirects %q, want %q %q", resp.URL, resp.Redirects, tt.wantURL, tt.wantRedirects)
			}
			if resp.State.URL != ts.URL+tt.path {
				t.Errorf("State.URL = %q, want the requested URL", resp.State.URL)
			}
		})
	}
	t.Run("no Location", func(t *testing.T) {
		c := newTestClient(t, testOptions(newFakeClock()))
		_, err := c.Get(context.Background(), ts.URL+"/noloc", evidence.FetchState{})
		var se *StatusError
		if !errors.As(err, &se) || se.Status != http.StatusMovedPermanently {
			t.Fatalf("err = %v, want StatusError 301", err)
		}
	})
}

func TestRetry(t *testing.T) {
	clockNow := newFakeClock().Now()
	type reply struct {
		status     int
		retryAfter string
	}
	tests := []struct {
		name         string
		replies      []reply // the last one repeats
		wantErr      string
		wantStatus   int // of the StatusError when wantErr
		wantRequests int64
		wantSleeps   []time.Duration // exact waits; nil with wantRange
		wantRange    [][2]time.Duration
	}{
		{name: "503 then 200 honours Retry-After seconds", replies: []reply{{503, "7"}, {200, ""}},
			wantRequests: 2, wantSleeps: []time.Duration{7 * time.Second}},
		{name: "429 then 200 honours Retry-After date", replies: []reply{{429, clockNow.Add(30 * time.Second).Format(http.TimeFormat)}, {200, ""}},
			wantRequests: 2, wantSleeps: []time.Duration{30 * time.Second}},
		{name: "500s back off exponentially with jitter", replies: []reply{{500, ""}, {502, ""}, {200, ""}},
			wantRequests: 3, wantRange: [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}}},
		{name: "429 storm gives up", replies: []reply{{429, "1"}}, wantRequests: 4, wantStatus: 429,
			wantErr: "giving up after 3 retries: HTTP 429 Too Many Requests", wantSleeps: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "Retry-After beyond cap", replies: []reply{{503, "3600"}}, wantRequests: 1, wantStatus: 503,
			wantErr: "HTTP 503 Service Unavailable with Retry-After 1h0m0s, beyond the 2m0s retry-wait cap: giving up"},
		{name: "404 not retried", replies: []reply{{404, ""}}, wantRequests: 1, wantStatus: 404, wantErr: "HTTP 404 Not Found"},
		{name: "410 not retried", replies: []reply{{410, "5"}}, wantRequests: 1, wantStatus: 410, wantErr: "HTTP 410 Gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				i := min(int(n.Add(1))-1, len(tt.replies)-1)
				rep := tt.replies[i]
				if rep.retryAfter != "" {
					w.Header().Set("Retry-After", rep.retryAfter)
				}
				w.WriteHeader(rep.status)
				_, _ = w.Write([]byte("ok"))
			})
			clock := newFakeClock()
			c := newTestClient(t, testOptions(clock))
			u := ts.URL + "/feed/"
			resp, err := c.Get(context.Background(), u, evidence.FetchState{})
			if tt.wantErr != "" {
				var se *StatusError
				if err == nil || !strings.Contains(err.Error(), "fetch "+u+": "+tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if !errors.As(err, &se) || se.Status != tt.wantStatus || se.URL != u {
					t.Errorf("StatusError = %+v, want status %d", se, tt.wantStatus)
				}
			} else if err != nil || resp.Status != 200 {
				t.Fatalf("Get: %v", err)
			}
			st := c.Stats()
			if wantRetries := int64(len(tt.wantSleeps) + len(tt.wantRange)); st.Requests != tt.wantRequests || st.Retries != wantRetries {
				t.Errorf("stats = %+v, want %d requests, %d retries", st, tt.wantRequests, wantRetries)
			}
			sleeps := clock.Sleeps()
			if tt.wantRange != nil {
				if len(sleeps) != len(tt.wantRange) {
					t.Fatalf("sleeps = %v, want %d", sleeps, len(tt.wantRange))
				}
				for i, r := range tt.wantRange {
					if sleeps[i] < r[0] || sleeps[i] > r[1] {
						t.Errorf("sleep %d = %v, want in [%v, %v]", i, sleeps[i], r[0], r[1])
					}
				}
				return
			}
			if !slices.Equal(sleeps, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", sleeps, tt.wantSleeps)
			}
		})
	}
}

func TestBlocked(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		blocked bool
		wantMsg string
	}{
		{name: "403", status: 403, blocked: true, wantMsg: "blocked by the site (HTTP 403 Forbidden)"},
		{name: "cf-mitigated on 403", status: 403, header: map[string]string{"cf-mitigated": "challenge"}, blocked: true,
			wantMsg: "blocked by the site (HTTP 403 Forbidden, cf-mitigated: challenge)"},
		{name: "cf-mitigated on 200", status: 200, header: map[string]string{"cf-mitigated": "challenge"}, blocked: true},
		{name: "challenge page 503", status: 503, body: "<html><head><title>Just a moment...</title></head></html>", blocked: true,
			wantMsg: `blocked by the site (HTTP 503 Service Unavailable, bot challenge page "Just a moment...")`},
		{name: "challenge page 429", status: 429, body: "<p>Just a moment…</p>", blocked: true},
		{name: "attention required 200", status: 200, header: map[string]string{"Content-Type": "text/html"},
			body: "<html><head><title>Attention Required! | Cloudflare</title></head></html>", blocked: true},
		// The page parsers' rule (text.ChallengeReason) counts here too.
		{name: "DDoS-Guard 503", status: 503, body: `<html><head><title>DDoS-Guard</title></head><body><script src="/.well-known/ddos-guard/check?context=free_splash"></script></body></html>`, blocked: true,
			wantMsg: `blocked by the site (HTTP 503 Service Unavailable, bot challenge page title "DDoS-Guard")`},
		{name: "Sucuri 200", status: 200, header: map[string]string{"Content-Type": "text/html"},
			body: "<html><head><title>Sucuri WebSite Firewall - Access Denied</title></head></html>", blocked: true},
		{name: "challenge script marker 200", status: 200, header: map[string]string{"Content-Type": "text/html"},
			body: `<html><head><title>example.org</title><script>window._cf_chl_opt={}</script></head></html>`, blocked: true},
		{name: "article quoting the phrase is fine", status: 200, header: map[string]string{"Content-Type": "text/html"},
			body: "<html><head><title>Waiting lists</title></head><body>Just a moment... said nobody</body></html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			clock := newFakeClock()
			c := newTestClient(t, testOptions(clock))
			u := ts.URL + "/page"
			_, err := c.Get(context.Background(), u, evidence.FetchState{})
			if !tt.blocked {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBlocked) {
				t.Fatalf("err = %v, want ErrBlocked", err)
			}
			if tt.wantMsg != "" && err.Error() != "fetch "+u+": "+tt.wantMsg {
				t.Errorf("err = %q, want %q", err, tt.wantMsg)
			}
			if st := c.Stats(); st.Requests != 1 || st.Retries != 0 || len(clock.Sleeps()) != 0 {
				t.Errorf("blocked response was retried: stats %+v sleeps %v", st, clock.Sleeps())
			}
		})
	}
}

func TestRobots(t *testing.T) {
	const robots = `# test robots
User-agent: *
Disallow: /private/

User-agent: EvidenceTrackerTest
Disallow: /secret/
Allow: /secret/ok
Disallow: /*?s=

Sitemap: https://www.example.org/sitemap_index.xml
Sitemap: https://www.example.org/wp-sitemap.xml
`
	ts := newTestServer(t, robotsHandler(robots, okHandler("page")))
	opts := testOptions(newFakeClock())
	opts.IgnoreRobots = false
	c := newTestClient(t, opts)
	ctx := context.Background()
	tests := []struct {
		path    string
		allowed bool
	}{
		{"/feed/", true},
		{"/secret/report", false},
		{"/secret/ok", true},
		{"/search/?s=elf", false},
		// Our own group applies, not "*": /private/ is open to us.
		{"/private/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			u := ts.URL + tt.path
			ok, err := c.Allowed(ctx, u)
			if err != nil || ok != tt.allowed {
				t.Fatalf("Allowed = %v, %v; want %v", ok, err, tt.allowed)
			}
			_, err = c.Get(ctx, u, evidence.FetchState{})
			if tt.allowed {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrDisallowed) {
				t.Fatalf("err = %v, want ErrDisallowed", err)
			}
			if want := "fetch " + u + `: disallowed by robots.txt for user agent "EvidenceTrackerTest"`; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
			if ts.Hits(tt.path) != 0 {
				t.Errorf("disallowed path was requested")
			}
		})
	}
	// Many concurrent requests: robots.txt is still fetched once.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := c.Get(ctx, fmt.Sprintf("%s/item/%d", ts.URL, i), evidence.FetchState{}); err != nil {
				t.Errorf("Get: %v", err)
			}
		})
	}
	wg.Wait()
	if got := ts.Hits("/robots.txt"); got != 1 {
		t.Errorf("robots.txt fetched %d times, want 1", got)
	}
	if st := c.Stats(); st.RobotsFetches != 1 {
		t.Errorf("RobotsFetches = %d, want 1", st.RobotsFetches)
	}
	sitemaps, err := c.Sitemaps(ctx, ts.URL)
	want := []string{"https://www.example.org/sitemap_index.xml", "https://www.example.org/wp-sitemap.xml"}
	if err != nil || !slices.Equal(sitemaps, want) {
		t.Errorf("Sitemaps = %q, %v; want %q", sitemaps, err, want)
	}
}

func TestRobotsExpires(t *testing.T) {
	ts := newTestServer(t, robotsHandler("User-agent: *\nDisallow: /x\n", okHandler("page")))
	clock := newFakeClock()
	opts := testOptions(clock)
	opts.IgnoreRobots = false
	c := newTestClient(t, opts)
	for _, advance := range []time.Duration{0, time.Hour, 25 * time.Hour} {
		clock.Advance(advance)
		if _, err := c.Get(context.Background(), ts.URL+"/feed/", evidence.FetchState{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := ts.Hits("/robots.txt"); got != 2 {
		t.Errorf("robots.txt fetched %d times, want 2 (once, then after the 24h TTL)", got)
	}
}

func TestRobotsStatus(t *testing.T) {
	tests := []struct {
		name    string
		robots  http.HandlerFunc
		wantErr error // nil: the page is fetched
		wantMsg string
	}{
		{name: "404 allows all", robots: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }},
		{name: "410 allows all", robots: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) }},
		{name: "plain 403 allows all (RFC 9309)", robots: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) }},
		{name: "empty file allows all", robots: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "500 disallows the host", robots: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) },
			wantErr: ErrRobotsUnavailable, wantMsg: "robots.txt unavailable, host not crawled this run"},
		{name: "429 disallows the host", robots: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) },
			wantErr: ErrRobotsUnavailable},
		{name: "challenge is blocked", robots: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("cf-mitigated", "challenge")
			w.WriteHeader(403)
		}, wantErr: ErrBlocked},
		{name: "stray lines are dropped, the rest obeyed", robots: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("Disallow: /orphan\nUser-agent: *\nCrawl-delay: soon\nDisallow: /page\n"))
		}, wantErr: ErrDisallowed},
		{name: "redirect to robots elsewhere", robots: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("moved") == "" {
				http.Redirect(w, r, "/robots.txt?moved=1", http.StatusMovedPermanently)
				return
			}
			_, _ = w.Write([]byte("User-agent: *\nDisallow: /page\n"))
		}, wantErr: ErrDisallowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/robots.txt" {
					tt.robots(w, r)
					return
				}
				_, _ = w.Write([]byte("page"))
			})
			opts := testOptions(newFakeClock())
			opts.IgnoreRobots = false
			opts.Retries = -1
			c := newTestClient(t, opts)
			u := ts.URL + "/page"
			_, err := c.Get(context.Background(), u, evidence.FetchState{})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), "fetch "+u+": ") {
				t.Fatalf("err = %v, want %v naming %s", err, tt.wantErr, u)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
			if ts.Hits("/page") != 0 {
				t.Errorf("page fetched despite robots.txt")
			}
		})
	}
}

func TestCrawlDelay(t *testing.T) {
	tests := []struct {
		name string
		rate float64
	}{
		{"default rate", 0},
		{"unlimited rate", -1},
		{"fast rate", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, robotsHandler("User-agent: *\nCrawl-delay: 5\n", okHandler("page")))
			clock := newFakeClock()
			opts := testOptions(clock)
			opts.IgnoreRobots = false
			opts.RatePerHost = tt.rate
			c := newTestClient(t, opts)
			ctx := context.Background()
			d, err := c.CrawlDelay(ctx, ts.URL)
			if err != nil || d != 5*time.Second {
				t.Fatalf("CrawlDelay = %v, %v; want 5s", d, err)
			}
			for i := range 3 {
				if _, err := c.Get(ctx, fmt.Sprintf("%s/p/%d", ts.URL, i), evidence.FetchState{}); err != nil {
					t.Fatal(err)
				}
			}
			sleeps := clock.Sleeps()
			if len(sleeps) != 3 {
				t.Fatalf("sleeps = %v, want 3 (robots.txt, then each page)", sleeps)
			}
			for _, s := range sleeps {
				if s < 5*time.Second {
					t.Errorf("slept %v between requests, want ≥ 5s (Crawl-delay)", s)
				}
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	ts := newTestServer(t, okHandler("ok"))
	tests := []struct {
		name       string
		rate       float64
		wantSleeps []time.Duration
	}{
		{"1 per second", 1, []time.Duration{time.Second, time.Second}},
		{"2 per second", 2, []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}},
		{"unlimited", -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			opts := testOptions(clock)
			opts.RatePerHost = tt.rate
			opts.ConnectTo = map[string]string{"a.example.org": ts.Addr(), "b.example.org": ts.Addr()}
			c := newTestClient(t, opts)
			ctx := context.Background()
			for i := range 3 {
				if _, err := c.Get(ctx, fmt.Sprintf("https://a.example.org/%d", i), evidence.FetchState{}); err != nil {
					t.Fatal(err)
				}
			}
			// Another host has its own limiter: no wait.
			if _, err := c.Get(ctx, "https://b.example.org/0", evidence.FetchState{}); err != nil {
				t.Fatal(err)
			}
			if got := clock.Sleeps(); !slices.Equal(got, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", got, tt.wantSleeps)
			}
			if got := c.Stats().Throttled; got != int64(len(tt.wantSleeps)) {
				t.Errorf("Throttled = %d, want %d", got, len(tt.wantSleeps))
			}
		})
	}
}

// TestRateLimitRealClock runs concurrent requests on the real clock: one
// host sees one request at a time, spaced by the rate (a lower bound only).
func TestRateLimitRealClock(t *testing.T) {
	var inFlight, maxInFlight atomic.Int64
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		_, _ = w.Write([]byte("ok"))
	})
	c := newTestClient(t, Options{UserAgent: testUA, RatePerHost: 20, IgnoreRobots: true})
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), fmt.Sprintf("%s/%d", ts.URL, i), evidence.FetchState{}); err != nil {
				t.Errorf("Get: %v", err)
			}
		})
	}
	wg.Wait()
	if elapsed := time.Since(start); elapsed < 4*50*time.Millisecond-10*time.Millisecond {
		t.Errorf("5 requests at 20/s took %v, want ≥ 200ms", elapsed)
	}
	if m := maxInFlight.Load(); m != 1 {
		t.Errorf("max requests in flight to one host = %d, want 1", m)
	}
}

// TestHostsConcurrent shows two hosts are fetched in parallel: each
// handler waits until the other host's request has arrived.
func TestHostsConcurrent(t *testing.T) {
	arrived := map[string]chan struct{}{"a.example.org": make(chan struct{}), "b.example.org": make(chan struct{})}
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		other := "a.example.org"
		if r.Host == other {
			other = "b.example.org"
		}
		close(arrived[r.Host])
		select {
		case <-arrived[other]:
			_, _ = w.Write([]byte("ok"))
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	})
	opts := Options{UserAgent: testUA, IgnoreRobots: true, Retries: -1,
		ConnectTo: map[string]string{"a.example.org": ts.Addr(), "b.example.org": ts.Addr()}}
	c := newTestClient(t, opts)
	var wg sync.WaitGroup
	for _, h := range []string{"a.example.org", "b.example.org"} {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), "https://"+h+"/", evidence.FetchState{}); err != nil {
				t.Errorf("Get %s: %v", h, err)
			}
		})
	}
	wg.Wait()
}

func TestConnectTo(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			_, _ = w.Write([]byte("User-agent: *\nDisallow: /cms/wp-admin/\nSitemap: https://www.nationalelfservice.net/sitemap_index.xml\n"))
		case "/feed/":
			http.Redirect(w, r, "/mental-health/feed/", http.StatusMovedPermanently)
		case "/mental-health/feed/":
			w.Header().Set("Content-Type", "application/rss+xml; charset=UTF-8")
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><rss><channel><title>Mental Elf</title></channel></rss>`))
		default:
			http.NotFound(w, r)
		}
	})
	opts := testOptions(newFakeClock())
	opts.IgnoreRobots = false
	opts.ConnectTo = map[string]string{"www.nationalelfservice.net": ts.Addr()}
	c := newTestClient(t, opts)
	ctx := context.Background()

	resp, err := c.Get(ctx, "https://www.nationalelfservice.net/feed/", evidence.FetchState{})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if resp.URL != "https://www.nationalelfservice.net/mental-health/feed/" ||
		!slices.Equal(resp.Redirects, []string{"https://www.nationalelfservice.net/feed/"}) {
		t.Errorf("URL %q redirects %q", resp.URL, resp.Redirects)
	}
	if resp.State.URL != "https://www.nationalelfservice.net/feed/" || resp.ContentType != "application/rss+xml" {
		t.Errorf("State.URL %q ContentType %q", resp.State.URL, resp.ContentType)
	}
	for _, r := range ts.Requests("/mental-health/feed/") {
		if r.Host != "www.nationalelfservice.net" || r.Header.Get("User-Agent") != testUA {
			t.Errorf("request Host %q UA %q", r.Host, r.Header.Get("User-Agent"))
		}
	}
	if hosts := ts.Hosts(); !slices.Equal(hosts, []string{"www.nationalelfservice.net"}) {
		t.Errorf("Host headers seen = %v", hosts)
	}
	if ts.Hits("/robots.txt") != 1 {
		t.Errorf("robots.txt not fetched through connect-to")
	}
	sitemaps, err := c.Sitemaps(ctx, "www.nationalelfservice.net")
	if err != nil || len(sitemaps) != 1 {
		t.Errorf("Sitemaps = %v, %v", sitemaps, err)
	}
	_, err = c.Get(ctx, "https://www.nationalelfservice.net/missing/", evidence.FetchState{})
	var se *StatusError
	if !errors.As(err, &se) || se.URL != "https://www.nationalelfservice.net/missing/" || strings.Contains(err.Error(), ts.Addr()) {
		t.Errorf("err = %v, want a 404 naming the original URL", err)
	}
	_, err = c.Get(ctx, "https://www.nationalelfservice.net/cms/wp-admin/", evidence.FetchState{})
	if !errors.Is(err, ErrDisallowed) {
		t.Errorf("err = %v, want ErrDisallowed", err)
	}
}

func TestBodyDecoding(t *testing.T) {
	koi8 := []byte("<?xml version=\"1.0\" encoding=\"KOI8-R\"?>\n<rss><channel><title>\xF0\xD2\xC9\xCD\xC5\xD2</title></channel></rss>")
	sitemap := []byte(`<?xml version="1.0" encoding="UTF-8"?><urlset><url><loc>https://www.kingsfund.org.uk/insight-and-analysis/reports/x</loc></url></urlset>`)
	long := bytes.Repeat([]byte("<p>Person-centred care, naïve café. </p>\n"), 500)
	pdf := []byte("%PDF-1.4\n\xE2\xE3\xCF\xD3\n")
	tests := []struct {
		name            string
		path            string
		header          map[string]string
		body            []byte
		wantBody        []byte
		wantType        string
		wantCharset     string
		wantCompressed  bool
		wantPrologUTF8  bool
		wantContentHash bool
	}{
		{name: "koi8-r feed", path: "/feed/", header: map[string]string{"Content-Type": "application/rss+xml"}, body: koi8,
			wantBody: []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss><channel><title>Пример</title></channel></rss>"),
			wantType: "application/rss+xml", wantCharset: "koi8-r"},
		{name: "windows-1252 header", path: "/page", header: map[string]string{"Content-Type": "text/html; charset=Windows-1252"},
			body: []byte("<p>\x93caf\xE9\x94 \x80</p>"), wantBody: []byte("<p>\u201ccafé\u201d €</p>"), wantType: "text/html", wantCharset: "windows-1252"},
		{name: "gzip content-encoding", path: "/long", header: map[string]string{"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
			body: gzipBytes(t, long), wantBody: long, wantType: "text/html", wantCharset: "utf-8", wantCompressed: true},
		{name: "sitemap.xml.gz file", path: "/sitemap.xml.gz", header: map[string]string{"Content-Type": "application/x-gzip"},
			body: gzipBytes(t, sitemap), wantBody: sitemap, wantType: "text/xml", wantCharset: "utf-8"},
		{name: "pdf untouched", path: "/report.pdf", header: map[string]string{"Content-Type": "application/pdf"},
			body: pdf, wantBody: pdf, wantType: "application/pdf"},
		{name: "no content type sniffed", path: "/x", body: []byte("<!DOCTYPE html><html><body>caf\xE9</body></html>"),
			wantBody: []byte("<!DOCTYPE html><html><body>café</body></html>"), wantType: "text/html", wantCharset: "windows-1252"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				_, _ = w.Write(tt.body)
			})
			c := newTestClient(t, testOptions(newFakeClock()))
			resp, err := c.Get(context.Background(), ts.URL+tt.path, evidence.FetchState{})
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(resp.Body, tt.wantBody) {
				t.Errorf("Body = %q, want %q", resp.Body[:min(len(resp.Body), 200)], tt.wantBody[:min(len(tt.wantBody), 200)])
			}
			if resp.ContentType != tt.wantType || resp.Charset != tt.wantCharset {
				t.Errorf("ContentType %q Charset %q, want %q %q", resp.ContentType, resp.Charset, tt.wantType, tt.wantCharset)
			}
			if resp.Bytes != int64(len(tt.body)) || c.Stats().BytesRead != int64(len(tt.body)) {
				t.Errorf("Bytes = %d, BytesRead = %d, want %d (wire size)", resp.Bytes, c.Stats().BytesRead, len(tt.body))
			}
			if tt.wantCompressed && resp.Bytes >= int64(len(resp.Body)) {
				t.Errorf("wire bytes %d not smaller than body %d", resp.Bytes, len(resp.Body))
			}
			if got := ts.Requests(tt.path)[0].Header.Get("Accept-Encoding"); got != "gzip" {
				t.Errorf("Accept-Encoding = %q, want gzip", got)
			}
			sum := sha256.Sum256(resp.Body)
			if resp.State.ContentHash != hex.EncodeToString(sum[:]) {
				t.Errorf("ContentHash is not the sha256 of Body")
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	t.Run("already cancelled", func(t *testing.T) {
		c := newTestClient(t, testOptions(newFakeClock()))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Get(ctx, ts.URL+"/x", evidence.FetchState{})
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ts.URL+"/x") {
			t.Fatalf("err = %v, want context.Canceled naming the URL", err)
		}
		if c.Stats().Requests != 0 {
			t.Errorf("a request was sent")
		}
	})
	t.Run("cancelled while waiting to retry", func(t *testing.T) {
		opts := testOptions(newFakeClock())
		ctx, cancel := context.WithCancel(context.Background())
		opts.Sleep = func(ctx context.Context, d time.Duration) error {
			cancel()
			return ctx.Err()
		}
		c := newTestClient(t, opts)
		_, err := c.Get(ctx, ts.URL+"/x", evidence.FetchState{})
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "waiting to retry after HTTP 503") {
			t.Fatalf("err = %v, want context.Canceled while waiting", err)
		}
		if c.Stats().Requests != 1 {
			t.Errorf("requests = %d, want 1", c.Stats().Requests)
		}
	})
	t.Run("cancelled while rate limited", func(t *testing.T) {
		opts := testOptions(newFakeClock())
		opts.RatePerHost = 1
		opts.Retries = -1
		ctx, cancel := context.WithCancel(context.Background())
		opts.Sleep = func(ctx context.Context, d time.Duration) error {
			cancel()
			return ctx.Err()
		}
		c := newTestClient(t, opts)
		_, _ = c.Get(ctx, ts.URL+"/x", evidence.FetchState{}) // 503, uses the slot
		_, err := c.Get(ctx, ts.URL+"/x", evidence.FetchState{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestSleepCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := sleepCtx(ctx, time.Millisecond); err != nil {
		t.Fatalf("sleepCtx: %v", err)
	}
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleepCtx on cancelled ctx = %v", err)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{"-5", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"99999999999999999", 100 * 365 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := retryAfter(http.Header{"Retry-After": {tt.in}}, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestConnectionRefusedRetried(t *testing.T) {
	ts := newTestServer(t, okHandler("x"))
	u := ts.URL + "/feed/"
	ts.Close() // nothing listens any more
	opts := testOptions(newFakeClock())
	opts.Retries = 2
	c := newTestClient(t, opts)
	_, err := c.Get(context.Background(), u, evidence.FetchState{})
	if err == nil || !strings.HasPrefix(err.Error(), "fetch "+u+": giving up after 2 retries: ") ||
		!strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want connection refused after 2 retries", err)
	}
	if st := c.Stats(); st.Requests != 3 || st.Retries != 2 {
		t.Errorf("stats = %+v, want 3 requests, 2 retries", st)
	}
}
