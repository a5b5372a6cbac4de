package web

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// feedSize is how many items a search's or a topic's feed carries.
const feedSize = 30

// searchFeed is /search.atom?q=…: the newest items of any search, for a
// feed reader. A bad query is a 400 with the reason as text.
func (s *Server) searchFeed(w http.ResponseWriter, r *http.Request) {
	p, err := parseSearch(r.URL.Query(), "page")
	if err != nil {
		http.Error(w, "search.atom: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := p.request(feedSize, 0)
	req.Sort, req.NoFacets = "newest", true
	res, err := s.opts.Catalog.Search(r.Context(), req)
	var qerr *evidence.QueryError
	switch {
	case errors.As(err, &qerr):
		http.Error(w, "search.atom: "+qerr.Error(), http.StatusBadRequest)
		return
	case errors.Is(err, evidence.ErrInvalid):
		http.Error(w, "search.atom: "+err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		s.log.Error("web: search feed", "err", err)
		http.Error(w, "search is not available", http.StatusServiceUnavailable)
		return
	}
	title := s.opts.SiteName + ": newest evidence"
	if p.Q != "" {
		title = s.opts.SiteName + ": “" + truncate(p.Q, 80) + "”"
	}
	for _, f := range [][]string{p.Sources, p.Types, p.Topics} {
		for _, v := range f {
			title += " · " + v
		}
	}
	if p.Year != "" {
		title += " · " + p.Year
	}
	page := p
	page.Sort = ""
	s.writeItemFeed(w, r, title, page.URL("/search.atom"), page.URL("/search"), res.Hits)
}

func (s *Server) topicFeed(w http.ResponseWriter, r *http.Request, name string) {
	t, ok, err := s.findTopic(r, name)
	if err != nil {
		s.log.Error("web: topic feed", "err", err)
		http.Error(w, "topics are not available", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.Error(w, "no such topic", http.StatusNotFound)
		return
	}
	res, err := s.opts.Catalog.Search(r.Context(), evidence.SearchRequest{Topics: []string{t.Name}, Sort: "newest", Limit: feedSize, NoFacets: true})
	if err != nil {
		s.log.Error("web: topic feed", "topic", t.Name, "err", err)
		http.Error(w, "search is not available", http.StatusServiceUnavailable)
		return
	}
	s.writeItemFeed(w, r, s.opts.SiteName+": "+capitalise(t.Name), topicURL(t.Name)+".atom", topicURL(t.Name), res.Hits)
}

// writeItemFeed writes items as Atom 1.0: each entry links to the item's
// page here and to the publisher's; every text is plain (escaped by
// encoding/xml), so nothing from a feed can run in a reader.
func (s *Server) writeItemFeed(w http.ResponseWriter, r *http.Request, title, self, alternate string, hits []evidence.SearchHit) {
	f := atomFeed{
		ID: s.absolute(r, alternate), Title: xmlSafe(title),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: s.absolute(r, self)},
			{Rel: "alternate", Type: "text/html", Href: s.absolute(r, alternate)},
		},
		Author: atomPerson{Name: s.opts.SiteName},
	}
	updated := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, h := range hits {
		it := h.Item
		when := it.FirstSeen
		if it.Published != nil {
			when = *it.Published
		}
		if it.Updated != nil && it.Updated.After(when) {
			when = *it.Updated
		}
		if when.After(updated) {
			updated = when
		}
		page := s.absolute(r, "/items/"+url.PathEscape(it.ID))
		e := atomEntry{
			ID: page, Title: xmlSafe(it.Title), Updated: when.UTC().Format(time.RFC3339),
			Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: page}},
			Summary: atomText{Type: "text", Body: xmlSafe(it.Summary)},
		}
		if it.Published != nil {
			e.Published = it.Published.UTC().Format(time.RFC3339)
		}
		if u := safeURL(it.URL); u != "" {
			e.Links = append(e.Links, atomLink{Rel: "related", Type: "text/html", Href: u})
		}
		for _, a := range firstN(it.Authors, 10) {
			e.Authors = append(e.Authors, atomPerson{Name: xmlSafe(a)})
		}
		if len(e.Authors) == 0 {
			e.Authors = []atomPerson{{Name: xmlSafe(s.opts.Catalog.SourceName(it.Source))}}
		}
		for _, t := range it.Topics {
			e.Category = append(e.Category, atomCat{Term: xmlSafe(t)})
		}
		f.Entries = append(f.Entries, e)
	}
	f.Updated = updated.Format(time.RFC3339)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		s.log.Error("web: feed", "err", err)
	}
}

// xmlSafe drops the characters XML 1.0 cannot carry at all (encoding/xml
// would write them as U+FFFD anyway, or fail on some).
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
}
