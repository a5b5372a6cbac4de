package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/store"
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

type sourceSummary struct {
	ingest.Report
	Status  string `json:"status"` // ok, failing, blocked, skipped
	Skipped string `json:"skipped_reason,omitempty"`
}

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
any source failed. Ctrl-C stops cleanly: what was fetched is saved.`,
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
timer) every hour; sources are polled no more often than their poll_interval.`,
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

	statuses := map[string]evidence.SourceStatus{}
	if list, err := st.SourceStatuses(ctx); err == nil {
		for _, s := range list {
			statuses[s.ID] = s
		}
	} else {
		return err
	}

	now := time.Now()
	var chosen []ingest.Source
	var summaries []sourceSummary
	for _, src := range all {
		sc := cfg.Sources[src.ID]
		named := slices.Contains(f.sources, src.ID)
		reason := ""
		switch {
		case len(f.sources) > 0 && !named:
			continue
		case named:
		case !sc.Enabled:
			continue
		case pausedUntil(cfg, statuses[src.ID]).After(now):
			reason = fmt.Sprintf("paused after %d consecutive failures until %s (last error: %s)",
				statuses[src.ID].ConsecutiveFailures, pausedUntil(cfg, statuses[src.ID]).Format(time.RFC3339), statuses[src.ID].LastError)
		case f.dueOnly && statuses[src.ID].NextPoll != nil && statuses[src.ID].NextPoll.After(now):
			reason = "not due until " + statuses[src.ID].NextPoll.Format(time.RFC3339)
		}
		if reason != "" {
			summaries = append(summaries, sourceSummary{Report: ingest.Report{Source: src.ID, Strategy: src.Strategy(), Errors: []string{}}, Status: "skipped", Skipped: reason})
			continue
		}
		chosen = append(chosen, src)
	}

	fetcher, err := a.newFetcher(cfg, st)
	if err != nil {
		return err
	}
	progress, finish := a.ingestProgress(f.json, len(chosen))
	p := ingest.New(ingest.Options{
		Store: st, Fetcher: fetcher, Logger: a.logger(),
		Concurrency: cfg.Ingest.Concurrency, Sources: all, Progress: progress,
	})
	var reports []ingest.Report
	if f.dueOnly {
		// The main job backfills a source until it has once succeeded.
		var fresh, known []ingest.Source
		for _, src := range chosen {
			if statuses[src.ID].LastSuccess == nil {
				fresh = append(fresh, src)
			} else {
				known = append(known, src)
			}
		}
		reports = append(p.Run(ctx, fresh, ingest.RunOptions{Backfill: true, MaxItemPages: cfg.Ingest.MaxItemPages}),
			p.Run(ctx, known, ingest.RunOptions{MaxItemPages: cfg.Ingest.MaxItemPages})...)
	} else {
		reports = p.Run(ctx, chosen, ingest.RunOptions{Backfill: f.backfill, MaxPages: f.maxPages, MaxItemPages: cfg.Ingest.MaxItemPages})
	}
	finish()

	// Record the runs and index even after Ctrl-C: what was fetched is kept.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	ok := true
	for _, r := range reports {
		sc := cfg.Sources[r.Source]
		next := r.End.Add(sc.PollInterval)
		if r.Err != nil {
			// Try a failing source again sooner than its poll interval,
			// backing off: 15 min, 30 min, 1 h, … up to the interval.
			n := min(statuses[r.Source].ConsecutiveFailures, 6)
			next = r.End.Add(min(sc.PollInterval, (15*time.Minute)<<n))
		}
		run := store.SourceRun{
			Start: r.Start, End: r.End, Strategy: r.Strategy, Err: r.Err, Blocked: r.Blocked,
			NextPoll: next,
			Fetched:  r.Fetched, NotModified: r.NotModified, New: r.New, Updated: r.Updated,
		}
		if err := st.RecordSourceRun(saveCtx, r.Source, run); err != nil {
			a.logger().Error("record source run", "source", r.Source, "err", err)
		}
		status := evidence.StatusOK
		switch {
		case r.Blocked:
			status, ok = evidence.StatusBlocked, false
		case r.Err != nil:
			status, ok = evidence.StatusFailing, false
		}
		summaries = append(summaries, sourceSummary{Report: r, Status: status})
	}
	slices.SortFunc(summaries, func(x, y sourceSummary) int { return strings.Compare(x.Source, y.Source) })

	ix, err := a.openIndex(saveCtx, cfg, st, false)
	if err != nil {
		return err
	}
	defer ix.Close()
	indexed, err := a.syncIndex(saveCtx, cfg, st, ix, !f.json)
	if err != nil {
		return err
	}

	sum := ingestSummary{Sources: summaries, Indexed: indexed, TookMS: time.Since(start).Milliseconds(), OK: ok && ctx.Err() == nil}
	if f.json {
		if err := a.printJSON(sum); err != nil {
			return err
		}
	} else {
		a.printIngestSummary(sum)
	}
	if ctx.Err() != nil {
		return silentError{fmt.Errorf("interrupted: %w", ctx.Err())}
	}
	if !ok {
		return silentError{errors.New("some sources failed")}
	}
	return nil
}

// pausedUntil is when a source that failed repeatedly may run again (zero
// when it is not paused).
func pausedUntil(cfg *config.Config, s evidence.SourceStatus) time.Time {
	if s.ConsecutiveFailures < cfg.Ingest.PauseAfterFailures || s.LastErrorAt == nil {
		return time.Time{}
	}
	return s.LastErrorAt.Add(cfg.Ingest.PauseFor)
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
