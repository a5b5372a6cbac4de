package web

import "net/http"

// catalogRoutes: the search, item, topic and sources pages.
func (s *Server) catalogRoutes(m *http.ServeMux) {}

// apiRoutes: /api/v1.
func (s *Server) apiRoutes(m *http.ServeMux) {}
