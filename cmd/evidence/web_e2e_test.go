package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// checkWebOverServe reads the running serve's pages and API over the
// ingested snapshots: the API's search is the CLI's search --json, and the
// hostile markup planted in a National Voices post (a script, event
// handlers, javascript: links) reaches no page or feed as markup.
func checkWebOverServe(t *testing.T, h *harness, s *runningServe) {
	t.Helper()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	type doc struct {
		Total int `json:"total"`
		Hits  []struct {
			ID string `json:"id"`
		} `json:"hits"`
	}
	ids := func(d doc) []string {
		var out []string
		for _, h := range d.Hits {
			out = append(out, h.ID)
		}
		return out
	}
	for _, q := range []string{"social prescribing", `"peer support" -prison`, ""} {
		var cli, api doc
		if code := h.runJSON(&cli, "search", q, "--limit", "10", "--json"); code != 0 {
			t.Fatalf("search %q: exit %d", q, code)
		}
		code, body := get("/api/v1/search?limit=10&q=" + url.QueryEscape(q))
		if err := json.Unmarshal([]byte(body), &api); code != 200 || err != nil {
			t.Fatalf("/api/v1/search?q=%s = %d %v", q, code, err)
		}
		if api.Total != cli.Total || !slices.Equal(ids(api), ids(cli)) {
			t.Errorf("q=%q: API %d %v, CLI %d %v", q, api.Total, ids(api), cli.Total, ids(cli))
		}
	}
	var hostile doc
	if code := h.runJSON(&hostile, "search", `"behind every number"`, "--json"); code != 0 || len(hostile.Hits) != 1 {
		t.Fatalf("the planted post: exit %d, %+v", code, hostile)
	}
	for _, p := range []string{"/items/" + hostile.Hits[0].ID, "/search?q=waiting+lists", "/search.atom?q=waiting+lists", "/topics", "/sources"} {
		code, body := get(p)
		if code != 200 {
			t.Errorf("GET %s = %d", p, code)
		}
		for _, bad := range []string{"<script", "onclick=", "onerror=", "onmouseover=", `href="javascript:`, `href="JaVaScRiPt:`, "evil.example"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s: %q from the hostile post reached the page", p, bad)
			}
		}
	}
	if code, body := get("/items/" + hostile.Hits[0].ID + ".ris"); code != 200 || !strings.HasPrefix(body, "TY  - ") {
		t.Errorf("RIS = %d %q", code, body)
	}
}
