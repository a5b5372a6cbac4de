package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/internal/replay"
	"github.com/evidencetracker/evidence/store"
)

// The ingest benchmark: the snapshot sites served by an in-process replay
// on loopback, ingested twice (a full first ingest with backfill, then an
// unchanged re-ingest) into a throw-away data directory, with the requests,
// statuses, bytes, items, time, memory and writes of each run.

// DefaultIngestRate is the per-host rate used against the loopback replay:
// at the polite default (1 request/s/host) the waits would dominate.
const DefaultIngestRate = 1000

// IngestOptions configures the ingest benchmark. The program's own wiring
// opens the store and the index and builds the fetch client, so the
// benchmark measures what `ingest` runs.
type IngestOptions struct {
	// Dir is the snapshot tree (one directory per host).
	Dir string
	// Rate is the requests/s/host against the replay (negative:
	// unlimited).
	Rate float64
	// DataDir is the throw-away data directory; RunIngest makes (and
	// removes) one when it is empty.
	DataDir string
	// Sources are every configured source; those whose host has a
	// snapshot directory are ingested.
	Sources                   []ingest.Source
	Concurrency, MaxItemPages int
	Logger                    *slog.Logger

	OpenStore func(ctx context.Context, dataDir string) (*store.Store, error)
	OpenIndex func(ctx context.Context, dataDir string, st *store.Store) (*index.Index, error)
	// NewFetcher builds a fetch client sending each HOST of connectTo
	// (HOST=ADDR) to ADDR at rate requests/s/host, keeping robots.txt in
	// robots.
	NewFetcher func(connectTo []string, rate float64, robots fetch.RobotsCache) (*fetch.Client, error)
	// SyncIndex indexes what the store holds and the index has not seen.
	SyncIndex func(ctx context.Context, st *store.Store, ix *index.Index) (int, error)
}

// RunIngest runs the benchmark: a first ingest and an unchanged re-ingest.
func RunIngest(ctx context.Context, opts IngestOptions) (IngestReport, error) {
	if opts.DataDir == "" {
		data, err := os.MkdirTemp("", "evidence-bench-ingest-")
		if err != nil {
			return IngestReport{}, fmt.Errorf("bench ingest: %w", err)
		}
		defer os.RemoveAll(data)
		opts.DataDir = data
	}
	b, err := StartIngest(ctx, opts)
	if err != nil {
		return IngestReport{}, err
	}
	defer b.Close()
	rep := IngestReport{
		Dir: opts.Dir, Sources: b.SourceIDs(), RatePerHost: opts.Rate, EstimateRate: fetch.DefaultRatePerHost,
		Flags: []string{}, Notes: []string{},
	}
	for _, name := range []string{"first ingest", "unchanged re-ingest"} {
		r, err := b.Run(ctx, name)
		if err != nil {
			return rep, err
		}
		rep.Runs = append(rep.Runs, r)
	}
	rep.Flags = ReingestFlags(rep.Runs[1])
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("rate limit raised to %g requests/s/host for the loopback replay: at the polite default the waits would be nearly all of the wall time; the estimate row is the same run at %g request/s/host", opts.Rate, fetch.DefaultRatePerHost),
		"both runs are `ingest --backfill` (every layer, listing pagination up to 20 pages) with a new fetch client, as two invocations of the command would be; robots.txt is kept in the store between runs (for fetch.RobotsTTL) and is never asked conditionally")
	return rep, nil
}

// IngestReport is what `bench ingest` prints (--json: as is).
type IngestReport struct {
	Dir         string   `json:"dir"`
	Sources     []string `json:"sources"`
	RatePerHost float64  `json:"rate_per_host"`
	// EstimateRate is the rate the estimates are for (the default).
	EstimateRate float64     `json:"estimate_rate_per_host"`
	Runs         []IngestRun `json:"runs"`
	// Flags are the re-ingest's departures from "only conditional
	// requests, nothing written"; empty when there are none.
	Flags []string `json:"flags"`
	Notes []string `json:"notes"`
}

