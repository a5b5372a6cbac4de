package bench

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPTargets(t *testing.T) {
	ts := HTTPTargets()
	if len(ts) != 2 || ts[0].Endpoint != EndpointSearchPage || ts[1].Endpoint != EndpointSearchAPI {
		t.Fatalf("targets %+v", ts)
	}
	if len(ts[0].Paths) != len(ts[1].Paths) || len(ts[0].Paths) < 40 {
		t.Fatalf("%d page paths, %d API paths", len(ts[0].Paths), len(ts[1].Paths))
	}
	kinds := map[string]int{}
	for i, p := range ts[0].Paths {
		u, err := url.Parse(p)
		if err != nil || u.Path != "/search" {
			t.Fatalf("page path %q: %v", p, err)
		}
		a, _ := url.Parse(ts[1].Paths[i])
		if a.Path != "/api/v1/search" || a.Query().Get("q") != u.Query().Get("q") {
			t.Errorf("request %d differs between page and API: %q, %q", i, p, ts[1].Paths[i])
		}
		q := u.Query()
		switch {
		case q.Get("q") == "":
			kinds["empty"]++
		case q.Get("page") == "2":
			kinds["page 2"]++
			if a.Query().Get("offset") != "20" {
				t.Errorf("API second page %q", ts[1].Paths[i])
			}
		case strings.HasPrefix(q.Get("q"), `"`):
			kinds["phrase"]++
		case q.Get("source") != "" && q.Get("from") != "":
			kinds["source and dates"]++
		case q.Get("type") != "" || q.Get("topic") != "":
			kinds["type or topic"]++
		default:
			kinds["words"]++
		}
	}
	for _, k := range []string{"empty", "page 2", "phrase", "source and dates", "type or topic", "words"} {
		if kinds[k] == 0 {
			t.Errorf("no %s query in the mix %v", k, kinds)
		}
	}
}

func TestCheckTargets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/private":
			http.Error(w, "sign in", http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	check := func(path string) error {
		return CheckTargets(t.Context(), srv.Client(), srv.URL, []HTTPTarget{{Endpoint: "GET " + path, Paths: []string{path + "?q=x"}}})
	}
	if err := check("/ok"); err != nil {
		t.Errorf("/ok: %v", err)
	}
	if err := check("/search"); !errors.Is(err, ErrRouteNotServed) || !strings.Contains(err.Error(), "GET /search") {
		t.Errorf("404: %v", err)
	}
	if err := check("/private"); err == nil || errors.Is(err, ErrRouteNotServed) || !strings.Contains(err.Error(), "401") {
		t.Errorf("401: %v", err)
	}
}

func TestRunHTTPCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/b" && n.Add(1)%3 == 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	rep, err := RunHTTP(t.Context(), HTTPOptions{
		BaseURL: srv.URL, Clients: 3, Duration: 300 * time.Millisecond, Items: 7,
		Targets: []HTTPTarget{{Endpoint: "GET /a", Paths: []string{"/a?q=1", "/a?q=2"}}, {Endpoint: "GET /b", Paths: []string{"/b"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Ingest != nil || rep.Items != 7 || rep.Clients != 3 {
		t.Fatalf("report %+v", rep)
	}
	a, b := rep.Runs[0].Endpoints[0], rep.Runs[0].Endpoints[1]
	if a.Requests == 0 || a.Errors != 0 || a.P50MS <= 0 {
		t.Errorf("GET /a: %+v", a)
	}
	if b.Errors == 0 || b.ErrorsBy["status 503"] != b.Errors || b.Errors >= b.Requests {
		t.Errorf("GET /b: %+v", b)
	}
}
