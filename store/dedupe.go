package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// The rules FindDuplicate reports, in the order it tries them.
const (
	// RuleURL: a URL of the query is a stored item's canonical URL.
	RuleURL = "url"
	// RuleAlias: a URL of the query is a recorded alias of a stored item.
	RuleAlias = "alias"
	// RuleDOI: the DOI equals a stored item's DOI (case-insensitively).
	RuleDOI = "doi"
	// RulePDF: a PDF URL of the query is one of a stored item's PDF URLs.
	RulePDF = "pdf"
	// RuleTitle: same evidence.TitleKey and published dates within the window.
	RuleTitle = "title"
)

// DefaultDupWindow is how far apart two published dates may be for a title
// match when DupQuery.Window is not set.
const DefaultDupWindow = 7 * 24 * time.Hour

// MinTitleKeyWords is the fewest words a title key needs to be matched at
// all, so that short generic titles ("Annual report") never merge.
const MinTitleKeyWords = 3

// DupQuery describes an incoming item for FindDuplicate; it is declared in
// the domain package so the pipeline can use it without importing store.
type DupQuery = evidence.DupQuery

// FindDuplicate returns the stored item that is the same work as q and the
// rule that matched (one of the Rule constants). Rules are tried in order,
// the first match wins:
//
//  1. q.URL, then each of q.Aliases, is a stored item's canonical URL
//     (RuleURL) or a recorded alias of a stored item (RuleAlias);
//  2. q.DOI equals a stored DOI, ignoring case (RuleDOI);
//  3. one of q.PDFURLs is a stored item's PDF URL (RulePDF);
//  4. TitleKey(q.Title) has at least MinTitleKeyWords words and equals a
//     stored item's key, and both published dates are known and at most
//     q.Window apart (RuleTitle; the closest date wins). A title never
//     matches on its own when either date is missing.
//
// Ties within a rule go to the item seen first. When nothing matches the
// error wraps evidence.ErrNotFound. All lookups see one snapshot.
func (s *Store) FindDuplicate(ctx context.Context, q DupQuery) (evidence.Item, string, error) {
	var (
		items []evidence.Item
		rule  string
	)
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		id, r, err := findDuplicateID(ctx, tx, q)
		if err != nil || id == "" {
			return err
		}
		rule = r
		items, err = queryItems(ctx, tx, `SELECT `+itemCols+` FROM items WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return evidence.Item{}, "", fmt.Errorf("store: find duplicate of %q: %w", q.URL, err)
	}
	if len(items) == 0 {
		return evidence.Item{}, "", fmt.Errorf("store: find duplicate of %q: %w", q.URL, evidence.ErrNotFound)
	}
	return items[0], rule, nil
}

// findDuplicateID returns the id of the matching item and the rule, or ""
// when none matches.
func findDuplicateID(ctx context.Context, tx *sql.Tx, q DupQuery) (string, string, error) {
	scanID := func(row *sql.Row, dst ...any) (bool, error) {
		err := row.Scan(dst...)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}

	for _, u := range mergeStrings([]string{q.URL}, q.Aliases) {
		if strings.TrimSpace(u) == "" {
			continue
		}
		var (
			id    string
			alias bool
		)
		ok, err := scanID(tx.QueryRowContext(ctx, `
			SELECT id, alias FROM (
				SELECT id, 0 AS alias FROM items WHERE url = ?1
				UNION ALL
				SELECT i.id, 1 FROM aliases a JOIN items i ON i.url = a.url WHERE a.alias = ?1
			) ORDER BY alias LIMIT 1`, u), &id, &alias)
		if err != nil {
			return "", "", fmt.Errorf("url %q: %w", u, err)
		}
		if ok {
			if alias {
				return id, RuleAlias, nil
			}
			return id, RuleURL, nil
		}
	}

	if doi := strings.TrimSpace(q.DOI); doi != "" {
		var id string
		ok, err := scanID(tx.QueryRowContext(ctx, `SELECT id FROM items WHERE doi = ? COLLATE NOCASE
			ORDER BY first_seen, id LIMIT 1`, doi), &id)
		if err != nil {
			return "", "", fmt.Errorf("doi %q: %w", doi, err)
		}
		if ok {
			return id, RuleDOI, nil
		}
	}

	for _, p := range mergeStrings(nil, q.PDFURLs) {
		var id string
		ok, err := scanID(tx.QueryRowContext(ctx, `SELECT i.id FROM item_pdfs p JOIN items i ON i.id = p.item_id
			WHERE p.pdf_url = ? ORDER BY i.first_seen, i.id LIMIT 1`, p), &id)
		if err != nil {
			return "", "", fmt.Errorf("pdf url %q: %w", p, err)
		}
		if ok {
			return id, RulePDF, nil
		}
	}

	key := evidence.TitleKey(q.Title)
	if q.Published == nil || len(strings.Fields(key)) < MinTitleKeyWords {
		return "", "", nil
	}
	window := q.Window
	if window <= 0 {
		window = DefaultDupWindow
	}
	pub := q.Published.UTC()
	rows, err := tx.QueryContext(ctx, `SELECT id, published, first_seen FROM items
		WHERE title_key = ? AND published BETWEEN ? AND ?`,
		key, fmtTime(pub.Add(-window)), fmtTime(pub.Add(window)))
	if err != nil {
		return "", "", fmt.Errorf("title %q: %w", key, err)
	}
	defer rows.Close()
	type cand struct {
		id, firstSeen string
		dist          time.Duration
	}
	var best *cand
	for rows.Next() {
		var c cand
		var published string
		if err := rows.Scan(&c.id, &published, &c.firstSeen); err != nil {
			return "", "", fmt.Errorf("title %q: %w", key, err)
		}
		t, err := parseTime(published)
		if err != nil {
			return "", "", fmt.Errorf("title %q: item %q: published: %w", key, c.id, err)
		}
		c.dist = t.Sub(pub).Abs()
		if best == nil || c.dist < best.dist ||
			(c.dist == best.dist && (c.firstSeen < best.firstSeen || (c.firstSeen == best.firstSeen && c.id < best.id))) {
			best = &c
		}
	}
	if err := rows.Err(); err != nil {
		return "", "", fmt.Errorf("title %q: %w", key, err)
	}
	if best == nil {
		return "", "", nil
	}
	return best.id, RuleTitle, nil
}

// AddAnnouncer appends source to the announced_by list of item id, unless it
// is there already. It reports whether the item changed. The content hash
// is not touched (ComputeHash leaves AnnouncedBy out), so the item does not
// become pending for the index, and calling it again with the same source
// writes nothing at all. The error wraps evidence.ErrNotFound for an unknown
// id and evidence.ErrInvalid for an empty id or source.
func (s *Store) AddAnnouncer(ctx context.Context, id, source string) (bool, error) {
	if strings.TrimSpace(id) == "" || strings.TrimSpace(source) == "" {
		return false, fmt.Errorf("store: add announcer %q to %q: empty id or source: %w", source, id, evidence.ErrInvalid)
	}
	// Fast path on a reader: a known announcer costs no write lock.
	have, err := announcers(ctx, s.rdb, id)
	if err != nil {
		return false, fmt.Errorf("store: add announcer %q to %q: %w", source, id, err)
	}
	if slices.Contains(have, source) {
		return false, nil
	}
	changed := false
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		have, err := announcers(ctx, tx, id)
		if err != nil {
			return err
		}
		if slices.Contains(have, source) {
			return nil // another writer won
		}
		b, err := json.Marshal(mergeStrings(have, []string{source}))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE items SET announced_by = ?, updated_at = ? WHERE id = ?`,
			string(b), fmtTime(s.now()), id); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: add announcer %q to %q: %w", source, id, err)
	}
	if changed {
		s.log.Debug("store: added announcer", "id", id, "source", source)
	}
	return changed, nil
}

