package ingest

import (
	"context"
	"fmt"

	"github.com/evidencetracker/evidence"
)

// Outbox is the store's record of which items the index has yet to see.
type Outbox interface {
	PendingIndex(ctx context.Context, limit int) ([]evidence.Item, error)
	MarkIndexed(ctx context.Context, hashes map[string]string) error
}

// Indexer is what syncing needs from the index.
type Indexer interface {
	Index(ctx context.Context, items []evidence.Item) error
}

// SyncIndex brings the index up to date with the store: it indexes every
// pending item in batches and records each batch as indexed only after the
// index has it. A crash at any point leaves the items pending, so the next
// sync (every command that opens the index runs one) repairs the index.
// progress, if not nil, is called with the running count.
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
