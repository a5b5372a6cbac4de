package web

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// itemView is what the item page shows.
type itemView struct {
	hitView
	Summary     string
	Updated     string
	FirstSeen   string
	DOI, DOIURL string
	Announced   []string
	Appraisals  []relView // Mental Elf posts that appraise it
	DiscussedBy []relView // other items that discuss it
	Appraises   []relView // what it discusses
	IsAppraisal bool      // a Mental Elf post: what it discusses, it appraises
	Cites       []citeView
	Related     []relView
	Categories  []string
	Cite        []citeLink
	SearchTopic string
}

type relView struct {
	ID, Title, Source, Date, Type string
}

type citeView struct{ Label, URL string }

type citeLink struct{ Class, Label, URL, Format string }

// itemByURL sends /items?url=… (a publisher URL, or an old one) to the
// item's page.
func (s *Server) itemByURL(w http.ResponseWriter, r *http.Request) {
	u := strings.TrimSpace(r.URL.Query().Get("url"))
	if u == "" || len(u) > 2000 || safeURL(u) == "" {
		s.fail(w, r, http.StatusBadRequest, "Give an item's web address",
			"Use /items?url= followed by the address of a page at one of the publishers (old addresses work too).")
		return
	}
	p, err := s.opts.Catalog.Item(r.Context(), u)
	if errors.Is(err, evidence.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No item at that address", "Nothing stored has that web address, or had it before. Try searching for its title.")
		return
	}
	if err != nil {
		s.log.Error("web: item by url", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "The item is not available", "Please try again in a moment.")
		return
	}
	http.Redirect(w, r, "/items/"+url.PathEscape(p.Item.ID), http.StatusMovedPermanently)
}

func (s *Server) itemPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	format := ""
	for _, f := range citeFormats {
		if strings.HasSuffix(id, f.ext) {
			id, format = strings.TrimSuffix(id, f.ext), f.name
			break
		}
	}
	if id == "" || len(id) > 200 {
		s.fail(w, r, http.StatusNotFound, "No such item", "Item addresses look like /items/ followed by the item's ID.")
		return
	}
	p, err := s.opts.Catalog.Item(r.Context(), id)
	if errors.Is(err, evidence.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No such item", "Nothing stored has that ID. It may have been merged with another item: search for its title.")
		return
	}
	if err != nil {
		s.log.Error("web: item", "id", id, "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "The item is not available", "Please try again in a moment.")
		return
	}
	lastMod := p.Item.FirstSeen
	if p.Item.Updated != nil && p.Item.Updated.After(lastMod) {
		lastMod = *p.Item.Updated
	}
	if !lastMod.IsZero() {
		w.Header().Set("Last-Modified", lastMod.UTC().Format(http.TimeFormat))
	}
	if format != "" {
		s.cite(w, r, p.Item, format)
		return
	}
	v := s.itemView(p)
	s.render(w, r, http.StatusOK, "item", page{Title: p.Item.Title, Section: "search", Data: v,
		Canonical: s.canonical("/items/" + url.PathEscape(p.Item.ID))})
}

func (s *Server) canonical(path string) string {
	if s.opts.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(s.opts.BaseURL, "/") + path
}

func (s *Server) itemView(p evidence.ItemPage) itemView {
	it := p.Item
	v := itemView{hitView: s.hitView(evidence.SearchHit{Item: it}), Summary: it.Summary, Categories: it.Categories}
	v.Authors = strings.Join(it.Authors, ", ")
	v.Topics = nil
	for _, t := range it.Topics {
		v.Topics = append(v.Topics, topicLink{Name: capitalise(t), URL: topicURL(t)})
	}
	if it.Updated != nil {
		v.Updated = it.Updated.Format("2 January 2006")
	}
	if !it.FirstSeen.IsZero() {
		v.FirstSeen = it.FirstSeen.Format("2 January 2006")
	}
	if it.DOI != "" {
		v.DOI, v.DOIURL = it.DOI, "https://doi.org/"+it.DOI
	}
	for _, src := range it.AnnouncedBy {
		v.Announced = append(v.Announced, s.opts.Catalog.SourceName(src))
	}
	sort.Strings(v.Announced)
	var elf, other []evidence.Item
	for _, o := range p.DiscussedBy {
		if o.Source == evidence.SourceMentalElf {
			elf = append(elf, o)
		} else {
			other = append(other, o)
		}
	}
	v.Appraisals, v.DiscussedBy = s.rels(elf), s.rels(other)
	v.Appraises = s.rels(p.Discusses)
	v.IsAppraisal = it.Source == evidence.SourceMentalElf
	v.Related = s.rels(p.Related)
	for _, c := range it.Cites {
		switch {
		case c.DOI != "":
			v.Cites = append(v.Cites, citeView{Label: "doi:" + c.DOI, URL: "https://doi.org/" + c.DOI})
		case safeURL(c.URL) != "":
			v.Cites = append(v.Cites, citeView{Label: displayURL(c.URL), URL: safeURL(c.URL)})
		}
	}
	base := "/items/" + url.PathEscape(it.ID)
	for _, f := range citeFormats {
		v.Cite = append(v.Cite, citeLink{Class: f.class, Label: f.label, URL: base + f.ext, Format: f.hint})
	}
	return v
}

