package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
)

const csrfCookie = "et_csrf"

// csrfToken returns the form token for this browser, setting the cookie
// that carries it when there is none (double-submit: a cross-site form
// cannot read the cookie to copy it into the form).
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	return s.newCSRFToken(w)
}

// newCSRFToken sets a fresh token cookie and returns the token (also to
// rotate it when someone signs in or out).
func (s *Server) newCSRFToken(w http.ResponseWriter) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: 12 * 3600,
	})
	return tok
}

// checkCSRF refuses a form post whose token does not match the cookie, or
// that comes from another site (Origin).
func (s *Server) checkCSRF(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}
