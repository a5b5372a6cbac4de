package index

import (
	"context"
	"fmt"
	"html"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	htmlhl "github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index/querylang"
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

// Facet names in Result.Facets.
const (
	FacetSource = "source"
	FacetType   = "type"
	FacetTopic  = "topic"
	FacetYear   = "year"
	// FacetMonth counts matches per published month ("2024-03"), oldest
	// first; only when Query.Months asks for it.
	FacetMonth = "month"
)

// monthFacetSize bounds the timeline: 50 years of months.
const monthFacetSize = 600

// facetSizes is how many values each facet returns, most frequent first
// (years newest first).
var facetSizes = []struct {
	name, field string
	size        int
}{
	{FacetSource, fieldSource, 20},
	{FacetType, fieldType, 20},
	{FacetTopic, fieldTopics, 50},
	{FacetYear, fieldYear, 50},
}

// suggestBelow: a query with fewer hits than this gets a "did you mean"
// suggestion if a respelling finds more.
const suggestBelow = 3

// Query is a search over the index.
type Query struct {
	// Text is the user's query in the query language (see package
	// querylang): words (ranked, items with all of them first), "quoted
	// phrases" (required), -excluded words or phrases, OR between
	// alternatives, and field:value terms (title:, author:, source:, type:,
	// topic:, published:>=2020-01-01, year:2024). Empty text matches every
	// item. A malformed text is an error wrapping evidence.ErrInvalid.
	Text string
	// Sources, Types and Topics filter to items whose source (type, topic)
	// is any of those given; empty means no filter.
	Sources []string
	Types   []string
	Topics  []string
	// From and To bound the published date, both inclusive, compared as
	// calendar dates (the date each time has in its own location, taken as a
	// UTC date). Items without a published date never match a date filter.
	From, To *time.Time
	// FirstSeenFrom and FirstSeenBefore bound when items were first seen
	// (stored): FirstSeenFrom <= first seen < FirstSeenBefore, exact
	// instants; nil leaves that end open. Saved searches count what is new
	// since a visit, and a digest section takes one week, with them.
	FirstSeenFrom, FirstSeenBefore *time.Time
	// Limit is the page size (default 20, at most 1000); Offset skips hits.
	Limit, Offset int
	// Sort is SortRelevance (default for text with words or phrases) or
	// SortNewest (published descending, then first seen descending). A query
	// with nothing to rank (empty text, only filters or exclusions) always
	// sorts newest first.
	Sort string
	// NoFacets skips the facet counts (they cost a little on every search).
	NoFacets bool
	// Months adds FacetMonth to the facets (the results timeline).
	Months bool
}

// page returns q's page size (Limit, defaulted and bounded) and offset.
func (q Query) page() (limit, offset int) {
	limit = q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return min(limit, MaxLimit), max(q.Offset, 0)
}

// byRelevance reports whether q asks for relevance order (the default).
func (q Query) byRelevance() bool { return q.Sort == "" || q.Sort == SortRelevance }

// Result is one page of hits.
type Result struct {
	// Total is the number of matching items, across all pages.
	Total uint64
	// Took is the time the whole search took.
	Took time.Duration
	Hits []Hit
	// Facets counts the matching items (all pages) by FacetSource,
	// FacetType, FacetTopic and FacetYear. Every facet is present, maybe
	// empty.
	Facets map[string][]FacetCount
	// Suggestion is a respelt query that finds more, when this one finds
	// little ("prescibing" → "prescribing"); empty otherwise.
	Suggestion string
	// Notice says why nothing matched when the words could not be searched
	// for (only stop words, an emoji) or how a word was read (soc*); empty
	// otherwise.
	Notice string
}

// FacetCount is one value of a facet and how many matching items have it.
type FacetCount = evidence.FacetCount

// Hit is one matching item.
type Hit struct {
	ID    string
	Score float64
	// Snippet is HTML-escaped text from the summary or title, with <mark>
	// around the query's matches when there are any.
	Snippet string
	// Topics are the item's topic tags as indexed (see Options.Topics).
	Topics []string
}

// Search runs q and returns one page of hits. Invalid queries (a malformed
// text, an unknown sort, From after To) return an error wrapping
// evidence.ErrInvalid whose message says what is wrong.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	start := time.Now()
	parsed, err := querylang.Parse(q.Text)
	if err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	p := x.planner.plan(parsed)
	out, ok, err := x.feedbackSearch(ctx, q, p)
	if err != nil {
		return nil, fmt.Errorf("index: search %q: %w", q.Text, err)
	}
	if !ok {
		if out, err = x.search(ctx, q, p); err != nil {
			return nil, err
		}
	}
	if p.scored() {
		s, err := x.suggest(ctx, q, parsed, out.Total)
		if err != nil {
			return nil, err
		}
		out.Suggestion = s
	}
	out.Notice = x.planner.notice(parsed, out.Total)
	out.Took = time.Since(start)
	x.log.Debug("search", "text", q.Text, "total", out.Total, "took", out.Took, "suggestion", out.Suggestion)
	return out, nil
}

