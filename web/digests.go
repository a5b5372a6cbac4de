package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// Digests is the archive of sent digests.
type Digests interface {
	Archive(ctx context.Context) ([]evidence.ArchivedDigest, error)
	Archived(ctx context.Context, week string) (evidence.ArchivedDigest, error)
}

var weekRe = regexp.MustCompile(`^[0-9]{4}-W[0-9]{2}$`)

type digestsData struct {
	Digests   []evidence.ArchivedDigest
	Subscribe bool
}

func (s *Server) digestList(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.Digests.Archive(r.Context())
	if err != nil {
		s.log.Error("web: digest archive", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "The archive is not available", "Please try again in a moment.")
		return
	}
	s.render(w, r, http.StatusOK, "digests", page{Title: "Weekly evidence digests", Section: "digests",
		Data: digestsData{Digests: list, Subscribe: s.opts.Subscriptions != nil}})
}

// digestPage serves a sent week's digest as it was mailed: a whole HTML
// document made by the digest's own templates (every outside text escaped
// there), so it gets its own policy: its inline styles, still no scripts.
func (s *Server) digestPage(w http.ResponseWriter, r *http.Request) {
	week := r.PathValue("week")
	format := "html"
	if strings.HasSuffix(week, ".txt") {
		week, format = strings.TrimSuffix(week, ".txt"), "text"
	}
	if !weekRe.MatchString(week) {
		s.fail(w, r, http.StatusNotFound, "No such digest", "Digests are listed by ISO week, like 2026-W47.")
		return
	}
	a, err := s.opts.Digests.Archived(r.Context(), week)
	if errors.Is(err, evidence.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "No digest for "+week, "No digest was sent for that week. The archive lists those that were.")
		return
	}
	if err != nil {
		s.log.Error("web: archived digest", "week", week, "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "The digest is not available", "Please try again in a moment.")
		return
	}
	body, ctype := a.HTML, "text/html; charset=utf-8"
	if format == "text" {
		body, ctype = a.Text, "text/plain; charset=utf-8"
	}
	sum := sha256.Sum256([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=3600")
	if a.Sent != nil {
		h.Set("Last-Modified", a.Sent.UTC().Format(http.TimeFormat))
	}
	if match := r.Header.Get("If-None-Match"); match == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	_, _ = w.Write([]byte(body))
}

// Atom 1.0 (RFC 4287), written with encoding/xml so every text is escaped.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string       `xml:"id"`
	Title     string       `xml:"title"`
	Updated   string       `xml:"updated"`
	Published string       `xml:"published,omitempty"`
	Authors   []atomPerson `xml:"author"`
	Links     []atomLink   `xml:"link"`
	Category  []atomCat    `xml:"category"`
	Summary   atomText     `xml:"summary"`
}

type atomCat struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

func (s *Server) absolute(r *http.Request, path string) string {
	base := strings.TrimRight(s.opts.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + path
}

func (s *Server) digestFeed(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.Digests.Archive(r.Context())
	if err != nil {
		s.log.Error("web: digest feed", "err", err)
		http.Error(w, "the archive is not available", http.StatusServiceUnavailable)
		return
	}
	updated := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := atomFeed{
		ID: s.absolute(r, "/digests"), Title: s.opts.SiteName + ": weekly evidence digests",
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: s.absolute(r, "/digests.atom")},
			{Rel: "alternate", Type: "text/html", Href: s.absolute(r, "/digests")},
		},
		Author: atomPerson{Name: s.opts.SiteName},
	}
	for _, a := range list {
		if a.Sent == nil {
			continue
		}
		if a.Sent.After(updated) {
			updated = *a.Sent
		}
		e := atomEntry{
			ID: s.absolute(r, "/digests/"+a.Week), Title: a.Title + ", " + a.Dates, Updated: a.Sent.UTC().Format(time.RFC3339),
			Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: s.absolute(r, "/digests/"+a.Week)}},
			Summary: atomText{Type: "text", Body: countItems(a.Items) + " of new evidence, " + a.Dates + "."},
		}
		f.Entries = append(f.Entries, e)
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		s.log.Error("web: digest feed", "err", err)
	}
}

func countItems(n int) string {
	if n == 1 {
		return "1 item"
	}
	return strconv.Itoa(n) + " items"
}
