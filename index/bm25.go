package index

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Exact BM25 (Analysis.ExactBM25).
//
// bleve v2.6.1's "bm25" model departs from BM25 in three ways that cost
// relevance (measured on MED, see eval.Steps):
//
//  1. the average field length is the field's dictionary size (distinct
//     terms) divided by the document count, not the mean number of tokens
//     (on MED 9.5 instead of 93), so long documents are punished far too
//     hard;
//  2. every term's score is multiplied by its query weight, boost × idf ×
//     query norm, so idf counts twice;
//  3. disjunctions multiply their sum by a coordination factor (clauses
//     matched / clauses), a TF-IDF-era device.
//
// The index corrects all three through bleve's public API: it counts each
// text field's tokens as it indexes (lengthStats) and hands bleve, in the
// search context, statistics whose "field cardinality" gives the true mean
// length; it divides each ranking term's boost by the term's idf; and it
// asks the ranking disjunction for its per-clause scores (score breakdown)
// and sums them (sumQuery), without coordination. k1 and b
// stay bleve's (1.2 and 0.75): they are package variables in bleve, shared
// by every index in the process, so the index does not change them.

// internalLengthsKey holds the JSON lengthStats.
var internalLengthsKey = []byte("evidence.lengths")

// lengthFields are the fields whose token counts are kept.
var lengthFields = []string{fieldTitle, fieldSummary, fieldBody, fieldAuthors, fieldSpell}

// lengthStats counts, per text field, the documents indexed with the field
// and their tokens. Replaced documents are counted again and deleted ones
// are not subtracted: the mean stays a good estimate, and a rebuild resets
// it.
type lengthStats struct {
	Docs   map[string]uint64 `json:"docs"`
	Tokens map[string]uint64 `json:"tokens"`
}

func newLengthStats() lengthStats {
	return lengthStats{Docs: map[string]uint64{}, Tokens: map[string]uint64{}}
}

func (s *lengthStats) add(o lengthStats) {
	for f, n := range o.Docs {
		s.Docs[f] += n
	}
	for f, n := range o.Tokens {
		s.Tokens[f] += n
	}
}

// mean returns the mean token count of field, 0 if unknown.
func (s *lengthStats) mean(field string) float64 {
	if s.Docs[field] == 0 {
		return 0
	}
	return float64(s.Tokens[field]) / float64(s.Docs[field])
}

// tokenCounter estimates how many tokens the text analyzer makes of a text:
// runs of letters and digits that are not stop words. It is much cheaper
// than analysing twice and within a few per cent of the analyzer's count.
type tokenCounter struct {
	stop analysis.TokenMap
}

func newTokenCounter() *tokenCounter { return &tokenCounter{stop: englishStopWords()} }

// count returns the estimated tokens of s; withStops counts stop words too.
func (c *tokenCounter) count(s string, withStops bool) uint64 {
	var n uint64
	var buf [16]byte
	i := 0
	for i < len(s) {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += size
			continue
		}
		start := i
		for i < len(s) {
			r, size = rune(s[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' {
				break
			}
			i += size
		}
		w := s[start:i]
		if !withStops && len(w) <= len(buf) {
			lw := buf[:len(w)]
			for j := 0; j < len(w); j++ {
				b := w[j]
				if 'A' <= b && b <= 'Z' {
					b += 'a' - 'A'
				}
				lw[j] = b
			}
			if c.stop[string(lw)] {
				continue
			}
		}
		n++
	}
	return n
}

// itemLengths adds the token counts of one document's fields to s.
func (c *tokenCounter) itemLengths(s *lengthStats, title, summary, body string, authors []string) {
	add := func(field string, n uint64) {
		if n > 0 {
			s.Docs[field]++
			s.Tokens[field] += n
		}
	}
	add(fieldTitle, c.count(title, false))
	add(fieldSummary, c.count(summary, false))
	add(fieldBody, c.count(body, false))
	var na uint64
	for _, a := range authors {
		na += c.count(a, false)
	}
	add(fieldAuthors, na)
	add(fieldSpell, c.count(title, true)+c.count(summary, true))
}

