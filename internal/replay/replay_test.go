package replay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, time.November, 20, 9, 30, 0, 0, time.UTC)

// writeTree creates files (slash-separated names → contents) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	rssDoc     = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- SYNTHETIC -->\n<rss version=\"2.0\"><channel><title>t</title></channel></rss>\n"
	atomDoc    = "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>"
	sitemapDoc = "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>"
)

// newTestServer builds a snapshot tree in a temp dir and a Server over it.
// It returns the server and the tree's parent (which holds outside.txt, a
// file the server must never serve).
func newTestServer(t *testing.T) (*Server, string) {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "snapshots")
	writeTree(t, parent, map[string]string{
		"outside.txt":           "SECRET outside the tree",
		"snapshots/outside.txt": "SECRET outside the host",
	})
	writeTree(t, dir, map[string]string{
		"example.org/index.html":                        "<p>home</p>",
		"example.org/robots.txt":                        "User-agent: *\nDisallow: /cms/\n",
		"example.org/a/b/index.html":                    "<p>a/b html</p>",
		"example.org/a/b/index.xml":                     rssDoc,
		"example.org/feed/index.xml":                    rssDoc,
		"example.org/feed/index.xml@paged=2":            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>page 2</title></channel></rss>",
		"example.org/atom.xml":                          atomDoc,
		"example.org/sitemap.xml":                       sitemapDoc,
		"example.org/noext":                             "plain words",
		"example.org/data.json":                         `{"a":1}`,
		"example.org/dump.gz":                           "\x1f\x8b\x08\x00",
		"example.org/dir/index.json":                    `{"dir":true}`,
		"example.org/search@s=social+prescribing&n=2":   "<p>search results</p>",
		"example.org/q@url=%2Fx%3Fy":                    "encoded query",
		"example.org/index.html@p=12345.headers":        "# SYNTHETIC\nStatus: 301\nLocation: https://example.org/a/b/\n",
		"example.org/old-slug/index.html.headers":       "Status: 301 Moved Permanently\nLocation: https://example.org/a/b/\n",
		"example.org/custom.html":                       "<p>custom</p>",
		"example.org/custom.html.headers":               "# comment\n\nContent-Type: text/html; charset=iso-8859-1\nLast-Modified: Fri, 20 Nov 2026 07:00:00 GMT\nX-Extra: one\nX-Extra: two\n",
		"example.org/busy/index.html":                   "<p>busy</p>",
		"example.org/busy/index.html.headers":           "Status: 503\nRetry-After: 120\n",
		"example.org/broken.headers":                    "Location: https://example.org/\n",
		"example.org/badsidecar.txt":                    "x",
		"example.org/badsidecar.txt.headers":            "not a header line\n",
		"example.org/has space/index.html":              "<p>space</p>",
		"other.example/index.html":                      "<p>other host</p>",
		"example.org/plain.txt":                         "hello",
		"example.org/mental-health/feed/index.xml@x=1":  "q",
		"example.org/mental-health/feed/index.xml.keep": "not served",
	})
	mustSymlink(t, filepath.Join("..", "..", "outside.txt"), filepath.Join(dir, "example.org", "escape.txt"))
	mustSymlink(t, filepath.Join(parent, "outside.txt"), filepath.Join(dir, "example.org", "abs.txt"))
	mustSymlink(t, "robots.txt", filepath.Join(dir, "example.org", "inside.txt"))
	mustSymlink(t, "example.org", filepath.Join(dir, "linked.example"))
	mustSymlink(t, "..", filepath.Join(dir, "escaped.example"))
	s, err := New(Options{Dir: dir, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s, parent
}

func mustSymlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Skipf("symlinks not supported: %v", err)
	}
}

func etagOf(body string) string {
	sum := sha256.Sum256([]byte(body))
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// do sends one request straight to the handler.
func do(t *testing.T, h http.Handler, method, host, target string, hdr map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, "http://placeholder"+target, nil)
	r.Host = host
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNew(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	writeTree(t, filepath.Dir(file), map[string]string{"f": "x"})
	tests := []struct {
		name    string
		dir     string
		wantErr bool
	}{
		{"ok", t.TempDir(), false},
		{"empty", "", true},
		{"missing", filepath.Join(t.TempDir(), "nope"), true},
		{"file", file, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{Dir: tt.dir})
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) error = %v, want error %v", tt.dir, err, tt.wantErr)
			}
		})
	}
}

