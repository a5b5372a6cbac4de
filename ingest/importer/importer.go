// Package importer reads the reference lists librarians already keep —
// JSONL in the item JSON of the contract, RIS, BibTeX and CSL-JSON — into evidence
// items, and saves them through the same canonical-URL dedupe as ingested
// items (see Import).
//
// The parsers take an io.Reader and stream: each record is handed to a
// callback as soon as it is read, so a file of any length is read in
// bounded memory (a JSONL line, an RIS line or a BibTeX entry is capped at
// MaxRecordBytes). A record that cannot be used is reported with the line it
// starts on and the reason ("line 12: no title"); the parser goes on with the
// next record. Parsers never panic on any input (see the Fuzz targets).
//
// Items leave the parsers with generic URL normalisation only
// (urlnorm.Rules{}); Import applies each site's rules, like the pipeline.
package importer

import (
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/text"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// MaxRecordBytes caps one JSONL line, one RIS line, one BibTeX entry and
// one CSL-JSON item. A longer record is reported as bad and skipped.
const MaxRecordBytes = 1 << 20

// SummaryMax is the longest summary kept, in runes, as in the feed layer. A
// longer abstract is cut at a sentence end for the summary and kept whole as
// the body (when the record has no body).
const SummaryMax = 1000

// maxNote is the longest note kept in a Record, in runes.
const maxNote = 20000

// LayerPrefix starts the provenance value of every field an import supplies:
// "import:ris", "import:bibtex", "import:jsonl", "import:csl-json". A date known only to the
// year or month says so: "import:ris (year only)".
const LayerPrefix = "import:"

// Format is an input format.
type Format string

// The formats Parse reads.
const (
	JSONL  Format = "jsonl"
	RIS    Format = "ris"
	BibTeX Format = "bibtex"
	// CSLJSON is CSL-JSON: an array of CSL items (or items one after
	// another), as Zotero, citation.js and citeproc read and write.
	CSLJSON Format = "csl-json"
)

// formatList names the formats in messages.
const formatList = "jsonl, ris, bibtex, csl-json"

// ParseFormat reads a format name as given to --format.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case JSONL, RIS, BibTeX, CSLJSON:
		return f, nil
	case "bib":
		return BibTeX, nil
	case "ndjson":
		return JSONL, nil
	case "csljson", "csl", "json":
		return CSLJSON, nil
	}
	return "", fmt.Errorf("importer: format %q is not one of %s: %w", s, formatList, evidence.ErrInvalid)
}

