package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/digest"
)

// Search limits: a query longer than this is refused (the query language
// needs nothing near it), and pages go no further than maxOffset.
const (
	maxQueryRunes = 1000
	pageSize      = 20
	maxOffset     = 10000
)

// catalogRoutes: the search, item, topic and sources pages.
func (s *Server) catalogRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", s.requireRead(s.searchPage))
	m.HandleFunc("GET /search", s.requireRead(s.searchPage))
	m.HandleFunc("GET /search.atom", s.requireRead(s.searchFeed))
	m.HandleFunc("GET /items", s.requireRead(s.itemByURL))
	m.HandleFunc("GET /items/{id}", s.requireRead(s.itemPage))
	m.HandleFunc("GET /topics", s.requireRead(s.topicsPage))
	m.HandleFunc("GET /topics/{name}", s.requireRead(s.topicPage))
	m.HandleFunc("GET /sources", s.requireRead(s.sourcesPage))
}

// searchParams is a search as its URL gives it: the query, filters, sort
// and page. Its URL method writes it back, so every search is a link.
type searchParams struct {
	Q                      string
	Sources, Types, Topics []string
	Year                   string
	// From and To bound the published date (YYYY-MM-DD, inclusive).
	From, To string
	Sort     string
	Page     int
}

// badRequest is a search the URL asks for that cannot be run; Field says
// which parameter.
type badRequest struct{ Field, Msg string }

func (e *badRequest) Error() string { return e.Field + ": " + e.Msg }

// parseSearch reads a search from a query string, refusing what no search
// should carry (control characters, overlong text, a bad year or page).
func parseSearch(v url.Values, pageKey string) (searchParams, error) {
	p := searchParams{
		Q: strings.TrimSpace(v.Get("q")), Sources: clean(v["source"]), Types: clean(v["type"]),
		Topics: clean(v["topic"]), Year: strings.TrimSpace(v.Get("year")), Sort: v.Get("sort"), Page: 1,
		From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")),
	}
	if !utf8.ValidString(p.Q) {
		return p, &badRequest{"q", "the query is not valid UTF-8 text"}
	}
	if strings.IndexFunc(p.Q, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 {
		return p, &badRequest{"q", "the query contains a control character (such as NUL); type it again without it"}
	}
	if n := utf8.RuneCountInString(p.Q); n > maxQueryRunes {
		return p, &badRequest{"q", fmt.Sprintf("the query is %d characters long; at most %d are allowed", n, maxQueryRunes)}
	}
	for _, f := range [][]string{p.Sources, p.Types, p.Topics} {
		for _, x := range f {
			if len(x) > 200 || strings.IndexFunc(x, unicode.IsControl) >= 0 {
				return p, &badRequest{"filter", "a filter value is too long or contains a control character"}
			}
		}
	}
	if p.Year != "" {
		y, err := strconv.Atoi(p.Year)
		if err != nil || y < 1900 || y > 2200 {
			return p, &badRequest{"year", fmt.Sprintf("%q is not a year like 2024", truncate(p.Year, 20))}
		}
	}
	var from, to time.Time
	for _, d := range []struct {
		key, val string
		t        *time.Time
	}{{"from", p.From, &from}, {"to", p.To, &to}} {
		if d.val == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.val)
		if err != nil || t.Year() < 1900 || t.Year() > 2200 {
			return p, &badRequest{d.key, fmt.Sprintf("%q is not a date like 2024-01-31", truncate(d.val, 20))}
		}
		*d.t = t
	}
	if p.From != "" && p.To != "" && to.Before(from) {
		return p, &badRequest{"to", fmt.Sprintf("%s is before %s", p.To, p.From)}
	}
	switch p.Sort {
	case "", "relevance", "newest":
	default:
		return p, &badRequest{"sort", fmt.Sprintf("%q is not a sort order: use relevance or newest", truncate(p.Sort, 20))}
	}
	if pg := v.Get(pageKey); pg != "" {
		n, err := strconv.Atoi(pg)
		if err != nil || n < 1 {
			return p, &badRequest{pageKey, fmt.Sprintf("%q is not a page number (1, 2, 3…)", truncate(pg, 20))}
		}
		if (n-1)*pageSize > maxOffset {
			return p, &badRequest{pageKey, fmt.Sprintf("page %d is too far: results go to page %d at most; narrow the search instead", n, maxOffset/pageSize+1)}
		}
		p.Page = n
	}
	return p, nil
}

