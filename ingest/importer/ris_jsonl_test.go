package importer

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRISTagLine(t *testing.T) {
	tests := []struct {
		in         string
		tag, value string
		ok         bool
	}{
		{"TY  - JOUR", "TY", "JOUR", true},
		{"TI - One space", "TI", "One space", true},
		{"ER  -", "ER", "", true},
		{"ER  - ", "ER", "", true},
		{"T1  -  Padded ", "T1", "Padded", true},
		{"A1  - Ham, Chris", "A1", "Ham, Chris", true},
		{"ty  - JOUR", "", "", false},
		{"TY-JOUR", "", "", false},
		{"TY   - three spaces", "", "", false},
		{"AB  -continued", "", "", false},
		{"NHS - a sentence", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tag, value, ok := risTagLine(tt.in)
			if tag != tt.tag || value != tt.value || ok != tt.ok {
				t.Errorf("risTagLine(%q) = %q, %q, %v", tt.in, tag, value, ok)
			}
		})
	}
}

func TestParseRIS(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, recs []Record)
	}{
		{
			name: "CRLF, BOM, wrapped title",
			in:   "\xEF\xBB\xBFTY  - RPRT\r\nTI  - The NHS workforce\r\n  in England\r\nUR  - https://www.kingsfund.org.uk/insight-and-analysis/reports/nhs-workforce\r\nER  - \r\n",
			check: func(t *testing.T, recs []Record) {
				r := only(t, recs)
				if r.Err != nil || r.Item.Title != "The NHS workforce in England" || r.Item.Type != "report" || r.Line != 1 {
					t.Errorf("record %+v", r)
				}
			},
		},
		{
			name: "a second TY closes a record missing its ER",
			in:   "TY  - BLOG\nTI  - One\nUR  - https://example.org/1\nTY  - NEWS\nTI  - Two\nUR  - https://example.org/2\nER  - \n",
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Item.Type != "blog" || recs[1].Item.Type != "news" || recs[1].Line != 4 {
					t.Errorf("records %+v", recs)
				}
			},
		},
		{
			name: "several URLs: documents become PDF URLs; DO wins over the URL's DOI",
			in: "TY  - JOUR\nTI  - T\nUR  - https://example.org/full.pdf; https://onlinelibrary.wiley.com/doi/10.1111/hsc.1/full\n" +
				"L1  - internal-pdf://1234/file.pdf\nDO  - doi:10.1111/HSC.2\nKW  - a; b\nKW  - A\nER  - \n",
			check: func(t *testing.T, recs []Record) {
				it := only(t, recs).Item
				if it.URL != "https://onlinelibrary.wiley.com/doi/10.1111/hsc.1/full" || !slices.Equal(it.PDFURLs, []string{"https://example.org/full.pdf"}) {
					t.Errorf("url %q pdfs %q", it.URL, it.PDFURLs)
				}
				if recs[0].DOI != "10.1111/hsc.2" || !slices.Equal(it.Links, []string{"https://doi.org/10.1111/HSC.2"}) {
					t.Errorf("doi %q links %q", recs[0].DOI, it.Links)
				}
				if !slices.Equal(it.Categories, []string{"a", "b"}) {
					t.Errorf("categories %q", it.Categories)
				}
			},
		},
		{
			name: "a bad DOI and a bad URL",
			in:   "TY  - JOUR\nTI  - T\nUR  - ftp://example.org/x\nDO  - not a doi\nER  - \n",
			check: func(t *testing.T, recs []Record) {
				r := only(t, recs)
				want := `doi "not a doi" is not a DOI (10.NNNN/…); url "ftp://example.org/x" is not an absolute http(s) URL and there is no doi`
				if r.Err == nil || r.Err.Error() != want {
					t.Errorf("err %v, want %s", r.Err, want)
				}
			},
		},
		{
			name: "a long abstract: summary cut at a sentence, whole text in the body",
			in:   "TY  - JOUR\nTI  - T\nUR  - https://example.org/t\nAB  - " + strings.Repeat("A sentence of the abstract. ", 60) + "\nER  - \n",
			check: func(t *testing.T, recs []Record) {
				it := only(t, recs).Item
				if len([]rune(it.Summary)) > SummaryMax || !strings.HasSuffix(it.Summary, ".") || len(it.Body) < 1500 {
					t.Errorf("summary %d runes, body %d bytes", len([]rune(it.Summary)), len(it.Body))
				}
			},
		},
		{
			name: "a date that is not a 4-digit year is a bad field, named by its line",
			in: "TY  - JOUR\nTI  - T\nUR  - https://example.org/t\nPY  - 20\nER  - \nTY  - JOUR\nTI  - U\nUR  - https://example.org/u\nY1  - 2020/05/\nDA  - 12 May 2020\nER  - \n" +
				"TY  - JOUR\nTI  - V\nUR  - https://example.org/v\nPY  - Spring 2019\nER  - \nTY  - JOUR\nTI  - W\nUR  - https://example.org/w\nPY  - n.d.\nER  - \n",
			check: func(t *testing.T, recs []Record) {
				want := `line 4: PY "20" is not a date (want a 4-digit year: YYYY, YYYY/MM/DD/ or YYYY-MM-DD, years 1000 to 2099)`
				if len(recs) != 4 || recs[0].Err == nil || recs[0].Err.Error() != want || recs[1].Err != nil {
					t.Fatalf("records %+v, want the first bad: %s", recs, want)
				}
				if p := recs[1].Item.Published; p == nil || p.Day() != 12 {
					t.Errorf("DA wins over Y1: published %v", p)
				}
				if p := recs[2].Item.Published; recs[2].Err != nil || p == nil || p.Year() != 2019 || recs[2].Item.Provenance["published"] != "import:ris (year only)" {
					t.Errorf("a free-text date with a year: %+v", recs[2])
				}
				if recs[3].Err == nil || !strings.Contains(recs[3].Err.Error(), `line 20: PY "n.d." is not a date`) {
					t.Errorf("no year at all: %v", recs[3].Err)
				}
			},
		},
		{
			name: "a line over the cap makes its record bad",
			in:   "TY  - JOUR\nTI  - T\nAB  - " + strings.Repeat("x", MaxRecordBytes+5) + "\nUR  - https://example.org/t\nER  - \nTY  - JOUR\nTI  - U\nUR  - https://example.org/u\nER  - \n",
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Err == nil || !strings.Contains(recs[0].Err.Error(), "line 3 is longer than") || recs[1].Item.Title != "U" {
					t.Errorf("records %+v", recs)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, parseAll(t, RIS, []byte(tt.in)))
		})
	}
}