// search runs q's plan p as one bleve search (after the first search of
// feedback, when it applies but feedbackSearch could not run it).
func (x *Index) search(ctx context.Context, q Query, p *plan) (*Result, error) {
	sctx, rk, err := x.ranking(ctx, q, p)
	if err != nil {
		return nil, fmt.Errorf("index: search %q: %w", q.Text, err)
	}
	req, err := buildRequest(q, p, strings.TrimSpace(q.Text) != "", rk)
	if err != nil {
		return nil, err
	}
	res, err := x.bi.SearchInContext(x.phraseContext(sctx), req)
	if err != nil {
		return nil, fmt.Errorf("index: search %q: %w", q.Text, err)
	}
	out := &Result{Total: res.Total, Hits: make([]Hit, 0, len(res.Hits)), Facets: facets(res)}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, hitOf(h, h.Score))
	}
	return out, nil
}

// phraseContext returns ctx carrying the mean field lengths phraseQuery
// normalises with.
func (x *Index) phraseContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, phraseStatsKey{}, phraseStats(x.lengths.mean))
}

// hitOf returns the Hit of a bleve hit loaded with the summary and topics
// and highlighted in title and summary, scored score.
func hitOf(h *bsearch.DocumentMatch, score float64) Hit {
	summary, _ := h.Fields[fieldSummary].(string)
	return Hit{
		ID:      h.ID,
		Score:   score,
		Snippet: snippet(h.Fragments[fieldSummary], h.Fragments[fieldTitle], summary),
		Topics:  storedStrings(h.Fields[fieldTopics]),
	}
}

// count returns how many items q matches.
func (x *Index) count(ctx context.Context, q Query) (uint64, error) {
	parsed, err := querylang.Parse(q.Text)
	if err != nil {
		return 0, err
	}
	q.Limit, q.Offset, q.NoFacets = 1, 0, true
	req, err := buildRequest(q, x.planner.plan(parsed), true, nil)
	if err != nil {
		return 0, err
	}
	req.Size = 0
	req.Highlight = nil
	req.Fields = nil
	res, err := x.bi.SearchInContext(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

// storedStrings reads a stored field that may hold one string or several.
func storedStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	default:
		return []string{}
	}
}

func facets(res *bleve.SearchResult) map[string][]FacetCount {
	out := make(map[string][]FacetCount, len(facetSizes))
	for _, f := range facetSizes {
		counts := []FacetCount{}
		if fr, ok := res.Facets[f.name]; ok && fr.Terms != nil {
			for _, t := range fr.Terms.Terms() {
				counts = append(counts, FacetCount{Value: t.Term, Count: t.Count})
			}
		}
		if f.name == FacetYear {
			sort.Slice(counts, func(i, j int) bool { return counts[i].Value > counts[j].Value })
		} else {
			sort.SliceStable(counts, func(i, j int) bool {
				if counts[i].Count != counts[j].Count {
					return counts[i].Count > counts[j].Count
				}
				return counts[i].Value < counts[j].Value
			})
		}
		out[f.name] = counts
	}
	if fr, ok := res.Facets[FacetMonth]; ok && fr.Terms != nil {
		counts := []FacetCount{}
		for _, t := range fr.Terms.Terms() {
			counts = append(counts, FacetCount{Value: t.Term, Count: t.Count})
		}
		sort.Slice(counts, func(i, j int) bool { return counts[i].Value < counts[j].Value })
		out[FacetMonth] = counts
	}
	return out
}