// IngestRun is one run's figures.
type IngestRun struct {
	Name string `json:"name"`
	// Requests, Conditional, NotModified and BytesRead are the fetch
	// client's counters (every attempt, redirect hop and robots.txt).
	Requests    int64 `json:"requests"`
	Conditional int64 `json:"conditional"`
	NotModified int64 `json:"status_304"`
	BytesRead   int64 `json:"bytes_read"`
	// Status200, StatusOther and the rest are counted by the replay side.
	Status200   int64 `json:"status_200"`
	StatusOther int64 `json:"status_other"` // redirects, 404s, …
	RobotsTxt   int64 `json:"robots_txt"`
	// Unconditional counts requests without validators (robots.txt
	// included); UnconditionalURLs lists up to 10 of them.
	Unconditional     int64    `json:"unconditional"`
	UnconditionalURLs []string `json:"unconditional_urls,omitempty"`
	New               int      `json:"new"`
	Updated           int      `json:"updated"`
	Unchanged         int      `json:"unchanged"`
	Merged            int      `json:"merged"`
	Deferred          int      `json:"deferred"`
	ItemsPerSec       float64  `json:"items_per_s"`
	WallMS            float64  `json:"wall_ms"`
	// PeakRSSBytes is VmHWM from /proc/self/status (0: unknown); when it
	// could not be reset before the run it is the process's peak so far.
	PeakRSSBytes  int64  `json:"peak_rss_bytes"`
	RSSReset      bool   `json:"peak_rss_reset"`
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
	IndexWrites   int    `json:"index_writes"`
	// StoreWrites counts the writing store calls of the pipeline and the
	// fetcher: items created or changed, fetch states, candidates, aliases,
	// announcers, robots.txt saved.
	StoreWrites    int64            `json:"store_writes"`
	RequestsByHost map[string]int64 `json:"requests_by_host"`
	// EstimateMS is this run at EstimateRate: for each host, one request
	// per interval (or robots.txt Crawl-delay), hosts in parallel.
	EstimateMS int64               `json:"estimate_at_default_rate_ms"`
	Errors     map[string][]string `json:"errors"`
}

// ReingestFlags lists what an unchanged re-ingest should not have done.
func ReingestFlags(r IngestRun) []string {
	flags := []string{}
	if r.Unconditional > 0 {
		flags = append(flags, fmt.Sprintf("re-ingest made %d non-conditional request(s): %s", r.Unconditional, strings.Join(r.UnconditionalURLs, " ")))
	}
	if r.Status200 > 0 {
		flags = append(flags, fmt.Sprintf("re-ingest got %d full (200) response(s) besides robots.txt", r.Status200))
	}
	if r.StoreWrites > 0 || r.IndexWrites > 0 || r.New+r.Updated+r.Merged > 0 {
		flags = append(flags, fmt.Sprintf("re-ingest wrote: %d store write(s), %d index write(s), %d new, %d updated, %d merged", r.StoreWrites, r.IndexWrites, r.New, r.Updated, r.Merged))
	}
	return flags
}

