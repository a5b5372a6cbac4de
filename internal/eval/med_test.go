package eval

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/evidencetracker/evidence/index"
)

// medDir is the MED test collection beside the repository (see
// /work/shared/eval/med/SOURCE.txt); tests that need it skip without it.
const medDir = "../../../shared/eval/med"

func loadMED(t *testing.T) *Collection {
	t.Helper()
	if _, err := os.Stat(medDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("MED collection not found at %s (shared eval data absent); skipping", medDir)
	}
	c, err := Load(filepath.Join(medDir, "docs.jsonl"), filepath.Join(medDir, "queries.tsv"), filepath.Join(medDir, "qrels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type closingSearcher interface {
	Searcher
	Close() error
}

// TestMED runs every analysis step and FTS5 on the MED development queries
// and checks the numbers are sane. The targets (nDCG@10 ≥ 0.74 for the
// project's analysis) are printed, not enforced: the analysis is still being
// tuned.
func TestMED(t *testing.T) {
	c := loadMED(t)
	ctx := t.Context()
	type run struct {
		name string
		open func() (closingSearcher, error)
	}
	var runs []run
	for _, st := range Steps() {
		an := st.Analysis
		runs = append(runs, run{"bleve: " + st.Name, func() (closingSearcher, error) {
			return NewBleve(ctx, t.TempDir(), c.Docs, index.Options{Analysis: &an})
		}})
	}
	runs = append(runs, run{"fts5", func() (closingSearcher, error) {
		return NewFTS5(ctx, t.TempDir(), c.Docs)
	}})
	for _, e := range runs {
		s, err := e.open()
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(ctx, e.name, s, c.Topics, c.Qrels)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-36s nDCG@10 %.4f  MAP %.4f  recall@100 %.4f  P@10 %.4f  (%d queries, %d rewritten)",
			e.name, r.NDCG10, r.MAP, r.Recall100, r.P10, len(r.Queries), len(r.Rewritten))
		if len(r.Queries) != len(c.Topics) {
			t.Errorf("%s: scored %d queries, want %d", e.name, len(r.Queries), len(c.Topics))
		}
		for name, v := range map[string]float64{"nDCG@10": r.NDCG10, "MAP": r.MAP, "recall@100": r.Recall100, "P@10": r.P10} {
			if v <= 0.3 || v > 1 {
				t.Errorf("%s: %s = %.4f, want in (0.3, 1]", e.name, name, v)
			}
		}
	}
	t.Log("issue 4 targets: project analysis nDCG@10 ≥ 0.74 on these queries (FTS5 bm25 gives 0.70)")
}
