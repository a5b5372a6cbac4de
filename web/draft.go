package web

// STUB: the digest-curation work replaces this file (/digests/draft and
// the admins' subscriber pages).

import "net/http"

// Curation is the coming digest's draft as curators edit it.
type Curation interface{}

// SubscriberAdmin is what admins do with subscribers.
type SubscriberAdmin interface{}

// draftRoutes adds /digests/draft and /admin/subscribers when
// Options.Curation or Options.SubscriberAdmin is set.
func (s *Server) draftRoutes(m *http.ServeMux) {}
