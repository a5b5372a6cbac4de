package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// SourceRun is the outcome of one poll of a source.
type SourceRun = evidence.SourceRun

// EnsureSource records a source if it is unknown, or renames it. A known
// source whose name is unchanged is not written.
func (s *Store) EnsureSource(ctx context.Context, id, name string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("store: ensure source: empty id: %w", evidence.ErrInvalid)
	}
	if name == "" {
		name = id
	}
	now := fmtTime(s.now())
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO sources (id, name, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
		WHERE sources.name != excluded.name`,
		id, name, evidence.StatusNever, now)
	if err != nil {
		return fmt.Errorf("store: ensure source %q: %w", id, err)
	}
	return nil
}

// RecordSourceRun updates a source's status from one run and appends the run
// to the source_runs history. An unknown source is created (named by its id).
//
// Success: status ok, last_success = End, consecutive_failures = 0; the last
// error is kept for reference. Failure (Err != nil or Blocked): last_error,
// last_error_at = End, consecutive_failures + 1, status failing (blocked when
// Blocked). Interrupted (and not Blocked): status interrupted, the failure
// count, last error and last success are left as they were, so an
// interruption neither counts towards a pause nor resets the count.
// last_run = End and next_poll are stored either way. A zero End means now.
func (s *Store) RecordSourceRun(ctx context.Context, id string, run SourceRun) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("store: record source run: empty id: %w", evidence.ErrInvalid)
	}
	now := s.now()
	end := run.End
	if end.IsZero() {
		end = now
	}
	start := run.Start
	if start.IsZero() {
		start = end
	}
	interrupted := run.Interrupted && !run.Blocked
	failed := (run.Err != nil || run.Blocked) && !interrupted
	errText := ""
	switch {
	case interrupted && run.Err != nil:
		errText = "interrupted: " + run.Err.Error()
	case interrupted:
		errText = "interrupted"
	case run.Err != nil:
		errText = run.Err.Error()
	case run.Blocked:
		errText = "blocked"
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO sources (id, name, status, created_at, updated_at) VALUES (?1, ?1, ?2, ?3, ?3)
			ON CONFLICT (id) DO NOTHING`, id, evidence.StatusNever, fmtTime(now)); err != nil {
			return err
		}
		switch {
		case interrupted:
			if _, err := tx.ExecContext(ctx, `
				UPDATE sources SET status = ?, last_run = ?,
					strategy = COALESCE(NULLIF(?, ''), strategy), next_poll = ?, updated_at = ?
				WHERE id = ?`,
				evidence.StatusInterrupted, fmtTime(end), run.Strategy, nullTime(run.NextPoll), fmtTime(now), id); err != nil {
				return err
			}
		case failed:
			status := evidence.StatusFailing
			if run.Blocked {
				status = evidence.StatusBlocked
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE sources SET status = ?, last_run = ?, last_error = ?, last_error_at = ?,
					consecutive_failures = consecutive_failures + 1,
					strategy = COALESCE(NULLIF(?, ''), strategy), next_poll = ?, updated_at = ?
				WHERE id = ?`,
				status, fmtTime(end), errText, fmtTime(end), run.Strategy, nullTime(run.NextPoll), fmtTime(now), id); err != nil {
				return err
			}
		default:
			if _, err := tx.ExecContext(ctx, `
				UPDATE sources SET status = ?, last_run = ?, last_success = ?, consecutive_failures = 0,
					strategy = COALESCE(NULLIF(?, ''), strategy), next_poll = ?, updated_at = ?
				WHERE id = ?`,
				evidence.StatusOK, fmtTime(end), fmtTime(end), run.Strategy, nullTime(run.NextPoll), fmtTime(now), id); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO source_runs (source_id, started_at, ended_at, strategy, ok, blocked, error,
				fetched, not_modified, new_items, updated_items, next_poll)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, fmtTime(start), fmtTime(end), run.Strategy, !failed && !interrupted, run.Blocked, errText,
			run.Fetched, run.NotModified, run.New, run.Updated, nullTime(run.NextPoll))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record run of source %q: %w", id, err)
	}
	return nil
}

const sourceCols = `s.id, s.name, s.strategy, s.status, s.last_run, s.last_success, s.last_error,
	s.last_error_at, s.consecutive_failures, s.next_poll`

// SourceStatuses reports every known source, ordered by id, with the number
// of items whose source it is.
func (s *Store) SourceStatuses(ctx context.Context) ([]evidence.SourceStatus, error) {
	rows, err := s.rdb.QueryContext(ctx, `
		SELECT `+sourceCols+`, COALESCE(c.n, 0)
		FROM sources s
		LEFT JOIN (SELECT source, COUNT(*) AS n FROM items GROUP BY source) c ON c.source = s.id
		ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("store: source statuses: %w", err)
	}
	defer rows.Close()
	out := []evidence.SourceStatus{}
	for rows.Next() {
		st, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: source statuses: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: source statuses: %w", err)
	}
	return out, nil
}

