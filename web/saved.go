package web

// STUB: the saved-searches work replaces this file.

import "net/http"

// SavedSearches keeps signed-in users' saved searches.
type SavedSearches interface{}

// savedRoutes adds /saved and the saved searches' feeds when
// Options.Saved is set.
func (s *Server) savedRoutes(m *http.ServeMux) {}
