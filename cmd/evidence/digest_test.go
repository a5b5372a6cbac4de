package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// digestJSON is the part of `digest build --json` the test reads.
type digestJSON struct {
	Week   string `json:"week"`
	Counts struct {
		Items int `json:"items"`
	} `json:"counts"`
	Picks []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"picks"`
	Excluded []struct {
		ID     string `json:"id"`
		Title  string `json:"title"`
		Reason string `json:"reason"`
	} `json:"excluded"`
	Skip bool `json:"skip"`
}

// TestDigestBuildEndToEnd: a librarian's import first seen in 2026-W42
// makes no digest by itself; picked, it leads the digest.
func TestDigestBuildEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, "127.0.0.1:1")
	dir := t.TempDir()
	refs := filepath.Join(dir, "refs.jsonl")
	lines := []map[string]any{
		{"url": "https://www.kingsfund.org.uk/insight-and-analysis/reports/digest-e2e-one", "title": "Digest test report one",
			"source": "kings-fund", "type": "report", "published": "2024-05-01T00:00:00Z", "first_seen": "2026-10-14T09:00:00Z",
			"summary": "The first report. It has two sentences. And a third."},
		{"url": "https://www.kingsfund.org.uk/insight-and-analysis/reports/digest-e2e-two", "title": "Digest test report two",
			"source": "kings-fund", "type": "report", "first_seen": "2026-10-15T09:00:00Z"},
	}
	var b strings.Builder
	for _, l := range lines {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(refs, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, code := h.run("import", refs); code != 0 {
		t.Fatalf("import exited %d", code)
	}

	var d digestJSON
	if code := h.runJSON(&d, "digest", "build", "--week", "2026-W42", "--json"); code != 0 {
		t.Fatalf("digest build exited %d", code)
	}
	t.Run("imports count only when picked", func(t *testing.T) {
		if d.Week != "2026-W42" || d.Counts.Items != 0 || !d.Skip || len(d.Excluded) != 2 {
			t.Fatalf("digest %+v: want no items, skipped, two excluded", d)
		}
		for _, x := range d.Excluded {
			if x.Reason != "imported" {
				t.Errorf("%s excluded as %q, want imported", x.Title, x.Reason)
			}
		}
	})
	t.Run("a picked import leads the digest", func(t *testing.T) {
		out := filepath.Join(dir, "digest.txt")
		if _, code := h.run("digest", "build", "--week", "2026-W42", "--pick", d.Excluded[0].ID, "--format", "text", "--out", out); code != 0 {
			t.Fatalf("exit %d", code)
		}
		text, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "EDITOR'S PICKS") || !strings.Contains(string(text), d.Excluded[0].Title) {
			t.Errorf("digest text lacks the pick:\n%s", text)
		}
	})
	t.Run("send_empty makes a short digest", func(t *testing.T) {
		h.env = append(h.env, "EVIDENCE_DIGEST_SEND_EMPTY=true")
		out, code := h.run("digest", "build", "--week", "2026-W50", "--format", "markdown")
		if code != 0 || !strings.Contains(out, "Nothing new this week") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"digest", "build", "--week", "2025-W53"},
			{"digest", "build", "--format", "pdf"},
			{"digest", "build", "--source", "nosuch"},
			{"digest", "build", "--subscriber", "not an address"},
			{"digest", "build", "--note", "a", "--note-file", "b"},
		} {
			if _, code := h.run(args...); code != 2 {
				t.Errorf("%v exited %d, want 2", args, code)
			}
		}
	})
}