func clean(vs []string) []string {
	out := []string{}
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// request is the catalogue search for p.
func (p searchParams) request(limit, offset int) evidence.SearchRequest {
	req := evidence.SearchRequest{Text: p.Q, Sources: p.Sources, Types: p.Types, Topics: p.Topics,
		Sort: p.Sort, Limit: limit, Offset: offset}
	if p.Year != "" {
		y, _ := strconv.Atoi(p.Year)
		from := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		to := time.Date(y, 12, 31, 23, 59, 59, 0, time.UTC)
		req.From, req.To = &from, &to
	}
	// Explicit dates narrow the year further (both apply).
	if t, err := time.Parse(time.DateOnly, p.From); err == nil && (req.From == nil || t.After(*req.From)) {
		req.From = &t
	}
	if t, err := time.Parse(time.DateOnly, p.To); err == nil {
		t = t.Add(24*time.Hour - time.Second)
		if req.To == nil || t.Before(*req.To) {
			req.To = &t
		}
	}
	return req
}

// values is p as a query string (page left out when 1).
func (p searchParams) values() url.Values {
	v := url.Values{}
	if p.Q != "" {
		v.Set("q", p.Q)
	}
	for _, x := range p.Sources {
		v.Add("source", x)
	}
	for _, x := range p.Types {
		v.Add("type", x)
	}
	for _, x := range p.Topics {
		v.Add("topic", x)
	}
	if p.Year != "" {
		v.Set("year", p.Year)
	}
	if p.From != "" {
		v.Set("from", p.From)
	}
	if p.To != "" {
		v.Set("to", p.To)
	}
	if p.Sort != "" {
		v.Set("sort", p.Sort)
	}
	if p.Page > 1 {
		v.Set("page", strconv.Itoa(p.Page))
	}
	return v
}

// URL is p's search page address.
func (p searchParams) URL(path string) string {
	if q := p.values().Encode(); q != "" {
		return path + "?" + q
	}
	return path
}

func (p searchParams) filtered() bool {
	return len(p.Sources)+len(p.Types)+len(p.Topics) > 0 || p.Year != "" || p.From != "" || p.To != ""
}

// with returns a copy of p with one facet value added or removed (and
// back on page 1).
func (p searchParams) toggle(facet, value string) searchParams {
	q := p
	q.Page = 1
	flip := func(list []string) []string {
		if slices.Contains(list, value) {
			return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == value })
		}
		return append(slices.Clone(list), value)
	}
	switch facet {
	case "source":
		q.Sources = flip(p.Sources)
	case "type":
		q.Types = flip(p.Types)
	case "topic":
		q.Topics = flip(p.Topics)
	case "year":
		if p.Year == value {
			q.Year = ""
		} else {
			q.Year = value
		}
	}
	return q
}

func (p searchParams) has(facet, value string) bool {
	switch facet {
	case "source":
		return slices.Contains(p.Sources, value)
	case "type":
		return slices.Contains(p.Types, value)
	case "topic":
		return slices.Contains(p.Topics, value)
	case "year":
		return p.Year == value
	}
	return false
}

// Views for the templates.
type (
	searchView struct {
		Params     searchParams
		Results    *evidence.SearchResults
		Hits       []hitView
		Error      string // the query parser's message
		ErrorCol   int
		Facets     []facetView
		Applied    []appliedFilter
		ClearURL   string
		Sorts      []navLink
		Pages      pagination
		Timeline   *timeline
		Suggestion string
		SuggestURL string
		FeedURL    string
		APIURL     string
		First      int
		Last       int
	}
	hitView struct {
		ID, Title, URL      string
		Snippet             template.HTML
		Source, SourceID    string
		Type                string
		Date, DateISO       string
		Authors             string
		PDFs                []string
		Topics              []topicLink
		Appraised, Appraise int
	}
	topicLink struct{ Name, URL string }
	facetView struct {
		Name, Title string
		Values      []facetValue
		More        []facetValue
	}
	facetValue struct {
		Label    string
		Count    int
		URL      string
		Selected bool
	}
	appliedFilter struct{ Facet, Label, RemoveURL string }
	pagination    struct {
		Prev, Next string
		Links      []pageLink
		Current    int
		Last       int
	}
	pageLink struct {
		N       int
		URL     string
		Current bool
		Gap     bool
	}
)

