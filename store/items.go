package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// errUnchanged makes withTx roll back when, under the write lock, the item
// turns out to be unchanged after all.
var errUnchanged = errors.New("unchanged")

// maxIn caps the number of ? in one IN list.
const maxIn = 500

// itemCols are the columns scanItem reads, in order.
const itemCols = `id, url, source, type, title, summary, body, published, updated, first_seen,
	authors, topics, categories, pdf_urls, announced_by, cites, links, provenance, doi, content_hash`

// storedItem is what UpsertItem needs to know about the row already stored.
type storedItem struct {
	id          string
	firstSeen   time.Time
	hash        string
	announcedBy []string
}

func loadStored(ctx context.Context, q querier, url string) (storedItem, bool, error) {
	var (
		st        storedItem
		firstSeen string
		announced string
	)
	err := q.QueryRowContext(ctx, `SELECT id, first_seen, content_hash, announced_by FROM items WHERE url = ?`, url).
		Scan(&st.id, &firstSeen, &st.hash, &announced)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if st.firstSeen, err = parseTime(firstSeen); err != nil {
		return st, false, fmt.Errorf("first_seen: %w", err)
	}
	if err := json.Unmarshal([]byte(announced), &st.announcedBy); err != nil {
		return st, false, fmt.Errorf("announced_by: %w", err)
	}
	return st, true, nil
}

// canonicalFor returns the URL an item saved under u is stored at: u itself
// when an item has that URL, else the target of an alias u, else u. known
// reports whether u was found at all (as an item's URL or as an alias).
func canonicalFor(ctx context.Context, q querier, u string) (canon string, known bool, err error) {
	err = q.QueryRowContext(ctx, `
		SELECT url FROM items WHERE url = ?1
		UNION ALL
		SELECT url FROM aliases WHERE alias = ?1
		LIMIT 1`, u).Scan(&canon)
	if errors.Is(err, sql.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return "", false, err
	}
	return canon, true, nil
}

// UpsertItem saves it, keyed by its canonical URL (it.URL, or the item an
// alias it.URL points to; it.URL is then rewritten to the canonical URL).
//
// The content hash is computed when it.ContentHash is empty. If the stored
// item has the same hash nothing at all is written and Unchanged is
// returned. Otherwise the item is created (ID = it.ID or evidence.NewID,
// FirstSeen = it.FirstSeen or now, AnnouncedBy defaulting to [Source]) or
// updated (ID and FirstSeen kept, AnnouncedBy merged, everything else
// overwritten); either way it stays pending for the index. The outbound
// links are replaced and resolved to items, and links from other items to
// this one are resolved. it.ID, it.FirstSeen and it.AnnouncedBy are set
// from what is stored.
func (s *Store) UpsertItem(ctx context.Context, it *evidence.Item) (evidence.UpsertResult, error) {
	if it == nil {
		return evidence.Unchanged, fmt.Errorf("store: save item: nil item: %w", evidence.ErrInvalid)
	}
	if strings.TrimSpace(it.URL) == "" {
		return evidence.Unchanged, fmt.Errorf("store: save item %q: url is required: %w", it.Title, evidence.ErrInvalid)
	}
	origURL := it.URL

	// Fast path on a reader: an unchanged item costs no write lock at all.
	canon, _, err := canonicalFor(ctx, s.rdb, it.URL)
	if err != nil {
		return evidence.Unchanged, fmt.Errorf("store: save item %q: %w", origURL, err)
	}
	s.setURL(it, canon)
	cur, found, err := loadStored(ctx, s.rdb, it.URL)
	if err != nil {
		return evidence.Unchanged, fmt.Errorf("store: save item %q: %w", origURL, err)
	}
	if found && cur.hash == it.ContentHash {
		it.ID, it.FirstSeen = cur.id, cur.firstSeen
		return evidence.Unchanged, nil
	}

	var u upserted
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = s.upsertTx(ctx, tx, it); err != nil {
			return err
		}
		if u.res == evidence.Unchanged {
			return errUnchanged // roll back: nothing was written
		}
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return evidence.Unchanged, fmt.Errorf("store: save item %q: %w", origURL, err)
	}
	u.apply(it)
	s.log.Debug("store: saved item", "id", u.id, "url", it.URL, "result", u.res.String())
	return u.res, nil
}

// upserted is what upsertTx did.
type upserted struct {
	res       evidence.UpsertResult
	id        string
	firstSeen time.Time
	announced []string
}

