package export_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence/export"
	"github.com/evidencetracker/evidence/ingest/importer"
)

// parse reads out with the project's importer.
func parse(t *testing.T, f importer.Format, out []byte) []importer.Record {
	t.Helper()
	var recs []importer.Record
	if err := importer.Parse(bytes.NewReader(out), f, func(r importer.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatalf("importer.Parse(%s): %v\n%s", f, err, out)
	}
	return recs
}

// wantAuthors are the authors an entry's export reads back as: the names
// as split (honorifics and post-nominals dropped), "Given Family".
func wantAuthors(e export.Entry) []string {
	out := []string{}
	for _, a := range e.Item.Authors {
		if n := export.SplitName(a); n.Display() != "" && !slices.Contains(out, n.Display()) {
			out = append(out, n.Display())
		}
	}
	return out
}

// TestRoundTripImporter writes the golden collection in RIS, BibTeX and
// CSL-JSON and reads it back with ingest/importer: title, URL, DOI,
// authors, year, type, topics, PDFs and the section and note come back.
func TestRoundTripImporter(t *testing.T) {
	entries := goldenSets[1].entries
	for _, tt := range []struct {
		format string
		in     importer.Format
		// notes is how the format carries an entry's section and note.
		notes func(section, note string) []string
	}{
		{"ris", importer.RIS, func(s, n string) []string { return nonEmpty(prefixed(s), n) }},
		{"bibtex", importer.BibTeX, func(s, n string) []string {
			if s != "" && n != "" {
				return []string{prefixed(s) + ". " + n}
			}
			return nonEmpty(prefixed(s), n)
		}},
		{"csl-json", importer.CSLJSON, func(s, n string) []string { return nonEmpty(prefixed(s), n) }},
	} {
		t.Run(tt.format, func(t *testing.T) {
			recs := parse(t, tt.in, write(t, tt.format, entries))
			if len(recs) != len(entries) {
				t.Fatalf("%d records for %d entries", len(recs), len(entries))
			}
			for i, r := range recs {
				e, it := entries[i], entries[i].Item
				if r.Err != nil {
					t.Errorf("%s: %v", it.Title, r.Err)
					continue
				}
				got := r.Item
				if got.Title != it.Title || got.URL != it.URL || r.DOI != strings.ToLower(it.DOI) {
					t.Errorf("got %q %q doi %q\nwant %q %q doi %q", got.Title, got.URL, r.DOI, it.Title, it.URL, it.DOI)
				}
				authors := wantAuthors(e)
				if len(authors) == 0 && tt.format == "bibtex" {
					// BibTeX readers (ours, Zotero's) take the
					// institution for the author when there is none.
					authors = []string{e.Publisher}
				}
				if !slices.Equal(got.Authors, authors) {
					t.Errorf("%s: authors %q, want %q", it.Title, got.Authors, authors)
				}
				switch {
				case it.Published == nil && got.Published != nil:
					t.Errorf("%s: published %v, want none", it.Title, got.Published)
				case it.Published != nil && (got.Published == nil || !got.Published.Equal(*it.Published)):
					t.Errorf("%s: published %v, want %v", it.Title, got.Published, it.Published)
				}
				if got.Type != it.Type {
					t.Errorf("%s: type %q, want %q", it.Title, got.Type, it.Type)
				}
				if !slices.Equal(got.Categories, it.Topics) || !slices.Equal(got.PDFURLs, it.PDFURLs) {
					t.Errorf("%s: categories %q pdfs %q, want %q %q", it.Title, got.Categories, got.PDFURLs, it.Topics, it.PDFURLs)
				}
				if want := tt.notes(e.Section, e.Note); !slices.Equal(r.Notes, want) {
					t.Errorf("%s: notes %q, want %q", it.Title, r.Notes, want)
				}
			}
		})
	}
}

func prefixed(section string) string {
	if section == "" {
		return ""
	}
	return "Section: " + section
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestHostileRoundTrip: the hostile entry's injected "ER  - ", "@misc{" and
// braces stay inside their fields: one record comes back, whole, with its
// note on one line.
func TestHostileRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		format string
		in     importer.Format
	}{{"ris", importer.RIS}, {"bibtex", importer.BibTeX}, {"csl-json", importer.CSLJSON}} {
		t.Run(tt.format, func(t *testing.T) {
			recs := parse(t, tt.in, write(t, tt.format, []export.Entry{hostile, kingsFundReport}))
			if len(recs) != 2 || recs[1].Err != nil || recs[1].Item.Title != kingsFundReport.Item.Title {
				t.Fatalf("records %+v", recs)
			}
			r := recs[0]
			if r.Err != nil {
				t.Fatalf("hostile record: %v", r.Err)
			}
			wantTitle := "{Unbalanced & 100% $cost #1 under_score ~tilde ^caret \\backslash -- ``quoted'' NUL [31m newline"
			if r.Item.Title != wantTitle {
				t.Errorf("title %q\nwant  %q", r.Item.Title, wantTitle)
			}
			if r.Item.URL != "https://www.kingsfund.org.uk/a%20b%7Bc%7D%5Cd%22e%22%7F" {
				t.Errorf("url %q", r.Item.URL)
			}
			note := strings.Join(r.Notes, " ")
			if !strings.Contains(note, "@SUM(A1:A9)") || !strings.Contains(note, "line one ER - TY - JOUR TI - Injected } @misc{evil, next") {
				t.Errorf("notes %q", r.Notes)
			}
			if len(r.Item.Authors) != 4 {
				t.Errorf("authors %q", r.Item.Authors)
			}
		})
	}
}

