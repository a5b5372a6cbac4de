package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/internal/bench"
	"github.com/evidencetracker/evidence/internal/replay"
	"github.com/evidencetracker/evidence/store"
)

// defaultBenchRate is the per-host rate used against the loopback replay:
// at the polite default (1 request/s/host) the waits would dominate.
const defaultBenchRate = 1000

type benchIngestFlags struct {
	dir  string
	rate float64
	json bool
}

func newBenchIngestCommand(a *app) *cobra.Command {
	f := &benchIngestFlags{}
	cmd := &cobra.Command{
		Use:   "ingest [--dir DIR] [--json]",
		Short: "Measure a full ingest of the snapshot sites and an unchanged re-ingest",
		Long: `Serve the snapshot tree (--dir) with the replay server in this process on
127.0.0.1, send every configured source whose host has a snapshot there
(fetch.connect_to), and ingest them twice into a throw-away data directory:
a full first ingest with --backfill, then the same ingest again over the
unchanged snapshots. Prints one table, a column per run: requests made
(fetch client), 200s and 304s, unconditional requests, bytes read from the wire, items new/updated/unchanged/merged,
items/s, wall time, peak memory (VmHWM, reset before each run, and the peak Go
heap), index writes and store writes.

The rate limit is raised to --rate requests/s/host on loopback, because at the
polite default the waits would be nearly all of the time; the table also
gives the same runs at the default 1 request/s/host, estimated from the
requests each host received. It asserts nothing: it flags in the output a
re-ingest that made any non-conditional request or wrote anything.`,
		Example: `  evidence bench ingest
  evidence bench ingest --dir testdata/snapshots --json > ingest-bench.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runBenchIngest(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "testdata/snapshots", "snapshot tree to serve (one directory per host)")
	fl.Float64Var(&f.rate, "rate", defaultBenchRate, "requests per second per host against the loopback replay (negative: unlimited)")
	fl.BoolVar(&f.json, "json", false, "print one JSON document on stdout")
	return cmd
}

// ingestBenchReport is what `bench ingest` prints (--json: as is).
type ingestBenchReport struct {
	Dir         string   `json:"dir"`
	Sources     []string `json:"sources"`
	RatePerHost float64  `json:"rate_per_host"`
	// EstimateRate is the rate the estimates are for (the default).
	EstimateRate float64          `json:"estimate_rate_per_host"`
	Runs         []ingestBenchRun `json:"runs"`
	// Flags are the re-ingest's departures from "only conditional
	// requests, nothing written"; empty when there are none.
	Flags []string `json:"flags"`
	Notes []string `json:"notes"`
}

// ingestBenchRun is one run's figures.
type ingestBenchRun struct {
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

func (a *app) runBenchIngest(ctx context.Context, f *benchIngestFlags) error {
	if st, err := os.Stat(f.dir); err != nil || !st.IsDir() {
		return usagef("--dir %q is not a directory", f.dir)
	}
	if f.rate == 0 {
		return usagef("--rate 0: give a positive rate, or a negative one for unlimited")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	data, err := os.MkdirTemp("", "evidence-bench-ingest-")
	if err != nil {
		return fmt.Errorf("bench ingest: %w", err)
	}
	defer os.RemoveAll(data)
	b, err := a.startIngestBench(ctx, cfg, f.dir, f.rate, data)
	if err != nil {
		return err
	}
	defer b.Close()
	rep := ingestBenchReport{
		Dir: f.dir, Sources: b.sourceIDs(), RatePerHost: f.rate, EstimateRate: fetch.DefaultRatePerHost,
		Flags: []string{}, Notes: []string{},
	}
	for _, name := range []string{"first ingest", "unchanged re-ingest"} {
		r, err := b.run(ctx, name)
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, r)
	}
	rep.Flags = reingestFlags(rep.Runs[1])
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("rate limit raised to %g requests/s/host for the loopback replay: at the polite default the waits would be nearly all of the wall time; the estimate row is the same run at %g request/s/host", f.rate, fetch.DefaultRatePerHost),
		"both runs are `ingest --backfill` (every layer, listing pagination up to 20 pages) with a new fetch client, as two invocations of the command would be; robots.txt is kept in the store between runs (for fetch.RobotsTTL) and is never asked conditionally")
	if f.json {
		return a.printJSON(rep)
	}
	return rep.writeTable(a.stdout)
}

// reingestFlags lists what an unchanged re-ingest should not have done.
func reingestFlags(r ingestBenchRun) []string {
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

func (rep ingestBenchReport) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(label string, cell func(r ingestBenchRun) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, r := range rep.Runs {
			fmt.Fprintf(tw, "%s\t", cell(r))
		}
		fmt.Fprintln(tw)
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	row("", func(r ingestBenchRun) string { return r.Name })
	row("requests", func(r ingestBenchRun) string { return n(r.Requests) })
	row("  conditional", func(r ingestBenchRun) string { return n(r.Conditional) })
	row("  robots.txt", func(r ingestBenchRun) string { return n(r.RobotsTxt) })
	row("  unconditional", func(r ingestBenchRun) string { return n(r.Unconditional) })
	row("200s", func(r ingestBenchRun) string { return n(r.Status200) })
	row("304s", func(r ingestBenchRun) string { return n(r.NotModified) })
	row("other statuses", func(r ingestBenchRun) string { return n(r.StatusOther) })
	row("bytes read", func(r ingestBenchRun) string { return sizeText(r.BytesRead) })
	row("items new", func(r ingestBenchRun) string { return strconv.Itoa(r.New) })
	row("items updated", func(r ingestBenchRun) string { return strconv.Itoa(r.Updated) })
	row("items unchanged", func(r ingestBenchRun) string { return strconv.Itoa(r.Unchanged) })
	row("items merged", func(r ingestBenchRun) string { return strconv.Itoa(r.Merged) })
	row("items/s", func(r ingestBenchRun) string { return fmt.Sprintf("%.0f", r.ItemsPerSec) })
	row("wall time", func(r ingestBenchRun) string { return fmt.Sprintf("%.2fs", r.WallMS/1000) })
	row(fmt.Sprintf("  estimate at %g req/s/host", rep.EstimateRate), func(r ingestBenchRun) string {
		return (time.Duration(r.EstimateMS) * time.Millisecond).Round(time.Second).String()
	})
	row("peak RSS (VmHWM)", func(r ingestBenchRun) string {
		switch {
		case r.PeakRSSBytes == 0:
			return "n/a"
		case !r.RSSReset:
			return sizeText(r.PeakRSSBytes) + " (process)"
		}
		return sizeText(r.PeakRSSBytes)
	})
	row("peak Go heap", func(r ingestBenchRun) string { return sizeText(int64(r.PeakHeapBytes)) })
	row("index writes", func(r ingestBenchRun) string { return strconv.Itoa(r.IndexWrites) })
	row("store writes", func(r ingestBenchRun) string { return n(r.StoreWrites) })
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

// ingestBench is the replay server, store and index one benchmark runs
// against.
type ingestBench struct {
	a       *app
	cfg     config.Config // a copy: throw-away data dir, connect_to, rate
	all     []ingest.Source
	chosen  []ingest.Source
	counter *replayCounter
	st      *store.Store
	ix      *index.Index

	stopReplay context.CancelFunc
	replayDone chan error
}

// startIngestBench starts the replay server over dir on 127.0.0.1 and opens
// a store and an index in data, with cfg's sources whose hosts have a
// snapshot directory sent to the replay at rate requests/s/host.
func (a *app) startIngestBench(ctx context.Context, cfg *config.Config, dir string, rate float64, data string) (*ingestBench, error) {
	rs, err := replay.New(replay.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	b := &ingestBench{a: a, cfg: *cfg, counter: newReplayCounter(rs), replayDone: make(chan error, 1)}
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

	if b.all, err = compileSources(cfg); err != nil {
		b.Close()
		return nil, err
	}
	var connect []string
	for _, src := range b.all {
		host := src.Host()
		if host == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, host)); err != nil || !fi.IsDir() {
			continue // not in the snapshots: never sent to the real site
		}
		b.chosen = append(b.chosen, src)
		connect = append(connect, host+"="+addr)
	}
	if len(b.chosen) == 0 {
		b.Close()
		return nil, fmt.Errorf("bench ingest: no configured source has a snapshot directory in %s", dir)
	}
	b.cfg.DataDir = data
	b.cfg.Fetch.ConnectTo = connect
	b.cfg.Fetch.RatePerHost = rate
	if b.st, err = a.openStore(ctx, &b.cfg); err != nil {
		b.Close()
		return nil, err
	}
	if b.ix, err = a.openIndex(ctx, &b.cfg, b.st, false); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *ingestBench) sourceIDs() []string {
	ids := make([]string, 0, len(b.chosen))
	for _, s := range b.chosen {
		ids = append(ids, s.ID)
	}
	return ids
}

// Close stops the replay server and closes the index and the store.
func (b *ingestBench) Close() error {
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

// run ingests the chosen sources with --backfill through a new fetch
// client, then brings the index up to date, and measures it.
func (b *ingestBench) run(ctx context.Context, name string) (ingestBenchRun, error) {
	r := ingestBenchRun{Name: name, Errors: map[string][]string{}}
	cs := &countingStore{Store: b.st}
	// robots.txt is kept in the store between runs, as `ingest` does.
	fc, err := b.a.newFetcher(&b.cfg, &countingRobots{RobotsCache: b.st, writes: &cs.writes})
	if err != nil {
		return r, err
	}
	defer fc.Close()
	p := ingest.New(ingest.Options{
		Store: cs, Fetcher: fc, Logger: b.a.logger(),
		Concurrency: b.cfg.Ingest.Concurrency, Sources: b.all,
	})
	b.counter.reset()
	r.RSSReset = bench.ResetPeakRSS()
	heap := bench.StartHeapSampler()
	start := time.Now()
	reports := p.Run(ctx, b.chosen, ingest.RunOptions{Backfill: true, MaxPages: 20, MaxItemPages: b.cfg.Ingest.MaxItemPages})
	indexed, err := b.a.syncIndex(ctx, &b.cfg, b.st, b.ix, false)
	wall := time.Since(start)
	r.PeakHeapBytes = heap()
	r.PeakRSSBytes = int64(bench.PeakRSS())
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
