package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
)

type searchFlags struct {
	sources, types []string
	topics         []string
	from, to       string
	limit, offset  int
	sort           string
	json           bool
}

// searchOutput is the JSON document `search --json` prints (the same as
// GET /api/v1/search).
type searchOutput = evidence.SearchResults

func newSearchCommand(a *app) *cobra.Command {
	f := &searchFlags{}
	cmd := &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Search the evidence (an empty query lists every item, newest first)",
		Long: `Search titles, summaries, full text and authors. Words are stemmed, so
"prescribing" also finds "prescribe"; UK and US spellings find each other
(behaviour, behavior) and so do acronyms and what they stand for (CBT,
cognitive behavioural therapy; IAPT, NHS Talking Therapies). Items with all
the words rank first; words frequent in the best matches help order them
(pseudo-relevance feedback), without changing which items match.

  "older people"                  a phrase (required): the words next to
                                  each other, in that order, in the title,
                                  summary, full text or authors
  -housing  -"link workers"       leave out items with a word or phrase
  social NOT care                 the same as social -care
  loneliness OR isolation         either (OR binds tighter than the space)
  (loneliness OR isolation) -care grouping; NOT (a OR b) leaves out both;
                                  (a b) OR c means (a OR c) (b OR c)
  title:dementia  author:smith    in the title, by an author
  source:kings-fund  type:report  topic:"peer support"
  published:>=2020-01-01  published:<2021  year:2024  published:2020..2022

A space between words is AND already (AND in capitals is allowed). There
are no wildcards: soc* looks for "soc" (words are matched by their stem, so
type the whole word). A malformed query (an unclosed quote or parenthesis, a dangling OR or NOT,
NOT (a b), a bad date, an unknown field) is reported with its column (exit
status 2). A query whose words cannot be searched for (only stop words, an
emoji) says why nothing matched ("notice" with --json).

A query that starts with -word would be read as flags: put the flags first
and the query after --, as in: evidence search --json -- -care

Every search counts the matches by source, type, topic and year, and
suggests a respelling when a query finds little. Snippets mark matches with
<mark>; with --json the snippet is HTML (escaped apart from <mark>), every
other field plain text.`,
		Example: `  evidence search "social prescribing"
  evidence search '"peer support" -prison published:>=2024' --json
  evidence search "peer support" --source mental-elf --from 2024-01-01 --json
  evidence search "" --limit 10 --json
  evidence search --json -- "-care published:2024"`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := ""
			if len(args) == 1 {
				q = args[0]
			}
			return a.runSearch(cmd.Context(), q, f)
		},
	}
	cmd.SetFlagErrorFunc(searchFlagError)
	fl := cmd.Flags()
	fl.StringSliceVar(&f.sources, "source", nil, "only items from this source ID (repeatable)")
	fl.StringSliceVar(&f.types, "type", nil, "only items of this type: blog, report, briefing, … (repeatable)")
	fl.StringSliceVar(&f.topics, "topic", nil, "only items tagged with this topic (repeatable; see `evidence topics`)")
	fl.StringVar(&f.from, "from", "", "only items published on or after this date (YYYY-MM-DD)")
	fl.StringVar(&f.to, "to", "", "only items published on or before this date (YYYY-MM-DD)")
	fl.IntVar(&f.limit, "limit", 20, "number of hits to show (1-1000)")
	fl.IntVar(&f.offset, "offset", 0, "hits to skip, for paging")
	fl.StringVar(&f.sort, "sort", "", "relevance or newest (default relevance, newest for an empty query)")
	fl.BoolVar(&f.json, "json", false, "print one JSON document on stdout")
	return cmd
}

// searchFlagError is a usage error; an unknown flag may be a query that
// starts with an exclusion (-care), so it says how to give one.
func searchFlagError(_ *cobra.Command, err error) error {
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown shorthand flag") || strings.HasPrefix(msg, "unknown flag") {
		return usagef("%s (a query that starts with -word must come after --, flags first: evidence search --json -- -care)", msg)
	}
	return usageError{err}
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
	st, ix, closeAll, err := a.openBothForReading(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeAll()

	out, err := a.catalog(cfg, st, ix).Search(ctx, evidence.SearchRequest{
		Text: text, Sources: f.sources, Types: f.types, Topics: f.topics, From: from, To: to,
		Limit: f.limit, Offset: f.offset, Sort: f.sort,
	})
	var qerr *evidence.QueryError
	switch {
	case errors.As(err, &qerr):
		return usagef("%v", qerr)
	case errors.Is(err, evidence.ErrInvalid):
		return usageError{err}
	case err != nil:
		return err
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
		if out.Notice != "" {
			fmt.Fprintf(w, "Why: %s.\n", clean(out.Notice))
		}
		if out.Suggestion != "" {
			fmt.Fprintf(w, "Did you mean %q?\n", clean(out.Suggestion))
		}
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
		if len(h.Topics) > 0 {
			fmt.Fprintf(w, "\n   topics: %s", clean(strings.Join(h.Topics, ", ")))
		}
		fmt.Fprintf(w, "\n   %s\n", clean(h.URL))
		if s := terminalSnippet(h.Snippet, bold); s != "" {
			fmt.Fprintf(w, "   %s\n", s)
		}
		fmt.Fprintln(w)
	}
	if out.Suggestion != "" {
		fmt.Fprintf(w, "Did you mean %q?\n\n", clean(out.Suggestion))
	}
	if out.Notice != "" {
		fmt.Fprintf(w, "Note: %s.\n\n", clean(out.Notice))
	}
	printFacets(w, out.Facets)
}

// printFacets prints one line per facet: "By source: mental-elf 12 · …".
func printFacets(w io.Writer, facets map[string][]index.FacetCount) {
	for _, name := range []string{index.FacetSource, index.FacetType, index.FacetTopic, index.FacetYear} {
		fc := facets[name]
		if len(fc) == 0 {
			continue
		}
		parts := make([]string, len(fc))
		for i, c := range fc {
			parts[i] = fmt.Sprintf("%s %d", clean(c.Value), c.Count)
		}
		fmt.Fprintf(w, "By %s: %s\n", name, strings.Join(parts, " · "))
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
