package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/evidencetracker/evidence"
)

// TestOpenRefusesDamagedFile: a store file that exists but is no SQLite
// database is refused with a message naming it and saying what to do; it
// is never silently used as a new, empty store, and it is left as it was.
func TestOpenRefusesDamagedFile(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		dir     bool
		want    string
	}{
		{name: "empty file", content: []byte{}, want: "is not an SQLite database (0 bytes)"},
		{name: "text", content: []byte("this is not a database, it is a shopping list\n"), want: "no SQLite header"},
		{name: "truncated header", content: []byte("SQLite for"), want: "(10 bytes, no SQLite header)"},
		{name: "a directory", dir: true, want: "is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "evidence.db")
			if tc.dir {
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{false, true} {
				s, err := Open(context.Background(), Options{Path: path, ReadOnly: ro})
				if err == nil {
					s.Close()
					t.Fatalf("Open(ReadOnly=%v) of a damaged file succeeded", ro)
				}
				msg := err.Error()
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(msg, path) || !strings.Contains(msg, tc.want) ||
					!strings.Contains(msg, "evidence ingest") {
					t.Errorf("Open(ReadOnly=%v) error %q: want ErrCorrupt naming %s, saying %q and what to do", ro, msg, path, tc.want)
				}
			}
			if !tc.dir {
				got, err := os.ReadFile(path)
				if err != nil || string(got) != string(tc.content) {
					t.Errorf("file changed: %q %v", got, err)
				}
			}
		})
	}

	t.Run("a missing file is a new store", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "new", "evidence.db")
		s, err := Open(context.Background(), Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		s, err = Open(context.Background(), Options{Path: path})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		s.Close()
	})
}

// TestCorruptionFoundLater: a file damaged in the middle opens (its header
// and schema are fine) but the first read of a damaged page fails with
// ErrCorrupt naming the file, whichever method meets it.
func TestCorruptionFoundLater(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidence.db")
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		it := sampleItem(fmt.Sprintf("https://www.nationalelfservice.net/item-%03d", i))
		it.Body = strings.Repeat(fmt.Sprintf("body of item %d. ", i), 40)
		if _, err := s.UpsertItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	var root int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'items'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	corruptPage(t, path, root)

	s, err = Open(ctx, Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatalf("Open of a file damaged in the middle: %v (its header is fine: the damage shows later)", err)
	}
	defer s.Close()
	err = s.EachItem(ctx, func(evidence.Item) error { return nil })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("EachItem over a damaged file: %v; want ErrCorrupt naming %s", err, path)
	}
}

// corruptPage overwrites page n (1-based) of the database file: the items
// table's root page, which every read of items goes through, so the damage
// is met whatever the rows' order.
func corruptPage(t *testing.T, path string, n int64) {
	t.Helper()
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatalf("%s-wal still exists: the test needs a checkpointed file", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const page = 4096
	if _, err := f.WriteAt([]byte(strings.Repeat("\xa5", page)), (n-1)*page); err != nil {
		t.Fatal(err)
	}
}

// TestOpenReadOnly: read-only commands open an existing store with
// mode=ro: they read, they write nothing, they do not create a missing
// store, and they do not migrate an old one.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	t.Run("reads an existing store; writes fail", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "evidence.db")
		w, err := Open(ctx, Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		it := sampleItem("https://www.nationalelfservice.net/ro")
		if _, err := w.UpsertItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		w.Close()
		before, _ := os.ReadFile(path)

		s, err := Open(ctx, Options{Path: path, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if !s.ReadOnly() {
			t.Error("ReadOnly() = false")
		}
		got, err := s.ItemByURL(ctx, it.URL)
		if err != nil || got.ID != it.ID {
			t.Errorf("ItemByURL: %+v %v", got.ID, err)
		}
		if _, err := s.UpsertItem(ctx, sampleItem("https://www.nationalelfservice.net/other")); !errors.Is(err, ErrReadOnly) {
			t.Errorf("UpsertItem on a read-only store: %v, want ErrReadOnly", err)
		}
		if err := s.PutCandidate(ctx, "https://x.example/", "s", "sig", ""); err == nil {
			t.Error("PutCandidate on a read-only store succeeded")
		}
		after, _ := os.ReadFile(path)
		if string(before) != string(after) {
			t.Error("the read-only open changed the file")
		}
	})
	t.Run("a missing store is not created", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "none", "evidence.db")
		if _, err := Open(ctx, Options{Path: path, ReadOnly: true}); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("err %v, want one naming %s", err, path)
		}
		if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("directory created: %v", err)
		}
	})
	t.Run("an old schema is not migrated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "evidence.db")
		createV1(t, path, nil)
		_, err := Open(ctx, Options{Path: path, ReadOnly: true})
		if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "needs migrating") {
			t.Errorf("err %v", err)
		}
		s, err := Open(ctx, Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.SchemaVersion() <= 1 {
			t.Errorf("schema %d after a write open", s.SchemaVersion())
		}
	})
}

// TestCheckWritable: a data directory that cannot be written is named, and
// the message says read-only commands still work. Tests run as root here,
// which ignores permission bits, so the refusal is a fake; a real chmod
// 0555 directory is tried too when not root.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	denied := func(dir, pattern string) (*os.File, error) {
		return nil, &fs.PathError{Op: "open", Path: filepath.Join(dir, pattern), Err: syscall.EACCES}
	}
	err := checkWritable(dir, denied)
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "search, show, sources and topics") {
		t.Errorf("err %v", err)
	}
	if err := checkWritable(dir, os.CreateTemp); err != nil {
		t.Errorf("writable dir: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("probe left %v", entries)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: permission bits are ignored, the chmod case is skipped")
		return
	}
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), Options{Path: filepath.Join(ro, "evidence.db")}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Open in a 0555 directory: %v", err)
	}
}

// FuzzCheckFile: whatever bytes the store file holds, Open's header check
// either accepts a file starting with the SQLite header or refuses it with
// ErrCorrupt naming the file; it never panics or changes the file.
func FuzzCheckFile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte("SQLite format 3"))
	f.Add([]byte("<html>not a db</html>"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "evidence.db")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		err := checkFile(path)
		valid := strings.HasPrefix(string(b), sqliteHeader)
		switch {
		case valid && err != nil:
			t.Errorf("checkFile refused a file with the SQLite header: %v", err)
		case !valid && (!errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path)):
			t.Errorf("checkFile(%q) = %v, want ErrCorrupt naming the file", b, err)
		}
		if got, _ := os.ReadFile(path); string(got) != string(b) {
			t.Error("checkFile changed the file")
		}
	})
}
