package index

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	htmlhl "github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/evidencetracker/evidence"
)

// Sort orders accepted in Query.Sort.
const (
	SortRelevance = "relevance"
	SortNewest    = "newest"
)

// Result-window limits.
const (
	DefaultLimit = 20
	MaxLimit     = 1000
)

// snippetChars is the length, in bytes, of a snippet built from the start of
// the summary when no highlighted fragment is available.
const snippetChars = 200

// Query is a search over the index.
type Query struct {
	// Text is the user's query: words (any may match, documents matching all
	// rank higher), "quoted phrases" (required) and -excluded words or
	// -"phrases". Empty text matches every item.
	Text string
	// Sources and Types filter to items whose source (type) is any of those
	// given; empty means no filter.
	Sources []string
	Types   []string
	// From and To bound the published date, both inclusive, compared as
	// calendar dates (the date each time has in its own location, taken as a
	// UTC date). Items without a published date never match a date filter.
	From, To *time.Time
	// Limit is the page size (default 20, at most 1000); Offset skips hits.
	Limit, Offset int
	// Sort is SortRelevance (default for non-empty text) or SortNewest
	// (published descending, then first seen descending). Empty text always
	// sorts newest first.
	Sort string
}

// Result is one page of hits.
type Result struct {
	// Total is the number of matching items, across all pages.
	Total uint64
	Took  time.Duration
	Hits  []Hit
}

// Hit is one matching item.
type Hit struct {
	ID    string
	Score float64
	// Snippet is HTML-escaped text from the summary or title, with <mark>
	// around the query's matches when there are any.
	Snippet string
}

// Search runs q and returns one page of hits. Invalid queries (unknown sort,
// From after To) return an error wrapping evidence.ErrInvalid.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	req, err := buildRequest(q)
	if err != nil {
		return nil, err
	}
	res, err := x.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("index: search %q: %w", q.Text, err)
	}
	out := &Result{Total: res.Total, Took: res.Took, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		summary, _ := h.Fields[fieldSummary].(string)
		out.Hits = append(out.Hits, Hit{
			ID:      h.ID,
			Score:   h.Score,
			Snippet: snippet(h.Fragments[fieldSummary], h.Fragments[fieldTitle], summary),
		})
	}
	x.log.Debug("search", "text", q.Text, "total", out.Total, "took", out.Took)
	return out, nil
}

// buildRequest turns q into a bleve search request.
func buildRequest(q Query) (*bleve.SearchRequest, error) {
	pt := parseText(q.Text)

	sortBy := q.Sort
	switch {
	case pt.empty():
		sortBy = SortNewest
	case sortBy == "":
		sortBy = SortRelevance
	case sortBy != SortRelevance && sortBy != SortNewest:
		return nil, fmt.Errorf("index: search: unknown sort %q: %w", q.Sort, evidence.ErrInvalid)
	}
	if q.From != nil && q.To != nil && q.From.After(*q.To) {
		return nil, fmt.Errorf("index: search: from %s after to %s: %w",
			q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), evidence.ErrInvalid)
	}

	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := max(q.Offset, 0)

	root := pt.query()
	if f := filters(q); f != nil {
		bq, ok := root.(*query.BooleanQuery)
		if !ok { // match all
			bq = bleve.NewBooleanQuery()
		}
		bq.AddFilter(f)
		root = bq
	}

	req := bleve.NewSearchRequestOptions(root, limit, offset, false)
	req.Fields = []string{fieldSummary}
	if sortBy == SortNewest {
		req.SortBy([]string{"-" + fieldPublished, "-" + fieldFirstSeen, "_id"})
	} else {
		req.SortBy([]string{"-_score", "-" + fieldPublished, "_id"})
	}
	if !pt.empty() {
		req.Highlight = bleve.NewHighlightWithStyle(htmlhl.Name)
		req.Highlight.Fields = []string{fieldTitle, fieldSummary}
	}
	return req, nil
}

// filters returns the conjunction of q's source, type and date filters, or
// nil when there are none.
func filters(q Query) query.Query {
	var conj []query.Query
	terms := func(field string, values []string) {
		var dis []query.Query
		for _, v := range values {
			if v == "" {
				continue
			}
			tq := bleve.NewTermQuery(v)
			tq.SetField(field)
			dis = append(dis, tq)
		}
		if len(dis) > 0 {
			conj = append(conj, bleve.NewDisjunctionQuery(dis...))
		}
	}
	terms(fieldSource, q.Sources)
	terms(fieldType, q.Types)
	if q.From != nil || q.To != nil {
		start, end := dayBounds(q.From, q.To)
		incl, excl := true, false
		dq := bleve.NewDateRangeInclusiveQuery(start, end, &incl, &excl)
		dq.SetField(fieldPublished)
		conj = append(conj, dq)
	}
	if len(conj) == 0 {
		return nil
	}
	return bleve.NewConjunctionQuery(conj...)
}

