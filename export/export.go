// Package export writes items as citations for reference managers and
// spreadsheets: RIS, BibTeX (biblatex-friendly), CSL-JSON and CSV. The item
// page's "cite as" downloads (/items/{id}.ris, .bib, .csl.json) write one
// entry; a collection's export writes many, each with its section and the
// curator's note.
//
// Every writer takes text from the web as hostile: control characters, NUL,
// line breaks (including U+2028/U+2029), invalid UTF-8 and braces never
// break the format. Single-line fields are cleaned (white space collapsed,
// control characters dropped) and cut at a sane length; URLs longer than
// MaxURLBytes are left out rather than cut. The output is UTF-8.
//
// Item types become each format's types like this:
//
//	item type      RIS        BibTeX                        CSL-JSON
//	report         RPRT       @techreport type=Report       report
//	briefing       RPRT M3    @techreport type=Briefing     report + genre
//	long-read      RPRT M3    @techreport type=Long read    report + genre
//	blog           BLOG       @online type=Blog post        post-weblog
//	news           NEWS       @online type=News             article-newspaper
//	press-release  NEWS M3    @online type=Press release    article-newspaper + genre
//	article, DOI   JOUR       @article                      article-journal
//	article        ELEC       @online                       webpage
//	data           DATA       @dataset                      dataset
//	podcast        SOUND M3   @online type=Podcast          broadcast + genre
//	publication    GEN M3     @misc type=Publication        document + genre
//	other, none    GEN        @misc                         webpage
//
// (RIS M3, the BibTeX type field and CSL genre carry the kind of work:
// "Briefing", "Long read", "Press release", "Podcast", "Publication". The
// project's importer reads the item type back from them; Zotero and
// citation styles show them.)
//
// The project's importer reads RIS, BibTeX and CSL-JSON back to the same
// title, URL, DOI, authors (as split: "Dr Jane Smith" is "Jane Smith"),
// date, topics, PDFs, notes and type (but an article without a DOI, and a
// publication in RIS or BibTeX, get their source's type rules again); see
// the round-trip tests. citation.js (TestRealParser) reads title, authors, date, URL, DOI
// and notes of all three, but drops the PDFs of RIS (L1) and BibTeX (pdf),
// reads RIS NEWS authors as "reporter" and its date as the year only (its
// RIS 2011 table has no DA for NEWS, where Zotero reads one), and reads
// @online as a webpage (the genre keeps "Blog post", "Press release").
package export

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
)

// Entry is one item to write, with the collection context when there is one.
type Entry struct {
	Item      evidence.Item
	Publisher string // display name of the item's source, e.g. "The King's Fund"
	Section   string // collection section name ("" when none)
	Note      string // curator's note ("" when none)
}

// Limits on what is written. Longer text is cut (at a rune boundary); a
// longer URL is left out, since a cut URL is a wrong one.
const (
	// MaxShort bounds titles, publishers and sections, in runes.
	MaxShort = 2000
	// MaxTerm bounds each author's name and each topic, in runes (as the
	// importer keeps them).
	MaxTerm = 300
	// MaxLong bounds abstracts and notes, in runes.
	MaxLong = 20000
	// MaxURLBytes bounds URLs and DOIs.
	MaxURLBytes = 4000
	// maxList bounds the authors, topics and PDF URLs written per entry,
	// so an entry stays well under the importer's MaxRecordBytes.
	maxList = 100
)

// Format returns the writer for a format name ("ris", "bibtex" or "bib",
// "csl-json", "csv"; any case), with the content type and file extension
// (with its dot: ".ris", ".bib", ".csl.json", ".csv") of an HTTP download.
// ok is false for any other name.
func Format(name string) (contentType, ext string, write func(io.Writer, []Entry) error, ok bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "ris":
		return "application/x-research-info-systems; charset=utf-8", ".ris", RIS, true
	case "bibtex", "bib":
		return "application/x-bibtex; charset=utf-8", ".bib", BibTeX, true
	case "csl-json", "csljson", "csl":
		return "application/vnd.citationstyles.csl+json", ".csl.json", CSLJSON, true
	case "csv":
		return "text/csv; charset=utf-8", ".csv", CSV, true
	}
	return "", "", nil, false
}

// Formats are the names Format knows, one per format.
func Formats() []string { return []string{"ris", "bibtex", "csl-json", "csv"} }

// errWriter remembers the first write error, so the writers can write
// without checking each line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) WriteString(s string) {
	if e.err != nil {
		return
	}
	_, e.err = io.WriteString(e.w, s)
}

func (e *errWriter) result(format string) error {
	if e.err != nil {
		return fmt.Errorf("export: write %s: %w", format, e.err)
	}
	return nil
}

