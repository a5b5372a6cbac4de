package web

// STUB: the OPML work replaces this file (/sources.opml).

import "net/http"

// opmlRoutes adds /sources.opml when Options.SourcesOPML is set.
func (s *Server) opmlRoutes(m *http.ServeMux) {}
