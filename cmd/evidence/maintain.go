package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
)

func newReindexCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the store, re-tagging every item's topics",
		Long: `Throw the bleve index away and build it again from the SQLite store, the
system of record, tagging every item afresh with the current topic taxonomy:
the topics stored with each item (show, exports, topics) and the index's are
replaced together. Run it after editing the taxonomy. Safe to interrupt: items
not yet indexed stay pending and the next command that opens the index
finishes the job (re-tagging them too).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runReindex(cmd.Context(), jsonOut)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document on stdout")
	return cmd
}

func (a *app) runReindex(ctx context.Context, jsonOut bool) error {
	start := time.Now()
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if a.srv != nil {
		n, err := a.serverReindex(ctx, cfg)
		if err != nil {
			return err
		}
		return a.printReindex(jsonOut, n, a.srv.ix, time.Since(start))
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := a.waitIndexFree(ctx, cfg); err != nil {
		return err
	}
	// Mark everything pending first: if we stop half-way, the next sync
	// finishes the rebuild.
	if err := st.ResetIndexed(ctx); err != nil {
		return err
	}
	if err := index.Remove(indexPath(cfg)); err != nil {
		return fmt.Errorf("reindex: remove %s: %w", indexPath(cfg), err)
	}
	ix, err := a.openIndex(ctx, cfg, st, false)
	if err != nil {
		return err
	}
	defer ix.Close()
	n, err := a.syncIndex(ctx, cfg, st, ix, !jsonOut)
	if err != nil {
		return err
	}
	return a.printReindex(jsonOut, n, ix, time.Since(start))
}

func (a *app) printReindex(jsonOut bool, n int, ix *index.Index, took time.Duration) error {
	size, _ := ix.SizeBytes()
	if jsonOut {
		return a.printJSON(map[string]any{"indexed": n, "index_bytes": size, "took_ms": took.Milliseconds()})
	}
	fmt.Fprintf(a.stdout, "reindexed %d item(s) in %.1fs; index is %.1f MiB\n", n, took.Seconds(), float64(size)/(1<<20))
	return nil
}

// checkReport is the JSON document `check --json` prints.
type checkReport struct {
	Items   int      `json:"items"`
	Indexed uint64   `json:"indexed"`
	Missing []string `json:"missing"`
	Stale   []string `json:"stale"`
	Orphans []string `json:"orphans"`
	OK      bool     `json:"ok"`
}

func newCheckCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that the index agrees with the store (exit 1 if not)",
		Long: `Compare every stored item with the index: items missing from the index,
items whose indexed version is stale, and index entries with no stored item.
Exit status 1 if there is any; 'evidence reindex' repairs them.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runCheck(cmd.Context(), jsonOut)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document on stdout")
	return cmd
}

func (a *app) runCheck(ctx context.Context, jsonOut bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, ix, closeAll, err := a.openBoth(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer closeAll()
	want, err := st.IndexedHashes(ctx)
	if err != nil {
		return err
	}
	got, err := ix.Hashes(ctx)
	if err != nil {
		return err
	}
	rep := checkReport{Items: len(want), Indexed: uint64(len(got)), Missing: []string{}, Stale: []string{}, Orphans: []string{}}
	for id, h := range want {
		switch gh, ok := got[id]; {
		case !ok:
			rep.Missing = append(rep.Missing, id)
		case gh != h:
			rep.Stale = append(rep.Stale, id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			rep.Orphans = append(rep.Orphans, id)
		}
	}
	slices.Sort(rep.Missing)
	slices.Sort(rep.Stale)
	slices.Sort(rep.Orphans)
	rep.OK = len(rep.Missing)+len(rep.Stale)+len(rep.Orphans) == 0
	if jsonOut {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "store: %d item(s); index: %d document(s)\n", rep.Items, rep.Indexed)
		for _, l := range []struct {
			what string
			ids  []string
		}{{"missing from the index", rep.Missing}, {"stale in the index", rep.Stale}, {"in the index but not the store", rep.Orphans}} {
			if len(l.ids) > 0 {
				fmt.Fprintf(a.stdout, "%d item(s) %s: %v\n", len(l.ids), l.what, head(l.ids, 20))
			}
		}
		if rep.OK {
			fmt.Fprintln(a.stdout, "ok: the index agrees with the store")
		} else {
			fmt.Fprintln(a.stdout, "run 'evidence reindex' to repair the index")
		}
	}
	if !rep.OK {
		return silentError{fmt.Errorf("check: index disagrees with store: %w", evidence.ErrConflict)}
	}
	return nil
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
