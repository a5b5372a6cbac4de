package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/internal/bench"
	"github.com/evidencetracker/evidence/store"
)

// The ingest benchmark itself is internal/bench (ingest.go); this is its
// command: flags, the wiring it measures, printing.

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
	fl.Float64Var(&f.rate, "rate", bench.DefaultIngestRate, "requests per second per host against the loopback replay (negative: unlimited)")
	fl.BoolVar(&f.json, "json", false, "print one JSON document on stdout")
	return cmd
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
	opts, err := a.ingestBenchOptions(cfg, f.dir, f.rate)
	if err != nil {
		return err
	}
	rep, err := bench.RunIngest(ctx, opts)
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(rep)
	}
	return rep.WriteTable(a.stdout)
}

// ingestBenchOptions wires the ingest benchmark as `ingest` is wired: the
// configured sources, store, index and fetch client, with the data
// directory, connect_to and rate the benchmark gives.
func (a *app) ingestBenchOptions(cfg *config.Config, dir string, rate float64) (bench.IngestOptions, error) {
	all, err := compileSources(cfg)
	if err != nil {
		return bench.IngestOptions{}, err
	}
	in := func(dataDir string) *config.Config {
		c := *cfg
		c.DataDir = dataDir
		return &c
	}
	return bench.IngestOptions{
		Dir: dir, Rate: rate, Sources: all, Logger: a.logger(),
		Concurrency: cfg.Ingest.Concurrency, MaxItemPages: cfg.Ingest.MaxItemPages,
		OpenStore: func(ctx context.Context, dataDir string) (*store.Store, error) {
			return a.openStore(ctx, in(dataDir))
		},
		OpenIndex: func(ctx context.Context, dataDir string, st *store.Store) (*index.Index, error) {
			return a.openIndex(ctx, in(dataDir), st, false)
		},
		NewFetcher: func(connectTo []string, rate float64, robots fetch.RobotsCache) (*fetch.Client, error) {
			c := *cfg
			c.Fetch.ConnectTo, c.Fetch.RatePerHost = connectTo, rate
			return a.newFetcher(&c, robots)
		},
		SyncIndex: func(ctx context.Context, st *store.Store, ix *index.Index) (int, error) {
			return a.syncIndex(ctx, cfg, st, ix, false)
		},
	}, nil
}
