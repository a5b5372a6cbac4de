package index

import (
	"cmp"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestTokenCounter(t *testing.T) {
	c := newTokenCounter()
	tests := []struct {
		name      string
		text      string
		withStops bool
		want      uint64
	}{
		{"empty", "", false, 0},
		{"stop words dropped", "The effects of drugs on the bone marrow", false, 4},
		{"stop words kept", "The effects of drugs on the bone marrow", true, 8},
		{"punctuation and digits", "CBT, 2024: NHS-Talking therapies!", false, 5},
		{"non-ASCII letters", "Ünïcode café naïve", false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.count(tt.text, tt.withStops); got != tt.want {
				t.Errorf("count(%q) = %d, want %d", tt.text, got, tt.want)
			}
		})
	}
}

// The length statistics survive a reopen and give bleve the mean length.
func TestLengthStatsPersist(t *testing.T) {
	x, path := openTemp(t, 4)
	if err := x.Index(t.Context(), corpus(t)); err != nil {
		t.Fatal(err)
	}
	want := x.lengths.mean(fieldBody)
	if want <= 1 {
		t.Fatalf("mean body length %v, want > 1", want)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if got := y.lengths.mean(fieldBody); got != want {
		t.Errorf("after reopen mean body length %v, want %v", got, want)
	}
}

func TestExpand(t *testing.T) {
	terms := []rankTerm{{term: "marrow", weight: 1}}
	docs := []feedbackDoc{
		{score: 2, terms: "bone marrow transplant transplant"},
		{score: 1, terms: "marrow aplasia"},
	}
	got := expand(terms, docs)
	if got[0].term != "marrow" || got[0].field != "" {
		t.Fatalf("first term %+v, want the query's own", got[0])
	}
	var sum float64
	fb := map[string]rankTerm{}
	for _, r := range got {
		sum += r.weight
		if r.cond == -1 {
			fb[r.term] = r
		}
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("weights sum to %v, want 1", sum)
	}
	if fb["transplant"].weight <= fb["aplasia"].weight {
		t.Errorf("transplant %v should outweigh aplasia %v", fb["transplant"].weight, fb["aplasia"].weight)
	}
	for _, r := range fb {
		if r.field != fieldBody {
			t.Errorf("feedback term %q in field %q, want body only", r.term, r.field)
		}
	}
	if got := expand(terms, nil); len(got) != 1 {
		t.Errorf("no feedback documents: got %d terms, want the query's 1", len(got))
	}
}

// Feedback reorders what the user's words find; it does not change the
// total, and only the user's words are marked.
func TestFeedbackKeepsMatchesAndMarks(t *testing.T) {
	x := openCorpus(t)
	for _, text := range []string{"social prescribing", "loneliness", "peer support workers"} {
		with, err := x.Search(t.Context(), Query{Text: text, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		x.spec.analysis.Feedback = false
		without, err := x.Search(t.Context(), Query{Text: text, Limit: 100})
		x.spec.analysis.Feedback = true
		if err != nil {
			t.Fatal(err)
		}
		if with.Total != without.Total {
			t.Errorf("%q: total %d with feedback, %d without", text, with.Total, without.Total)
		}
		if !reflect.DeepEqual(with.Facets, without.Facets) {
			t.Errorf("%q: facets %v with feedback, %v without", text, with.Facets, without.Facets)
		}
		if got, want := sorted(hitIDs(with)...), sorted(hitIDs(without)...); !slices.Equal(got, want) {
			t.Errorf("%q: hits %v with feedback, %v without", text, got, want)
		}
		// A later page of the reordered hits is the same slice of them.
		page2, err := x.Search(t.Context(), Query{Text: text, Limit: 2, Offset: 1})
		if err != nil {
			t.Fatal(err)
		}
		if n := min(len(with.Hits), 3); len(with.Hits) > 1 && !slices.Equal(hitIDs(page2), hitIDs(with)[1:n]) {
			t.Errorf("%q: page from 1 = %v, want %v", text, hitIDs(page2), hitIDs(with)[1:n])
		}
		if page2.Total != with.Total {
			t.Errorf("%q: page from 1 total %d, want %d", text, page2.Total, with.Total)
		}
		words := strings.Fields(text)
		mark := regexp.MustCompile(`<mark>([^<]*)</mark>`)
		for _, h := range with.Hits {
			for _, m := range mark.FindAllStringSubmatch(h.Snippet, -1) {
				ok := false
				for _, w := range words {
					if strings.HasPrefix(strings.ToLower(m[1]), w[:min(len(w), 4)]) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%q: hit %s marks %q, not a query word", text, h.ID, m[1])
				}
			}
		}
	}
}

// indexedFields lists exactly the fields the mapping indexes, so BM25 has
// statistics for every field a query can reach.
func TestIndexedFieldsMatchMapping(t *testing.T) {
	sp, err := newSpec(DefaultAnalysis(), nil)
	if err != nil {
		t.Fatal(err)
	}
	im, err := newMapping(sp)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for name, dm := range im.TypeMapping[docType].Properties {
		for _, fm := range dm.Fields {
			if !fm.Index {
				continue
			}
			got = append(got, cmp.Or(fm.Name, name))
		}
	}
	want := slices.Clone(indexedFields)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("mapping indexes %v, indexedFields lists %v", got, want)
	}
}
