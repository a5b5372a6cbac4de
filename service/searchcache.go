package service

import (
	"container/list"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/evidencetracker/evidence"
)

// SearchCache keeps recent search results for a server, so the pages and
// the API answer repeated searches (the home page, a popular query, the
// pages of a result list) without searching again. An entry is fresh while
// the index's generation is the one it was computed at, or for MaxStale
// after it was computed. Once the index has changed and MaxStale has
// passed, the entry is still served (for up to MaxAge) while one search in
// the background brings it up to date, so an ingest never makes readers
// wait; concurrent requests for a search not yet cached compute it once.
type SearchCache struct {
	// Size is how many searches are kept (least recently used go first).
	Size int
	// MaxStale is how long a result is served without looking at the
	// index's generation.
	MaxStale time.Duration
	// MaxAge is the oldest result served while it is refreshed in the
	// background (default 5 minutes); an older one is searched again
	// before answering.
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu        sync.Mutex
	lru       *list.List
	byKey     map[string]*list.Element
	inflight  map[string]*searchCall
	hits      uint64
	misses    uint64
	refreshes uint64
}

type cacheEntry struct {
	key string
	gen uint64
	at  time.Time
	res evidence.SearchResults
}

type searchCall struct {
	done chan struct{}
	res  evidence.SearchResults
	err  error
}

// maxCachedLimit: bigger pages are searched each time (API scripts paging
// through everything gain nothing from a cache).
const maxCachedLimit = 100

func (c *SearchCache) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func cacheKey(req evidence.SearchRequest) (string, bool) {
	if req.Limit > maxCachedLimit {
		return "", false
	}
	b, err := json.Marshal(req)
	return string(b), err == nil
}

func (c *SearchCache) maxAge() time.Duration {
	if c.MaxAge <= 0 {
		return 5 * time.Minute
	}
	return c.MaxAge
}

// refreshTimeout bounds a search made for the cache.
const refreshTimeout = 30 * time.Second

// get returns the result for req at generation gen, computing it with
// search when there is none fresh enough. search gets a context of its
// own (it may outlive the request that started it).
func (c *SearchCache) get(req evidence.SearchRequest, gen uint64, search func(context.Context) (evidence.SearchResults, error)) (evidence.SearchResults, error) {
	run := func() (evidence.SearchResults, error) {
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		return search(ctx)
	}
	key, ok := cacheKey(req)
	if !ok || c.Size <= 0 {
		return run()
	}
	c.mu.Lock()
	if c.lru == nil {
		c.lru, c.byKey, c.inflight = list.New(), map[string]*list.Element{}, map[string]*searchCall{}
	}
	if el, ok := c.byKey[key]; ok {
		e := el.Value.(*cacheEntry)
		age := c.now().Sub(e.at)
		if e.gen == gen || age < c.MaxStale {
			c.lru.MoveToFront(el)
			c.hits++
			c.mu.Unlock()
			return e.res, nil
		}
		if age < c.maxAge() {
			// Out of date: answer with it, and bring it up to date once.
			c.lru.MoveToFront(el)
			c.hits++
			if _, busy := c.inflight[key]; !busy {
				call := &searchCall{done: make(chan struct{})}
				c.inflight[key] = call
				c.refreshes++
				go c.fill(key, gen, call, run)
			}
			c.mu.Unlock()
			return e.res, nil
		}
	}
	if call, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-call.done
		return call.res, call.err
	}
	call := &searchCall{done: make(chan struct{})}
	c.inflight[key] = call
	c.misses++
	c.mu.Unlock()
	c.fill(key, gen, call, run)
	return call.res, call.err
}

// fill runs the search of call and keeps its result.
func (c *SearchCache) fill(key string, gen uint64, call *searchCall, run func() (evidence.SearchResults, error)) {
	call.res, call.err = run()
	c.mu.Lock()
	delete(c.inflight, key)
	if call.err == nil {
		if el, ok := c.byKey[key]; ok {
			c.lru.Remove(el)
		}
		c.byKey[key] = c.lru.PushFront(&cacheEntry{key: key, gen: gen, at: c.now(), res: call.res})
		for c.lru.Len() > c.Size {
			old := c.lru.Back()
			c.lru.Remove(old)
			delete(c.byKey, old.Value.(*cacheEntry).key)
		}
	}
	c.mu.Unlock()
	close(call.done)
}

// Stats reports hits and misses so far.
func (c *SearchCache) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}
