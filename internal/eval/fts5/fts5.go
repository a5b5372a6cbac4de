// Package fts5 is the baseline Evidence Tracker's search is measured
// against: the items in an SQLite FTS5 table (porter unicode61 tokenizer,
// bm25 ranking with the index's field weights), set up the way a developer
// who picked SQLite instead of bleve would. `evidence eval` compares its
// relevance and `evidence bench search` its speed with the index package's.
//
// It is a measuring instrument, not part of the product: items go in once
// (an ID already present is an error) and the query syntax is only words,
// "phrases" and the filters the benchmark uses.
package fts5

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/evidencetracker/evidence"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DefaultBatchSize is the number of items inserted per transaction when
// Options.BatchSize is zero.
const DefaultBatchSize = 1000

// Column weights for bm25(), in column order: title, summary, body, authors.
// They match the index package's field boosts.
const bm25Weights = "3.0, 2.0, 1.0, 1.0"

// Facet names in Result.Facets.
const (
	FacetSource = "source"
	FacetType   = "type"
	FacetYear   = "year"
	FacetTopic  = "topic"
)

const schema = `
CREATE TABLE items (
	rowid     INTEGER PRIMARY KEY,
	id        TEXT NOT NULL UNIQUE,
	source    TEXT NOT NULL,
	type      TEXT NOT NULL,
	published TEXT,
	year      TEXT
);
CREATE INDEX items_source_published ON items(source, published);
CREATE INDEX items_published ON items(published);
CREATE TABLE item_topics (
	rowid INTEGER NOT NULL,
	topic TEXT NOT NULL,
	PRIMARY KEY (rowid, topic)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE fts USING fts5(title, summary, body, authors, tokenize = 'porter unicode61');
`

// Options configure Open.
type Options struct {
	// Path of the SQLite file; it must not exist yet.
	Path string
	// BatchSize is how many items Index inserts per transaction.
	BatchSize int
	// Logger receives debug messages; nil discards them.
	Logger *slog.Logger
}

// DB is an FTS5 index of items. It is safe for concurrent use (queries are
// serialised on one connection).
type DB struct {
	db    *sql.DB
	path  string
	batch int
	log   *slog.Logger
}

// Open creates a new FTS5 index at opts.Path.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Path == "" || strings.ContainsAny(opts.Path, "?#") {
		return nil, fmt.Errorf("fts5: open %q: bad path: %w", opts.Path, evidence.ErrInvalid)
	}
	if opts.BatchSize < 0 {
		return nil, fmt.Errorf("fts5: open: batch size %d: %w", opts.BatchSize, evidence.ErrInvalid)
	}
	if _, err := os.Stat(opts.Path); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fts5: open %s: already exists: %w", opts.Path, evidence.ErrConflict)
	}
	q := url.Values{"_pragma": {"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(5000)", "temp_store(MEMORY)"}}
	db, err := sql.Open("sqlite", opts.Path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("fts5: open %s: %w", opts.Path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("fts5: create schema in %s: %w", opts.Path, err)
	}
	d := &DB{db: db, path: opts.Path, batch: opts.BatchSize, log: opts.Logger}
	if d.batch == 0 {
		d.batch = DefaultBatchSize
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// Close checkpoints the write-ahead log into the database file and closes it.
func (d *DB) Close() error {
	_, cerr := d.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("fts5: close %s: %w", d.path, err)
	}
	if cerr != nil {
		return fmt.Errorf("fts5: checkpoint %s: %w", d.path, cerr)
	}
	return nil
}

// Checkpoint copies the write-ahead log into the database file and
// truncates the log, as a bulk load would end.
func (d *DB) Checkpoint(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("fts5: checkpoint %s: %w", d.path, err)
	}
	return nil
}

// SizeBytes checkpoints the write-ahead log and returns the size of the
// database file plus what is left of the log.
func (d *DB) SizeBytes(ctx context.Context) (int64, error) {
	if err := d.Checkpoint(ctx); err != nil {
		return 0, err
	}
	var n int64
	for _, p := range []string{d.path, d.path + "-wal", d.path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("fts5: size: %w", err)
		}
		n += fi.Size()
	}
	return n, nil
}

// Index inserts items, BatchSize per transaction. IDs must be new.
func (d *DB) Index(ctx context.Context, items []evidence.Item) error {
	for start := 0; start < len(items); start += d.batch {
		end := min(start+d.batch, len(items))
		if err := d.insert(ctx, items[start:end]); err != nil {
			return err
		}
		d.log.Debug("fts5: inserted batch", "items", end-start)
	}
	return nil
}

