package eval

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

// The expected values are worked by hand (logs base 2: log2 3 = 1.58496).
func TestMetrics(t *testing.T) {
	tests := []struct {
		name          string
		ranked        []string
		judged        map[string]int
		p2, p10       float64
		r1, r100, ap  float64
		ndcg2, ndcg10 float64
	}{
		{
			// DCG@10 = 1 + 1/log2 4 = 1.5; IDCG = 1 + 1/log2 3 + 1/2 = 2.13093.
			name:   "binary, one relevant not retrieved",
			ranked: []string{"a", "b", "c", "d"},
			judged: map[string]int{"a": 1, "c": 1, "e": 1, "b": 0},
			p2:     0.5, p10: 0.2, r1: 1.0 / 3, r100: 2.0 / 3,
			ap:    (1 + 2.0/3) / 3,
			ndcg2: 1 / (1 + 1/1.58496), ndcg10: 1.5 / 2.13093,
		},
		{
			// DCG@10 = 1/1 + 0 + 2/log2 4 = 2; IDCG = 3 + 2/log2 3 + 1/2 = 4.76186.
			name:   "graded gains",
			ranked: []string{"x", "y", "z"},
			judged: map[string]int{"x": 1, "y": 0, "z": 2, "w": 3},
			p2:     0.5, p10: 0.2, r1: 1.0 / 3, r100: 2.0 / 3,
			ap:    (1 + 2.0/3) / 3,
			ndcg2: 1 / (3 + 2/1.58496), ndcg10: 2 / 4.76186,
		},
		{
			name:   "perfect graded ranking",
			ranked: []string{"a", "b"},
			judged: map[string]int{"a": 2, "b": 1},
			p2:     1, p10: 0.2, r1: 0.5, r100: 1, ap: 1, ndcg2: 1, ndcg10: 1,
		},
		{
			// DCG = 1 + 2/log2 3 = 2.26186; IDCG = 2 + 1/log2 3 = 2.63093.
			name:   "graded ranking reversed",
			ranked: []string{"b", "a"},
			judged: map[string]int{"a": 2, "b": 1},
			p2:     1, p10: 0.2, r1: 0.5, r100: 1, ap: 1, ndcg2: 2.26186 / 2.63093, ndcg10: 2.26186 / 2.63093,
		},
		{
			name:   "repeated IDs count once",
			ranked: []string{"a", "a", "b"},
			judged: map[string]int{"b": 1},
			p2:     0.5, p10: 0.1, r1: 0, r100: 1, ap: 0.5, ndcg2: 1 / 1.58496, ndcg10: 1 / 1.58496,
		},
		{
			name:   "nothing retrieved",
			ranked: nil,
			judged: map[string]int{"a": 1},
		},
		{
			name:   "no relevant documents",
			ranked: []string{"a", "b"},
			judged: map[string]int{"a": 0, "b": -1},
		},
		{
			name:   "negative grade is not relevant",
			ranked: []string{"a", "b"},
			judged: map[string]int{"a": -2, "b": 1},
			p2:     0.5, p10: 0.1, r1: 0, r100: 1, ap: 0.5, ndcg2: 1 / 1.58496, ndcg10: 1 / 1.58496,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(name string, got, want float64) {
				t.Helper()
				if !near(got, want) {
					t.Errorf("%s = %.5f, want %.5f", name, got, want)
				}
			}
			check("P@2", PrecisionAt(tt.ranked, tt.judged, 2), tt.p2)
			check("P@10", PrecisionAt(tt.ranked, tt.judged, 10), tt.p10)
			check("recall@1", RecallAt(tt.ranked, tt.judged, 1), tt.r1)
			check("recall@100", RecallAt(tt.ranked, tt.judged, 100), tt.r100)
			check("AP", AveragePrecision(tt.ranked, tt.judged), tt.ap)
			check("nDCG@2", NDCGAt(tt.ranked, tt.judged, 2), tt.ndcg2)
			check("nDCG@10", NDCGAt(tt.ranked, tt.judged, 10), tt.ndcg10)
			check("P@0", PrecisionAt(tt.ranked, tt.judged, 0), 0)
			check("nDCG@0", NDCGAt(tt.ranked, tt.judged, 0), 0)
		})
	}
}

// fakeSearcher returns a fixed ranking per query text.
type fakeSearcher map[string][]string

func (f fakeSearcher) Search(_ context.Context, text string, k int) ([]string, error) {
	if text == "boom" {
		return nil, errors.New("boom")
	}
	r := f[text]
	return r[:min(k, len(r))], nil
}

func TestRun(t *testing.T) {
	topics := []Topic{{"1", "one"}, {"2", "two"}, {"3", "unjudged"}}
	qrels := Qrels{
		"1": {"a": 1, "b": 1},
		"2": {"c": 1},
		"3": {"a": 0},
		"9": {"z": 1}, // not among the topics: ignored
	}
	s := fakeSearcher{"one": {"a", "x", "b"}, "two": {"x", "y"}}
	r, err := Run(t.Context(), "fake", s, topics, qrels)
	if err != nil {
		t.Fatal(err)
	}
	// Query 1: nDCG@10 = (1 + 1/2) / (1 + 1/log2 3) = 0.91972, AP = (1 + 2/3)/2,
	// recall 1, P@10 0.2. Query 2: all zero.
	want := Report{NDCG10: 0.91972 / 2, MAP: (1 + 2.0/3) / 4, Recall100: 0.5, P10: 0.1}
	if !near(r.NDCG10, want.NDCG10) || !near(r.MAP, want.MAP) || !near(r.Recall100, want.Recall100) || !near(r.P10, want.P10) {
		t.Errorf("means = %+v, want %+v", *r, want)
	}
	if got := []string{r.Queries[0].ID, r.Queries[1].ID}; len(r.Queries) != 2 || !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("queries = %+v, want 1 and 2", r.Queries)
	}
	if !slices.Equal(r.Unjudged, []string{"3"}) {
		t.Errorf("unjudged = %v, want [3]", r.Unjudged)
	}
	if r.Queries[0].Retrieved != 3 || r.Queries[0].Relevant != 2 {
		t.Errorf("query 1 counts = %+v", r.Queries[0])
	}

	if _, err := Run(t.Context(), "fake", s, []Topic{{"1", "boom"}}, qrels); err == nil {
		t.Error("Run with a failing searcher: no error")
	}
}
