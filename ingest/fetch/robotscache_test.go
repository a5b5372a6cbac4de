package fetch

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// memRobots is an in-memory RobotsCache.
type memRobots struct {
	mu   sync.Mutex
	body map[string][]byte
	code map[string]int
	at   map[string]time.Time
}

func newMemRobots() *memRobots {
	return &memRobots{body: map[string][]byte{}, code: map[string]int{}, at: map[string]time.Time{}}
}

func (m *memRobots) LoadRobots(_ context.Context, origin string) ([]byte, int, time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.at[origin]
	return m.body[origin], m.code[origin], at, ok, nil
}

func (m *memRobots) SaveRobots(_ context.Context, origin string, body []byte, status int, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.body[origin], m.code[origin], m.at[origin] = body, status, at
	return nil
}

func TestRobotsCacheAcrossClients(t *testing.T) {
	ts := newTestServer(t, robotsHandler("User-agent: *\nDisallow: /private/\n", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	clock := newFakeClock()
	cache := newMemRobots()
	opts := testOptions(clock)
	opts.IgnoreRobots = false
	opts.RobotsCache = cache
	tests := []struct {
		name       string
		advance    time.Duration
		wantRobots int // robots.txt requests the server has seen after this client
	}{
		{"first run fetches robots.txt", 0, 1},
		{"second run within a day uses the cache", time.Hour, 1},
		{"after a day it is fetched again", 25 * time.Hour, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(tt.advance)
			c := newTestClient(t, opts)
			if _, err := c.Get(context.Background(), ts.URL+"/public", evidence.FetchState{}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get(context.Background(), ts.URL+"/private/x", evidence.FetchState{}); !errors.Is(err, ErrDisallowed) {
				t.Errorf("cached rules not obeyed: err = %v", err)
			}
			if got := len(ts.Requests("/robots.txt")); got != tt.wantRobots {
				t.Errorf("robots.txt fetched %d times, want %d", got, tt.wantRobots)
			}
		})
	}
}
