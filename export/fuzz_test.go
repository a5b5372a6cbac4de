package export_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
	"github.com/evidencetracker/evidence/ingest/importer"
	"github.com/evidencetracker/evidence/ingest/text"
)

// fuzzEntries builds two entries from arbitrary text: the fuzzed one and a
// plain one after it, which must come back whole however the first was
// written.
func fuzzEntries(title, author, summary, section, note, url, doi, topic string, year int) []export.Entry {
	pub := time.Date(1990+year%60, time.Month(1+year%12), 1+year%28, 0, 0, 0, 0, time.UTC)
	types := evidence.ItemTypes()
	e := export.Entry{
		Publisher: author + " Fund", Section: section, Note: note,
		Item: evidence.Item{
			ID: title, Type: types[(year%len(types)+len(types))%len(types)], Title: title, URL: url,
			Published: &pub, FirstSeen: pub, Authors: []string{author, "Jane " + author, summary},
			Summary: summary, Topics: []string{topic, title}, PDFURLs: []string{url + ".pdf"}, DOI: doi,
		},
	}
	return []export.Entry{e, kingsFundReport}
}

func addSeeds(f *testing.F) {
	f.Add("Mental health 360", "Helen Gilburt", "Spend.", "Money", "Read it.", "https://www.kingsfund.org.uk/r", "10.1000/x", "funding", 3)
	h := hostile
	f.Add(h.Item.Title, h.Item.Authors[0], h.Item.Summary, h.Section, h.Note, h.Item.URL, h.Item.DOI, h.Item.Topics[0], -7)
	f.Add("{", "}", "\\", "\r\nER  - \r\n", "\n@misc{x,\n", "https://a.org/;https://b.org/", "doi:10.1/}", "a,b;c", 0)
	f.Add("", "", "", "", "", "", "", "", 1)
	f.Add("--``''?`", "and and", "%%", "\u2028TY  - JOUR", "\x00", "https://a.org/\xff", "10.1000/\x00", "=cmd", 59)
}

// plain is the text the importer makes of an exported line: HTML read as
// text, NFC (BibTeX's reader composes accents).
func plain(s string) string { return norm.NFC.String(text.PlainText(s)) }

// noControls reports a control character other than the line ends.
func noControls(t *testing.T, out []byte, lineEnd string) {
	t.Helper()
	for _, r := range strings.ReplaceAll(string(out), lineEnd, "") {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			t.Fatalf("control character %U in the output:\n%q", r, out)
		}
	}
}

// checkBack checks what the importer read back: as many records as
// entries, the plain entry whole, no record broken by the format (only the
// fuzzed record's own content may make it bad), and the fuzzed title and
// notes as written (notes nil: not checked).
func checkBack(t *testing.T, recs []importer.Record, title string, notes []string) {
	t.Helper()
	if len(recs) != 2 {
		t.Fatalf("%d records for 2 entries: %+v", len(recs), recs)
	}
	if r := recs[1]; r.Err != nil || r.Item.Title != kingsFundReport.Item.Title || r.Item.URL != kingsFundReport.Item.URL {
		t.Fatalf("the entry after the fuzzed one came back as %+v", r)
	}
	r := recs[0]
	if r.Err != nil {
		msg := r.Err.Error()
		for _, ok := range []string{"no title", "no url or doi", "is not an absolute http(s) URL", "is not a DOI"} {
			msg = strings.ReplaceAll(msg, ok, "")
		}
		if strings.Contains(msg, "truncated") || strings.Contains(msg, "outside a record") || strings.Contains(msg, "want ") ||
			strings.Contains(msg, "missing") || strings.Contains(msg, "not closed") || strings.Contains(msg, "is not a date") {
			t.Fatalf("the format broke: %v", r.Err)
		}
		return
	}
	if got, want := plain(r.Item.Title), plain(title); got != want && !strings.HasPrefix(want, got) {
		t.Fatalf("title %q, want %q", got, want)
	}
	if notes == nil {
		return
	}
	want := []string{}
	for _, n := range notes {
		if p := plain(n); p != "" {
			want = append(want, p)
		}
	}
	got := []string{}
	for _, n := range r.Notes {
		got = append(got, norm.NFC.String(n))
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("notes %q, want %q", got, want)
	}
}

// risValue returns the first value of tag in RIS output.
func risValue(out []byte, tag string) string {
	for _, l := range strings.Split(string(out), "\r\n") {
		if v, ok := strings.CutPrefix(l, tag+"  - "); ok {
			return v
		}
	}
	return ""
}

