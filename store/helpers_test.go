package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openAt opens a store at path with the given clock, closing it at cleanup.
func openAt(t *testing.T, path string, c *clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Path: path, Now: c.Now})
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newStore opens a fresh store in a nested directory of t.TempDir() (which
// also checks that Open creates parent directories).
func newStore(t *testing.T) (*Store, *clock, string) {
	t.Helper()
	c := newClock()
	path := filepath.Join(t.TempDir(), "data", "nested", "evidence.db")
	return openAt(t, path, c), c, path
}

// observer is a separate connection to the database file. Its PRAGMA
// data_version changes whenever any other connection commits a change, so
// it proves that an operation wrote nothing.
type observer struct {
	t    *testing.T
	conn *sql.Conn
}

func newObserver(t *testing.T, path string) *observer {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); db.Close() })
	return &observer{t: t, conn: conn}
}

func (o *observer) dataVersion() int64 {
	o.t.Helper()
	var v int64
	if err := o.conn.QueryRowContext(context.Background(), "PRAGMA data_version").Scan(&v); err != nil {
		o.t.Fatal(err)
	}
	return v
}

func (o *observer) queryInt(q string, args ...any) int {
	o.t.Helper()
	var n int
	if err := o.conn.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		o.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (o *observer) queryString(q string, args ...any) string {
	o.t.Helper()
	var s string
	if err := o.conn.QueryRowContext(context.Background(), q, args...).Scan(&s); err != nil {
		o.t.Fatalf("%s: %v", q, err)
	}
	return s
}

func ptime(t time.Time) *time.Time { return &t }

// sampleItem returns a fully populated item at url.
func sampleItem(url string) *evidence.Item {
	return &evidence.Item{
		Source:     evidence.SourceMentalElf,
		Type:       evidence.TypeBlog,
		Title:      "Title of " + url,
		URL:        url,
		Published:  ptime(time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)),
		Authors:    []string{"A. Author", "B. Writer"},
		Summary:    "A summary.",
		Topics:     []string{"depression"},
		Categories: []string{"Mood"},
		PDFURLs:    []string{url + "/report.pdf"},
		Cites:      []evidence.Cite{{URL: "https://doi.org/10.1000/xyz", DOI: "10.1000/xyz"}},
		Body:       "Body text.",
		Provenance: map[string]string{"title": "feed", "published": "json-ld"},
	}
}

func mustUpsert(t *testing.T, s *Store, it *evidence.Item) evidence.UpsertResult {
	t.Helper()
	res, err := s.UpsertItem(context.Background(), it)
	if err != nil {
		t.Fatalf("UpsertItem(%q): %v", it.URL, err)
	}
	return res
}

func mustItem(t *testing.T, s *Store, id string) evidence.Item {
	t.Helper()
	it, err := s.Item(context.Background(), id)
	if err != nil {
		t.Fatalf("Item(%q): %v", id, err)
	}
	return it
}
