package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// SubscriberInput is what a sign-up or the admin's CLI gives.
type SubscriberInput struct {
	Email   string // already normalised by the caller (mail.NormalizeAddress)
	Status  string // pending (web sign-up) or active (admin)
	Topics  []string
	Sources []string
	Format  string
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func newSubscriberID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "s" + hex.EncodeToString(b), nil
}

const subscriberCols = `id, email, status, topics, sources, format, created_at, confirmed_at,
	unsubscribed_at, confirm_sent_at, bounces`

// AddSubscriber stores a subscriber, or updates the one with the same
// address: its choices are replaced and its status becomes in.Status —
// except that a web sign-up (pending) never downgrades an active
// subscriber. created reports a new row.
func (s *Store) AddSubscriber(ctx context.Context, in SubscriberInput) (sub evidence.Subscriber, created bool, err error) {
	if in.Email == "" || strings.ContainsAny(in.Email, "\r\n") {
		return sub, false, fmt.Errorf("store: add subscriber %q: bad address: %w", in.Email, evidence.ErrInvalid)
	}
	switch in.Status {
	case evidence.SubscriberPending, evidence.SubscriberActive:
	default:
		return sub, false, fmt.Errorf("store: add subscriber %s: status %q: %w", in.Email, in.Status, evidence.ErrInvalid)
	}
	format := in.Format
	if format == "" {
		format = evidence.FormatHTML
	}
	if format != evidence.FormatHTML && format != evidence.FormatText {
		return sub, false, fmt.Errorf("store: add subscriber %s: format %q (want html or text): %w", in.Email, in.Format, evidence.ErrInvalid)
	}
	topics, _ := json.Marshal(nonNil(in.Topics))
	sources, _ := json.Marshal(nonNil(in.Sources))
	now := fmtTime(s.now())
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE email_key = ?`, emailKey(in.Email)))
		switch {
		case errors.Is(err, evidence.ErrNotFound):
			id, err := newSubscriberID()
			if err != nil {
				return err
			}
			var confirmed any
			if in.Status == evidence.SubscriberActive {
				confirmed = now
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO subscribers (id, email, email_key, status, topics, sources, format,
				created_at, confirmed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, in.Email, emailKey(in.Email), in.Status, string(topics), string(sources), format, now, confirmed, now); err != nil {
				return err
			}
			created = true
			sub, err = scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE id = ?`, id))
			return err
		case err != nil:
			return err
		}
		status := in.Status
		if cur.Status == evidence.SubscriberActive && status == evidence.SubscriberPending {
			status = evidence.SubscriberActive
		}
		confirmed := nullTimePtr(cur.Confirmed)
		if status == evidence.SubscriberActive && cur.Confirmed == nil {
			confirmed = now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET email = ?, status = ?, topics = ?, sources = ?, format = ?,
			confirmed_at = ?, unsubscribed_at = CASE WHEN ? = 'active' THEN NULL ELSE unsubscribed_at END,
			bounces = CASE WHEN ? = 'active' THEN 0 ELSE bounces END, updated_at = ? WHERE id = ?`,
			in.Email, status, string(topics), string(sources), format, confirmed, status, status, now, cur.ID); err != nil {
			return err
		}
		sub, err = scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE id = ?`, cur.ID))
		return err
	})
	if err != nil {
		return sub, false, fmt.Errorf("store: add subscriber %s: %w", in.Email, err)
	}
	return sub, created, nil
}

// Subscriber returns one subscriber by ID.
func (s *Store) Subscriber(ctx context.Context, id string) (evidence.Subscriber, error) {
	sub, err := scanSubscriber(s.rdb.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE id = ?`, id))
	if err != nil {
		return sub, fmt.Errorf("store: subscriber %s: %w", id, err)
	}
	return sub, nil
}

// SubscriberByEmail returns the subscriber with that address (any case).
func (s *Store) SubscriberByEmail(ctx context.Context, email string) (evidence.Subscriber, error) {
	sub, err := scanSubscriber(s.rdb.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE email_key = ?`, emailKey(email)))
	if err != nil {
		return sub, fmt.Errorf("store: subscriber %s: %w", email, err)
	}
	return sub, nil
}

