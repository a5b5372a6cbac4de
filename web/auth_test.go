package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

var _ Accounts = (*service.Accounts)(nil)

type authClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *authClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type authFixture struct {
	srv   *httptest.Server
	web   *Server
	acc   *service.Accounts
	clock *authClock
}

const testPassword = "a long enough passphrase"

// newAuthFixture runs the site over a real store and service.Accounts,
// with test-only routes behind requireRole and requireRead.
func newAuthFixture(t *testing.T, public bool, baseURL string) *authFixture {
	t.Helper()
	ctx := context.Background()
	clk := &authClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "evidence.db"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acc := service.NewAccounts(service.AccountsOptions{Store: st, Now: clk.Now, SessionTTL: 24 * time.Hour,
		Hash: service.HashParams{Memory: 64, Time: 1, Threads: 1}})
	for _, u := range []struct{ email, role string }{
		{"reader@example.org", evidence.RoleReader}, {"curator@example.org", evidence.RoleCurator},
	} {
		if _, err := acc.AddUser(ctx, u.email, u.role, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Options{Accounts: acc, Public: public, BaseURL: baseURL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok "+principal(r).User.Email)
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /curate", s.requireRole(evidence.RoleCurator, ok))
	m.HandleFunc("GET /api/v1/curate", s.requireRole(evidence.RoleCurator, ok))
	m.HandleFunc("POST /api/v1/curate", s.requireRole(evidence.RoleCurator, ok))
	m.HandleFunc("GET /read", s.requireRead(ok))
	m.HandleFunc("GET /api/v1/read", s.requireRead(ok))
	m.Handle("/", s.mux)
	s.mux = m
	f := &authFixture{web: s, acc: acc, clock: clk}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type result struct {
	status int
	body   string
	header http.Header
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values, header map[string]string) result {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, string(b), resp.Header}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginForm opens /login and returns the form's CSRF token.
func (f *authFixture) loginForm(t *testing.T, c *http.Client) string {
	t.Helper()
	res := do(t, c, "GET", f.srv.URL+"/login", nil, nil)
	m := csrfInput.FindStringSubmatch(res.body)
	if res.status != 200 || m == nil {
		t.Fatalf("GET /login = %d\n%s", res.status, res.body)
	}
	return m[1]
}

// signIn signs c in and returns the sign-in response.
func (f *authFixture) signIn(t *testing.T, c *http.Client, email, next string) result {
	t.Helper()
	tok := f.loginForm(t, c)
	res := do(t, c, "POST", f.srv.URL+"/login", url.Values{"csrf": {tok}, "email": {email}, "password": {testPassword}, "next": {next}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s = %d\n%s", email, res.status, res.body)
	}
	return res
}

func (f *authFixture) cookie(c *http.Client, name string) string {
	u, _ := url.Parse(f.srv.URL)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

func setCookie(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestLoginPageMarkup(t *testing.T) {
	f := newAuthFixture(t, true, "")
	c := newBrowser(t)
	res := do(t, c, "GET", f.srv.URL+"/login?next=/curate", nil, nil)
	for _, want := range []string{
		`<form method="post" action="/login">`,
		`<input name="email" id="email" type="email" autocomplete="username">`,
		`<input name="password" id="password" type="password" autocomplete="current-password">`,
		`<input type="hidden" name="csrf" value="`,
		`<input type="hidden" name="next" value="/curate">`,
		`<button type="submit">Sign in</button>`,
		`<label for="email">`, `<label for="password">`,
		`<a href="/login">Sign in</a>`,
		`<meta name="robots" content="noindex">`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if strings.Contains(res.body, `action="/logout"`) {
		t.Error("signed-out page has a sign-out form")
	}
}

func TestLogin(t *testing.T) {
	f := newAuthFixture(t, true, "")
	c := newBrowser(t)
	tok := f.loginForm(t, c)
	res := do(t, c, "POST", f.srv.URL+"/login", url.Values{"csrf": {tok}, "email": {" Curator@Example.org "}, "password": {testPassword}, "next": {"/curate?x=1"}}, nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/curate?x=1" {
		t.Fatalf("sign in = %d, Location %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	sc := setCookie(res.header, sessionCookieName)
	if sc == nil || sc.Value == "" || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure || sc.MaxAge != 24*3600 {
		t.Errorf("session cookie = %+v", sc)
	}
	if got := f.cookie(c, csrfCookie); got == "" || got == tok {
		t.Errorf("the CSRF token was not rotated at sign-in (%q)", got)
	}

	res = do(t, c, "GET", f.srv.URL+"/curate?x=1", nil, nil)
	if res.status != 200 || res.body != "ok curator@example.org" {
		t.Fatalf("after sign-in /curate = %d %q", res.status, res.body)
	}
	// The layout names the reader and offers the sign-out form.
	res = do(t, c, "GET", f.srv.URL+"/no-such-page", nil, nil)
	for _, want := range []string{"curator@example.org", `<form method="post" action="/logout" class="signout">`, `<button type="submit">Sign out</button>`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("signed-in page lacks %s", want)
		}
	}
	if m := csrfInput.FindStringSubmatch(res.body); m == nil || m[1] != f.cookie(c, csrfCookie) {
		t.Errorf("sign-out form's CSRF token %v does not match the cookie", m)
	}
	if strings.Contains(res.body, `<a href="/login">Sign in</a>`) {
		t.Error("signed-in page offers to sign in")
	}
	if cc := res.header.Get("Cache-Control"); cc != "private, no-cache" {
		t.Errorf("signed-in page Cache-Control = %q", cc)
	}
	if sc := setCookie(res.header, sessionCookieName); sc == nil || sc.MaxAge <= 0 {
		t.Errorf("signed-in page did not renew the session cookie: %+v", sc)
	}
	// Signed in, /login goes straight on.
	if res := do(t, c, "GET", f.srv.URL+"/login?next=/read", nil, nil); res.status != http.StatusSeeOther || res.header.Get("Location") != "/read" {
		t.Errorf("GET /login signed in = %d %q", res.status, res.header.Get("Location"))
	}
}

func TestLoginRefused(t *testing.T) {
	f := newAuthFixture(t, true, "")
	wrong := map[string]string{}
	for _, tt := range []struct{ name, email, password string }{
		{"wrong password", "reader@example.org", testPassword + "x"},
		{"unknown address", "nobody@example.org", testPassword},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newBrowser(t)
			tok := f.loginForm(t, c)
			res := do(t, c, "POST", f.srv.URL+"/login", url.Values{"csrf": {tok}, "email": {tt.email}, "password": {tt.password}}, nil)
			if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "The e-mail address or the password is not right") {
				t.Fatalf("= %d\n%s", res.status, res.body)
			}
			if setCookie(res.header, sessionCookieName) != nil {
				t.Error("a refused sign-in set a session cookie")
			}
			if !strings.Contains(res.body, `value="`+tt.email+`"`) {
				t.Error("the address typed is not kept in the form")
			}
			wrong[tt.name] = csrfInput.ReplaceAllString(strings.ReplaceAll(res.body, tt.email, ""), "")
		})
	}
	if wrong["wrong password"] != wrong["unknown address"] {
		t.Error("the page for a wrong password differs from the one for an unknown address")
	}
}

func TestLoginRateLimited(t *testing.T) {
	f := newAuthFixture(t, true, "")
	c := newBrowser(t)
	tok := f.loginForm(t, c)
	form := url.Values{"csrf": {tok}, "email": {"reader@example.org"}, "password": {"guess guess guess"}}
	for i := range loginTries {
		if res := do(t, c, "POST", f.srv.URL+"/login", form, nil); res.status != http.StatusUnauthorized {
			t.Fatalf("try %d = %d", i+1, res.status)
		}
	}
	form.Set("password", testPassword) // even the right password waits
	res := do(t, c, "POST", f.srv.URL+"/login", form, nil)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || !strings.Contains(res.body, "Too many sign-in attempts") {
		t.Fatalf("try %d = %d %q", loginTries+1, res.status, res.header.Get("Retry-After"))
	}
	f.clock.Advance(loginWindow + time.Second)
	if res := do(t, c, "POST", f.srv.URL+"/login", form, nil); res.status != http.StatusSeeOther {
		t.Errorf("after the window = %d", res.status)
	}
}

func TestLoginCSRF(t *testing.T) {
	f := newAuthFixture(t, true, "")
	for _, tt := range []struct {
		name   string
		token  func(real string) string
		header map[string]string
	}{
		{"missing", func(string) string { return "" }, nil},
		{"forged", func(string) string { return strings.Repeat("A", 43) }, nil},
		{"cross-site origin", func(real string) string { return real }, map[string]string{"Origin": "https://evil.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newBrowser(t)
			real := f.loginForm(t, c)
			res := do(t, c, "POST", f.srv.URL+"/login", url.Values{"csrf": {tt.token(real)}, "email": {"reader@example.org"}, "password": {testPassword}}, tt.header)
			if res.status != http.StatusForbidden || setCookie(res.header, sessionCookieName) != nil {
				t.Errorf("= %d, cookie %v", res.status, setCookie(res.header, sessionCookieName))
			}
		})
	}
	// No CSRF cookie at all (cookies blocked): refused too.
	res := do(t, http.DefaultClient, "POST", f.srv.URL+"/login", url.Values{"csrf": {strings.Repeat("A", 43)}, "email": {"reader@example.org"}, "password": {testPassword}}, nil)
	if res.status != http.StatusForbidden {
		t.Errorf("no cookie = %d", res.status)
	}
}

func TestLoginNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                        "/",
		"/curate?x=1#top":         "/curate?x=1#top",
		"//evil.example/":         "/",
		"https://evil.example/":   "/",
		"/\\evil.example":         "/",
		"/ok\r\nSet-Cookie: x=1":  "/",
		"javascript:alert(1)":     "/",
		"/login?next=/login":      "/",
		"/logout":                 "/",
		"relative/path":           "/",
		"/%2F%2Fevil.example":     "/%2F%2Fevil.example",
		"/search?q=" + "a%20b&x=": "/search?q=a%20b&x=",
	} {
		if got := localPath(next); got != want {
			t.Errorf("localPath(%q) = %q, want %q", next, got, want)
		}
	}
	f := newAuthFixture(t, true, "")
	c := newBrowser(t)
	if res := f.signIn(t, c, "reader@example.org", "//evil.example/"); res.header.Get("Location") != "/" {
		t.Errorf("sign-in sent the reader to %q", res.header.Get("Location"))
	}
}

func TestLogout(t *testing.T) {
	f := newAuthFixture(t, true, "")
	c := newBrowser(t)
	f.signIn(t, c, "curator@example.org", "/")
	old := f.cookie(c, sessionCookieName)

	// Without the CSRF token nothing happens.
	if res := do(t, c, "POST", f.srv.URL+"/logout", url.Values{}, nil); res.status != http.StatusForbidden {
		t.Errorf("logout without CSRF = %d", res.status)
	}
	if res := do(t, c, "GET", f.srv.URL+"/curate", nil, nil); res.status != 200 {
		t.Fatalf("a refused logout signed out: %d", res.status)
	}

	res := do(t, c, "POST", f.srv.URL+"/logout", url.Values{"csrf": {f.cookie(c, csrfCookie)}}, nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
		t.Fatalf("logout = %d %q", res.status, res.header.Get("Location"))
	}
	if sc := setCookie(res.header, sessionCookieName); sc == nil || sc.MaxAge >= 0 {
		t.Errorf("logout did not clear the cookie: %+v", sc)
	}
	if res := do(t, c, "GET", f.srv.URL+"/curate", nil, nil); res.status != http.StatusSeeOther {
		t.Errorf("after logout /curate = %d", res.status)
	}
	// The old cookie, replayed, is worth nothing.
	other := newBrowser(t)
	res = do(t, other, "GET", f.srv.URL+"/curate", nil, map[string]string{"Cookie": sessionCookieName + "=" + old})
	if res.status != http.StatusSeeOther {
		t.Errorf("replayed session after logout = %d", res.status)
	}
}

func TestSessionCookieRefused(t *testing.T) {
	f := newAuthFixture(t, true, "")
	c := newBrowser(t)
	f.signIn(t, c, "curator@example.org", "/")
	good := f.cookie(c, sessionCookieName)
	flip := func(s string) string {
		b := []byte(s)
		if b[5] == 'A' {
			b[5] = 'B'
		} else {
			b[5] = 'A'
		}
		return string(b)
	}
	for _, tt := range []struct{ name, value string }{
		{"tampered", flip(good)},
		{"truncated", good[:20]},
		{"garbage", "%00<script>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, http.DefaultClient, "GET", f.srv.URL+"/api/v1/curate", nil, map[string]string{"Cookie": sessionCookieName + "=" + tt.value})
			if res.status != http.StatusUnauthorized {
				t.Errorf("= %d", res.status)
			}
			if sc := setCookie(res.header, sessionCookieName); sc == nil || sc.MaxAge >= 0 {
				t.Errorf("the bad cookie was not cleared: %+v", sc)
			}
		})
	}

	// Expired: unused for longer than the session lasts.
	f.clock.Advance(f.acc.SessionTTL() + time.Minute)
	res := do(t, c, "GET", f.srv.URL+"/curate", nil, nil)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login?next=") {
		t.Errorf("expired session = %d %q", res.status, res.header.Get("Location"))
	}
	if f.cookie(c, sessionCookieName) != "" {
		t.Error("the expired session's cookie was not cleared")
	}
}

func TestSessionSlides(t *testing.T) {
	f := newAuthFixture(t, true, "")
	c := newBrowser(t)
	f.signIn(t, c, "reader@example.org", "/")
	for range 3 {
		f.clock.Advance(20 * time.Hour) // less than the 24 h TTL each time
		if res := do(t, c, "GET", f.srv.URL+"/api/v1/read", nil, nil); res.status != 200 || res.body != "ok reader@example.org" {
			t.Fatalf("after 20 h more = %d %q", res.status, res.body)
		}
	}
}

func TestBearerToken(t *testing.T) {
	f := newAuthFixture(t, true, "")
	tok, err := f.acc.NewToken(context.Background(), "curator@example.org", "script")
	if err != nil {
		t.Fatal(err)
	}
	c := http.DefaultClient
	res := do(t, c, "GET", f.srv.URL+"/api/v1/curate", nil, map[string]string{"Authorization": "Bearer " + tok})
	if res.status != 200 || res.body != "ok curator@example.org" {
		t.Errorf("bearer GET = %d %q", res.status, res.body)
	}
	// A script needs no CSRF token: it carries no ambient credential.
	res = do(t, c, "POST", f.srv.URL+"/api/v1/curate", url.Values{}, map[string]string{"Authorization": "bearer " + tok})
	if res.status != 200 {
		t.Errorf("bearer POST = %d %q", res.status, res.body)
	}
	for _, bad := range []string{tok[:len(tok)-1] + "x", "et_nope", ""} {
		for _, path := range []string{"/api/v1/curate", "/"} {
			res := do(t, c, "GET", f.srv.URL+path, nil, map[string]string{"Authorization": "Bearer " + bad})
			if res.status != http.StatusUnauthorized || !strings.Contains(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("bad token %q on %s = %d", bad, path, res.status)
			}
			var doc struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(res.body), &doc); err != nil || doc.Error.Code != "unauthorized" || doc.Error.Message == "" {
				t.Errorf("bad token body = %q (%v)", res.body, err)
			}
		}
	}
}

func TestRequireRole(t *testing.T) {
	f := newAuthFixture(t, true, "")
	reader, curator := newBrowser(t), newBrowser(t)
	f.signIn(t, reader, "reader@example.org", "/")
	f.signIn(t, curator, "curator@example.org", "/")
	anon := newBrowser(t)
	for _, tt := range []struct {
		name     string
		c        *http.Client
		method   string
		path     string
		header   map[string]string
		status   int
		code     string // API error code
		location string
	}{
		{"page, nobody", anon, "GET", "/curate?x=1", nil, http.StatusSeeOther, "", "/login?next=%2Fcurate%3Fx%3D1"},
		{"page, reader", reader, "GET", "/curate", nil, http.StatusForbidden, "", ""},
		{"page, curator", curator, "GET", "/curate", nil, http.StatusOK, "", ""},
		{"API, nobody", anon, "GET", "/api/v1/curate", nil, http.StatusUnauthorized, "unauthorized", ""},
		{"API, reader", reader, "GET", "/api/v1/curate", nil, http.StatusForbidden, "forbidden", ""},
		{"API, curator", curator, "GET", "/api/v1/curate", nil, http.StatusOK, "", ""},
		{"API POST, session without CSRF header", curator, "POST", "/api/v1/curate", nil, http.StatusForbidden, "csrf", ""},
		{"API POST, session with a wrong CSRF header", curator, "POST", "/api/v1/curate", map[string]string{"X-CSRF-Token": strings.Repeat("x", 43)}, http.StatusForbidden, "csrf", ""},
		{"API POST, session with the CSRF header", curator, "POST", "/api/v1/curate", map[string]string{"X-CSRF-Token": f.cookie(curator, csrfCookie)}, http.StatusOK, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var form url.Values
			if tt.method == "POST" {
				form = url.Values{}
			}
			res := do(t, tt.c, tt.method, f.srv.URL+tt.path, form, tt.header)
			if res.status != tt.status {
				t.Fatalf("= %d, want %d\n%s", res.status, tt.status, res.body)
			}
			if tt.location != "" && res.header.Get("Location") != tt.location {
				t.Errorf("Location = %q, want %q", res.header.Get("Location"), tt.location)
			}
			if tt.code != "" {
				var doc apiError
				if err := json.Unmarshal([]byte(res.body), &doc); err != nil || doc.Error.Code != tt.code {
					t.Errorf("body = %s, want code %s", res.body, tt.code)
				}
				if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q", ct)
				}
			}
			if tt.status == http.StatusUnauthorized && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestPrivateMode(t *testing.T) {
	for _, public := range []bool{true, false} {
		f := newAuthFixture(t, public, "")
		anon := newBrowser(t)
		page := do(t, anon, "GET", f.srv.URL+"/read", nil, nil)
		api := do(t, anon, "GET", f.srv.URL+"/api/v1/read", nil, nil)
		if public {
			if page.status != 200 || api.status != 200 {
				t.Errorf("public: anonymous read = %d, API %d", page.status, api.status)
			}
			continue
		}
		if page.status != http.StatusSeeOther || page.header.Get("Location") != "/login?next=%2Fread" {
			t.Errorf("private: anonymous page = %d %q", page.status, page.header.Get("Location"))
		}
		if api.status != http.StatusUnauthorized {
			t.Errorf("private: anonymous API = %d", api.status)
		}
		reader := newBrowser(t)
		f.signIn(t, reader, "reader@example.org", "/read")
		if res := do(t, reader, "GET", f.srv.URL+"/read", nil, nil); res.status != 200 {
			t.Errorf("private: signed-in reader = %d", res.status)
		}
	}
}

func TestCookieFlagsSecure(t *testing.T) {
	f := newAuthFixture(t, true, "https://evidence.example.org")
	// The test server speaks plain HTTP, so cookies are handled by hand
	// (a jar would not send Secure cookies back over it).
	res := do(t, http.DefaultClient, "GET", f.srv.URL+"/login", nil, nil)
	csrf := setCookie(res.header, csrfCookie)
	if csrf == nil || !csrf.Secure || !csrf.HttpOnly {
		t.Fatalf("CSRF cookie = %+v", csrf)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res = do(t, c, "POST", f.srv.URL+"/login",
		url.Values{"csrf": {csrf.Value}, "email": {"reader@example.org"}, "password": {testPassword}},
		map[string]string{"Cookie": csrfCookie + "=" + csrf.Value})
	sc := setCookie(res.header, sessionCookieName)
	if res.status != http.StatusSeeOther || sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
		t.Fatalf("sign in = %d, session cookie %+v", res.status, sc)
	}
	if rot := setCookie(res.header, csrfCookie); rot == nil || !rot.Secure || rot.Value == csrf.Value {
		t.Errorf("rotated CSRF cookie = %+v", rot)
	}
}

func TestNoAccounts(t *testing.T) {
	s, err := New(Options{Public: false})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }
	m := http.NewServeMux()
	m.HandleFunc("GET /read", s.requireRead(ok))
	m.HandleFunc("GET /curate", s.requireRole(evidence.RoleCurator, ok))
	m.Handle("/", s.mux)
	s.mux = m
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	c := newBrowser(t)
	home := do(t, c, "GET", srv.URL+"/", nil, nil)
	if strings.Contains(home.body, "Sign in") || strings.Contains(home.body, "/logout") {
		t.Error("a site without accounts offers to sign in")
	}
	for _, path := range []string{"/read", "/curate"} {
		if res := do(t, c, "GET", srv.URL+path, nil, nil); res.status != http.StatusForbidden {
			t.Errorf("%s = %d, want 403 (nobody can sign in)", path, res.status)
		}
	}
	if res := do(t, c, "GET", srv.URL+"/login", nil, nil); res.status != http.StatusNotFound {
		t.Errorf("/login without accounts = %d", res.status)
	}
	// A bearer header is nobody's business when there are no accounts.
	if res := do(t, c, "GET", srv.URL+"/", nil, map[string]string{"Authorization": "Bearer et_x"}); res.status != 200 {
		t.Errorf("bearer without accounts = %d", res.status)
	}
}
