package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/ingest"
)

type ingestFlags struct {
	sources  []string
	json     bool
	dueOnly  bool
	backfill bool
	maxPages int
}

// ingestSummary is the JSON document `ingest --json` prints.
type ingestSummary struct {
	Sources []sourceSummary `json:"sources"`
	Indexed int             `json:"indexed"`
	TookMS  int64           `json:"took_ms"`
	OK      bool            `json:"ok"`
}

// sourceSummary is one source's line: status ok, failing, blocked,
// interrupted or skipped.
type sourceSummary = ingest.SourceResult

func newIngestCommand(a *app) *cobra.Command {
	f := &ingestFlags{}
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Fetch every enabled source (or those named) and store and index new items",
		Long: `Fetch each source's feeds politely (robots.txt, one request per second per
host, conditional GET), store new and changed items and index them.

Each source's layers are tried in order: its feeds (or feeds advertised on its
home page), its sitemaps (configured, from robots.txt, or the usual places),
its listing pages. The first layer that works feeds new items; --backfill runs
them all to find older items. Each new or changed item's page is fetched once
for its metadata (JSON-LD, OpenGraph, citation_*, bylines, dates); an item two
publishers announce is stored once with both in announced_by.

Sources named with --source run even when paused or disabled. A source that
fails is reported with its error; the other sources go on. An item the store
could not save (busy, disk full) fails its source, and the feed, sitemap or
listing walk that listed it is read again in full next run. Exit status 1 when
any source failed. Ctrl-C (or SIGTERM) stops cleanly: what was fetched is
saved, and a source cut short is recorded as "interrupted" — no failure, it
does not count towards a pause — and is due again at the next run.`,
		Example: `  evidence ingest
  evidence ingest --source mental-elf --json
  evidence ingest --backfill --max-pages 5`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runIngest(cmd.Context(), f)
		},
	}
	cmd.Flags().StringSliceVar(&f.sources, "source", nil, "source ID to ingest (repeatable); default all enabled")
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON summary on stdout")
	cmd.Flags().BoolVar(&f.backfill, "backfill", false, "run every layer (feeds, sitemaps, listing pages), not only the first that works")
	cmd.Flags().IntVar(&f.maxPages, "max-pages", 20, "with --backfill: listing pages followed per listing URL")
	return cmd
}

