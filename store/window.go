package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/evidencetracker/evidence"
)

// ItemsFirstSeen returns the items first seen in [from, to), oldest first
// (then by id), with their relations: the candidates of a week's digest.
func (s *Store) ItemsFirstSeen(ctx context.Context, from, to time.Time) ([]evidence.Item, error) {
	if !from.Before(to) {
		return nil, fmt.Errorf("store: items first seen in [%s, %s): empty window: %w",
			from.Format(time.RFC3339), to.Format(time.RFC3339), evidence.ErrInvalid)
	}
	var items []evidence.Item
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		items, err = queryItems(ctx, tx,
			`SELECT `+itemCols+` FROM items WHERE first_seen >= ? AND first_seen < ? ORDER BY first_seen, id`,
			fmtTime(from), fmtTime(to))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: items first seen in [%s, %s): %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	if items == nil {
		items = []evidence.Item{}
	}
	return items, nil
}
