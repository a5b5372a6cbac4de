package ingest

import (
	"context"
	"fmt"

	"github.com/evidencetracker/evidence"
)

// Outbox is the store's record of which items the index has yet to see,
// and where the topics the index tags them with are kept.
type Outbox interface {
	// PendingIndex returns items with their own topics only (not the
	// stored tags), for the tagger.
	PendingIndex(ctx context.Context, limit int) ([]evidence.Item, error)
	MarkIndexed(ctx context.Context, hashes map[string]string) error
	// SetTopics replaces the stored topics of each item id.
	SetTopics(ctx context.Context, tags map[string][]evidence.TopicTag) error
}

// Indexer is what syncing needs from the index.
type Indexer interface {
	// Tag returns each item's topics, strongest first, as Index will
	// index them.
	Tag(ctx context.Context, items []evidence.Item) ([][]evidence.TopicTag, error)
	Index(ctx context.Context, items []evidence.Item) error
}

// SyncIndex brings the index up to date with the store: for each batch of
// pending items it tags them, stores their topics, indexes them and
// records them as indexed only after the index has them. Store and index
// therefore hold the same topics. A crash at any point leaves the items
// pending, so the next sync (every command that opens the index runs one)
// tags them again and repairs the index; after a taxonomy change a full
// rebuild (evidence reindex) re-tags store and index alike. progress, if
// not nil, is called with the running count.
func SyncIndex(ctx context.Context, st Outbox, ix Indexer, batch int, progress func(done int)) (int, error) {
	if batch < 1 {
		batch = 1000
	}
	done := 0
	indexed := map[string]string{}
	for {
		if err := ctx.Err(); err != nil {
			return done, fmt.Errorf("sync index: %w", err)
		}
		items, err := st.PendingIndex(ctx, batch)
		if err != nil {
			return done, fmt.Errorf("sync index: list pending: %w", err)
		}
		if len(items) == 0 {
			return done, nil
		}
		hashes := make(map[string]string, len(items))
		for _, it := range items {
			if h, ok := indexed[it.ID]; ok && h == it.ContentHash {
				return done, fmt.Errorf("sync index: item %s stays pending after indexing (store did not record it)", it.ID)
			}
			hashes[it.ID] = it.ContentHash
		}
		tags, err := ix.Tag(ctx, items)
		if err != nil {
			return done, fmt.Errorf("sync index: %w", err)
		}
		if len(tags) != len(items) {
			return done, fmt.Errorf("sync index: tagger answered for %d of %d items", len(tags), len(items))
		}
		byID := make(map[string][]evidence.TopicTag, len(items))
		for i := range items {
			byID[items[i].ID] = tags[i]
		}
		if err := st.SetTopics(ctx, byID); err != nil {
			return done, fmt.Errorf("sync index: store topics: %w", err)
		}
		if err := ix.Index(ctx, items); err != nil {
			return done, fmt.Errorf("sync index: %w", err)
		}
		if err := st.MarkIndexed(ctx, hashes); err != nil {
			return done, fmt.Errorf("sync index: mark indexed: %w", err)
		}
		for id, h := range hashes {
			indexed[id] = h
		}
		done += len(items)
		if progress != nil {
			progress(done)
		}
	}
}
