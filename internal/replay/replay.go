package replay

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultLastModified is the Last-Modified of every response whose sidecar
// gives none: fixed, so tests do not depend on file mtimes.
var DefaultLastModified = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// Options configures a Server.
type Options struct {
	// Dir is the snapshot tree: one directory per host.
	Dir string
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// Now gives the Date header; nil means time.Now.
	Now func() time.Time
}

// Server answers HTTP requests from a snapshot tree. It is safe for
// concurrent use.
type Server struct {
	dir    string
	log    *slog.Logger
	now    func() time.Time
	faults *http.ServeMux

	requests    atomic.Int64
	conditional atomic.Int64
	notModified atomic.Int64
	notFound    atomic.Int64

	mu    sync.Mutex
	hosts map[string]int64
	paths map[string]int64
}

// Stats counts the requests a Server has answered.
type Stats struct {
	Requests int64 `json:"requests"`
	// Conditional counts requests carrying If-None-Match or If-Modified-Since.
	Conditional int64 `json:"conditional"`
	// NotModified counts 304 answers.
	NotModified int64 `json:"not_modified"`
	// NotFound counts 404 answers.
	NotFound int64 `json:"not_found"`
	// Hosts counts requests per host (lower-cased, port stripped).
	Hosts map[string]int64 `json:"hosts"`
	// Paths counts requests per host + request URI, e.g.
	// "www.nationalelfservice.net/mental-health/feed/".
	Paths map[string]int64 `json:"paths"`
}

// New returns a Server for opts.Dir, which must be an existing directory.
func New(opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("replay: Options.Dir is empty")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("replay: dir %q: %w", opts.Dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("replay: dir %q: %w", opts.Dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("replay: dir %q is not a directory", opts.Dir)
	}
	s := &Server{
		dir:   dir,
		log:   opts.Logger,
		now:   opts.Now,
		hosts: map[string]int64{},
		paths: map[string]int64{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.faults = s.faultMux()
	return s, nil
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Requests:    s.requests.Load(),
		Conditional: s.conditional.Load(),
		NotModified: s.notModified.Load(),
		NotFound:    s.notFound.Load(),
		Hosts:       maps.Clone(s.hosts),
		Paths:       maps.Clone(s.paths),
	}
}

// ServeHTTP answers one request from the snapshot tree (see the package
// documentation for the mapping).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	host, hostErr := hostKey(r.Host)
	s.count(r, host)
	file := s.serve(rec, r, host, hostErr)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	switch rec.status {
	case http.StatusNotModified:
		s.notModified.Add(1)
	case http.StatusNotFound:
		s.notFound.Add(1)
	}
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "replay",
		slog.String("method", r.Method), slog.String("host", r.Host),
		slog.String("uri", r.URL.RequestURI()), slog.Int("status", rec.status),
		slog.String("file", file))
}

func (s *Server) count(r *http.Request, host string) {
	s.requests.Add(1)
	if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
		s.conditional.Add(1)
	}
	if host == "" {
		host = strings.ToLower(r.Host)
	}
	s.mu.Lock()
	s.hosts[host]++
	s.paths[host+r.URL.RequestURI()]++
	s.mu.Unlock()
}

// serve writes the response and returns the file it used, for the log.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, host string, hostErr error) string {
	if strings.HasPrefix(r.URL.Path, "/__replay/") {
		s.faults.ServeHTTP(w, r)
		return ""
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "replay: method %s not allowed", r.Method)
		return ""
	}
	if hostErr != nil {
		plain(w, http.StatusBadRequest, "replay: %v", hostErr)
		return ""
	}
	rel, dir, err := cleanPath(r.URL.EscapedPath(), r.URL.Path)
	if err != nil {
		plain(w, http.StatusBadRequest, "replay: %v", err)
		return ""
	}
	top, err := os.OpenRoot(s.dir)
	if err != nil {
		plain(w, http.StatusInternalServerError, "replay: %v", err)
		return ""
	}
	defer top.Close()
	root, err := top.OpenRoot(host)
	if err != nil {
		plain(w, http.StatusNotFound, "replay: unknown host %q (no directory %s)", host, host)
		return ""
	}
	defer root.Close()
	t, err := resolve(root, rel, dir, r.URL.RawQuery)
	if err != nil {
		plain(w, http.StatusNotFound, "replay: no snapshot for %s%s", host, r.URL.RequestURI())
		return ""
	}
	name := t.body
	if name == "" {
		name = t.sidecar
	}
	if err := s.write(w, r, root, t); err != nil {
		plain(w, http.StatusInternalServerError, "replay: %s/%s: %v", host, name, err)
	}
	return host + "/" + name
}

// write sends the file and sidecar of t, honouring conditional headers.
func (s *Server) write(w http.ResponseWriter, r *http.Request, root *os.Root, t target) error {
	sc := sidecar{header: http.Header{}}
	if t.sidecar != "" {
		b, err := root.ReadFile(filepath.FromSlash(t.sidecar))
		if err != nil {
			return err
		}
		if sc, err = parseSidecar(b); err != nil {
			return fmt.Errorf("%s: %w", t.sidecar, err)
		}
	}
	var body []byte
	if t.body != "" {
		var err error
		if body, err = root.ReadFile(filepath.FromSlash(t.body)); err != nil {
			return err
		}
	} else if sc.status == 0 {
		return fmt.Errorf("%s: a sidecar without a body file needs a Status line: %w", t.sidecar, fs.ErrInvalid)
	}

	h := w.Header()
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	h.Set("Last-Modified", DefaultLastModified.UTC().Format(http.TimeFormat))
	if t.body != "" {
		sum := sha256.Sum256(body)
		h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
		h.Set("Content-Type", contentType(t.typeName, body))
	}
	for k, vs := range sc.header {
		h[k] = vs
	}
	status := sc.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusOK && notModified(r, h.Get("ETag"), h.Get("Last-Modified"), t.body != "") {
		h.Del("Content-Type")
		h.Del("Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// notModified applies If-None-Match (weak comparison, wins when present) and
// If-Modified-Since.
func notModified(r *http.Request, etag, lastModified string, hasBody bool) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etag == "" {
			return false
		}
		for tag := range strings.SplitSeq(inm, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" && hasBody || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	if err != nil {
		return false
	}
	lm, err := http.ParseTime(lastModified)
	if err != nil {
		return false
	}
	return !lm.Truncate(time.Second).After(ims)
}

// plain writes a short text/plain answer.
func plain(w http.ResponseWriter, status int, format string, args ...any) {
	h := w.Header()
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, format+"\n", args...)
}

// recorder remembers the status written, for the log and the counters.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