// TestRoundTripCSV reads the CSV back as a spreadsheet would.
func TestRoundTripCSV(t *testing.T) {
	rows := readCSV(t, write(t, "csv", goldenSets[1].entries))
	if len(rows) != 5 || !slices.Equal(rows[0], export.CSVHeader) {
		t.Fatalf("rows %q", rows)
	}
	want := [][]string{
		{"Money", "1", kingsFundReport.Item.Title, "Helen Gilburt; Jane Smith", "2023-03-15"},
		{"Loneliness", "1", mentalElfBlog.Item.Title, "André Tomlin; Maria de la Cruz", "2024-02-20"},
		{"Loneliness", "2", cmhBriefing.Item.Title, "", ""},
		{"", "1", nationalVoicesRelease.Item.Title, "National Voices", "2025-07-03"},
	}
	for i, w := range want {
		if !slices.Equal(rows[i+1][:5], w) {
			t.Errorf("row %d starts %q, want %q", i+1, rows[i+1][:5], w)
		}
	}
	if r := rows[1]; r[9] != "10.31365/KF.2023.MH360" || r[10] != kingsFundReport.Item.PDFURLs[0] || r[11] != "funding; mental health services" ||
		r[12] != "Figures for 2021/22; see table 3 for the per-head spend." || r[13] != kingsFundReport.Item.ID {
		t.Errorf("row 1 %q", r)
	}

	h := readCSV(t, write(t, "csv", []export.Entry{hostile}))[1]
	for i, cell := range h {
		if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
			t.Errorf("column %s starts a formula: %q", export.CSVHeader[i], cell)
		}
	}
	if h[0] != "'@SUM(A1:A9)" || h[6] != `'=HYPERLINK("https://evil.example/","Fund")` || h[4] != "2022-12" {
		t.Errorf("hostile row %q", h)
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = len(export.CSVHeader)
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV: %v\n%s", err, b)
	}
	return rows
}

// TestHugeEntry: absurdly long text is cut, so the entry still reads back
// as one good record (within the importer's MaxRecordBytes) and the next
// entry is whole.
func TestHugeEntry(t *testing.T) {
	huge := strings.Repeat("word ", 1<<20)
	e := kingsFundReport
	e.Section, e.Note = huge, huge
	e.Item.Title, e.Item.Summary = huge, huge
	for range 1000 {
		e.Item.Authors = append(e.Item.Authors, "Jane "+strings.Repeat("x", 50000)+string(rune('a'+len(e.Item.Authors)%26)))
		e.Item.Topics = append(e.Item.Topics, huge[:100000]+string(rune('a'+len(e.Item.Topics)%26)))
		e.Item.PDFURLs = append(e.Item.PDFURLs, "https://example.org/"+strings.Repeat("p", 3000)+string(rune('a'+len(e.Item.PDFURLs)%26))+".pdf")
	}
	for _, tt := range []struct {
		format string
		in     importer.Format
	}{{"ris", importer.RIS}, {"bibtex", importer.BibTeX}, {"csl-json", importer.CSLJSON}} {
		t.Run(tt.format, func(t *testing.T) {
			out := write(t, tt.format, []export.Entry{e, mentalElfBlog})
			if len(out) > 2*importer.MaxRecordBytes {
				t.Errorf("%d bytes written", len(out))
			}
			recs := parse(t, tt.in, out)
			if len(recs) != 2 || recs[0].Err != nil || recs[1].Err != nil || recs[1].Item.Title != mentalElfBlog.Item.Title {
				t.Fatalf("records %+v", recs)
			}
			if n := len([]rune(recs[0].Item.Title)); n != export.MaxShort-1 && n != export.MaxShort {
				t.Errorf("title of %d runes", n)
			}
		})
	}
}
