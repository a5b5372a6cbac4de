package index

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sync"
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
var lengthFields = []string{fieldTitle, fieldSummary, fieldBody, fieldAuthors}

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
	card := make(map[string]int, len(indexedFields)+1)
	card["*"] = int(docs) // bleve's unscored-disjunction optimisation
	for _, f := range indexedFields {
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
	r    bindex.IndexReader
	docs float64
	idfs map[[2]string]float64
	ctx  context.Context
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
func (rk *ranker) query(terms []rankTerm, nconds int) (rank *sumQuery, match query.Query) {
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
	return &sumQuery{clauses: clauses, condOf: condOf, nconds: nconds}, bleve.NewDisjunctionQuery(clauses...)
}

// sumQuery is a disjunction of term clauses scored by the sum of the
// clauses' scores, times allBonus when the document matches every plain
// word. bleve's disjunction would multiply the sum by the fraction of
// clauses matched, and telling which words a document matched needs its
// per-clause scores (a map per document): sumSearcher merges the clauses
// itself and keeps a bit set of words.
type sumQuery struct {
	clauses []query.Query
	// condOf is the plain word of each clause (-1 for feedback terms).
	condOf []int
	nconds int
	// norm is the query norm bleve last gave the clauses' scores (set as
	// a search runs): scores divided by it are the clauses' own.
	norm float64
}

// allMark is the key of DocumentMatch.ScoreBreakdown that sumSearcher sets
// on documents matching every plain word (see sumQuery.split).
const allMark = -1

// split returns a hit's score without allBonus, and whether it matched
// every plain word of a query of several.
func (q *sumQuery) split(d *bsearch.DocumentMatch) (sum float64, all bool) {
	if _, all = d.ScoreBreakdown[allMark]; all {
		return d.Score / allBonus, true
	}
	return d.Score, false
}

func (q *sumQuery) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	s := &sumSearcher{q: q, children: make([]bsearch.Searcher, 0, len(q.clauses))}
	for _, c := range q.clauses {
		cs, err := c.Searcher(ctx, i, m, options)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		s.children = append(s.children, cs)
	}
	s.currs = make([]*bsearch.DocumentMatch, len(s.children))
	s.ids = make([]uint64, len(s.children))
	// Normalise as bleve's disjunction does; a parent that normalises
	// again says so through SetQueryNorm.
	if w := s.Weight(); w > 0 {
		s.SetQueryNorm(1 / math.Sqrt(w))
	} else {
		s.SetQueryNorm(1)
	}
	return s, nil
}

// sumSearcher merges its clauses' searchers document by document.
type sumSearcher struct {
	q           *sumQuery
	children    []bsearch.Searcher
	currs       []*bsearch.DocumentMatch // each child's current match, nil when done
	ids         []uint64                 // their document numbers
	initialized bool
}

// docNum is a scorch internal ID as a number (big-endian, 8 bytes).
func docNum(id bindex.IndexInternalID) uint64 {
	if len(id) == 8 {
		return binary.BigEndian.Uint64(id)
	}
	var n uint64
	for _, b := range id {
		n = n<<8 | uint64(b)
	}
	return n
}

func (s *sumSearcher) set(i int, d *bsearch.DocumentMatch) {
	s.currs[i] = d
	if d != nil {
		s.ids[i] = docNum(d.IndexInternalID)
	}
}

func (s *sumSearcher) init(ctx *bsearch.SearchContext) error {
	for i, c := range s.children {
		d, err := c.Next(ctx)
		if err != nil {
			return err
		}
		s.set(i, d)
	}
	s.initialized = true
	return nil
}

func (s *sumSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	if !s.initialized {
		if err := s.init(ctx); err != nil {
			return nil, err
		}
	}
	return s.collect(ctx)
}

func (s *sumSearcher) Advance(ctx *bsearch.SearchContext, id bindex.IndexInternalID) (*bsearch.DocumentMatch, error) {
	if !s.initialized {
		if err := s.init(ctx); err != nil {
			return nil, err
		}
	}
	target := docNum(id)
	for i, c := range s.children {
		if s.currs[i] == nil || s.ids[i] >= target {
			continue
		}
		ctx.DocumentMatchPool.Put(s.currs[i])
		d, err := c.Advance(ctx, id)
		if err != nil {
			return nil, err
		}
		s.set(i, d)
	}
	return s.collect(ctx)
}

// collect returns the next document any child matches, scored, and moves
// the children that matched it on.
func (s *sumSearcher) collect(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	first := true
	var low uint64
	for i, d := range s.currs {
		if d != nil && (first || s.ids[i] < low) {
			low, first = s.ids[i], false
		}
	}
	if first {
		return nil, nil
	}
	var rv *bsearch.DocumentMatch
	var sum float64
	var seen uint64
	var seenMap map[int]bool
	for i, d := range s.currs {
		if d == nil || s.ids[i] != low {
			continue
		}
		sum += d.Score
		if c := s.q.condOf[i]; c >= 0 {
			if c < 64 {
				seen |= 1 << c
			} else {
				if seenMap == nil {
					seenMap = map[int]bool{}
				}
				seenMap[c] = true
			}
		}
		if rv == nil {
			rv = d
		} else {
			if len(d.FieldTermLocations) > 0 { // copied: d's are reused
				rv.FieldTermLocations = bsearch.MergeFieldTermLocationsFromMatch(rv.FieldTermLocations, d)
			}
			ctx.DocumentMatchPool.Put(d)
		}
		next, err := s.children[i].Next(ctx)
		if err != nil {
			return nil, err
		}
		s.set(i, next)
	}
	all := s.q.nconds > 1
	for c := 0; all && c < s.q.nconds; c++ {
		all = (c < 64 && seen&(1<<c) != 0) || seenMap[c]
	}
	if all {
		sum *= allBonus
		if rv.ScoreBreakdown == nil {
			rv.ScoreBreakdown = make(map[int]float64, 1)
		}
		rv.ScoreBreakdown[allMark] = 1
	}
	rv.Score = sum
	return rv, nil
}

func (s *sumSearcher) Weight() float64 {
	var w float64
	for _, c := range s.children {
		w += c.Weight()
	}
	return w
}

func (s *sumSearcher) SetQueryNorm(n float64) {
	s.q.norm = n
	for _, c := range s.children {
		c.SetQueryNorm(n)
	}
}

func (s *sumSearcher) Count() uint64 {
	var n uint64
	for _, c := range s.children {
		n += c.Count()
	}
	return n
}

func (s *sumSearcher) Min() int { return 0 }

func (s *sumSearcher) Size() int {
	n := 64
	for _, c := range s.children {
		n += c.Size()
	}
	return n
}

func (s *sumSearcher) DocumentMatchPoolSize() int {
	n := len(s.children)
	for _, c := range s.children {
		n += c.DocumentMatchPoolSize()
	}
	return n
}

func (s *sumSearcher) Close() error {
	var first error
	for _, c := range s.children {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
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