func (d *DB) insert(ctx context.Context, items []evidence.Item) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("fts5: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	insItem, err := tx.PrepareContext(ctx, `INSERT INTO items(id, source, type, published, year) VALUES (?, ?, ?, ?, ?) RETURNING rowid`)
	if err != nil {
		return fmt.Errorf("fts5: prepare: %w", err)
	}
	defer insItem.Close()
	insText, err := tx.PrepareContext(ctx, `INSERT INTO fts(rowid, title, summary, body, authors) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("fts5: prepare: %w", err)
	}
	defer insText.Close()
	insTopic, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO item_topics(rowid, topic) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("fts5: prepare: %w", err)
	}
	defer insTopic.Close()

	for i := range items {
		it := &items[i]
		if it.ID == "" {
			return fmt.Errorf("fts5: index item %q: empty ID: %w", it.URL, evidence.ErrInvalid)
		}
		var published, year any
		if it.Published != nil {
			p := it.Published.UTC()
			published, year = p.Format(time.RFC3339), strconv.Itoa(p.Year())
		}
		var rowid int64
		if err := insItem.QueryRowContext(ctx, it.ID, it.Source, it.Type, published, year).Scan(&rowid); err != nil {
			return fmt.Errorf("fts5: index item %s: %w", it.ID, err)
		}
		if _, err := insText.ExecContext(ctx, rowid, it.Title, it.Summary, it.Body, strings.Join(it.Authors, "; ")); err != nil {
			return fmt.Errorf("fts5: index item %s text: %w", it.ID, err)
		}
		for _, t := range it.Topics {
			if _, err := insTopic.ExecContext(ctx, rowid, t); err != nil {
				return fmt.Errorf("fts5: index item %s topic: %w", it.ID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("fts5: commit: %w", err)
	}
	return nil
}

// Query is a search. Text holds words (any may match; bm25 ranks) and
// "quoted phrases" (all required; when words are given too, at least one of
// them must match as well). Empty text matches every item, newest first.
type Query struct {
	Text    string
	Sources []string
	// From and To bound the published date, inclusive, as calendar dates.
	From, To *time.Time
	// Limit is the number of hits (default 20).
	Limit int
	// Facets counts the matches (Result.Total) by source, type, year and
	// topic.
	Facets bool
	// Snippets fills Hit.Title (title with <mark>ed matches) and
	// Hit.Snippet (a fragment of the summary), HTML-escaped otherwise.
	Snippets bool
}

// Result is the answer to a Query.
type Result struct {
	// Total is the number of matches when Query.Facets is set, else -1.
	Total  int
	Hits   []Hit
	Facets map[string][]FacetCount
}

// Hit is one matching item.
type Hit struct {
	ID    string
	Score float64 // bm25(): lower is better
	// Title and Snippet are set with Query.Snippets.
	Title, Snippet string
}

// FacetCount is the number of matches with one value of a facet.
type FacetCount struct {
	Value string
	Count int
}

// MatchExpr turns text into an FTS5 MATCH expression: each word becomes a
// quoted token and the words are OR-ed; "phrases" become quoted phrases,
// AND-ed. Tokens are runs of letters and digits, as unicode61 splits them,
// so no user input reaches FTS5's query syntax. It returns "" for text with
// no tokens.
func MatchExpr(text string) string {
	var words, phrases []string
	for i, part := range strings.Split(text, `"`) {
		toks := tokens(part)
		if len(toks) == 0 {
			continue
		}
		if i%2 == 1 { // inside quotes
			phrases = append(phrases, `"`+strings.Join(toks, " ")+`"`)
			continue
		}
		for _, t := range toks {
			words = append(words, `"`+t+`"`)
		}
	}
	expr := strings.Join(phrases, " AND ")
	if len(words) > 0 {
		anyWord := strings.Join(words, " OR ")
		if expr == "" {
			return anyWord
		}
		return expr + " AND (" + anyWord + ")"
	}
	return expr
}

func tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Search runs q.
func (d *DB) Search(ctx context.Context, q Query) (*Result, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	match := MatchExpr(q.Text)
	from, args := fromWhere(q, match)
	cols := "i.id, 0.0"
	order := "i.published DESC, i.id"
	if match != "" {
		cols = "i.id, bm25(fts, " + bm25Weights + ")"
		order = "2, i.published DESC, i.id"
		if q.Snippets {
			cols += `, highlight(fts, 0, char(57344), char(57345)), snippet(fts, 1, char(57344), char(57345), '…', 32)`
		}
	}
	stmt := "SELECT " + cols + from + " ORDER BY " + order + " LIMIT ?"
	rows, err := d.db.QueryContext(ctx, stmt, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("fts5: search %q: %w", q.Text, err)
	}
	defer rows.Close()
	res := &Result{Total: -1}
	for rows.Next() {
		var h Hit
		dest := []any{&h.ID, &h.Score}
		if match != "" && q.Snippets {
			dest = append(dest, &h.Title, &h.Snippet)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("fts5: search %q: %w", q.Text, err)
		}
		h.Title, h.Snippet = markHTML(h.Title), markHTML(h.Snippet)
		res.Hits = append(res.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fts5: search %q: %w", q.Text, err)
	}
	if q.Facets {
		if err := d.facets(ctx, q, match, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Count returns the number of items matching q (its text and filters).
func (d *DB) Count(ctx context.Context, q Query) (int, error) {
	from, args := fromWhere(q, MatchExpr(q.Text))
	stmt := "SELECT count(*)" + from
	var n int
	if err := d.db.QueryRowContext(ctx, stmt, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("fts5: count %q: %w", q.Text, err)
	}
	return n, nil
}

// facets counts the matches of q by source, type, year and topic in one
// statement, and sets res.Total. The matches (with their keyword columns)
// are collected once, then grouped four ways.
func (d *DB) facets(ctx context.Context, q Query, match string, res *Result) error {
	from, args := fromWhere(q, match)
	m := "SELECT i.rowid AS rowid, i.source AS source, i.type AS type, i.year AS year" + from
	stmt := "WITH m AS MATERIALIZED (" + m + ") " + strings.Join([]string{
		"SELECT '" + FacetSource + "', source, count(*) FROM m GROUP BY 2",
		"SELECT '" + FacetType + "', type, count(*) FROM m GROUP BY 2",
		"SELECT '" + FacetYear + "', year, count(*) FROM m WHERE year IS NOT NULL GROUP BY 2",
		"SELECT '" + FacetTopic + "', t.topic, count(*) FROM m CROSS JOIN item_topics t ON t.rowid = m.rowid GROUP BY 2",
	}, " UNION ALL ")
	rows, err := d.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("fts5: facets %q: %w", q.Text, err)
	}
	defer rows.Close()
	res.Facets = make(map[string][]FacetCount)
	res.Total = 0
	for rows.Next() {
		var name, value string
		var n int
		if err := rows.Scan(&name, &value, &n); err != nil {
			return fmt.Errorf("fts5: facets %q: %w", q.Text, err)
		}
		res.Facets[name] = append(res.Facets[name], FacetCount{value, n})
		if name == FacetSource {
			res.Total += n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("fts5: facets %q: %w", q.Text, err)
	}
	for _, fc := range res.Facets {
		sort.Slice(fc, func(a, b int) bool {
			if fc[a].Count != fc[b].Count {
				return fc[a].Count > fc[b].Count
			}
			return fc[a].Value < fc[b].Value
		})
	}
	return nil
}

// fromWhere returns the FROM and WHERE clauses (" FROM … [WHERE …]") that
// select the items matching match (an FTS5 expression; "" for every item)
// and q's filters, and their arguments. The table items is aliased i.
//
// CROSS JOIN makes the full-text match drive the join: left to itself
// SQLite may walk the source/date index and run the match once per row.
func fromWhere(q Query, match string) (string, []any) {
	var where []string
	var args []any
	from := " FROM items i"
	if match != "" {
		from = " FROM fts CROSS JOIN items i ON i.rowid = fts.rowid"
		where = append(where, "fts MATCH ?")
		args = append(args, match)
	}
	fw, fargs := filters(q)
	where = append(where, fw...)
	args = append(args, fargs...)
	if len(where) > 0 {
		from += " WHERE " + strings.Join(where, " AND ")
	}
	return from, args
}

// filters returns SQL conditions (on the columns of items i) and their
// arguments for q's source and date filters.
func filters(q Query) ([]string, []any) {
	var where []string
	var args []any
	var srcs []string
	for _, s := range q.Sources {
		if s != "" {
			srcs = append(srcs, "?")
			args = append(args, s)
		}
	}
	if len(srcs) > 0 {
		where = append(where, "i.source IN ("+strings.Join(srcs, ", ")+")")
	}
	if q.From != nil {
		y, m, d := q.From.Date()
		where = append(where, "i.published >= ?")
		args = append(args, time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(time.RFC3339))
	}
	if q.To != nil {
		y, m, d := q.To.Date()
		where = append(where, "i.published < ?")
		args = append(args, time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339))
	}
	return where, args
}

// markHTML escapes s, turning the private-use markers FTS5 put around
// matches into <mark> tags.
func markHTML(s string) string {
	if s == "" {
		return ""
	}
	s = html.EscapeString(s)
	return strings.NewReplacer("\ue000", "<mark>", "\ue001", "</mark>").Replace(s)
}
