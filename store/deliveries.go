package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/evidencetracker/evidence"
)

// ClaimDelivery claims (week, subscriber) before its digest is sent. It
// returns claimed=false with the stored row when that week's digest was
// already sent to them, or refused permanently; a row left claimed by a
// send that was cut off, or failed temporarily, is claimed again (the
// resend carries the same Message-ID).
func (s *Store) ClaimDelivery(ctx context.Context, week, subscriberID, messageID string) (d evidence.Delivery, claimed bool, err error) {
	now := fmtTime(s.now())
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		// One statement in the usual case: a new row, or a cut-off or
		// temporarily failed one claimed again; a sent or permanently
		// refused row is left as it is (and RETURNING gives nothing).
		var attempts int
		err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (week, subscriber_id, message_id, status, attempts, claimed_at)
			VALUES (?1, ?2, ?3, 'claimed', 1, ?4)
			ON CONFLICT (week, subscriber_id) DO UPDATE SET status = 'claimed', attempts = deliveries.attempts + 1,
				claimed_at = ?4, message_id = ?3
			WHERE deliveries.status != 'sent' AND deliveries.permanent = 0
			RETURNING attempts`, week, subscriberID, messageID, now).Scan(&attempts)
		if err == nil {
			claimed = true
			t, _ := parseTime(now)
			d = evidence.Delivery{Week: week, SubscriberID: subscriberID, MessageID: messageID,
				Status: evidence.DeliveryClaimed, Attempts: attempts, ClaimedAt: t}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		row, err := scanDelivery(tx.QueryRowContext(ctx, deliverySelect+` WHERE d.week = ? AND d.subscriber_id = ?`, week, subscriberID))
		d = row.Delivery
		return err
	})
	if err != nil {
		return d, false, fmt.Errorf("store: claim delivery %s to %s: %w", week, subscriberID, err)
	}
	return d, claimed, nil
}

// MarkDelivered records the server's acceptance of a claimed delivery and
// clears the subscriber's bounce count, in one transaction.
func (s *Store) MarkDelivered(ctx context.Context, week, subscriberID, reply string) error {
	now := fmtTime(s.now())
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'sent', sent_at = ?, reply = ?, error = NULL
			WHERE week = ? AND subscriber_id = ? AND status = 'claimed'`, now, reply, week, subscriberID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("no claimed delivery: %w", evidence.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET bounces = 0, updated_at = ? WHERE id = ? AND bounces != 0`, now, subscriberID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: mark delivery %s to %s sent: %w", week, subscriberID, err)
	}
	return nil
}

// MarkFailed records a failed delivery. A permanent refusal counts as a
// bounce; after bounceLimit in a row the subscriber becomes bouncing and
// gets no more digests. It reports whether the subscriber is now bouncing.
func (s *Store) MarkFailed(ctx context.Context, week, subscriberID, cause string, permanent bool, bounceLimit int) (bouncing bool, err error) {
	now := fmtTime(s.now())
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'failed', error = ?, permanent = ?
			WHERE week = ? AND subscriber_id = ?`, cause, permanent, week, subscriberID); err != nil {
			return err
		}
		if !permanent {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, `UPDATE subscribers SET bounces = bounces + 1, updated_at = ? WHERE id = ?
			RETURNING bounces`, now, subscriberID).Scan(&n); err != nil {
			return err
		}
		if bounceLimit > 0 && n >= bounceLimit {
			bouncing = true
			_, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'bouncing' WHERE id = ? AND status = 'active'`, subscriberID)
			return err
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: mark delivery %s to %s failed: %w", week, subscriberID, err)
	}
	return bouncing, nil
}

// Deliveries lists a week's delivery log, by address.
func (s *Store) Deliveries(ctx context.Context, week string) ([]evidence.Delivery, error) {
	rows, err := s.rdb.QueryContext(ctx, deliverySelect+` WHERE d.week = ? ORDER BY s.email_key`, week)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries %s: %w", week, err)
	}
	defer rows.Close()
	var out []evidence.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: deliveries %s: %w", week, err)
		}
		out = append(out, d.Delivery)
	}
	return out, rows.Err()
}

const deliverySelect = `SELECT d.week, d.subscriber_id, s.email, d.message_id, d.status, d.attempts, d.claimed_at,
	d.sent_at, coalesce(d.reply, ''), coalesce(d.error, ''), d.permanent
	FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id`

type deliveryRow struct {
	evidence.Delivery
	permanent bool
}

func scanDelivery(sc interface{ Scan(...any) error }) (deliveryRow, error) {
	var d deliveryRow
	var claimed string
	var sent sql.NullString
	err := sc.Scan(&d.Week, &d.SubscriberID, &d.Email, &d.MessageID, &d.Status, &d.Attempts, &claimed,
		&sent, &d.Reply, &d.Error, &d.permanent)
	if errors.Is(err, sql.ErrNoRows) {
		return d, evidence.ErrNotFound
	}
	if err != nil {
		return d, err
	}
	if d.ClaimedAt, err = parseTime(claimed); err != nil {
		return d, err
	}
	d.SentAt, err = parseNullTime(sent)
	return d, err
}
