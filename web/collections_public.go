package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
)

// publicView is the published page: the collection and who may edit it.
type publicView struct {
	collectionView
	CanEdit bool
}

// publicCollection serves /c/{slug} and, by its suffix, the feed
// (.atom) and the exports (.ris, .bib, .csl.json, .csv). A private
// collection is a 404 to anyone who may not see it: its existence is
// never revealed.
func (s *Server) publicCollection(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if strings.HasSuffix(slug, ".atom") {
		s.collectionFeed(w, r, strings.TrimSuffix(slug, ".atom"))
		return
	}
	for _, f := range collectionFormats {
		if strings.HasSuffix(slug, f.ext) {
			s.collectionExport(w, r, strings.TrimSuffix(slug, f.ext), f.name)
			return
		}
	}
	c, ok := s.loadCollection(w, r, slug)
	if !ok {
		return
	}
	pr := principal(r)
	v := publicView{collectionView: s.collectionView(c), CanEdit: pr.Can(evidence.RoleCurator)}
	if v.Private {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	s.render(w, r, http.StatusOK, "collection", page{Title: c.Name, Section: "collections", Data: v, NoIndex: v.Private,
		Canonical: s.canonical("/c/" + c.Slug), Feed: v.FeedURL, FeedTitle: "New in “" + c.Name + "”"})
}

// collectionExport writes the whole collection as a download (sections
// and notes kept where the format allows).
func (s *Server) collectionExport(w http.ResponseWriter, r *http.Request, slug, format string) {
	if !validSlug(slug) {
		s.collectionNotFound(w, r)
		return
	}
	ctype, ext, _, ok := export.Format(format)
	if !ok {
		s.collectionNotFound(w, r)
		return
	}
	var buf bytes.Buffer
	err := s.opts.Collections.Export(r.Context(), slug, principal(r), format, &buf)
	if errors.Is(err, evidence.ErrNotFound) {
		s.collectionNotFound(w, r)
		return
	}
	if err != nil {
		s.log.Error("web: export collection", "slug", slug, "format", format, "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "The export could not be made", "Please try again in a moment.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+slug+ext+`"`)
	if !principal(r).Anonymous() {
		h.Set("Cache-Control", "private, no-cache")
	}
	_, _ = w.Write(buf.Bytes())
}

// collectionFeed is /c/{slug}.atom: an entry per collection entry,
// newest added first, its note as the summary (plain text).
func (s *Server) collectionFeed(w http.ResponseWriter, r *http.Request, slug string) {
	if !validSlug(slug) {
		http.Error(w, "no such collection", http.StatusNotFound)
		return
	}
	c, err := s.opts.Collections.Get(r.Context(), slug, principal(r))
	if errors.Is(err, evidence.ErrNotFound) {
		http.Error(w, "no such collection", http.StatusNotFound)
		return
	}
	if err != nil {
		s.log.Error("web: collection feed", "slug", slug, "err", err)
		http.Error(w, "the collection is not available", http.StatusServiceUnavailable)
		return
	}
	pageURL := s.absolute(r, "/c/"+c.Slug)
	f := atomFeed{
		ID: pageURL, Title: xmlSafe(c.Name + " · " + s.opts.SiteName),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: s.absolute(r, "/c/"+c.Slug+".atom")},
			{Rel: "alternate", Type: "text/html", Href: pageURL},
		},
		Author: atomPerson{Name: s.opts.SiteName},
	}
	type placed struct {
		evidence.Entry
		section string
	}
	var entries []placed
	for _, sec := range c.Sections {
		for _, e := range sec.Entries {
			entries = append(entries, placed{e, sec.Name})
		}
	}
	slices.SortStableFunc(entries, func(a, b placed) int { return b.Added.Compare(a.Added) })
	updated := c.Updated
	for _, e := range firstN(entries, 100) {
		if e.Added.After(updated) {
			updated = e.Added
		}
		title, itemPage := "An item no longer in the catalogue", s.absolute(r, "/items/"+url.PathEscape(e.ItemID))
		ae := atomEntry{
			ID: pageURL + "#entry-" + anchorID(e.ItemID), Updated: e.Added.UTC().Format(time.RFC3339),
			Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: itemPage}},
			Summary: atomText{Type: "text", Body: xmlSafe(e.Note)},
		}
		if e.section != "" {
			ae.Category = []atomCat{{Term: xmlSafe(e.section)}}
		}
		author := s.opts.SiteName
		if it := e.Item; it != nil {
			title = it.Title
			if it.Published != nil {
				ae.Published = it.Published.UTC().Format(time.RFC3339)
			}
			if u := safeURL(it.URL); u != "" {
				ae.Links = append(ae.Links, atomLink{Rel: "related", Type: "text/html", Href: u})
			}
			author = s.publisherName(it)
			if ae.Summary.Body == "" {
				ae.Summary.Body = xmlSafe(truncate(it.Summary, 500))
			}
		}
		ae.Title = xmlSafe(title)
		ae.Authors = []atomPerson{{Name: xmlSafe(author)}}
		f.Entries = append(f.Entries, ae)
	}
	if updated.IsZero() {
		updated = c.Created
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	if c.Visibility != evidence.VisibilityPublic {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		s.log.Error("web: collection feed", "err", err)
	}
}
