package web

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
)

// citeFormats are the "cite as" downloads of an item page, at
// /items/{id}{ext}.
var citeFormats = []struct {
	name, ext, class, label, hint string
}{
	{"ris", ".ris", "cite-ris", "RIS", "Zotero, EndNote, Mendeley, RefWorks"},
	{"bibtex", ".bib", "cite-bib", "BibTeX", "LaTeX, JabRef, Zotero"},
	{"csl-json", ".csl.json", "cite-csl", "CSL-JSON", "Zotero, Pandoc, citation.js"},
}

// cite writes an item's citation as a download.
func (s *Server) cite(w http.ResponseWriter, r *http.Request, it evidence.Item, format string) {
	ctype, ext, write, ok := export.Format(format)
	if !ok {
		s.fail(w, r, http.StatusNotFound, "No such format", "Citations come as RIS, BibTeX or CSL-JSON.")
		return
	}
	it.Body = ""
	var buf bytes.Buffer
	if err := write(&buf, []export.Entry{{Item: it, Publisher: s.opts.Catalog.SourceName(it.Source)}}); err != nil {
		s.log.Error("web: cite", "id", it.ID, "format", format, "err", err)
		s.fail(w, r, http.StatusInternalServerError, "The citation could not be made", "The error has been logged.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+url.PathEscape(it.ID)+ext+`"`)
	h.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(buf.Bytes())
}