// rankClauses replace a plan's ranking clauses (see Index.ranking): rank
// scores, match (if not nil) decides which documents match.
type rankClauses struct {
	rank, match query.Query
	// ids says match is a set of documents already found with q's
	// filters: they need not be applied again.
	ids bool
}

// buildRequest turns q and its plan into a bleve search request. hasText
// says whether the user typed anything: text that analyses to nothing
// ("the and of") matches nothing rather than everything. rk, if not nil,
// ranks the plain words instead of the plan's own clauses.
func buildRequest(q Query, p *plan, hasText bool, rk *rankClauses) (*bleve.SearchRequest, error) {
	sortBy := q.Sort
	switch {
	case sortBy != "" && sortBy != SortRelevance && sortBy != SortNewest:
		return nil, fmt.Errorf("index: search: unknown sort %q (want %s or %s): %w", q.Sort, SortRelevance, SortNewest, evidence.ErrInvalid)
	case !p.scored():
		sortBy = SortNewest
	case sortBy == "":
		sortBy = SortRelevance
	}
	for _, d := range []*time.Time{q.From, q.To} {
		if d != nil && (d.Year() < querylang.MinYear || d.Year() > querylang.MaxYear) {
			return nil, fmt.Errorf("index: search: date %s out of range: years %d to %d: %w",
				d.Format(time.DateOnly), querylang.MinYear, querylang.MaxYear, evidence.ErrInvalid)
		}
	}
	if q.From != nil && q.To != nil && q.From.After(*q.To) {
		return nil, fmt.Errorf("index: search: from %s after to %s: %w",
			q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), evidence.ErrInvalid)
	}

	limit, offset := q.page()

	var root query.Query
	if hasText && p.empty() && p.vanished {
		root = bleve.NewMatchNoneQuery()
	} else {
		root = p.query(q, rk)
	}

	req := bleve.NewSearchRequestOptions(root, limit, offset, false)
	req.Fields = []string{fieldSummary, fieldTopics}
	if sortBy == SortNewest {
		req.SortBy([]string{"-" + fieldPublished, "-" + fieldFirstSeen, "_id"})
	} else {
		// Score alone: a secondary key would load doc values (and the
		// external ID) of every matching document, not just the page.
		// Ties keep index order.
		req.SortBy([]string{"-_score"})
	}
	if p.scored() {
		req.Highlight = bleve.NewHighlightWithStyle(htmlhl.Name)
		req.Highlight.Fields = []string{fieldTitle, fieldSummary}
	}
	if !q.NoFacets {
		for _, f := range facetSizes {
			req.AddFacet(f.name, bleve.NewFacetRequest(f.field, f.size))
		}
	}
	if q.Months {
		req.AddFacet(FacetMonth, bleve.NewFacetRequest(fieldMonth, monthFacetSize))
	}
	return req, nil
}

// query builds the bleve query for p and q's filters, ranking the plain
// words with rk when it is not nil.
func (p *plan) query(q Query, rk *rankClauses) query.Query {
	bq := bleve.NewBooleanQuery()
	for i := range p.must {
		bq.AddMust(p.must[i].bleve(1))
	}
	var filters []query.Query
	switch {
	case len(p.soft) > 0 && rk != nil:
		bq.AddShould(rk.rank)
		if rk.match != nil {
			filters = append(filters, rk.match)
		}
	case len(p.soft) > 0:
		p.addRanking(bq)
	}
	if len(p.must) == 0 && len(p.soft) == 0 {
		bq.AddMust(bleve.NewMatchAllQuery())
	}
	for i := range p.mustNot {
		bq.AddMustNot(p.mustNot[i].bleve(1))
	}
	if rk == nil || !rk.ids {
		for i := range p.filters {
			filters = append(filters, p.filters[i].bleve(1))
		}
		filters = append(filters, optionFilters(q)...)
	}
	switch len(filters) {
	case 0:
		return bq
	case 1:
		return &leapQuery{q: bq, filter: filters[0]}
	default:
		return &leapQuery{q: bq, filter: bleve.NewConjunctionQuery(filters...)}
	}
}

