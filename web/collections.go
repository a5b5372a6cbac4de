package web

// Collections on the web: the curators' workbench (/collections and
// /collections/{slug}/edit, "add to collection" on item and search pages),
// the published page /c/{slug} with its feed and exports, and the API's
// /api/v1/collections routes (collections_api.go).

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/evidencetracker/evidence"
)

// Collections is the librarians' collections service (service.Collections
// implements it over the store). Each call gets the principal it acts for
// or on behalf of; the service checks visibility and roles again.
type Collections interface {
	// List returns the collections viewer may see (private ones only for
	// curators), entries filled.
	List(ctx context.Context, viewer evidence.Principal) ([]evidence.Collection, error)
	// Get returns one collection; evidence.ErrNotFound also for a private
	// one viewer may not see.
	Get(ctx context.Context, slug string, viewer evidence.Principal) (evidence.Collection, error)
	History(ctx context.Context, slug string, viewer evidence.Principal) ([]evidence.CollectionChange, error)
	// Create makes a collection: evidence.ErrConflict when the slug is
	// taken, evidence.ErrInvalid for a bad name, slug or visibility.
	Create(ctx context.Context, by evidence.Principal, c evidence.Collection) (evidence.Collection, error)
	// Edit applies e made against version: a stale version is an
	// *evidence.StaleError carrying the collection as it is now.
	Edit(ctx context.Context, slug string, version int, by evidence.Principal, e evidence.CollectionEdit) (evidence.Collection, error)
	Delete(ctx context.Context, slug string, version int, by evidence.Principal) error
	// Export writes the collection as ris, bibtex, csl-json or csv.
	Export(ctx context.Context, slug string, viewer evidence.Principal, format string, w io.Writer) error
}

func init() {
	pageNames = append(pageNames, "collections", "collection-edit", "collection")
}

// collectionRoutes adds the collection pages (the API's routes are in
// apiRouteList) when Options.Collections is set.
func (s *Server) collectionRoutes(m *http.ServeMux) {
	if s.opts.Collections == nil {
		return
	}
	m.HandleFunc("GET /collections", s.requireRead(s.collectionsPage))
	m.HandleFunc("POST /collections", s.requireRole(evidence.RoleCurator, s.formCSRF(s.createCollection)))
	m.HandleFunc("POST /collections/add", s.requireRole(evidence.RoleCurator, s.formCSRF(s.addToCollection)))
	m.HandleFunc("GET /collections/{slug}/edit", s.requireRole(evidence.RoleCurator, s.collectionEditPage))
	m.HandleFunc("POST /collections/{slug}/edit", s.requireRole(evidence.RoleCurator, s.formCSRF(s.editCollection)))
	// The published page, its feed and its exports: a public collection is
	// for anyone with the link (web.public or not); a private one is a 404
	// to all but curators.
	m.HandleFunc("GET /c/{slug}", s.publicCollection)
}

// formCSRF reads a posted form and refuses it (403) without the page's
// CSRF token.
func (s *Server) formCSRF(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			status := http.StatusBadRequest
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				status = http.StatusRequestEntityTooLarge
			}
			s.fail(w, r, status, "The form could not be read", "It may be too long. Please go back and try again.")
			return
		}
		if !s.checkCSRF(r) {
			s.fail(w, r, http.StatusForbidden, "The form has expired",
				"For your security, changes must be sent from a page of this site, with cookies allowed. Please reload the page and try again.")
			return
		}
		h(w, r)
	}
}

// slugRe is what a slug in a URL may look like; anything else is a 404
// without asking the service.
var slugRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$`)

func validSlug(s string) bool { return slugRe.MatchString(s) }

// collectionStatus maps a service error to the HTTP status and the API
// error code: ErrNotFound 404, ErrConflict 409, ErrInvalid 422, a
// refusal ("forbidden") 403; anything else 0 (an outage: 503 and logged).
func collectionStatus(err error) (int, string) {
	switch {
	case errors.Is(err, evidence.ErrNotFound):
		return http.StatusNotFound, codeNotFound
	case errors.Is(err, evidence.ErrConflict):
		return http.StatusConflict, codeConflict
	case errors.Is(err, evidence.ErrInvalid):
		return http.StatusUnprocessableEntity, codeUnprocessable
	case strings.Contains(strings.ToLower(err.Error()), "forbidden"):
		return http.StatusForbidden, codeForbidden
	}
	return 0, ""
}

// collectionPicker is what the item and search pages need to offer "add
// to collection" to a curator: the collections, their sections' names,
// and a confirmation after an add. Nil for everyone else.
type collectionPicker struct {
	Collections []pickerCollection
	// Sections are the section names of all collections, for a datalist.
	Sections []string
	// Return is where the add form sends the curator back to.
	Return string
	// Added confirms an add (?added=slug&n=…): the collection's name and
	// edit page.
	Added, AddedURL, AddedPage string
	AddedCount                 string
}

type pickerCollection struct {
	Slug, Name string
	Private    bool
	Entries    int
}

// collectionPage is the render hook: on the item and search pages it
// fills the picker for a curator (the only case that costs a query), and
// on every page it adds Collections to the navigation.
func (s *Server) collectionPage(r *http.Request, name string, p *page) {
	if s.opts.Collections == nil {
		return
	}
	p.Nav = append(p.Nav, navLink{URL: "/collections", Label: "Collections", Current: p.Section == "collections"})
	if name != "item" && name != "search" {
		return
	}
	pr := principal(r)
	if !pr.Can(evidence.RoleCurator) || p.Data == nil {
		return
	}
	list, err := s.opts.Collections.List(r.Context(), pr)
	if err != nil {
		s.log.Error("web: collections for the picker", "err", err)
		return
	}
	pk := &collectionPicker{Return: r.URL.Path}
	seen := map[string]bool{}
	q := r.URL.Query()
	for _, c := range list {
		pk.Collections = append(pk.Collections, pickerCollection{Slug: c.Slug, Name: c.Name,
			Private: c.Visibility != evidence.VisibilityPublic, Entries: len(c.Entries())})
		for _, sec := range c.Sections {
			if !seen[sec.Name] {
				seen[sec.Name] = true
				pk.Sections = append(pk.Sections, sec.Name)
			}
		}
		if c.Slug == q.Get("added") {
			pk.Added, pk.AddedURL, pk.AddedPage = c.Name, "/collections/"+c.Slug+"/edit", "/c/"+c.Slug
			if n := q.Get("n"); n != "" && n != "1" && len(n) < 4 && strings.Trim(n, "0123456789") == "" {
				pk.AddedCount = n + " items"
			}
		}
	}
	sort.Strings(pk.Sections)
	// Back to the same search (without an old confirmation).
	q.Del("added")
	q.Del("n")
	if enc := q.Encode(); enc != "" {
		pk.Return += "?" + enc
	}
	p.Collect = pk
}

// withQuery is path (a local path, maybe with a query and a fragment)
// with key=value set in its query.
func withQuery(path string, kv ...string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}
