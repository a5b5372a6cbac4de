package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/evidencetracker/evidence"
)

// Collections: a librarian's list of items in ordered sections (see
// evidence.Collection). Every change goes through EditCollection, one
// transaction that re-reads the stored collection, refuses an edit made
// against an older version (*evidence.StaleError, which wraps
// evidence.ErrConflict), applies the edit, rewrites the positions, counts
// the version up and appends a row to the collection's history.
//
// The store checks what must hold for the rows to make sense (a name, a
// known visibility, section names present and distinct, an item at most
// once); the service checks the rest (lengths, roles, slugs' spelling).

const collectionCols = `id, slug, name, description, owner, visibility, version, created, updated, updated_by`

// CollectionEditFunc changes a collection in memory. It returns the
// history's action and detail (in words) for the change, or an empty
// action when there is nothing to change (nothing is then written and the
// version stays).
type CollectionEditFunc func(c *evidence.Collection) (action, detail string, err error)

// Collections lists every collection by name, each with its sections and
// entries in order (entry.Item filled; nil for an item no longer stored).
func (s *Store) Collections(ctx context.Context) ([]evidence.Collection, error) {
	var out []evidence.Collection
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+collectionCols+` FROM collections ORDER BY lower(name), slug`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCollection(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for i := range out {
			if err := fillCollection(ctx, tx, &out[i]); err != nil {
				return fmt.Errorf("collection %s: %w", out[i].Slug, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: collections: %w", err)
	}
	return out, nil
}

// Collection returns one collection by slug with its sections and entries
// in order (entry.Item filled; nil for an item no longer stored). The
// error wraps evidence.ErrNotFound when there is none.
func (s *Store) Collection(ctx context.Context, slug string) (evidence.Collection, error) {
	var c evidence.Collection
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = loadCollection(ctx, tx, slug)
		return err
	})
	if err != nil {
		return evidence.Collection{}, fmt.Errorf("store: collection %s: %w", slug, err)
	}
	return c, nil
}

// CreateCollection stores a new collection, with the sections (and their
// entries) it is given, at version 1; its history starts with "create".
// The ID, times and version are set here; UpdatedBy and each entry's
// AddedBy default to the owner. A slug already used is evidence.ErrConflict
// naming the collection that has it.
func (s *Store) CreateCollection(ctx context.Context, c evidence.Collection) (evidence.Collection, error) {
	c.Slug = strings.TrimSpace(c.Slug)
	if c.Slug == "" {
		return evidence.Collection{}, fmt.Errorf("store: create collection %q: no slug: %w", c.Name, evidence.ErrInvalid)
	}
	if err := checkCollection(&c); err != nil {
		return evidence.Collection{}, fmt.Errorf("store: create collection %s: %w", c.Slug, err)
	}
	id, err := newRowID("c")
	if err != nil {
		return evidence.Collection{}, fmt.Errorf("store: create collection %s: %w", c.Slug, err)
	}
	now := s.now().UTC()
	c.ID, c.Version, c.Created, c.Updated = id, 1, now, now
	if c.UpdatedBy == "" {
		c.UpdatedBy = c.Owner
	}
	var out evidence.Collection
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var other string
		err := tx.QueryRowContext(ctx, `SELECT name FROM collections WHERE slug = ?`, c.Slug).Scan(&other)
		switch {
		case err == nil:
			return fmt.Errorf("slug %s is taken by collection “%s”: %w", c.Slug, other, evidence.ErrConflict)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO collections (`+collectionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Slug, c.Name, c.Description, c.Owner, c.Visibility, c.Version, fmtTime(c.Created), fmtTime(c.Updated), c.UpdatedBy); err != nil {
			return err
		}
		if err := s.writeContents(ctx, tx, &c, nil, c.UpdatedBy); err != nil {
			return err
		}
		if err := addHistory(ctx, tx, c.ID, evidence.CollectionChange{Version: 1, At: now, By: c.UpdatedBy,
			Action: "create", Detail: "created “" + c.Name + "”"}); err != nil {
			return err
		}
		out, err = loadCollection(ctx, tx, c.Slug)
		return err
	})
	if err != nil {
		return evidence.Collection{}, fmt.Errorf("store: create collection %s: %w", c.Slug, err)
	}
	return out, nil
}

// EditCollection changes a collection in one transaction: it reads the
// stored collection (entries' items filled), refuses the edit with an
// *evidence.StaleError carrying the current state when wantVersion > 0
// and differs from the stored version, lets edit change it, and writes
// the result with the positions rewritten (1, 2, … in the order given),
// the version counted up, Updated and UpdatedBy set, and a history row
// (edit's action and detail). An edit that returns an error, or an empty
// action, writes nothing. The slug, ID, owner and creation time cannot be
// changed; new sections (empty ID) get an ID, new entries their Added
// time and AddedBy (by) when unset.
//
// wantVersion <= 0 applies the edit to whatever version is stored (the
// CLI's one-shot commands, which read and change in the same step).
func (s *Store) EditCollection(ctx context.Context, slug string, wantVersion int, by string, edit CollectionEditFunc) (evidence.Collection, error) {
	var out evidence.Collection
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		cur, err := loadCollection(ctx, tx, slug)
		if err != nil {
			return err
		}
		if wantVersion > 0 && cur.Version != wantVersion {
			return &evidence.StaleError{Current: cur}
		}
		c := cloneCollection(cur)
		action, detail, err := edit(&c)
		if err != nil {
			return err
		}
		if action == "" {
			out = cur
			return nil
		}
		c.ID, c.Slug, c.Owner, c.Created = cur.ID, cur.Slug, cur.Owner, cur.Created
		if err := checkCollection(&c); err != nil {
			return err
		}
		c.Version = cur.Version + 1
		c.Updated = s.now().UTC()
		c.UpdatedBy = by
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET name = ?, description = ?, visibility = ?, version = ?,
			updated = ?, updated_by = ? WHERE id = ?`,
			c.Name, c.Description, c.Visibility, c.Version, fmtTime(c.Updated), c.UpdatedBy, c.ID); err != nil {
			return err
		}
		if err := s.writeContents(ctx, tx, &c, &cur, by); err != nil {
			return err
		}
		if err := addHistory(ctx, tx, c.ID, evidence.CollectionChange{Version: c.Version, At: c.Updated, By: by,
			Action: action, Detail: detail}); err != nil {
			return err
		}
		out, err = loadCollection(ctx, tx, slug)
		return err
	})
	if err != nil {
		var stale *evidence.StaleError
		if errors.As(err, &stale) {
			// The StaleError's own message says which versions differ.
			return evidence.Collection{}, err
		}
		return evidence.Collection{}, fmt.Errorf("store: edit collection %s: %w", slug, err)
	}
	return out, nil
}

