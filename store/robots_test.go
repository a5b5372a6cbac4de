package store

import (
	"context"
	"testing"
	"time"
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