func TestParseJSONL(t *testing.T) {
	long := `{"title":"` + strings.Repeat("x", MaxRecordBytes) + `","url":"https://example.org/x"}`
	in := "\xEF\xBB\xBF" + `{"title":"A","url":"https://example.org/a"}` + "\r\n\n  \n" + long + "\n" + `{"title":"B","url":"https://example.org/b"}`
	recs := parseAll(t, JSONL, []byte(in))
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3: %+v", len(recs), recs)
	}
	if recs[0].Line != 1 || recs[0].Err != nil || recs[0].Item.Title != "A" {
		t.Errorf("first %+v", recs[0])
	}
	if recs[1].Line != 4 || recs[1].Err == nil || !strings.Contains(recs[1].Err.Error(), "longer than") {
		t.Errorf("long line: %+v", recs[1])
	}
	if recs[2].Line != 5 || recs[2].Item.Title != "B" {
		t.Errorf("last %+v", recs[2])
	}
}

// TestParseJSONLDOI: the item's own doi, as show --json prints it, is the
// record's DOI; without a url the record stands for it.
func TestParseJSONLDOI(t *testing.T) {
	recs := parseAll(t, JSONL, []byte(`{"title":"A","url":"https://www.kingsfund.org.uk/a","doi":"10.1000/ABC"}`+"\n"+
		`{"title":"B","doi":"doi:10.1000/b","cites":[{"doi":"10.2000/other"}]}`+"\n"))
	if len(recs) != 2 || recs[0].DOI != "10.1000/abc" || recs[0].Item.URL != "https://www.kingsfund.org.uk/a" ||
		recs[1].DOI != "10.1000/b" || recs[1].Item.URL != "https://doi.org/10.1000/b" {
		t.Errorf("records %+v", recs)
	}
}

func TestParseStopsAndReadErrors(t *testing.T) {
	stop := errors.New("stop")
	for _, f := range []Format{JSONL, RIS, BibTeX} {
		t.Run(string(f), func(t *testing.T) {
			var in string
			switch f {
			case JSONL:
				in = `{"title":"A","url":"https://example.org/a"}` + "\n" + `{"title":"B","url":"https://example.org/b"}`
			case RIS:
				in = "TY  - JOUR\nTI  - A\nER  - \nTY  - JOUR\nTI  - B\nER  - \n"
			case BibTeX:
				in = "@misc{a, title={A}}\n@misc{b, title={B}}\n"
			}
			n := 0
			err := Parse(strings.NewReader(in), f, func(Record) error { n++; return stop })
			if !errors.Is(err, stop) || n != 1 {
				t.Errorf("callback error: got %v after %d records", err, n)
			}
			boom := errors.New("disk on fire")
			err = Parse(io.MultiReader(strings.NewReader(in[:15]), iotest.ErrReader(boom)), f, func(Record) error { return nil })
			if !errors.Is(err, boom) {
				t.Errorf("read error: got %v", err)
			}
		})
	}
	if err := Parse(strings.NewReader(""), "endnote", func(Record) error { return nil }); err == nil {
		t.Error("unknown format: no error")
	}
}
