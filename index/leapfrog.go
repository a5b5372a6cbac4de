package index

import (
	"context"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
)

// leapQuery matches the documents of q that filter matches too, scored by q
// alone. bleve's BooleanQuery filter is a post-filter: it scores every
// document q matches and then drops those the filter lacks, so a ranking
// disjunction over frequent words is scored across the whole index even
// when the filter keeps a few hundred documents. leapQuery instead lets the
// filter drive: q is only advanced to (and scored at) the filter's
// documents, and the filter skips ahead past q's gaps.
type leapQuery struct {
	q, filter query.Query
}

func (l *leapQuery) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	qs, err := l.q.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	fs, err := l.filter.Searcher(ctx, i, m, bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		_ = qs.Close()
		return nil, err
	}
	return &leapSearcher{q: qs, f: fs}, nil
}

type leapSearcher struct {
	q, f bsearch.Searcher
}

func (s *leapSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	f, err := s.f.Next(ctx)
	return s.align(ctx, f, err)
}

func (s *leapSearcher) Advance(ctx *bsearch.SearchContext, id bindex.IndexInternalID) (*bsearch.DocumentMatch, error) {
	f, err := s.f.Advance(ctx, id)
	return s.align(ctx, f, err)
}

// align returns q's first document at or after the filter's document f
// that both match, leapfrogging the two searchers.
func (s *leapSearcher) align(ctx *bsearch.SearchContext, f *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
	for {
		if err != nil || f == nil {
			return nil, err
		}
		d, err := s.q.Advance(ctx, f.IndexInternalID)
		if err != nil || d == nil {
			ctx.DocumentMatchPool.Put(f)
			return nil, err
		}
		same := d.IndexInternalID.Equals(f.IndexInternalID)
		ctx.DocumentMatchPool.Put(f)
		if same {
			return d, nil
		}
		id := append(bindex.IndexInternalID(nil), d.IndexInternalID...)
		f, err = s.f.Advance(ctx, id)
		if err != nil {
			ctx.DocumentMatchPool.Put(d)
			return nil, err
		}
		if f != nil && f.IndexInternalID.Equals(id) {
			ctx.DocumentMatchPool.Put(f)
			return d, nil
		}
		ctx.DocumentMatchPool.Put(d)
	}
}

func (s *leapSearcher) Close() error {
	err := s.q.Close()
	if ferr := s.f.Close(); err == nil {
		err = ferr
	}
	return err
}

func (s *leapSearcher) Weight() float64        { return s.q.Weight() }
func (s *leapSearcher) SetQueryNorm(n float64) { s.q.SetQueryNorm(n) }
func (s *leapSearcher) Count() uint64          { return min(s.q.Count(), s.f.Count()) }
func (s *leapSearcher) Min() int               { return 0 }
func (s *leapSearcher) Size() int              { return s.q.Size() + s.f.Size() }
func (s *leapSearcher) DocumentMatchPoolSize() int {
	return s.q.DocumentMatchPoolSize() + s.f.DocumentMatchPoolSize() + 1
}
