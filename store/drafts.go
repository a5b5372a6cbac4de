package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evidencetracker/evidence"
)

const draftCols = `week, picks, drops, note, approved_by, approved_at, updated_by, updated_at, version, section_order`

// Draft returns a week's stored draft; found is false (and the draft
// empty) when there is none yet.
func (s *Store) Draft(ctx context.Context, week string) (d evidence.DigestDraft, found bool, err error) {
	d, err = scanDraft(s.rdb.QueryRowContext(ctx, `SELECT `+draftCols+` FROM digest_drafts WHERE week = ?`, week))
	if errors.Is(err, evidence.ErrNotFound) {
		return emptyDraft(week), false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("store: draft %s: %w", week, err)
	}
	return d, true, nil
}

// EditDraft changes a week's draft in one transaction: edit gets the
// current draft (an empty one if none) and changes it; the result is
// stored with the version counted up. With wantVersion > 0 the edit is
// refused with ErrConflict when the stored version differs (someone else
// edited it meanwhile).
func (s *Store) EditDraft(ctx context.Context, week string, wantVersion int, by string, edit func(*evidence.DigestDraft) error) (evidence.DigestDraft, error) {
	var out evidence.DigestDraft
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		d, err := scanDraft(tx.QueryRowContext(ctx, `SELECT `+draftCols+` FROM digest_drafts WHERE week = ?`, week))
		if errors.Is(err, evidence.ErrNotFound) {
			d, err = emptyDraft(week), nil
		}
		if err != nil {
			return err
		}
		if wantVersion > 0 && d.Version != wantVersion {
			return fmt.Errorf("draft %s is at version %d, the edit was made on version %d: %w", week, d.Version, wantVersion, evidence.ErrConflict)
		}
		if err := edit(&d); err != nil {
			return err
		}
		d.Version++
		d.UpdatedBy = by
		d.UpdatedAt = s.now().UTC()
		picks, _ := json.Marshal(nonNil(d.Picks))
		drops, _ := json.Marshal(nonNil(d.Drops))
		d.Order = cleanOrder(d.Order)
		order, _ := json.Marshal(d.Order)
		if _, err := tx.ExecContext(ctx, `INSERT INTO digest_drafts (`+draftCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (week) DO UPDATE SET picks = excluded.picks, drops = excluded.drops, note = excluded.note,
			approved_by = excluded.approved_by, approved_at = excluded.approved_at, updated_by = excluded.updated_by,
			updated_at = excluded.updated_at, version = excluded.version, section_order = excluded.section_order`,
			week, string(picks), string(drops), d.Note, nullString(d.ApprovedBy), nullTimePtr(d.ApprovedAt),
			nullString(d.UpdatedBy), fmtTime(d.UpdatedAt), d.Version, string(order)); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("store: edit draft %s: %w", week, err)
	}
	return out, nil
}

func emptyDraft(week string) evidence.DigestDraft {
	return evidence.DigestDraft{Week: week, Picks: []string{}, Drops: []string{}, Order: map[string][]string{}}
}

// cleanOrder drops sections with no placed items, so an order that was
// undone leaves nothing behind; it is never nil.
func cleanOrder(o map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, ids := range o {
		if len(ids) > 0 {
			out[k] = ids
		}
	}
	return out
}

// Drafts lists the stored drafts, newest week first.
func (s *Store) Drafts(ctx context.Context) ([]evidence.DigestDraft, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+draftCols+` FROM digest_drafts ORDER BY week DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: drafts: %w", err)
	}
	defer rows.Close()
	var out []evidence.DigestDraft
	for rows.Next() {
		d, err := scanDraft(rows)
		if err != nil {
			return nil, fmt.Errorf("store: drafts: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func scanDraft(sc interface{ Scan(...any) error }) (evidence.DigestDraft, error) {
	var d evidence.DigestDraft
	var picks, drops, updated, order string
	var by, at, upBy sql.NullString
	err := sc.Scan(&d.Week, &picks, &drops, &d.Note, &by, &at, &upBy, &updated, &d.Version, &order)
	if errors.Is(err, sql.ErrNoRows) {
		return d, evidence.ErrNotFound
	}
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(picks), &d.Picks); err != nil {
		return d, fmt.Errorf("draft %s picks: %w", d.Week, err)
	}
	if err := json.Unmarshal([]byte(drops), &d.Drops); err != nil {
		return d, fmt.Errorf("draft %s drops: %w", d.Week, err)
	}
	if err := json.Unmarshal([]byte(order), &d.Order); err != nil {
		return d, fmt.Errorf("draft %s section order: %w", d.Week, err)
	}
	d.Order = cleanOrder(d.Order)
	d.ApprovedBy, d.UpdatedBy = by.String, upBy.String
	if d.ApprovedAt, err = parseNullTime(at); err != nil {
		return d, err
	}
	d.UpdatedAt, err = parseTime(updated)
	return d, err
}

// ArchiveDigest stores (or replaces, while it is not sent) a week's
// un-personalised digest.
func (s *Store) ArchiveDigest(ctx context.Context, a evidence.ArchivedDigest) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO digest_archive (week, title, dates, items, html, text, markdown, json, created_at, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (week) DO UPDATE SET title = excluded.title, dates = excluded.dates, items = excluded.items,
		html = excluded.html, text = excluded.text, markdown = excluded.markdown, json = excluded.json,
		sent_at = coalesce(digest_archive.sent_at, excluded.sent_at)
		WHERE digest_archive.sent_at IS NULL`,
		a.Week, a.Title, a.Dates, a.Items, a.HTML, a.Text, a.Markdown, a.JSON, fmtTime(s.now()), nullTimePtr(a.Sent))
	if err != nil {
		return fmt.Errorf("store: archive digest %s: %w", a.Week, err)
	}
	return nil
}

// MarkDigestSent records when a week's digest went out (the first time).
func (s *Store) MarkDigestSent(ctx context.Context, week string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE digest_archive SET sent_at = coalesce(sent_at, ?) WHERE week = ?`, fmtTime(s.now()), week)
	if err != nil {
		return fmt.Errorf("store: mark digest %s sent: %w", week, err)
	}
	return nil
}

// ArchivedDigest returns one week's archived digest with its bodies.
func (s *Store) ArchivedDigest(ctx context.Context, week string) (evidence.ArchivedDigest, error) {
	a, err := scanArchived(s.rdb.QueryRowContext(ctx, `SELECT week, title, dates, items, html, text, markdown, json,
		created_at, sent_at FROM digest_archive WHERE week = ?`, week))
	if err != nil {
		return a, fmt.Errorf("store: archived digest %s: %w", week, err)
	}
	return a, nil
}

// ArchivedDigests lists the sent digests, newest first, without bodies.
func (s *Store) ArchivedDigests(ctx context.Context) ([]evidence.ArchivedDigest, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT week, title, dates, items, '', '', '', '', created_at, sent_at
		FROM digest_archive WHERE sent_at IS NOT NULL ORDER BY week DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: archived digests: %w", err)
	}
	defer rows.Close()
	var out []evidence.ArchivedDigest
	for rows.Next() {
		a, err := scanArchived(rows)
		if err != nil {
			return nil, fmt.Errorf("store: archived digests: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanArchived(sc interface{ Scan(...any) error }) (evidence.ArchivedDigest, error) {
	var a evidence.ArchivedDigest
	var created string
	var sent sql.NullString
	err := sc.Scan(&a.Week, &a.Title, &a.Dates, &a.Items, &a.HTML, &a.Text, &a.Markdown, &a.JSON, &created, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return a, evidence.ErrNotFound
	}
	if err != nil {
		return a, err
	}
	if a.Created, err = parseTime(created); err != nil {
		return a, err
	}
	a.Sent, err = parseNullTime(sent)
	return a, err
}
