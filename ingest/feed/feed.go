// Package feed reads RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed documents
// into evidence items. It is the only package that imports gofeed; its
// types never leave this package.
//
// Parse takes the bytes of a feed (the fetcher has fetched them and, usually,
// converted them to UTF-8) and returns one item per entry with a usable URL:
// title, summary and body as plain text, outbound links, PDF links, authors,
// categories and dates. URLs get the generic normalisation only
// (urlnorm.Rules{}); the pipeline applies each site's rules, fills Source,
// Type, ID and FirstSeen, and merges with item-page metadata.
package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/text"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

const (
	// MaxEntries is the most entries read from one feed; the rest are
	// ignored.
	MaxEntries = 10000
	// MaxBodySize is the largest feed read (the fetcher caps bodies well
	// below this; the limit guards direct callers).
	MaxBodySize = 64 << 20
	// SummaryFromContent is the length, in runes, of a summary cut from the
	// content when an entry has no description.
	SummaryFromContent = 400
	// SummaryMax caps a summary taken from a description: some feeds put
	// the whole post there.
	SummaryMax = 1000
)

// Layer is the provenance value for fields this package supplies.
const Layer = "feed"

// parseError is an invalid-input error: Error() is the message alone
// ("feed: parse: empty body"); errors.Is finds evidence.ErrInvalid and the
// underlying cause, if any.
type parseError struct {
	msg   string
	cause error
}

func (e *parseError) Error() string { return e.msg }

func (e *parseError) Unwrap() []error {
	if e.cause != nil {
		return []error{evidence.ErrInvalid, e.cause}
	}
	return []error{evidence.ErrInvalid}
}

func invalid(cause error, format string, args ...any) error {
	return &parseError{msg: "feed: parse: " + fmt.Sprintf(format, args...), cause: cause}
}

// Parse reads one feed from r. Relative links resolve against base (the
// feed's URL; when nil, the feed's own <link>). Entries without a usable
// URL (no link, no URL-like GUID) are skipped, as are repeats of a URL
// already seen; at most MaxEntries entries are read.
//
// Input that is not a feed — an HTML page, an empty body, malformed XML or
// JSON — gives an error wrapping evidence.ErrInvalid that says what was
// seen ("feed: parse: not a feed (got HTML document)"); so does a feed whose
// entries all lack a URL. A read error from r is returned wrapped as is.
//
// An XML feed cut off before its end (a truncated download: no final
// "</rss>", or a last entry broken off) gives the entries that end before
// the damage together with a *PartialError, which the caller should log as
// a warning and otherwise ignore. It wraps the parse error of the whole
// document, so a caller that treats every error as a failure stays safe.
func Parse(r io.Reader, base *url.URL) ([]evidence.Item, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("feed: read: %w", err)
	}
	if len(body) > MaxBodySize {
		return nil, invalid(nil, "body larger than %d MiB", MaxBodySize>>20)
	}
	f, doc, err := parseBytes(body)
	if err != nil {
		return recoverTruncated(doc, base, err)
	}
	return convertDoc(f, doc, base)
}

// convertDoc converts a parsed feed; doc is the document gofeed read.
func convertDoc(f *gofeed.Feed, doc []byte, base *url.URL) ([]evidence.Item, error) {
	if base == nil {
		if u, err := url.Parse(strings.TrimSpace(f.Link)); err == nil && u.IsAbs() {
			base = u
		}
	}
	var types []entryTypes
	if f.FeedType == "atom" && declaresText(doc) {
		if types = atomTextTypes(doc); len(types) != len(f.Items) {
			types = nil // the scan and gofeed disagree: assume HTML, as before
		}
	}
	return convert(f, base, types)
}