// lengths is an Index's running lengthStats.
type lengths struct {
	mu    sync.Mutex
	stats lengthStats
}

func (l *lengths) load(raw []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats = newLengthStats()
	if len(raw) == 0 {
		return nil
	}
	var s lengthStats
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("length statistics: %w", err)
	}
	l.stats.add(s)
	return nil
}

// merged returns the JSON of the stats plus delta, and a function that makes
// them current (call it once the batch holding them is written).
func (l *lengths) merged(delta lengthStats) ([]byte, func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := newLengthStats()
	next.add(l.stats)
	next.add(delta)
	raw, _ := json.Marshal(next)
	return raw, func() {
		l.mu.Lock()
		l.stats = next
		l.mu.Unlock()
	}
}

func (l *lengths) mean(field string) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats.mean(field)
}

// bm25Context returns ctx carrying statistics that make bleve use the true
// mean length of each text field (it takes ceil(cardinality / docs) as the
// mean). Fields without counts (keyword and date fields, where length does
// not matter) get a mean of one.
func (x *Index) bm25Context(ctx context.Context, docs uint64) context.Context {
	if docs == 0 {
		return ctx
	}
	card := make(map[string]int, 16)
	for _, f := range []string{fieldTitle, fieldSummary, fieldBody, fieldAuthors, fieldAuthorsExact,
		fieldSource, fieldType, fieldTopics, fieldPublished, fieldFirstSeen, fieldYear, fieldHash, fieldSpell, fieldLead,
		"*"} { // "*": bleve's unscored-disjunction optimisation
		card[f] = int(docs)
	}
	for _, f := range lengthFields {
		if m := x.lengths.mean(f); m > 0 {
			card[f] = int(math.Ceil(m * float64(docs)))
		}
	}
	return context.WithValue(ctx, bsearch.BM25StatsKey, &bsearch.BM25Stats{DocCount: float64(docs), FieldCardinality: card})
}

// rankTerm is one weighted term of the ranking: a term looked for in the
// text fields with their boosts. cond is the index of the plain word it
// comes from (-1 for a feedback term).
type rankTerm struct {
	term   string
	weight float64
	cond   int
	// field restricts the term to one field: fieldAuthors for the words'
	// author forms, fieldBody for feedback terms (so highlights in titles
	// and summaries stay on the user's words). Empty means title, summary
	// and body.
	field string
}

// ranker builds exact-BM25 ranking clauses against one index snapshot.
type ranker struct {
	r     bindex.IndexReader
	docs  float64
	idfs  map[[2]string]float64
	ctx   context.Context
	conds int
}

func (x *Index) newRanker(ctx context.Context) (*ranker, error) {
	adv, err := x.bi.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	n, err := r.DocCount()
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	return &ranker{r: r, docs: float64(n), idfs: map[[2]string]float64{}, ctx: ctx}, nil
}

func (rk *ranker) close() { _ = rk.r.Close() }

// idf is bleve's BM25 idf of term in field (0 if the term is absent).
func (rk *ranker) idf(field, term string) float64 {
	k := [2]string{field, term}
	if v, ok := rk.idfs[k]; ok {
		return v
	}
	var v float64
	tfr, err := rk.r.TermFieldReader(rk.ctx, []byte(term), field, false, false, false)
	if err == nil {
		if df := float64(tfr.Count()); df > 0 {
			v = math.Log(1 + (rk.docs-df+0.5)/(df+0.5))
		}
		_ = tfr.Close()
	}
	rk.idfs[k] = v
	return v
}

// allBonus multiplies the score of a document that matches every plain word
// of a query of several: "all terms preferred".
const allBonus = 2.0

