package main

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
)

type searchFlags struct {
	sources, types []string
	from, to       string
	limit, offset  int
	sort           string
	json           bool
}

// searchOutput is the JSON document `search --json` prints.
type searchOutput struct {
	Query  string      `json:"query"`
	Total  uint64      `json:"total"`
	TookMS int64       `json:"took_ms"`
	Hits   []searchHit `json:"hits"`
}

// searchHit is the item JSON plus score and snippet.
type searchHit struct {
	evidence.Item
	Score   float64 `json:"score"`
	Snippet string  `json:"snippet"`
}

func newSearchCommand(a *app) *cobra.Command {
	f := &searchFlags{}
	cmd := &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Search the evidence (an empty query lists every item, newest first)",
		Long: `Search titles, summaries, full text and authors. Words are stemmed, so
"prescribing" also finds "prescribe"; items with all the words rank first.
Use "quoted phrases" for exact phrases and -word to exclude a word.

Snippets mark matches with <mark>; with --json the snippet is HTML (escaped
apart from <mark>), every other field plain text.`,
		Example: `  evidence search "social prescribing"
  evidence search "peer support" --source mental-elf --from 2024-01-01 --json
  evidence search "" --limit 10 --json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := ""
			if len(args) == 1 {
				q = args[0]
			}
			return a.runSearch(cmd.Context(), q, f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.sources, "source", nil, "only items from this source ID (repeatable)")
	fl.StringSliceVar(&f.types, "type", nil, "only items of this type: blog, report, briefing, … (repeatable)")
	fl.StringVar(&f.from, "from", "", "only items published on or after this date (YYYY-MM-DD)")
	fl.StringVar(&f.to, "to", "", "only items published on or before this date (YYYY-MM-DD)")
	fl.IntVar(&f.limit, "limit", 20, "number of hits to show (1-1000)")
	fl.IntVar(&f.offset, "offset", 0, "hits to skip, for paging")
	fl.StringVar(&f.sort, "sort", "", "relevance or newest (default relevance, newest for an empty query)")
	fl.BoolVar(&f.json, "json", false, "print one JSON document on stdout")
	return cmd
}

func parseDay(flag, s string, endOfDay bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, time.UTC)
	if err != nil {
		return nil, usagef("--%s %q: want a date like 2024-01-31", flag, s)
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return &t, nil
}

func (a *app) runSearch(ctx context.Context, text string, f *searchFlags) error {
	if f.limit < 1 || f.limit > 1000 {
		return usagef("--limit %d: want 1 to 1000", f.limit)
	}
	if f.offset < 0 {
		return usagef("--offset %d: must not be negative", f.offset)
	}
	if f.sort != "" && f.sort != "relevance" && f.sort != "newest" {
		return usagef("--sort %q: want relevance or newest", f.sort)
	}
	from, err := parseDay("from", f.from, false)
	if err != nil {
		return err
	}
	to, err := parseDay("to", f.to, true)
	if err != nil {
		return err
	}
	if from != nil && to != nil && to.Before(*from) {
		return usagef("--to %s is before --from %s", f.to, f.from)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	for _, id := range f.sources {
		if _, ok := cfg.Sources[id]; !ok {
			return usagef("--source %q: no such source (configured: %s)", id, strings.Join(cfg.Sources.IDs(), ", "))
		}
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	ix, err := a.openIndex(ctx, cfg, st, true)
	if err != nil {
		return err
	}
	defer ix.Close()

	res, err := ix.Search(ctx, index.Query{
		Text: text, Sources: f.sources, Types: f.types, From: from, To: to,
		Limit: f.limit, Offset: f.offset, Sort: f.sort,
	})
	if err != nil {
		return err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	items, err := st.ItemsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]evidence.Item, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	out := searchOutput{Query: text, Total: res.Total, TookMS: res.Took.Milliseconds(), Hits: []searchHit{}}
	for _, h := range res.Hits {
		it, ok := byID[h.ID]
		if !ok {
			a.logger().Warn("index has an item the store does not; run `evidence reindex`", "id", h.ID)
			continue
		}
		it.Body, it.Provenance = "", nil
		out.Hits = append(out.Hits, searchHit{Item: it, Score: h.Score, Snippet: h.Snippet})
	}
	if f.json {
		return a.printJSON(out)
	}
	a.printHits(out, f.offset)
	return nil
}

func (a *app) printHits(out searchOutput, offset int) {
	w := a.stdout
	if out.Total == 0 {
		fmt.Fprintf(w, "No items match %q.\n", out.Query)
		return
	}
	fmt.Fprintf(w, "%d item(s) match %q (%d ms); showing %d-%d\n\n", out.Total, out.Query, out.TookMS, offset+1, offset+len(out.Hits))
	bold := a.stdoutIsTerminal()
	for i, h := range out.Hits {
		date := "undated"
		if h.Published != nil {
			date = h.Published.Format("2 Jan 2006")
		}
		fmt.Fprintf(w, "%d. %s\n   %s · %s · %s", offset+i+1, clean(h.Title), h.Source, h.Type, date)
		if len(h.Authors) > 0 {
			fmt.Fprintf(w, " · %s", clean(strings.Join(h.Authors, ", ")))
		}
		fmt.Fprintf(w, "\n   %s\n", clean(h.URL))
		if s := terminalSnippet(h.Snippet, bold); s != "" {
			fmt.Fprintf(w, "   %s\n", s)
		}
		fmt.Fprintln(w)
	}
}

// terminalSnippet turns an HTML snippet into text: <mark> becomes bold on a
// terminal and nothing when piped.
func terminalSnippet(s string, bold bool) string {
	on, off := "", ""
	if bold {
		on, off = "\x1b[1m", "\x1b[0m"
	}
	s = strings.NewReplacer("<mark>", "\ue000", "</mark>", "\ue001").Replace(s)
	s = clean(html.UnescapeString(s))
	return strings.NewReplacer("\ue000", on, "\ue001", off).Replace(s)
}

// clean makes text from the web safe for a terminal: control characters
// (escape sequences among them) become spaces, and spaces are collapsed.
func clean(s string) string {
	return evidence.NormalizeSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return ' '
		}
		return r
	}, s))
}