func newRunCommand(a *app) *cobra.Command {
	f := &ingestFlags{dueOnly: true}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "The main job: ingest every source that is due, then update the index",
		Long: `Run the main job once on the configured store: every enabled source whose
poll interval has passed (and that is not paused after repeated failures) is
ingested, and the index is brought up to date. Schedule it (cron, a systemd
timer) every hour; sources are polled no more often than their poll_interval.
A source that never succeeded is backfilled (every layer). A failing source
is tried again after 15 min, then 30 min, 1 h, … up to its poll_interval;
after ingest.pause_after_failures failures in a row it is paused for
ingest.pause_for. A run cut short by Ctrl-C or SIGTERM is "interrupted": no
failure, and the source is due again at the next run.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runIngest(cmd.Context(), f)
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON summary on stdout")
	return cmd
}

func (a *app) runIngest(ctx context.Context, f *ingestFlags) error {
	start := time.Now()
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	for _, id := range f.sources {
		if _, ok := cfg.Sources[id]; !ok {
			return usagef("unknown source %q (configured: %s)", id, strings.Join(cfg.Sources.IDs(), ", "))
		}
	}
	all, err := compileSources(cfg)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	sched := ingest.Scheduler{
		Store: st, Policy: schedulePolicy(cfg), Sources: all, Logger: a.logger(),
	}
	plan, err := sched.Plan(ctx, ingest.Request{
		Names: f.sources, DueOnly: f.dueOnly, Backfill: f.backfill, MaxPages: f.maxPages,
		MaxItemPages: cfg.Ingest.MaxItemPages,
	})
	if err != nil {
		return err
	}
	fetcher, err := a.newFetcher(cfg, st)
	if err != nil {
		return err
	}
	progress, finish := a.ingestProgress(f.json, plan.Runs())
	sched.Runner = ingest.New(ingest.Options{
		Store: st, Fetcher: fetcher, Logger: a.logger(),
		Concurrency: cfg.Ingest.Concurrency, Sources: all, Progress: progress,
	})
	if a.srv != nil {
		// Inside serve: one ingest at a time (the schedule's or a command's).
		a.srv.writeMu.Lock()
		defer a.srv.writeMu.Unlock()
	}
	res := sched.Execute(ctx, plan)
	finish()
	var summaries []sourceSummary
	for _, r := range res.Sources {
		if r.SkipKind != ingest.SkipDisabled { // a disabled source is not mentioned
			summaries = append(summaries, r)
		}
	}

	// Index even after Ctrl-C: what was fetched is kept.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	// The per-source table is printed even when the index step cannot run
	// (another process holds the index): the items are stored, and the
	// next command that opens the index catches up.
	indexed := 0
	ix, indexErr := a.openIndex(saveCtx, cfg, st, false)
	if indexErr == nil {
		defer ix.Close()
		indexed, indexErr = a.syncIndex(saveCtx, cfg, st, ix, !f.json)
	}

	sum := ingestSummary{Sources: summaries, Indexed: indexed, TookMS: time.Since(start).Milliseconds(), OK: !res.Failed && indexErr == nil && ctx.Err() == nil}
	if f.json {
		if err := a.printJSON(sum); err != nil {
			return err
		}
	} else {
		a.printIngestSummary(sum)
	}
	if indexErr != nil {
		return fmt.Errorf("items stored, index not updated: %w", indexErr)
	}
	if ctx.Err() != nil {
		return silentError{fmt.Errorf("interrupted: %w", ctx.Err())}
	}
	if res.Failed {
		return silentError{errors.New("some sources failed")}
	}
	return nil
}

// schedulePolicy is the configuration's part of the schedule.
func schedulePolicy(cfg *config.Config) ingest.Policy {
	pol := ingest.Policy{
		PauseAfterFailures: cfg.Ingest.PauseAfterFailures, PauseFor: cfg.Ingest.PauseFor,
		Sources: map[string]ingest.SourcePolicy{},
	}
	for id, sc := range cfg.Sources {
		pol.Sources[id] = ingest.SourcePolicy{Enabled: sc.Enabled, PollInterval: sc.PollInterval}
	}
	return pol
}

// pausedUntil is when a source that failed repeatedly may run again (zero
// when it is not paused).
func pausedUntil(cfg *config.Config, s evidence.SourceStatus) time.Time {
	return schedulePolicy(cfg).PausedUntil(s)
}

func (a *app) printIngestSummary(sum ingestSummary) {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATUS\tLAYER\tREQUESTS\tFETCHED\tNOT MODIFIED\tNEW\tUPDATED\tUNCHANGED\tMERGED\tERRORS")
	for _, s := range sum.Sources {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Source, s.Status, s.Strategy, s.Requests, s.Fetched, s.NotModified, s.New, s.Updated, s.Unchanged, s.Merged, len(s.Errors))
	}
	tw.Flush()
	for _, s := range sum.Sources {
		if s.Skipped != "" {
			fmt.Fprintf(a.stdout, "%s: skipped: %s\n", s.Source, s.Skipped)
		}
		for _, e := range s.Errors {
			fmt.Fprintf(a.stdout, "%s: %s\n", s.Source, e)
		}
	}
	fmt.Fprintf(a.stdout, "indexed %d item(s) in %.1fs\n", sum.Indexed, float64(sum.TookMS)/1000)
}

// ingestProgress shows a spinner-style bar of items processed, on a
// terminal only.
func (a *app) ingestProgress(jsonOut bool, sources int) (func(ingest.Event), func()) {
	if jsonOut || !a.stderrIsTerminal() || sources == 0 {
		return nil, func() {}
	}
	bar := a.newBar(-1, "ingesting")
	var mu sync.Mutex
	done := 0
	return func(ev ingest.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch ev.Kind {
			case "item":
				bar.Add(1)
			case "done":
				done++
				bar.Describe(fmt.Sprintf("ingesting (%d/%d sources)", done, sources))
			}
		}, func() {
			bar.Finish()
			progressbar.Bprintln(bar)
		}
}