// query returns the ranking clause for terms: the sum of each term's BM25
// score in each text field, times its weight and the field's boost, times
// allBonus when the document matches all nconds plain words; and the plain
// disjunction of the same terms, for matching. nil if no term occurs in the
// index.
func (rk *ranker) query(terms []rankTerm, nconds int) (rank, match query.Query) {
	var clauses []query.Query
	var condOf []int
	for _, t := range terms {
		for _, f := range textFields {
			if (t.field == "" && f.name == fieldAuthors) || (t.field != "" && f.name != t.field) {
				continue
			}
			idf := rk.idf(f.name, t.term)
			if idf == 0 || t.weight <= 0 {
				continue
			}
			clauses = append(clauses, termQuery(t.term, f.name, t.weight*f.boost/idf))
			condOf = append(condOf, t.cond)
		}
	}
	if len(clauses) == 0 {
		return nil, nil
	}
	match = bleve.NewDisjunctionQuery(clauses...)
	dq := bleve.NewDisjunctionQuery(clauses...)
	dq.RetrieveScoreBreakdown(true)
	score := func(d *bsearch.DocumentMatch) float64 {
		var sum float64
		var seen uint64
		var seenMap map[int]bool
		for i, s := range d.ScoreBreakdown {
			sum += s
			if c := condOf[i]; c >= 0 {
				if c < 64 {
					seen |= 1 << c
				} else {
					if seenMap == nil {
						seenMap = map[int]bool{}
					}
					seenMap[c] = true
				}
			}
		}
		if nconds > 1 {
			matched := 0
			for c := 0; c < nconds; c++ {
				if (c < 64 && seen&(1<<c) != 0) || seenMap[c] {
					matched++
				}
			}
			if matched == nconds {
				sum *= allBonus
			}
		}
		return sum
	}
	return &sumQuery{dq: dq, score: score}, match
}

// sumQuery is a disjunction asked for its per-clause scores, scored by
// score. (bleve's CustomScoreQuery would do, but it looks up every
// matching document's external ID.)
type sumQuery struct {
	dq    *query.DisjunctionQuery
	score func(*bsearch.DocumentMatch) float64
}

func (q *sumQuery) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	s, err := q.dq.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	return &sumSearcher{Searcher: s, score: q.score}, nil
}

type sumSearcher struct {
	bsearch.Searcher
	score func(*bsearch.DocumentMatch) float64
}

func (s *sumSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	d, err := s.Searcher.Next(ctx)
	if d != nil {
		d.Score = s.score(d)
	}
	return d, err
}

func (s *sumSearcher) Advance(ctx *bsearch.SearchContext, id bindex.IndexInternalID) (*bsearch.DocumentMatch, error) {
	d, err := s.Searcher.Advance(ctx, id)
	if d != nil {
		d.Score = s.score(d)
	}
	return d, err
}

// softTerms returns the plain words' terms with their query weights: how
// often each occurs among the words (a verbose query that repeats a word
// means it), terms of synonym concepts included. Titles, summaries and
// bodies share one analyzer; authors have their own.
func (p *plan) softTerms() []rankTerm {
	var out []rankTerm
	at := map[[2]string]int{}
	for ci := range p.soft {
		seen := map[[2]string]bool{}
		for _, f := range textFields {
			field := ""
			if f.name == fieldAuthors {
				field = fieldAuthors
			}
			for _, t := range p.soft[ci].fieldTerms(f.name) {
				k := [2]string{field, t}
				if seen[k] {
					continue
				}
				seen[k] = true
				if i, ok := at[k]; ok {
					out[i].weight++
					continue
				}
				at[k] = len(out)
				out = append(out, rankTerm{term: t, weight: 1, cond: ci, field: field})
			}
		}
	}
	return out
}

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
const (
	feedbackDocs       = 10
	feedbackTerms      = 20
	feedbackOrigWeight = 0.3
	// feedbackLeadBytes bounds the body text kept (field lead) and read
	// per feedback document.
	feedbackLeadBytes = 3000
)

// feedbackDoc is a first-pass hit: its score and stored text.
type feedbackDoc struct {
	score float64
	text  string
}

