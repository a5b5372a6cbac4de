package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// ParseCSLJSON reads CSL-JSON and calls fn with each item. The input is a
// JSON array of CSL items, as Zotero, citation.js, citeproc and our own
// export write it; a single item object, or items one after another (one
// per line or not), are read too. Each item is read on its own, so a file
// of any length streams, and an item longer than MaxRecordBytes is a bad
// record.
//
// Variables read: title, type (report, post-weblog and post → blog,
// article-newspaper → news, article-journal, article, article-magazine and
// paper-conference → article, dataset → data, broadcast → podcast,
// document, book, chapter and thesis → publication; webpage and others are
// left to the owning source's rules), genre (the kind of work: "Briefing",
// "Press release", "Long read" … refine the type), author ([{family,
// given, non-dropping-particle, dropping-particle, suffix}], [{literal}] or
// plain strings), issued ({"date-parts": [[y, m, d]]} with numbers or
// numeric strings, {"raw": …}, {"literal": …} or a date string), URL, DOI
// (either case), abstract, keyword (a comma- or semicolon-separated string,
// or a list), note (Record.Notes, one per line) and custom.pdf_urls
// (documents, as our export writes them). Other variables are ignored.
//
// An item without a title, or without a URL or DOI, is a bad record; a
// JSON value that is not an object with a CSL variable (title, type, id,
// URL, DOI) is not an item. Input without a single item is a
// *NoRecordsError.
func ParseCSLJSON(r io.Reader, fn func(Record) error) error {
	in := &textSniffer{r: r}
	s := &jsonScanner{br: bufio.NewReaderSize(in, 64<<10), line: 1}
	g := &recognizer{fn: fn, format: CSLJSON}
	if b, err := s.br.Peek(3); err == nil && bytes.Equal(b, bom) {
		s.br.Discard(3)
	}
	depth := 0 // inside this many top-level arrays
	for {
		c, err := s.skipSpace()
		if errors.Is(err, io.EOF) {
			return g.end(in)
		}
		if err != nil {
			return readError(CSLJSON, s.line, err)
		}
		switch {
		case c == '[' && depth == 0:
			s.br.ReadByte()
			depth++
			continue
		case c == ']' && depth > 0:
			s.br.ReadByte()
			depth--
			continue
		case c == ',' || ((c == '}' || c == ']') && depth > 0):
			s.br.ReadByte() // a separator, or a stray close inside the array
			continue
		case c == '{' || depth > 0:
			line := s.line
			raw, tooLong, err := s.value()
			var rec Record
			recognised := c == '{'
			switch {
			case errors.Is(err, io.ErrUnexpectedEOF):
				rec = Record{Line: line, Err: bad("record truncated at end of file (the item that starts here is not closed)")}
			case err != nil:
				return readError(CSLJSON, s.line, err)
			case tooLong:
				rec = Record{Line: line, Err: bad("item is longer than %d bytes", MaxRecordBytes)}
			default:
				rec, recognised = cslRecord(raw, line)
			}
			if err := g.emit(rec, recognised); err != nil {
				return err
			}
		default:
			// Not JSON (or a JSON scalar at the top): skip to the next
			// line that starts an array or object, and report the run once.
			line := s.line
			if err := s.skipJunk(); err != nil && !errors.Is(err, io.EOF) {
				return readError(CSLJSON, s.line, err)
			}
			if err := g.emit(Record{Line: line, Err: bad("not CSL-JSON (want a JSON array of items: [{…}, …])")}, false); err != nil {
				return err
			}
		}
	}
}

// jsonScanner cuts a stream of JSON text into values without decoding
// them, counting lines.
type jsonScanner struct {
	br   *bufio.Reader
	line int // line of the next byte
}

// skipSpace consumes white space and returns the next byte, unread.
func (s *jsonScanner) skipSpace() (byte, error) {
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case '\n':
			s.line++
		case ' ', '\t', '\r':
		default:
			s.br.UnreadByte()
			return c, nil
		}
	}
}

