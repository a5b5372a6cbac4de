package service

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/store"
)

func TestSubscriberAdmin(t *testing.T) {
	_, st, _ := newDigests(t)
	ctx := context.Background()
	var ids []string
	for _, e := range []string{"Reader@Example.org", "team@trust.nhs.uk", "other@example.org"} {
		sub, _, err := st.AddSubscriber(ctx, store.SubscriberInput{Email: e, Status: evidence.SubscriberActive, Topics: []string{"recovery"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	a := &SubscriberAdmin{Store: st}
	for q, want := range map[string]int{"": 3, "EXAMPLE": 2, "nhs.uk": 1, "nobody": 0} {
		got, err := a.FindSubscribers(ctx, q)
		if err != nil || len(got) != want {
			t.Errorf("find %q = %d, %v; want %d", q, len(got), err, want)
		}
	}
	sub, err := a.UnsubscribeSubscriber(ctx, ids[1], "admin@example.org")
	if err != nil || sub.Status != evidence.SubscriberUnsubscribed {
		t.Fatalf("unsubscribe = %+v, %v", sub, err)
	}
	if _, err := a.UnsubscribeSubscriber(ctx, "nosuch", "admin"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("unsubscribe an unknown id: %v", err)
	}
	counts, err := a.CountSubscribers(ctx)
	if err != nil || counts[evidence.SubscriberActive] != 2 || counts[evidence.SubscriberUnsubscribed] != 1 {
		t.Errorf("counts = %v, %v", counts, err)
	}
	var b strings.Builder
	if err := a.ExportSubscribers(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if want := "email,status,topics,sources,format\nother@example.org,active,recovery,,html\n"; !strings.HasPrefix(b.String(), want) ||
		!strings.Contains(b.String(), "team@trust.nhs.uk,unsubscribed,") {
		t.Errorf("export =\n%s", b.String())
	}
}