// addRanking adds the soft conditions as Should clauses: per field, any of
// their terms (weighted by the field's boost), and, when there are several,
// all of them in the same field (double weight) and all of them anywhere.
// Without Must clauses bleve requires one Should clause to match, so some
// word must match.
func (p *plan) addRanking(bq *query.BooleanQuery) {
	for _, f := range textFields {
		terms := p.softFieldTerms(f.name)
		if len(terms) == 0 {
			continue
		}
		some := make([]query.Query, len(terms))
		for i, t := range terms {
			some[i] = termQuery(t, f.name, f.boost)
		}
		bq.AddShould(disjunction(some))
		if len(p.soft) < 2 {
			continue
		}
		all := make([]query.Query, 0, len(p.soft))
		for i := range p.soft {
			fq := p.soft[i].fieldQuery(f.name, 2)
			if fq == nil {
				all = nil
				break
			}
			all = append(all, fq)
		}
		if len(all) > 0 {
			bq.AddShould(bleve.NewConjunctionQuery(all...))
		}
	}
	if len(p.soft) > 1 {
		all := make([]query.Query, len(p.soft))
		for i := range p.soft {
			all[i] = p.soft[i].bleve(1)
		}
		bq.AddShould(bleve.NewConjunctionQuery(all...))
	}
}

// softFieldTerms returns the distinct terms the plain words look for in
// field, in order.
func (p *plan) softFieldTerms(field string) []string {
	var terms []string
	seen := map[string]bool{}
	for i := range p.soft {
		for _, t := range p.soft[i].fieldTerms(field) {
			if !seen[t] {
				seen[t] = true
				terms = append(terms, t)
			}
		}
	}
	return terms
}

// optionFilters are the filters given outside the text (Query.Sources…).
func optionFilters(q Query) []query.Query {
	var conj []query.Query
	terms := func(field string, values []string) {
		var dis []query.Query
		for _, v := range values {
			if v == "" {
				continue
			}
			tq := bleve.NewTermQuery(strings.ToLower(v))
			tq.SetField(field)
			dis = append(dis, tq)
		}
		if len(dis) > 0 {
			conj = append(conj, disjunction(dis))
		}
	}
	terms(fieldSource, q.Sources)
	terms(fieldType, q.Types)
	terms(fieldTopics, q.Topics)
	if q.From != nil || q.To != nil {
		start, end := dayBounds(q.From, q.To)
		conj = append(conj, dateRange(start, end))
	}
	if q.FirstSeenFrom != nil || q.FirstSeenBefore != nil {
		var start, end time.Time // zero: open
		if q.FirstSeenFrom != nil {
			start = q.FirstSeenFrom.UTC()
		}
		if q.FirstSeenBefore != nil {
			end = q.FirstSeenBefore.UTC()
		}
		incl, excl := true, false
		dq := bleve.NewDateRangeInclusiveQuery(start, end, &incl, &excl)
		dq.SetField(fieldFirstSeen)
		conj = append(conj, dq)
	}
	return conj
}

func dateRange(from, to time.Time) query.Query {
	incl, excl := true, false
	dq := bleve.NewDateRangeInclusiveQuery(from, to, &incl, &excl)
	dq.SetField(fieldPublished)
	return dq
}

func termQuery(term, field string, boost float64) query.Query {
	tq := bleve.NewTermQuery(term)
	tq.SetField(field)
	tq.SetBoost(boost)
	return tq
}

func disjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

func conjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewConjunctionQuery(qs...)
}