// SourceStatus reports one source; the error wraps evidence.ErrNotFound when
// the source is unknown.
func (s *Store) SourceStatus(ctx context.Context, id string) (evidence.SourceStatus, error) {
	row := s.rdb.QueryRowContext(ctx, `
		SELECT `+sourceCols+`, (SELECT COUNT(*) FROM items WHERE source = s.id)
		FROM sources s WHERE s.id = ?`, id)
	st, err := scanSource(row)
	if errors.Is(err, sql.ErrNoRows) {
		return evidence.SourceStatus{}, fmt.Errorf("store: source %q: %w", id, evidence.ErrNotFound)
	}
	if err != nil {
		return evidence.SourceStatus{}, fmt.Errorf("store: source %q: %w", id, err)
	}
	return st, nil
}

func scanSource(sc interface{ Scan(...any) error }) (evidence.SourceStatus, error) {
	var (
		st                                        evidence.SourceStatus
		lastRun, lastSuccess, lastErrAt, nextPoll sql.NullString
	)
	if err := sc.Scan(&st.ID, &st.Name, &st.Strategy, &st.Status, &lastRun, &lastSuccess, &st.LastError,
		&lastErrAt, &st.ConsecutiveFailures, &nextPoll, &st.Items); err != nil {
		return st, err
	}
	var err error
	for _, f := range []struct {
		dst **time.Time
		src sql.NullString
	}{{&st.LastRun, lastRun}, {&st.LastSuccess, lastSuccess}, {&st.LastErrorAt, lastErrAt}, {&st.NextPoll, nextPoll}} {
		if *f.dst, err = parseNullTime(f.src); err != nil {
			return st, fmt.Errorf("source %q: %w", st.ID, err)
		}
	}
	return st, nil
}

// FetchState returns the conditional-GET state for url, or FetchState{URL:
// url} and no error when none is stored.
func (s *Store) FetchState(ctx context.Context, url string) (evidence.FetchState, error) {
	st := evidence.FetchState{URL: url}
	var fetchedAt sql.NullString
	err := s.rdb.QueryRowContext(ctx,
		`SELECT etag, last_modified, content_hash, fetched_at FROM fetch_state WHERE url = ?`, url).
		Scan(&st.ETag, &st.LastModified, &st.ContentHash, &fetchedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("store: fetch state %q: %w", url, err)
	}
	if t, err := parseNullTime(fetchedAt); err != nil {
		return st, fmt.Errorf("store: fetch state %q: %w", url, err)
	} else if t != nil {
		st.FetchedAt = *t
	}
	return st, nil
}

// PutFetchState stores the conditional-GET state for st.URL. A zero
// FetchedAt is stored as now.
func (s *Store) PutFetchState(ctx context.Context, st evidence.FetchState) error {
	if strings.TrimSpace(st.URL) == "" {
		return fmt.Errorf("store: put fetch state: empty url: %w", evidence.ErrInvalid)
	}
	at := st.FetchedAt
	if at.IsZero() {
		at = s.now()
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO fetch_state (url, etag, last_modified, content_hash, fetched_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
			content_hash = excluded.content_hash, fetched_at = excluded.fetched_at`,
		st.URL, st.ETag, st.LastModified, st.ContentHash, fmtTime(at))
	if err != nil {
		return fmt.Errorf("store: put fetch state %q: %w", st.URL, err)
	}
	return nil
}