// FormatOf guesses a file's format from its extension: .jsonl/.ndjson,
// .ris, .bib/.bibtex, .json (CSL-JSON, so .csl.json too), any case. ok is
// false for any other name.
func FormatOf(name string) (f Format, ok bool) {
	switch strings.ToLower(path.Ext(strings.ReplaceAll(name, `\`, "/"))) {
	case ".jsonl", ".ndjson":
		return JSONL, true
	case ".ris":
		return RIS, true
	case ".bib", ".bibtex":
		return BibTeX, true
	case ".json":
		return CSLJSON, true
	}
	return "", false
}

// Record is one reference read from a file.
type Record struct {
	// Line is the 1-based line the record starts on.
	Line int
	// Item is the reference as an item, when Err is nil: Title and URL are
	// set (URL generically normalised; a DOI-only record gets
	// https://doi.org/<doi>), Source only when a JSONL record names one.
	Item evidence.Item
	// DOI is the record's DOI, lower-cased, if it has one.
	DOI string
	// DOIURL is the DOI's resolver URL, https://doi.org/<doi> with the DOI
	// in the case the record wrote it, generically normalised.
	DOIURL string
	// Notes are the record's free-text notes as plain text, one per note
	// (RIS N1 lines, a BibTeX note or annote, the lines of a CSL note).
	// Import does not store them; they are read for what comes next
	// (collections' notes) and checked by the exports' round-trip tests.
	Notes []string
	// Err says why the record cannot be imported; Item is then partial.
	Err error
}

// RecordError is a bad record in a report: the line it starts on and why.
// The JSON names are printed by `evidence import --json`.
type RecordError struct {
	Line    int    `json:"line"`
	Message string `json:"error"`
}

func (e RecordError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Message) }

// Parse reads r in format f and calls fn with each record in file order. It
// returns nil at the end of the input, a *NoRecordsError when the input held
// no record of the format at all (empty, binary, another format: the bad
// lines found are then not handed to fn, unless there were more than a
// hundred), fn's error if fn returns one (which stops the parse), or a
// wrapped read error. A last record cut off by the end of the input is a bad
// record "record truncated at end of file (…)".
func Parse(r io.Reader, f Format, fn func(Record) error) error {
	switch f {
	case JSONL:
		return ParseJSONL(r, fn)
	case RIS:
		return ParseRIS(r, fn)
	case BibTeX:
		return ParseBibTeX(r, fn)
	case CSLJSON:
		return ParseCSLJSON(r, fn)
	}
	return fmt.Errorf("importer: format %q is not one of %s: %w", f, formatList, evidence.ErrInvalid)
}

// badRecord is the error of a record that cannot be used. It wraps
// evidence.ErrInvalid.
type badRecord struct{ msg string }

func (e *badRecord) Error() string        { return e.msg }
func (e *badRecord) Is(target error) bool { return target == evidence.ErrInvalid }

func bad(format string, a ...any) error { return &badRecord{msg: fmt.Sprintf(format, a...)} }

// readError wraps a failure of the underlying reader.
func readError(f Format, line int, err error) error {
	return fmt.Errorf("importer: read %s at line %d: %w", f, line, err)
}

// precision of a date.
type precision int

const (
	precNone precision = iota
	precYear
	precMonth
	precDay
)

// draft collects a record's fields before they are checked and turned into
// an item.
type draft struct {
	format     Format
	line       int
	title      string
	summary    string
	body       string
	urls       []string // candidate item URLs, best first
	pdfs       []string
	doi        string // as given: "10.…", "doi:10.…", "https://doi.org/10.…"
	authors    []string
	published  time.Time
	pubPrec    precision
	updated    *time.Time
	typ        string
	categories []string
	cites      []evidence.Cite // JSONL only
	source     string          // JSONL only
	firstSeen  time.Time       // JSONL only
	notes      []string
	problems   []string // fatal problems found while reading
}

// record checks the draft and builds the item.
func (d *draft) record() Record {
	rec := Record{Line: d.line}
	layer := LayerPrefix + string(d.format)
	it := evidence.Item{
		Source: d.source, Type: d.typ, FirstSeen: d.firstSeen,
		Authors: []string{}, Topics: []string{}, Categories: []string{}, PDFURLs: []string{},
		AnnouncedBy: []string{}, Discusses: []string{}, DiscussedBy: []string{}, Cites: []evidence.Cite{},
		Provenance: map[string]string{},
	}
	problems := slices.Clone(d.problems)

	it.Title = clip(text.PlainText(d.title), 2000)
	if it.Title == "" {
		problems = append(problems, "no title")
	}

	// URL: the first usable candidate that is not a document; documents
	// become PDF URLs.
	var rejected []string
	for _, raw := range d.pdfs {
		if u, err := urlnorm.Normalize(raw, nil, urlnorm.Rules{}); err == nil {
			it.PDFURLs = appendNew(it.PDFURLs, u)
		}
	}
	var firstDoc string
	for _, raw := range d.urls {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := urlnorm.Normalize(raw, nil, urlnorm.Rules{})
		if err != nil {
			rejected = append(rejected, fmt.Sprintf("url %q is not an absolute http(s) URL", clip(raw, 200)))
			continue
		}
		if text.IsPDF(u) {
			it.PDFURLs = appendNew(it.PDFURLs, u)
			if firstDoc == "" {
				firstDoc = u
			}
			continue
		}
		if it.URL == "" {
			it.URL = u
		}
	}

	// DOI: as given, else read from the URL.
	doi, doiSrc := "", ""
	if d.doi != "" {
		doi, doiSrc = urlnorm.DOI(d.doi), d.doi
		if doi == "" {
			problems = append(problems, fmt.Sprintf("doi %q is not a DOI (10.NNNN/…)", clip(d.doi, 200)))
		}
	}
	if doi == "" && it.URL != "" {
		doi, doiSrc = urlnorm.DOI(it.URL), it.URL
	}
	doiURL := ""
	if doi != "" {
		doiURL = DOIURL(doiAsWritten(doiSrc, doi))
		rec.DOI, rec.DOIURL = doi, doiURL
	}
	switch {
	case it.URL != "":
	case doiURL != "":
		it.URL = doiURL
	case firstDoc != "":
		it.URL = firstDoc
	case len(rejected) > 0:
		problems = append(problems, rejected[0]+" and there is no doi")
	default:
		problems = append(problems, "no url or doi")
	}

	// Cites: the DOI, then those a JSONL record lists. Links: every cited
	// URL but the item's own.
	seenCite := map[string]bool{}
	addCite := func(c evidence.Cite) {
		if c.URL == "" || seenCite[c.URL] || (c.DOI != "" && seenCite["doi:"+c.DOI]) {
			return
		}
		seenCite[c.URL] = true
		if c.DOI != "" {
			seenCite["doi:"+c.DOI] = true
		}
		it.Cites = append(it.Cites, c)
		if c.URL != it.URL {
			it.Links = appendNew(it.Links, c.URL)
		}
	}
	if doiURL != "" {
		addCite(evidence.Cite{URL: doiURL, DOI: doi})
	}
	for _, c := range d.cites {
		cd := urlnorm.DOI(c.DOI)
		cu, err := urlnorm.Normalize(c.URL, nil, urlnorm.Rules{})
		if err != nil {
			cu = ""
		}
		if cu == "" && cd != "" {
			cu = DOIURL(doiAsWritten(c.DOI, cd))
		}
		if cd == "" && cu != "" {
			cd = urlnorm.DOI(cu)
		}
		addCite(evidence.Cite{URL: cu, DOI: cd})
	}

	summary := text.PlainText(d.summary)
	body := text.PlainText(d.body)
	it.Summary = text.Summarize(summary, SummaryMax)
	if body == "" && it.Summary != summary {
		body = summary // keep the whole abstract searchable
	}
	it.Body = body

	for _, a := range d.authors {
		if a = clip(text.PlainText(NormalizeName(a)), 300); a != "" && !slices.Contains(it.Authors, a) {
			it.Authors = append(it.Authors, a)
		}
	}
	for _, c := range d.categories {
		c = clip(text.PlainText(c), 200)
		if c != "" && !slices.ContainsFunc(it.Categories, func(x string) bool { return strings.EqualFold(x, c) }) {
			it.Categories = append(it.Categories, c)
		}
	}

	if d.pubPrec != precNone {
		p := d.published.UTC()
		it.Published = &p
		switch d.pubPrec {
		case precYear:
			it.Provenance["published"] = layer + " (year only)"
		case precMonth:
			it.Provenance["published"] = layer + " (month only)"
		default:
			it.Provenance["published"] = layer
		}
	}
	if d.updated != nil {
		u := d.updated.UTC()
		it.Updated = &u
		it.Provenance["updated"] = layer
	}
	for field, ok := range map[string]bool{
		"title": it.Title != "", "summary": it.Summary != "", "body": it.Body != "",
		"authors": len(it.Authors) > 0, "categories": len(it.Categories) > 0,
		"type": it.Type != "", "url": it.URL != "",
	} {
		if ok {
			it.Provenance[field] = layer
		}
	}

	for _, n := range d.notes {
		if n = clip(text.PlainText(n), maxNote); n != "" {
			rec.Notes = append(rec.Notes, n)
		}
	}

	rec.Item = it
	if len(problems) > 0 {
		rec.Err = bad("%s", strings.Join(problems, "; "))
	}
	return rec
}

// DOIURL is the resolver URL of a DOI, https://doi.org/<doi>, generically
// normalised (as a link to it in a feed would be).
func DOIURL(doi string) string {
	if u, err := urlnorm.Normalize("https://doi.org/"+doi, nil, urlnorm.Rules{}); err == nil {
		return u
	}
	u := url.URL{Scheme: "https", Host: "doi.org", Path: "/" + doi}
	return u.String()
}

// doiAsWritten finds doi (lower-cased by urlnorm.DOI) in the text it was
// read from and returns it in the case written there: links to
// https://doi.org/10.1016/S2215-… keep their capitals.
func doiAsWritten(src, doi string) string {
	s := src
	if dec, err := url.PathUnescape(s); err == nil {
		s = dec
	}
	ls := strings.ToLower(s)
	if i := strings.Index(ls, doi); i >= 0 && len(ls) == len(s) {
		return s[i : i+len(doi)]
	}
	return doi
}

func appendNew(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// clip cuts s to at most n runes (a guard against absurd fields).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i]
}
