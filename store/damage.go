package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
)

// ErrCorrupt is wrapped by every error that comes from a store file that is
// not an SQLite database or is damaged (SQLITE_CORRUPT, SQLITE_NOTADB). Its
// message names the file and says what to do; nothing is replaced.
var ErrCorrupt = errors.New("store is damaged")

// ErrReadOnly is wrapped when a store opened read-only (Options.ReadOnly)
// cannot serve what was asked, or a data directory cannot be written.
var ErrReadOnly = errors.New("store is read-only")

// sqliteHeader starts every SQLite 3 database file.
const sqliteHeader = "SQLite format 3\x00"

// advice is what to do about a damaged store.
const advice = "move it aside (or restore a backup) and run `evidence ingest --backfill` to rebuild it from the publishers, then `evidence reindex`"

// corruptError names the damaged file.
type corruptError struct {
	path, what string
	err        error // the driver's error, if any
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("store: %s %s: %s", e.path, e.what, advice)
}

func (e *corruptError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrCorrupt}
	}
	return []error{ErrCorrupt, e.err}
}

// checkFile refuses a store file that exists but is not an SQLite database
// (empty, truncated or foreign), instead of letting SQLite treat an empty
// file as a new database. A missing file is fine: Open creates it.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	if fi.IsDir() {
		return &corruptError{path: path, what: "is a directory, not an SQLite database"}
	}
	if fi.Size() == 0 {
		// SQLite writes the header with the first page; a non-empty WAL
		// beside an empty file is a store being created right now.
		if wi, err := os.Stat(path + "-wal"); err == nil && wi.Size() > 0 {
			return nil
		}
		return &corruptError{path: path, what: "is not an SQLite database (0 bytes)"}
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("store: open %s: read header: %w", path, err)
	}
	if !bytes.Equal(head[:n], []byte(sqliteHeader)) {
		return &corruptError{path: path, what: fmt.Sprintf("is not an SQLite database (%d bytes, no SQLite header)", fi.Size())}
	}
	return nil
}

// sqliteCode returns the primary SQLite result code in err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// SQLite primary result codes this package tells apart.
const (
	codeReadOnly = 8  // SQLITE_READONLY
	codeCorrupt  = 11 // SQLITE_CORRUPT
	codeCantOpen = 14 // SQLITE_CANTOPEN
	codeNotADB   = 26 // SQLITE_NOTADB
)

// Explain wraps err in ErrCorrupt, naming the store file at path, when err
// is SQLite's "database disk image is malformed" or "file is not a
// database"; other errors (and ones already explained) are returned as
// they are. Every Store method explains its errors; cmd calls it too, as a
// last word for errors that reached it by other ways.
func Explain(err error, path string) error {
	if err == nil || errors.Is(err, ErrCorrupt) {
		return err
	}
	switch sqliteCode(err) {
	case codeCorrupt, codeNotADB:
		return &corruptError{path: path, what: "is damaged (" + err.Error() + ")", err: err}
	}
	return err
}

// explain is Explain for this store's file.
func (s *Store) explain(err error) error { return Explain(err, s.path) }

// checkWritable reports a data directory that cannot be written, naming
// it: write commands need it, read-only ones (search, show, sources,
// topics) open the store read-only. create makes a temporary file (tests
// pass a fake: root ignores permission bits).
func checkWritable(dir string, create func(dir, pattern string) (*os.File, error)) error {
	f, err := create(dir, ".evidence-write-test-*")
	if err != nil {
		return fmt.Errorf("store: data directory %s is not writable (%w): commands that write (ingest, run, import, reindex, aliases) need write access; search, show, sources and topics work read-only: %w",
			dir, err, ErrReadOnly)
	}
	name := f.Name()
	f.Close()
	_ = os.Remove(name)
	return nil
}

// dirOf is the directory holding path ("." for a bare name).
func dirOf(path string) string { return filepath.Dir(path) }
