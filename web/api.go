package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/evidencetracker/evidence"
)

//go:embed openapi.json
var openapiFS embed.FS

// apiRoute is one route of /api/v1; the OpenAPI document lists exactly
// these (a test checks both ways).
type apiRoute struct {
	Method, Path string // Path as in OpenAPI: /api/v1/items/{id}
	handler      func(*Server) http.HandlerFunc
}

// apiRouteList is every /api/v1 route. Later routes (collections, saved
// searches) are added here and to openapi.json.
var apiRouteList = []apiRoute{
	{"GET", "/api/v1/openapi.json", func(s *Server) http.HandlerFunc { return s.apiOpenAPI }},
	{"GET", "/api/v1/search", func(s *Server) http.HandlerFunc { return s.requireRead(s.apiSearch) }},
	{"GET", "/api/v1/items/{id}", func(s *Server) http.HandlerFunc { return s.requireRead(s.apiItem) }},
	{"GET", "/api/v1/topics", func(s *Server) http.HandlerFunc { return s.requireRead(s.apiTopics) }},
	{"GET", "/api/v1/sources", func(s *Server) http.HandlerFunc { return s.requireRead(s.apiSources) }},
	{"GET", "/api/v1/digests", func(s *Server) http.HandlerFunc { return s.requireRead(s.apiDigests) }},
	{"GET", "/api/v1/me", func(s *Server) http.HandlerFunc { return s.apiMe }},
	// Collections (collections_api.go).
	{"GET", "/api/v1/collections", func(s *Server) http.HandlerFunc { return s.requireRead(s.withCollections(s.apiCollections)) }},
	{"POST", "/api/v1/collections", func(s *Server) http.HandlerFunc {
		return s.requireRole(evidence.RoleCurator, s.withCollections(s.apiCreateCollection))
	}},
	{"GET", "/api/v1/collections/{slug}", func(s *Server) http.HandlerFunc { return s.requireRead(s.withCollections(s.apiCollection)) }},
	{"POST", "/api/v1/collections/{slug}/edits", func(s *Server) http.HandlerFunc {
		return s.requireRole(evidence.RoleCurator, s.withCollections(s.apiEditCollection))
	}},
	{"DELETE", "/api/v1/collections/{slug}", func(s *Server) http.HandlerFunc {
		return s.requireRole(evidence.RoleCurator, s.withCollections(s.apiDeleteCollection))
	}},
	{"GET", "/api/v1/collections/{slug}/export", func(s *Server) http.HandlerFunc {
		return s.requireRead(s.withCollections(s.apiExportCollection))
	}},
}

// apiRoutes: /api/v1, with JSON errors for unknown paths and methods.
func (s *Server) apiRoutes(m *http.ServeMux) {
	for _, rt := range apiRouteList {
		m.HandleFunc(rt.Method+" "+rt.Path, rt.handler(s))
	}
	m.HandleFunc("/api/", s.apiFallback)
}

