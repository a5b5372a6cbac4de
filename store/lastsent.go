package store

import (
	"context"
	"fmt"
	"time"
)

// LastSent maps each subscriber's ID to when a digest last reached them
// (the latest delivery marked sent); a subscriber never sent one is not
// in the map. The admins' subscriber page shows it.
func (s *Store) LastSent(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT subscriber_id, MAX(sent_at) FROM deliveries
		WHERE status = 'sent' AND sent_at IS NOT NULL GROUP BY subscriber_id`)
	if err != nil {
		return nil, fmt.Errorf("store: last sent: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("store: last sent: %w", err)
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("store: last sent to %s: %w", id, err)
		}
		out[id] = t
	}
	return out, rows.Err()
}
