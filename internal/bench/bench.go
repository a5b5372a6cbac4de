package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/internal/eval/fts5"
)

// Kind is a kind of query the benchmark times.
type Kind string

// Query kinds.
const (
	// KindPlain is ranked words.
	KindPlain Kind = "plain"
	// KindPhrase is one quoted phrase.
	KindPhrase Kind = "phrase"
	// KindFiltered is ranked words filtered by source and a date range.
	KindFiltered Kind = "filtered"
	// KindFaceted is ranked words with facet counts (source, type, year,
	// topic) and highlighted snippets.
	KindFaceted Kind = "faceted"
)

// Kinds lists the query kinds in report order.
var Kinds = []Kind{KindPlain, KindPhrase, KindFiltered, KindFaceted}

// PageSize is the number of hits every query asks for.
const PageSize = 20

// plainQueries read like what professionals type; half of them are about
// the feed's subjects, half about MED's.
var plainQueries = []string{
	"social prescribing older people", "cbt psychosis", "peer support workers", "loneliness depression",
	"crisis care admission", "suicide prevention", "blood glucose", "cerebrospinal fluid oxygen",
	"bone marrow", "fatty acids placenta", "renal amyloidosis", "eating disorders young people",
	"housing first homeless", "antidepressant discontinuation symptoms", "talking therapies long-term conditions",
	"separation anxiety children", "hypothermia heart surgery", "burnout nurses", "lung neoplasms",
	"patient activation",
}

var phraseQueries = []string{
	`"social prescribing"`, `"mental health"`, `"young people"`, `"randomised trial"`, `"bone marrow"`,
	`"fatty acids"`, `"peer support"`, `"systematic review"`, `"blood glucose"`, `"long-term conditions"`,
}

// Query is one benchmark query.
type Query struct {
	Kind     Kind
	Text     string
	Source   string // filtered only
	From, To *time.Time
}

// Queries returns the query set: the same for both engines.
func Queries() []Query {
	from := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	sources := []string{evidence.SourceMentalElf, evidence.SourceKingsFund, evidence.SourceCentreForMH, evidence.SourceNationalVoices}
	var out []Query
	for _, t := range plainQueries {
		out = append(out, Query{Kind: KindPlain, Text: t})
	}
	for _, t := range phraseQueries {
		out = append(out, Query{Kind: KindPhrase, Text: t})
	}
	for i, t := range plainQueries {
		out = append(out, Query{Kind: KindFiltered, Text: t, Source: sources[i%len(sources)], From: &from, To: &to})
	}
	for _, t := range plainQueries {
		out = append(out, Query{Kind: KindFaceted, Text: t})
	}
	return out
}