func TestServeHTTP(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct {
		name       string
		method     string
		host       string
		target     string
		wantStatus int
		wantBody   string // substring; "-" means the body must be empty
		wantHeader map[string]string
	}{
		{name: "root index", host: "example.org", target: "/", wantStatus: 200, wantBody: "home",
			wantHeader: map[string]string{"Content-Type": "text/html; charset=utf-8", "ETag": etagOf("<p>home</p>"),
				"Last-Modified": "Sun, 01 Nov 2026 00:00:00 GMT", "Date": "Fri, 20 Nov 2026 09:30:00 GMT", "Content-Length": "11"}},
		{name: "host with port and case", host: "Example.ORG:8080", target: "/robots.txt", wantStatus: 200, wantBody: "Disallow: /cms/",
			wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "host with trailing dot", host: "example.org.", target: "/", wantStatus: 200, wantBody: "home"},
		{name: "routing by host", host: "other.example", target: "/", wantStatus: 200, wantBody: "other host"},
		{name: "unknown host", host: "unknown.example", target: "/", wantStatus: 404, wantBody: "unknown host"},
		{name: "ip host unknown", host: "127.0.0.1:9999", target: "/", wantStatus: 404, wantBody: "unknown host"},
		{name: "trailing slash html before xml", host: "example.org", target: "/a/b/", wantStatus: 200, wantBody: "a/b html"},
		{name: "no slash falls back to index", host: "example.org", target: "/a/b", wantStatus: 200, wantBody: "a/b html"},
		{name: "index.json", host: "example.org", target: "/dir/", wantStatus: 200, wantBody: `"dir"`,
			wantHeader: map[string]string{"Content-Type": "application/json"}},
		{name: "file with trailing slash is 404", host: "example.org", target: "/robots.txt/", wantStatus: 404},
		{name: "missing", host: "example.org", target: "/nope/", wantStatus: 404, wantBody: "no snapshot"},
		{name: "encoded space", host: "example.org", target: "/has%20space/", wantStatus: 200, wantBody: "space"},
		{name: "rss by root element", host: "example.org", target: "/feed/", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/rss+xml; charset=utf-8"}},
		{name: "atom", host: "example.org", target: "/atom.xml", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/atom+xml; charset=utf-8"}},
		{name: "other xml", host: "example.org", target: "/sitemap.xml", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/xml; charset=utf-8"}},
		{name: "gzip", host: "example.org", target: "/dump.gz", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "application/gzip"}},
		{name: "sniffed", host: "example.org", target: "/noext", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "query on index", host: "example.org", target: "/feed/?paged=2", wantStatus: 200, wantBody: "page 2",
			wantHeader: map[string]string{"Content-Type": "application/rss+xml; charset=utf-8"}},
		{name: "query on file", host: "example.org", target: "/search?s=social+prescribing&n=2", wantStatus: 200, wantBody: "search results"},
		{name: "query order matters", host: "example.org", target: "/search?n=2&s=social+prescribing", wantStatus: 404},
		{name: "query escaped", host: "example.org", target: "/q?url=/x%3fy", wantStatus: 200, wantBody: "encoded query"},
		{name: "unmatched query", host: "example.org", target: "/feed/?paged=9", wantStatus: 404},
		{name: "utm dropped", host: "example.org", target: "/a/b/?utm_source=rss&utm_medium=rss&utm_campaign=b", wantStatus: 200, wantBody: "a/b html"},
		{name: "utm dropped, rest kept", host: "example.org", target: "/feed/?utm_source=x&paged=2", wantStatus: 200, wantBody: "page 2"},
		{name: "sidecar only redirect", host: "example.org", target: "/?p=12345", wantStatus: 301, wantBody: "-",
			wantHeader: map[string]string{"Location": "https://example.org/a/b/", "Content-Length": "0", "ETag": "", "Content-Type": ""}},
		{name: "old slug redirect", host: "example.org", target: "/old-slug/", wantStatus: 301,
			wantHeader: map[string]string{"Location": "https://example.org/a/b/"}},
		{name: "sidecar headers", host: "example.org", target: "/custom.html", wantStatus: 200, wantBody: "custom",
			wantHeader: map[string]string{"Content-Type": "text/html; charset=iso-8859-1", "Last-Modified": "Fri, 20 Nov 2026 07:00:00 GMT",
				"ETag": etagOf("<p>custom</p>")}},
		{name: "sidecar status with body", host: "example.org", target: "/busy/", wantStatus: 503, wantBody: "busy",
			wantHeader: map[string]string{"Retry-After": "120"}},
		{name: "sidecar without status or body", host: "example.org", target: "/broken", wantStatus: 500, wantBody: "needs a Status"},
		{name: "malformed sidecar", host: "example.org", target: "/badsidecar.txt", wantStatus: 500, wantBody: "line 1"},
		{name: "sidecar not servable", host: "example.org", target: "/custom.html.headers", wantStatus: 404},
		{name: "symlink inside", host: "example.org", target: "/inside.txt", wantStatus: 200, wantBody: "User-agent"},
		{name: "HEAD", method: http.MethodHead, host: "example.org", target: "/robots.txt", wantStatus: 200, wantBody: "-",
			wantHeader: map[string]string{"Content-Length": "30", "ETag": etagOf("User-agent: *\nDisallow: /cms/\n")}},
		{name: "POST", method: http.MethodPost, host: "example.org", target: "/", wantStatus: 405,
			wantHeader: map[string]string{"Allow": "GET, HEAD"}},

		// Traversal: none of these may ever show SECRET.
		{name: "dotdot", host: "example.org", target: "/../outside.txt", wantStatus: 400},
		{name: "dotdot deep", host: "example.org", target: "/a/../../../outside.txt", wantStatus: 400},
		{name: "encoded dots", host: "example.org", target: "/a/%2e%2e/%2E%2E/outside.txt", wantStatus: 400},
		{name: "encoded slash", host: "example.org", target: "/a%2F..%2F..%2Foutside.txt", wantStatus: 400},
		{name: "encoded backslash", host: "example.org", target: "/..%5C..%5Coutside.txt", wantStatus: 400},
		{name: "backslash", host: "example.org", target: `/..\outside.txt`, wantStatus: 400},
		{name: "encoded NUL", host: "example.org", target: "/robots.txt%00.html", wantStatus: 400},
		{name: "double slash", host: "example.org", target: "//outside.txt", wantStatus: 400},
		{name: "dot segment", host: "example.org", target: "/./robots.txt", wantStatus: 400},
		{name: "symlink escaping", host: "example.org", target: "/escape.txt", wantStatus: 404},
		{name: "absolute symlink", host: "example.org", target: "/abs.txt", wantStatus: 404},
		{name: "host dir symlink", host: "linked.example", target: "/robots.txt", wantStatus: 200, wantBody: "User-agent"},
		{name: "host dir symlink escaping", host: "escaped.example", target: "/outside.txt", wantStatus: 404},
		{name: "host dotdot", host: "..", target: "/outside.txt", wantStatus: 400},
		{name: "host with slash", host: "example.org/..", target: "/outside.txt", wantStatus: 400},
		{name: "host empty label", host: "example..org", target: "/", wantStatus: 400},
		{name: "host ipv6", host: "[::1]:80", target: "/", wantStatus: 400},
		{name: "query traversal", host: "example.org", target: "/?p=../../outside.txt", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			res := do(t, s, method, tt.host, tt.target, nil)
			body := readBody(t, res)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", res.StatusCode, tt.wantStatus, body)
			}
			if strings.Contains(body, "SECRET") {
				t.Fatalf("served a file outside the tree: %q", body)
			}
			switch {
			case tt.wantBody == "-" && body != "":
				t.Errorf("body = %q, want empty", body)
			case tt.wantBody != "-" && !strings.Contains(body, tt.wantBody):
				t.Errorf("body = %q, want it to contain %q", body, tt.wantBody)
			}
			for k, want := range tt.wantHeader {
				if got := res.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
	t.Run("repeated sidecar header", func(t *testing.T) {
		res := do(t, s, http.MethodGet, "example.org", "/custom.html", nil)
		if got := res.Header.Values("X-Extra"); len(got) != 2 || got[0] != "one" || got[1] != "two" {
			t.Errorf("X-Extra = %q, want [one two]", got)
		}
	})
}

func TestConditional(t *testing.T) {
	s, _ := newTestServer(t)
	home := etagOf("<p>home</p>")
	tests := []struct {
		name       string
		target     string
		hdr        map[string]string
		wantStatus int
	}{
		{"etag match", "/", map[string]string{"If-None-Match": home}, 304},
		{"weak etag match", "/", map[string]string{"If-None-Match": "W/" + home}, 304},
		{"etag in list", "/", map[string]string{"If-None-Match": `"nope", ` + home}, 304},
		{"star", "/", map[string]string{"If-None-Match": "*"}, 304},
		{"etag mismatch", "/", map[string]string{"If-None-Match": `"0000"`}, 200},
		{"ims equal", "/", map[string]string{"If-Modified-Since": "Sun, 01 Nov 2026 00:00:00 GMT"}, 304},
		{"ims later", "/", map[string]string{"If-Modified-Since": "Mon, 02 Nov 2026 00:00:00 GMT"}, 304},
		{"ims earlier", "/", map[string]string{"If-Modified-Since": "Sat, 31 Oct 2026 23:59:59 GMT"}, 200},
		{"ims garbage", "/", map[string]string{"If-Modified-Since": "yesterday"}, 200},
		{"etag wins over ims", "/", map[string]string{"If-None-Match": `"0000"`, "If-Modified-Since": "Mon, 02 Nov 2026 00:00:00 GMT"}, 200},
		{"sidecar last-modified", "/custom.html", map[string]string{"If-Modified-Since": "Thu, 19 Nov 2026 07:00:00 GMT"}, 200},
		{"sidecar last-modified equal", "/custom.html", map[string]string{"If-Modified-Since": "Fri, 20 Nov 2026 07:00:00 GMT"}, 304},
		{"not on redirect", "/?p=12345", map[string]string{"If-Modified-Since": "Mon, 02 Nov 2026 00:00:00 GMT", "If-None-Match": "*"}, 301},
		{"not on error", "/busy/", map[string]string{"If-None-Match": etagOf("<p>busy</p>")}, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				res := do(t, s, method, "example.org", tt.target, tt.hdr)
				body := readBody(t, res)
				if res.StatusCode != tt.wantStatus {
					t.Fatalf("%s status = %d, want %d", method, res.StatusCode, tt.wantStatus)
				}
				if res.StatusCode == 304 {
					if body != "" {
						t.Errorf("304 with body %q", body)
					}
					if res.Header.Get("ETag") == "" || res.Header.Get("Last-Modified") == "" {
						t.Errorf("304 without validators: %v", res.Header)
					}
				}
			}
		})
	}
}

func TestStats(t *testing.T) {
	s, _ := newTestServer(t)
	home := etagOf("<p>home</p>")
	do(t, s, http.MethodGet, "example.org", "/", nil)
	do(t, s, http.MethodGet, "Example.org:80", "/", map[string]string{"If-None-Match": home})
	do(t, s, http.MethodGet, "example.org", "/", map[string]string{"If-None-Match": `"x"`})
	do(t, s, http.MethodGet, "other.example", "/missing", nil)
	do(t, s, http.MethodGet, "nowhere.example", "/", nil)
	got := s.Stats()
	want := Stats{Requests: 5, Conditional: 2, NotModified: 1, NotFound: 2}
	if got.Requests != want.Requests || got.Conditional != want.Conditional ||
		got.NotModified != want.NotModified || got.NotFound != want.NotFound {
		t.Errorf("Stats = %+v, want counters %+v", got, want)
	}
	if got.Hosts["example.org"] != 3 || got.Hosts["other.example"] != 1 || got.Hosts["nowhere.example"] != 1 {
		t.Errorf("Hosts = %v", got.Hosts)
	}
	if got.Paths["example.org/"] != 3 || got.Paths["other.example/missing"] != 1 {
		t.Errorf("Paths = %v", got.Paths)
	}
	got.Hosts["example.org"] = 100 // a copy: must not change the server's
	if s.Stats().Hosts["example.org"] != 3 {
		t.Error("Stats returned the live map")
	}
}

func TestStatsConcurrent(t *testing.T) {
	s, _ := newTestServer(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	const n = 20
	done := make(chan error, n)
	for range n {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/robots.txt", nil)
			req.Host = "example.org"
			res, err := srv.Client().Do(req)
			if err == nil {
				res.Body.Close()
			}
			done <- err
		}()
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Stats().Paths["example.org/robots.txt"]; got != n {
		t.Errorf("count = %d, want %d", got, n)
	}
}

func TestQueryKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"p=12345", "p=12345"},
		{"s=social+prescribing&page=2", "s=social+prescribing&page=2"},
		{"url=/x?y", "url=%2Fx%3Fy"},
		{"a=%2f%3a", "a=%2F%3A"},
		{"bad=%zz", "bad=%25zz"},
		{"q=a b", "q=a%20b"},
		{"q=caf\xc3\xa9", "q=caf%C3%A9"},
		{`q="<*>|\:`, "q=%22%3C%2A%3E%7C%5C%3A"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := QueryKey(tt.in); got != tt.want {
				t.Errorf("QueryKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestContentType(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"feed/index.xml", rssDoc, "application/rss+xml; charset=utf-8"},
		{"x.xml", "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!DOCTYPE rss>\n<!-- c -->\n<rss>", "application/rss+xml; charset=utf-8"},
		{"x.xml", "<rdf:RDF xmlns:rdf=\"x\">", "application/rss+xml; charset=utf-8"},
		{"x.xml", atomDoc, "application/atom+xml; charset=utf-8"},
		{"x.xml", sitemapDoc, "application/xml; charset=utf-8"},
		{"x.xml", "not xml", "application/xml; charset=utf-8"},
		{"x.HTML", "", "text/html; charset=utf-8"},
		{"x.json", "{}", "application/json"},
		{"x.pdf", "%PDF-1.4", "application/pdf"},
		{"x", "<!DOCTYPE html><html>", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contentType(tt.name, []byte(tt.body)); got != tt.want {
				t.Errorf("contentType(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestParseSidecar(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantErr    bool
		wantStatus int
	}{
		{"empty", "", false, 0},
		{"comments", "# x\n\n  # y\n", false, 0},
		{"status with text", "Status: 410 Gone\n", false, 410},
		{"crlf", "Status: 302\r\nLocation: /x\r\n", false, 302},
		{"no colon", "Location /x\n", true, 0},
		{"space in name", "Bad Name: x\n", true, 0},
		{"bad status", "Status: abc\n", true, 0},
		{"status out of range", "Status: 999\n", true, 0},
		{"bad last-modified", "Last-Modified: 2026-11-01\n", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := parseSidecar([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && sc.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", sc.status, tt.wantStatus)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct {
		name       string
		target     string
		wantStatus int
		wantHeader map[string]string
		wantLen    int // -1: don't check
	}{
		{"status 503", "/__replay/status/503", 503, map[string]string{"Retry-After": "1"}, -1},
		{"status 429 retry_after", "/__replay/status/429?retry_after=7", 429, map[string]string{"Retry-After": "7"}, -1},
		{"status 500", "/__replay/status/500", 500, map[string]string{"Retry-After": ""}, -1},
		{"status redirect", "/__replay/status/302?location=/robots.txt", 302, map[string]string{"Location": "/robots.txt"}, -1},
		{"bad status", "/__replay/status/abc", 400, nil, -1},
		{"blocked", "/__replay/blocked", 403, map[string]string{"Cf-Mitigated": "challenge"}, -1},
		{"bytes", "/__replay/bytes/1000", 200, map[string]string{"Content-Length": "1000"}, 1000},
		{"bytes too many", "/__replay/bytes/999999999999", 400, nil, -1},
		{"delay", "/__replay/delay/1ms", 200, nil, -1},
		{"bad delay", "/__replay/delay/1h", 400, nil, -1},
		{"stats", "/__replay/stats", 200, map[string]string{"Content-Type": "application/json"}, -1},
		{"unknown fault", "/__replay/nope", 404, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, http.MethodGet, "unknown.example", tt.target, nil)
			body := readBody(t, res)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", res.StatusCode, tt.wantStatus, body)
			}
			for k, want := range tt.wantHeader {
				if got := res.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if tt.wantLen >= 0 && len(body) != tt.wantLen {
				t.Errorf("body length = %d, want %d", len(body), tt.wantLen)
			}
		})
	}

	t.Run("delay ends with the client", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/__replay/delay/30s", nil)
		w := httptest.NewRecorder()
		cancel()
		start := time.Now()
		s.ServeHTTP(w, r)
		if time.Since(start) > 5*time.Second {
			t.Error("delay ignored the cancelled request")
		}
	})
	t.Run("hangup", func(t *testing.T) {
		srv := httptest.NewServer(s)
		defer srv.Close()
		res, err := srv.Client().Get(srv.URL + "/__replay/hangup")
		if err == nil {
			res.Body.Close()
			t.Fatalf("got status %d, want a connection error", res.StatusCode)
		}
	})
}
