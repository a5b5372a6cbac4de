package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/index/querylang"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// CatalogStore is what the catalogue reads from the store.
type CatalogStore interface {
	Item(ctx context.Context, id string) (evidence.Item, error)
	ItemByURL(ctx context.Context, url string) (evidence.Item, error)
	ItemsByIDs(ctx context.Context, ids []string) ([]evidence.Item, error)
}

// CatalogIndex is what the catalogue asks of the index.
type CatalogIndex interface {
	Search(ctx context.Context, q index.Query) (*index.Result, error)
	TopicCounts(ctx context.Context) (map[string]int, error)
}

// Catalog is the evidence as readers see it: the search the CLI, the
// pages and the API share, item pages with their relations, the taxonomy
// with counts, and the sources' status.
type Catalog struct {
	Store CatalogStore
	Index CatalogIndex
	// Taxonomy is the configured topics (name, description, query).
	Taxonomy []evidence.TopicCount
	// Names maps source IDs to display names.
	Names map[string]string
	// SourceRows reports each configured source's status (as `evidence
	// sources` does); nil reports none.
	SourceRows func(ctx context.Context) ([]evidence.SourceRow, error)
	// ObserveSearch, if set, is told how long each search took.
	ObserveSearch func(took time.Duration)
	// Cache, if set, keeps recent results (a server's; the CLI has none).
	// It needs an Index that reports its Generation.
	Cache  *SearchCache
	Logger *slog.Logger
}

func (c *Catalog) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Search runs req and returns the page of hits with their stored records.
// A malformed query is an *evidence.QueryError; other bad requests (an
// unknown sort, From after To) wrap evidence.ErrInvalid.
func (c *Catalog) Search(ctx context.Context, req evidence.SearchRequest) (evidence.SearchResults, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = index.DefaultLimit
	}
	if limit > index.MaxLimit {
		return evidence.SearchResults{}, fmt.Errorf("limit %d: at most %d: %w", limit, index.MaxLimit, evidence.ErrInvalid)
	}
	if req.Offset < 0 {
		return evidence.SearchResults{}, fmt.Errorf("offset %d: must not be negative: %w", req.Offset, evidence.ErrInvalid)
	}
	if req.Sort != "" && req.Sort != index.SortRelevance && req.Sort != index.SortNewest {
		return evidence.SearchResults{}, fmt.Errorf("sort %q: want relevance or newest: %w", req.Sort, evidence.ErrInvalid)
	}
	start := time.Now()
	defer func() {
		if c.ObserveSearch != nil {
			c.ObserveSearch(time.Since(start))
		}
	}()
	req.Limit = limit
	if g, ok := c.Index.(interface{ Generation() uint64 }); ok && c.Cache != nil {
		// The search is shared by whoever asks for it meanwhile (the
		// cache gives it a context of its own).
		return c.Cache.get(req, g.Generation(), func(ctx context.Context) (evidence.SearchResults, error) { return c.search(ctx, req) })
	}
	return c.search(ctx, req)
}

