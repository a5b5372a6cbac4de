// Package eval measures search relevance on a test collection: documents
// (docs.jsonl), queries (queries.tsv) and relevance judgements (TREC qrels).
// It indexes the documents into a throw-away index — the project's own
// (index package) or the SQLite FTS5 baseline (eval/fts5) — runs every query
// and scores the rankings with trec_eval's nDCG@10, MAP, recall@100 and P@10.
package eval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/internal/eval/fts5"
)

// Depth is how many documents are retrieved per query (and the cut-off of
// recall and MAP).
const Depth = 100

// Searcher runs one plain-text query and returns the IDs of the best k
// documents, best first.
type Searcher interface {
	Search(ctx context.Context, text string, k int) ([]string, error)
}

// QueryScore is one query's scores.
type QueryScore struct {
	ID        string  `json:"id"`
	NDCG10    float64 `json:"ndcg@10"`
	AP        float64 `json:"ap"`
	Recall100 float64 `json:"recall@100"`
	P10       float64 `json:"p@10"`
	Relevant  int     `json:"relevant"`
	Retrieved int     `json:"retrieved"`
}

// Report is the mean of each metric over the judged queries, and each
// query's scores.
type Report struct {
	// Engine names what was measured ("bleve", "fts5", or a variant).
	Engine    string       `json:"engine"`
	NDCG10    float64      `json:"ndcg@10"`
	MAP       float64      `json:"map"`
	Recall100 float64      `json:"recall@100"`
	P10       float64      `json:"p@10"`
	Queries   []QueryScore `json:"queries"`
	// Unjudged lists queries with no relevant document in the qrels; like
	// trec_eval, they are left out of the means.
	Unjudged []string `json:"unjudged,omitempty"`
	// Rewritten maps the ID of each query the engine rejected to the text
	// run instead (see Bleve.Search).
	Rewritten map[string]string `json:"rewritten,omitempty"`
}

// rewriter is a Searcher that may have rewritten queries it rejected.
type rewriter interface {
	Rewrites() map[string]string
}

// Run runs every topic on s (top Depth) and scores it against qrels.
func Run(ctx context.Context, engine string, s Searcher, topics []Topic, qrels Qrels) (*Report, error) {
	r := &Report{Engine: engine, Queries: []QueryScore{}}
	for _, t := range topics {
		judged := qrels[t.ID]
		nrel := qrels.NumRelevant(t.ID)
		if nrel == 0 {
			r.Unjudged = append(r.Unjudged, t.ID)
			continue
		}
		ranked, err := s.Search(ctx, t.Text, Depth)
		if err != nil {
			return nil, fmt.Errorf("eval: %s: query %s: %w", engine, t.ID, err)
		}
		if len(ranked) > Depth {
			ranked = ranked[:Depth]
		}
		qs := QueryScore{
			ID:        t.ID,
			NDCG10:    NDCGAt(ranked, judged, 10),
			AP:        AveragePrecision(ranked, judged),
			Recall100: RecallAt(ranked, judged, Depth),
			P10:       PrecisionAt(ranked, judged, 10),
			Relevant:  nrel,
			Retrieved: len(dedupe(ranked)),
		}
		r.Queries = append(r.Queries, qs)
		r.NDCG10 += qs.NDCG10
		r.MAP += qs.AP
		r.Recall100 += qs.Recall100
		r.P10 += qs.P10
	}
	if rw, ok := s.(rewriter); ok {
		for _, t := range topics {
			if sent, ok := rw.Rewrites()[t.Text]; ok {
				if r.Rewritten == nil {
					r.Rewritten = make(map[string]string)
				}
				r.Rewritten[t.ID] = sent
			}
		}
	}
	if n := float64(len(r.Queries)); n > 0 {
		r.NDCG10 /= n
		r.MAP /= n
		r.Recall100 /= n
		r.P10 /= n
	}
	return r, nil
}

