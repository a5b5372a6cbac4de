package web

// STUB: the collections work replaces this file (the Collections
// interface, /collections, /c/{slug}, the API's collection routes).

import "net/http"

// Collections is the librarians' collections service.
type Collections interface{}

// collectionRoutes adds the collection pages and API routes when
// Options.Collections is set.
func (s *Server) collectionRoutes(m *http.ServeMux) {}
