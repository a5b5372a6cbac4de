package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/evidencetracker/evidence"
)

// replacePDFs records the PDF URLs of item id, so links to them resolve.
func replacePDFs(ctx context.Context, tx *sql.Tx, id string, pdfs []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM item_pdfs WHERE item_id = ?`, id); err != nil {
		return fmt.Errorf("pdf urls: %w", err)
	}
	for _, u := range mergeStrings(nil, pdfs) {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO item_pdfs (pdf_url, item_id) VALUES (?, ?)`, u, id); err != nil {
			return fmt.Errorf("pdf urls: %w", err)
		}
	}
	return nil
}

// resolveLinkSQL finds the item a link to ?1 from item ?2 points at: the
// item with that canonical URL, else the item it is an alias of, else the
// item offering it as a PDF; never item ?2 itself.
const resolveLinkSQL = `
	SELECT id FROM (
		SELECT id, 0 AS p FROM items WHERE url = ?1
		UNION ALL
		SELECT i.id, 1 FROM aliases a JOIN items i ON i.url = a.url WHERE a.alias = ?1
		UNION ALL
		SELECT item_id, 2 FROM item_pdfs WHERE pdf_url = ?1
	) WHERE id != ?2 ORDER BY p, id LIMIT 1`

// replaceLinks replaces the outbound link rows of item id, resolving each
// URL to a stored item (by canonical URL, alias, then PDF URL; never id
// itself) where one exists.
func replaceLinks(ctx context.Context, tx *sql.Tx, id string, links []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM item_links WHERE from_id = ?`, id); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	links = mergeStrings(nil, links)
	if len(links) == 0 {
		return nil
	}
	resolve, err := tx.PrepareContext(ctx, resolveLinkSQL)
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	defer resolve.Close()
	insert, err := tx.PrepareContext(ctx, `INSERT INTO item_links (from_id, to_url, to_id, position) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	defer insert.Close()
	for pos, u := range links {
		var to sql.NullString
		if err := resolve.QueryRowContext(ctx, u, id).Scan(&to); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("links: resolve %q: %w", u, err)
		}
		if _, err := insert.ExecContext(ctx, id, u, to, pos); err != nil {
			return fmt.Errorf("links: %w", err)
		}
	}
	return nil
}