func (s *Server) rels(items []evidence.Item) []relView {
	out := []relView{}
	for _, o := range items {
		rv := relView{ID: o.ID, Title: o.Title, Source: s.opts.Catalog.SourceName(o.Source), Type: typeLabel(o.Type)}
		if o.Published != nil {
			rv.Date = o.Published.Format("2 January 2006")
		}
		out = append(out, rv)
	}
	return out
}

// displayURL is a URL without its scheme, cut to a readable length.
func displayURL(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return truncate(u, 70)
}

// Topics.

type topicsView struct {
	Topics []topicRow
}

type topicRow struct {
	Name, URL, Description string
	Items                  int
}

func (s *Server) topicsPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.Catalog.Topics(r.Context())
	if err != nil {
		s.log.Error("web: topics", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "Topics are not available", "Please try again in a moment.")
		return
	}
	v := topicsView{}
	for _, t := range list {
		v.Topics = append(v.Topics, topicRow{Name: capitalise(t.Name), URL: topicURL(t.Name), Description: t.Description, Items: t.Items})
	}
	s.render(w, r, http.StatusOK, "topics", page{Title: "Topics", Section: "topics", Data: v, Canonical: s.canonical("/topics")})
}

type topicView struct {
	Name, Description string
	Items             int
	Hits              []hitView
	SearchURL         string
	FeedURL           string
}

// topicNewest is how many of a topic's newest items its page lists.
const topicNewest = 15

func (s *Server) findTopic(r *http.Request, name string) (evidence.TopicCount, bool, error) {
	list, err := s.opts.Catalog.Topics(r.Context())
	if err != nil {
		return evidence.TopicCount{}, false, err
	}
	for _, t := range list {
		if strings.EqualFold(t.Name, name) {
			return t, true, nil
		}
	}
	return evidence.TopicCount{}, false, nil
}

func (s *Server) topicPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.HasSuffix(name, ".atom") {
		s.topicFeed(w, r, strings.TrimSuffix(name, ".atom"))
		return
	}
	t, ok, err := s.findTopic(r, name)
	if err != nil {
		s.log.Error("web: topic", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "Topics are not available", "Please try again in a moment.")
		return
	}
	if !ok {
		s.fail(w, r, http.StatusNotFound, "No such topic", "The topics page lists every topic items are tagged with.")
		return
	}
	res, err := s.opts.Catalog.Search(r.Context(), evidence.SearchRequest{Topics: []string{t.Name}, Sort: "newest", Limit: topicNewest, NoFacets: true})
	if err != nil {
		s.log.Error("web: topic search", "topic", t.Name, "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "The topic is not available", "Please try again in a moment.")
		return
	}
	v := topicView{Name: capitalise(t.Name), Description: t.Description, Items: int(res.Total),
		SearchURL: searchParams{Topics: []string{t.Name}}.URL("/search"), FeedURL: topicURL(t.Name) + ".atom"}
	for _, h := range res.Hits {
		v.Hits = append(v.Hits, s.hitView(h))
	}
	s.render(w, r, http.StatusOK, "topic", page{Title: capitalise(t.Name), Section: "topics", Data: v,
		Canonical: s.canonical(topicURL(t.Name)), Feed: v.FeedURL, FeedTitle: "New evidence on " + t.Name})
}

// Sources.

type sourcesView struct {
	Sources []sourceView
}

type sourceView struct {
	evidence.SourceRow
	Label, LastSuccess, LastRun, NextPoll, SearchURL string
	Healthy                                          bool
}

var statusLabels = map[string]string{
	evidence.StatusOK: "Up to date", evidence.StatusFailing: "Failing", evidence.StatusBlocked: "Blocked by the site",
	evidence.StatusPaused: "Paused after failures", evidence.StatusNever: "Not yet fetched", evidence.StatusInterrupted: "Interrupted",
}

func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request) {
	rows, err := s.opts.Catalog.Sources(r.Context())
	if err != nil {
		s.log.Error("web: sources", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "Sources are not available", "Please try again in a moment.")
		return
	}
	v := sourcesView{}
	for _, row := range rows {
		sv := sourceView{SourceRow: row, Label: statusLabels[row.Status], Healthy: row.Status == evidence.StatusOK,
			LastSuccess: whenText(row.LastSuccess), LastRun: whenText(row.LastRun), NextPoll: whenText(row.NextPoll),
			SearchURL: searchParams{Sources: []string{row.ID}}.URL("/search")}
		if sv.Label == "" {
			sv.Label = row.Status
		}
		if !row.Enabled {
			sv.Label += " (disabled)"
		}
		v.Sources = append(v.Sources, sv)
	}
	s.render(w, r, http.StatusOK, "sources", page{Title: "Sources", Section: "sources", Data: v, Canonical: s.canonical("/sources")})
}

func whenText(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}
