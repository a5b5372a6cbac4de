package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCrossSiteFormPostsRefused: a form another site submits (its Origin,
// no CSRF token, or a forged one) changes nothing. The one-click
// unsubscribe is the exception by design (RFC 8058): its signed token is
// the authority, and a mail client posts it from anywhere.
func TestCrossSiteFormPostsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before, err := f.st.Subscribers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		form       url.Values
		header     map[string]string
	}{
		{"subscribe, other origin", "/subscribe", url.Values{"email": {"victim@example.org"}, "csrf": {strings.Repeat("a", 43)}}, map[string]string{"Origin": "https://evil.example", "Cookie": "et_csrf=" + strings.Repeat("a", 43)}},
		{"subscribe, no token", "/subscribe", url.Values{"email": {"victim@example.org"}}, nil},
		{"subscribe, forged token", "/subscribe", url.Values{"email": {"victim@example.org"}, "csrf": {strings.Repeat("b", 43)}}, map[string]string{"Cookie": "et_csrf=" + strings.Repeat("a", 43)}},
		{"preferences, no token", "/preferences", url.Values{"token": {"x"}, "topic": {"recovery"}}, map[string]string{"Origin": "https://evil.example"}},
		{"login, other origin", "/login", url.Values{"email": {"a@example.org"}, "password": {"x"}}, map[string]string{"Origin": "https://evil.example"}},
		{"logout, no token", "/logout", url.Values{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", f.srv.URL+tc.path, strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// 403 for a refused form; 404/405 where the fixture has no
			// such route (no accounts here): never a 2xx or 3xx.
			if resp.StatusCode < 400 {
				t.Errorf("POST %s = %d, want it refused", tc.path, resp.StatusCode)
			}
		})
	}
	after, err := f.st.Subscribers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || f.smtp.Count() != 0 {
		t.Errorf("subscribers %d → %d, %d mails sent: a refused form changed something", len(before), len(after), f.smtp.Count())
	}
}