// Collection is a loaded test collection.
type Collection struct {
	Docs   []Doc
	Topics []Topic
	Qrels  Qrels
}

// Load reads the three files of a collection.
func Load(docsPath, queriesPath, qrelsPath string) (*Collection, error) {
	var c Collection
	var err error
	read := func(path string, parse func(f *os.File) error) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		defer f.Close()
		if err := parse(f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	if err = read(docsPath, func(f *os.File) (e error) { c.Docs, e = ParseDocs(f); return }); err != nil {
		return nil, err
	}
	if err = read(queriesPath, func(f *os.File) (e error) { c.Topics, e = ParseQueries(f); return }); err != nil {
		return nil, err
	}
	if err = read(qrelsPath, func(f *os.File) (e error) { c.Qrels, e = ParseQrels(f); return }); err != nil {
		return nil, err
	}
	if len(c.Docs) == 0 {
		return nil, fmt.Errorf("eval: %s: no documents: %w", docsPath, evidence.ErrInvalid)
	}
	if len(c.Topics) == 0 {
		return nil, fmt.Errorf("eval: %s: no queries: %w", queriesPath, evidence.ErrInvalid)
	}
	return &c, nil
}

// items turns documents into items for an index.
func items(docs []Doc) []evidence.Item {
	out := make([]evidence.Item, len(docs))
	for i, d := range docs {
		it := evidence.Item{
			ID:      d.ID,
			Source:  "eval",
			Type:    evidence.TypeArticle,
			Title:   d.Title,
			URL:     "https://eval.invalid/" + d.ID,
			Summary: d.Summary,
			Body:    d.Body,
		}
		it.ContentHash = evidence.ComputeHash(&it)
		out[i] = it
	}
	return out
}

// Step is one configuration of the index's analysis, for measuring what
// each part of it brings.
type Step struct {
	Name     string
	Analysis index.Analysis
}

// Steps is the ladder from bleve's defaults to the project's analysis, one
// addition at a time; the last step is index.DefaultAnalysis().
func Steps() []Step {
	return []Step{
		{"no stemming, BM25", index.Analysis{Scoring: "bm25"}},
		{"stemming, TF-IDF (bleve en)", index.Analysis{Stemming: true, Scoring: "tfidf"}},
		{"stemming, BM25", index.Analysis{Stemming: true, Scoring: "bm25"}},
		{"+ UK/US spelling", index.Analysis{Stemming: true, Spelling: true, Scoring: "bm25"}},
		{"+ synonyms", index.Analysis{Stemming: true, Spelling: true, Synonyms: true, Scoring: "bm25"}},
		{"+ exact BM25", index.Analysis{Stemming: true, Spelling: true, Synonyms: true, Scoring: "bm25", ExactBM25: true}},
		{"+ RM3 feedback (default)", index.DefaultAnalysis()},
	}
}

// Bleve is a throw-away index (the index package: the project's mapping and
// analysis) holding a collection. Close removes it.
type Bleve struct {
	ix       *index.Index
	dir      string
	log      *slog.Logger
	rewrites map[string]string
}

// NewBleve indexes docs into a new index in a temporary directory under
// parent (os.TempDir() when empty). opts configures the index; its Path is
// ignored, and its BatchSize is raised to len(docs): bleve's BM25 takes its
// statistics per segment, so scores (and the metrics, by ±0.003 nDCG@10 on
// MED) would otherwise depend on whether background merging had finished
// when the queries ran. One batch makes one segment and repeatable numbers.
func NewBleve(ctx context.Context, parent string, docs []Doc, opts index.Options) (*Bleve, error) {
	dir, err := os.MkdirTemp(parent, "evidence-eval-bleve-*")
	if err != nil {
		return nil, fmt.Errorf("eval: bleve: %w", err)
	}
	opts.Path = filepath.Join(dir, "index.bleve")
	opts.BatchSize = max(opts.BatchSize, len(docs))
	ix, err := index.Open(ctx, opts)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("eval: bleve: %w", err)
	}
	b := &Bleve{ix: ix, dir: dir, log: opts.Logger}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if err := ix.Index(ctx, items(docs)); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("eval: bleve: %w", err)
	}
	return b, nil
}