var facetTitles = []struct{ name, title string }{
	{"source", "Publisher"}, {"type", "Type"}, {"topic", "Topic"}, {"year", "Year"},
}

// typeLabel is an item type as readers name it, as the digest names it.
func typeLabel(t string) string { return digest.TypeLabel(t) }

func (s *Server) facetLabel(facet, value string) string {
	switch facet {
	case "source":
		return s.opts.Catalog.SourceName(value)
	case "type":
		return typeLabel(value)
	case "topic":
		return capitalise(value)
	}
	return value
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	p, err := parseSearch(r.URL.Query(), "page")
	title := "Search the evidence"
	if p.Q != "" {
		title = "“" + truncate(p.Q, 60) + "”: search results"
	}
	view := searchView{Params: p}
	var bad *badRequest
	if errors.As(err, &bad) {
		view.Error = bad.Msg
		s.render(w, r, http.StatusBadRequest, "search", page{Title: "Search the evidence", Section: "search", NoIndex: true, Data: view})
		return
	}
	req := p.request(pageSize, (p.Page-1)*pageSize)
	req.Months = true
	res, err := s.opts.Catalog.Search(r.Context(), req)
	var qerr *evidence.QueryError
	switch {
	case errors.As(err, &qerr):
		view.Error, view.ErrorCol = qerr.Message, qerr.Column
		if qerr.Near != "" {
			view.Error += " (at “" + qerr.Near + "”)"
		}
		s.render(w, r, http.StatusBadRequest, "search", page{Title: title, Section: "search", NoIndex: true, Data: view})
		return
	case errors.Is(err, evidence.ErrInvalid):
		view.Error = strings.TrimPrefix(err.Error(), "index: search: ")
		s.render(w, r, http.StatusBadRequest, "search", page{Title: title, Section: "search", NoIndex: true, Data: view})
		return
	case err != nil:
		s.log.Error("web: search", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "Search is not available", "The search index could not answer. Please try again in a moment.")
		return
	}
	view.Results = &res
	view.fill(s, res)
	status := http.StatusOK
	if p.Page > 1 && len(res.Hits) == 0 && res.Total > 0 {
		status = http.StatusNotFound
	}
	s.render(w, r, status, "search", page{Title: title, Section: "search", Canonical: s.canonicalSearch(p), Data: view,
		NoIndex: p.Q != "" || p.filtered(), Feed: view.FeedURL, FeedTitle: "This search as a feed"})
}

func (s *Server) canonicalSearch(p searchParams) string {
	if s.opts.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(s.opts.BaseURL, "/") + p.URL("/search")
}

