package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/evidencetracker/evidence"
)

// The search index is derived from the store. Every item row carries its
// content_hash and the indexed_hash last written to the index; rows where
// they differ (or nothing was indexed) form the outbox the indexer drains.

// PendingIndex returns up to limit full items (all when limit <= 0), ordered
// by id, whose index entry is missing or stale. Their Topics are their own
// (as saved), not the stored tags: the sync tags them afresh.
func (s *Store) PendingIndex(ctx context.Context, limit int) ([]evidence.Item, error) {
	if limit <= 0 {
		limit = -1
	}
	var items []evidence.Item
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		items, err = queryOwnItems(ctx, tx, `SELECT `+itemCols+` FROM items
			WHERE indexed_hash IS NOT content_hash ORDER BY id LIMIT ?`, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending index: %w", err)
	}
	if items == nil {
		items = []evidence.Item{}
	}
	return items, nil
}

// CountPending returns the number of items PendingIndex would return with
// no limit: those whose index entry is missing or stale.
func (s *Store) CountPending(ctx context.Context) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM items
		WHERE indexed_hash IS NOT content_hash`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count pending: %w", err)
	}
	return n, nil
}

// MarkIndexed records, for each id → hash, that the item was indexed with
// that content hash. Only rows whose content_hash still equals the hash are
// marked, so an item changed meanwhile stays pending.
func (s *Store) MarkIndexed(ctx context.Context, hashes map[string]string) error {
	if len(hashes) == 0 {
		return nil
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE items SET indexed_hash = ?2
			WHERE id = ?1 AND content_hash = ?2 AND indexed_hash IS NOT ?2`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for id, h := range hashes {
			if _, err := stmt.ExecContext(ctx, id, h); err != nil {
				return fmt.Errorf("item %q: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: mark %d items indexed: %w", len(hashes), err)
	}
	return nil
}

// ResetIndexed makes every item pending (for `evidence reindex`).
func (s *Store) ResetIndexed(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE items SET indexed_hash = NULL WHERE indexed_hash IS NOT NULL`); err != nil {
		return fmt.Errorf("store: reset indexed: %w", err)
	}
	return nil
}

// IndexedHashes returns id → content_hash for every item, for `evidence
// check` to compare with the hashes the index holds.
func (s *Store) IndexedHashes(ctx context.Context) (map[string]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, content_hash FROM items`)
	if err != nil {
		return nil, fmt.Errorf("store: indexed hashes: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("store: indexed hashes: %w", err)
		}
		out[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: indexed hashes: %w", err)
	}
	return out, nil
}
