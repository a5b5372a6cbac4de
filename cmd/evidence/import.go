package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/importer"
)

type importFlags struct {
	format string
	source string
	json   bool
}

func newImportCommand(a *app) *cobra.Command {
	f := &importFlags{}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a reference list (JSONL, RIS, BibTeX or CSL-JSON) into the store and index",
		Long: `Import the references in FILE ("-" reads standard input) as items: stored,
deduplicated and indexed like ingested ones. The format comes from --format or
the file's extension (.jsonl/.ndjson, .ris, .bib/.bibtex, .json/.csl.json).

JSONL is one item JSON per line, with the names 'search --json' prints (plus an
optional "body"). RIS, BibTeX and CSL-JSON (an array of CSL items, as Zotero
and citation.js export) records give title, authors, date, abstract, URL (or,
failing one, the DOI as https://doi.org/…), DOI, keywords and type.

An item's URL is made canonical with its site's rules, so a record for an item
already stored (under that URL, an old alias or its DOI) is merged into it: the
publisher's own fields are kept and the import fills the gaps. A new item's
source is --source, else the configured source whose site serves its URL; a
URL on no configured source's site needs --source, or a source "import" in the
configuration.

Bad records are reported with their line number and the reason; the good ones
still go in. Exit status 1 if any record was bad.`,
		Example: `  evidence import kings-fund-reports.ris
  evidence import library.bib --source centre-for-mental-health --json
  evidence import zotero-export.csl.json
  evidence search "" --json | jq -c '.hits[]' | evidence import - --format jsonl`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runImport(cmd.Context(), args[0], cmd.InOrStdin(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "", "jsonl, ris, bibtex or csl-json (default: from the file's extension)")
	fl.StringVar(&f.source, "source", "", "source ID of every new item (default: the source owning each URL's host)")
	fl.BoolVar(&f.json, "json", false, "print one JSON report on stdout")
	return cmd
}

func (a *app) runImport(ctx context.Context, file string, stdin io.Reader, f *importFlags) error {
	var format importer.Format
	switch {
	case f.format != "":
		var err error
		if format, err = importer.ParseFormat(f.format); err != nil {
			return usagef("--format %q: want jsonl, ris, bibtex or csl-json", f.format)
		}
	case file == "-":
		return usagef("reading standard input: say which format with --format jsonl|ris|bibtex|csl-json")
	default:
		var ok bool
		if format, ok = importer.FormatOf(file); !ok {
			return usagef("cannot tell the format of %s from its extension (.jsonl, .ris, .bib, .json): pass --format jsonl|ris|bibtex|csl-json", file)
		}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if f.source != "" {
		if _, ok := cfg.Sources[f.source]; !ok {
			return usagef("--source %q: no such source (configured: %s)", f.source, strings.Join(cfg.Sources.IDs(), ", "))
		}
	}
	in := stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer fh.Close()
		in = fh
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

	sites := importSites{p: ingest.New(ingest.Options{Sources: all, Logger: a.logger()}), sources: map[string]ingest.Source{}}
	for _, s := range all {
		sites.sources[s.ID] = s
	}
	progress, finish := a.importProgress(f.json)
	rep, importErr := importer.Import(ctx, in, format, importer.Options{
		Store: st, Sites: sites, Source: f.source, ReportLike: ingest.ReportLike, Logger: a.logger(), Progress: progress,
	})
	finish()
	rep.File = file

	// Index what was stored, even after Ctrl-C or a failed read.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	ix, err := a.openIndex(saveCtx, cfg, st, false)
	if err != nil {
		return err
	}
	defer ix.Close()
	if _, err := a.syncIndex(saveCtx, cfg, st, ix, !f.json); err != nil {
		return err
	}

	if f.json {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		a.printImportReport(rep)
	}
	switch {
	case ctx.Err() != nil:
		return silentError{fmt.Errorf("import interrupted: %w", ctx.Err())}
	case importErr != nil:
		return fmt.Errorf("import %s: stopped after %d record(s): %w", file, rep.Records, importErr)
	case len(rep.Errors) > 0:
		return silentError{fmt.Errorf("import %s: %d bad record(s): %w", file, len(rep.Errors), evidence.ErrInvalid)}
	}
	return nil
}

func (a *app) printImportReport(rep importer.Report) {
	fmt.Fprintf(a.stdout, "%s (%s): %d record(s), %d imported: %d new, %d updated, %d unchanged; %d bad\n",
		rep.File, rep.Format, rep.Records, rep.Imported, rep.New, rep.Updated, rep.Unchanged, len(rep.Errors))
	for _, e := range rep.Errors {
		fmt.Fprintf(a.stdout, "%s: %s\n", rep.File, clean(e.Error()))
	}
}

// importProgress counts records on a terminal only.
func (a *app) importProgress(jsonOut bool) (func(importer.Report), func()) {
	if jsonOut || !a.stderrIsTerminal() {
		return nil, func() {}
	}
	bar := a.newBar(-1, "importing")
	return func(r importer.Report) { bar.Set(r.Records) }, func() { bar.Finish() }
}

// importSites tells the importer about the configured sources, with the
// pipeline's URL rules.
type importSites struct {
	p       *ingest.Pipeline
	sources map[string]ingest.Source
}

func (s importSites) Canonical(raw string) string { return s.p.Canonical(raw) }

func (s importSites) Owner(u string) (string, bool) {
	src, ok := s.p.SourceFor(u)
	return src.ID, ok
}

func (s importSites) Has(id string) bool {
	_, ok := s.sources[id]
	return ok
}

func (s importSites) TypeOf(id, u string) string {
	if src, ok := s.sources[id]; ok {
		return src.TypeOf(u)
	}
	return evidence.TypeArticle
}

var _ importer.Sites = importSites{}