// parseBytes checks for the usual non-feeds, fixes the character encoding
// and runs gofeed. It returns the document it gave gofeed (also with an
// error, when it got that far).
func parseBytes(body []byte) (f *gofeed.Feed, doc []byte, err error) {
	body = toUTF8(body)
	trimmed := bytes.TrimLeftFunc(body, unicode.IsSpace)
	if len(trimmed) == 0 {
		return nil, nil, invalid(nil, "empty body")
	}
	if isHTML(trimmed) {
		return nil, nil, invalid(nil, "not a feed (got HTML document)")
	}
	doc = trimmed
	defer func() {
		// gofeed is third-party code fed untrusted bytes: a panic in it is
		// a bad feed, not a crash of the whole run.
		if p := recover(); p != nil {
			f, err = nil, invalid(nil, "parser failed: %v", p)
		}
	}()
	f, err = gofeed.NewParser().Parse(bytes.NewReader(trimmed))
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		f, err = parseUndetected(trimmed)
	}
	if err != nil {
		return nil, doc, describe(err)
	}
	if f == nil {
		return nil, doc, invalid(nil, "not a feed (parser returned nothing)")
	}
	if f.FeedType == "json" && f.FeedVersion == "" && len(f.Items) == 0 {
		// Any JSON object passes gofeed's detection; an API error message
		// is not an empty feed.
		return nil, doc, invalid(nil, "not a feed (JSON without a JSON Feed version)")
	}
	return f, doc, nil
}

// isHTML reports a body that starts as an HTML document.
func isHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 64)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// parseUndetected handles bodies gofeed could not classify from their first
// 4 KB: it finds the root element itself (a long comment or doctype before
// the root is legal) and says what it found when it is not a feed.
func parseUndetected(b []byte) (*gofeed.Feed, error) {
	switch b[0] {
	case '<':
	case '{', '[':
		return nil, invalid(nil, "not a feed (JSON that is not a JSON Feed)")
	default:
		return nil, invalid(nil, "not a feed (got text starting %q)", snippet(b))
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		// Only the root's name matters here: read bytes as they are.
		return in, nil
	}
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, invalid(nil, "not a feed (no root element)")
			}
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch name := strings.ToLower(se.Name.Local); name {
		case "rss", "rdf":
			rf, err := (&rss.Parser{}).Parse(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return (&gofeed.DefaultRSSTranslator{}).Translate(rf)
		case "feed":
			af, err := (&atom.Parser{}).Parse(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return (&gofeed.DefaultAtomTranslator{}).Translate(af)
		case "html":
			return nil, invalid(nil, "not a feed (got HTML document)")
		default:
			return nil, invalid(nil, "not a feed (root element <%s>)", se.Name.Local)
		}
	}
}

// describe turns a parser error into an invalid-input error that says what
// was wrong.
func describe(err error) error {
	var pe *parseError
	if errors.As(err, &pe) {
		return err
	}
	var se *xml.SyntaxError
	var je *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return invalid(err, "%s", se.Error())
	case errors.As(err, &je), errors.As(err, &te):
		return invalid(err, "JSON: %v", err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid(err, "truncated feed: %v", err)
	}
	return invalid(err, "%v", err)
}

func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b[:min(len(b), 120)]), "\uFFFD")
	r := []rune(s)
	if len(r) > 40 {
		r = r[:40]
	}
	return string(r)
}