// skipJunk consumes up to the next line whose first non-blank byte is [ or
// {, or the end of input.
func (s *jsonScanner) skipJunk() error {
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return err
		}
		if c != '\n' {
			continue
		}
		s.line++
		next, err := s.skipSpace()
		if err != nil {
			return err
		}
		if next == '[' || next == '{' {
			return nil
		}
	}
}

// value reads one JSON value: an object or array up to its matching close
// (strings and escapes respected), a string, or a scalar up to the next
// delimiter. The bytes are kept up to MaxRecordBytes; past it the value is
// read to its end and dropped (tooLong). io.ErrUnexpectedEOF means the
// input ended inside the value.
func (s *jsonScanner) value() (raw []byte, tooLong bool, err error) {
	var buf []byte
	keep := func(c byte) {
		if tooLong {
			return
		}
		if len(buf) >= MaxRecordBytes {
			tooLong, buf = true, nil
			return
		}
		buf = append(buf, c)
	}
	depth, inString, escaped := 0, false, false
	first := true
	for {
		c, err := s.br.ReadByte()
		if errors.Is(err, io.EOF) {
			if depth == 0 && !inString && !first {
				return buf, tooLong, nil // a scalar ending the input
			}
			return nil, false, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, false, err
		}
		if c == '\n' {
			s.line++
		}
		switch {
		case inString:
			keep(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 0 {
					return buf, tooLong, nil
				}
			}
		case c == '"':
			keep(c)
			inString = true
		case c == '{' || c == '[':
			keep(c)
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				// The end of the enclosing array: not part of a scalar.
				s.br.UnreadByte()
				return buf, tooLong, nil
			}
			keep(c)
			depth--
			if depth == 0 {
				return buf, tooLong, nil
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			if c == '\n' {
				s.line-- // counted again when read as white space
			}
			s.br.UnreadByte()
			return buf, tooLong, nil
		default:
			keep(c)
		}
		first = false
	}
}

// cslVars are the variables that make a JSON object a CSL item.
var cslVars = []string{"title", "type", "id", "URL", "DOI", "url", "doi"}

// cslRecord reads one item. recognised is false when raw is not a JSON
// object with a CSL variable.
func cslRecord(raw []byte, line int) (Record, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Record{Line: line, Err: bad("want a CSL item (a JSON object), got a JSON %s", te.Value)}, false
		}
		return Record{Line: line, Err: bad("%s", jsonProblem(err))}, false
	}
	recognised := false
	for _, v := range cslVars {
		if _, ok := m[v]; ok {
			recognised = true
			break
		}
	}
	if !recognised {
		return Record{Line: line, Err: bad("a JSON object without the CSL variables title, type or URL")}, false
	}
	d := &draft{format: CSLJSON, line: line}
	d.title = jsonText(m["title"])
	d.summary = jsonText(m["abstract"])
	if u := firstText(m, "URL", "url"); u != "" {
		d.urls = append(d.urls, u)
	}
	d.doi = firstText(m, "DOI", "doi")
	d.typ = cslTypes[strings.ToLower(jsonText(m["type"]))]
	if t := typeFromWords(jsonText(m["genre"])); t != "" {
		d.typ = t
	}
	d.authors = cslNames(m["author"])
	d.categories = cslKeywords(m["keyword"])
	for _, n := range strings.Split(jsonText(m["note"]), "\n") {
		if n = strings.TrimSpace(n); n != "" {
			d.notes = append(d.notes, n)
		}
	}
	var custom struct {
		PDFURLs []json.RawMessage `json:"pdf_urls"`
	}
	if json.Unmarshal(m["custom"], &custom) == nil {
		for _, p := range custom.PDFURLs {
			if u := jsonText(p); u != "" {
				d.pdfs = append(d.pdfs, u)
			}
		}
	}
	if raw, ok := m["issued"]; ok && !isNull(raw) {
		t, p := cslDate(raw)
		if p == precNone {
			d.problems = append(d.problems, fmt.Sprintf("issued %s is not a date (want {\"date-parts\": [[YYYY, M, D]]} with a year from %d to %d)",
				clip(string(raw), 100), minYear, maxYear-1))
		}
		d.published, d.pubPrec = t, p
	}
	return d.record(), true
}

