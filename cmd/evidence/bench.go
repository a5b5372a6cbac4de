package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence/internal/bench"
)

type benchSearchFlags struct {
	docs      int
	seed      uint64
	samples   int
	feed, med string
	dir       string
	json      bool
}

func newBenchCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks against the alternatives a user might pick",
		Args:  noArgs,
	}
	cmd.AddCommand(newBenchSearchCommand(a))
	cmd.AddCommand(newBenchIngestCommand(a))
	cmd.AddCommand(newBenchDigestCommand(a))
	cmd.AddCommand(newBenchHTTPCommand(a))
	return cmd
}

func newBenchSearchCommand(a *app) *cobra.Command {
	f := &benchSearchFlags{}
	cmd := &cobra.Command{
		Use:   "search [--docs N]",
		Short: "Index a realistic corpus in bleve and in SQLite FTS5 and compare speed",
		Long: `Build a realistic corpus of N items (about 600 words each: sentences of the
Mental Elf snapshot feed and of the MED abstracts recombined, with titles,
summaries, authors, sources, types, topics and dates; deterministic for a
seed), index it with the project's index (bleve) and with SQLite FTS5
(porter unicode61, bm25) in throw-away directories, run the same queries on
both and print one table: indexing rate, index size, peak memory while
indexing, query latency p50/p95/p99 for plain, phrase, filtered (source and
dates) and faceted (facet counts and highlighted snippets) queries, and the
ratio bleve/FTS5 of each row. Without the MED file the corpus comes from the
feed alone.`,
		Example: `  evidence bench search --docs 1000
  evidence bench search --docs 100000 --json > bench.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runBenchSearch(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.docs, "docs", 1000, "number of items to generate and index")
	fl.Uint64Var(&f.seed, "seed", 1, "corpus seed")
	fl.IntVar(&f.samples, "samples", 200, "timed queries per kind and engine (at least)")
	fl.StringVar(&f.feed, "feed", bench.DefaultFeedPath, "feed whose items give text, titles and authors")
	fl.StringVar(&f.med, "med", "../shared/eval/med/docs.jsonl", "MED documents (docs.jsonl) giving more text; skipped if missing")
	fl.StringVar(&f.dir, "dir", "", "directory for the throw-away indexes (default the system temp directory)")
	fl.BoolVar(&f.json, "json", false, "print one JSON document on stdout")
	return cmd
}

func (a *app) runBenchSearch(ctx context.Context, f *benchSearchFlags) error {
	if f.docs < 1 {
		return usagef("--docs %d: want at least 1", f.docs)
	}
	if f.samples < 1 {
		return usagef("--samples %d: want at least 1", f.samples)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	log := a.logger()
	items, med, medOK, err := bench.LoadSources(f.feed, f.med)
	if err != nil {
		return err
	}
	if !medOK && f.med != "" {
		log.Warn("bench: MED documents not found; the corpus comes from the feed alone", "path", f.med)
	}
	c, err := bench.NewCorpus(items, med, f.seed)
	if err != nil {
		return err
	}
	r, err := bench.Run(ctx, c, bench.Options{
		Docs:    f.docs,
		Dir:     f.dir,
		Index:   a.indexOptions(cfg), // synonyms file and taxonomy from config
		Samples: f.samples,
		Logger:  log,
	})
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(r)
	}
	return r.WriteTable(a.stdout)
}
