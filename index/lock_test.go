package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// TestOpenLockedWaits: bolt's lock is per open file, so a second Open in
// this process meets the lock a long reindex in another process holds.
func TestOpenLockedWaits(t *testing.T) {
	holderCmd := "evidence reindex (test holder)"
	openHolder := func(t *testing.T) (*Index, string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "index")
		x, err := Open(t.Context(), Options{Path: path, Owner: holderCmd})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = x.Close() })
		return x, path
	}

	t.Run("gives up after lock_wait naming the holder", func(t *testing.T) {
		_, path := openHolder(t)
		var waits []string
		y, err := Open(t.Context(), Options{Path: path, LockWait: 0,
			OnLockWait: func(_ time.Duration, h string) { waits = append(waits, h) }})
		if err == nil {
			_ = y.Close()
			t.Fatal("second Open succeeded")
		}
		msg := err.Error()
		if !errors.Is(err, ErrLocked) || errors.Is(err, ErrCorrupt) ||
			!strings.Contains(msg, fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(msg, holderCmd) {
			t.Errorf("err %q: want ErrLocked naming pid %d and %q", msg, os.Getpid(), holderCmd)
		}
		if len(waits) != 0 {
			t.Errorf("lock_wait 0 waited: %v", waits)
		}
	})

	t.Run("waits, reporting progress, and opens once the holder lets go", func(t *testing.T) {
		holder, path := openHolder(t)
		var (
			once  sync.Once
			calls int
			seen  string
		)
		y, err := Open(t.Context(), Options{Path: path, LockWait: time.Hour,
			OnLockWait: func(_ time.Duration, h string) {
				calls++
				seen = h
				once.Do(func() { _ = holder.Close() }) // the reindex finishes
			}})
		if err != nil {
			t.Fatalf("Open after the holder closed: %v", err)
		}
		defer y.Close()
		if calls == 0 || !strings.Contains(seen, holderCmd) {
			t.Errorf("OnLockWait calls %d, holder %q: want progress naming %q", calls, seen, holderCmd)
		}
	})

	t.Run("a cancelled wait stops", func(t *testing.T) {
		_, path := openHolder(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		_, err := Open(ctx, Options{Path: path, LockWait: time.Hour, OnLockWait: func(time.Duration, string) { cancel() }})
		if err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("err %v, want the cancellation", err)
		}
	})

	t.Run("Remove refuses an index in use, naming the holder", func(t *testing.T) {
		holder, path := openHolder(t)
		err := Remove(path)
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), holderCmd) {
			t.Errorf("Remove of a held index: %v, want ErrLocked naming %q", err, holderCmd)
		}
		if _, err := os.Stat(filepath.Join(path, metaFile)); err != nil {
			t.Errorf("the held index was removed: %v", err)
		}
		calls := 0
		if err := WaitFree(t.Context(), Options{Path: path}); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), holderCmd) {
			t.Errorf("WaitFree with lock_wait 0: %v, want ErrLocked naming %q", err, holderCmd)
		}
		err = WaitFree(t.Context(), Options{Path: path, LockWait: time.Hour, OnLockWait: func(time.Duration, string) {
			calls++
			_ = holder.Close()
		}})
		if err != nil || calls == 0 {
			t.Errorf("WaitFree: %v after %d waits", err, calls)
		}
		if err := Remove(path); err != nil {
			t.Errorf("Remove once free: %v", err)
		}
	})

	t.Run("Close removes the owner file", func(t *testing.T) {
		holder, path := openHolder(t)
		if lockHolder(path) == "" {
			t.Fatal("no owner recorded while open")
		}
		_ = holder.Close()
		if _, err := os.Stat(filepath.Join(path, ownerFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("owner file after Close: %v", err)
		}
	})
}

func TestLockHolder(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"no file", "", ""},
		{"garbage", "not json", ""},
		{"live process", fmt.Sprintf(`{"pid":%d,"command":"evidence ingest","started":"2026-01-02T03:04:05Z"}`, os.Getpid()), "evidence ingest, since"},
		{"ended process", `{"pid":2147483600,"command":"evidence reindex","started":"2026-01-02T03:04:05Z"}`, "that process has ended"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.content != "" {
				if err := os.WriteFile(filepath.Join(p, ownerFile), []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := lockHolder(p)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("lockHolder = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOpenReadOnly: read-only commands open the index with bleve's
// read_only: it searches, writes nothing (no owner file) and is never
// created.
func TestOpenReadOnly(t *testing.T) {
	x, path := openTemp(t, 0)
	if err := x.Index(t.Context(), []evidence.Item{{ID: "a1", URL: "https://x.example/a", Title: "Peer support works", Source: "kings-fund", Type: "blog"}}); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y, err := Open(t.Context(), Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if n, err := y.Count(); err != nil || n != 1 {
		t.Errorf("Count = %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(path, ownerFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only open recorded itself as the owner: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := Open(t.Context(), Options{Path: missing, ReadOnly: true}); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("read-only Open of a missing index: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only Open created %s", missing)
	}
}

// FuzzLockHolder: the lock-owner file is read from disk, whatever another
// process (or a crash half-way through writing it) left there.
func FuzzLockHolder(f *testing.F) {
	f.Add([]byte(`{"pid":1,"command":"evidence reindex","started":"2026-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"pid":-5}`))
	f.Add([]byte(`{"pid":1e99,"command":null}`))
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, ownerFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := lockHolder(dir); got != "" && !strings.HasPrefix(got, "pid ") {
			t.Errorf("lockHolder = %q, want \"\" or a description starting with the pid", got)
		}
	})
}
