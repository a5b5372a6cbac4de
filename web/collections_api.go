package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
)

// maxJSONBody bounds a JSON request body of the collections API.
const maxJSONBody = 64 << 10

// apiCollectionDoc is a collection as the API gives it: the stored
// collection (items without their full text) and its addresses here.
type apiCollectionDoc struct {
	evidence.Collection
	Links map[string]string `json:"links"`
}

// apiCollectionConflict is the 409 of a stale edit: the error and the
// collection as it is now.
type apiCollectionConflict struct {
	apiError
	Current apiCollectionDoc `json:"current"`
}

func (s *Server) collectionDoc(r *http.Request, c evidence.Collection) apiCollectionDoc {
	secs := make([]evidence.Section, len(c.Sections))
	for i, sec := range c.Sections {
		secs[i] = sec
		secs[i].Entries = make([]evidence.Entry, len(sec.Entries))
		for j, e := range sec.Entries {
			if e.Item != nil {
				it := *e.Item
				it.Body = ""
				e.Item = &it
			}
			secs[i].Entries[j] = e
		}
		if secs[i].Entries == nil {
			secs[i].Entries = []evidence.Entry{}
		}
	}
	c.Sections = secs
	base := "/c/" + c.Slug
	links := map[string]string{"page": s.absolute(r, base), "feed": s.absolute(r, base+".atom"),
		"api": s.absolute(r, "/api/v1/collections/"+c.Slug)}
	for _, f := range collectionFormats {
		links[strings.ReplaceAll(f.name, "-", "_")] = s.absolute(r, base+f.ext)
	}
	return apiCollectionDoc{Collection: c, Links: links}
}

// withCollections answers 404 when the server has no collections.
func (s *Server) withCollections(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Collections == nil {
			writeAPIError(w, http.StatusNotFound, codeNotFound, "collections are not enabled on this server")
			return
		}
		h(w, r)
	}
}

// apiCollectionSlug is the path's slug, or false after a 404.
func apiCollectionSlug(w http.ResponseWriter, r *http.Request) (string, bool) {
	slug := r.PathValue("slug")
	if !validSlug(slug) {
		writeAPIError(w, http.StatusNotFound, codeNotFound, "no collection "+strconv.Quote(truncate(slug, 80)))
		return "", false
	}
	return slug, true
}

// apiCollectionError answers a service error: its status and message, a
// stale edit with the current collection, an outage as 503 (logged).
func (s *Server) apiCollectionError(w http.ResponseWriter, r *http.Request, op string, err error) {
	var stale *evidence.StaleError
	if errors.As(err, &stale) {
		var body apiCollectionConflict
		body.Error.Code, body.Error.Message = codeConflict, staleMessage(stale.Current)
		body.Current = s.collectionDoc(r, stale.Current)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusConflict, body)
		return
	}
	status, code := collectionStatus(err)
	if status == 0 {
		s.log.Error("web: api collections", "op", op, "err", err)
		writeAPIError(w, http.StatusServiceUnavailable, codeUnavailable, "the collection could not be "+op+" just now; try again in a moment")
		return
	}
	writeAPIError(w, status, code, errorText(err))
}

func privateNoCache(w http.ResponseWriter, r *http.Request) {
	if !principal(r).Anonymous() {
		w.Header().Set("Cache-Control", "private, no-cache")
	}
}

func (s *Server) apiCollections(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.Collections.List(r.Context(), principal(r))
	if err != nil {
		s.apiCollectionError(w, r, "listed", err)
		return
	}
	out := []apiCollectionDoc{}
	for _, c := range list {
		out = append(out, s.collectionDoc(r, c))
	}
	privateNoCache(w, r)
	writeJSON(w, http.StatusOK, map[string]any{"collections": out, "total": len(out)})
}

func (s *Server) apiCollection(w http.ResponseWriter, r *http.Request) {
	slug, ok := apiCollectionSlug(w, r)
	if !ok {
		return
	}
	c, err := s.opts.Collections.Get(r.Context(), slug, principal(r))
	if err != nil {
		s.apiCollectionError(w, r, "read", err)
		return
	}
	privateNoCache(w, r)
	writeJSON(w, http.StatusOK, s.collectionDoc(r, c))
}

type apiNewCollection struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Description string `json:"description"`
	Visibility  string `json:"visibility"`
}

func (s *Server) apiCreateCollection(w http.ResponseWriter, r *http.Request) {
	var in apiNewCollection
	if !decodeStrict(w, r, &in) {
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		writeAPIError(w, http.StatusUnprocessableEntity, codeUnprocessable, `"name" is required: the collection's name, such as "Recovery resources"`)
		return
	}
	c, err := s.opts.Collections.Create(r.Context(), principal(r), evidence.Collection{Name: in.Name, Slug: strings.TrimSpace(in.Slug),
		Description: in.Description, Visibility: in.Visibility})
	if err != nil {
		s.apiCollectionError(w, r, "made", err)
		return
	}
	w.Header().Set("Location", "/api/v1/collections/"+c.Slug)
	writeJSON(w, http.StatusCreated, s.collectionDoc(r, c))
}

