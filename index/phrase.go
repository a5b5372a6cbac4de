package index

import (
	"context"
	"math"
	"slices"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"
)

// phraseQuery matches the documents holding one phrase in one field that
// keeps term positions: slots of alternative terms at consecutive positions,
// a nil slot being a removed stop word (any term, or none). It is what
// bodies' phrases run as (issue item 12). bleve's own phrase searcher builds
// maps of every term location of every candidate and merges them into the
// hit; on bodies, where "mental health" has thousands of candidates with
// dozens of locations each, that was most of a phrase query's time. This
// one walks the terms' posting lists in step, reusing one TermFieldDoc per
// term, and compares positions as sorted integers. Hits carry no term
// locations (bodies are not highlighted).
//
// A hit's score is BM25 with the phrase's occurrences as its frequency and
// the sum of its slots' idf as its idf, times the boost.
type phraseQuery struct {
	field string
	slots [][]string
	boost float64
}

// phraseStatsKey is the search-context key of a phraseStats.
type phraseStatsKey struct{}

// phraseStats gives phraseQuery the mean token count of a field (0 if
// unknown, and the length is then not normalised).
type phraseStats func(field string) float64

func (q *phraseQuery) Searcher(ctx context.Context, r bindex.IndexReader, _ mapping.IndexMapping, _ bsearch.SearcherOptions) (bsearch.Searcher, error) {
	docs, err := r.DocCount()
	if err != nil {
		return nil, err
	}
	s := &phraseSearcher{boost: q.boost}
	if st, ok := ctx.Value(phraseStatsKey{}).(phraseStats); ok && st != nil {
		s.avgLen = st(q.field)
	}
	for off, alts := range q.slots {
		if len(alts) == 0 {
			continue
		}
		sl := phraseSlot{off: uint64(off)}
		var df uint64
		for _, t := range alts {
			tfr, err := r.TermFieldReader(ctx, []byte(t), q.field, true, true, true)
			if err != nil {
				_ = s.Close()
				return nil, err
			}
			if tfr.Count() == 0 {
				_ = tfr.Close()
				continue
			}
			df = max(df, tfr.Count())
			sl.readers = append(sl.readers, &phraseReader{r: tfr, doc: &bindex.TermFieldDoc{}})
		}
		s.slots = append(s.slots, sl)
		if len(sl.readers) == 0 { // a slot no document has: nothing matches
			_ = s.Close()
			return searcher.NewMatchNoneSearcher(r)
		}
		s.idf += bm25IDF(docs, df)
		if len(s.slots) == 1 || df < s.count {
			s.count = df // at most the rarest slot's documents
		}
	}
	if len(s.slots) == 0 {
		return searcher.NewMatchNoneSearcher(r)
	}
	for i := range s.slots {
		for _, pr := range s.slots[i].readers {
			if err := pr.next(); err != nil {
				_ = s.Close()
				return nil, err
			}
		}
	}
	return s, nil
}

// bm25IDF is bleve's BM25 idf.
func bm25IDF(docs, df uint64) float64 {
	return math.Log(1 + (float64(docs)-float64(df)+0.5)/(float64(df)+0.5))
}

// phraseReader is one term's posting list, positioned at doc (until done).
type phraseReader struct {
	r    bindex.TermFieldReader
	doc  *bindex.TermFieldDoc // reused for every document
	done bool
}

func (p *phraseReader) next() error {
	d, err := p.r.Next(p.doc)
	p.set(d)
	return err
}

// advance moves to the first document at or after id; it never moves back
// (scorch's readers restart from the beginning to seek backwards).
func (p *phraseReader) advance(id bindex.IndexInternalID) error {
	if p.done || p.doc.ID.Compare(id) >= 0 {
		return nil
	}
	d, err := p.r.Advance(id, p.doc)
	p.set(d)
	return err
}

func (p *phraseReader) set(d *bindex.TermFieldDoc) {
	if d == nil {
		p.done = true
		return
	}
	p.doc = d
}

// phraseSlot is one position of the phrase: its offset from the first
// and the readers of its alternative terms.
type phraseSlot struct {
	off     uint64
	readers []*phraseReader
	pos     []uint64 // positions at the current document, sorted
}

// min returns the smallest current document of the slot's readers, nil if
// all are done.
func (s *phraseSlot) min() bindex.IndexInternalID {
	var m bindex.IndexInternalID
	for _, p := range s.readers {
		if !p.done && (m == nil || p.doc.ID.Compare(m) < 0) {
			m = p.doc.ID
		}
	}
	return m
}