// DeleteCollection deletes a collection with its sections, entries and
// history (the items stay). With wantVersion > 0 a collection changed
// since (another version) is refused with *evidence.StaleError.
func (s *Store) DeleteCollection(ctx context.Context, slug string, wantVersion int, by string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		cur, err := loadCollection(ctx, tx, slug)
		if err != nil {
			return err
		}
		if wantVersion > 0 && cur.Version != wantVersion {
			return &evidence.StaleError{Current: cur}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM collections WHERE id = ?`, cur.ID)
		return err
	})
	if err != nil {
		var stale *evidence.StaleError
		if errors.As(err, &stale) {
			return err
		}
		return fmt.Errorf("store: delete collection %s: %w", slug, err)
	}
	s.log.Info("store: collection deleted", "slug", slug, "by", by)
	return nil
}

// CollectionHistory lists a collection's changes, newest first.
func (s *Store) CollectionHistory(ctx context.Context, slug string) ([]evidence.CollectionChange, error) {
	var out []evidence.CollectionChange
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		var id string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM collections WHERE slug = ?`, slug).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return evidence.ErrNotFound
			}
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT version, at, by, action, detail FROM collection_history
			WHERE collection_id = ? ORDER BY version DESC`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ch evidence.CollectionChange
			var at string
			if err := rows.Scan(&ch.Version, &at, &ch.By, &ch.Action, &ch.Detail); err != nil {
				return err
			}
			if ch.At, err = parseTime(at); err != nil {
				return fmt.Errorf("history version %d: %w", ch.Version, err)
			}
			out = append(out, ch)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: collection %s history: %w", slug, err)
	}
	return out, nil
}

// ItemByDOI returns the item with that DOI (any case; "10.…", "doi:10.…"
// or a doi.org link), the first stored when several share it. The error
// wraps evidence.ErrNotFound when there is none.
func (s *Store) ItemByDOI(ctx context.Context, doi string) (evidence.Item, error) {
	bare := BareDOI(doi)
	if bare == "" {
		return evidence.Item{}, fmt.Errorf("store: item with DOI %q: not a DOI: %w", doi, evidence.ErrInvalid)
	}
	var items []evidence.Item
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		items, err = queryItems(ctx, tx, `SELECT `+itemCols+` FROM items WHERE doi = ? COLLATE NOCASE
			ORDER BY first_seen, id LIMIT 1`, bare)
		return err
	})
	if err != nil {
		return evidence.Item{}, fmt.Errorf("store: item with DOI %s: %w", bare, err)
	}
	if len(items) == 0 {
		return evidence.Item{}, fmt.Errorf("store: item with DOI %s: %w", bare, evidence.ErrNotFound)
	}
	return items[0], nil
}

// BareDOI returns a DOI as "10.…/…" without a "doi:" prefix or a doi.org
// resolver in front, or "" when s is not one.
func BareDOI(s string) string {
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	for _, p := range []string{"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"} {
		if strings.HasPrefix(low, p) {
			s = strings.TrimSpace(s[len(p):])
			break
		}
	}
	if !strings.HasPrefix(s, "10.") || !strings.Contains(s, "/") || strings.ContainsAny(s, " \t\r\n") {
		return ""
	}
	return s
}

// checkCollection checks what the rows need: a name, a known visibility,
// sections with distinct names and an item at most once. A duplicate item
// is evidence.ErrConflict naming the section it is already in.
func checkCollection(c *evidence.Collection) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return fmt.Errorf("name: empty: %w", evidence.ErrInvalid)
	}
	if c.Visibility == "" {
		c.Visibility = evidence.VisibilityPrivate
	}
	if c.Visibility != evidence.VisibilityPublic && c.Visibility != evidence.VisibilityPrivate {
		return fmt.Errorf("visibility %q: want public or private: %w", c.Visibility, evidence.ErrInvalid)
	}
	names := map[string]bool{}
	where := map[string]string{}
	for i := range c.Sections {
		sec := &c.Sections[i]
		sec.Name = strings.TrimSpace(sec.Name)
		if sec.Name == "" {
			return fmt.Errorf("section %d: no name: %w", i+1, evidence.ErrInvalid)
		}
		key := strings.ToLower(sec.Name)
		if names[key] {
			return fmt.Errorf("section “%s”: a section of that name already exists: %w", sec.Name, evidence.ErrConflict)
		}
		names[key] = true
		for _, e := range sec.Entries {
			if e.ItemID == "" {
				return fmt.Errorf("section “%s”: an entry without an item: %w", sec.Name, evidence.ErrInvalid)
			}
			if prev, dup := where[e.ItemID]; dup {
				return fmt.Errorf("item %s is already in “%s”: %w", e.ItemID, prev, evidence.ErrConflict)
			}
			where[e.ItemID] = sec.Name
		}
	}
	return nil
}

// writeContents writes c's sections and entries: sections gone from c
// (cur's that c no longer has) are deleted, the rest written with their
// positions; the entries are written afresh in order.
func (s *Store) writeContents(ctx context.Context, tx *sql.Tx, c, cur *evidence.Collection, by string) error {
	known := map[string]bool{}
	if cur != nil {
		for _, sec := range cur.Sections {
			known[sec.ID] = true
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM collection_entries WHERE collection_id = ?`, c.ID); err != nil {
		return err
	}
	keep := map[string]bool{}
	for i := range c.Sections {
		sec := &c.Sections[i]
		switch {
		case sec.ID == "":
			id, err := newRowID("s")
			if err != nil {
				return err
			}
			sec.ID = id
		case !known[sec.ID]:
			return fmt.Errorf("section %q is not one of this collection's: %w", sec.ID, evidence.ErrInvalid)
		}
		keep[sec.ID] = true
	}
	for id := range known {
		if !keep[id] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM collection_sections WHERE id = ?`, id); err != nil {
				return err
			}
		}
	}
	now := s.now().UTC()
	for i, sec := range c.Sections {
		if _, err := tx.ExecContext(ctx, `INSERT INTO collection_sections (id, collection_id, name, intro, position)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, intro = excluded.intro, position = excluded.position`,
			sec.ID, c.ID, sec.Name, sec.Intro, i+1); err != nil {
			return err
		}
		for j := range sec.Entries {
			e := &sec.Entries[j]
			if e.Added.IsZero() {
				e.Added = now
			}
			if e.AddedBy == "" {
				e.AddedBy = by
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO collection_entries (collection_id, section_id, item_id, position, note, added, added_by)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, c.ID, sec.ID, e.ItemID, j+1, e.Note, fmtTime(e.Added), e.AddedBy); err != nil {
				return err
			}
		}
	}
	return nil
}

func addHistory(ctx context.Context, tx *sql.Tx, collectionID string, ch evidence.CollectionChange) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO collection_history (collection_id, version, at, by, action, detail)
		VALUES (?, ?, ?, ?, ?, ?)`, collectionID, ch.Version, fmtTime(ch.At), ch.By, ch.Action, ch.Detail)
	return err
}