// apply sets it's ID, FirstSeen and (when written) AnnouncedBy from u.
func (u upserted) apply(it *evidence.Item) {
	it.ID, it.FirstSeen = u.id, u.firstSeen.UTC()
	if u.res != evidence.Unchanged {
		it.AnnouncedBy = u.announced
	}
}

// upsertTx is UpsertItem's work under the write lock: it moves it to its
// canonical URL and creates, rewrites or (same hash) leaves the row alone.
func (s *Store) upsertTx(ctx context.Context, tx *sql.Tx, it *evidence.Item) (upserted, error) {
	var u upserted
	canon, _, err := canonicalFor(ctx, tx, it.URL)
	if err != nil {
		return u, err
	}
	s.setURL(it, canon)
	cur, found, err := loadStored(ctx, tx, it.URL)
	if err != nil {
		return u, err
	}
	now := s.now()
	switch {
	case found && cur.hash == it.ContentHash:
		u.res, u.id, u.firstSeen = evidence.Unchanged, cur.id, cur.firstSeen
		return u, nil
	case found:
		u.res, u.id, u.firstSeen = evidence.Updated, cur.id, cur.firstSeen
		u.announced = mergeStrings(cur.announcedBy, incomingAnnouncers(it))
		if err := writeItem(ctx, tx, it, u.id, u.firstSeen, u.announced, now, true); err != nil {
			return u, err
		}
	default:
		u.res, u.id = evidence.Created, it.ID
		if u.id == "" {
			u.id = evidence.NewID(it.URL)
		}
		var other string
		err := tx.QueryRowContext(ctx, `SELECT url FROM items WHERE id = ?`, u.id).Scan(&other)
		if err == nil {
			return u, fmt.Errorf("id %q already belongs to %q: %w", u.id, other, evidence.ErrConflict)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return u, err
		}
		u.firstSeen = it.FirstSeen
		if u.firstSeen.IsZero() {
			u.firstSeen = now
		}
		u.announced = mergeStrings(nil, incomingAnnouncers(it))
		if err := writeItem(ctx, tx, it, u.id, u.firstSeen, u.announced, now, false); err != nil {
			return u, err
		}
	}
	if err := replacePDFs(ctx, tx, u.id, it.PDFURLs); err != nil {
		return u, err
	}
	if err := replaceLinks(ctx, tx, u.id, it.Links); err != nil {
		return u, err
	}
	return u, resolveInbound(ctx, tx, u.id, it.URL)
}

// setURL moves it to canonical URL u, recomputing the hash when the URL
// changed (the hash covers the URL); an empty hash is always computed.
func (s *Store) setURL(it *evidence.Item, u string) {
	if u != it.URL {
		it.URL = u
		it.ContentHash = ""
	}
	if it.ContentHash == "" {
		it.ContentHash = evidence.ComputeHash(it)
	}
}

func incomingAnnouncers(it *evidence.Item) []string {
	if len(it.AnnouncedBy) > 0 {
		return it.AnnouncedBy
	}
	if it.Source != "" {
		return []string{it.Source}
	}
	return nil
}

