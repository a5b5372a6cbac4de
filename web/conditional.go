package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
)

// conditional buffers each successful GET or HEAD response to give it an
// ETag (a hash of the body), answer If-None-Match with 304, and gzip it
// when the client accepts that and the body is worth compressing. Pages,
// feeds, API documents and assets all pass through it; /metrics and
// /healthz are left alone (they are never cached).
func (s *Server) conditional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.Path == "/metrics" || r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		bw := &bufferWriter{header: http.Header{}, status: 0}
		next.ServeHTTP(bw, r)
		status := bw.status
		if status == 0 {
			status = http.StatusOK
		}
		h := w.Header()
		for k, v := range bw.header {
			h[k] = v
		}
		body := bw.buf.Bytes()
		if status != http.StatusOK {
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
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
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			h.Del("Content-Length")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if len(body) >= 1024 && compressible(h.Get("Content-Type")) && acceptsGzip(r) && h.Get("Content-Encoding") == "" {
			var zb bytes.Buffer
			zw := gzipPool.Get().(*gzip.Writer)
			zw.Reset(&zb)
			_, _ = zw.Write(body)
			_ = zw.Close()
			gzipPool.Put(zw)
			h.Set("Content-Encoding", "gzip")
			h.Del("Content-Length")
			body = zb.Bytes()
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
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
