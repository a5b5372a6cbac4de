package index

import (
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index/querylang"
)

// The feedback field holds the analysed terms of title, summary and the
// body's lead only, without synonym concept tokens.
func TestFeedbackText(t *testing.T) {
	sp, err := newSpec(DefaultAnalysis(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pl := newPlanner(sp)
	body := strings.Repeat("Loneliness in later life. ", feedbackLeadBytes/20) + "Gardening schemes."
	it := &evidence.Item{
		Title:   "Social prescribing and CBT",
		Summary: "Behaviour change for older people",
		Body:    body,
	}
	got, n := feedbackText(pl.analyseItem(it), it.Body)
	terms := strings.Fields(got)
	if len(terms) != n {
		t.Fatalf("%d terms, reported %d", len(terms), n)
	}
	for _, want := range []string{"social", "prescrib", "cbt", "older", "loneli"} {
		if !slices.Contains(terms, want) {
			t.Errorf("terms lack %q: %.200s", want, got)
		}
	}
	for _, term := range terms {
		if isSynToken([]byte(term)) {
			t.Errorf("synonym concept token %q kept", term)
		}
		if strings.HasPrefix(term, "garden") {
			t.Errorf("term %q from beyond the lead kept", term)
		}
	}
	if _, n := feedbackText(pl.analyseItem(&evidence.Item{}), ""); n != 0 {
		t.Errorf("empty item: %d terms, want 0", n)
	}
}

// Plain words take the one-search path; words with a required phrase take
// the second full search; both keep the words' matches and page
// consistently.
func TestFeedbackPaths(t *testing.T) {
	x := openCorpus(t)
	tests := []struct {
		text string
		fast bool
	}{
		{"social prescribing", true},
		{"loneliness older people", true},
		{"social prescribing -gp", true},
		{`"social prescribing" loneliness`, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			q := Query{Text: tt.text, Limit: 100}
			_, fast, err := x.feedbackSearch(t.Context(), q, x.planner.plan(mustParse(t, tt.text)))
			if err != nil {
				t.Fatal(err)
			}
			if fast != tt.fast {
				t.Errorf("one-search path %v, want %v", fast, tt.fast)
			}
			all, err := x.Search(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(all.Hits) == 0 {
				t.Fatal("no hits")
			}
			x.spec.analysis.Feedback = false
			plain, err := x.Search(t.Context(), q)
			x.spec.analysis.Feedback = true
			if err != nil {
				t.Fatal(err)
			}
			if all.Total != plain.Total {
				t.Errorf("total %d with feedback, %d without", all.Total, plain.Total)
			}
			for i := 1; i < len(all.Hits); i++ {
				if all.Hits[i].Score > all.Hits[i-1].Score {
					t.Errorf("hit %d scores %v above hit %d's %v", i, all.Hits[i].Score, i-1, all.Hits[i-1].Score)
				}
			}
			for off := range len(all.Hits) {
				page, err := x.Search(t.Context(), Query{Text: tt.text, Limit: 1, Offset: off})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Hits) != 1 || page.Hits[0].ID != all.Hits[off].ID {
					t.Errorf("page at %d = %v, want %s", off, hitIDs(page), all.Hits[off].ID)
				}
			}
		})
	}
}

func mustParse(t *testing.T, text string) *querylang.Query {
	t.Helper()
	q, err := querylang.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
