package evidence

import (
	"fmt"
	"time"
)

// SearchRequest is one search as the CLI, the pages and the API ask for
// it. Text is in the query language (package index/querylang).
type SearchRequest struct {
	Text string
	// Sources, Types and Topics keep items with any of the values given.
	Sources, Types, Topics []string
	// From and To bound the published date (inclusive, calendar dates).
	From, To *time.Time
	// FirstSeenFrom and FirstSeenBefore bound when the items were first
	// seen: FirstSeenFrom <= first seen < FirstSeenBefore (nil: open).
	FirstSeenFrom, FirstSeenBefore *time.Time
	// Limit is the page size (default 20, at most 1000); Offset skips hits.
	Limit, Offset int
	// Sort is "relevance" (the default for text with words) or "newest".
	Sort string
	// Months asks for the matches counted per published month (the
	// results timeline); off by default, since it costs a little.
	Months bool
	// NoFacets skips the facet counts.
	NoFacets bool
}

// SearchResults is one page of a search: the JSON document of
// `evidence search --json` and of GET /api/v1/search (a contract).
type SearchResults struct {
	Query  string      `json:"query"`
	Total  uint64      `json:"total"`
	TookMS int64       `json:"took_ms"`
	Hits   []SearchHit `json:"hits"`
	// Facets counts every matching item by source, type, topic and year.
	Facets map[string][]FacetCount `json:"facets"`
	// Suggestion is a respelt query that finds more ("" if none).
	Suggestion string `json:"suggestion"`
	// Notice says why nothing matched when the words could not be
	// searched for (only stop words, an emoji), or how a word was read
	// (soc*: no wildcards); "" if nothing to say.
	Notice string `json:"notice"`
	// Months counts the matches per published month ("2024-03"), oldest
	// first, when the request asked for them.
	Months []FacetCount `json:"months,omitempty"`
	// Limit and Offset are the page as served.
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// SearchHit is the item JSON plus score and snippet.
type SearchHit struct {
	Item
	Score float64 `json:"score"`
	// Snippet is HTML: escaped text with <mark> around the matches.
	Snippet string `json:"snippet"`
}

// FacetCount is one value of a facet and how many matching items have it.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// QueryError is a malformed query: what is wrong and where (1-based
// character column). It wraps ErrInvalid.
type QueryError struct {
	Query   string
	Column  int
	Message string
	// Near is the text where the error is (up to 20 characters), if any.
	Near string
}

func (e *QueryError) Error() string {
	near := ""
	if e.Near != "" {
		near = fmt.Sprintf(" (at %q)", e.Near)
	}
	return fmt.Sprintf("query: column %d: %s%s", e.Column, e.Message, near)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *QueryError) Unwrap() error { return ErrInvalid }

// ItemPage is an item with what its page shows beside it.
type ItemPage struct {
	Item Item
	// Discusses and DiscussedBy are the linked items (the Mental Elf's
	// appraisals and what they appraise), resolved to their records.
	Discusses, DiscussedBy []Item
	// Related are a few items like this one, from the index.
	Related []Item
}

// TopicCount is one topic of the taxonomy and how many items it has.
type TopicCount struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Query       string `json:"query,omitempty"`
	Items       int    `json:"items"`
}

// SourceRow is one configured source and its status, as `evidence
// sources` and the sources page show it.
type SourceRow struct {
	SourceStatus
	Enabled bool `json:"enabled"`
}
