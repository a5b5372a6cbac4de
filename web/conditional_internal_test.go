package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMicroCache(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := &Server{opts: Options{Now: func() time.Time { return now }}}
	calls := 0
	h := s.conditional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.URL.Query().Get("cookie") != "" {
			http.SetCookie(w, &http.Cookie{Name: "et_csrf", Value: "x"})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(strings.Repeat("<p>results</p>", 200)))
	}))
	get := func(path string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	steps := []struct {
		name      string
		path      string
		hdr       []string
		advance   time.Duration
		wantCalls int
	}{
		{"first anonymous search renders", "/search?q=care", nil, 0, 1},
		{"the same again is kept", "/search?q=care", []string{"Accept-Encoding", "gzip"}, time.Second, 1},
		{"another query renders", "/search?q=housing", nil, 0, 2},
		{"a signed-in reader always renders", "/search?q=care", []string{"Cookie", "et_session=abc"}, 0, 3},
		{"a script with a token always renders", "/search?q=care", []string{"Authorization", "Bearer et_x"}, 0, 4},
		{"pages outside the catalogue are not kept", "/digests", nil, 0, 5},
		{"nor again", "/digests", nil, 0, 6},
		{"a response that sets a cookie is not kept", "/search?q=x&cookie=1", nil, 0, 7},
		{"nor again", "/search?q=x&cookie=1", nil, 0, 8},
		{"after the TTL it renders again", "/search?q=care", nil, microTTL, 9},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		w := get(st.path, st.hdr...)
		if w.Code != 200 || calls != st.wantCalls {
			t.Errorf("%s: status %d, %d renders, want 200 and %d", st.name, w.Code, calls, st.wantCalls)
		}
	}
	// A kept response still answers If-None-Match and gzip.
	first := get("/search?q=care")
	etag := first.Header().Get("ETag")
	if w := get("/search?q=care", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match on a kept page = %d", w.Code)
	}
	if w := get("/search?q=care", "Accept-Encoding", "gzip"); w.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("a kept page is not gzipped for a client that accepts it")
	}
}