// loadCollection reads one collection by slug with its contents.
func loadCollection(ctx context.Context, q querier, slug string) (evidence.Collection, error) {
	c, err := scanCollection(q.QueryRowContext(ctx, `SELECT `+collectionCols+` FROM collections WHERE slug = ?`, slug))
	if err != nil {
		return c, err
	}
	if err := fillCollection(ctx, q, &c); err != nil {
		return c, err
	}
	return c, nil
}

// fillCollection reads a collection's sections and entries in order and
// the entries' items (without their bodies).
func fillCollection(ctx context.Context, q querier, c *evidence.Collection) error {
	rows, err := q.QueryContext(ctx, `SELECT id, name, intro FROM collection_sections WHERE collection_id = ? ORDER BY position, id`, c.ID)
	if err != nil {
		return err
	}
	c.Sections = []evidence.Section{}
	at := map[string]int{}
	for rows.Next() {
		sec := evidence.Section{Entries: []evidence.Entry{}}
		if err := rows.Scan(&sec.ID, &sec.Name, &sec.Intro); err != nil {
			rows.Close()
			return err
		}
		at[sec.ID] = len(c.Sections)
		c.Sections = append(c.Sections, sec)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()

	rows, err = q.QueryContext(ctx, `SELECT section_id, item_id, note, added, added_by FROM collection_entries
		WHERE collection_id = ? ORDER BY section_id, position, item_id`, c.ID)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var e evidence.Entry
		var secID, added string
		if err := rows.Scan(&secID, &e.ItemID, &e.Note, &added, &e.AddedBy); err != nil {
			rows.Close()
			return err
		}
		if e.Added, err = parseTime(added); err != nil {
			rows.Close()
			return fmt.Errorf("entry %s: added: %w", e.ItemID, err)
		}
		i, ok := at[secID]
		if !ok {
			rows.Close()
			return fmt.Errorf("entry %s: section %s is not the collection's", e.ItemID, secID)
		}
		c.Sections[i].Entries = append(c.Sections[i].Entries, e)
		ids = append(ids, e.ItemID)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()

	byID := make(map[string]*evidence.Item, len(ids))
	for start := 0; start < len(ids); start += maxIn {
		chunk := ids[start:min(start+maxIn, len(ids))]
		items, err := queryItems(ctx, q, `SELECT `+itemCols+` FROM items WHERE id IN (`+placeholders(len(chunk))+`)`, anys(chunk)...)
		if err != nil {
			return err
		}
		for i := range items {
			it := items[i]
			it.Body, it.Links = "", nil
			byID[it.ID] = &it
		}
	}
	for i := range c.Sections {
		for j := range c.Sections[i].Entries {
			e := &c.Sections[i].Entries[j]
			e.Item = byID[e.ItemID]
		}
	}
	return nil
}

func scanCollection(sc interface{ Scan(...any) error }) (evidence.Collection, error) {
	var c evidence.Collection
	var created, updated string
	err := sc.Scan(&c.ID, &c.Slug, &c.Name, &c.Description, &c.Owner, &c.Visibility, &c.Version, &created, &updated, &c.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return c, evidence.ErrNotFound
	}
	if err != nil {
		return c, err
	}
	if c.Created, err = parseTime(created); err != nil {
		return c, fmt.Errorf("collection %s: created: %w", c.Slug, err)
	}
	if c.Updated, err = parseTime(updated); err != nil {
		return c, fmt.Errorf("collection %s: updated: %w", c.Slug, err)
	}
	return c, nil
}

// cloneCollection copies the sections and entries, so an edit that fails
// half-way leaves the original as read.
func cloneCollection(c evidence.Collection) evidence.Collection {
	out := c
	out.Sections = make([]evidence.Section, len(c.Sections))
	for i, sec := range c.Sections {
		sec.Entries = append([]evidence.Entry(nil), sec.Entries...)
		out.Sections[i] = sec
	}
	return out
}
