package web

// STUB: the accounts work replaces this file (sessions, login/logout pages,
// bearer tokens, role checks). The names below are the hooks web.go uses.

import (
	"context"
	"net/http"

	"github.com/evidencetracker/evidence"
)

type ctxKey int

const principalKey ctxKey = iota

// authenticate puts the request's principal (session cookie or bearer
// token) in its context.
func (s *Server) authenticate(next http.Handler) http.Handler { return next }

// principal is who the request is from (zero when nobody).
func principal(r *http.Request) evidence.Principal {
	p, _ := r.Context().Value(principalKey).(evidence.Principal)
	return p
}

func withPrincipal(ctx context.Context, p evidence.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// authRoutes adds /login and /logout.
func (s *Server) authRoutes(m *http.ServeMux) {}

// requireRole refuses a request whose principal lacks role: a page asks
// for sign-in, /api/v1 answers 401 (nobody) or 403 (too weak a role).
func (s *Server) requireRole(role string, h http.HandlerFunc) http.HandlerFunc { return h }

// canRead reports whether the request may read the catalogue
// (web.public, or signed in).
func (s *Server) canRead(r *http.Request) bool { return s.opts.Public || !principal(r).Anonymous() }

// requireRead lets a request read when canRead; else a page asks for
// sign-in and the API answers 401.
func (s *Server) requireRead(h http.HandlerFunc) http.HandlerFunc { return h }