// parsedText is the user's text split into its parts.
type parsedText struct {
	words, phrases       []string
	notWords, notPhrases []string
}

func (p parsedText) empty() bool {
	return len(p.words)+len(p.phrases)+len(p.notWords)+len(p.notPhrases) == 0
}

// parseText splits s into words, "quoted phrases", -words and -"phrases". It
// never fails: an unclosed quote runs to the end, a lone "-" is ignored, and
// every other character is left for the analyzers (so "a:b" or "(x" are just
// text, never query syntax).
func parseText(s string) parsedText {
	var p parsedText
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		neg := false
		if rs[i] == '-' {
			neg = true
			i++
			if i == len(rs) || unicode.IsSpace(rs[i]) {
				continue
			}
		}
		if rs[i] == '"' {
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			phrase := strings.Join(strings.Fields(string(rs[i+1:j])), " ")
			i = j + 1
			if phrase == "" {
				continue
			}
			if neg {
				p.notPhrases = append(p.notPhrases, phrase)
			} else {
				p.phrases = append(p.phrases, phrase)
			}
			continue
		}
		j := i
		for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '"' {
			j++
		}
		word := string(rs[i:j])
		i = j
		if neg {
			p.notWords = append(p.notWords, word)
		} else {
			p.words = append(p.words, word)
		}
	}
	return p
}

// query builds the bleve query for p: MatchAll when p is empty, else a
// boolean query whose Should clauses score the words per field (all words in
// one field boosted double), whose Must clauses require each phrase in some
// field, and whose MustNot clauses exclude the negated words and phrases.
func (p parsedText) query() query.Query {
	if p.empty() {
		return bleve.NewMatchAllQuery()
	}
	bq := bleve.NewBooleanQuery()
	if len(p.words) > 0 {
		text := strings.Join(p.words, " ")
		for _, f := range textFields {
			some := bleve.NewMatchQuery(text)
			some.SetField(f.name)
			some.SetBoost(f.boost)
			bq.AddShould(some)
			if len(p.words) > 1 {
				all := bleve.NewMatchQuery(text)
				all.SetField(f.name)
				all.SetOperator(query.MatchQueryOperatorAnd)
				all.SetBoost(2 * f.boost)
				bq.AddShould(all)
			}
		}
	}
	for _, ph := range p.phrases {
		bq.AddMust(phraseAnyField(ph))
	}
	if len(p.words) == 0 && len(p.phrases) == 0 {
		bq.AddMust(bleve.NewMatchAllQuery())
	}
	for _, w := range p.notWords {
		for _, f := range textFields {
			mq := bleve.NewMatchQuery(w)
			mq.SetField(f.name)
			bq.AddMustNot(mq)
		}
	}
	for _, ph := range p.notPhrases {
		bq.AddMustNot(phraseAnyField(ph))
	}
	return bq
}

// phraseAnyField matches phrase in any text field, with the field boosts.
// The body keeps no term vectors, so phrases are not matched in the body.
func phraseAnyField(phrase string) query.Query {
	var dis []query.Query
	for _, f := range textFields {
		if f.name == fieldBody {
			continue
		}
		pq := bleve.NewMatchPhraseQuery(phrase)
		pq.SetField(f.name)
		pq.SetBoost(f.boost)
		dis = append(dis, pq)
	}
	return bleve.NewDisjunctionQuery(dis...)
}

// snippet picks the summary fragment if it highlights a match, else the
// title fragment if it does, else the start of the summary, escaped.
func snippet(summaryFrags, titleFrags []string, summary string) string {
	for _, frags := range [][]string{summaryFrags, titleFrags} {
		if len(frags) > 0 && strings.Contains(frags[0], "<mark>") {
			return frags[0]
		}
	}
	return html.EscapeString(truncate(summary, snippetChars))
}

// truncate shortens s to at most n bytes, at a word boundary when one is
// near, adding an ellipsis when it cuts.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > n*3/4 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " ,;:.") + "…"
}
