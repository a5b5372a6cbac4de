package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence/internal/bench"
)

type benchDigestFlags struct {
	items, perWeek, subscribers, connections int
	seed                                     uint64
	feed, med                                string
	json                                     bool
}

func newBenchDigestCommand(a *app) *cobra.Command {
	f := &benchDigestFlags{}
	cmd := &cobra.Command{
		Use:   "digest [--items N] [--subscribers N]",
		Short: "Time one week's digest over a large store and its personalised send to many subscribers",
		Long: `Fill a throw-away store with N generated items (--per-week first seen each
week, topics stored) and M subscribers with random topics, time the build of
the newest week's digest (median of 5), then send every subscriber their
personalised digest (HTML and text, signed links, the delivery log) through
the SMTP sender to an in-process SMTP server on 127.0.0.1, and print
messages per second and peak memory while sending. Targets: ≥ 500
messages/s, ≤ 300 MiB.`,
		Example: `  evidence bench digest
  evidence bench digest --items 10000 --subscribers 1000 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runBenchDigest(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.items, "items", 100_000, "items in the store")
	fl.IntVar(&f.perWeek, "per-week", 100, "items first seen per week")
	fl.IntVar(&f.subscribers, "subscribers", 10_000, "subscribers to send to")
	fl.IntVar(&f.connections, "connections", 2, "SMTP connections sending at once")
	fl.Uint64Var(&f.seed, "seed", 1, "corpus seed")
	fl.StringVar(&f.feed, "feed", bench.DefaultFeedPath, "feed whose items give text, titles and authors")
	fl.StringVar(&f.med, "med", "../shared/eval/med/docs.jsonl", "MED documents giving more text; skipped if missing")
	fl.BoolVar(&f.json, "json", false, "print one JSON document on stdout")
	return cmd
}

func (a *app) runBenchDigest(ctx context.Context, f *benchDigestFlags) error {
	if f.items < 1 || f.subscribers < 1 || f.perWeek < 1 {
		return usagef("--items, --per-week and --subscribers must be at least 1")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	items, med, _, err := bench.LoadSources(f.feed, f.med)
	if err != nil {
		return err
	}
	c, err := bench.NewCorpus(items, med, f.seed)
	if err != nil {
		return err
	}
	var topics []string
	for _, t := range cfg.Topics {
		topics = append(topics, t.Name)
	}
	progress := func(string) {}
	if !f.json && a.stderrIsTerminal() {
		progress = func(s string) { fmt.Fprintf(a.stderr, "bench digest: %s…\n", s) }
	}
	rep, err := bench.RunDigest(ctx, bench.DigestOptions{Items: f.items, PerWeek: f.perWeek, Subscribers: f.subscribers, Connections: f.connections,
		Seed: f.seed, Corpus: c, Topics: topics, Logger: a.logger(), Progress: progress})
	if err != nil {
		return err
	}
	if f.json {
		return a.printJSON(rep)
	}
	return rep.WriteTable(a.stdout)
}
