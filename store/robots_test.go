package store

import (
	"context"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestRobotsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: t.TempDir() + "/r.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, _, ok, err := s.LoadRobots(ctx, "https://x.org"); ok || err != nil {
		t.Fatalf("empty cache: ok=%v err=%v", ok, err)
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		body   []byte
		status int
	}{
		{[]byte("User-agent: *\nDisallow: /admin/\n"), 200},
		{nil, 404},
	}
	for _, tt := range tests {
		if err := s.SaveRobots(ctx, "https://x.org", tt.body, tt.status, at); err != nil {
			t.Fatal(err)
		}
		body, status, got, ok, err := s.LoadRobots(ctx, "https://x.org")
		if err != nil || !ok || status != tt.status || string(body) != string(tt.body) || !got.Equal(at) {
			t.Errorf("load = %q %d %v %v %v, want %q %d %v", body, status, got, ok, err, tt.body, tt.status, at)
		}
	}
}

func TestAddAliasesBatch(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: t.TempDir() + "/a.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	it := evidence.Item{URL: "https://x.org/new", Title: "New", Source: "x"}
	if _, err := s.UpsertItem(ctx, &it); err != nil {
		t.Fatal(err)
	}
	refused, err := s.AddAliases(ctx, []evidence.AliasPair{
		{Alias: "https://x.org/old", URL: "https://x.org/new"},
		{Alias: "https://x.org/new", URL: "https://x.org/other"}, // an item's own URL
		{Alias: "", URL: "https://x.org/new"},
		{Alias: "https://x.org/older", URL: "https://x.org/old"}, // chains flatten
	})
	if err != nil || len(refused) != 2 {
		t.Fatalf("refused = %v, err = %v; want 2 refused", refused, err)
	}
	for _, old := range []string{"https://x.org/old", "https://x.org/older"} {
		got, err := s.ItemByURL(ctx, old)
		if err != nil || got.ID != it.ID {
			t.Errorf("ItemByURL(%s) = %v, %v", old, got.ID, err)
		}
	}
}
