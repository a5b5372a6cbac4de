package service

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// idle waits until no search of c is running.
func idle(c *SearchCache) {
	for {
		c.mu.Lock()
		n := len(c.inflight)
		c.mu.Unlock()
		if n == 0 {
			return
		}
		runtime.Gosched()
	}
}

func TestSearchCache(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := &SearchCache{Size: 2, MaxStale: 30 * time.Second, MaxAge: 5 * time.Minute, Now: clock}
	var calls atomic.Int64
	search := func(total uint64) func(context.Context) (evidence.SearchResults, error) {
		return func(ctx context.Context) (evidence.SearchResults, error) {
			if ctx.Err() != nil {
				return evidence.SearchResults{}, ctx.Err()
			}
			calls.Add(1)
			return evidence.SearchResults{Total: total}, nil
		}
	}
	req := func(q string) evidence.SearchRequest { return evidence.SearchRequest{Text: q, Limit: 20} }
	steps := []struct {
		name      string
		q         string
		gen       uint64
		advance   time.Duration
		wantTotal uint64
		wantCalls int64
	}{
		{"first search computes", "care", 1, 0, 1, 1},
		{"the same search at the same generation is a hit", "care", 1, 0, 1, 1},
		{"after the index changed, a recent result is still served", "care", 2, 10 * time.Second, 1, 1},
		{"past MaxStale the old result answers while it is refreshed", "care", 2, 25 * time.Second, 1, 2},
		{"then the refreshed one is served", "care", 2, 0, 2, 2},
		{"past MaxAge it is searched before answering", "care", 3, 6 * time.Minute, 3, 3},
		{"another search", "housing", 3, 0, 3, 4},
		{"a third evicts the least recently used", "loneliness", 3, 0, 3, 5},
		{"the evicted one is computed again", "care", 4, 0, 4, 6},
	}
	for _, st := range steps {
		mu.Lock()
		now = now.Add(st.advance)
		mu.Unlock()
		res, err := c.get(req(st.q), st.gen, search(st.gen))
		idle(c)
		if err != nil || res.Total != st.wantTotal || calls.Load() != st.wantCalls {
			t.Errorf("%s: total %d, %d searches; want %d, %d (err %v)", st.name, res.Total, calls.Load(), st.wantTotal, st.wantCalls, err)
		}
	}
	// Errors are not kept; pages beyond the cached size are not cached.
	fail := func(context.Context) (evidence.SearchResults, error) {
		calls.Add(1)
		return evidence.SearchResults{}, errors.New("boom")
	}
	before := calls.Load()
	for range 2 {
		if _, err := c.get(req("broken"), 4, fail); err == nil {
			t.Error("error not returned")
		}
	}
	big := evidence.SearchRequest{Text: "care", Limit: 500}
	for range 2 {
		_, _ = c.get(big, 4, search(4))
	}
	if got := calls.Load() - before; got != 4 {
		t.Errorf("%d searches for two failing and two oversized requests, want 4", got)
	}
}

func TestSearchCacheCoalesces(t *testing.T) {
	c := &SearchCache{Size: 10, MaxStale: time.Minute}
	var calls atomic.Int64
	release := make(chan struct{})
	search := func(context.Context) (evidence.SearchResults, error) {
		calls.Add(1)
		<-release
		return evidence.SearchResults{Total: 7}, nil
	}
	var wg sync.WaitGroup
	results := make(chan uint64, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _ := c.get(evidence.SearchRequest{Text: "x"}, 1, search)
			results <- res.Total
		}()
	}
	// Let the goroutines queue behind the first search, then release it.
	for {
		c.mu.Lock()
		n := len(c.inflight)
		c.mu.Unlock()
		if n == 1 {
			break
		}
	}
	close(release)
	wg.Wait()
	close(results)
	for total := range results {
		if total != 7 {
			t.Errorf("a waiter got total %d", total)
		}
	}
	if calls.Load() != 1 {
		// The first computes; the rest wait for it or find its entry.
		t.Errorf("%d searches for 20 concurrent identical requests", calls.Load())
	}
}