// cslTypes maps CSL item types to item types. Types not listed (webpage,
// post of a forum… ) leave the type to the owning source's rules.
var cslTypes = map[string]string{
	"report":            evidence.TypeReport,
	"post-weblog":       evidence.TypeBlog,
	"post":              evidence.TypeBlog,
	"article-newspaper": evidence.TypeNews,
	"article-journal":   evidence.TypeArticle,
	"article":           evidence.TypeArticle,
	"article-magazine":  evidence.TypeArticle,
	"paper-conference":  evidence.TypeArticle,
	"dataset":           evidence.TypeData,
	"broadcast":         evidence.TypePodcast,
	"document":          evidence.TypePublication,
	"book":              evidence.TypePublication,
	"chapter":           evidence.TypePublication,
	"thesis":            evidence.TypePublication,
	"pamphlet":          evidence.TypePublication,
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// jsonText reads a string or a number as text; "" for anything else.
func jsonText(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func firstText(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		if s := strings.TrimSpace(jsonText(m[k])); s != "" {
			return s
		}
	}
	return ""
}

// cslNames reads a name list: objects or plain strings.
func cslNames(raw json.RawMessage) []string {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		if s := jsonText(raw); s != "" {
			return []string{s}
		}
		return nil
	}
	var out []string
	for _, n := range list {
		var s string
		if json.Unmarshal(n, &s) == nil {
			out = append(out, s)
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(n, &m) != nil {
			continue
		}
		if lit := jsonText(m["literal"]); strings.TrimSpace(lit) != "" {
			out = append(out, lit)
			continue
		}
		var parts []string
		for _, k := range []string{"given", "dropping-particle", "non-dropping-particle", "family", "suffix"} {
			if s := strings.TrimSpace(jsonText(m[k])); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			out = append(out, strings.Join(parts, " "))
		}
	}
	return out
}

// cslKeywords reads keyword: a string of comma- or semicolon-separated
// keywords, or a list of them.
func cslKeywords(raw json.RawMessage) []string {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, k := range list {
			out = append(out, splitKeywords(jsonText(k), true)...)
		}
		return out
	}
	return splitKeywords(jsonText(raw), true)
}

// cslDate reads a CSL date: {"date-parts": [[y, m, d]]} (the first date of
// a range; parts may be numbers or numeric strings), {"raw": "…"},
// {"literal": "…"}, or a date string.
func cslDate(raw json.RawMessage) (time.Time, precision) {
	if s := jsonText(raw); s != "" {
		return risDate(s)
	}
	var d struct {
		DateParts [][]json.RawMessage `json:"date-parts"`
		Raw       json.RawMessage     `json:"raw"`
		Literal   json.RawMessage     `json:"literal"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return time.Time{}, precNone
	}
	if len(d.DateParts) > 0 && len(d.DateParts[0]) > 0 {
		p := d.DateParts[0]
		part := func(i int) string {
			if i >= len(p) {
				return ""
			}
			s := strings.TrimSpace(jsonText(p[i]))
			if n, err := strconv.Atoi(s); err == nil && i == 0 {
				return fmt.Sprintf("%04d", n) // a year as 4 digits
			}
			return s
		}
		if t, prec := dateParts(part(0), part(1), part(2)); prec != precNone {
			return t, prec
		}
	}
	for _, alt := range []json.RawMessage{d.Raw, d.Literal} {
		if s := jsonText(alt); s != "" {
			if t, p := risDate(s); p != precNone {
				return t, p
			}
		}
	}
	return time.Time{}, precNone
}
