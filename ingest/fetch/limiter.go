package fetch

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter spaces one host's requests. It wraps rate.Limiter (burst 1) and
// always passes the client's injected clock, so tests need no real waits.
type limiter struct {
	mu  sync.Mutex
	lim *rate.Limiter
}

func newLimiter(perSecond float64) *limiter {
	r := rate.Limit(perSecond)
	if perSecond < 0 {
		r = rate.Inf
	}
	return &limiter{lim: rate.NewLimiter(r, 1)}
}

// reserve takes the host's next slot and returns how long to wait for it and
// a function that gives the slot back (when the wait is abandoned).
func (l *limiter) reserve(now time.Time) (time.Duration, func(time.Time)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.lim.ReserveN(now, 1)
	if !r.OK() { // cannot happen with burst 1; be safe rather than spin
		return 0, func(time.Time) {}
	}
	return r.DelayFrom(now), r.CancelAt
}

// atMostEvery lowers the rate so that requests are at least interval apart
// (a robots.txt Crawl-delay). It never raises the rate.
func (l *limiter) atMostEvery(interval time.Duration, now time.Time) {
	if interval <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	want := rate.Every(interval)
	switch cur := l.lim.Limit(); {
	case cur == rate.Inf:
		// rate.Limiter's token arithmetic does not survive a change from
		// Inf; start afresh (the slot just used for robots.txt counts).
		l.lim = rate.NewLimiter(want, 1)
		l.lim.ReserveN(now, 1)
	case want < cur:
		l.lim.SetLimitAt(now, want)
	}
}
