package web

// STUB: the metrics work replaces this file.

import "net/http"

// observe counts each request by route pattern and status (Metrics).
func (s *Server) observe(next http.Handler) http.Handler { return next }

// metricsRoutes adds GET /metrics when Options.Metrics is set.
func (s *Server) metricsRoutes(m *http.ServeMux) {}
