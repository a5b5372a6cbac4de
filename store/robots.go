package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LoadRobots returns the robots.txt last saved for origin (scheme://host).
func (s *Store) LoadRobots(ctx context.Context, origin string) ([]byte, int, time.Time, bool, error) {
	var body []byte
	var status int
	var at string
	err := s.rdb.QueryRowContext(ctx, `SELECT body, status, fetched_at FROM robots WHERE origin = ?`, origin).Scan(&body, &status, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, time.Time{}, false, nil
	}
	if err != nil {
		return nil, 0, time.Time{}, false, fmt.Errorf("store: robots.txt of %s: %w", origin, err)
	}
	t, err := parseTime(at)
	if err != nil {
		return nil, 0, time.Time{}, false, fmt.Errorf("store: robots.txt of %s: bad time %q: %w", origin, at, err)
	}
	return body, status, t, true, nil
}

// SaveRobots keeps a robots.txt answer for origin.
func (s *Store) SaveRobots(ctx context.Context, origin string, body []byte, status int, fetchedAt time.Time) error {
	if body == nil {
		body = []byte{}
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO robots (origin, status, body, fetched_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (origin) DO UPDATE SET status = excluded.status, body = excluded.body, fetched_at = excluded.fetched_at`,
		origin, status, body, fmtTime(fetchedAt))
	if err != nil {
		return fmt.Errorf("store: save robots.txt of %s: %w", origin, err)
	}
	return nil
}
