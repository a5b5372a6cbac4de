package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/internal/eval"
)

type evalFlags struct {
	docs, queries, qrels string
	engine               string
	steps                bool
	perQuery             bool
	json                 bool
}

// evalOutput is the JSON document `eval --json` prints: the project's run
// (bleve with the default analysis; else the only run) at the top level,
// every run under "runs" when there is more than one.
type evalOutput struct {
	*eval.Report
	Docs int            `json:"docs"`
	Runs []*eval.Report `json:"runs,omitempty"`
}

func newEvalCommand(a *app) *cobra.Command {
	f := &evalFlags{}
	cmd := &cobra.Command{
		Use:   "eval --docs FILE --queries FILE --qrels FILE",
		Short: "Measure search relevance on a test collection (nDCG@10, MAP, recall@100, P@10)",
		Long: `Index a test collection's documents into a throw-away index with the
project's own mapping and analysis, run every query (plain text, top 100) and
score the rankings with trec_eval's definitions: nDCG@10 (graded gains when
the judgements are graded), MAP, recall@100 and P@10, averaged over the
queries that have relevant documents.

--engine fts5 runs the same collection through SQLite FTS5 (porter unicode61
tokenizer, bm25 ranking), the alternative a developer might pick; both puts
the two side by side. --steps runs bleve once per analysis step, from bleve's
defaults to the project's analysis, to show what each addition brings.

Files: docs.jsonl, one {"id","title","summary","body"} object a line;
queries.tsv, query ID <TAB> text; qrels, TREC "query-id 0 doc-id grade".`,
		Example: `  evidence eval --docs ../shared/eval/med/docs.jsonl --queries ../shared/eval/med/queries.tsv --qrels ../shared/eval/med/qrels.txt
  evidence eval --docs d.jsonl --queries q.tsv --qrels qrels.txt --engine bleve --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runEval(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.docs, "docs", "", "documents, JSON lines (required)")
	fl.StringVar(&f.queries, "queries", "", "queries, ID<TAB>text lines (required)")
	fl.StringVar(&f.qrels, "qrels", "", "relevance judgements, TREC qrels format (required)")
	fl.StringVar(&f.engine, "engine", "both", "bleve (the project's index), fts5 (SQLite FTS5 baseline) or both")
	fl.BoolVar(&f.steps, "steps", false, "run bleve once per analysis step (stemming, BM25, UK/US spelling, synonyms)")
	fl.BoolVar(&f.perQuery, "per-query", false, "also print each query's nDCG@10")
	fl.BoolVar(&f.json, "json", false, "print one JSON document on stdout")
	return cmd
}

func (a *app) runEval(ctx context.Context, f *evalFlags) error {
	for _, r := range []struct{ flag, v string }{{"docs", f.docs}, {"queries", f.queries}, {"qrels", f.qrels}} {
		if r.v == "" {
			return usagef("--%s is required", r.flag)
		}
	}
	var engines []string
	switch f.engine {
	case "bleve", "fts5":
		engines = []string{f.engine}
	case "both":
		engines = []string{"bleve", "fts5"}
	default:
		return usagef("--engine %q: want bleve, fts5 or both", f.engine)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	c, err := eval.Load(f.docs, f.queries, f.qrels)
	if err != nil {
		return err
	}
	log := a.logger()
	log.Info("eval: collection loaded", "docs", len(c.Docs), "queries", len(c.Topics))

	var runs []*eval.Report
	primary := 0
	for _, name := range engines {
		switch name {
		case "bleve":
			steps := []eval.Step{{Name: "bleve", Analysis: index.DefaultAnalysis()}}
			if f.steps {
				steps = eval.Steps()
			}
			for i, st := range steps {
				an := st.Analysis
				opts := a.indexOptions(cfg) // synonyms file and taxonomy from config
				opts.Analysis = &an
				label := st.Name
				if f.steps {
					label = "bleve: " + st.Name
				}
				r, err := runEvalEngine(ctx, c, label, func() (evalEngine, error) { return eval.NewBleve(ctx, "", c.Docs, opts) })
				if err != nil {
					return err
				}
				if i == len(steps)-1 {
					primary = len(runs)
				}
				runs = append(runs, r)
			}
		case "fts5":
			r, err := runEvalEngine(ctx, c, "fts5", func() (evalEngine, error) { return eval.NewFTS5(ctx, "", c.Docs) })
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
	}

	if f.json {
		out := evalOutput{Report: runs[primary], Docs: len(c.Docs)}
		if len(runs) > 1 {
			out.Runs = runs
		}
		return a.printJSON(out)
	}
	a.printEval(c, runs, f.perQuery)
	return nil
}

// evalEngine is an index holding the collection.
type evalEngine interface {
	eval.Searcher
	Close() error
}

func runEvalEngine(ctx context.Context, c *eval.Collection, name string, open func() (evalEngine, error)) (*eval.Report, error) {
	e, err := open()
	if err != nil {
		return nil, err
	}
	r, err := eval.Run(ctx, name, e, c.Topics, c.Qrels)
	if cerr := e.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return r, err
}

func (a *app) printEval(c *eval.Collection, runs []*eval.Report, perQuery bool) {
	judged := len(runs[0].Queries)
	fmt.Fprintf(a.stdout, "%d documents, %d queries (%d with relevant documents), top %d per query\n\n",
		len(c.Docs), len(c.Topics), judged, eval.Depth)
	width := len("engine")
	for _, r := range runs {
		width = max(width, len(r.Engine))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tnDCG@10\tMAP\trecall@100\tP@10\t\n", width, "engine")
	for _, r := range runs {
		fmt.Fprintf(tw, "%-*s\t%.4f\t%.4f\t%.4f\t%.4f\t\n", width, r.Engine, r.NDCG10, r.MAP, r.Recall100, r.P10)
	}
	tw.Flush()
	for _, r := range runs {
		if len(r.Rewritten) > 0 {
			ids := slices.Sorted(maps.Keys(r.Rewritten))
			fmt.Fprintf(a.stdout, "\nnote: the index's query language rejected queries %s as written; they ran without stop words (see --json \"rewritten\")\n",
				strings.Join(ids, ", "))
			break
		}
	}
	if !perQuery {
		return
	}
	fmt.Fprintln(a.stdout, "\nnDCG@10 per query")
	tw = tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "query\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t", r.Engine)
	}
	fmt.Fprintln(tw)
	for i, q := range runs[0].Queries {
		fmt.Fprintf(tw, "%s\t", q.ID)
		for _, r := range runs {
			fmt.Fprintf(tw, "%.4f\t", r.Queries[i].NDCG10)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
