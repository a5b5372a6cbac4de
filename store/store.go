// Package store is Evidence Tracker's system of record: one SQLite database
// holding sources, conditional-GET state, items, URL aliases, the links
// between items and the item pages already processed (candidates). The
// search index is derived from it (see PendingIndex); FindDuplicate spots
// one work announced by several publishers.
//
// A Store keeps two connection pools on the same file: a single writer
// connection whose transactions begin IMMEDIATE (so writers queue instead of
// failing with SQLITE_BUSY when a read-then-write transaction is upgraded)
// and a small pool of query-only readers. WAL mode lets readers and the
// writer run at the same time.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evidencetracker/evidence"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrSchemaTooNew is returned (wrapped) by Open when the database was
// migrated by a newer binary than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary supports")

// Options configure Open.
type Options struct {
	// Path of the SQLite file. Its parent directory is created if missing.
	Path string
	// Logger receives debug and info messages; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ReadOnly opens an existing store for reading only (search, show,
	// sources, topics in a read-only data directory): SQLite's mode=ro, no
	// directory or file created, no migration, no journal-mode change.
	// Writes fail. A store needing a migration is refused: run a write
	// command once.
	ReadOnly bool
}

// Store is the SQLite-backed system of record. It is safe for concurrent use.
type Store struct {
	db       *sql.DB // writer: one connection, BEGIN IMMEDIATE
	rdb      *sql.DB // readers: query_only connections
	log      *slog.Logger
	now      func() time.Time
	path     string
	schema   int
	readOnly bool

	closeMu sync.Mutex
	closed  bool
	refs    int // Retain calls not yet matched by Close
}

// Open opens (creating if needed) the database at opts.Path and applies any
// pending migrations, each in its own transaction.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if strings.TrimSpace(opts.Path) == "" {
		return nil, fmt.Errorf("store: open: empty path: %w", evidence.ErrInvalid)
	}
	if strings.ContainsAny(opts.Path, "?#") {
		return nil, fmt.Errorf("store: open %q: path may not contain '?' or '#': %w", opts.Path, evidence.ErrInvalid)
	}
	s := &Store{log: opts.Logger, now: opts.Now, path: opts.Path}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := checkFile(opts.Path); err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		return s.openReadOnly(ctx)
	}
	if dir := filepath.Dir(opts.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: open %q: create directory: %w", opts.Path, err)
		}
	}
	if err := checkWritable(dirOf(opts.Path), os.CreateTemp); err != nil {
		return nil, err
	}

	common := []string{"busy_timeout(5000)", "foreign_keys(1)", "synchronous(NORMAL)"}
	wq := url.Values{"_pragma": append(append([]string{}, common...), "journal_mode(WAL)"), "_txlock": {"immediate"}}
	rq := url.Values{"_pragma": append(append([]string{}, common...), "query_only(1)")}

	db, err := sql.Open("sqlite", opts.Path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", opts.Path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s.db = db

	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, s.explain(err)
	}
	if err := s.backfillTitleKeys(ctx); err != nil {
		db.Close()
		return nil, s.explain(err)
	}

	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %q: read journal mode: %w", opts.Path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		s.log.Warn("store: database is not in WAL mode", "path", opts.Path, "journal_mode", mode)
	}

	rdb, err := sql.Open("sqlite", opts.Path+"?"+rq.Encode())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %q: readers: %w", opts.Path, err)
	}
	n := min(max(runtime.GOMAXPROCS(0), 2), 8)
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	if err := rdb.PingContext(ctx); err != nil {
		rdb.Close()
		db.Close()
		return nil, s.explain(fmt.Errorf("store: open %q: readers: %w", opts.Path, err))
	}
	s.rdb = rdb
	s.log.Debug("store: opened", "path", opts.Path, "schema_version", s.schema)
	return s, nil
}

