package store

import (
	"context"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestLastSent(t *testing.T) {
	s, clk, _ := newStore(t)
	ctx := context.Background()
	a, _, err := s.AddSubscriber(ctx, SubscriberInput{Email: "a@example.org", Status: evidence.SubscriberActive})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.AddSubscriber(ctx, SubscriberInput{Email: "b@example.org", Status: evidence.SubscriberActive})
	if err != nil {
		t.Fatal(err)
	}
	for _, week := range []string{"2026-W41", "2026-W42"} {
		if _, _, err := s.ClaimDelivery(ctx, week, a.ID, "m-"+week); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDelivered(ctx, week, a.ID, "250 ok"); err != nil {
			t.Fatal(err)
		}
		clk.Advance(7 * 24 * time.Hour)
	}
	want := clk.Now().Add(-7 * 24 * time.Hour)
	// b's delivery is only claimed: not sent.
	if _, _, err := s.ClaimDelivery(ctx, "2026-W42", b.ID, "m-b"); err != nil {
		t.Fatal(err)
	}
	got, err := s.LastSent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[a.ID].Equal(want) {
		t.Errorf("LastSent = %v, want %s: %v only", got, a.ID, want)
	}
}
