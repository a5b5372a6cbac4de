package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/store"
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
	cmd.AddCommand(newSourcesTryCommand(a))
	return cmd
}

func newSourcesTryCommand(a *app) *cobra.Command {
	var jsonOut bool
	var asURL string
	cmd := &cobra.Command{
		Use:   "try URL|FILE",
		Short: "Show what the pipeline would extract from a feed, sitemap, listing or item page, storing nothing",
		Long: `Fetch a URL (politely, as ingest would) or read a local file and show what
each layer makes of it: a feed's items, a sitemap's entries, a listing page's
item and pagination links, or an item page's metadata with the layer that gave
each field. Nothing is stored. Use it to add a source, to check a pattern
after a site's redesign, or to diagnose a bad page.

What the document is, is decided as ingest decides it, by reading it with the
layers' own parsers: a sitemap if the sitemap reader takes it, else a feed if
the feed reader does (RSS, Atom, RSS 1.0 <rdf:RDF>, JSON Feed, whatever comment
or doctype comes first), else an HTML page: an item page when its URL is an
item of the owning source, a listing page otherwise.

A local file is read as if served at --url (so relative links resolve and the
owning source's patterns apply).`,
		Example: `  evidence sources try https://www.nationalelfservice.net/mental-health/feed/
  evidence sources try page.html --url https://www.kingsfund.org.uk/insight-and-analysis/reports/x --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSourcesTry(cmd.Context(), args[0], asURL, jsonOut)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document on stdout")
	cmd.Flags().StringVar(&asURL, "url", "", "for a local file: the URL it was served at")
	return cmd
}

func (a *app) runSourcesTry(ctx context.Context, target, asURL string, jsonOut bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	sources, err := compileSources(cfg)
	if err != nil {
		return err
	}
	var res ingest.TryResult
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		fetcher, err := a.newFetcher(cfg, nil)
		if err != nil {
			return err
		}
		p := ingest.New(ingest.Options{Fetcher: fetcher, Sources: sources, Logger: a.logger()})
		res, err = p.Try(ctx, target)
		if err != nil {
			return err
		}
	} else {
		f, err := os.Open(target)
		if err != nil {
			return usagef("%s is neither an http(s) URL nor a readable file: %v", target, err)
		}
		defer f.Close()
		body, err := io.ReadAll(io.LimitReader(f, cfg.Fetch.MaxBodyBytes+1))
		if err != nil {
			return fmt.Errorf("read %s: %w", target, err)
		}
		if int64(len(body)) > cfg.Fetch.MaxBodyBytes {
			return fmt.Errorf("read %s: larger than fetch.max_body_bytes (%d bytes)", target, cfg.Fetch.MaxBodyBytes)
		}
		p := ingest.New(ingest.Options{Sources: sources, Logger: a.logger()})
		res, err = p.TryBytes(body, asURL)
		if err != nil {
			return err
		}
		if res.URL == "" {
			res.URL = target
		}
	}
	if jsonOut {
		return a.printJSON(res)
	}
	w := a.stdout
	src := res.Source
	if src == "" {
		src = "no configured source"
	}
	article := "a"
	if res.Kind == "item" {
		article = "an"
	}
	fmt.Fprintf(w, "%s: %s %s (%s; %d bytes", clean(res.URL), article, res.Kind, src, res.Bytes)
	if res.Charset != "" {
		fmt.Fprintf(w, ", %s", res.Charset)
	}
	fmt.Fprintln(w, ")")
	for _, it := range res.Items {
		date := "undated"
		if it.Published != nil {
			date = it.Published.Format("2 Jan 2006")
		}
		fmt.Fprintf(w, "\n- %s\n  %s · %s · %s\n  %s\n", clean(it.Title), it.Type, date, clean(strings.Join(it.Authors, ", ")), clean(it.URL))
		if res.Kind == "item" {
			keys := make([]string, 0, len(it.Provenance))
			for k := range it.Provenance {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "  %-10s from %s\n", k, clean(it.Provenance[k]))
			}
			if it.Summary != "" {
				fmt.Fprintf(w, "  summary:   %s\n", clean(it.Summary))
			}
			for _, u := range it.PDFURLs {
				fmt.Fprintf(w, "  pdf:       %s\n", clean(u))
			}
		}
	}
	if res.Sitemap != nil {
		fmt.Fprintf(w, "%d %s entries (%d of them items of %s)\n", len(res.Sitemap.Entries), res.Sitemap.Kind, len(res.ItemURLs), src)
	}
	if res.Listing != nil {
		fmt.Fprintf(w, "%d item links, %d pagination links, next: %s\n", len(res.Listing.Items), len(res.Listing.Pagination), clean(res.Listing.Next))
	}
	for _, u := range head(res.ItemURLs, 20) {
		fmt.Fprintf(w, "  %s\n", clean(u))
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", clean(warn))
	}
	return nil
}

func (a *app) runSources(ctx context.Context, jsonOut bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStoreForReading(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := sourceRows(ctx, cfg, st, time.Now())
	if err != nil {
		return err
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

// sourceRows is each configured source with its stored status, as
// `evidence sources` and the web's sources page show them.
func sourceRows(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) ([]evidence.SourceRow, error) {
	list, err := st.SourceStatuses(ctx)
	if err != nil {
		return nil, err
	}
	srcs, err := compileSources(cfg)
	if err != nil {
		return nil, err
	}
	strategy := map[string]string{}
	for _, src := range srcs {
		strategy[src.ID] = src.Strategy()
	}
	rows := []evidence.SourceRow{}
	for _, s := range list {
		sc, ok := cfg.Sources[s.ID]
		if !ok {
			continue // no longer configured; its items stay stored
		}
		s.Name = sc.Name
		s.Strategy = strategy[s.ID]
		if until := pausedUntil(cfg, s); until.After(now) {
			s.Status = evidence.StatusPaused
			s.NextPoll = &until
		}
		rows = append(rows, evidence.SourceRow{SourceStatus: s, Enabled: sc.Enabled})
	}
	return rows, nil
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