// openReadOnly opens an existing store with SQLite's mode=ro on both
// pools: nothing is created, migrated or written.
func (s *Store) openReadOnly(ctx context.Context) (*Store, error) {
	if _, err := os.Stat(s.path); err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w (a read-only command needs a store: run `evidence ingest` first)", s.path, err)
	}
	open := func(immutable bool) (*sql.DB, int, error) {
		q := url.Values{"mode": {"ro"}, "_pragma": {"busy_timeout(5000)", "foreign_keys(1)", "query_only(1)"}}
		if immutable {
			q.Set("immutable", "1")
		}
		dsn := "file:" + strings.ReplaceAll(s.path, "%", "%25") + "?" + q.Encode()
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, 0, err
		}
		n := min(max(runtime.GOMAXPROCS(0), 2), 8)
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		cur, err := currentVersion(ctx, db)
		if err != nil {
			db.Close()
			return nil, 0, err
		}
		return db, cur, nil
	}
	db, cur, err := open(false)
	if sqliteCode(err) == codeCantOpen {
		// A WAL store in a directory where SQLite can create neither -shm
		// nor -wal: nobody can be writing it, so read it as immutable.
		s.log.Debug("store: cannot open read-only with WAL files; reading as immutable", "path", s.path, "err", err)
		db, cur, err = open(true)
	}
	if err != nil {
		return nil, s.explain(fmt.Errorf("store: open %s read-only: %w", s.path, err))
	}
	migs, err := migrations()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", s.path, err)
	}
	latest := migs[len(migs)-1].version
	switch {
	case cur > latest:
		db.Close()
		return nil, fmt.Errorf("store: open %q: schema version %d, this binary knows up to %d (upgrade evidence): %w",
			s.path, cur, latest, ErrSchemaTooNew)
	case cur < latest:
		db.Close()
		return nil, fmt.Errorf("store: open %s read-only: schema version %d needs migrating to %d: run a command that writes (e.g. `evidence ingest`) once with write access: %w",
			s.path, cur, latest, ErrReadOnly)
	}
	s.db, s.rdb, s.schema, s.readOnly = db, db, cur, true
	s.log.Debug("store: opened read-only", "path", s.path, "schema_version", s.schema)
	return s, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	if s.refs > 0 {
		s.refs--
		return nil
	}
	s.closed = true
	var errs []error
	if s.rdb != nil && s.rdb != s.db {
		if err := s.rdb.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close %q: %w", s.path, err)
	}
	return nil
}

// Retain lets one more user Close the store: it is closed by the Close
// that matches Open once every Retain has had its Close. A server shares
// its open store with the commands it runs this way.
func (s *Store) Retain() *Store {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.refs++
	return s
}

// SchemaVersion reports the migration version the database is at.
func (s *Store) SchemaVersion() int { return s.schema }

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. File names
// are NNNN_description.sql.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	seen := map[int]string{}
	var out []migration
	for _, p := range names {
		base := filepath.Base(p)
		num, _, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration %q: name must be NNNN_description.sql", base)
		}
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: bad version number", base)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration %q: version %d already used by %q", base, v, prev)
		}
		seen[v] = base
		b, err := migrationFS.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

func (s *Store) migrate(ctx context.Context) error {
	migs, err := migrations()
	if err != nil {
		return fmt.Errorf("store: migrate %q: %w", s.path, err)
	}
	latest := 0
	if len(migs) > 0 {
		latest = migs[len(migs)-1].version
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("store: migrate %q: create schema_migrations: %w", s.path, err)
	}
	cur, err := currentVersion(ctx, s.db)
	if err != nil {
		return fmt.Errorf("store: migrate %q: %w", s.path, err)
	}
	if cur > latest {
		return fmt.Errorf("store: open %q: schema version %d, this binary knows up to %d (upgrade evidence): %w",
			s.path, cur, latest, ErrSchemaTooNew)
	}
	for _, m := range migs {
		if m.version <= cur {
			continue
		}
		applied, err := s.applyMigration(ctx, m)
		if err != nil {
			return fmt.Errorf("store: migrate %q: apply %s: %w", s.path, m.name, err)
		}
		if applied {
			s.log.Info("store: applied migration", "version", m.version, "name", m.name)
		}
	}
	s.schema = latest
	return nil
}

func currentVersion(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// applyMigration runs one migration in its own transaction. Another process
// may have applied it meanwhile; then it does nothing and reports false.
func (s *Store) applyMigration(ctx context.Context, m migration) (applied bool, err error) {
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, fmtTime(s.now())); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// withTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it,
// or rolls it back when fn fails.
// Errors from a damaged file are explained (ErrCorrupt, naming the file);
// in a read-only store it fails with ErrReadOnly before beginning.
func (s *Store) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("store %s is open read-only: %w", s.path, ErrReadOnly)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.explain(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return s.explain(err)
	}
	return s.explain(tx.Commit())
}

// withReadTx runs fn in a read-only transaction on the reader pool, so
// multi-query reads see one snapshot.
func (s *Store) withReadTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.explain(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only; nothing to keep
	return s.explain(fn(tx))
}

// ReadOnly reports whether the store was opened with Options.ReadOnly.
func (s *Store) ReadOnly() bool { return s.readOnly }

// Path is the store's file, as given to Open.
func (s *Store) Path() string { return s.path }

// timeFormat is RFC 3339 in UTC with a fixed nine-digit fraction, so stored
// times sort correctly as text (RFC3339Nano trims trailing zeros).
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

func nullTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func parseNullTime(ns sql.NullString) (*time.Time, error) {
	if !ns.Valid || ns.String == "" {
		return nil, nil
	}
	t, err := parseTime(ns.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
