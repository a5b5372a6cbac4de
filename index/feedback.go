package index

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	htmlhl "github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"

	bsearch "github.com/blevesearch/bleve/v2/search"
)

// Pseudo-relevance feedback (Analysis.Feedback), RM3: the first search's
// best feedbackDocs documents are taken as relevant; the feedbackTerms terms
// most probable in them, P(w|R) = Σ_d P(w|d)·score(d)/Σscore, are added to
// the query, whose own terms keep feedbackOrigWeight of the total weight.
// 10 documents is the usual RM3 choice (Anserini's defaults: 10 documents,
// 10 terms, weight 0.5). The terms (20) and the weight (0.3) were chosen on
// MED's development queries and cross-checked on halves of them: choosing
// on the odd queries picks weight 0.3 and gains on the even ones, and the
// other way round; every setting tried (5-20 documents, 10-50 terms,
// weight 0.2-0.7) beats no feedback.
//
// The words come from each document's feedback field: the terms of its
// title, summary and first feedbackLeadBytes of body, analysed when the
// document was indexed. The expanded query only reorders the first search's
// best hits (see feedbackSearch), scoring the feedback terms in that same
// field, so feedback costs no analysis and no walk of the feedback terms'
// posting lists (frequent words, long lists, which bleve can only step
// through one posting at a time when it needs their frequencies).
const (
	feedbackDocs       = 10
	feedbackTerms      = 20
	feedbackOrigWeight = 0.3
	// feedbackLeadBytes bounds the body text whose terms are kept per
	// document (field feedback).
	feedbackLeadBytes = 3000
)

// feedbackPool is how many of the first search's best hits the expanded
// query reorders: at least feedbackPool, and twice the hits the page needs,
// so feedback can still bring documents onto it from further down. Pages
// needing a pool larger than feedbackPoolMax, and queries with required
// phrases, fall back to a second full search with the expanded query.
const (
	feedbackPool    = 100
	feedbackPoolMax = 2000
)

// feedbackDoc is a first-pass hit: its score and feedback field.
type feedbackDoc struct {
	score float64
	terms string
}

// feedbackText returns the feedback field of an item analysed as toks: the
// terms of its title, summary and first feedbackLeadBytes of body (body
// being the text toks[2] was made from), space-separated, without synonym
// concept tokens and one-letter terms; and how many terms that is.
func feedbackText(toks *itemTokens, body string) (string, int) {
	end := len(lead(body))
	var b strings.Builder
	n := 0
	for i, ts := range toks {
		for _, t := range ts {
			if (i == 2 && t.End > end) || isSynToken(t.Term) || len(t.Term) < 2 || strings.IndexByte(string(t.Term), ' ') >= 0 {
				continue
			}
			if n > 0 {
				b.WriteByte(' ')
			}
			b.Write(t.Term)
			n++
		}
	}
	return b.String(), n
}

// eachTerm calls f with every term of a feedback field.
func eachTerm(s string, f func(string)) {
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			f(s)
			return
		}
		if i > 0 {
			f(s[:i])
		}
		s = s[i+1:]
	}
}

// feedback returns the RM3 feedback terms of docs with their weights
// (summing to 1 - feedbackOrigWeight, field body), and the factor that
// scales the query's own terms to feedbackOrigWeight; nil and 1 when docs
// give nothing.
func feedback(terms []rankTerm, docs []feedbackDoc) ([]rankTerm, float64) {
	var total float64
	for _, d := range docs {
		total += d.score
	}
	var qsum float64
	for _, t := range terms {
		if t.field == "" {
			qsum += t.weight
		}
	}
	if total <= 0 || qsum <= 0 {
		return nil, 1
	}
	rm := map[string]float64{}
	for _, d := range docs {
		tf := map[string]float64{}
		n := 0.0
		eachTerm(d.terms, func(t string) {
			tf[t]++
			n++
		})
		for t, c := range tf {
			rm[t] += c / n * d.score / total
		}
	}
	type tw struct {
		t string
		w float64
	}
	cand := make([]tw, 0, len(rm))
	for t, w := range rm {
		cand = append(cand, tw{t, w})
	}
	sort.Slice(cand, func(i, j int) bool {
		if cand[i].w != cand[j].w {
			return cand[i].w > cand[j].w
		}
		return cand[i].t < cand[j].t
	})
	cand = cand[:min(len(cand), feedbackTerms)]
	var fsum float64
	for _, c := range cand {
		fsum += c.w
	}
	if fsum <= 0 {
		return nil, 1
	}
	out := make([]rankTerm, 0, len(cand))
	for _, c := range cand {
		out = append(out, rankTerm{term: c.t, weight: (1 - feedbackOrigWeight) * c.w / fsum, cond: -1, field: fieldBody})
	}
	return out, feedbackOrigWeight / qsum
}