// convert maps gofeed's entries to items. types, when not nil, holds the
// declared type of each entry's text constructs (Atom).
func convert(f *gofeed.Feed, base *url.URL, types []entryTypes) ([]evidence.Item, error) {
	entries := f.Items
	if len(entries) > MaxEntries {
		entries = entries[:MaxEntries]
	}
	var feedAuthors []string
	if f.FeedType == "atom" {
		// Atom entries inherit the feed's author (RFC 4287 §4.2.1).
		feedAuthors = authors(f.Authors, nil)
	}
	items := make([]evidence.Item, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	firstLink := ""
	for i, e := range entries {
		if e == nil {
			continue
		}
		var et entryTypes
		if i < len(types) {
			et = types[i]
		}
		if firstLink == "" {
			firstLink = e.Link
		}
		u := entryURL(e, base)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		items = append(items, convertItem(e, u, feedAuthors, et))
	}
	if len(items) == 0 && len(entries) > 0 {
		return nil, invalid(nil, "none of %d entries has a usable URL (first link %q)", len(entries), firstLink)
	}
	return items, nil
}

// entryURL returns the entry's normalised URL: its link, else another
// alternate link, else its GUID when that is an http(s) URL; "" if none.
func entryURL(e *gofeed.Item, base *url.URL) string {
	candidates := append([]string{e.Link}, e.Links...)
	for _, c := range candidates {
		if strings.TrimSpace(c) == "" {
			continue
		}
		if u, err := urlnorm.Normalize(c, base, urlnorm.Rules{}); err == nil {
			return u
		}
	}
	g := strings.TrimSpace(e.GUID)
	if lg := strings.ToLower(g); strings.HasPrefix(lg, "http://") || strings.HasPrefix(lg, "https://") {
		if u, err := urlnorm.Normalize(g, nil, urlnorm.Rules{}); err == nil {
			return u
		}
	}
	return ""
}

func convertItem(e *gofeed.Item, u string, feedAuthors []string, et entryTypes) evidence.Item {
	it := evidence.Item{
		URL:        u,
		Title:      plain(e.Title, et.title),
		Authors:    []string{},
		PDFURLs:    []string{},
		Provenance: map[string]string{"url": Layer},
	}
	// Each HTML field is read once. The body comes from the content, or
	// from the description when the content is blank (PlainText of white
	// space alone is "", so content stays "" then). Links come from the
	// same field, when it is HTML.
	description := plain(e.Description, et.summary)
	contentHTML, content, body := e.Content, "", description
	if strings.TrimSpace(contentHTML) == "" {
		contentHTML = e.Description
		if isText(et.summary) {
			contentHTML = ""
		}
	} else {
		content = plain(e.Content, et.content)
		body = content
		if isText(et.content) {
			contentHTML = ""
		}
	}

	it.Summary = cleanSummary(description)
	if it.Summary != "" {
		it.Summary = text.Summarize(it.Summary, SummaryMax)
	} else {
		it.Summary = text.Summarize(content, SummaryFromContent)
	}
	it.Body = body

	itemBase, _ := url.Parse(u)
	links := text.Links(contentHTML, itemBase)
	it.Links = make([]string, 0, len(links))
	pdfSeen := map[string]bool{}
	for _, l := range links {
		it.Links = append(it.Links, l.URL)
		if !text.IsPDF(l.URL) {
			continue
		}
		if p, err := urlnorm.Normalize(l.URL, nil, urlnorm.Rules{}); err == nil && !pdfSeen[p] {
			pdfSeen[p] = true
			it.PDFURLs = append(it.PDFURLs, p)
		}
	}

	var dcCreators []string
	if e.DublinCoreExt != nil {
		dcCreators = append(dcCreators, e.DublinCoreExt.Creator...)
		dcCreators = append(dcCreators, e.DublinCoreExt.Author...)
	}
	it.Authors = authors(e.Authors, dcCreators)
	if len(it.Authors) == 0 {
		it.Authors = append([]string{}, feedAuthors...)
	}
	it.Categories = categories(e.Categories)

	it.Published = goodDate(e.PublishedParsed)
	if it.Published == nil {
		it.Published = dcTermsDate(e.Extensions, "issued", "created")
	}
	it.Updated = goodDate(e.UpdatedParsed)
	if it.Updated == nil {
		it.Updated = dcTermsDate(e.Extensions, "modified")
	}
	if it.Published == nil && it.Updated != nil {
		p := *it.Updated
		it.Published = &p
	}

	set := func(field string, ok bool) {
		if ok {
			it.Provenance[field] = Layer
		}
	}
	set("title", it.Title != "")
	set("summary", it.Summary != "")
	set("body", it.Body != "")
	set("published", it.Published != nil)
	set("updated", it.Updated != nil)
	set("authors", len(it.Authors) > 0)
	set("categories", len(it.Categories) > 0)
	return it
}

// goodDate returns t in UTC, or nil when it is missing or not
// text.PlausibleDate.
func goodDate(t *time.Time) *time.Time {
	if t == nil || !text.PlausibleDate(*t) {
		return nil
	}
	u := t.UTC()
	return &u
}

// WordPress and other CMSs append boilerplate to excerpts.
var (
	appearedFirstRE = regexp.MustCompile(`\s*The post .{1,300}? appeared first on .{1,200}?\.?\s*$`)
	moreMarkerRE    = regexp.MustCompile(`\s*(?:\[(?:…|\.\.\.|&hellip;)\]|(?:Continue reading|Read more|Read the full story)\s*(?:→|»|…)?)\s*$`)
)

// cleanSummary removes "The post X appeared first on Y." and trailing
// "[…]" / "Continue reading" markers from an excerpt.
func cleanSummary(s string) string {
	s = appearedFirstRE.ReplaceAllString(s, "")
	if m := moreMarkerRE.FindStringIndex(s); m != nil && m[0] > 0 {
		s = strings.TrimRight(s[:m[0]], " ") + "…"
		s = strings.Replace(s, "……", "…", 1)
	}
	return strings.TrimSpace(s)
}

func categories(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range in {
		c = text.PlainText(c)
		k := strings.ToLower(c)
		if c == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	return out
}

// authors merges gofeed's persons with the raw dc:creator values, splits
// "A and B" / "A, B" lists, drops e-mail addresses and de-duplicates
// (case-insensitively, first spelling wins).
func authors(persons []*gofeed.Person, raw []string) []string {
	var names []string
	for _, p := range persons {
		switch {
		case p == nil:
		case strings.TrimSpace(p.Name) != "":
			names = append(names, p.Name)
		default:
			// gofeed reads an RSS <author>Jane Doe &lt;jane@…&gt;</author>
			// as all e-mail and no name; stripEmail keeps the name (and
			// drops a bare address).
			names = append(names, p.Email)
		}
	}
	names = append(names, raw...)
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		for _, a := range splitNames(stripEmail(text.PlainText(n))) {
			k := strings.ToLower(a)
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, a)
		}
	}
	return out
}