// search runs a validated request against the index and the store.
func (c *Catalog) search(ctx context.Context, req evidence.SearchRequest) (evidence.SearchResults, error) {
	limit := req.Limit
	res, err := c.Index.Search(ctx, index.Query{
		Text: req.Text, Sources: req.Sources, Types: req.Types, Topics: req.Topics,
		From: req.From, To: req.To, FirstSeenFrom: req.FirstSeenFrom, FirstSeenBefore: req.FirstSeenBefore, Limit: limit, Offset: req.Offset, Sort: req.Sort,
		NoFacets: req.NoFacets, Months: req.Months,
	})
	var qerr *querylang.Error
	if errors.As(err, &qerr) {
		return evidence.SearchResults{}, &evidence.QueryError{Query: req.Text, Column: qerr.Column(), Message: qerr.Msg, Near: near(qerr)}
	}
	if err != nil {
		return evidence.SearchResults{}, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	items, err := c.Store.ItemsByIDs(ctx, ids)
	if err != nil {
		return evidence.SearchResults{}, err
	}
	byID := make(map[string]evidence.Item, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	out := evidence.SearchResults{
		Query: req.Text, Total: res.Total, TookMS: res.Took.Milliseconds(), Hits: []evidence.SearchHit{},
		Facets: res.Facets, Suggestion: res.Suggestion, Notice: res.Notice, Limit: limit, Offset: req.Offset,
	}
	if out.Facets == nil {
		out.Facets = map[string][]evidence.FacetCount{}
	}
	if m, ok := out.Facets[index.FacetMonth]; ok {
		out.Months = m
		delete(out.Facets, index.FacetMonth)
	}
	for _, h := range res.Hits {
		it, ok := byID[h.ID]
		if !ok {
			c.log().Warn("index has an item the store does not; run `evidence reindex`", "id", h.ID)
			out.Total--
			continue
		}
		it.Body, it.Provenance = "", nil
		// The index holds the topic tags (the taxonomy's and the item's own).
		it.Topics = h.Topics
		out.Hits = append(out.Hits, evidence.SearchHit{Item: it, Score: h.Score, Snippet: h.Snippet})
	}
	return out, nil
}

// near is the query text from the error's position, up to 20 characters.
func near(e *querylang.Error) string {
	if e.Pos < 0 || e.Pos >= len(e.Query) {
		return ""
	}
	rest := []rune(e.Query[e.Pos:])
	if len(rest) > 20 {
		rest = append(rest[:20], '…')
	}
	return string(rest)
}

// relatedCount is how many "more like this" items an item page shows.
const relatedCount = 4

// Item finds an item by its ID, or by its URL or an old URL of it, with
// the items it discusses and is discussed by and a few like it.
func (c *Catalog) Item(ctx context.Context, ref string) (evidence.ItemPage, error) {
	ref = strings.TrimSpace(ref)
	var it evidence.Item
	var err error
	if strings.Contains(ref, "://") {
		it, err = c.itemByURL(ctx, ref)
	} else {
		it, err = c.Store.Item(ctx, ref)
	}
	if err != nil {
		return evidence.ItemPage{}, err
	}
	p := evidence.ItemPage{Item: it}
	if p.Discusses, err = c.Store.ItemsByIDs(ctx, it.Discusses); err != nil {
		return evidence.ItemPage{}, err
	}
	if p.DiscussedBy, err = c.Store.ItemsByIDs(ctx, it.DiscussedBy); err != nil {
		return evidence.ItemPage{}, err
	}
	// "More like this" is a courtesy: an index that cannot answer leaves
	// it out rather than failing the page.
	if p.Related, err = c.related(ctx, it); err != nil {
		c.log().Warn("catalog: more like this", "id", it.ID, "err", err)
		p.Related = nil
	}
	return p, nil
}

// itemByURL finds the item at a URL as given, or as normalised the way
// ingest stores URLs.
func (c *Catalog) itemByURL(ctx context.Context, raw string) (evidence.Item, error) {
	it, err := c.Store.ItemByURL(ctx, raw)
	if !errors.Is(err, evidence.ErrNotFound) {
		return it, err
	}
	if _, perr := url.Parse(raw); perr != nil {
		return evidence.Item{}, fmt.Errorf("item at %q: %w", raw, evidence.ErrNotFound)
	}
	norm, nerr := urlnorm.Normalize(raw, nil, urlnorm.Rules{})
	if nerr != nil || norm == raw {
		return evidence.Item{}, err
	}
	return c.Store.ItemByURL(ctx, norm)
}

// related finds items like it: its title's words as a ranked query, the
// items it is linked with and itself left out.
func (c *Catalog) related(ctx context.Context, it evidence.Item) ([]evidence.Item, error) {
	text := likeQuery(it.Title + " " + strings.Join(firstN(it.Topics, 2), " "))
	if text == "" {
		return nil, nil
	}
	res, err := c.Index.Search(ctx, index.Query{Text: text, Limit: relatedCount + 4, NoFacets: true})
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{it.ID: true}
	for _, id := range append(append([]string{}, it.Discusses...), it.DiscussedBy...) {
		skip[id] = true
	}
	ids := []string{}
	for _, h := range res.Hits {
		if !skip[h.ID] && len(ids) < relatedCount {
			ids = append(ids, h.ID)
		}
	}
	return c.Store.ItemsByIDs(ctx, ids)
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

// likeQuery turns free text into a query of its plain words (at most 12,
// in lower case, so none reads as an operator or a field).
func likeQuery(text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	out := make([]string, 0, 12)
	seen := map[string]bool{}
	for _, w := range words {
		w = strings.Trim(w, "'")
		if len(w) < 3 || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == 12 {
			break
		}
	}
	return strings.Join(out, " ")
}

// Topics lists the taxonomy with the number of items tagged with each,
// in the configured order.
func (c *Catalog) Topics(ctx context.Context) ([]evidence.TopicCount, error) {
	counts, err := c.Index.TopicCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]evidence.TopicCount, 0, len(c.Taxonomy))
	for _, t := range c.Taxonomy {
		t.Items = counts[strings.ToLower(t.Name)]
		out = append(out, t)
	}
	return out, nil
}

// Topic returns one topic of the taxonomy by name (any case).
func (c *Catalog) Topic(name string) (evidence.TopicCount, bool) {
	for _, t := range c.Taxonomy {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return evidence.TopicCount{}, false
}

// Sources reports each configured source and its status.
func (c *Catalog) Sources(ctx context.Context) ([]evidence.SourceRow, error) {
	if c.SourceRows == nil {
		return []evidence.SourceRow{}, nil
	}
	return c.SourceRows(ctx)
}

// SourceName is a source's display name, or its ID when it has none.
func (c *Catalog) SourceName(id string) string {
	if n := c.Names[id]; n != "" {
		return n
	}
	return id
}