// expand returns terms, reweighted, plus RM3 feedback terms from docs.
func expand(terms []rankTerm, docs []feedbackDoc) []rankTerm {
	fb, scale := feedback(terms, docs)
	if len(fb) == 0 {
		return terms
	}
	out := make([]rankTerm, 0, len(terms)+len(fb))
	for _, t := range terms {
		t.weight *= scale
		out = append(out, t)
	}
	return append(out, fb...)
}

// lead is the start of a body kept for feedback.
func lead(body string) string { return cut(body, feedbackLeadBytes) }

// ranking returns the search context and the ranking clauses for p under
// Analysis.ExactBM25 (with Analysis.Feedback, by a second full search with
// the expanded query: see feedbackSearch for the usual way), or ctx and nil
// when the plan ranks with its own clauses (other scoring, no plain words).
func (x *Index) ranking(ctx context.Context, q Query, p *plan) (context.Context, *rankClauses, error) {
	if !x.spec.analysis.exactBM25() || len(p.soft) == 0 {
		return ctx, nil, nil
	}
	rk, err := x.newRanker(ctx)
	if err != nil {
		return ctx, nil, err
	}
	defer rk.close()
	sctx := x.bm25Context(ctx, uint64(rk.docs))
	terms := p.softTerms()
	base, match := rk.query(terms, len(p.soft))
	if base == nil {
		return ctx, nil, nil
	}
	out := &rankClauses{rank: base}
	if !x.spec.analysis.Feedback || !q.byRelevance() {
		return sctx, out, nil
	}
	docs, err := x.feedbackDocs(sctx, q, p, out)
	if err != nil {
		return ctx, nil, err
	}
	if len(docs) == 0 {
		return sctx, out, nil
	}
	if r, _ := rk.query(expand(terms, docs), len(p.soft)); r != nil {
		out.rank = r
		// Without required clauses a document must match some ranking
		// term: the words', not only the feedback's. With them, the
		// ranking terms are optional and match nothing by themselves.
		// Feedback only reorders: totals and facets stay those of the
		// words typed.
		if len(p.must) == 0 {
			out.match = match
		}
	}
	return sctx, out, nil
}

// feedbackDocs runs the first search of pseudo-relevance feedback: q's best
// feedbackDocs hits, with their feedback fields.
func (x *Index) feedbackDocs(ctx context.Context, q Query, p *plan, rk *rankClauses) ([]feedbackDoc, error) {
	q.NoFacets = true
	res, err := x.firstPass(ctx, q, p, rk, feedbackDocs)
	if err != nil {
		return nil, err
	}
	return feedbackDocsOf(res.Hits), nil
}

// firstPass runs the first search of feedback: q's best n hits by rk with
// their feedback fields (and q's facets), not highlighted.
func (x *Index) firstPass(ctx context.Context, q Query, p *plan, rk *rankClauses, n int) (*bleve.SearchResult, error) {
	q.Limit, q.Offset, q.Sort = n, 0, SortRelevance
	req, err := buildRequest(q, p, true, rk)
	if err != nil {
		return nil, err
	}
	req.Highlight = nil
	req.Fields = []string{fieldFeedback}
	res, err := x.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	return res, nil
}

// feedbackDocsOf returns the best feedbackDocs of a first pass's hits.
func feedbackDocsOf(hits bsearch.DocumentMatchCollection) []feedbackDoc {
	out := make([]feedbackDoc, 0, min(feedbackDocs, len(hits)))
	for _, h := range hits[:min(feedbackDocs, len(hits))] {
		s, _ := h.Fields[fieldFeedback].(string)
		out = append(out, feedbackDoc{score: h.Score, terms: s})
	}
	return out
}

