package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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

	// The cite-as downloads of an appraised report round-trip through
	// evidence import: into an empty data dir each gives back one item with
	// the same title, URL and authors.
	var rep doc
	if code := h.runJSON(&rep, "search", "recovery public mental health", "--source", "centre-for-mental-health", "--limit", "1", "--json"); code != 0 || len(rep.Hits) != 1 {
		t.Fatalf("the ImROC briefing: exit %d, %+v", code, rep)
	}
	var orig struct {
		Title   string   `json:"title"`
		URL     string   `json:"url"`
		Authors []string `json:"authors"`
	}
	if code := h.runJSON(&orig, "show", rep.Hits[0].ID, "--json"); code != 0 {
		t.Fatal("show the briefing")
	}
	for _, ext := range []string{".ris", ".bib", ".csl.json"} {
		code, body := get("/items/" + rep.Hits[0].ID + ext)
		if code != 200 {
			t.Fatalf("GET %s = %d", ext, code)
		}
		file := filepath.Join(t.TempDir(), "cite"+ext)
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		citeParse(t, file, map[string]string{".ris": "ris", ".bib": "bibtex", ".csl.json": "csl-json"}[ext], orig.Title)
		fresh := *h
		fresh.data = t.TempDir()
		if out, code := fresh.run("import", file, "--json"); code != 0 {
			t.Fatalf("import %s: exit %d\n%s\n%s", ext, code, out, body)
		}
		var back struct {
			Total int `json:"total"`
			Hits  []struct {
				Title   string   `json:"title"`
				URL     string   `json:"url"`
				Authors []string `json:"authors"`
			} `json:"hits"`
		}
		if code := fresh.runJSON(&back, "search", "", "--json"); code != 0 || back.Total != 1 {
			t.Fatalf("%s imported %d items, want 1", ext, back.Total)
		}
		if got := back.Hits[0]; got.Title != orig.Title || got.URL != orig.URL || !slices.Equal(got.Authors, orig.Authors) {
			t.Errorf("%s round trip = %+v, want %+v", ext, got, orig)
		}
	}
}

// citeParse reads a served citation with citation.js (the stand-in for
// Zotero's importers, see export/testdata/citeparse.mjs) and checks it
// gives one reference with the title. Without node or the modules it says
// how to install them and skips the check, except on CI, which has them.
func citeParse(t *testing.T, file, format, title string) {
	t.Helper()
	node, err := exec.LookPath("node")
	modules, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "npm", "node_modules"))
	if _, merr := os.Stat(filepath.Join(modules, "@citation-js", "core")); err != nil || merr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or citation.js missing on CI (.ci/run installs them): %v %v", err, merr)
		}
		t.Logf("citation.js check skipped: install node and run (cd testdata/npm && npm ci)")
		return
	}
	script, _ := filepath.Abs(filepath.Join("..", "..", "export", "testdata", "citeparse.mjs"))
	cmd := exec.Command(node, script, file, format)
	cmd.Env = append(os.Environ(), "CITEPARSE_NODE_MODULES="+modules)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("citation.js could not read the served %s: %v", format, err)
	}
	var refs []struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal(out, &refs); err != nil || len(refs) != 1 || refs[0].Title != title {
		t.Errorf("citation.js read the served %s as %s (err %v), want one reference titled %q", format, out, err, title)
	}
}