var (
	emailRE     = regexp.MustCompile(`[^\s()<>"]+@[^\s()<>"]+\.[^\s()<>"]+`)
	byPrefixRE  = regexp.MustCompile(`(?i)^by\s+`)
	andRE       = regexp.MustCompile(`(?i)\s*(?:,\s*and|,\s*&|\band\b|&|;|\|)\s*`)
	orgWordsRE  = regexp.MustCompile(`\b(?:of|for|the|on|in|at)\b`)
	personSepRE = regexp.MustCompile(`\s*,\s*`)
)

// stripEmail turns "elf@example.org (Andre Tomlin)" or
// "Andre Tomlin <elf@example.org>" into "Andre Tomlin"; a bare address
// becomes "".
func stripEmail(s string) string {
	s = emailRE.ReplaceAllString(s, "")
	s = strings.NewReplacer("()", "", "<>", "", "( )", "", "< >", "").Replace(s)
	s = strings.Trim(s, " ()<>\"'")
	return evidence.NormalizeSpace(s)
}

// splitNames splits an author list. "A and B", "A & B", "A; B" split
// unless the text reads like an organisation ("Department of Health and
// Social Care"); "A, B" splits only when every part has at least two words,
// so "Smith, John" and "Jane Doe, PhD" stay whole.
func splitNames(s string) []string {
	s = strings.TrimSpace(byPrefixRE.ReplaceAllString(strings.TrimSpace(s), ""))
	if s == "" {
		return nil
	}
	parts := []string{s}
	if !orgWordsRE.MatchString(s) {
		parts = andRE.Split(s, -1)
	}
	var out []string
	for _, p := range parts {
		p = strings.Trim(p, " ,")
		if p == "" {
			continue
		}
		sub := personSepRE.Split(p, -1)
		whole := len(sub) < 2
		for _, q := range sub {
			if !strings.Contains(strings.TrimSpace(q), " ") {
				whole = true
			}
		}
		if whole {
			out = append(out, p)
			continue
		}
		for _, q := range sub {
			out = append(out, strings.TrimSpace(q))
		}
	}
	return out
}

