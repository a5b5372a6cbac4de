package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/store"
)

// TestSaveConcurrentSameWork races two sources saving one work (the same
// DOI under each publisher's own URL) against a real store: the duplicate
// check and the write must be one transaction, so every work is stored
// once and announced by both.
func TestSaveConcurrentSameWork(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "e.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := New(Options{Store: st})
	sources := []Source{{ID: evidence.SourceKingsFund}, {ID: evidence.SourceCentreForMH}}
	hosts := []string{"https://www.kingsfund.org.uk/insight-and-analysis/reports/", "https://www.centreformentalhealth.org.uk/publications/"}
	pub := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

	const works = 60
	for w := range works {
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, len(sources))
		for i, src := range sources {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run := &sourceRun{p: p, src: src, r: &Report{}}
				it := &evidence.Item{
					URL:       fmt.Sprintf("%swork-%d", hosts[i], w),
					Source:    src.ID,
					Type:      evidence.TypeReport,
					Title:     fmt.Sprintf("Work number %d as %s calls it", w, src.ID),
					DOI:       fmt.Sprintf("10.1234/work.%d", w),
					Published: &pub,
				}
				<-start
				_, errs[i] = run.save(ctx, it, nil)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("work %d, %s: save: %v", w, sources[i].ID, err)
			}
		}
	}

	n, err := st.CountItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != works {
		t.Errorf("CountItems = %d, want %d (one item per work)", n, works)
	}
	err = st.EachItem(ctx, func(it evidence.Item) error {
		for _, src := range sources {
			if !slices.Contains(it.AnnouncedBy, src.ID) {
				t.Errorf("item %s (%s): announced_by %v lacks %s", it.ID, it.URL, it.AnnouncedBy, src.ID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
