package eval

import (
	"math"
	"sort"
)

// The metrics follow trec_eval's definitions. ranked is a run for one query,
// best first (repeated IDs after the first are ignored, as a run cannot
// retrieve a document twice); judged maps document IDs to grades, and a
// grade above zero means relevant.

// dedupe returns ranked without repeats, keeping first occurrences.
func dedupe(ranked []string) []string {
	seen := make(map[string]bool, len(ranked))
	out := ranked[:0:0]
	for _, id := range ranked {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// numRelevant counts the documents judged relevant (grade above zero).
func numRelevant(judged map[string]int) int {
	n := 0
	for _, g := range judged {
		if g > 0 {
			n++
		}
	}
	return n
}

// PrecisionAt is P@k: relevant documents in the first k, divided by k (even
// when fewer than k were retrieved). k ≤ 0 gives 0.
func PrecisionAt(ranked []string, judged map[string]int, k int) float64 {
	if k <= 0 {
		return 0
	}
	hits := 0
	for i, id := range dedupe(ranked) {
		if i >= k {
			break
		}
		if judged[id] > 0 {
			hits++
		}
	}
	return float64(hits) / float64(k)
}

// RecallAt is recall@k: relevant documents in the first k, divided by the
// number judged relevant. A query with no relevant documents gives 0.
func RecallAt(ranked []string, judged map[string]int, k int) float64 {
	nrel := numRelevant(judged)
	if nrel == 0 || k <= 0 {
		return 0
	}
	hits := 0
	for i, id := range dedupe(ranked) {
		if i >= k {
			break
		}
		if judged[id] > 0 {
			hits++
		}
	}
	return float64(hits) / float64(nrel)
}

// AveragePrecision is trec_eval's "map" for one query: the mean, over every
// document judged relevant, of the precision at its rank (0 for relevant
// documents not retrieved).
func AveragePrecision(ranked []string, judged map[string]int) float64 {
	nrel := numRelevant(judged)
	if nrel == 0 {
		return 0
	}
	hits := 0
	sum := 0.0
	for i, id := range dedupe(ranked) {
		if judged[id] > 0 {
			hits++
			sum += float64(hits) / float64(i+1)
		}
	}
	return sum / float64(nrel)
}

// NDCGAt is trec_eval's ndcg_cut.k: DCG of the first k documents, with the
// grade as gain and a discount of log2(rank+1), divided by the DCG of the
// best possible ranking of the judged documents. A query with no relevant
// documents gives 0.
func NDCGAt(ranked []string, judged map[string]int, k int) float64 {
	if k <= 0 {
		return 0
	}
	var gains []int
	for _, g := range judged {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	if len(gains) == 0 {
		return 0
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	ideal := 0.0
	for i, g := range gains {
		if i >= k {
			break
		}
		ideal += float64(g) / math.Log2(float64(i+2))
	}
	dcg := 0.0
	for i, id := range dedupe(ranked) {
		if i >= k {
			break
		}
		if g := judged[id]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	return dcg / ideal
}