// xmlDeclRE finds the encoding in an XML declaration.
var xmlDeclRE = regexp.MustCompile(`^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([^"']*)(["'])`)

// toUTF8 makes the body UTF-8 and makes its XML declaration say so, whatever
// the fetcher did:
//   - a UTF-8 BOM is dropped; UTF-16 (with BOM) is decoded;
//   - a body already converted to UTF-8 whose declaration still names
//     another charset gets its declaration fixed (else gofeed would convert
//     it a second time);
//   - a body that is not valid UTF-8 and names no other charset is read as
//     Windows-1252 (a superset of ISO-8859-1's printable range).
//
// A body that is not UTF-8 and declares its charset is left for gofeed,
// which converts ISO-8859-x, Windows-125x, KOI8… itself.
func toUTF8(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		b = decodeUTF16(b)
		return setDeclaredEncoding(b)
	}
	declared := ""
	if m := xmlDeclRE.FindSubmatch(b[:min(len(b), 512)]); m != nil {
		declared = strings.ToLower(strings.TrimSpace(string(m[2])))
	}
	isUTF8Label := declared == "" || declared == "utf-8" || declared == "utf8" || declared == "us-ascii" || declared == "ascii"
	valid := utf8.Valid(b)
	switch {
	case valid && isUTF8Label:
		return b
	case valid && hasNonASCII(b):
		// Converted by the fetcher; the declaration is stale.
		return setDeclaredEncoding(b)
	case valid:
		// ASCII only: any ASCII-compatible charset reads it the same.
		return setDeclaredEncoding(b)
	case isUTF8Label:
		return setDeclaredEncoding(decodeWindows1252(b))
	}
	return b
}

func setDeclaredEncoding(b []byte) []byte {
	loc := xmlDeclRE.FindSubmatchIndex(b[:min(len(b), 512)])
	if loc == nil {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:loc[4]]...)
	out = append(out, "UTF-8"...)
	out = append(out, b[loc[5]:]...)
	return out
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// cp1252 maps bytes 0x80–0x9F of Windows-1252; the rest of the high half is
// ISO-8859-1 (byte value = code point).
var cp1252 = [32]rune{
	'€', '\u0081', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u008D', 'Ž', '\u008F',
	'\u0090', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u009D', 'ž', 'Ÿ',
}

func decodeWindows1252(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/8)
	for _, c := range b {
		switch {
		case c < 0x80:
			out.WriteByte(c)
		case c < 0xA0:
			out.WriteRune(cp1252[c-0x80])
		default:
			out.WriteRune(rune(c))
		}
	}
	return out.Bytes()
}

func decodeUTF16(b []byte) []byte {
	bigEndian := b[0] == 0xFE
	b = b[2:]
	var out bytes.Buffer
	out.Grow(len(b))
	for i := 0; i+1 < len(b); i += 2 {
		var u uint16
		if bigEndian {
			u = uint16(b[i])<<8 | uint16(b[i+1])
		} else {
			u = uint16(b[i+1])<<8 | uint16(b[i])
		}
		r := rune(u)
		if u >= 0xD800 && u < 0xDC00 && i+3 < len(b) {
			var lo uint16
			if bigEndian {
				lo = uint16(b[i+2])<<8 | uint16(b[i+3])
			} else {
				lo = uint16(b[i+3])<<8 | uint16(b[i+2])
			}
			if lo >= 0xDC00 && lo < 0xE000 {
				r = (rune(u)-0xD800)<<10 | (rune(lo) - 0xDC00) + 0x10000
				i += 2
			} else {
				r = utf8.RuneError
			}
		} else if u >= 0xD800 && u < 0xE000 {
			r = utf8.RuneError
		}
		out.WriteRune(r)
	}
	return out.Bytes()
}