func (v *searchView) fill(s *Server, res evidence.SearchResults) {
	p := v.Params
	for _, h := range res.Hits {
		v.Hits = append(v.Hits, s.hitView(h))
	}
	v.First, v.Last = res.Offset+1, res.Offset+len(res.Hits)
	for _, ft := range facetTitles {
		fv := facetView{Name: ft.name, Title: ft.title}
		seen := map[string]bool{}
		for _, c := range res.Facets[ft.name] {
			seen[c.Value] = true
			val := facetValue{Label: s.facetLabel(ft.name, c.Value), Count: c.Count,
				URL: p.toggle(ft.name, c.Value).URL("/search"), Selected: p.has(ft.name, c.Value)}
			if len(fv.Values) < 8 || val.Selected {
				fv.Values = append(fv.Values, val)
			} else {
				fv.More = append(fv.More, val)
			}
		}
		// A filter applied that matches nothing still shows, to be removed.
		for _, x := range appliedValues(p, ft.name) {
			if !seen[x] {
				fv.Values = append(fv.Values, facetValue{Label: s.facetLabel(ft.name, x), URL: p.toggle(ft.name, x).URL("/search"), Selected: true})
			}
		}
		if len(fv.Values) > 0 {
			v.Facets = append(v.Facets, fv)
		}
		for _, x := range appliedValues(p, ft.name) {
			v.Applied = append(v.Applied, appliedFilter{Facet: ft.title, Label: s.facetLabel(ft.name, x), RemoveURL: p.toggle(ft.name, x).URL("/search")})
		}
	}
	if p.From != "" || p.To != "" {
		q := p
		q.From, q.To, q.Page = "", "", 1
		label := "from " + p.From + " to " + p.To
		switch {
		case p.To == "":
			label = "from " + p.From
		case p.From == "":
			label = "to " + p.To
		}
		v.Applied = append(v.Applied, appliedFilter{Facet: "Published", Label: label, RemoveURL: q.URL("/search")})
	}
	if p.filtered() {
		v.ClearURL = searchParams{Q: p.Q, Sort: p.Sort}.URL("/search")
	}
	rel, newest := p, p
	rel.Sort, rel.Page = "relevance", 1
	newest.Sort, newest.Page = "newest", 1
	byNewest := p.Sort == "newest" || (p.Sort == "" && p.Q == "")
	if p.Q != "" { // an empty query has nothing to rank: always newest first
		v.Sorts = []navLink{{URL: rel.URL("/search"), Label: "Relevance", Current: !byNewest}, {URL: newest.URL("/search"), Label: "Newest first", Current: byNewest}}
	}
	v.Pages = paginate(p, int(res.Total))
	if res.Suggestion != "" {
		v.Suggestion = res.Suggestion
		v.SuggestURL = searchParams{Q: res.Suggestion, Sources: p.Sources, Types: p.Types, Topics: p.Topics, Year: p.Year}.URL("/search")
	}
	feed := p
	feed.Page, feed.Sort = 1, ""
	v.FeedURL = feed.URL("/search.atom")
	api := p
	api.Page = 1
	v.APIURL = api.URL("/api/v1/search")
	v.Timeline = newTimeline(res.Months, p)
}

func appliedValues(p searchParams, facet string) []string {
	switch facet {
	case "source":
		return p.Sources
	case "type":
		return p.Types
	case "topic":
		return p.Topics
	case "year":
		if p.Year != "" {
			return []string{p.Year}
		}
	}
	return nil
}

func paginate(p searchParams, total int) pagination {
	last := max(1, (total+pageSize-1)/pageSize)
	last = min(last, maxOffset/pageSize+1)
	pg := pagination{Current: p.Page, Last: last}
	at := func(n int) string {
		q := p
		q.Page = n
		return q.URL("/search")
	}
	if p.Page > 1 {
		pg.Prev = at(min(p.Page-1, last))
	}
	if p.Page < last {
		pg.Next = at(p.Page + 1)
	}
	if last == 1 {
		return pg
	}
	prev := 0
	for n := 1; n <= last; n++ {
		if n == 1 || n == last || (n >= p.Page-2 && n <= p.Page+2) {
			if prev != 0 && n > prev+1 {
				pg.Links = append(pg.Links, pageLink{Gap: true})
			}
			pg.Links = append(pg.Links, pageLink{N: n, URL: at(n), Current: n == p.Page})
			prev = n
		}
	}
	return pg
}

func (s *Server) hitView(h evidence.SearchHit) hitView {
	it := h.Item
	v := hitView{ID: it.ID, Title: it.Title, URL: safeURL(it.URL), Snippet: markOnly(h.Snippet),
		Source: s.opts.Catalog.SourceName(it.Source), SourceID: it.Source, Type: typeLabel(it.Type),
		Authors: strings.Join(firstN(it.Authors, 4), ", "), Appraised: len(it.DiscussedBy), Appraise: len(it.Discusses)}
	if len(it.Authors) > 4 {
		v.Authors += " and others"
	}
	if it.Published != nil {
		v.Date, v.DateISO = it.Published.Format("2 January 2006"), it.Published.Format("2006-01-02")
	}
	for _, u := range it.PDFURLs {
		if su := safeURL(u); su != "" {
			v.PDFs = append(v.PDFs, su)
		}
	}
	for _, t := range firstN(it.Topics, 4) {
		v.Topics = append(v.Topics, topicLink{Name: capitalise(t), URL: topicURL(t)})
	}
	return v
}

func firstN[T any](s []T, n int) []T { return s[:min(n, len(s))] }

func topicURL(name string) string { return "/topics/" + url.PathEscape(name) }

// safeURL is u when it is an absolute http(s) URL, else "" (a
// javascript: or data: link from a feed never becomes a link).
func safeURL(u string) string {
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return ""
	}
	return pu.String()
}
