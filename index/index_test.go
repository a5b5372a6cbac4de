package index

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

func count(t *testing.T, x *Index) uint64 {
	t.Helper()
	n, err := x.Count()
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}

func search(t *testing.T, x *Index, text string) []string {
	t.Helper()
	r, err := x.Search(t.Context(), Query{Text: text, Limit: MaxLimit})
	if err != nil {
		t.Fatalf("Search(%q): %v", text, err)
	}
	return sorted(hitIDs(r)...)
}

func TestIndexCountAndBatching(t *testing.T) {
	tests := []struct {
		name  string
		batch int
	}{
		{"default batch", 0},
		{"batch of one", 1},
		{"batch of four", 4},
		{"batch larger than input", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, _ := openTemp(t, tt.batch)
			if err := x.Index(t.Context(), corpus(t)); err != nil {
				t.Fatal(err)
			}
			if n := count(t, x); n != 15 {
				t.Errorf("Count = %d, want 15", n)
			}
		})
	}
}

func TestIndexReplacesSameID(t *testing.T) {
	x := openCorpus(t)
	it := corpus(t)[0]
	it.Title = "Community referral for older adults"
	it.Summary = "Rewritten summary about befriending."
	it.Body = ""
	it.ContentHash = evidence.ComputeHash(&it)
	if err := x.Index(t.Context(), []evidence.Item{it}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, x); n != 15 {
		t.Errorf("Count = %d, want 15", n)
	}
	if got := search(t, x, "befriending"); !slices.Equal(got, []string{it.ID}) {
		t.Errorf("new text: hits %v, want [%s]", got, it.ID)
	}
	if got := search(t, x, "gardening"); len(got) != 0 {
		t.Errorf("old text still found: %v", got)
	}
	h, err := x.Hashes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if h[it.ID] != it.ContentHash {
		t.Errorf("hash = %q, want new %q", h[it.ID], it.ContentHash)
	}
}

func TestIndexRejectsEmptyID(t *testing.T) {
	x, _ := openTemp(t, 0)
	err := x.Index(t.Context(), []evidence.Item{{Title: "no id"}})
	if !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name      string
		ids       []string
		wantCount uint64
	}{
		{"one", []string{idSocialOlder}, 14},
		{"several", []string{idSocialOlder, idSocialGP, idLinkWorkers}, 12},
		{"unknown id ignored", []string{"nope"}, 15},
		{"none", nil, 15},
		{"all", newestOrder, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := openCorpus(t)
			if err := x.Delete(t.Context(), tt.ids); err != nil {
				t.Fatal(err)
			}
			if n := count(t, x); n != tt.wantCount {
				t.Errorf("Count = %d, want %d", n, tt.wantCount)
			}
			got := search(t, x, "")
			for _, id := range tt.ids {
				if slices.Contains(got, id) {
					t.Errorf("deleted %s still found", id)
				}
			}
		})
	}
}

func TestHashes(t *testing.T) {
	tests := []struct {
		name  string
		items []evidence.Item
	}{
		{"empty index", nil},
		{"corpus", corpus(t)},
		{"exactly one page", generate(10)},
		{"several pages", generate(37)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, _ := openTemp(t, 0)
			x.hashesPage = 10
			if err := x.Index(t.Context(), tt.items); err != nil {
				t.Fatal(err)
			}
			want := make(map[string]string)
			for _, it := range tt.items {
				want[it.ID] = it.ContentHash
			}
			got, err := x.Hashes(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Errorf("Hashes: got %d entries, want %d (or values differ)", len(got), len(want))
			}
		})
	}
}

func TestReopenKeepsDocs(t *testing.T) {
	x, path := openTemp(t, 0)
	if err := x.Index(t.Context(), corpus(t)); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer y.Close()
	if n := count(t, y); n != 15 {
		t.Errorf("Count after reopen = %d, want 15", n)
	}
	if got := search(t, y, "prescribing"); len(got) != 3 {
		t.Errorf("search after reopen: %v", got)
	}
	size, err := y.SizeBytes()
	if err != nil || size <= 0 {
		t.Errorf("SizeBytes = %d, %v", size, err)
	}
	t.Logf("index of %d items: %d bytes on disk", 15, size)
}

func TestOpenEmptyDirCreates(t *testing.T) {
	path := t.TempDir()
	x, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatalf("Open empty dir: %v", err)
	}
	defer x.Close()
	if n := count(t, x); n != 0 {
		t.Errorf("Count = %d", n)
	}
}

