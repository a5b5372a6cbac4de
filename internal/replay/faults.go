package replay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	maxFaultDelay = 30 * time.Second
	maxFaultBytes = 64 << 20
)

// faultMux serves the /__replay/ paths (see the package documentation).
func (s *Server) faultMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__replay/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 200 || code > 599 {
			plain(w, http.StatusBadRequest, "replay: bad status %q", r.PathValue("code"))
			return
		}
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			ra := r.URL.Query().Get("retry_after")
			if _, err := strconv.Atoi(ra); err != nil {
				ra = "1"
			}
			w.Header().Set("Retry-After", ra)
		}
		if code >= 300 && code < 400 {
			if loc := r.URL.Query().Get("location"); loc != "" {
				w.Header().Set("Location", loc)
			}
		}
		plain(w, code, "replay: status %d", code)
	})
	mux.HandleFunc("GET /__replay/delay/{d}", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.PathValue("d"))
		if err != nil || d < 0 || d > maxFaultDelay {
			plain(w, http.StatusBadRequest, "replay: bad delay %q (max %s)", r.PathValue("d"), maxFaultDelay)
			return
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			plain(w, http.StatusOK, "replay: waited %s", d)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("GET /__replay/blocked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("cf-mitigated", "challenge")
		w.Header().Set("Server", "cloudflare")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Just a moment...</title></head>"+
			"<body><!-- SYNTHETIC: replay fault page imitating a bot challenge -->"+
			"<p>Checking your browser before accessing the site.</p></body></html>\n")
	})
	mux.HandleFunc("GET /__replay/bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n > maxFaultBytes {
			plain(w, http.StatusBadRequest, "replay: bad size %q (max %d)", r.PathValue("n"), maxFaultBytes)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		if r.Method == http.MethodHead {
			return
		}
		line := []byte(strings.Repeat("x", 63) + "\n")
		for n > 0 {
			k := min(n, len(line))
			if _, err := w.Write(line[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	mux.HandleFunc("GET /__replay/hangup", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			plain(w, http.StatusInternalServerError, "replay: hangup: %v", err)
			return
		}
		_ = conn.Close()
	})
	mux.HandleFunc("GET /__replay/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Stats())
	})
	mux.HandleFunc("/__replay/", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusNotFound, "replay: no fault path %s", r.URL.Path)
	})
	return mux
}