// Options configure Run.
type Options struct {
	// Docs is the number of items to generate and index.
	Docs int
	// Dir is where the throw-away indexes go (a new temporary directory
	// under it; os.TempDir() when empty). They are removed afterwards.
	Dir string
	// Index configures the bleve side as the application does (its Path is
	// ignored).
	Index index.Options
	// FTS5BatchSize is the number of rows per FTS5 transaction (default:
	// the index's batch size).
	FTS5BatchSize int
	// Samples is the least number of timed queries per kind and engine
	// (default 200).
	Samples int
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

// Row is one line of the report: a measurement for both engines.
type Row struct {
	Metric string  `json:"metric"`
	Unit   string  `json:"unit"`
	Bleve  float64 `json:"bleve"`
	FTS5   float64 `json:"fts5"`
	// Ratio is Bleve / FTS5 (0 when FTS5 measured 0).
	Ratio float64 `json:"ratio"`
}

// Report is the result of Run.
type Report struct {
	Docs     int     `json:"docs"`
	AvgWords float64 `json:"avg_words"`
	// Samples is the number of timed queries per kind and engine.
	Samples int   `json:"samples"`
	Rows    []Row `json:"rows"`
	// MemoryMethod says how peak memory was measured.
	MemoryMethod string `json:"memory_method"`
	// PhraseMatches is each phrase query's number of matches on both
	// engines, so a difference in the mean can be traced to its phrase.
	PhraseMatches []QueryMatches `json:"phrase_matches"`
}

// QueryMatches is the number of items one query matches on each engine.
type QueryMatches struct {
	Query string `json:"query"`
	Bleve int    `json:"bleve"`
	FTS5  int    `json:"fts5"`
}

// engine is one side of the comparison.
type engine interface {
	// index adds items (timed).
	index(ctx context.Context, items []evidence.Item) error
	// finish ends the bulk load: flush, persist (timed).
	finish(ctx context.Context) error
	// ready makes the index queryable after finish (not timed).
	ready(ctx context.Context) error
	size(ctx context.Context) (int64, error)
	// search runs q for PageSize hits and returns the number of matches
	// when the engine reports it cheaply (else -1).
	search(ctx context.Context, q Query) (int, error)
	// count returns the number of matches of q (not timed); Run calls it
	// only when search reports -1.
	count(ctx context.Context, q Query) (int, error)
	close() error
}

// measurement is what Run records for one engine.
type measurement struct {
	itemsPerSec float64
	sizeBytes   int64
	peakBytes   uint64
	latency     map[Kind][]time.Duration
	matches     map[Kind]float64
	// phrases are the phrase queries' match counts, in query order.
	phrases []int
}

// Run generates opts.Docs items from c, indexes them with bleve and with
// FTS5, times the query set on both and returns the table.
func Run(ctx context.Context, c *Corpus, opts Options) (*Report, error) {
	if opts.Docs <= 0 {
		return nil, fmt.Errorf("bench: %d docs: %w", opts.Docs, evidence.ErrInvalid)
	}
	if opts.Samples <= 0 {
		opts.Samples = 200
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	chunk := opts.Index.BatchSize
	if chunk <= 0 {
		chunk = index.DefaultBatchSize
	}
	if opts.FTS5BatchSize <= 0 {
		opts.FTS5BatchSize = chunk
	}
	dir, err := os.MkdirTemp(opts.Dir, "evidence-bench-*")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)

	bopts := opts.Index
	bopts.Path = filepath.Join(dir, "index.bleve")
	bopts.Logger = log
	engines := []struct {
		name string
		open func() (engine, error)
	}{
		{"bleve", func() (engine, error) { return openBleve(ctx, bopts) }},
		{"fts5", func() (engine, error) {
			return openFTS5(ctx, fts5.Options{Path: filepath.Join(dir, "fts5.db"), BatchSize: opts.FTS5BatchSize, Logger: log})
		}},
	}
	queries := Queries()
	mem := newPeakMeter()
	var res [2]measurement
	var words float64
	for ei, e := range engines {
		eng, err := e.open()
		if err != nil {
			return nil, err
		}
		m, w, err := measure(ctx, log, e.name, eng, c, opts, chunk, queries, mem)
		if cerr := eng.close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		res[ei] = *m
		words = w
	}

	r := &Report{Docs: opts.Docs, AvgWords: words, MemoryMethod: mem.method()}
	b, f := res[0], res[1]
	r.add("index rate", "items/s", b.itemsPerSec, f.itemsPerSec)
	r.add("index size", "MiB", float64(b.sizeBytes)/(1<<20), float64(f.sizeBytes)/(1<<20))
	r.add("peak memory (indexing)", "MiB", float64(b.peakBytes)/(1<<20), float64(f.peakBytes)/(1<<20))
	for _, k := range Kinds {
		bl, fl := b.latency[k], f.latency[k]
		r.Samples = len(bl)
		for _, p := range []float64{50, 95, 99} {
			r.add(fmt.Sprintf("%s p%d", k, int(p)), "ms", ms(percentile(bl, p)), ms(percentile(fl, p)))
		}
	}
	for _, k := range Kinds {
		r.add(fmt.Sprintf("%s matches (mean)", k), "items", b.matches[k], f.matches[k])
	}
	var phrases []string
	for _, q := range queries {
		if q.Kind == KindPhrase {
			phrases = append(phrases, q.Text)
		}
	}
	for i, q := range phrases {
		r.PhraseMatches = append(r.PhraseMatches, QueryMatches{Query: q, Bleve: b.phrases[i], FTS5: f.phrases[i]})
	}
	return r, nil
}

func (r *Report) add(metric, unit string, bleve, fts float64) {
	row := Row{Metric: metric, Unit: unit, Bleve: bleve, FTS5: fts}
	if fts != 0 {
		row.Ratio = bleve / fts
	}
	r.Rows = append(r.Rows, row)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measure indexes the corpus into eng and times the queries.
func measure(ctx context.Context, log *slog.Logger, name string, eng engine, c *Corpus, opts Options, chunk int, queries []Query, mem *peakMeter) (*measurement, float64, error) {
	m := &measurement{latency: make(map[Kind][]time.Duration), matches: make(map[Kind]float64)}
	log.Info("bench: indexing", "engine", name, "docs", opts.Docs)
	mem.reset()
	var took time.Duration
	var words int
	for start := 0; start < opts.Docs; start += chunk {
		if err := ctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("bench: %s: %w", name, err)
		}
		items := c.Items(start, min(start+chunk, opts.Docs))
		for i := range items {
			words += countWords(items[i].Body)
		}
		t0 := time.Now()
		if err := eng.index(ctx, items); err != nil {
			return nil, 0, fmt.Errorf("bench: %s: %w", name, err)
		}
		took += time.Since(t0)
		log.Debug("bench: indexed", "engine", name, "done", min(start+chunk, opts.Docs))
	}
	t0 := time.Now()
	if err := eng.finish(ctx); err != nil {
		return nil, 0, fmt.Errorf("bench: %s: %w", name, err)
	}
	took += time.Since(t0)
	m.peakBytes = mem.peak()
	m.itemsPerSec = float64(opts.Docs) / took.Seconds()
	if err := eng.ready(ctx); err != nil {
		return nil, 0, fmt.Errorf("bench: %s: %w", name, err)
	}
	size, err := eng.size(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("bench: %s: %w", name, err)
	}
	m.sizeBytes = size
	log.Info("bench: indexed", "engine", name, "items_per_s", math.Round(m.itemsPerSec), "bytes", size)

	for _, k := range Kinds {
		var qs []Query
		for _, q := range queries {
			if q.Kind == k {
				qs = append(qs, q)
			}
		}
		total := 0
		for _, q := range qs { // warm up, and count matches (not timed)
			n, err := eng.search(ctx, q)
			if err != nil {
				return nil, 0, fmt.Errorf("bench: %s: %s query %q: %w", name, k, q.Text, err)
			}
			if n < 0 { // the search did not report its matches: count them
				if n, err = eng.count(ctx, q); err != nil {
					return nil, 0, fmt.Errorf("bench: %s: count %q: %w", name, q.Text, err)
				}
			}
			total += n
			if k == KindPhrase {
				m.phrases = append(m.phrases, n)
			}
		}
		m.matches[k] = float64(total) / float64(len(qs))
		lat := make([]time.Duration, 0, opts.Samples+len(qs))
		for len(lat) < opts.Samples {
			for _, q := range qs {
				if err := ctx.Err(); err != nil {
					return nil, 0, fmt.Errorf("bench: %s: %w", name, err)
				}
				t0 := time.Now()
				if _, err := eng.search(ctx, q); err != nil {
					return nil, 0, fmt.Errorf("bench: %s: %s query %q: %w", name, k, q.Text, err)
				}
				lat = append(lat, time.Since(t0))
			}
		}
		m.latency[k] = lat
		log.Info("bench: queries", "engine", name, "kind", k, "p50_ms", ms(percentile(lat, 50)))
	}
	return m, float64(words) / float64(opts.Docs), nil
}

func countWords(s string) int {
	n := 0
	in := false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' ' || s[i] == '\n' || s[i] == '\t'
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

// percentile is the nearest-rank p-th percentile of ds (0 when empty).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// bleveEngine is the index package.
type bleveEngine struct {
	opts index.Options
	ix   *index.Index
}

func openBleve(ctx context.Context, opts index.Options) (*bleveEngine, error) {
	ix, err := index.Open(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return &bleveEngine{opts: opts, ix: ix}, nil
}

func (e *bleveEngine) index(ctx context.Context, items []evidence.Item) error {
	return e.ix.Index(ctx, items)
}

// finish closes the index: that waits for the last segments to be
// persisted.
func (e *bleveEngine) finish(context.Context) error {
	err := e.ix.Close()
	e.ix = nil
	return err
}

func (e *bleveEngine) ready(ctx context.Context) error {
	ix, err := index.Open(ctx, e.opts)
	if err != nil {
		return err
	}
	e.ix = ix
	return nil
}

func (e *bleveEngine) size(context.Context) (int64, error) { return e.ix.SizeBytes() }

func (e *bleveEngine) query(q Query) index.Query {
	iq := index.Query{Text: q.Text, Limit: PageSize, From: q.From, To: q.To, NoFacets: q.Kind != KindFaceted}
	if q.Source != "" {
		iq.Sources = []string{q.Source}
	}
	return iq
}

func (e *bleveEngine) search(ctx context.Context, q Query) (int, error) {
	res, err := e.ix.Search(ctx, e.query(q))
	if err != nil {
		return 0, err
	}
	return int(res.Total), nil
}

// count is search: bleve always reports the number of matches.
func (e *bleveEngine) count(ctx context.Context, q Query) (int, error) {
	return e.search(ctx, q)
}

func (e *bleveEngine) close() error {
	if e.ix == nil {
		return nil
	}
	return e.ix.Close()
}

// ftsEngine is the SQLite FTS5 baseline.
type ftsEngine struct{ db *fts5.DB }

func openFTS5(ctx context.Context, opts fts5.Options) (*ftsEngine, error) {
	db, err := fts5.Open(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return &ftsEngine{db: db}, nil
}

func (e *ftsEngine) index(ctx context.Context, items []evidence.Item) error {
	return e.db.Index(ctx, items)
}

func (e *ftsEngine) finish(ctx context.Context) error        { return e.db.Checkpoint(ctx) }
func (e *ftsEngine) ready(context.Context) error             { return nil }
func (e *ftsEngine) size(ctx context.Context) (int64, error) { return e.db.SizeBytes(ctx) }

func (e *ftsEngine) query(q Query) fts5.Query {
	fq := fts5.Query{Text: q.Text, Limit: PageSize, From: q.From, To: q.To}
	if q.Source != "" {
		fq.Sources = []string{q.Source}
	}
	if q.Kind == KindFaceted {
		fq.Facets, fq.Snippets = true, true
	}
	return fq
}

func (e *ftsEngine) search(ctx context.Context, q Query) (int, error) {
	res, err := e.db.Search(ctx, e.query(q))
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

func (e *ftsEngine) count(ctx context.Context, q Query) (int, error) {
	return e.db.Count(ctx, e.query(q))
}

func (e *ftsEngine) close() error { return e.db.Close() }