func (rep IngestReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(label string, cell func(r IngestRun) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, r := range rep.Runs {
			fmt.Fprintf(tw, "%s\t", cell(r))
		}
		fmt.Fprintln(tw)
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	row("", func(r IngestRun) string { return r.Name })
	row("requests", func(r IngestRun) string { return n(r.Requests) })
	row("  conditional", func(r IngestRun) string { return n(r.Conditional) })
	row("  robots.txt", func(r IngestRun) string { return n(r.RobotsTxt) })
	row("  unconditional", func(r IngestRun) string { return n(r.Unconditional) })
	row("200s", func(r IngestRun) string { return n(r.Status200) })
	row("304s", func(r IngestRun) string { return n(r.NotModified) })
	row("other statuses", func(r IngestRun) string { return n(r.StatusOther) })
	row("bytes read", func(r IngestRun) string { return sizeText(r.BytesRead) })
	row("items new", func(r IngestRun) string { return strconv.Itoa(r.New) })
	row("items updated", func(r IngestRun) string { return strconv.Itoa(r.Updated) })
	row("items unchanged", func(r IngestRun) string { return strconv.Itoa(r.Unchanged) })
	row("items merged", func(r IngestRun) string { return strconv.Itoa(r.Merged) })
	row("items/s", func(r IngestRun) string { return fmt.Sprintf("%.0f", r.ItemsPerSec) })
	row("wall time", func(r IngestRun) string { return fmt.Sprintf("%.2fs", r.WallMS/1000) })
	row(fmt.Sprintf("  estimate at %g req/s/host", rep.EstimateRate), func(r IngestRun) string {
		return (time.Duration(r.EstimateMS) * time.Millisecond).Round(time.Second).String()
	})
	row("peak RSS (VmHWM)", func(r IngestRun) string {
		switch {
		case r.PeakRSSBytes == 0:
			return "n/a"
		case !r.RSSReset:
			return sizeText(r.PeakRSSBytes) + " (process)"
		}
		return sizeText(r.PeakRSSBytes)
	})
	row("peak Go heap", func(r IngestRun) string { return sizeText(int64(r.PeakHeapBytes)) })
	row("index writes", func(r IngestRun) string { return strconv.Itoa(r.IndexWrites) })
	row("store writes", func(r IngestRun) string { return n(r.StoreWrites) })
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nsources: %s (snapshots in %s)\n", strings.Join(rep.Sources, ", "), rep.Dir)
	for _, r := range rep.Runs {
		hosts := slices.Sorted(maps.Keys(r.RequestsByHost))
		parts := make([]string, 0, len(hosts))
		for _, h := range hosts {
			parts = append(parts, fmt.Sprintf("%s %d", h, r.RequestsByHost[h]))
		}
		fmt.Fprintf(w, "%s: requests by host: %s\n", r.Name, strings.Join(parts, ", "))
		for _, src := range slices.Sorted(maps.Keys(r.Errors)) {
			for _, e := range r.Errors[src] {
				fmt.Fprintf(w, "%s: %s: %s\n", r.Name, src, e)
			}
		}
	}
	for _, note := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", note)
	}
	if len(rep.Flags) == 0 {
		fmt.Fprintln(w, "re-ingest: only conditional requests and nothing written")
	}
	for _, f := range rep.Flags {
		fmt.Fprintf(w, "FLAG: %s\n", f)
	}
	return nil
}

// sizeText writes a byte count for people.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// IngestBench is the replay server, store and index one benchmark runs
// against.
type IngestBench struct {
	opts    IngestOptions
	connect []string // HOST=ADDR for each chosen source
	chosen  []ingest.Source
	counter *replayCounter
	st      *store.Store
	ix      *index.Index

	stopReplay context.CancelFunc
	replayDone chan error
}

// StartIngest starts the replay server over opts.Dir on 127.0.0.1 and
// opens a store and an index in opts.DataDir, with the sources whose hosts
// have a snapshot directory sent to the replay at opts.Rate
// requests/s/host.
func StartIngest(ctx context.Context, opts IngestOptions) (*IngestBench, error) {
	rs, err := replay.New(replay.Options{Dir: opts.Dir})
	if err != nil {
		return nil, err
	}
	b := &IngestBench{opts: opts, counter: newReplayCounter(rs), replayDone: make(chan error, 1)}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.stopReplay = cancel
	ready := make(chan string, 1)
	go func() {
		b.replayDone <- replay.ListenAndServe(rctx, "127.0.0.1:0", b.counter, func(ad net.Addr) { ready <- ad.String() })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-b.replayDone:
		cancel()
		return nil, err
	}

	for _, src := range opts.Sources {
		host := src.Host()
		if host == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(opts.Dir, host)); err != nil || !fi.IsDir() {
			continue // not in the snapshots: never sent to the real site
		}
		b.chosen = append(b.chosen, src)
		b.connect = append(b.connect, host+"="+addr)
	}
	if len(b.chosen) == 0 {
		b.Close()
		return nil, fmt.Errorf("bench ingest: no configured source has a snapshot directory in %s", opts.Dir)
	}
	if b.st, err = opts.OpenStore(ctx, opts.DataDir); err != nil {
		b.Close()
		return nil, err
	}
	if b.ix, err = opts.OpenIndex(ctx, opts.DataDir, b.st); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Store is the bench's store (for tests that measure what was ingested).
