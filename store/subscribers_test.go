package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestSubscribers(t *testing.T) {
	s, clk, _ := newStore(t)
	ctx := context.Background()

	pend, created, err := s.AddSubscriber(ctx, SubscriberInput{Email: "Reader@example.org", Status: evidence.SubscriberPending, Topics: []string{"recovery"}})
	if err != nil || !created || pend.Status != evidence.SubscriberPending || pend.Confirmed != nil {
		t.Fatalf("add pending = %+v, %v, %v", pend, created, err)
	}
	// The same mailbox in another case is the same subscriber.
	again, created, err := s.AddSubscriber(ctx, SubscriberInput{Email: "reader@EXAMPLE.org", Status: evidence.SubscriberPending, Topics: []string{"workforce"}, Format: "text"})
	if err != nil || created || again.ID != pend.ID || !slices.Equal(again.Topics, []string{"workforce"}) || again.Format != "text" {
		t.Fatalf("add again = %+v, %v, %v", again, created, err)
	}
	if _, _, err := s.AddSubscriber(ctx, SubscriberInput{Email: "x@example.org", Status: "bogus"}); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("bad status: %v", err)
	}
	if _, _, err := s.AddSubscriber(ctx, SubscriberInput{Email: "x@example.org", Status: evidence.SubscriberActive, Format: "pdf"}); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("bad format: %v", err)
	}

	// One confirmation mail an hour.
	for i, tt := range []struct {
		advance time.Duration
		want    bool
	}{{0, true}, {10 * time.Minute, false}, {51 * time.Minute, true}} {
		clk.Advance(tt.advance)
		ok, err := s.ClaimConfirmation(ctx, pend.ID, time.Hour)
		if err != nil || ok != tt.want {
			t.Errorf("claim confirmation %d = %v, %v; want %v", i, ok, err, tt.want)
		}
	}

	act, err := s.ConfirmSubscriber(ctx, pend.ID)
	if err != nil || act.Status != evidence.SubscriberActive || act.Confirmed == nil {
		t.Fatalf("confirm = %+v, %v", act, err)
	}
	// A web sign-up never downgrades an active subscriber.
	if got, _, _ := s.AddSubscriber(ctx, SubscriberInput{Email: "reader@example.org", Status: evidence.SubscriberPending}); got.Status != evidence.SubscriberActive {
		t.Errorf("re-sign-up made an active subscriber %s", got.Status)
	}
	un, err := s.Unsubscribe(ctx, pend.ID)
	if err != nil || un.Status != evidence.SubscriberUnsubscribed || un.Unsubscribed == nil {
		t.Fatalf("unsubscribe = %+v, %v", un, err)
	}
	// An old confirmation link does not revive an unsubscribed address.
	if _, err := s.ConfirmSubscriber(ctx, pend.ID); !errors.Is(err, evidence.ErrConflict) {
		t.Errorf("confirm after unsubscribe: %v, want ErrConflict", err)
	}
	if _, _, err := s.AddSubscriber(ctx, SubscriberInput{Email: "b@example.org", Status: evidence.SubscriberActive}); err != nil {
		t.Fatal(err)
	}
	counts, err := s.CountSubscribers(ctx)
	if err != nil || counts[evidence.SubscriberUnsubscribed] != 1 || counts[evidence.SubscriberActive] != 1 {
		t.Errorf("counts = %v, %v", counts, err)
	}
	active, err := s.Subscribers(ctx, evidence.SubscriberActive)
	if err != nil || len(active) != 1 || active[0].Email != "b@example.org" {
		t.Errorf("active = %+v, %v", active, err)
	}
	if err := s.RemoveSubscriber(ctx, pend.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscriber(ctx, pend.ID); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("removed subscriber: %v", err)
	}
	if err := s.RemoveSubscriber(ctx, pend.ID); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
}

