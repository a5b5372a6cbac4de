package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command in-process with an empty data directory.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"--data", t.TempDir(), "--log-level", "warn"}, args...)
	code = run(t.Context(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestEvalCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	docs := write("docs.jsonl", `{"id":"1","title":"Social prescribing for older people","body":"Link workers and loneliness."}
{"id":"2","title":"Waiting times","body":"Hospital waits grew."}
{"id":"3","title":"Peer support","body":"Peer workers in mental health teams."}
`)
	queries := write("queries.tsv", "q1\tsocial prescribing\nq2\tpeer workers\nq3\tnothing judged\n")
	qrels := write("qrels.txt", "q1 0 1 1\nq2 0 3 2\nq2 0 2 0\n")
	bad := write("bad.tsv", "q1 no tab\n")

	t.Run("json", func(t *testing.T) {
		out, errs, code := runCLI(t, "eval", "--docs", docs, "--queries", queries, "--qrels", qrels, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var got struct {
			Engine  string  `json:"engine"`
			NDCG    float64 `json:"ndcg@10"`
			MAP     float64 `json:"map"`
			Recall  float64 `json:"recall@100"`
			P10     float64 `json:"p@10"`
			Queries []struct {
				ID   string  `json:"id"`
				NDCG float64 `json:"ndcg@10"`
			} `json:"queries"`
			Runs []struct {
				Engine string `json:"engine"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if got.Engine != "bleve" || got.NDCG != 1 || got.MAP != 1 || got.Recall != 1 || got.P10 != 0.1 {
			t.Errorf("means = %+v, want bleve with perfect rankings", got)
		}
		if len(got.Queries) != 2 || got.Queries[0].ID != "q1" || len(got.Runs) != 2 || got.Runs[1].Engine != "fts5" {
			t.Errorf("queries %+v runs %+v", got.Queries, got.Runs)
		}
	})
	t.Run("table", func(t *testing.T) {
		out, errs, code := runCLI(t, "eval", "--docs", docs, "--queries", queries, "--qrels", qrels, "--engine", "fts5", "--per-query")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{"3 documents, 3 queries (2 with relevant documents)", "fts5", "1.0000", "nDCG@10 per query"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	errTests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing flag", []string{"eval", "--docs", docs}, 2, "--queries is required"},
		{"bad engine", []string{"eval", "--docs", docs, "--queries", queries, "--qrels", qrels, "--engine", "lucene"}, 2, `--engine "lucene"`},
		{"bad file", []string{"eval", "--docs", docs, "--queries", bad, "--qrels", qrels}, 1, "queries line 1: no tab"},
		{"missing file", []string{"eval", "--docs", filepath.Join(dir, "nope"), "--queries", queries, "--qrels", qrels}, 1, "no such file"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.msg)
			}
		})
	}
}

func TestBenchSearchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes generated items twice; skipped with -short")
	}
	feed := filepath.Join("..", "..", "testdata", "snapshots", "www.nationalelfservice.net", "mental-health", "feed", "index.xml")
	out, errs, code := runCLI(t, "bench", "search", "--docs", "60", "--samples", "5", "--feed", feed, "--med", "", "--dir", t.TempDir(), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Docs int `json:"docs"`
		Rows []struct {
			Metric string  `json:"metric"`
			Bleve  float64 `json:"bleve"`
			FTS5   float64 `json:"fts5"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Docs != 60 || len(got.Rows) == 0 || got.Rows[0].Metric != "index rate" {
		t.Errorf("report %+v", got)
	}
	if _, errs, code := runCLI(t, "bench", "search", "--docs", "0"); code != 2 || !strings.Contains(errs, "--docs 0") {
		t.Errorf("--docs 0: exit %d, %q", code, errs)
	}
}