func (b *IngestBench) Store() *store.Store { return b.st }

// SourceIDs are the sources the bench ingests.
func (b *IngestBench) SourceIDs() []string {
	ids := make([]string, 0, len(b.chosen))
	for _, s := range b.chosen {
		ids = append(ids, s.ID)
	}
	return ids
}

// Close stops the replay server and closes the index and the store.
func (b *IngestBench) Close() error {
	var errs []error
	if b.ix != nil {
		errs = append(errs, b.ix.Close())
	}
	if b.st != nil {
		errs = append(errs, b.st.Close())
	}
	b.stopReplay()
	errs = append(errs, <-b.replayDone)
	return errors.Join(errs...)
}

// Run ingests the chosen sources with --backfill through a new fetch
// client, then brings the index up to date, and measures it.
func (b *IngestBench) Run(ctx context.Context, name string) (IngestRun, error) {
	r := IngestRun{Name: name, Errors: map[string][]string{}}
	cs := &countingStore{Store: b.st}
	// robots.txt is kept in the store between runs, as `ingest` does.
	fc, err := b.opts.NewFetcher(b.connect, b.opts.Rate, &countingRobots{RobotsCache: b.st, writes: &cs.writes})
	if err != nil {
		return r, err
	}
	defer fc.Close()
	p := ingest.New(ingest.Options{
		Store: cs, Fetcher: fc, Logger: b.opts.Logger,
		Concurrency: b.opts.Concurrency, Sources: b.opts.Sources,
	})
	b.counter.reset()
	r.RSSReset = ResetPeakRSS()
	heap := StartHeapSampler()
	start := time.Now()
	reports := p.Run(ctx, b.chosen, ingest.RunOptions{Backfill: true, MaxPages: 20, MaxItemPages: b.opts.MaxItemPages})
	indexed, err := b.opts.SyncIndex(ctx, b.st, b.ix)
	wall := time.Since(start)
	r.PeakHeapBytes = heap()
	r.PeakRSSBytes = int64(PeakRSS())
	if err != nil {
		return r, err
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}

	s := fc.Stats()
	r.Requests, r.Conditional, r.NotModified, r.BytesRead = s.Requests, s.Conditional, s.NotModified, s.BytesRead
	c := b.counter.snapshot()
	r.Status200, r.StatusOther, r.RobotsTxt = c.ok, c.other, c.robots
	r.Unconditional, r.UnconditionalURLs, r.RequestsByHost = c.unconditional, c.unconditionalURLs, c.byHost
	for _, rep := range reports {
		r.New += rep.New
		r.Updated += rep.Updated
		r.Unchanged += rep.Unchanged
		r.Merged += rep.Merged
		r.Deferred += rep.Deferred
		if len(rep.Errors) > 0 {
			r.Errors[rep.Source] = rep.Errors
		}
	}
	r.WallMS = float64(wall.Microseconds()) / 1000
	if wall > 0 {
		r.ItemsPerSec = float64(r.New+r.Updated+r.Unchanged+r.Merged) / wall.Seconds()
	}
	r.IndexWrites = indexed
	r.StoreWrites = cs.writes.Load()
	r.EstimateMS = politeEstimate(ctx, fc, c.byHost, fetch.DefaultRatePerHost).Milliseconds()
	return r, nil
}

// politeEstimate is how long requests per host would take at rate
// requests/s/host (or the host's robots.txt Crawl-delay when slower), the
// hosts in parallel: the first request goes at once, each other waits one
// interval. Processing time is left out: on loopback it is small beside
// the waits.
func politeEstimate(ctx context.Context, fc *fetch.Client, byHost map[string]int64, rate float64) time.Duration {
	var longest time.Duration
	for host, n := range byHost {
		interval := time.Duration(float64(time.Second) / rate)
		if cd, err := fc.CrawlDelay(ctx, "https://"+host); err == nil && cd > interval {
			interval = cd
		}
		longest = max(longest, time.Duration(n-1)*interval)
	}
	return longest
}

