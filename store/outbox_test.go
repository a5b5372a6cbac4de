package store

import (
	"context"
	"testing"
)

func TestCountPending(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)

	check := func(t *testing.T, want int) {
		t.Helper()
		n, err := s.CountPending(ctx)
		if err != nil {
			t.Fatalf("CountPending: %v", err)
		}
		items, err := s.PendingIndex(ctx, 0)
		if err != nil {
			t.Fatalf("PendingIndex: %v", err)
		}
		if n != want || n != len(items) {
			t.Errorf("CountPending = %d, want %d (PendingIndex has %d)", n, want, len(items))
		}
	}

	check(t, 0)
	a, b, c := sampleItem("https://a.example/a"), sampleItem("https://a.example/b"), sampleItem("https://a.example/c")
	mustUpsert(t, s, a)
	mustUpsert(t, s, b)
	mustUpsert(t, s, c)
	check(t, 3)

	if err := s.MarkIndexed(ctx, map[string]string{a.ID: a.ContentHash, b.ID: b.ContentHash}); err != nil {
		t.Fatal(err)
	}
	check(t, 1)
	if total, err := s.CountItems(ctx); err != nil || total != 3 {
		t.Errorf("CountItems = %d, %v; want 3", total, err)
	}

	a2 := sampleItem(a.URL)
	a2.Title = "changed"
	mustUpsert(t, s, a2)
	check(t, 2)

	if err := s.ResetIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, 3)
}