// Subscribers lists subscribers by address, those with one of the given
// statuses (none: all).
func (s *Store) Subscribers(ctx context.Context, statuses ...string) ([]evidence.Subscriber, error) {
	q := `SELECT ` + subscriberCols + ` FROM subscribers`
	if len(statuses) > 0 {
		q += ` WHERE status IN (` + placeholders(len(statuses)) + `)`
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY email_key`, anys(statuses)...)
	if err != nil {
		return nil, fmt.Errorf("store: subscribers: %w", err)
	}
	defer rows.Close()
	var out []evidence.Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, fmt.Errorf("store: subscribers: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// CountSubscribers counts subscribers by status.
func (s *Store) CountSubscribers(ctx context.Context) (map[string]int, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT status, count(*) FROM subscribers GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("store: count subscribers: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: count subscribers: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// SetSubscriberChoices replaces a subscriber's topics, sources and format.
func (s *Store) SetSubscriberChoices(ctx context.Context, id string, topics, sources []string, format string) error {
	if format != evidence.FormatHTML && format != evidence.FormatText {
		return fmt.Errorf("store: subscriber %s: format %q (want html or text): %w", id, format, evidence.ErrInvalid)
	}
	t, _ := json.Marshal(nonNil(topics))
	src, _ := json.Marshal(nonNil(sources))
	return s.updateSubscriber(ctx, id, `topics = ?, sources = ?, format = ?`, string(t), string(src), format)
}

// ConfirmSubscriber makes a pending subscriber active (idempotent for an
// active one). An unsubscribed address is not revived by an old link.
func (s *Store) ConfirmSubscriber(ctx context.Context, id string) (evidence.Subscriber, error) {
	now := fmtTime(s.now())
	res, err := s.db.ExecContext(ctx, `UPDATE subscribers SET status = 'active', confirmed_at = coalesce(confirmed_at, ?),
		updated_at = ? WHERE id = ? AND status IN ('pending', 'active')`, now, now, id)
	if err != nil {
		return evidence.Subscriber{}, fmt.Errorf("store: confirm subscriber %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		sub, err := s.Subscriber(ctx, id)
		if err != nil {
			return sub, err
		}
		return sub, fmt.Errorf("store: confirm subscriber %s: status is %s: %w", sub.Email, sub.Status, evidence.ErrConflict)
	}
	return s.Subscriber(ctx, id)
}

// Unsubscribe marks a subscriber unsubscribed (idempotent).
func (s *Store) Unsubscribe(ctx context.Context, id string) (evidence.Subscriber, error) {
	now := fmtTime(s.now())
	if err := s.updateSubscriber(ctx, id, `status = 'unsubscribed', unsubscribed_at = coalesce(unsubscribed_at, ?)`, now); err != nil {
		return evidence.Subscriber{}, err
	}
	return s.Subscriber(ctx, id)
}

// RemoveSubscriber deletes a subscriber and their delivery log.
func (s *Store) RemoveSubscriber(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscribers WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: remove subscriber %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: remove subscriber %s: %w", id, evidence.ErrNotFound)
	}
	return nil
}

// ClaimConfirmation records that a confirmation mail is about to go to the
// subscriber, unless one went out within `within`: then it returns false
// and nothing is sent (signing up twice sends one mail an hour at most).
func (s *Store) ClaimConfirmation(ctx context.Context, id string, within time.Duration) (bool, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `UPDATE subscribers SET confirm_sent_at = ?, updated_at = ?
		WHERE id = ? AND (confirm_sent_at IS NULL OR confirm_sent_at <= ?)`,
		fmtTime(now), fmtTime(now), id, fmtTime(now.Add(-within)))
	if err != nil {
		return false, fmt.Errorf("store: claim confirmation for %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s *Store) updateSubscriber(ctx context.Context, id, set string, args ...any) error {
	args = append(args, fmtTime(s.now()), id)
	res, err := s.db.ExecContext(ctx, `UPDATE subscribers SET `+set+`, updated_at = ? WHERE id = ?`, args...)
	if err != nil {
		return fmt.Errorf("store: update subscriber %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update subscriber %s: %w", id, evidence.ErrNotFound)
	}
	return nil
}

func scanSubscriber(sc interface{ Scan(...any) error }) (evidence.Subscriber, error) {
	var sub evidence.Subscriber
	var topics, sources, created string
	var confirmed, unsub, confirmSent sql.NullString
	err := sc.Scan(&sub.ID, &sub.Email, &sub.Status, &topics, &sources, &sub.Format, &created,
		&confirmed, &unsub, &confirmSent, &sub.Bounces)
	if errors.Is(err, sql.ErrNoRows) {
		return sub, evidence.ErrNotFound
	}
	if err != nil {
		return sub, err
	}
	if err := json.Unmarshal([]byte(topics), &sub.Topics); err != nil {
		return sub, fmt.Errorf("subscriber %s topics: %w", sub.ID, err)
	}
	if err := json.Unmarshal([]byte(sources), &sub.Sources); err != nil {
		return sub, fmt.Errorf("subscriber %s sources: %w", sub.ID, err)
	}
	if sub.Created, err = parseTime(created); err != nil {
		return sub, err
	}
	for _, p := range []struct {
		ns  sql.NullString
		dst **time.Time
	}{{confirmed, &sub.Confirmed}, {unsub, &sub.Unsubscribed}, {confirmSent, &sub.ConfirmSent}} {
		t, err := parseNullTime(p.ns)
		if err != nil {
			return sub, err
		}
		*p.dst = t
	}
	return sub, nil
}
