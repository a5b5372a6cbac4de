package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// createV1 builds a database as a binary that knew only migration 0001 left
// it, with rows written by that binary's schema.
func createV1(t *testing.T, path string, rows [][3]string) {
	t.Helper()
	ctx := context.Background()
	migs, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if migs[0].version != 1 {
		t.Fatalf("first migration is %s", migs[0].name)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
		migs[0].sql,
		`INSERT INTO schema_migrations VALUES (1, '` + migs[0].name + `', '2025-01-01T00:00:00.000000000Z')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	for _, r := range rows { // url, title, published
		var pub any
		if r[2] != "" {
			pub = r[2]
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO items (id, url, source, title, published, first_seen,
			content_hash, updated_at, doi) VALUES (?, ?, 'kings-fund', ?, ?, '2025-01-01T00:00:00.000000000Z', 'h', 'x', ?)`,
			evidence.NewID(r[0]), r[0], r[1], pub, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMigration0002OverV1Data(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidence.db")
	rows := [][3]string{
		{"https://www.kingsfund.org.uk/a", "The Future of Social Care | The King's Fund", "2025-02-03T00:00:00.000000000Z"},
		{"https://www.kingsfund.org.uk/b", "Annual report", ""},
		{"https://www.kingsfund.org.uk/c", "", ""},
	}
	createV1(t, path, rows)

	c := newClock()
	s := openAt(t, path, c)
	if v := s.SchemaVersion(); v < 2 {
		t.Fatalf("SchemaVersion = %d, want ≥ 2", v)
	}
	o := newObserver(t, path)
	want := map[string]string{
		rows[0][0]: "future of social care",
		rows[1][0]: "annual report",
		rows[2][0]: "",
	}
	for u, key := range want {
		t.Run("title_key of "+u, func(t *testing.T) {
			if got := o.queryString(`SELECT title_key FROM items WHERE url = ?`, u); got != key {
				t.Errorf("title_key = %q, want %q", got, key)
			}
		})
	}
	if n := o.queryInt(`SELECT COUNT(*) FROM items WHERE title_key IS NULL`); n != 0 {
		t.Errorf("%d rows left without title_key", n)
	}

	t.Run("old rows read back", func(t *testing.T) {
		it, err := s.ItemByURL(ctx, rows[0][0])
		if err != nil || it.DOI != "" || it.Title != rows[0][1] {
			t.Errorf("ItemByURL = %+v, %v", it, err)
		}
	})
	t.Run("backfilled rows match by title", func(t *testing.T) {
		got, rule, err := s.FindDuplicate(ctx, DupQuery{URL: "https://www.nationalelfservice.net/x",
			Title: "Future of social care", Published: ptime(mustParse(t, rows[0][2]).AddDate(0, 0, 2))})
		if err != nil || got.URL != rows[0][0] || rule != RuleTitle {
			t.Errorf("FindDuplicate = %q, %q, %v", got.URL, rule, err)
		}
	})
	t.Run("candidates table exists", func(t *testing.T) {
		if err := s.PutCandidate(ctx, "https://www.kingsfund.org.uk/a", "kings-fund", "sig", ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("reopen writes nothing", func(t *testing.T) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		before := o.dataVersion()
		s2, err := Open(ctx, Options{Path: path, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		if after := o.dataVersion(); after != before {
			t.Errorf("reopen wrote: data_version %d → %d", before, after)
		}
	})
}

func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := parseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
