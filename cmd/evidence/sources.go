package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
)

func newSourcesCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "sources",
		Short: "Show each source's status: strategy, last success, last error, items, next poll",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runSources(cmd.Context(), jsonOut)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document on stdout")
	return cmd
}

// sourceRow is one source in `sources --json`.
type sourceRow struct {
	evidence.SourceStatus
	Enabled bool `json:"enabled"`
}

func (a *app) runSources(ctx context.Context, jsonOut bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.SourceStatuses(ctx)
	if err != nil {
		return err
	}
	rows := []sourceRow{}
	for _, s := range list {
		sc, ok := cfg.Sources[s.ID]
		if !ok {
			continue // no longer configured; its items stay stored
		}
		s.Name = sc.Name
		s.Strategy = sc.Strategy()
		if until := pausedUntil(cfg, s); until.After(time.Now()) {
			s.Status = evidence.StatusPaused
			s.NextPoll = &until
		}
		rows = append(rows, sourceRow{SourceStatus: s, Enabled: sc.Enabled})
	}
	if jsonOut {
		return a.printJSON(map[string]any{"sources": rows})
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTRATEGY\tSTATUS\tITEMS\tLAST SUCCESS\tNEXT POLL\tLAST ERROR")
	for _, r := range rows {
		status := r.Status
		if !r.Enabled {
			status += " (disabled)"
		}
		lastErr := r.LastError
		if len(lastErr) > 80 {
			lastErr = lastErr[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Strategy, status, r.Items, when(r.LastSuccess), when(r.NextPoll), clean(lastErr))
	}
	return tw.Flush()
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