func announcers(ctx context.Context, q querier, id string) ([]string, error) {
	var raw string
	err := q.QueryRowContext(ctx, `SELECT announced_by FROM items WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("item %q: %w", id, evidence.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("item %q: announced_by: %w", id, err)
	}
	return out, nil
}

// ItemsBySource returns the canonical URLs of the items whose source is
// source, sorted. Items that source only announced (AnnouncedBy) are not
// included. The result is never nil.
func (s *Store) ItemsBySource(ctx context.Context, source string) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT url FROM items WHERE source = ? ORDER BY url`, source)
	if err != nil {
		return nil, fmt.Errorf("store: items of source %q: %w", source, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("store: items of source %q: %w", source, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: items of source %q: %w", source, err)
	}
	return out, nil
}

// backfillTitleKeys computes title_key for rows that have none yet (rows
// written before migration 0002), in one transaction. It runs on every
// Open and writes nothing when every row has its key.
func (s *Store) backfillTitleKeys(ctx context.Context) error {
	var pending int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE title_key IS NULL`).Scan(&pending); err != nil {
		return fmt.Errorf("store: backfill title keys in %q: %w", s.path, err)
	}
	if pending == 0 {
		return nil
	}
	n := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		type row struct{ id, title string }
		var todo []row
		rows, err := tx.QueryContext(ctx, `SELECT id, title FROM items WHERE title_key IS NULL`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.title); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `UPDATE items SET title_key = ? WHERE id = ? AND title_key IS NULL`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range todo {
			if _, err := stmt.ExecContext(ctx, evidence.TitleKey(r.title), r.id); err != nil {
				return fmt.Errorf("item %q: %w", r.id, err)
			}
		}
		n = len(todo)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: backfill title keys in %q: %w", s.path, err)
	}
	s.log.Info("store: backfilled title keys", "items", n)
	return nil
}