// feedbackSearch runs q with pseudo-relevance feedback the usual way, when
// it can (ok false otherwise: other scoring, no plain words, sorted by date,
// required phrases, a page beyond feedbackPoolMax). One search finds the
// best hits of the words typed (the pool), their total and facets, their
// per-clause scores and feedback fields; the feedback terms are then scored
// in the pool's feedback fields, in memory, and the pool reordered; a last
// small search fetches and highlights the page's hits.
func (x *Index) feedbackSearch(ctx context.Context, q Query, p *plan) (*Result, bool, error) {
	a := x.spec.analysis
	if !a.exactBM25() || !a.Feedback || len(p.soft) == 0 || len(p.must) > 0 || !q.byRelevance() {
		return nil, false, nil
	}
	limit, offset := q.page()
	pool := max(feedbackPool, 2*(offset+limit))
	if pool > feedbackPoolMax {
		return nil, false, nil
	}
	rk, err := x.newRanker(ctx)
	if err != nil {
		return nil, false, err
	}
	defer rk.close()
	sctx := x.bm25Context(ctx, uint64(rk.docs))
	terms := p.softTerms()
	base, _ := rk.query(terms, len(p.soft))
	if base == nil {
		return nil, false, nil
	}
	res, err := x.firstPass(sctx, q, p, &rankClauses{rank: base}, pool)
	if err != nil {
		return nil, false, err
	}
	out := &Result{Total: res.Total, Facets: facets(res), Hits: []Hit{}}

	fb, scale := feedback(terms, feedbackDocsOf(res.Hits))
	type fbTerm struct {
		w, idf float64
	}
	fbw := make(map[string]fbTerm, len(fb))
	for _, t := range fb {
		if idf := rk.idf(fieldBody, t.term); idf > 0 {
			fbw[t.term] = fbTerm{t.weight, idf}
		}
	}
	avg := x.lengths.mean(fieldFeedback)
	type ranked struct {
		h     *bsearch.DocumentMatch
		score float64
	}
	order := make([]ranked, len(res.Hits))
	tf := make(map[string]float64, len(fbw))
	for i, h := range res.Hits {
		sum, all := base.split(h)
		score := scale * sum / base.norm
		if len(fbw) > 0 && avg > 0 {
			clear(tf)
			n := 0.0
			s, _ := h.Fields[fieldFeedback].(string)
			eachTerm(s, func(t string) {
				n++
				if _, ok := fbw[t]; ok {
					tf[t]++
				}
			})
			for t, c := range tf {
				score += fbw[t].w * fbw[t].idf * bm25TF(c, n, avg)
			}
		}
		if all {
			score *= allBonus
		}
		order[i] = ranked{h, score}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].score > order[j].score })
	if offset >= len(order) {
		return out, true, nil
	}
	page := order[offset:min(offset+limit, len(order))]

	// Fetch the page: stored fields, and highlights of the words typed.
	ids := make([]string, len(page))
	for i, r := range page {
		ids[i] = r.h.ID
	}
	hq := bleve.NewBooleanQuery()
	hq.AddMust(bleve.NewDocIDQuery(ids))
	var marks []query.Query
	for _, f := range []string{fieldTitle, fieldSummary} {
		for _, t := range p.softFieldTerms(f) {
			marks = append(marks, termQuery(t, f, 1))
		}
	}
	if len(marks) > 0 {
		hq.AddShould(disjunction(marks))
	}
	preq := bleve.NewSearchRequestOptions(hq, len(ids), 0, false)
	preq.Fields = []string{fieldSummary, fieldTopics}
	preq.Highlight = bleve.NewHighlightWithStyle(htmlhl.Name)
	preq.Highlight.Fields = []string{fieldTitle, fieldSummary}
	pres, err := x.bi.SearchInContext(ctx, preq)
	if err != nil {
		return nil, false, err
	}
	byID := make(map[string]*bsearch.DocumentMatch, len(pres.Hits))
	for _, h := range pres.Hits {
		byID[h.ID] = h
	}
	for _, r := range page {
		h, ok := byID[r.h.ID]
		if !ok { // deleted since the first search
			continue
		}
		out.Hits = append(out.Hits, hitOf(h, r.score))
	}
	return out, true, nil
}

// bm25TF is bleve's BM25 term-frequency part for a term occurring freq
// times in a field of length n whose mean length is avg (bleve takes the
// square root of the frequency).
func bm25TF(freq, n, avg float64) float64 {
	tf := math.Sqrt(freq)
	return tf * bsearch.BM25_k1 / (tf + bsearch.BM25_k1*(1-bsearch.BM25_b+bsearch.BM25_b*n/avg))
}
