package web

// Accounts on the web: the session cookie and API bearer tokens, the
// sign-in and sign-out forms, and the role checks handlers wrap
// themselves in (requireRole, requireRead).

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

type ctxKey int

const principalKey ctxKey = iota

// sessionCookieName carries the session token (the store keeps only its hash).
const sessionCookieName = "et_session"

// Sign-in attempts allowed per client address per window.
const (
	loginTries  = 10
	loginWindow = 15 * time.Minute
)

// authenticate puts the request's principal (session cookie or bearer
// token) in its context. A bad bearer token is refused at once (401): a
// script must not silently run as nobody. A cookie whose session is
// unknown, tampered with or expired is cleared and the request goes on
// anonymously.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if s.opts.Accounts == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); strings.EqualFold(scheme, "Bearer") {
			p, err := s.opts.Accounts.Bearer(ctx, strings.TrimSpace(token))
			switch {
			case errors.Is(err, evidence.ErrNotFound):
				s.log.Info("web: API token refused", "client", clientAddr(r), "path", r.URL.Path)
				w.Header().Set("WWW-Authenticate", `Bearer realm="evidence", error="invalid_token"`)
				writeAPIError(w, http.StatusUnauthorized, codeUnauthorized, "The API token is not valid: it may have been revoked, or copied incompletely.")
				return
			case err != nil:
				s.log.Error("web: API token", "err", err)
				writeAPIError(w, http.StatusInternalServerError, codeInternal, "The API token could not be checked just now; please try again.")
				return
			}
			next.ServeHTTP(w, r.WithContext(withPrincipal(ctx, p)))
			return
		}
		if c, err := r.Cookie(sessionCookieName); err == nil && c.Value != "" {
			p, err := s.opts.Accounts.Session(ctx, c.Value)
			switch {
			case err == nil:
				r = r.WithContext(withPrincipal(ctx, p))
			case errors.Is(err, evidence.ErrNotFound):
				http.SetCookie(w, s.sessionCookie("", time.Time{}))
			default:
				// The store is unwell: read on as nobody, but keep the cookie.
				s.log.Error("web: session", "err", err)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// principal is who the request is from (zero when nobody).
func principal(r *http.Request) evidence.Principal {
	p, _ := r.Context().Value(principalKey).(evidence.Principal)
	return p
}

func withPrincipal(ctx context.Context, p evidence.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// sessionCookie is the cookie carrying token until expires; an empty
// token clears it.
func (s *Server) sessionCookie(token string, expires time.Time) *http.Cookie {
	c := &http.Cookie{Name: sessionCookieName, Value: token, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	if token == "" {
		c.MaxAge = -1
		return c
	}
	c.Expires = expires.UTC()
	c.MaxAge = max(int(expires.Sub(s.opts.Now()).Seconds()), 1)
	return c
}

// authRoutes adds /login and /logout.
func (s *Server) authRoutes(m *http.ServeMux) {
	if s.opts.Accounts == nil {
		return
	}
	s.logins = newLimiter(loginTries, loginWindow, s.opts.Now)
	m.HandleFunc("GET /login", s.loginForm)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.logout)
}

type loginData struct {
	Email, Next, Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	if d.Next == "/" {
		d.Next = ""
	}
	s.render(w, r, status, "login", page{Title: "Sign in", Section: "login", NoIndex: true, CSRF: s.csrfToken(w, r), Data: d})
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if p := principal(r); !p.Anonymous() && p.Via == "session" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.loginPage(w, r, http.StatusOK, loginData{Next: next})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read", "Please go back and try again.")
		return
	}
	if !s.checkCSRF(r) {
		s.fail(w, r, http.StatusForbidden, "The form has expired",
			"For your security the sign-in form must be sent from this site, with cookies allowed. Please reload the sign-in page and try again.")
		return
	}
	if !s.logins.allow(clientAddr(r)) {
		w.Header().Set("Retry-After", "900")
		s.fail(w, r, http.StatusTooManyRequests, "Too many sign-in attempts",
			"Too many attempts to sign in have come from your network in the last 15 minutes. Please wait a while and try again.")
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := localPath(r.PostFormValue("next"))
	token, p, err := s.opts.Accounts.Login(r.Context(), email, r.PostFormValue("password"))
	if errors.Is(err, evidence.ErrInvalid) {
		s.loginPage(w, r, http.StatusUnauthorized, loginData{Email: email, Next: next,
			Error: "The e-mail address or the password is not right. Check both and try again."})
		return
	}
	if err != nil {
		s.log.Error("web: sign-in", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "We could not sign you in just now", "Please try again in a few minutes.")
		return
	}
	if c, err := r.Cookie(sessionCookieName); err == nil {
		_ = s.opts.Accounts.Logout(r.Context(), c.Value) // the session this browser had before
	}
	http.SetCookie(w, s.sessionCookie(token, p.SessionExpires))
	s.newCSRFToken(w) // a token seen before signing in is not used after
	s.log.Info("web: signed in", "user", p.User.ID, "client", clientAddr(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read", "Please go back and try again.")
		return
	}
	if !s.checkCSRF(r) {
		s.fail(w, r, http.StatusForbidden, "The form has expired", "Please reload the page and press Sign out again.")
		return
	}
	if c, err := r.Cookie(sessionCookieName); err == nil {
		if err := s.opts.Accounts.Logout(r.Context(), c.Value); err != nil {
			s.log.Error("web: sign-out", "err", err)
			s.fail(w, r, http.StatusServiceUnavailable, "We could not sign you out just now", "Please try again in a moment.")
			return
		}
	}
	http.SetCookie(w, s.sessionCookie("", time.Time{}))
	s.newCSRFToken(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// localPath is next if it is a path on this site, else "/": after
// signing in nobody is sent elsewhere (no open redirect).
func localPath(next string) string {
	if len(next) == 0 || next[0] != '/' || strings.HasPrefix(next, "//") || len(next) > 2000 {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path == "/login" || u.Path == "/logout" {
		return "/"
	}
	return next
}

// isAPI reports whether the request is for the JSON API.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// requireRole refuses a request whose principal lacks role: a page asks
// for sign-in (303 to /login?next=…) or says 403; /api/ answers 401
// (nobody; WWW-Authenticate: Bearer) or 403 (too weak a role). An unsafe
// /api/v1 request made with a session cookie must carry the CSRF token
// in X-CSRF-Token (403 csrf); one with a bearer token need not.
func (s *Server) requireRole(role string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principal(r)
		if p.Anonymous() {
			s.needSignIn(w, r)
			return
		}
		if !p.Can(role) {
			if isAPI(r) {
				writeAPIError(w, http.StatusForbidden, codeForbidden, "This needs the "+role+" role; "+p.User.Email+" is a "+p.User.Role+".")
				return
			}
			s.fail(w, r, http.StatusForbidden, "You cannot use this page",
				"It needs the "+role+" role, and you are signed in as "+p.User.Email+", a "+p.User.Role+". Ask an administrator if you need it.")
			return
		}
		if !s.apiCSRF(w, r) {
			return
		}
		h(w, r)
	}
}

// requireRead lets a request through when it may read the catalogue
// (canRead); otherwise a page goes to sign-in and the API answers 401.
func (s *Server) requireRead(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.canRead(r) {
			s.needSignIn(w, r)
			return
		}
		if !s.apiCSRF(w, r) {
			return
		}
		h(w, r)
	}
}

// needSignIn answers a request that needs someone signed in.
func (s *Server) needSignIn(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="evidence"`)
		writeAPIError(w, http.StatusUnauthorized, codeUnauthorized, "Sign in, or send an API token: Authorization: Bearer et_… (evidence users token EMAIL makes one).")
		return
	}
	if s.opts.Accounts == nil {
		s.fail(w, r, http.StatusForbidden, "This site is private", "Nobody can sign in to it here. Ask its administrator.")
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// apiCSRF checks an unsafe /api/v1 request made with a session cookie
// for X-CSRF-Token matching the CSRF cookie (double submit: another site
// can neither read the cookie nor send the header), answering 403 when
// it does not match. Bearer requests carry no ambient credential.
func (s *Server) apiCSRF(w http.ResponseWriter, r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if principal(r).Via != "session" || (r.URL.Path != "/api/v1" && !strings.HasPrefix(r.URL.Path, "/api/v1/")) {
		return true
	}
	c, err := r.Cookie(csrfCookie)
	if err == nil && len(c.Value) >= 32 && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.Header.Get("X-CSRF-Token"))) == 1 {
		return true
	}
	writeAPIError(w, http.StatusForbidden, codeCSRF, "A request made with a session cookie must send the CSRF token (the et_csrf cookie's value) in the X-CSRF-Token header.")
	return false
}

// canRead reports whether the request may read the catalogue
// (web.public, or signed in).
func (s *Server) canRead(r *http.Request) bool { return s.opts.Public || !principal(r).Anonymous() }

// pageAccount fills the layout's account corner: who is signed in (with
// the sign-out form's CSRF token) or the sign-in link. A page naming its
// reader is never stored by a shared cache, and each one renews the
// session cookie, so the browser keeps it as long as the sliding
// session lasts.
func (s *Server) pageAccount(w http.ResponseWriter, r *http.Request, p *page) {
	if s.opts.Accounts == nil {
		return
	}
	pr := principal(r)
	if pr.Anonymous() {
		p.SignIn = true
		return
	}
	u := pr.User
	p.User = &u
	if p.CSRF == "" {
		p.CSRF = s.csrfToken(w, r)
	}
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		w.Header().Set("Cache-Control", "private, no-cache")
	}
	if c, err := r.Cookie(sessionCookieName); err == nil && pr.Via == "session" && !pr.SessionExpires.IsZero() {
		http.SetCookie(w, s.sessionCookie(c.Value, pr.SessionExpires))
	}
}
