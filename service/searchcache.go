package service

import (
	"container/list"
	"encoding/json"
	"sync"
	"time"

	"github.com/evidencetracker/evidence"
)

// SearchCache keeps recent search results for a server, so the pages and
// the API answer repeated searches (the home page, a popular query, the
// pages of a result list) without searching again. An entry is fresh while
// the index's generation is the one it was computed at; after the index
// changes it may still be served for MaxStale (the lag a reader can see
// while an ingest writes), while concurrent requests for the same search
// compute it once.
type SearchCache struct {
	// Size is how many searches are kept (least recently used go first).
	Size int
	// MaxStale is how long a result may be served after the index changed.
	MaxStale time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu       sync.Mutex
	lru      *list.List
	byKey    map[string]*list.Element
	inflight map[string]*searchCall
	hits     uint64
	misses   uint64
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

// get returns the result for req at generation gen, computing it with
// search when there is none fresh enough.
func (c *SearchCache) get(req evidence.SearchRequest, gen uint64, search func() (evidence.SearchResults, error)) (evidence.SearchResults, error) {
	key, ok := cacheKey(req)
	if !ok || c.Size <= 0 {
		return search()
	}
	c.mu.Lock()
	if c.lru == nil {
		c.lru, c.byKey, c.inflight = list.New(), map[string]*list.Element{}, map[string]*searchCall{}
	}
	if el, ok := c.byKey[key]; ok {
		e := el.Value.(*cacheEntry)
		if e.gen == gen || c.now().Sub(e.at) < c.MaxStale {
			c.lru.MoveToFront(el)
			c.hits++
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

	call.res, call.err = search()
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
	return call.res, call.err
}

// Stats reports hits and misses so far.
func (c *SearchCache) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}