// replayCounter wraps the replay server and counts what it answered.
type replayCounter struct {
	h  http.Handler
	mu sync.Mutex
	c  replayCounts
}

type replayCounts struct {
	ok, other, robots, unconditional int64
	unconditionalURLs                []string
	byHost                           map[string]int64
}

func newReplayCounter(h http.Handler) *replayCounter {
	rc := &replayCounter{h: h}
	rc.reset()
	return rc
}

func (rc *replayCounter) reset() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.c = replayCounts{byHost: map[string]int64{}, unconditionalURLs: []string{}}
}

func (rc *replayCounter) snapshot() replayCounts {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	c := rc.c
	c.byHost = maps.Clone(rc.c.byHost)
	c.unconditionalURLs = slices.Clone(rc.c.unconditionalURLs)
	return c
}

func (rc *replayCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	rc.h.ServeHTTP(sw, r)
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	robots := r.URL.Path == "/robots.txt"
	conditional := r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != ""
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.c.byHost[host]++
	switch {
	case robots:
		rc.c.robots++
	case sw.status == http.StatusOK || sw.status == 0:
		rc.c.ok++
	case sw.status != http.StatusNotModified:
		rc.c.other++
	}
	if !conditional {
		rc.c.unconditional++
		if len(rc.c.unconditionalURLs) < 10 {
			rc.c.unconditionalURLs = append(rc.c.unconditionalURLs, host+r.URL.RequestURI())
		}
	}
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingStore counts the pipeline's writing calls to the store.
type countingStore struct {
	ingest.Store
	writes atomic.Int64
}

func (c *countingStore) PutFetchState(ctx context.Context, st evidence.FetchState) error {
	c.writes.Add(1)
	return c.Store.PutFetchState(ctx, st)
}

func (c *countingStore) UpsertItem(ctx context.Context, it *evidence.Item) (evidence.UpsertResult, error) {
	res, err := c.Store.UpsertItem(ctx, it)
	if err == nil && res != evidence.Unchanged {
		c.writes.Add(1)
	}
	return res, err
}

// SaveItem passes the one-transaction save through (so the bench measures
// the path ingest really takes), counting a save that wrote the item.
func (c *countingStore) SaveItem(ctx context.Context, it *evidence.Item, opts evidence.SaveOptions) (evidence.SaveResult, error) {
	sv, ok := c.Store.(ingest.ItemSaver)
	if !ok {
		return evidence.SaveResult{}, fmt.Errorf("bench: store %T has no SaveItem", c.Store)
	}
	res, err := sv.SaveItem(ctx, it, opts)
	if err == nil && res.Result != evidence.Unchanged {
		c.writes.Add(1)
	}
	return res, err
}

func (c *countingStore) AddAlias(ctx context.Context, alias, canonicalURL string) error {
	c.writes.Add(1)
	return c.Store.AddAlias(ctx, alias, canonicalURL)
}

func (c *countingStore) AddAnnouncer(ctx context.Context, id, source string) (bool, error) {
	added, err := c.Store.AddAnnouncer(ctx, id, source)
	if added {
		c.writes.Add(1)
	}
	return added, err
}

func (c *countingStore) PutCandidate(ctx context.Context, url, source, sig, itemID string) error {
	c.writes.Add(1)
	return c.Store.PutCandidate(ctx, url, source, sig, itemID)
}

// countingRobots counts robots.txt saved to the store.
type countingRobots struct {
	fetch.RobotsCache
	writes *atomic.Int64
}

func (c *countingRobots) SaveRobots(ctx context.Context, origin string, body []byte, status int, fetchedAt time.Time) error {
	c.writes.Add(1)
	return c.RobotsCache.SaveRobots(ctx, origin, body, status, fetchedAt)
}
