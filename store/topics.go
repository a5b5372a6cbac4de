package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/evidencetracker/evidence"
)

// Topics: item_topics holds, per item, the topics the index's tagger found
// when the item was last synced to the index (ingest.SyncIndex tags, calls
// SetTopics, then indexes), each with its strength. Readers (Item,
// ItemByURL, ItemsByIDs, EachItem) order an item's Topics by strength,
// strongest first, and fill TopicTags.

// SetTopics replaces the stored topics of each item in tags (item id →
// tags) in one transaction. An empty list removes an item's topics; ids
// with no stored item are skipped. A tag with no name, a repeated name or
// a strength that is not a finite number is an error wrapping
// evidence.ErrInvalid, and nothing is written.
func (s *Store) SetTopics(ctx context.Context, tags map[string][]evidence.TopicTag) error {
	if len(tags) == 0 {
		return nil
	}
	ids := make([]string, 0, len(tags))
	for id, ts := range tags {
		seen := map[string]bool{}
		for _, t := range ts {
			switch {
			case t.Name == "":
				return fmt.Errorf("store: set topics of %q: empty topic name: %w", id, evidence.ErrInvalid)
			case seen[t.Name]:
				return fmt.Errorf("store: set topics of %q: topic %q twice: %w", id, t.Name, evidence.ErrInvalid)
			case math.IsNaN(t.Strength) || math.IsInf(t.Strength, 0):
				return fmt.Errorf("store: set topics of %q: topic %q: strength %v: %w", id, t.Name, t.Strength, evidence.ErrInvalid)
			}
			seen[t.Name] = true
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		del, err := tx.PrepareContext(ctx, `DELETE FROM item_topics WHERE item_id = ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO item_topics (item_id, topic, strength, field, hits)
			SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM items WHERE id = ?1)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, id := range ids {
			if _, err := del.ExecContext(ctx, id); err != nil {
				return fmt.Errorf("item %q: %w", id, err)
			}
			for _, t := range tags[id] {
				if _, err := ins.ExecContext(ctx, id, t.Name, t.Strength, t.Where, t.Hits); err != nil {
					return fmt.Errorf("item %q: topic %q: %w", id, t.Name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set topics of %d item(s): %w", len(tags), err)
	}
	return nil
}

// ItemTopics returns the stored topics of the item id, strongest first
// (ties by name); empty if it has none or there is no such item.
func (s *Store) ItemTopics(ctx context.Context, id string) ([]evidence.TopicTag, error) {
	items := []evidence.Item{{ID: id}}
	if err := fillTopics(ctx, s.rdb, items); err != nil {
		return nil, fmt.Errorf("store: topics of %q: %w", id, err)
	}
	return items[0].TopicTags, nil
}

// TopicCounts returns, for each stored topic, the number of items tagged
// with it; with primary, only the items whose primary (strongest) topic it
// is.
func (s *Store) TopicCounts(ctx context.Context, primary bool) (map[string]int, error) {
	q := `SELECT topic, COUNT(*) FROM item_topics GROUP BY topic`
	if primary {
		// The primary topic is the first in the readers' order: strength
		// descending, then name.
		q = `SELECT topic, COUNT(*) FROM item_topics t WHERE NOT EXISTS (
			SELECT 1 FROM item_topics o WHERE o.item_id = t.item_id
			AND (o.strength > t.strength OR (o.strength = t.strength AND o.topic < t.topic)))
			GROUP BY topic`
	}
	rows, err := s.rdb.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: topic counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			name string
			n    int
		)
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("store: topic counts: %w", err)
		}
		out[name] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: topic counts: %w", err)
	}
	return out, nil
}

// fillTopics sets TopicTags on items from item_topics, strongest first,
// and makes Topics those names followed by the item's own topics not among
// them.
func fillTopics(ctx context.Context, q querier, items []evidence.Item) error {
	if len(items) == 0 {
		return nil
	}
	idx, ids := indexByID(items)
	for i := range items {
		items[i].TopicTags = []evidence.TopicTag{}
	}
	for start := 0; start < len(ids); start += maxIn {
		chunk := ids[start:min(start+maxIn, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT item_id, topic, strength, field, hits FROM item_topics
			WHERE item_id IN (`+placeholders(len(chunk))+`) ORDER BY item_id, strength DESC, topic`, anys(chunk)...)
		if err != nil {
			return fmt.Errorf("topics: %w", err)
		}
		for rows.Next() {
			var (
				id string
				t  evidence.TopicTag
			)
			if err := rows.Scan(&id, &t.Name, &t.Strength, &t.Where, &t.Hits); err != nil {
				rows.Close()
				return fmt.Errorf("topics: %w", err)
			}
			for _, i := range idx[id] {
				items[i].TopicTags = append(items[i].TopicTags, t)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("topics: %w", err)
		}
	}
	for i := range items {
		it := &items[i]
		names := make([]string, 0, len(it.TopicTags)+len(it.Topics))
		have := map[string]bool{}
		for _, t := range it.TopicTags {
			names = append(names, t.Name)
			have[t.Name] = true
		}
		for _, t := range it.Topics {
			if k := strings.ToLower(strings.TrimSpace(t)); !have[k] {
				names = append(names, t)
				have[k] = true
			}
		}
		it.Topics = names
	}
	return nil
}