func TestDeliveriesExactlyOnce(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	sub, _, err := s.AddSubscriber(ctx, SubscriberInput{Email: "a@example.org", Status: evidence.SubscriberActive})
	if err != nil {
		t.Fatal(err)
	}
	const week = "2026-W47"
	d, claimed, err := s.ClaimDelivery(ctx, week, sub.ID, "mid-1")
	if err != nil || !claimed || d.Status != evidence.DeliveryClaimed || d.Attempts != 1 {
		t.Fatalf("first claim = %+v, %v, %v", d, claimed, err)
	}
	// A send cut off after the claim: the next run claims it again.
	d, claimed, err = s.ClaimDelivery(ctx, week, sub.ID, "mid-1")
	if err != nil || !claimed || d.Attempts != 2 {
		t.Fatalf("re-claim after a cut = %+v, %v, %v", d, claimed, err)
	}
	if err := s.MarkDelivered(ctx, week, sub.ID, "250 ok"); err != nil {
		t.Fatal(err)
	}
	d, claimed, err = s.ClaimDelivery(ctx, week, sub.ID, "mid-1")
	if err != nil || claimed || d.Status != evidence.DeliverySent || d.SentAt == nil || d.Reply != "250 ok" {
		t.Fatalf("claim after sent = %+v, %v, %v; want not claimed", d, claimed, err)
	}
	if err := s.MarkDelivered(ctx, week, sub.ID, "250 again"); !errors.Is(err, evidence.ErrConflict) {
		t.Errorf("mark sent twice: %v", err)
	}
	// Another week is another delivery.
	if _, claimed, _ := s.ClaimDelivery(ctx, "2026-W48", sub.ID, "mid-2"); !claimed {
		t.Error("next week not claimable")
	}
	list, err := s.Deliveries(ctx, week)
	if err != nil || len(list) != 1 || list[0].Email != "a@example.org" {
		t.Errorf("deliveries = %+v, %v", list, err)
	}
}

func TestDeliveryBounces(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	sub, _, _ := s.AddSubscriber(ctx, SubscriberInput{Email: "gone@example.org", Status: evidence.SubscriberActive})
	weeks := []string{"2026-W45", "2026-W46", "2026-W47"}
	for i, w := range weeks {
		if _, claimed, err := s.ClaimDelivery(ctx, w, sub.ID, "m"+w); err != nil || !claimed {
			t.Fatalf("claim %s: %v %v", w, claimed, err)
		}
		bouncing, err := s.MarkFailed(ctx, w, sub.ID, "550 no such user", true, 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := i == 2; bouncing != want {
			t.Errorf("after %d bounces bouncing = %v, want %v", i+1, bouncing, want)
		}
		// A permanent refusal is not retried that week.
		if _, claimed, _ := s.ClaimDelivery(ctx, w, sub.ID, "m"+w); claimed {
			t.Errorf("%s: a permanently refused delivery was claimed again", w)
		}
	}
	got, _ := s.Subscriber(ctx, sub.ID)
	if got.Status != evidence.SubscriberBouncing || got.Bounces != 3 {
		t.Errorf("subscriber = %s, %d bounces; want bouncing, 3", got.Status, got.Bounces)
	}

	// A temporary failure is retried and does not count as a bounce; a
	// delivery clears the count.
	other, _, _ := s.AddSubscriber(ctx, SubscriberInput{Email: "slow@example.org", Status: evidence.SubscriberActive})
	s.ClaimDelivery(ctx, "2026-W47", other.ID, "m")
	if _, err := s.MarkFailed(ctx, "2026-W47", other.ID, "451 try later", false, 3); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := s.ClaimDelivery(ctx, "2026-W47", other.ID, "m"); !claimed {
		t.Error("a temporary failure was not claimable again")
	}
	if err := s.MarkDelivered(ctx, "2026-W47", other.ID, "250"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Subscriber(ctx, other.ID); got.Bounces != 0 || got.Status != evidence.SubscriberActive {
		t.Errorf("after delivery: %+v", got)
	}
}