// bleve returns c as a bleve query, boosts multiplied by scale.
func (c *cond) bleve(scale float64) query.Query {
	switch c.kind {
	case condKeyword:
		tq := bleve.NewTermQuery(c.value)
		tq.SetField(c.field)
		return tq
	case condDate:
		return dateRange(c.from, c.to)
	case condOr:
		alts := make([]query.Query, len(c.alts))
		for i := range c.alts {
			alts[i] = c.alts[i].bleve(scale)
		}
		return disjunction(alts)
	}
	var dis []query.Query
	for i := range c.forms {
		if fq := c.forms[i].query(scale); fq != nil {
			dis = append(dis, fq)
		}
	}
	if len(dis) == 0 {
		return bleve.NewMatchNoneQuery()
	}
	return disjunction(dis)
}

// fieldQuery returns c restricted to field, or nil if c has nothing there.
func (c *cond) fieldQuery(field string, scale float64) query.Query {
	switch c.kind {
	case condText:
		for i := range c.forms {
			if c.forms[i].field == field {
				return c.forms[i].query(scale)
			}
		}
		return nil
	case condOr:
		var dis []query.Query
		for i := range c.alts {
			if fq := c.alts[i].fieldQuery(field, scale); fq != nil {
				dis = append(dis, fq)
			}
		}
		if len(dis) == 0 {
			return nil
		}
		return disjunction(dis)
	default:
		return nil
	}
}

// fieldTerms returns the terms c looks for in field.
func (c *cond) fieldTerms(field string) []string {
	switch c.kind {
	case condText:
		for i := range c.forms {
			if c.forms[i].field == field {
				return c.forms[i].terms()
			}
		}
	case condOr:
		var out []string
		for i := range c.alts {
			out = append(out, c.alts[i].fieldTerms(field)...)
		}
		return out
	}
	return nil
}

// query returns the bleve query for f, or nil if f cannot match (empty, or
// only phrases of several words in a field without positions).
func (f *fieldForm) query(scale float64) query.Query {
	boost := f.boost * scale
	if len(f.units) > 0 {
		conj := make([]query.Query, len(f.units))
		for i, u := range f.units {
			alts := make([]query.Query, len(u))
			for j, t := range u {
				alts[j] = termQuery(t, f.field, boost)
			}
			conj[i] = disjunction(alts)
		}
		return conjunction(conj)
	}
	var dis []query.Query
	for _, ph := range f.phrases {
		switch {
		case len(ph) == 1: // one word (maybe with stop words): no positions needed
			for _, t := range ph[0] {
				dis = append(dis, termQuery(t, f.field, boost))
			}
		case f.field == fieldBody: // long: the lean phrase searcher
			dis = append(dis, &phraseQuery{field: f.field, slots: ph, boost: boost})
		case f.positions:
			mq := query.NewMultiPhraseQuery(ph, f.field)
			mq.SetBoost(boost)
			dis = append(dis, mq)
		}
	}
	for _, t := range f.anyOf {
		dis = append(dis, termQuery(t, f.field, boost))
	}
	if len(dis) == 0 {
		return nil
	}
	return disjunction(dis)
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
	return strings.TrimRight(cut(s, n), " ,;:.") + "…"
}

// cut returns the start of s of at most n bytes, ending at a word boundary
// when one is in its last quarter, never inside a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	if sp := strings.LastIndexByte(s[:end], ' '); sp > n*3/4 {
		end = sp
	}
	return s[:end]
}

// maxTopics bounds the topics TopicCounts reports.
const maxTopics = 10000

// TopicCounts returns how many items carry each topic tag (the taxonomy's
// and items' own), keyed by topic name in lower case.
func (x *Index) TopicCounts(ctx context.Context) (map[string]int, error) {
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), 0, 0, false)
	req.AddFacet(FacetTopic, bleve.NewFacetRequest(fieldTopics, maxTopics))
	res, err := x.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("index: topic counts: %w", err)
	}
	out := map[string]int{}
	for _, fc := range facets(res)[FacetTopic] {
		out[fc.Value] = fc.Count
	}
	return out, nil
}