// mergeStrings returns a followed by the members of b not in a, without
// duplicates or empty strings. The result is never nil.
func mergeStrings(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	seen := make(map[string]bool, len(a)+len(b))
	for _, list := range [][]string{a, b} {
		for _, v := range list {
			if v == "" || seen[v] {
				continue
			}
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func writeItem(ctx context.Context, tx *sql.Tx, it *evidence.Item, id string, firstSeen time.Time,
	announced []string, now time.Time, update bool) error {
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil { // cannot happen for these types
			panic(err)
		}
		return string(b)
	}
	args := []any{
		it.URL, it.Source, it.Type, it.Title, it.Summary, it.Body,
		nullTimePtr(it.Published), nullTimePtr(it.Updated),
		js(nonNil(it.Authors)), js(nonNil(it.Topics)), js(nonNil(it.Categories)), js(nonNil(it.PDFURLs)),
		js(nonNil(announced)), js(nonNilCites(it.Cites)), js(nonNil(it.Links)), js(nonNilMap(it.Provenance)),
		nullString(it.DOI), evidence.TitleKey(it.Title), it.ContentHash, fmtTime(now), id,
	}
	var q string
	if update {
		q = `UPDATE items SET url = ?, source = ?, type = ?, title = ?, summary = ?, body = ?,
			published = ?, updated = ?, authors = ?, topics = ?, categories = ?, pdf_urls = ?,
			announced_by = ?, cites = ?, links = ?, provenance = ?, doi = ?, title_key = ?,
			content_hash = ?, updated_at = ?
			WHERE id = ?`
	} else {
		q = `INSERT INTO items (url, source, type, title, summary, body, published, updated, authors,
			topics, categories, pdf_urls, announced_by, cites, links, provenance, doi, title_key,
			content_hash, updated_at, id, first_seen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
		args = append(args, fmtTime(firstSeen))
	}
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

// nullString stores an empty (or all-space) string as NULL.
func nullString(s string) any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilCites(c []evidence.Cite) []evidence.Cite {
	if c == nil {
		return []evidence.Cite{}
	}
	return c
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Item returns the full item with the given id (body, provenance,
// relations). The error wraps evidence.ErrNotFound when there is none.
func (s *Store) Item(ctx context.Context, id string) (evidence.Item, error) {
	var items []evidence.Item
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		var err error
		items, err = queryItems(ctx, tx, `SELECT `+itemCols+` FROM items WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return evidence.Item{}, fmt.Errorf("store: item %q: %w", id, err)
	}
	if len(items) == 0 {
		return evidence.Item{}, fmt.Errorf("store: item %q: %w", id, evidence.ErrNotFound)
	}
	return items[0], nil
}

// ItemByURL returns the item whose canonical URL is url or which url is a
// recorded alias of. The error wraps evidence.ErrNotFound when there is none.
func (s *Store) ItemByURL(ctx context.Context, url string) (evidence.Item, error) {
	var items []evidence.Item
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		canon, _, err := canonicalFor(ctx, tx, url)
		if err != nil {
			return err
		}
		items, err = queryItems(ctx, tx, `SELECT `+itemCols+` FROM items WHERE url = ?`, canon)
		return err
	})
	if err != nil {
		return evidence.Item{}, fmt.Errorf("store: item at %q: %w", url, err)
	}
	if len(items) == 0 {
		return evidence.Item{}, fmt.Errorf("store: item at %q: %w", url, evidence.ErrNotFound)
	}
	return items[0], nil
}

