package index

import (
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

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

// sumQuery scores a document by the sum of its clauses' BM25 scores (what
// bleve's disjunction reports per clause), doubled when it has every word,
// whether reached by Next or by Advance.
func TestSumQueryScores(t *testing.T) {
	x := openCorpus(t)
	for _, text := range []string{"social prescribing older", "loneliness", "gp visits schizophrenia yoga"} {
		t.Run(text, func(t *testing.T) {
			p := x.planner.plan(mustParse(t, text))
			rk, err := x.newRanker(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer rk.close()
			ctx := x.bm25Context(t.Context(), uint64(rk.docs))
			sq, _ := rk.query(p.softTerms(), len(p.soft))
			if sq == nil {
				t.Fatal("no clauses")
			}
			search := func(q query.Query) map[string]*bsearch.DocumentMatch {
				res, err := x.bi.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, 1000, 0, false))
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]*bsearch.DocumentMatch{}
				for _, h := range res.Hits {
					out[h.ID] = h
				}
				return out
			}
			got := search(sq)
			dq := bleve.NewDisjunctionQuery(sq.clauses...)
			dq.RetrieveScoreBreakdown(true)
			want := search(dq)
			if len(got) == 0 || len(got) != len(want) {
				t.Fatalf("%d hits, bleve's disjunction %d", len(got), len(want))
			}
			var ids []string
			for id, w := range want {
				ids = append(ids, id)
				sum := 0.0
				seen := map[int]bool{}
				for i, s := range w.ScoreBreakdown {
					sum += s
					if c := sq.condOf[i]; c >= 0 {
						seen[c] = true
					}
				}
				all := len(p.soft) > 1 && len(seen) == len(p.soft)
				if all {
					sum *= allBonus
				}
				g := got[id]
				if g == nil || math.Abs(g.Score-sum) > 1e-9*sum {
					t.Errorf("%s: score %v, want %v", id, g, sum)
					continue
				}
				s, a := sq.split(g)
				if a {
					s *= allBonus
				}
				if a != all || math.Abs(s-sum) > 1e-9*sum {
					t.Errorf("%s: split = %v, %v; want all %v", id, s, a, all)
				}
			}
			// Wrapped as the first search of feedback wraps it (in a
			// Boolean query, with an exclusion and a filter), the scores
			// reach the hits unchanged: feedbackSearch relies on it.
			wp := x.planner.plan(mustParse(t, text+" -zzzunknown"))
			wq := Query{Text: text + " -zzzunknown", Limit: 1000, Sort: SortRelevance, Sources: []string{evidence.SourceKingsFund, evidence.SourceMentalElf}}
			wreq, err := buildRequest(wq, wp, true, &rankClauses{rank: sq})
			if err != nil {
				t.Fatal(err)
			}
			wres, err := x.bi.SearchInContext(ctx, wreq)
			if err != nil {
				t.Fatal(err)
			}
			if len(wres.Hits) == 0 {
				t.Fatal("wrapped: no hits")
			}
			for _, h := range wres.Hits {
				if g := got[h.ID]; g == nil || math.Abs(h.Score-g.Score) > 1e-9*g.Score {
					t.Errorf("wrapped: %s scores %v, alone %v", h.ID, h.Score, g)
				}
			}
			// Advance: a filter drives the search to every other hit.
			sort.Strings(ids)
			var some []string
			for i := 0; i < len(ids); i += 2 {
				some = append(some, ids[i])
			}
			adv := search(&leapQuery{q: sq, filter: bleve.NewDocIDQuery(some)})
			if len(adv) != len(some) {
				t.Fatalf("filtered: %d hits, want %d", len(adv), len(some))
			}
			for id, h := range adv {
				if math.Abs(h.Score-got[id].Score) > 1e-9*h.Score {
					t.Errorf("%s: advanced to, score %v; by Next %v", id, h.Score, got[id].Score)
				}
			}
		})
	}
}