type apiEdit struct {
	Version *int                     `json:"version"`
	Edit    *evidence.CollectionEdit `json:"edit"`
}

func (s *Server) apiEditCollection(w http.ResponseWriter, r *http.Request) {
	slug, ok := apiCollectionSlug(w, r)
	if !ok {
		return
	}
	var in apiEdit
	if !decodeStrict(w, r, &in) {
		return
	}
	switch {
	case in.Version == nil:
		writeAPIError(w, http.StatusUnprocessableEntity, codeUnprocessable, `"version" is required: the collection's version the edit was made against`)
		return
	case in.Edit == nil || in.Edit.Action == "":
		writeAPIError(w, http.StatusUnprocessableEntity, codeUnprocessable, `"edit" is required, with its "action" (rename, describe, visibility, add-section, rename-section, move-section, remove-section, add, move, note, remove)`)
		return
	case in.Edit.Action == "create":
		writeAPIError(w, http.StatusUnprocessableEntity, codeUnprocessable, `"create" is not an edit: POST /api/v1/collections makes a collection`)
		return
	}
	c, err := s.opts.Collections.Edit(r.Context(), slug, *in.Version, principal(r), *in.Edit)
	if err != nil {
		s.apiCollectionError(w, r, "changed", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.collectionDoc(r, c))
}

func (s *Server) apiDeleteCollection(w http.ResponseWriter, r *http.Request) {
	slug, ok := apiCollectionSlug(w, r)
	if !ok {
		return
	}
	v := r.URL.Query().Get("version")
	version, err := strconv.Atoi(v)
	if err != nil || version < 0 {
		writeBadRequest(w, "version", fmt.Sprintf("%q: give the collection's version, ?version=N (deleting needs the version you saw)", truncate(v, 20)), 0)
		return
	}
	if err := s.opts.Collections.Delete(r.Context(), slug, version, principal(r)); err != nil {
		s.apiCollectionError(w, r, "deleted", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiExportCollection(w http.ResponseWriter, r *http.Request) {
	slug, ok := apiCollectionSlug(w, r)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	ctype, ext, _, known := export.Format(format)
	if !known {
		writeBadRequest(w, "format", fmt.Sprintf("%q is not an export format: use one of %s", truncate(format, 20), strings.Join(export.Formats(), ", ")), 0)
		return
	}
	var buf bytes.Buffer
	if err := s.opts.Collections.Export(r.Context(), slug, principal(r), format, &buf); err != nil {
		s.apiCollectionError(w, r, "exported", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+slug+ext+`"`)
	privateNoCache(w, r)
	_, _ = w.Write(buf.Bytes())
}

// decodeStrict reads the request body as exactly one JSON document into
// v, refusing unknown fields, a body over maxJSONBody (413) and anything
// after the document; a bad body is a 400 naming the problem and where.
// It answers the request itself when it returns false.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			writeAPIError(w, http.StatusUnsupportedMediaType, codeBadRequest, "send the body as JSON, with Content-Type: application/json (not "+truncate(ct, 60)+")")
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// One document only: anything but white space after it is refused.
		if _, terr := dec.Token(); terr != io.EOF {
			err = errExtra
			if terr != nil && !isSyntax(terr) {
				err = terr
			}
		}
	}
	if err == nil {
		return true
	}
	var (
		tooBig *http.MaxBytesError
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
		msg    string
	)
	switch {
	case errors.As(err, &tooBig):
		writeAPIError(w, http.StatusRequestEntityTooLarge, codeBadRequest, fmt.Sprintf("the body is over %d bytes, the most this API takes", maxJSONBody))
		return false
	case errors.Is(err, io.EOF):
		msg = "the body is empty: send a JSON object"
	case errors.Is(err, errExtra):
		msg = fmt.Sprintf("the body holds more than one JSON document (something follows the first, which ends at byte %d)", dec.InputOffset())
	case errors.As(err, &syn):
		msg = fmt.Sprintf("the body is not valid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		} else {
			field = strconv.Quote(field)
		}
		msg = fmt.Sprintf("%s must be %s, not a JSON %s (at byte %d)", field, jsonKind(typ.Type.Kind().String()), typ.Value, typ.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = fmt.Sprintf("the JSON ends early, at byte %d", dec.InputOffset())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		msg = fmt.Sprintf("unknown field %s (at byte %d); the fields are listed in /api/v1/openapi.json", strings.TrimPrefix(err.Error(), "json: unknown field "), dec.InputOffset())
	default:
		msg = "the body could not be read as JSON: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	writeBadRequest(w, "body", msg, 0)
	return false
}

var errExtra = errors.New("more than one JSON document")

func isSyntax(err error) bool {
	var syn *json.SyntaxError
	return errors.As(err, &syn)
}

func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "a " + kind
}
