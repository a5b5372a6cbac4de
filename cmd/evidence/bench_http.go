package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/internal/bench"
)

// The load generator and its report are internal/bench (http.go); this is
// the command: the data dir, the server as serve wires it, printing.

type benchHTTPFlags struct {
	items, clients int
	duration       time.Duration
	ingest         bool
	seed           uint64
	feed, med      string
	cache          string
	rebuild        bool
	noCache        bool
	cpuProfile     string
	json           bool
}

func newBenchHTTPCommand(a *app) *cobra.Command {
	f := &benchHTTPFlags{}
	cmd := &cobra.Command{
		Use:   "http [--items N] [--clients N] [--duration 20s] [--ingest] [--json]",
		Short: "Load the search page and the search API of the real server over a large data dir",
		Long: `Build a data dir of N generated items (the corpus of 'bench search', stored
and indexed as ingest does; kept under --cache, keyed by size, seed and
source texts, and reused by later runs), start the web server over it in
this process exactly as 'serve' wires it, listening on 127.0.0.1, and run
--clients concurrent clients for --duration against GET /search and GET
/api/v1/search with a mix of queries: words, phrases, source and date
filters, type and topic filters, the empty query, the second page. Prints
per endpoint requests/s, p50/p95/p99/max latency of the 2xx responses and
errors (non-2xx and transport errors), and the process's peak resident set
(VmHWM, reset before each run) and resident set at the end (VmRSS); the
process holds the server and the clients.

--ingest adds a second run with an ingest beside the clients: a stream of
new generated items saved through the store as the pipeline saves them and
indexed in batches, so writes contend with the searches; the table shows
both runs side by side. The data dir is then a throw-away copy, so the
cache keeps its N items.

The server keeps recent search results as serve does (fresh for the
index's generation, up to 30 s stale while an ingest writes): the runs
are preceded by a warm-up that requests every path once, one at a time,
and its time per request is reported as the cold cost. --no-cache turns
the cache (and the warm-up) off, so every request searches the index.

An endpoint that answers 404 fails the benchmark at once ("route not
served"): the server does not route it.`,
		Example: `  evidence bench http --items 10000 --duration 10s
  evidence bench http --ingest --json > http-bench.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runBenchHTTP(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.items, "items", 100_000, "items in the data dir")
	fl.IntVar(&f.clients, "clients", 50, "concurrent clients")
	fl.DurationVar(&f.duration, "duration", 20*time.Second, "length of each run")
	fl.BoolVar(&f.ingest, "ingest", false, "add a run with a concurrent ingest of new items")
	fl.Uint64Var(&f.seed, "seed", 1, "corpus seed")
	fl.StringVar(&f.feed, "feed", bench.DefaultFeedPath, "feed whose items give text, titles and authors")
	fl.StringVar(&f.med, "med", "../shared/eval/med/docs.jsonl", "MED documents giving more text; skipped if missing")
	fl.StringVar(&f.cache, "cache", "", "directory keeping the generated data dirs (default the user cache directory's evidence/bench-http)")
	fl.BoolVar(&f.rebuild, "rebuild", false, "build the data dir again even if the cache has it")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed runs to this file (go tool pprof)")
	fl.BoolVar(&f.noCache, "no-cache", false, "turn off the server's search results cache (every request searches the index)")
	fl.BoolVar(&f.json, "json", false, "print one JSON document on stdout")
	return cmd
}

func (a *app) runBenchHTTP(ctx context.Context, f *benchHTTPFlags) error {
	rep, err := a.benchHTTP(ctx, f, nil)
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(rep)
	}
	return rep.WriteTable(a.stdout)
}

// benchHTTP runs the benchmark; wrap, if set, wraps the server's handler
// (a test serves routes the server lacks).
func (a *app) benchHTTP(ctx context.Context, f *benchHTTPFlags, wrap func(http.Handler) http.Handler) (*bench.HTTPReport, error) {
	switch {
	case f.items < 1:
		return nil, usagef("--items %d: want at least 1", f.items)
	case f.clients < 1:
		return nil, usagef("--clients %d: want at least 1", f.clients)
	case f.duration <= 0:
		return nil, usagef("--duration %v: want a positive duration", f.duration)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	if f.cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("bench http: no user cache directory (%v): give --cache", err)
		}
		f.cache = filepath.Join(dir, "evidence", "bench-http")
	}
	say := func(string) {}
	if !f.json && a.stderrIsTerminal() {
		say = func(s string) { fmt.Fprintf(a.stderr, "bench http: %s…\n", s) }
	}
	items, med, medOK, err := bench.LoadSources(f.feed, f.med)
	if err != nil {
		return nil, err
	}
	corpus, err := bench.NewCorpus(items, med, f.seed)
	if err != nil {
		return nil, err
	}
	h := fnv.New32a()
	fmt.Fprint(h, f.feed, "\x00", f.med, "\x00", medOK)
	key := fmt.Sprintf("items-%d-seed-%d-%08x", f.items, f.seed, h.Sum32())
	dataDir, reused, built, err := a.benchHTTPData(ctx, cfg, corpus, f, filepath.Join(f.cache, key), say)
	if err != nil {
		return nil, err
	}
	served := dataDir
	if f.ingest {
		// The ingest adds items: serve a copy, so the cache keeps N.
		say("copying the data dir for the run with ingest")
		tmp, err := os.MkdirTemp(f.cache, "run-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		served = filepath.Join(tmp, "data")
		if err := os.CopyFS(served, os.DirFS(dataDir)); err != nil {
			return nil, fmt.Errorf("bench http: copy the data dir: %w", err)
		}
	}

	// The server as serve builds it, over the data dir. Its access log
	// lines are formatted as serve formats them (their cost is part of
	// serving) but not printed; other log lines are.
	c := benchConfig(cfg, served)
	srv := &app{stdout: a.stdout, stderr: a.stderr, configFile: a.configFile, loaded: a.loaded, flags: a.flags}
	srv.log = slog.New(accessLogAside{h: a.logger().Handler(), aside: slog.NewTextHandler(io.Discard, nil)})
	st, ix, closeAll, err := srv.openBoth(ctx, c, true)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	ws, err := srv.buildWebServer(c, st, ix, nil)
	if err != nil {
		return nil, err
	}
	defer ws.close()
	if f.noCache {
		ws.catalog.Cache = nil
	}
	handler := ws.web.Handler()
	if wrap != nil {
		handler = wrap(handler)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench http: listen: %w", err)
	}
	hs := newHTTPServer(handler)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		<-serveErr
	}()

	opts := bench.HTTPOptions{
		BaseURL: "http://" + ln.Addr().String(), Clients: f.clients, Duration: f.duration,
		Items: f.items, Progress: say, Warm: !f.noCache,
	}
	if f.ingest {
		live := &bench.LiveIngest{Store: st, Corpus: corpus, Start: f.items,
			Sync: func(ctx context.Context) (int, error) { return srv.syncIndex(ctx, c, st, ix, false) }}
		opts.Ingest = live.Run
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("bench http: --cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return nil, fmt.Errorf("bench http: --cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.RunHTTP(ctx, opts)
	if err != nil {
		return nil, err
	}
	rep.DataDir, rep.Reused, rep.BuildS = dataDir, reused, built.Seconds()
	return rep, nil
}

// benchConfig is cfg on another data dir.
func benchConfig(cfg *config.Config, dataDir string) *config.Config {
	c := *cfg
	c.DataDir = dataDir
	return &c
}

// benchHTTPMarker marks a cached data dir as complete.
const benchHTTPMarker = "bench-http.json"

// benchHTTPData returns the data dir of f.items corpus items at dir,
// building it (store, then index) unless the cache has it complete.
func (a *app) benchHTTPData(ctx context.Context, cfg *config.Config, corpus *bench.Corpus, f *benchHTTPFlags, dir string, say func(string)) (string, bool, time.Duration, error) {
	marker := filepath.Join(dir, benchHTTPMarker)
	if _, err := os.Stat(marker); err == nil && !f.rebuild {
		return dir, true, 0, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, 0, fmt.Errorf("bench http: cache: %w", err)
	}
	start := time.Now()
	// Not complete (or to rebuild): start again.
	if err := os.RemoveAll(dir); err != nil {
		return "", false, 0, fmt.Errorf("bench http: cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, 0, fmt.Errorf("bench http: cache: %w", err)
	}
	c := benchConfig(cfg, dir)
	st, ix, closeAll, err := a.openBoth(ctx, c, false)
	if err != nil {
		return "", false, 0, err
	}
	defer func() {
		if closeAll != nil {
			closeAll()
		}
	}()
	say(fmt.Sprintf("storing %d items in %s", f.items, dir))
	var progress func(int)
	if a.stderrIsTerminal() && !f.json {
		b := a.newBar(int64(f.items), "storing")
		defer b.Finish()
		progress = func(n int) { _ = b.Set(n) }
	}
	if err := bench.FillStore(ctx, st, corpus, f.items, progress); err != nil {
		return "", false, 0, err
	}
	say("indexing")
	if _, err := a.syncIndex(ctx, c, st, ix, !f.json); err != nil {
		return "", false, 0, err
	}
	closeAll()
	closeAll = nil
	doc, _ := json.Marshal(map[string]any{"items": f.items, "seed": f.seed, "feed": f.feed, "med": f.med, "built": time.Now().UTC()})
	if err := os.WriteFile(marker, append(doc, '\n'), 0o644); err != nil {
		return "", false, 0, fmt.Errorf("bench http: cache: %w", err)
	}
	return dir, false, time.Since(start), nil
}

// accessLogAside sends the web's per-request "http" lines to aside
// (formatted, not shown) and every other record to h.
type accessLogAside struct{ h, aside slog.Handler }

func (q accessLogAside) Enabled(ctx context.Context, l slog.Level) bool { return q.h.Enabled(ctx, l) }

func (q accessLogAside) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo && r.Message == "http" {
		return q.aside.Handle(ctx, r)
	}
	return q.h.Handle(ctx, r)
}

func (q accessLogAside) WithAttrs(as []slog.Attr) slog.Handler {
	return accessLogAside{h: q.h.WithAttrs(as), aside: q.aside.WithAttrs(as)}
}

func (q accessLogAside) WithGroup(name string) slog.Handler {
	return accessLogAside{h: q.h.WithGroup(name), aside: q.aside.WithGroup(name)}
}
