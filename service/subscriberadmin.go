package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/digest"
)

// SubscriberAdminStore is what the admins' subscriber operations read
// and change (store.Store implements it).
type SubscriberAdminStore interface {
	Subscribers(ctx context.Context, statuses ...string) ([]evidence.Subscriber, error)
	CountSubscribers(ctx context.Context) (map[string]int, error)
	Subscriber(ctx context.Context, id string) (evidence.Subscriber, error)
	Unsubscribe(ctx context.Context, id string) (evidence.Subscriber, error)
	LastSent(ctx context.Context) (map[string]time.Time, error)
}

// SubscriberAdmin is what admins do with subscribers: count them by
// status, find them by address, unsubscribe one, export them all (the
// admins' /admin/subscribers pages and `evidence subscribers export`).
type SubscriberAdmin struct {
	Store  SubscriberAdminStore
	Logger *slog.Logger
}

// FindSubscribers lists the subscribers whose address contains query
// (any case; "" lists everyone), by address.
func (a *SubscriberAdmin) FindSubscribers(ctx context.Context, query string) ([]evidence.Subscriber, error) {
	subs, err := a.Store.Subscribers(ctx)
	if err != nil {
		return nil, err
	}
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return subs, nil
	}
	out := subs[:0:0]
	for _, s := range subs {
		if strings.Contains(strings.ToLower(s.Email), q) {
			out = append(out, s)
		}
	}
	return out, nil
}

// CountSubscribers counts subscribers by status.
func (a *SubscriberAdmin) CountSubscribers(ctx context.Context) (map[string]int, error) {
	return a.Store.CountSubscribers(ctx)
}

// LastSent maps subscriber IDs to when a digest last reached them.
func (a *SubscriberAdmin) LastSent(ctx context.Context) (map[string]time.Time, error) {
	return a.Store.LastSent(ctx)
}

// Subscriber returns one subscriber by ID (evidence.ErrNotFound).
func (a *SubscriberAdmin) Subscriber(ctx context.Context, id string) (evidence.Subscriber, error) {
	return a.Store.Subscriber(ctx, id)
}

// UnsubscribeSubscriber marks a subscriber unsubscribed on an admin's
// word (by: who), as their own unsubscribe link would: they get no more
// digests and a re-import does not bring them back.
func (a *SubscriberAdmin) UnsubscribeSubscriber(ctx context.Context, id, by string) (evidence.Subscriber, error) {
	sub, err := a.Store.Unsubscribe(ctx, id)
	if err != nil {
		return sub, err
	}
	log := a.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("subscriber unsubscribed by an admin", "subscriber", sub.ID, "by", by)
	return sub, nil
}

// ExportSubscribers writes every subscriber as CSV
// (digest.SubscriberCSVColumns).
func (a *SubscriberAdmin) ExportSubscribers(ctx context.Context, w io.Writer) error {
	subs, err := a.Store.Subscribers(ctx)
	if err != nil {
		return err
	}
	if err := digest.WriteSubscribersCSV(w, subs); err != nil {
		return fmt.Errorf("export subscribers: %w", err)
	}
	return nil
}
