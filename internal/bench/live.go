package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/store"
)

// FillStore stores corpus items [0, n) in st (pending for the index), as a
// data dir for the HTTP benchmark; progress, if set, is told how many are
// stored now and then.
func FillStore(ctx context.Context, st *store.Store, c *Corpus, n int, progress func(done int)) error {
	for i := range n {
		if i%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("bench: fill store: %w", err)
			}
			if progress != nil {
				progress(i)
			}
		}
		it := c.Item(i)
		if _, err := st.UpsertItem(ctx, &it); err != nil {
			return fmt.Errorf("bench: fill store: item %d: %w", i, err)
		}
	}
	if progress != nil {
		progress(n)
	}
	return nil
}

// LiveIngest writes a stream of new items while the HTTP benchmark's
// clients read: each batch is saved item by item the way the ingest
// pipeline saves (store.SaveItem: dedupe, one write transaction each),
// then indexed the way an ingest run ends (Sync: tag, store topics,
// index), so writes contend with the searches.
type LiveIngest struct {
	Store  *store.Store
	Corpus *Corpus
	// Start is the first corpus item streamed (the data dir holds those
	// before it).
	Start int
	// Batch is the items per save-then-index round (default 100).
	Batch int
	// Sync indexes the store's pending items (cmd: its syncIndex).
	Sync func(ctx context.Context) (int, error)
}

// IngestLoad is what a LiveIngest wrote.
type IngestLoad struct {
	// Items is the items saved: New + Updated + Merged + Unchanged.
	Items     int `json:"items"`
	New       int `json:"new"`
	Updated   int `json:"updated"`
	Merged    int `json:"merged"`
	Unchanged int `json:"unchanged"`
	// Indexed is the documents the index syncs wrote.
	Indexed   int     `json:"indexed"`
	Batches   int     `json:"batches"`
	ItemsPerS float64 `json:"items_per_second"`
	// SaveMS and IndexMS are the time spent saving and indexing.
	SaveMS  float64 `json:"save_ms"`
	IndexMS float64 `json:"index_ms"`
	// Errors counts failed saves and syncs; FirstError is the first.
	Errors     int    `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
}

// Run streams batches until ctx ends, finishing the batch it is in (its
// saves and index sync are not cut short, so the store and the index
// agree), and reports what it wrote. A failed save or sync is counted and
// the stream goes on.
func (l *LiveIngest) Run(ctx context.Context) IngestLoad {
	if l.Batch <= 0 {
		l.Batch = 100
	}
	var load IngestLoad
	fail := func(err error) {
		load.Errors++
		if load.FirstError == "" {
			load.FirstError = err.Error()
		}
	}
	work := context.WithoutCancel(ctx) // a batch begun is finished
	start := time.Now()
	next := l.Start
	for ctx.Err() == nil {
		t0 := time.Now()
		for range l.Batch {
			it := l.Corpus.Item(next)
			next++
			it.FirstSeen = time.Now().UTC()
			res, err := l.Store.SaveItem(work, &it, evidence.SaveOptions{ReportLike: ingest.ReportLike})
			if err != nil {
				fail(err)
				continue
			}
			load.Items++
			switch {
			case res.Merged:
				load.Merged++
			case res.Result == evidence.Created:
				load.New++
			case res.Result == evidence.Updated:
				load.Updated++
			default:
				load.Unchanged++
			}
		}
		t1 := time.Now()
		n, err := l.Sync(work)
		load.Indexed += n
		if err != nil && !errors.Is(err, context.Canceled) {
			fail(err)
		}
		load.SaveMS += ms(t1.Sub(t0))
		load.IndexMS += ms(time.Since(t1))
		load.Batches++
	}
	if secs := time.Since(start).Seconds(); secs > 0 {
		load.ItemsPerS = float64(load.Items) / secs
	}
	return load
}