// clean makes s safe as one line of text: invalid UTF-8 becomes U+FFFD,
// control characters and line or paragraph separators become spaces, runs
// of white space one space, and the result is trimmed and cut to max runes.
// Only the first part of a huge string is read.
func clean(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for i := 0; i < len(s) && n < max; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			r = '\uFFFD'
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
			r == '\uFEFF' || unicode.Is(unicode.Noncharacter_Code_Point, r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// cleanURL makes a URL or DOI safe in every format: white space at its ends
// trimmed; bytes that may not appear raw in a URL (controls, spaces, quotes,
// braces, backslashes, < > ^ ` |, invalid UTF-8) percent-encoded; "" when
// it is longer than MaxURLBytes. Valid non-ASCII letters are kept (IRIs).
func cleanURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxURLBytes {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x21, r == 0x7f,
			r >= 0x80 && r < 0xa0, r == '\u2028', r == '\u2029', r == '\uFEFF',
			strings.ContainsRune("\"<>\\^`{|}", r), unicode.IsSpace(r):
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if b.Len() > MaxURLBytes {
		return ""
	}
	return b.String()
}

// bareDOI returns an item's DOI as "10.…/…", without a "doi:" prefix or a
// resolver in front; "" when it is not one.
func bareDOI(s string) string {
	s = cleanURL(s)
	low := strings.ToLower(s)
	for _, p := range []string{"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"} {
		if strings.HasPrefix(low, p) {
			s = s[len(p):]
			break
		}
	}
	if !strings.HasPrefix(s, "10.") || !strings.Contains(s, "/") {
		return ""
	}
	return s
}

// itemKind is how an item type is written in each format.
type itemKind struct {
	ris, bib, csl string
	// words name the kind of work where the format's type is broader
	// (RIS M3, BibTeX type, CSL genre); "" when the type says it all.
	words string
	// bibType is the BibTeX type field (the words, or Report).
	bibType string
}

func kindOf(it evidence.Item) itemKind {
	switch it.Type {
	case evidence.TypeReport:
		return itemKind{ris: "RPRT", bib: "techreport", csl: "report", bibType: "Report"}
	case evidence.TypeBriefing:
		return itemKind{ris: "RPRT", bib: "techreport", csl: "report", words: "Briefing", bibType: "Briefing"}
	case evidence.TypeLongRead:
		return itemKind{ris: "RPRT", bib: "techreport", csl: "report", words: "Long read", bibType: "Long read"}
	case evidence.TypeBlog:
		return itemKind{ris: "BLOG", bib: "online", csl: "post-weblog", bibType: "Blog post"}
	case evidence.TypeNews:
		return itemKind{ris: "NEWS", bib: "online", csl: "article-newspaper", bibType: "News"}
	case evidence.TypePressRelease:
		return itemKind{ris: "NEWS", bib: "online", csl: "article-newspaper", words: "Press release", bibType: "Press release"}
	case evidence.TypeArticle:
		if bareDOI(it.DOI) != "" {
			return itemKind{ris: "JOUR", bib: "article", csl: "article-journal"}
		}
		return itemKind{ris: "ELEC", bib: "online", csl: "webpage"}
	case evidence.TypeData:
		return itemKind{ris: "DATA", bib: "dataset", csl: "dataset"}
	case evidence.TypePodcast:
		return itemKind{ris: "SOUND", bib: "online", csl: "broadcast", words: "Podcast", bibType: "Podcast"}
	case evidence.TypePublication:
		return itemKind{ris: "GEN", bib: "misc", csl: "document", words: "Publication", bibType: "Publication"}
	}
	return itemKind{ris: "GEN", bib: "misc", csl: "webpage"}
}

// datePrecision is how much of an item's published date is known.
type datePrecision int

const (
	dateNone datePrecision = iota
	dateYear
	dateMonth
	dateDay
)

// published returns the item's publication date (UTC) and how much of it
// is known: an import that knew only the year or the month says so in the
// provenance ("import:ris (year only)").
func published(it evidence.Item) (time.Time, datePrecision) {
	if it.Published == nil || it.Published.IsZero() {
		return time.Time{}, dateNone
	}
	t := it.Published.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, dateNone
	}
	switch p := it.Provenance["published"]; {
	case strings.HasSuffix(p, "(year only)"):
		return t, dateYear
	case strings.HasSuffix(p, "(month only)"):
		return t, dateMonth
	}
	return t, dateDay
}

// accessed is when the item was first seen (UTC), zero if unknown.
func accessed(it evidence.Item) time.Time {
	if it.FirstSeen.IsZero() || it.FirstSeen.Year() < 1 || it.FirstSeen.Year() > 9999 {
		return time.Time{}
	}
	return it.FirstSeen.UTC()
}

// texts cleans a list, dropping empty and repeated entries.
func texts(list []string, max int) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if len(out) == maxList {
			break
		}
		if s = clean(s, max); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// urls cleans a list of URLs, dropping empty and repeated ones.
func urls(list []string) []string {
	var out []string
	for _, s := range list {
		if len(out) == maxList {
			break
		}
		if s = cleanURL(s); s != "" && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// noteParts are the lines of an entry's note: "Section: X" and the
// curator's note, each cleaned to one line.
func noteParts(e Entry) []string {
	var parts []string
	if s := clean(e.Section, MaxShort); s != "" {
		parts = append(parts, "Section: "+s)
	}
	if n := clean(e.Note, MaxLong); n != "" {
		parts = append(parts, n)
	}
	return parts
}

// sentences joins note parts into one line, each part ending with a full
// stop unless it ends with punctuation already.
func sentences(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p)
		if i < len(parts)-1 && !strings.ContainsAny(p[len(p)-1:], ".!?:;") {
			b.WriteByte('.')
		}
	}
	return b.String()
}
