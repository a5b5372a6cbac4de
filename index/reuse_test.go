package index

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func unmark(s string) string {
	return strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
}

// With a taxonomy, the index reuses the Tagger's analysis of titles,
// summaries and bodies instead of analysing them again: searches must find
// and score exactly what an index analysing them itself does.
func TestReusedTokensIndexTheSame(t *testing.T) {
	plain := openCorpus(t)
	tagged, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "index"), BatchSize: 4, Topics: testTopics})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tagged.Close() })
	if err := tagged.Index(t.Context(), corpus(t)); err != nil {
		t.Fatal(err)
	}
	tests := []string{
		"social prescribing", "loneliness", `"peer support"`, "title:psychosis",
		"summary words -housing", "behavior", "CBT", "the",
	}
	for _, text := range tests {
		t.Run(text, func(t *testing.T) {
			want, err := plain.Search(t.Context(), Query{Text: text, Limit: 100, NoFacets: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := tagged.Search(t.Context(), Query{Text: text, Limit: 100, NoFacets: true})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(hitIDs(got), hitIDs(want)) {
				t.Fatalf("hits %v, want %v", hitIDs(got), hitIDs(want))
			}
			for i := range got.Hits {
				// (Phrase scores vary a little with segment merging, in any
				// two indexes of the same items.)
				if g, w := got.Hits[i].Score, want.Hits[i].Score; !strings.Contains(text, `"`) && math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
					t.Errorf("hit %s scores %g, want %g", got.Hits[i].ID, g, w)
				}
				// Where a synonym's span overlaps its words' spans, which of
				// them gets marked varies from search to search; the text and
				// whether something is marked do not.
				if g, w := got.Hits[i].Snippet, want.Hits[i].Snippet; unmark(g) != unmark(w) || strings.Contains(g, "<mark>") != strings.Contains(w, "<mark>") {
					t.Errorf("hit %s snippet %q, want %q", got.Hits[i].ID, g, w)
				}
			}
		})
	}
}