// ItemsByIDs returns the items with the given ids, in the order given;
// unknown ids are skipped.
func (s *Store) ItemsByIDs(ctx context.Context, ids []string) ([]evidence.Item, error) {
	byID := make(map[string]evidence.Item, len(ids))
	err := s.withReadTx(ctx, func(tx *sql.Tx) error {
		uniq := mergeStrings(nil, ids)
		for start := 0; start < len(uniq); start += maxIn {
			chunk := uniq[start:min(start+maxIn, len(uniq))]
			items, err := queryItems(ctx, tx,
				`SELECT `+itemCols+` FROM items WHERE id IN (`+placeholders(len(chunk))+`)`, anys(chunk)...)
			if err != nil {
				return err
			}
			for _, it := range items {
				byID[it.ID] = it
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: items by id (%d ids): %w", len(ids), err)
	}
	out := make([]evidence.Item, 0, len(byID))
	for _, id := range ids {
		if it, ok := byID[id]; ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// EachItem calls fn for every item, ordered by id, loading them a page at a
// time (no cursor stays open while fn runs, so fn may use the Store). An
// error from fn stops the walk and is returned as is.
func (s *Store) EachItem(ctx context.Context, fn func(evidence.Item) error) error {
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: each item: %w", err)
		}
		var page []evidence.Item
		err := s.withReadTx(ctx, func(tx *sql.Tx) error {
			var err error
			page, err = queryItems(ctx, tx,
				`SELECT `+itemCols+` FROM items WHERE id > ? ORDER BY id LIMIT ?`, after, maxIn)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: each item after %q: %w", after, err)
		}
		for _, it := range page {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(page) < maxIn {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// CountItems returns the number of stored items.
func (s *Store) CountItems(ctx context.Context) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM items`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count items: %w", err)
	}
	return n, nil
}

// queryItems runs a SELECT of itemCols and fills in the relations and the
// stored topics (fillTopics).
func queryItems(ctx context.Context, q querier, query string, args ...any) ([]evidence.Item, error) {
	items, err := queryOwnItems(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	if err := fillTopics(ctx, q, items); err != nil {
		return nil, err
	}
	return items, nil
}

// queryOwnItems is queryItems with each item's Topics its own (the topics
// column) and no TopicTags: what the tagger starts from.
func queryOwnItems(ctx context.Context, q querier, query string, args ...any) ([]evidence.Item, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []evidence.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if err := fillRelations(ctx, q, items); err != nil {
		return nil, err
	}
	return items, nil
}

func scanItem(sc interface{ Scan(...any) error }) (evidence.Item, error) {
	var (
		it                                                                     evidence.Item
		published, updated, doi                                                sql.NullString
		firstSeen                                                              string
		authors, topics, categories, pdfs, announced, cites, links, provenance string
	)
	if err := sc.Scan(&it.ID, &it.URL, &it.Source, &it.Type, &it.Title, &it.Summary, &it.Body,
		&published, &updated, &firstSeen, &authors, &topics, &categories, &pdfs, &announced,
		&cites, &links, &provenance, &doi, &it.ContentHash); err != nil {
		return it, err
	}
	it.DOI = doi.String
	var err error
	if it.Published, err = parseNullTime(published); err != nil {
		return it, fmt.Errorf("item %q: published: %w", it.ID, err)
	}
	if it.Updated, err = parseNullTime(updated); err != nil {
		return it, fmt.Errorf("item %q: updated: %w", it.ID, err)
	}
	if it.FirstSeen, err = parseTime(firstSeen); err != nil {
		return it, fmt.Errorf("item %q: first_seen: %w", it.ID, err)
	}
	for _, f := range []struct {
		name string
		src  string
		dst  any
	}{
		{"authors", authors, &it.Authors},
		{"topics", topics, &it.Topics},
		{"categories", categories, &it.Categories},
		{"pdf_urls", pdfs, &it.PDFURLs},
		{"announced_by", announced, &it.AnnouncedBy},
		{"cites", cites, &it.Cites},
		{"links", links, &it.Links},
		{"provenance", provenance, &it.Provenance},
	} {
		if f.src == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return it, fmt.Errorf("item %q: %s: %w", it.ID, f.name, err)
		}
	}
	it.Authors, it.Topics, it.Categories = nonNil(it.Authors), nonNil(it.Topics), nonNil(it.Categories)
	it.PDFURLs, it.AnnouncedBy, it.Links = nonNil(it.PDFURLs), nonNil(it.AnnouncedBy), nonNil(it.Links)
	it.Cites, it.Provenance = nonNilCites(it.Cites), nonNilMap(it.Provenance)
	it.Discusses, it.DiscussedBy = []string{}, []string{}
	return it, nil
}

// indexByID maps each item ID to its positions in items and lists the
// distinct IDs in order, for filling items in batches of IDs.
func indexByID(items []evidence.Item) (map[string][]int, []string) {
	idx := make(map[string][]int, len(items))
	ids := make([]string, 0, len(items))
	for i := range items {
		if _, ok := idx[items[i].ID]; !ok {
			ids = append(ids, items[i].ID)
		}
		idx[items[i].ID] = append(idx[items[i].ID], i)
	}
	return idx, ids
}

// fillRelations sets Discusses and DiscussedBy on items (sorted, distinct).
func fillRelations(ctx context.Context, q querier, items []evidence.Item) error {
	if len(items) == 0 {
		return nil
	}
	idx, ids := indexByID(items)
	for start := 0; start < len(ids); start += maxIn {
		chunk := ids[start:min(start+maxIn, len(ids))]
		in := placeholders(len(chunk))
		for _, rel := range []struct {
			query string
			add   func(it *evidence.Item, other string)
		}{
			{`SELECT DISTINCT from_id, to_id FROM item_links WHERE from_id IN (` + in + `) AND to_id IS NOT NULL`,
				func(it *evidence.Item, o string) { it.Discusses = append(it.Discusses, o) }},
			{`SELECT DISTINCT to_id, from_id FROM item_links WHERE to_id IN (` + in + `)`,
				func(it *evidence.Item, o string) { it.DiscussedBy = append(it.DiscussedBy, o) }},
		} {
			rows, err := q.QueryContext(ctx, rel.query, anys(chunk)...)
			if err != nil {
				return fmt.Errorf("relations: %w", err)
			}
			for rows.Next() {
				var self, other string
				if err := rows.Scan(&self, &other); err != nil {
					rows.Close()
					return fmt.Errorf("relations: %w", err)
				}
				for _, i := range idx[self] {
					rel.add(&items[i], other)
				}
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return fmt.Errorf("relations: %w", err)
			}
		}
	}
	for i := range items {
		sort.Strings(items[i].Discusses)
		sort.Strings(items[i].DiscussedBy)
	}
	return nil
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
