package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/evidencetracker/evidence"
)

// Candidates are item pages the pipeline has processed: for each page URL,
// a signature of what was extracted from it and the item it became, so an
// unchanged page need not be extracted and saved again.

// Candidate returns the signature and item id recorded for the page at url.
// itemID is "" when the page became no item. ok is false (and err nil) when
// nothing is recorded.
func (s *Store) Candidate(ctx context.Context, url string) (sig string, itemID string, ok bool, err error) {
	var id sql.NullString
	err = s.rdb.QueryRowContext(ctx, `SELECT signature, item_id FROM candidates WHERE url = ?`, url).Scan(&sig, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("store: candidate %q: %w", url, err)
	}
	return sig, id.String, true, nil
}

// PutCandidate records the signature and item id (may be "") for the page at
// url. When the row already has the same signature and item id nothing is
// written (seen_at is the time of the last change); source is not compared.
func (s *Store) PutCandidate(ctx context.Context, url, source, sig, itemID string) error {
	if strings.TrimSpace(url) == "" {
		return fmt.Errorf("store: put candidate: empty url: %w", evidence.ErrInvalid)
	}
	// Fast path on a reader: an unchanged candidate costs no write lock.
	if have, haveID, ok, err := s.Candidate(ctx, url); err != nil {
		return fmt.Errorf("store: put candidate: %w", err)
	} else if ok && have == sig && haveID == itemID {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO candidates (url, source, signature, item_id, seen_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET source = excluded.source, signature = excluded.signature,
			item_id = excluded.item_id, seen_at = excluded.seen_at
		WHERE candidates.signature IS NOT excluded.signature OR candidates.item_id IS NOT excluded.item_id`,
		url, source, sig, nullString(itemID), fmtTime(s.now()))
	if err != nil {
		return fmt.Errorf("store: put candidate %q: %w", url, err)
	}
	return nil
}