// Search runs text as a user's plain query. If the index's query language
// rejects it (a stray "field:" or bracket, too many terms), it is retried
// as its letters and digits without English stop words (which the analysis
// drops anyway), then cut to fallbackTerms words; the rewrite is logged and
// kept (see Rewrites).
func (b *Bleve) Search(ctx context.Context, text string, k int) ([]string, error) {
	res, err := b.ix.Search(ctx, index.Query{Text: text, Limit: k, Sort: index.SortRelevance, NoFacets: true})
	for _, rewrite := range []func(string) string{withoutStopWords, firstWords} {
		if !errors.Is(err, evidence.ErrInvalid) {
			break
		}
		sent := rewrite(text)
		b.log.Warn("eval: query rejected by the index; retrying rewritten", "query", text, "err", err, "rewritten", sent)
		if b.rewrites == nil {
			b.rewrites = make(map[string]string)
		}
		b.rewrites[text] = sent
		res, err = b.ix.Search(ctx, index.Query{Text: sent, Limit: k, Sort: index.SortRelevance, NoFacets: true})
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

// Rewrites maps each query text the index rejected to the text that was
// run instead.
func (b *Bleve) Rewrites() map[string]string { return b.rewrites }

// fallbackTerms is how many words a rejected query is cut to at last.
const fallbackTerms = 32

// words splits s into runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// withoutStopWords keeps s's letters and digits, minus the English stop
// words the index's analysis removes too (index.IsStopWord), so dropping
// them changes nothing but the query's term count.
func withoutStopWords(s string) string {
	var out []string
	for _, w := range words(s) {
		if !index.IsStopWord(w) {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// firstWords is withoutStopWords cut to fallbackTerms words.
func firstWords(s string) string {
	w := strings.Fields(withoutStopWords(s))
	return strings.Join(w[:min(len(w), fallbackTerms)], " ")
}

// Close closes the index and removes its directory.
func (b *Bleve) Close() error {
	err := b.ix.Close()
	if rerr := os.RemoveAll(b.dir); rerr != nil && err == nil {
		err = fmt.Errorf("eval: remove %s: %w", b.dir, rerr)
	}
	return err
}

// FTS5 is a throw-away SQLite FTS5 index (porter unicode61, bm25) holding a
// collection. Close removes it.
type FTS5 struct {
	db  *fts5.DB
	dir string
}

// NewFTS5 indexes docs into a new SQLite FTS5 table in a temporary
// directory under parent (os.TempDir() when empty).
func NewFTS5(ctx context.Context, parent string, docs []Doc) (*FTS5, error) {
	dir, err := os.MkdirTemp(parent, "evidence-eval-fts5-*")
	if err != nil {
		return nil, fmt.Errorf("eval: fts5: %w", err)
	}
	db, err := fts5.Open(ctx, fts5.Options{Path: filepath.Join(dir, "fts.db")})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("eval: %w", err)
	}
	f := &FTS5{db: db, dir: dir}
	if err := db.Index(ctx, items(docs)); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("eval: %w", err)
	}
	return f, nil
}

// Search runs text as plain words (any may match), ranked by bm25.
func (f *FTS5) Search(ctx context.Context, text string, k int) ([]string, error) {
	res, err := f.db.Search(ctx, fts5.Query{Text: strings.ReplaceAll(text, `"`, " "), Limit: k})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids, nil
}

// Close closes the database and removes its directory.
func (f *FTS5) Close() error {
	err := f.db.Close()
	if rerr := os.RemoveAll(f.dir); rerr != nil && err == nil {
		err = fmt.Errorf("eval: remove %s: %w", f.dir, rerr)
	}
	return err
}