// positions fills s.pos with the positions of the readers at id and returns
// the field length of id (from its norm).
func (s *phraseSlot) positions(id bindex.IndexInternalID) float64 {
	s.pos = s.pos[:0]
	n := 0
	var length float64
	for _, p := range s.readers {
		if p.done || !p.doc.ID.Equals(id) {
			continue
		}
		n++
		for _, v := range p.doc.Vectors {
			s.pos = append(s.pos, v.Pos)
		}
		if p.doc.Norm > 0 {
			length = 1 / (p.doc.Norm * p.doc.Norm)
		}
	}
	if n > 1 || !slices.IsSorted(s.pos) {
		slices.Sort(s.pos)
	}
	return length
}

type phraseSearcher struct {
	slots  []phraseSlot
	boost  float64
	idf    float64
	avgLen float64
	count  uint64
	norm   float64
	cur    bindex.IndexInternalID // the last document returned
	target bindex.IndexInternalID // align's buffer
}

// Next returns the next document holding the phrase.
func (s *phraseSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	for {
		id, err := s.align()
		if err != nil || id == nil {
			return nil, err
		}
		tf, length := s.occurrences(id)
		s.cur = append(s.cur[:0], id...)
		if err := s.step(s.cur); err != nil {
			return nil, err
		}
		if tf == 0 {
			continue
		}
		dm := ctx.DocumentMatchPool.Get()
		dm.IndexInternalID = append(dm.IndexInternalID[:0], s.cur...)
		dm.Score = s.score(tf, length)
		return dm, nil
	}
}

// align advances the readers until every slot has a reader at one
// document, and returns it (nil when a slot is done).
func (s *phraseSearcher) align() (bindex.IndexInternalID, error) {
	for {
		var target bindex.IndexInternalID
		for i := range s.slots {
			m := s.slots[i].min()
			if m == nil {
				return nil, nil
			}
			if target == nil || m.Compare(target) > 0 {
				target = m
			}
		}
		s.target = append(s.target[:0], target...) // the readers reuse theirs
		target = s.target
		same := true
		for i := range s.slots {
			for _, p := range s.slots[i].readers {
				if err := p.advance(target); err != nil {
					return nil, err
				}
			}
			if m := s.slots[i].min(); m == nil {
				return nil, nil
			} else if !m.Equals(target) {
				same = false
			}
		}
		if same {
			return target, nil
		}
	}
}

// occurrences counts the phrase's occurrences in document id, at which
// every slot has a reader, and returns the field's length there.
func (s *phraseSearcher) occurrences(id bindex.IndexInternalID) (int, float64) {
	var length float64
	for i := range s.slots {
		if l := s.slots[i].positions(id); l > 0 {
			length = l
		}
	}
	first := &s.slots[0]
	tf := 0
	for _, p := range first.pos {
		ok := true
		for i := 1; i < len(s.slots) && ok; i++ {
			sl := &s.slots[i]
			want := p + sl.off - first.off
			_, ok = slices.BinarySearch(sl.pos, want)
		}
		if ok {
			tf++
		}
	}
	return tf, length
}

// step moves every reader at id to its next document.
func (s *phraseSearcher) step(id bindex.IndexInternalID) error {
	for i := range s.slots {
		for _, p := range s.slots[i].readers {
			if !p.done && p.doc.ID.Equals(id) {
				if err := p.next(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *phraseSearcher) score(tf int, length float64) float64 {
	f := float64(tf)
	norm := 1.0
	if s.avgLen > 0 && length > 0 {
		norm = 1 - bsearch.BM25_b + bsearch.BM25_b*length/s.avgLen
	}
	return s.boost * s.idf * f * (bsearch.BM25_k1 + 1) / (f + bsearch.BM25_k1*norm)
}

// Advance returns the first document at or after id holding the phrase.
func (s *phraseSearcher) Advance(ctx *bsearch.SearchContext, id bindex.IndexInternalID) (*bsearch.DocumentMatch, error) {
	for i := range s.slots {
		for _, p := range s.slots[i].readers {
			if err := p.advance(id); err != nil {
				return nil, err
			}
		}
	}
	return s.Next(ctx)
}

func (s *phraseSearcher) Close() error {
	var err error
	for i := range s.slots {
		for _, p := range s.slots[i].readers {
			if cerr := p.r.Close(); err == nil {
				err = cerr
			}
		}
	}
	return err
}

func (s *phraseSearcher) Weight() float64            { return s.boost * s.idf }
func (s *phraseSearcher) SetQueryNorm(n float64)     { s.norm = n }
func (s *phraseSearcher) Count() uint64              { return s.count }
func (s *phraseSearcher) Min() int                   { return 0 }
func (s *phraseSearcher) Size() int                  { return 64 * (1 + len(s.slots)) }
func (s *phraseSearcher) DocumentMatchPoolSize() int { return 1 }
