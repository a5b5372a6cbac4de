package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"
)

// conditional buffers each successful GET or HEAD response to give it an
// ETag (a hash of the body), answer If-None-Match with 304, and gzip it
// when the client accepts that and the body is worth compressing. Pages,
// feeds, API documents and assets all pass through it; /metrics and
// /healthz are left alone (they are never cached). Anonymous reads of the
// catalogue (search pages, the search API and feeds, items, topics) are
// also kept for a few seconds (see microCache), so a burst of readers of
// the same page is answered without rendering it again.
func (s *Server) conditional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.Path == "/metrics" || r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		key, cacheable := s.micro.key(r)
		if cacheable {
			if e, ok := s.micro.get(key, s.opts.Now()); ok {
				e.write(w, r)
				return
			}
		}
		bw := &bufferWriter{header: http.Header{}, status: 0}
		next.ServeHTTP(bw, r)
		status := bw.status
		if status == 0 {
			status = http.StatusOK
		}
		if status != http.StatusOK {
			h := w.Header()
			for k, v := range bw.header {
				h[k] = v
			}
			w.WriteHeader(status)
			_, _ = w.Write(bw.buf.Bytes())
			return
		}
		e := newResponse(bw.header, bw.buf.Bytes())
		if cacheable && bw.header.Get("Set-Cookie") == "" {
			s.micro.put(key, e, s.opts.Now())
		}
		e.write(w, r)
	})
}

// response is a finished 200 response: its headers (with ETag and Vary),
// its body, and the body gzipped when worth it.
type response struct {
	header http.Header
	body   []byte
	gz     []byte
	etag   string
}

func newResponse(h http.Header, body []byte) *response {
	h.Add("Vary", "Accept-Encoding")
	etag := h.Get("ETag")
	if etag == "" {
		sum := sha256.Sum256(body)
		etag = `"` + hex.EncodeToString(sum[:12]) + `"`
		h.Set("ETag", etag)
	}
	if h.Get("Cache-Control") == "" {
		// Revalidate every time: the ETag makes that cheap.
		h.Set("Cache-Control", "no-cache")
	}
	e := &response{header: h, body: body, etag: etag}
	if len(body) >= 1024 && compressible(h.Get("Content-Type")) && h.Get("Content-Encoding") == "" {
		var zb bytes.Buffer
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(&zb)
		_, _ = zw.Write(body)
		_ = zw.Close()
		gzipPool.Put(zw)
		e.gz = zb.Bytes()
	}
	return e
}

func (e *response) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range e.header {
		h[k] = v
	}
	if etagMatch(r.Header.Get("If-None-Match"), e.etag) {
		h.Del("Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := e.body
	if e.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length")
		body = e.gz
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// microCache keeps anonymous catalogue responses for microTTL: readers may
// see a page up to that much older than the search behind it, which is
// itself cached (service.SearchCache).
type microCache struct {
	mu      sync.Mutex
	entries map[string]microEntry
}

type microEntry struct {
	resp    *response
	expires time.Time
}

const (
	microTTL     = 5 * time.Second
	microEntries = 1024
)

// key is the cache key of r, and whether r may be answered from the
// cache: an anonymous GET or HEAD (no session cookie, no bearer token) of
// a catalogue page, feed or the search API.
func (c *microCache) key(r *http.Request) (string, bool) {
	if r.Header.Get("Authorization") != "" {
		return "", false
	}
	if _, err := r.Cookie(sessionCookieName); err == nil {
		return "", false
	}
	p := r.URL.Path
	switch {
	case p == "/", p == "/search", p == "/search.atom", p == "/api/v1/search", p == "/topics",
		strings.HasPrefix(p, "/topics/"), strings.HasPrefix(p, "/items/"):
	default:
		return "", false
	}
	return r.URL.RequestURI(), true
}

func (c *microCache) get(key string, now time.Time) (*response, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.resp, true
}

func (c *microCache) put(key string, r *response, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]microEntry{}
	}
	if len(c.entries) >= microEntries {
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= microEntries {
			clear(c.entries)
		}
	}
	c.entries[key] = microEntry{resp: r, expires: now.Add(microTTL)}
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

type bufferWriter struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return !strings.Contains(strings.ReplaceAll(q, " ", ""), "q=0") || strings.Contains(q, "q=0.")
		}
	}
	return false
}

func compressible(ctype string) bool {
	for _, p := range []string{"text/", "application/json", "application/atom+xml", "application/xml", "image/svg+xml", "application/x-research-info-systems", "application/x-bibtex", "application/vnd.citationstyles"} {
		if strings.HasPrefix(ctype, p) {
			return true
		}
	}
	return false
}