// resolveInbound points the link rows of other items at item id when their
// URL is id's canonical URL, one of its aliases or one of its PDF URLs, and
// unpoints rows that no longer match (a PDF URL the item dropped).
func resolveInbound(ctx context.Context, tx *sql.Tx, id, url string) error {
	const targets = `SELECT ?2 UNION SELECT alias FROM aliases WHERE url = ?2
		UNION SELECT pdf_url FROM item_pdfs WHERE item_id = ?1`
	if _, err := tx.ExecContext(ctx, `UPDATE item_links SET to_id = NULL
		WHERE to_id = ?1 AND to_url NOT IN (`+targets+`)`, id, url); err != nil {
		return fmt.Errorf("inbound links: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE item_links SET to_id = ?1
		WHERE to_id IS NULL AND from_id != ?1 AND to_url IN (`+targets+`)`, id, url); err != nil {
		return fmt.Errorf("inbound links: %w", err)
	}
	return nil
}

// AddAlias records that alias is another URL of the item at canonicalURL.
// It is idempotent; an alias equal to its canonical URL is ignored. A
// canonical URL that is itself an alias is followed, and aliases of alias
// are moved to the new target, so chains never form. Links from other items
// to alias (or to the aliases moved) are resolved again, so they point at
// the item at canonicalURL once it is stored.
//
// An alias that is itself a stored item's canonical URL would hide that
// item: the error then wraps evidence.ErrConflict and nothing is written.
func (s *Store) AddAlias(ctx context.Context, alias, canonicalURL string) error {
	if strings.TrimSpace(alias) == "" || strings.TrimSpace(canonicalURL) == "" {
		return fmt.Errorf("store: add alias %q → %q: empty url: %w", alias, canonicalURL, evidence.ErrInvalid)
	}
	if alias == canonicalURL {
		return nil
	}
	// Skip the write lock when the alias is already recorded.
	var have string
	err := s.rdb.QueryRowContext(ctx, `SELECT url FROM aliases WHERE alias = ?`, alias).Scan(&have)
	if err == nil && have == canonicalURL {
		return nil
	} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: add alias %q → %q: %w", alias, canonicalURL, err)
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error { return s.addAliasTx(ctx, tx, alias, canonicalURL) })
	if err != nil {
		return fmt.Errorf("store: add alias %q → %q: %w", alias, canonicalURL, err)
	}
	return nil
}

// AliasPair is one old URL and the canonical URL it stands for.
type AliasPair = evidence.AliasPair

// AddAliases records many aliases in one transaction (loading thousands
// of old URLs one transaction each is slow). A pair refused because its
// alias is a stored item's own URL, or because it is empty, is reported in
// the returned slice (one error per refused pair) and the rest still go in;
// any other failure rolls the whole batch back.
func (s *Store) AddAliases(ctx context.Context, pairs []AliasPair) ([]error, error) {
	var refused []error
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		refused = refused[:0]
		for _, p := range pairs {
			if strings.TrimSpace(p.Alias) == "" || strings.TrimSpace(p.URL) == "" {
				refused = append(refused, fmt.Errorf("store: add alias %q → %q: empty url: %w", p.Alias, p.URL, evidence.ErrInvalid))
				continue
			}
			if p.Alias == p.URL {
				continue
			}
			if err := s.addAliasTx(ctx, tx, p.Alias, p.URL); err != nil {
				if errors.Is(err, evidence.ErrConflict) {
					refused = append(refused, fmt.Errorf("store: add alias %q → %q: %w", p.Alias, p.URL, err))
					continue
				}
				return fmt.Errorf("store: add alias %q → %q: %w", p.Alias, p.URL, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return refused, nil
}

// addAliasTx records one alias inside tx; an alias that is a stored item's
// own URL is refused with ErrConflict before anything is written.
func (s *Store) addAliasTx(ctx context.Context, tx *sql.Tx, alias, canonicalURL string) error {
	var have string
	switch err := tx.QueryRowContext(ctx, `SELECT url FROM aliases WHERE alias = ?`, alias).Scan(&have); {
	case err == nil && have == canonicalURL:
		return nil // already recorded: write nothing
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return err
	}
	target := canonicalURL
	var next string
	err := tx.QueryRowContext(ctx, `SELECT url FROM aliases WHERE alias = ?`, target).Scan(&next)
	switch {
	case err == nil:
		target = next
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if target == alias {
		return nil // would be a cycle: alias is already canonical for canonicalURL
	}
	var hidden string
	err = tx.QueryRowContext(ctx, `SELECT id FROM items WHERE url = ?`, alias).Scan(&hidden)
	switch {
	case err == nil:
		return fmt.Errorf("%q is the url of stored item %q: %w", alias, hidden, evidence.ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	affected := []string{alias}
	rows, err := tx.QueryContext(ctx, `SELECT alias FROM aliases WHERE url = ?`, alias)
	if err != nil {
		return err
	}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return err
		}
		affected = append(affected, a)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO aliases (alias, url, created_at) VALUES (?, ?, ?)
		ON CONFLICT (alias) DO UPDATE SET url = excluded.url WHERE aliases.url != excluded.url`,
		alias, target, fmtTime(s.now())); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE aliases SET url = ? WHERE url = ?`, target, alias); err != nil {
		return err
	}
	// The only self-alias the update above can make is target → target.
	if _, err := tx.ExecContext(ctx, `DELETE FROM aliases WHERE alias = ? AND url = ?`, target, target); err != nil {
		return err
	}
	return reresolveLinks(ctx, tx, affected)
}

// reresolveLinks resolves again every link row whose URL is one of urls,
// writing only the rows whose target changed.
func reresolveLinks(ctx context.Context, tx *sql.Tx, urls []string) error {
	type link struct {
		from, to string
		toID     sql.NullString
	}
	var links []link
	for start := 0; start < len(urls); start += maxIn {
		chunk := urls[start:min(start+maxIn, len(urls))]
		rows, err := tx.QueryContext(ctx, `SELECT from_id, to_url, to_id FROM item_links
			WHERE to_url IN (`+placeholders(len(chunk))+`)`, anys(chunk)...)
		if err != nil {
			return fmt.Errorf("links: %w", err)
		}
		for rows.Next() {
			var l link
			if err := rows.Scan(&l.from, &l.to, &l.toID); err != nil {
				rows.Close()
				return fmt.Errorf("links: %w", err)
			}
			links = append(links, l)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("links: %w", err)
		}
	}
	if len(links) == 0 {
		return nil
	}
	resolve, err := tx.PrepareContext(ctx, resolveLinkSQL)
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	defer resolve.Close()
	for _, l := range links {
		var to sql.NullString
		if err := resolve.QueryRowContext(ctx, l.to, l.from).Scan(&to); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("links: resolve %q: %w", l.to, err)
		}
		if to == l.toID {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE item_links SET to_id = ? WHERE from_id = ? AND to_url = ?`,
			to, l.from, l.to); err != nil {
			return fmt.Errorf("links: %w", err)
		}
	}
	return nil
}

// ResolveURL maps url to the canonical URL it is stored under. ok is true
// when url is a stored item's canonical URL (canonical == url) or a
// recorded alias (canonical is its target, stored as an item or not yet).
func (s *Store) ResolveURL(ctx context.Context, url string) (canonical string, ok bool, err error) {
	canonical, ok, err = canonicalFor(ctx, s.rdb, url)
	if err != nil {
		return "", false, fmt.Errorf("store: resolve url %q: %w", url, err)
	}
	if !ok {
		return "", false, nil
	}
	return canonical, true, nil
}
