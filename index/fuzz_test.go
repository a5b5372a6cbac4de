package index

import (
	"errors"
	"regexp"
	"testing"

	"github.com/evidencetracker/evidence"
)

// snippetRE is what a snippet may be: escaped text with <mark> elements.
var snippetRE = regexp.MustCompile(`^([^<>]|<mark>|</mark>)*$`)

// FuzzSearch runs any query text against an index of the test corpus: it
// is answered or refused as invalid, never crashes, and its hits are
// consistent with its total, in score order when ranked, with safe
// snippets.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{
		"social prescribing", `"older people" loneliness`, "-prescribing", "a OR b OR", `title:"x`,
		"published:>=2020-01-01 cbt", "author:patel topic:recovery", "the and of", "IAPT -source:kings-fund",
		`"" OR ""`, "prescibing", "((", "year:9999", "source:", "<script>alert(1)</script>",
		`"stable funding"`, `"heavy caseloads" -"link workers"`, `"the review included" source:mental-elf`,
	} {
		f.Add(s, 0)
	}
	x := openCorpus(f)
	f.Fuzz(func(t *testing.T, text string, offset int) {
		if offset < 0 || offset > 50 {
			offset = 0
		}
		r, err := x.Search(t.Context(), Query{Text: text, Limit: 5, Offset: offset})
		if err != nil {
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Fatalf("Search(%q): %v, want nil or ErrInvalid", text, err)
			}
			return
		}
		if uint64(len(r.Hits)) > r.Total {
			t.Fatalf("Search(%q): %d hits, total %d", text, len(r.Hits), r.Total)
		}
		for i, h := range r.Hits {
			if !snippetRE.MatchString(h.Snippet) {
				t.Fatalf("Search(%q): hit %s snippet %q has markup besides <mark>", text, h.ID, h.Snippet)
			}
			if i > 0 && h.Score > r.Hits[i-1].Score+1e-9 && r.Hits[i-1].Score != 0 {
				t.Fatalf("Search(%q): hit %d scores %v above hit %d's %v", text, i, h.Score, i-1, r.Hits[i-1].Score)
			}
		}
	})
}