func FuzzRIS(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, title, author, summary, section, note, url, doi, topic string, year int) {
		var b bytes.Buffer
		if err := export.RIS(&b, fuzzEntries(title, author, summary, section, note, url, doi, topic, year)); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		noControls(t, out, "\r\n")
		// Every line is a tag line or blank; records open with TY and
		// close with ER.
		open := false
		for _, l := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
			switch {
			case l == "":
			case strings.HasPrefix(l, "TY  - "):
				if open {
					t.Fatalf("TY inside a record:\n%s", out)
				}
				open = true
			case l == "ER  - ":
				open = false
			case len(l) < 6 || l[2:6] != "  - " || !open || l[0] < 'A' || l[0] > 'Z':
				t.Fatalf("line %q is no tag line of a record", l)
			}
		}
		notes := []string{}
		for _, l := range strings.Split(string(out[:bytes.Index(out, []byte("ER  - "))]), "\r\n") {
			if v, ok := strings.CutPrefix(l, "N1  - "); ok {
				notes = append(notes, v)
			}
		}
		checkBack(t, parse(t, importer.RIS, out), risValue(out, "TI"), notes)
	})
}

func FuzzBibTeX(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, title, author, summary, section, note, url, doi, topic string, year int) {
		entries := fuzzEntries(title, author, summary, section, note, url, doi, topic, year)
		var b bytes.Buffer
		if err := export.BibTeX(&b, entries); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		noControls(t, out, "\n")
		// Braces balance in every field line (BibTeX counts them, escaped
		// or not), and each entry starts a line with @.
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Count(l, "{") != strings.Count(l, "}") && !strings.HasPrefix(l, "@") && l != "}" {
				t.Fatalf("unbalanced braces in %q", l)
			}
			if strings.HasPrefix(l, "@") && strings.Count(l, "{") != 1 {
				t.Fatalf("entry line %q", l)
			}
		}
		if strings.Count(string(out), "\n@") != 1 {
			t.Fatalf("not two entries:\n%s", out)
		}
		// The title and notes must read back as the RIS reader reads the
		// same entry (LaTeX undone). BibTeX joins the section and the note
		// into one line, with a full stop between.
		var ris bytes.Buffer
		export.RIS(&ris, entries)
		var notes []string
		for _, l := range strings.Split(ris.String(), "\r\n") {
			if v, ok := strings.CutPrefix(l, "N1  - "); ok {
				notes = append(notes, v)
			}
			if l == "ER  - " {
				break
			}
		}
		recs := parse(t, importer.BibTeX, out)
		var got string
		if len(recs) > 0 {
			got = strings.Join(recs[0].Notes, " ")
		}
		squeeze := func(s string) string { return strings.NewReplacer(".", "", " ", "").Replace(norm.NFC.String(s)) }
		if w := plain(strings.Join(notes, " ")); len(recs) > 0 && recs[0].Err == nil && squeeze(got) != squeeze(w) {
			t.Fatalf("note %q, want %q", got, w)
		}
		checkBack(t, recs, risValue(ris.Bytes(), "TI"), nil)
	})
}

func FuzzCSLJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, title, author, summary, section, note, url, doi, topic string, year int) {
		var b bytes.Buffer
		if err := export.CSLJSON(&b, fuzzEntries(title, author, summary, section, note, url, doi, topic, year)); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		var items []map[string]any
		if err := json.Unmarshal(out, &items); err != nil || len(items) != 2 {
			t.Fatalf("not a JSON array of 2 items (%v):\n%s", err, out)
		}
		for _, k := range []string{"id", "type"} {
			if s, _ := items[0][k].(string); s == "" {
				t.Fatalf("item without %s: %s", k, out)
			}
		}
		notes := []string{}
		if n, _ := items[0]["note"].(string); n != "" {
			notes = strings.Split(n, "\n")
		}
		title, _ = items[0]["title"].(string)
		checkBack(t, parse(t, importer.CSLJSON, out), title, notes)
	})
}

func FuzzCSV(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, title, author, summary, section, note, url, doi, topic string, year int) {
		var b bytes.Buffer
		if err := export.CSV(&b, fuzzEntries(title, author, summary, section, note, url, doi, topic, year)); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, b.Bytes())
		if len(rows) != 3 {
			t.Fatalf("%d rows for a header and 2 entries", len(rows))
		}
		for _, row := range rows {
			for i, cell := range row {
				if strings.ContainsAny(cell, "\r\n\x00") {
					t.Fatalf("column %s holds a line break or NUL: %q", export.CSVHeader[i], cell)
				}
				if cell != "" && strings.ContainsRune("=+-@\t", rune(cell[0])) {
					t.Fatalf("column %s starts a formula: %q", export.CSVHeader[i], cell)
				}
			}
		}
		if rows[2][2] != kingsFundReport.Item.Title || rows[2][0] != "" {
			t.Fatalf("the plain entry's row: %q", rows[2])
		}
	})
}
