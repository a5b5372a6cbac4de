package export

import (
	"fmt"
	"io"
	"strings"
)

// RIS writes the entries as RIS records, one "TAG  - value" line per field
// with CRLF line endings (the RIS specification's; every reader takes
// them), each record from "TY  - " to "ER  - " and a blank line after it.
// Fields: TY (see the package's table), TI, AU one per author ("Family,
// Given", "Family, Given, Suffix", an organisation as written but for
// commas, which RIS readers would split it at), PY (year)
// and DA ("YYYY/MM/DD", or "YYYY/MM" and "YYYY" when only those are known),
// Y2 (access date: first seen), UR, DO (bare 10.… DOI), PB (publisher), T2
// (the blog or site for blogs and news), M3 (kind of work: "Briefing",
// "Long read"…), AB, KW one per topic, N1 "Section: X" and N1 the curator's
// note, L1 one per PDF URL, DB (Database: the catalogue the record came
// from, Zotero's "Library Catalog"), ID (the item ID). Every value is one
// line: line breaks and control characters inside it become spaces.
//
// DB is also what makes readers that follow the 2011 RIS specification
// strictly (citation.js) read a record as a 2011 one: ID alone is a tag of
// the older specification, where AB is a note and not the abstract.
func RIS(w io.Writer, entries []Entry) error {
	ew := &errWriter{w: w}
	for _, e := range entries {
		writeRIS(ew, e)
	}
	return ew.result("RIS")
}

// Database is the RIS DB of every record.
const Database = "Evidence Tracker"

func writeRIS(ew *errWriter, e Entry) {
	it := e.Item
	k := kindOf(it)
	line := func(tag, value string) {
		if value != "" {
			ew.WriteString(tag + "  - " + value + "\r\n")
		}
	}
	ew.WriteString("TY  - " + k.ris + "\r\n")
	line("TI", clean(it.Title, MaxShort))
	for _, n := range names(it.Authors) {
		line("AU", risName(n))
	}
	if t, p := published(it); p != dateNone {
		line("PY", fmt.Sprintf("%04d", t.Year()))
		switch p {
		case dateYear:
			line("DA", fmt.Sprintf("%04d", t.Year()))
		case dateMonth:
			line("DA", fmt.Sprintf("%04d/%02d", t.Year(), int(t.Month())))
		default:
			line("DA", t.Format("2006/01/02"))
		}
	}
	if t := accessed(it); !t.IsZero() {
		line("Y2", t.Format("2006/01/02"))
	}
	line("UR", cleanURL(it.URL))
	line("DO", bareDOI(it.DOI))
	pub := clean(e.Publisher, MaxShort)
	line("PB", pub)
	if k.ris == "BLOG" || k.ris == "NEWS" || k.ris == "ELEC" {
		line("T2", pub)
	}
	line("M3", k.words)
	line("AB", clean(it.Summary, MaxLong))
	for _, t := range texts(it.Topics, MaxTerm) {
		line("KW", t)
	}
	for _, n := range noteParts(e) {
		line("N1", n)
	}
	for _, u := range urls(it.PDFURLs) {
		line("L1", u)
	}
	line("DB", Database)
	line("ID", clean(it.ID, MaxShort))
	ew.WriteString("ER  - \r\n\r\n")
}

// risName writes a name as RIS readers split it: "Family, Given", an
// organisation whole. RIS has no way to quote a comma, and readers split a
// name at its commas, so a comma inside a part (or an organisation's name)
// becomes a space.
func risName(n Name) string {
	nc := func(s string) string { return strings.Join(strings.Fields(strings.ReplaceAll(s, ",", " ")), " ") }
	if n.IsLiteral() {
		return nc(n.Literal)
	}
	out := nc(n.Family)
	if n.Given != "" || n.Suffix != "" {
		out += ", " + nc(n.Given)
	}
	if n.Suffix != "" {
		out += ", " + nc(n.Suffix)
	}
	return out
}