// apiFallback answers what no route matched: a write without a role is
// refused before anything else (401/403), a known path with the wrong
// method is 405 with Allow, anything else 404.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	if unsafeMethod(r.Method) {
		if p := principal(r); p.Anonymous() {
			w.Header().Set("WWW-Authenticate", `Bearer realm="evidence"`)
			writeAPIError(w, http.StatusUnauthorized, "unauthorized", "sign in or send an API token (Authorization: Bearer …) to change anything")
			return
		} else if !p.Can(evidence.RoleCurator) {
			writeAPIError(w, http.StatusForbidden, "forbidden", "your role ("+p.User.Role+") may not change anything here")
			return
		}
	}
	var allow []string
	for _, rt := range apiRouteList {
		if pathMatches(rt.Path, r.URL.Path) {
			allow = append(allow, rt.Method)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeAPIError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	writeAPIError(w, http.StatusNotFound, "not_found", "no API route at "+truncate(r.URL.Path, 100)+"; the routes are listed in /api/v1/openapi.json")
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// pathMatches reports whether path fits the OpenAPI path template.
func pathMatches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if ts[i] != ps[i] {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	b, _ := openapiFS.ReadFile("openapi.json")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// apiPage reads limit and offset (defaults 20 and 0).
func apiPage(r *http.Request) (limit, offset int, err error) {
	limit, offset = pageSize, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 || n > 100 {
			return 0, 0, &badRequest{"limit", fmt.Sprintf("%q: want a number from 1 to 100", truncate(v, 20))}
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 || n > maxOffset {
			return 0, 0, &badRequest{"offset", fmt.Sprintf("%q: want a number from 0 to %d", truncate(v, 20), maxOffset)}
		}
		offset = n
	}
	return limit, offset, nil
}

// apiQueryError is the 400 body of a malformed query: the parser's
// message and the column.
type apiQueryError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Column  int    `json:"column,omitempty"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func writeBadRequest(w http.ResponseWriter, field, msg string, column int) {
	var e apiQueryError
	e.Error.Code, e.Error.Message, e.Error.Column, e.Error.Field = "bad_request", msg, column, field
	writeJSON(w, http.StatusBadRequest, e)
}

// apiSearch is the CLI's `search --json` document over HTTP.
func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	p, err := parseSearch(r.URL.Query(), "page")
	var bad *badRequest
	if errors.As(err, &bad) {
		writeBadRequest(w, bad.Field, bad.Msg, 0)
		return
	}
	limit, offset, err := apiPage(r)
	if errors.As(err, &bad) {
		writeBadRequest(w, bad.Field, bad.Msg, 0)
		return
	}
	if r.URL.Query().Get("offset") == "" && p.Page > 1 {
		offset = (p.Page - 1) * limit
	}
	req := p.request(limit, offset)
	req.Months = r.URL.Query().Get("months") == "true"
	res, err := s.opts.Catalog.Search(r.Context(), req)
	var qerr *evidence.QueryError
	switch {
	case errors.As(err, &qerr):
		writeBadRequest(w, "q", qerr.Error(), qerr.Column)
	case errors.Is(err, evidence.ErrInvalid):
		writeBadRequest(w, "", strings.TrimPrefix(err.Error(), "index: search: "), 0)
	case err != nil:
		s.log.Error("web: api search", "err", err)
		writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "the search index could not answer; try again in a moment")
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// apiItemDoc is an item as `show --json` prints it, with its relations'
// titles and its links here.
type apiItemDoc struct {
	evidence.Item
	Links       map[string]string `json:"links"`
	Related     []apiItemRef      `json:"related"`
	DiscussesR  []apiItemRef      `json:"discusses_items"`
	DiscussedBR []apiItemRef      `json:"discussed_by_items"`
}

type apiItemRef struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Source string `json:"source"`
	URL    string `json:"url"`
}

func refs(items []evidence.Item) []apiItemRef {
	out := []apiItemRef{}
	for _, it := range items {
		out = append(out, apiItemRef{ID: it.ID, Title: it.Title, Source: it.Source, URL: it.URL})
	}
	return out
}

func (s *Server) apiItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := s.opts.Catalog.Item(r.Context(), id)
	if errors.Is(err, evidence.ErrNotFound) {
		writeAPIError(w, http.StatusNotFound, "not_found", "no item with ID "+strconv.Quote(truncate(id, 80)))
		return
	}
	if err != nil {
		s.log.Error("web: api item", "id", id, "err", err)
		writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "the item could not be read; try again in a moment")
		return
	}
	if p.Item.Provenance == nil {
		p.Item.Provenance = map[string]string{}
	}
	base := "/items/" + p.Item.ID
	writeJSON(w, http.StatusOK, apiItemDoc{Item: p.Item, Related: refs(p.Related), DiscussesR: refs(p.Discusses), DiscussedBR: refs(p.DiscussedBy),
		Links: map[string]string{"page": s.absolute(r, base), "ris": s.absolute(r, base+".ris"), "bibtex": s.absolute(r, base+".bib"), "csl_json": s.absolute(r, base+".csl.json")}})
}

func (s *Server) apiTopics(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.Catalog.Topics(r.Context())
	if err != nil {
		s.log.Error("web: api topics", "err", err)
		writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "topics could not be read; try again in a moment")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"topics": list, "total": len(list)})
}

func (s *Server) apiSources(w http.ResponseWriter, r *http.Request) {
	rows, err := s.opts.Catalog.Sources(r.Context())
	if err != nil {
		s.log.Error("web: api sources", "err", err)
		writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "sources could not be read; try again in a moment")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": rows, "total": len(rows)})
}

// apiDigest is one sent digest in the archive list.
type apiDigest struct {
	Week  string `json:"week"`
	Title string `json:"title"`
	Dates string `json:"dates"`
	Items int    `json:"items"`
	Sent  string `json:"sent,omitempty"`
	HTML  string `json:"html_url"`
	Text  string `json:"text_url"`
}

func (s *Server) apiDigests(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := apiPage(r)
	var bad *badRequest
	if errors.As(err, &bad) {
		writeBadRequest(w, bad.Field, bad.Msg, 0)
		return
	}
	out := []apiDigest{}
	if s.opts.Digests != nil {
		list, err := s.opts.Digests.Archive(r.Context())
		if err != nil {
			s.log.Error("web: api digests", "err", err)
			writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "the archive could not be read; try again in a moment")
			return
		}
		for _, a := range list {
			d := apiDigest{Week: a.Week, Title: a.Title, Dates: a.Dates, Items: a.Items,
				HTML: s.absolute(r, "/digests/"+a.Week), Text: s.absolute(r, "/digests/"+a.Week+".txt")}
			if a.Sent != nil {
				d.Sent = a.Sent.UTC().Format("2006-01-02T15:04:05Z")
			}
			out = append(out, d)
		}
	}
	total := len(out)
	out = out[min(offset, total):min(offset+limit, total)]
	writeJSON(w, http.StatusOK, map[string]any{"digests": out, "total": total, "limit": limit, "offset": offset})
}

// apiMe says who the request is from: scripts check their token with it.
func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p.Anonymous() {
		w.Header().Set("WWW-Authenticate", `Bearer realm="evidence"`)
		writeAPIError(w, http.StatusUnauthorized, "unauthorized", "not signed in and no API token sent")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"email": p.User.Email, "role": p.User.Role, "via": p.Via})
}

// APIRoutes lists the /api/v1 routes as "METHOD /path" (for the OpenAPI
// check and the docs).
func APIRoutes() []string {
	out := make([]string, 0, len(apiRouteList))
	for _, rt := range apiRouteList {
		out = append(out, rt.Method+" "+rt.Path)
	}
	return out
}
