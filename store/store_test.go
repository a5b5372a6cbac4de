package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/evidencetracker/evidence"
)

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	migs, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	latest := migs[len(migs)-1].version

	tests := []struct {
		name string
		// prepare runs against a freshly migrated, closed database.
		prepare func(t *testing.T, o *observer)
		wantErr error
	}{
		{name: "reopen is a no-op"},
		{
			name: "newer schema is refused",
			prepare: func(t *testing.T, o *observer) {
				if _, err := o.conn.ExecContext(ctx,
					`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 'x')`); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: ErrSchemaTooNew,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			path := filepath.Join(t.TempDir(), "evidence.db")
			s, err := Open(ctx, Options{Path: path, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.SchemaVersion(); got != latest {
				t.Errorf("SchemaVersion = %d, want %d", got, latest)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			o := newObserver(t, path)
			if n := o.queryInt(`SELECT COUNT(*) FROM schema_migrations`); n != len(migs) {
				t.Fatalf("schema_migrations rows = %d, want %d", n, len(migs))
			}
			if tt.prepare != nil {
				tt.prepare(t, o)
			}
			before := o.dataVersion()

			s2, err := Open(ctx, Options{Path: path, Now: c.Now})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer s2.Close()
			if after := o.dataVersion(); after != before {
				t.Errorf("reopen wrote to the database (data_version %d → %d)", before, after)
			}
			if n := o.queryInt(`SELECT COUNT(*) FROM schema_migrations`); n != len(migs) {
				t.Errorf("schema_migrations rows after reopen = %d, want %d", n, len(migs))
			}
			if mode := o.queryString(`PRAGMA journal_mode`); mode != "wal" {
				t.Errorf("journal_mode = %q, want wal", mode)
			}
		})
	}
}

func TestOpenRejectsEmptyPath(t *testing.T) {
	_, err := Open(context.Background(), Options{})
	if !errors.Is(err, evidence.ErrInvalid) {
		t.Fatalf("Open with empty path = %v, want ErrInvalid", err)
	}
}

func TestConnectionPragmas(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	tests := []struct {
		pragma string
		want   string
	}{
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"}, // NORMAL
		{"journal_mode", "wal"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			for pool, db := range map[string]querier{"writer": s.db, "reader": s.rdb} {
				var got string
				if err := db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("%s: PRAGMA %s = %q, want %q", pool, tt.pragma, got, tt.want)
				}
			}
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	s, c, path := newStore(t)
	it := sampleItem("https://www.nationalelfservice.net/a")
	it.Links = []string{"https://example.org/x"}
	mustUpsert(t, s, it)
	if err := s.EnsureSource(ctx, evidence.SourceMentalElf, "The Mental Elf"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAlias(ctx, "https://old.example/a", it.URL); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFetchState(ctx, evidence.FetchState{URL: "https://feed", ETag: `"e"`}); err != nil {
		t.Fatal(err)
	}
	want := mustItem(t, s, it.ID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openAt(t, path, c)
	got := mustItem(t, s2, it.ID)
	if got.ContentHash != want.ContentHash || got.Title != want.Title || !got.FirstSeen.Equal(want.FirstSeen) {
		t.Errorf("after reopen item = %+v, want %+v", got, want)
	}
	if canon, ok, err := s2.ResolveURL(ctx, "https://old.example/a"); err != nil || !ok || canon != it.URL {
		t.Errorf("ResolveURL after reopen = %q, %v, %v", canon, ok, err)
	}
	if st, err := s2.SourceStatus(ctx, evidence.SourceMentalElf); err != nil || st.Items != 1 {
		t.Errorf("SourceStatus after reopen = %+v, %v", st, err)
	}
	if fs, err := s2.FetchState(ctx, "https://feed"); err != nil || fs.ETag != `"e"` {
		t.Errorf("FetchState after reopen = %+v, %v", fs, err)
	}
}

func TestRetainedStoreClosesOnLastClose(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	shared := s.Retain()
	if err := shared.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CountItems(ctx); err != nil {
		t.Fatalf("store closed by a borrower's Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CountItems(ctx); err == nil {
		t.Fatal("store still open after the last Close")
	}
}
