package web

import (
	"net/http"
	"time"
)

// observe counts each request by route pattern and status (Metrics). It
// sits outside recoverPanics, so a handler's panic counts as the 500 it
// became.
//
// The route is the pattern of s.mux that serves the request ("GET
// /digests/{week}"), never its path, so the label set stays bounded. The
// mux sets Request.Pattern only on the request it is handed, which the
// middleware in between may have copied (WithContext), so this asks the
// mux itself which pattern the request matches: the same lookup it is
// about to do. A request no pattern matches (a 405, a redirect to a
// cleaned path of no route) counts as "other".
func (s *Server) observe(next http.Handler) http.Handler {
	if s.opts.Metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := s.routeOf(r) // before a handler can touch the request
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http sends 200
		}
		s.opts.Metrics.ObserveRequest(route, status, time.Since(start))
	})
}

// routeOf is the pattern that serves r, or "" when none matches.
func (s *Server) routeOf(r *http.Request) string {
	if r.Method == http.MethodConnect {
		// The mux names a CONNECT redirect by its path: unbounded.
		return ""
	}
	_, pattern := s.mux.Handler(r)
	if pattern == "/" {
		return "" // the catch-all: a 404 or 405 page, counted as "other"
	}
	return pattern
}

// metricsRoutes adds GET /metrics when Options.Metrics is set.
func (s *Server) metricsRoutes(m *http.ServeMux) {
	if s.opts.Metrics == nil {
		return
	}
	h := s.opts.Metrics.Handler()
	m.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
