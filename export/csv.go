package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CSVHeader is the CSV's header row.
var CSVHeader = []string{
	"section", "position", "title", "authors", "published", "source", "publisher",
	"type", "url", "doi", "pdf_urls", "topics", "note", "id",
}

// CSV writes the entries as CSV (RFC 4180, CRLF line endings, UTF-8
// without a byte-order mark) with a header row, CSVHeader, then one row per
// entry in order: section, position (1, 2, 3… within the section, counting
// the entries of each section in the order given), title, authors (joined
// with "; "), published (YYYY-MM-DD; YYYY-MM or YYYY when only the month
// or the year is known; "" when undated), source (its ID),
// publisher, type, url, doi, pdf_urls and topics (joined with "; "), note
// and id. Each cell is one line. A cell that a spreadsheet would read as a
// formula (starting with =, +, -, @) gets a leading apostrophe.
func CSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("export: write CSV: %w", err)
	}
	pos := map[string]int{}
	for _, e := range entries {
		it := e.Item
		section := clean(e.Section, MaxShort)
		pos[section]++
		var authors []string
		for _, n := range names(it.Authors) {
			authors = append(authors, n.Display())
		}
		date := ""
		switch t, p := published(it); p {
		case dateYear:
			date = t.Format("2006")
		case dateMonth:
			date = t.Format("2006-01")
		case dateDay:
			date = t.Format("2006-01-02")
		}
		row := []string{
			section, strconv.Itoa(pos[section]), clean(it.Title, MaxShort), strings.Join(authors, "; "), date,
			clean(it.Source, MaxShort), clean(e.Publisher, MaxShort), clean(it.Type, MaxShort),
			cleanURL(it.URL), bareDOI(it.DOI), strings.Join(urls(it.PDFURLs), "; "),
			strings.Join(texts(it.Topics, MaxTerm), "; "), clean(e.Note, MaxLong), clean(it.ID, MaxShort),
		}
		for i := range row {
			row[i] = defuse(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("export: write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: write CSV: %w", err)
	}
	return nil
}

// defuse guards a cell against spreadsheet formula injection: a value that
// starts with =, +, -, @ (or a tab or carriage return, which clean has
// removed already) is prefixed with an apostrophe, which spreadsheets show
// as text and do not evaluate.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