// TestOpenCorrupt damages a closed index in various ways and expects
// ErrCorrupt from Open, then a clean rebuild after Remove.
func TestOpenCorrupt(t *testing.T) {
	garbage := []byte(strings.Repeat("not an index \x00\xff", 300))
	overwrite := func(glob string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			t.Helper()
			files, _ := filepath.Glob(filepath.Join(path, glob))
			if len(files) == 0 {
				t.Fatalf("no files match %s", glob)
			}
			for _, f := range files {
				if err := os.WriteFile(f, garbage, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"garbage metadata", overwrite(metaFile)},
		{"garbage root.bolt", overwrite("store/root.bolt")},
		{"garbage segments", overwrite("store/*.zap")},
		{"garbage generation file", overwrite(generationFile)},
		{"metadata missing", func(t *testing.T, path string) {
			if err := os.Remove(filepath.Join(path, metaFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"store missing", func(t *testing.T, path string) {
			if err := os.RemoveAll(filepath.Join(path, "store")); err != nil {
				t.Fatal(err)
			}
		}},
		{"mapping version mismatch", func(t *testing.T, path string) {
			x, err := Open(t.Context(), Options{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			if err := x.bi.SetInternal(internalVersionKey, []byte("0")); err != nil {
				t.Fatal(err)
			}
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"mapping version missing", func(t *testing.T, path string) {
			x, err := Open(t.Context(), Options{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			if err := x.bi.DeleteInternal(internalVersionKey); err != nil {
				t.Fatal(err)
			}
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, path := openTemp(t, 0)
			if err := x.Index(t.Context(), corpus(t)); err != nil {
				t.Fatal(err)
			}
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, path)

			y, err := Open(t.Context(), Options{Path: path})
			if !errors.Is(err, ErrCorrupt) {
				if err == nil {
					_ = y.Close()
				}
				t.Fatalf("Open damaged index: err = %v, want ErrCorrupt", err)
			}
			if err := Remove(path); err != nil && tt.name != "metadata missing" {
				t.Fatalf("Remove: %v", err)
			} else if err != nil {
				// Without its metadata file Remove will not recognise the
				// directory; that is the guard working.
				if !errors.Is(err, evidence.ErrInvalid) {
					t.Fatalf("Remove: %v", err)
				}
				return
			}
			z, err := Open(t.Context(), Options{Path: path})
			if err != nil {
				t.Fatalf("Open after Remove: %v", err)
			}
			defer z.Close()
			if n := count(t, z); n != 0 {
				t.Errorf("rebuilt index Count = %d", n)
			}
		})
	}
}

func TestOpenAcceptsMissingGenerationFile(t *testing.T) {
	x, path := openTemp(t, 0)
	if err := x.Index(t.Context(), corpus(t)); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(path, generationFile)); err != nil {
		t.Fatal(err)
	}
	y, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatalf("Open without generation file: %v", err)
	}
	defer y.Close()
	if n := count(t, y); n != 15 {
		t.Errorf("Count = %d, want 15", n)
	}
}

func TestOpenNotADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), Options{Path: path}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("err = %v, want ErrCorrupt", err)
	}
}

func TestOpenLocked(t *testing.T) {
	_, path := openTemp(t, 0)
	y, err := Open(t.Context(), Options{Path: path})
	if err == nil {
		_ = y.Close()
	}
	if !errors.Is(err, ErrLocked) || errors.Is(err, ErrCorrupt) {
		t.Errorf("second Open: err = %v, want ErrLocked only", err)
	}
}

func TestOpenInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"empty path", Options{}},
		{"negative batch", Options{Path: t.TempDir(), BatchSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Open(t.Context(), tt.opts); !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T) string
		wantErr error
		gone    bool
	}{
		{"index", func(t *testing.T) string {
			x, path := openTemp(t, 0)
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
			return path
		}, nil, true},
		{"missing path", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, nil, true},
		{"empty dir", func(t *testing.T) string { return t.TempDir() }, nil, true},
		{"not an index", func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "precious.db"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			return dir
		}, evidence.ErrInvalid, false},
		{"empty path", func(t *testing.T) string { return "" }, evidence.ErrInvalid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t)
			err := Remove(path)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Remove: err = %v, want %v", err, tt.wantErr)
			}
			if path == "" {
				return
			}
			_, statErr := os.Stat(path)
			if gone := errors.Is(statErr, os.ErrNotExist); gone != tt.gone {
				t.Errorf("gone = %v, want %v", gone, tt.gone)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	x := openCorpus(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"Open", func() error {
			_, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "i")})
			return err
		}},
		{"Index", func() error { return x.Index(ctx, corpus(t)) }},
		{"Delete", func() error { return x.Delete(ctx, []string{idApps}) }},
		{"Hashes", func() error { _, err := x.Hashes(ctx); return err }},
		{"Search", func() error { _, err := x.Search(ctx, Query{}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		})
	}
	if n := count(t, x); n != 15 {
		t.Errorf("Count after cancelled calls = %d, want 15", n)
	}
}