// expand returns terms plus RM3 feedback terms from docs, analysed with a,
// skipping candidate terms keep rejects (nil keeps all).
func expand(a analysis.Analyzer, terms []rankTerm, docs []feedbackDoc, keep func(string) bool) []rankTerm {
	if len(docs) == 0 {
		return terms
	}
	var total float64
	for _, d := range docs {
		total += d.score
	}
	if total <= 0 {
		return terms
	}
	// Analysing the documents is most of feedback's cost: spread it over
	// the processors.
	tfs := make([]map[string]float64, len(docs))
	ns := make([]float64, len(docs))
	count := func(i int) {
		tf := map[string]float64{}
		n := 0.0
		for _, t := range analyse(a, docs[i].text) {
			if isSynToken(t.Term) || len(t.Term) < 2 {
				continue
			}
			tf[string(t.Term)]++
			n++
		}
		tfs[i], ns[i] = tf, n
	}
	if workers := min(runtime.GOMAXPROCS(0), len(docs)); workers > 1 {
		var wg sync.WaitGroup
		var next atomic.Int64
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < len(docs); i = int(next.Add(1)) - 1 {
					count(i)
				}
			})
		}
		wg.Wait()
	} else {
		for i := range docs {
			count(i)
		}
	}
	rm := map[string]float64{}
	for i, d := range docs {
		for t, c := range tfs[i] {
			rm[t] += c / ns[i] * d.score / total
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
	kept := cand[:0]
	for _, c := range cand {
		if len(kept) == feedbackTerms {
			break
		}
		if keep == nil || keep(c.t) {
			kept = append(kept, c)
		}
	}
	cand = kept
	var fsum, qsum float64
	for _, c := range cand {
		fsum += c.w
	}
	for _, t := range terms {
		if t.field == "" {
			qsum += t.weight
		}
	}
	if fsum <= 0 || qsum <= 0 {
		return terms
	}
	out := make([]rankTerm, 0, len(terms)+len(cand))
	for _, t := range terms {
		t.weight = feedbackOrigWeight * t.weight / qsum
		out = append(out, t)
	}
	for _, c := range cand {
		out = append(out, rankTerm{term: c.t, weight: (1 - feedbackOrigWeight) * c.w / fsum, cond: -1, field: fieldBody})
	}
	return out
}

// lead is the start of a body kept for feedback.
func lead(body string) string {
	if len(body) <= feedbackLeadBytes {
		return body
	}
	cut := feedbackLeadBytes
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(body[:cut], ' '); sp > cut*3/4 {
		cut = sp
	}
	return body[:cut]
}

// feedbackRerankOnly keeps feedback from changing which documents match: the
// expanded query only reorders the documents the user's words find, so
// totals and facet counts are those of the words typed.
const feedbackRerankOnly = true

// feedbackPool is how many of the first search's best hits the expanded
// query reorders: at least feedbackPool, and twice the hits the page needs,
// so feedback can still bring documents onto it from further down. Reordering
// only these (instead of every match) saves a second pass over the whole
// index with the feedback terms, which are frequent words with long posting
// lists. Pages needing a pool larger than feedbackPoolMax fall back to the
// full second search.
const (
	feedbackPool    = 100
	feedbackPoolMax = 2000
)

// firstPass is what the first search of feedback found, reused by the
// final search: the total and facets of the words typed.
type firstPass struct {
	total  uint64
	facets map[string][]FacetCount
	took   time.Duration
}

// ranking returns the search context and the ranking clauses for p under
// Analysis.ExactBM25 and Analysis.Feedback, or ctx and nil when the plan
// ranks with its own clauses (other scoring, no plain words). A non-nil
// firstPass means the clauses restrict the search to the first pass's best
// hits: the caller takes the total and facets from it.
func (x *Index) ranking(ctx context.Context, q Query, p *plan) (context.Context, *rankClauses, *firstPass, error) {
	a := x.spec.analysis
	if !a.ExactBM25 || a.Scoring != "bm25" || len(p.soft) == 0 {
		return ctx, nil, nil, nil
	}
	rk, err := x.newRanker(ctx)
	if err != nil {
		return ctx, nil, nil, err
	}
	defer rk.close()
	sctx := x.bm25Context(ctx, uint64(rk.docs))
	terms := p.softTerms()
	base, match := rk.query(terms, len(p.soft))
	if base == nil {
		return ctx, nil, nil, nil
	}
	out := &rankClauses{rank: base}
	if !a.Feedback || (q.Sort != "" && q.Sort != SortRelevance) {
		return sctx, out, nil, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	pool := max(feedbackPool, 2*(max(q.Offset, 0)+min(limit, MaxLimit)))
	if !feedbackRerankOnly || pool > feedbackPoolMax {
		docs, err := x.feedbackDocs(sctx, q, p, out)
		if err != nil {
			return ctx, nil, nil, err
		}
		if len(docs) == 0 {
			return sctx, out, nil, nil
		}
		if r, _ := rk.query(expand(x.planner.text, terms, docs, nil), len(p.soft)); r != nil {
			out.rank = r
			if feedbackRerankOnly {
				out.match = match
			}
		}
		return sctx, out, nil, nil
	}
	docs, ids, fp, err := x.feedbackPool(sctx, q, p, out, pool)
	if err != nil {
		return ctx, nil, nil, err
	}
	if len(docs) > 0 {
		if r, _ := rk.query(expand(x.planner.text, terms, docs, nil), len(p.soft)); r != nil {
			out.rank = r
		}
	}
	out.match, out.ids = bleve.NewDocIDQuery(ids), true
	return sctx, out, fp, nil
}

// feedbackPool runs the first search of pseudo-relevance feedback when the
// page lies within the pool: q's best pool hits (their IDs), the
// best feedbackDocs of them with their stored title, summary and body lead,
// and the total and facets (unless q.NoFacets) of the words typed.
func (x *Index) feedbackPool(ctx context.Context, q Query, p *plan, rk *rankClauses, pool int) ([]feedbackDoc, []string, *firstPass, error) {
	fq := q
	fq.Limit, fq.Offset, fq.Sort = pool, 0, SortRelevance
	req, err := buildRequest(fq, p, true, rk)
	if err != nil {
		return nil, nil, nil, err
	}
	req.Highlight = nil
	req.Fields = nil
	res, err := x.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("feedback: %w", err)
	}
	fp := &firstPass{total: res.Total, facets: facets(res), took: res.Took}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	n := min(feedbackDocs, len(res.Hits))
	out := make([]feedbackDoc, 0, n)
	for _, h := range res.Hits[:n] {
		d, err := x.bi.Document(h.ID)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("feedback: document %s: %w", h.ID, err)
		}
		if d == nil {
			continue
		}
		vals := map[string]string{}
		d.VisitFields(func(f bindex.Field) {
			switch f.Name() {
			case fieldTitle, fieldSummary:
				vals[f.Name()] = string(f.Value())
			case fieldLead: // indexes written with a longer lead
				vals[f.Name()] = lead(string(f.Value()))
			}
		})
		var b strings.Builder
		for _, f := range []string{fieldTitle, fieldSummary, fieldLead} {
			if s := vals[f]; s != "" {
				b.WriteString(s)
				b.WriteByte('\n')
			}
		}
		out = append(out, feedbackDoc{score: h.Score, text: b.String()})
	}
	return out, ids, fp, nil
}

// feedbackDocs runs the first search of pseudo-relevance feedback: q's best
// feedbackDocs hits, with their stored title, summary and body lead.
func (x *Index) feedbackDocs(ctx context.Context, q Query, p *plan, rk *rankClauses) ([]feedbackDoc, error) {
	fq := q
	fq.Limit, fq.Offset, fq.NoFacets, fq.Sort = feedbackDocs, 0, true, SortRelevance
	req, err := buildRequest(fq, p, true, rk)
	if err != nil {
		return nil, err
	}
	req.Highlight = nil
	req.Fields = []string{fieldTitle, fieldSummary, fieldLead}
	res, err := x.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	out := make([]feedbackDoc, 0, len(res.Hits))
	for _, h := range res.Hits {
		var b strings.Builder
		for _, f := range req.Fields {
			if s, ok := h.Fields[f].(string); ok && s != "" {
				b.WriteString(s)
				b.WriteByte('\n')
			}
		}
		out = append(out, feedbackDoc{score: h.Score, text: b.String()})
	}
	return out, nil
}
