package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/ingest"
)

func newAliasesCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aliases",
		Short: "Manage old URLs that stand for current items",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("%s needs a subcommand (load)", cmd.CommandPath())
		},
	}
	cmd.AddCommand(newAliasesLoadCommand(a))
	return cmd
}

type aliasesLoadFlags struct {
	source string
	json   bool
}

func newAliasesLoadCommand(a *app) *cobra.Command {
	f := &aliasesLoadFlags{}
	cmd := &cobra.Command{
		Use:   "load FILE",
		Short: "Store a site's old URLs as aliases of its current items, mapped by the source's alias_rules",
		Long: `Read the old URLs of a site that moved CMS and store each as an alias of the
current URL the source's alias_rules map it to, so links and look-ups by the
old URL find the item (now, or once it is ingested).

FILE ("-" reads standard input) is either a Drupal path-alias export, a JSON
object {"/node/123": "/blog/2023/09/slug", …} (the /node/N path is stored as
an alias too), or plain text with one old path or URL per line ("#" starts a
comment line). Entries no rule maps are counted and a few are shown: to map
more, add or fix sources.ID.alias_rules in the configuration and load again
(loading is idempotent; a changed rule re-points the aliases it maps).`,
		Example: `  evidence aliases load ../shared/sources/kingsfund/drupal-node-alias.processed.json --source kings-fund
  evidence aliases load old-blog-urls.txt --source centre-for-mental-health --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runAliasesLoad(cmd.Context(), args[0], cmd.InOrStdin(), f)
		},
	}
	cmd.Flags().StringVar(&f.source, "source", "", "source ID whose alias_rules map the old URLs (required)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON report on stdout")
	return cmd
}

// aliasesLoadReport is the JSON `aliases load --json` prints.
type aliasesLoadReport struct {
	File string `json:"file"`
	ingest.AliasReport
}

func (a *app) runAliasesLoad(ctx context.Context, file string, stdin io.Reader, f *aliasesLoadFlags) error {
	if f.source == "" {
		return usagef("aliases load: --source is required (the source whose alias_rules map the old URLs)")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	src, err := aliasSource(cfg, f.source)
	if err != nil {
		return err
	}
	in := stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("aliases load: %w", err)
		}
		defer fh.Close()
		in = fh
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	rep, loadErr := loadAliasFile(ctx, st, src, in)
	if loadErr != nil && rep.Read == 0 {
		return fmt.Errorf("aliases load %s: %w", file, loadErr)
	}
	out := aliasesLoadReport{File: file, AliasReport: rep}
	if f.json {
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		a.printAliasesReport(out)
	}
	switch {
	case loadErr != nil:
		return fmt.Errorf("aliases load %s: stopped after %d entries: %w", file, rep.Read, loadErr)
	case len(rep.Errors) > 0:
		return silentError{fmt.Errorf("aliases load %s: %d error(s)", file, len(rep.Errors))}
	}
	return nil
}

// aliasSource compiles the configured source id.
func aliasSource(cfg *config.Config, id string) (ingest.Source, error) {
	all, err := compileSources(cfg)
	if err != nil {
		return ingest.Source{}, err
	}
	for _, s := range all {
		if s.ID == id {
			return s, nil
		}
	}
	return ingest.Source{}, usagef("--source %q: no such source (configured: %s)", id, strings.Join(cfg.Sources.IDs(), ", "))
}

// loadAliasFile reads an alias export and stores what src's alias rules
// map: the whole of `evidence aliases load` but the flags and the output.
func loadAliasFile(ctx context.Context, st ingest.AliasStore, src ingest.Source, r io.Reader) (ingest.AliasReport, error) {
	entries, err := ingest.ReadAliases(r)
	if err != nil {
		return ingest.AliasReport{Source: src.ID, Errors: []string{}, ByRule: []ingest.RuleCount{}, UnmappedExamples: []string{}}, err
	}
	return ingest.LoadAliases(ctx, st, src, entries)
}

func (a *app) printAliasesReport(r aliasesLoadReport) {
	fmt.Fprintf(a.stdout, "%s (%s): %d read, %d mapped, %d unmapped, %d aliases stored, %d error(s)\n",
		r.File, r.Source, r.Read, r.Mapped, r.Unmapped, r.Stored, len(r.Errors))
	for _, rc := range r.ByRule {
		fmt.Fprintf(a.stdout, "  %6d  %s → %s", rc.Mapped, rc.Pattern, rc.Target)
		if rc.Rejected > 0 {
			fmt.Fprintf(a.stdout, " (%d matched but gave no item URL)", rc.Rejected)
		}
		fmt.Fprintln(a.stdout)
	}
	if len(r.UnmappedExamples) > 0 {
		fmt.Fprintf(a.stdout, "unmapped, for example:\n")
		for _, u := range r.UnmappedExamples {
			fmt.Fprintf(a.stdout, "  %s\n", clean(u))
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(a.stdout, "error: %s\n", clean(e))
	}
}
