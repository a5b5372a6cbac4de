package importer

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseCSLJSON(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, recs []Record)
	}{
		{
			name: "one item object, not in an array",
			in:   `{"type":"report","title":"T","URL":"https://www.kingsfund.org.uk/r","genre":"Long read"}`,
			check: func(t *testing.T, recs []Record) {
				r := only(t, recs)
				if r.Err != nil || r.Item.Title != "T" || r.Item.Type != "long-read" || r.Line != 1 {
					t.Errorf("record %+v", r)
				}
			},
		},
		{
			name: "items one per line, BOM, CRLF",
			in:   "\xEF\xBB\xBF{\"title\":\"One\",\"URL\":\"https://example.org/1\"}\r\n{\"title\":\"Two\",\"URL\":\"https://example.org/2\"}\r\n",
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Item.Title != "One" || recs[1].Item.Title != "Two" || recs[1].Line != 2 {
					t.Errorf("records %+v", recs)
				}
			},
		},
		{
			name: "names: literal, particles, strings; empty names skipped",
			in: `[{"title":"T","URL":"https://example.org/a","author":[{"literal":"National Voices"},` +
				`{"given":"Ludwig","non-dropping-particle":"van","family":"Beethoven"},"Smith, Jane",{"family":"King","given":"Martin Luther","suffix":"Jr"},{},{"family":" "},7]}]`,
			check: func(t *testing.T, recs []Record) {
				want := []string{"National Voices", "Ludwig van Beethoven", "Jane Smith", "Martin Luther King Jr"}
				if got := only(t, recs).Item.Authors; !slices.Equal(got, want) {
					t.Errorf("authors %q, want %q", got, want)
				}
			},
		},
		{
			name: "dates: parts as strings, a range, raw, literal, a string; precision",
			in: `[{"title":"a","URL":"https://e.org/a","issued":{"date-parts":[["2024","02","29"]]}},` +
				`{"title":"b","URL":"https://e.org/b","issued":{"date-parts":[[2020,1],[2020,6]]}},` +
				`{"title":"c","URL":"https://e.org/c","issued":{"raw":"2019"}},` +
				`{"title":"d","URL":"https://e.org/d","issued":{"literal":"Spring 2018"}},` +
				`{"title":"e","URL":"https://e.org/e","issued":"12 May 2023"},` +
				`{"title":"f","URL":"https://e.org/f","issued":null},` +
				`{"title":"g","URL":"https://e.org/g","issued":{"date-parts":[[20]]}}]`,
			check: func(t *testing.T, recs []Record) {
				want := []string{"2024-02-29", "2020-01-01 (month only)", "2019-01-01 (year only)", "2018-01-01 (year only)", "2023-05-12", "", "error"}
				if len(recs) != len(want) {
					t.Fatalf("%d records", len(recs))
				}
				for i, r := range recs {
					got := ""
					switch {
					case r.Err != nil:
						got = "error"
					case r.Item.Published != nil:
						got = r.Item.Published.Format(time.DateOnly)
						if p := r.Item.Provenance["published"]; strings.Contains(p, "(") {
							got += p[strings.Index(p, " ("):]
						}
					}
					if got != want[i] {
						t.Errorf("item %s: %q, want %q", r.Item.Title, got, want[i])
					}
				}
			},
		},
		{
			name: "lower-case url and doi, keywords as a list, notes by line, our custom PDFs",
			in: `[{"title":"T","url":"https://example.org/a","doi":"10.1000/ABC","keyword":["a, b","c"],` +
				`"note":"Section: Money\n\n<p>Curator's <b>note</b></p>","custom":{"pdf_urls":["https://example.org/a.pdf",5]}}]`,
			check: func(t *testing.T, recs []Record) {
				r := only(t, recs)
				if r.Item.URL != "https://example.org/a" || r.DOI != "10.1000/abc" {
					t.Errorf("url %q doi %q", r.Item.URL, r.DOI)
				}
				if !slices.Equal(r.Item.Categories, []string{"a", "b", "c"}) {
					t.Errorf("categories %q", r.Item.Categories)
				}
				if !slices.Equal(r.Notes, []string{"Section: Money", "Curator's note"}) {
					t.Errorf("notes %q", r.Notes)
				}
				if !slices.Equal(r.Item.PDFURLs, []string{"https://example.org/a.pdf"}) {
					t.Errorf("pdfs %q", r.Item.PDFURLs)
				}
			},
		},
		{
			name: "wrong JSON types are ignored, not fatal",
			in:   `[{"title":"T","URL":"https://example.org/a","type":5,"author":"Jane Smith","keyword":{"x":1},"note":["n"],"custom":"x","issued":{"date-parts":"2020"}}]`,
			check: func(t *testing.T, recs []Record) {
				r := only(t, recs)
				if r.Err == nil || !strings.Contains(r.Err.Error(), "issued") {
					t.Errorf("want an issued error, got %v", r.Err)
				}
				if !slices.Equal(r.Item.Authors, []string{"Jane Smith"}) {
					t.Errorf("authors %q", r.Item.Authors)
				}
			},
		},
		{
			name: "bad elements and bad JSON inside the array",
			in:   "[\n{\"title\":\"Good\",\"URL\":\"https://e.org/1\"},\n[1,2],\n{\"title\": tru},\n{\"name\":\"no CSL\"},\n} ,\n{\"title\":\"Also good\",\"DOI\":\"10.1000/x\"}\n]\n",
			check: func(t *testing.T, recs []Record) {
				var got []string
				for _, r := range recs {
					if r.Err != nil {
						got = append(got, "bad")
					} else {
						got = append(got, r.Item.Title)
					}
				}
				if !slices.Equal(got, []string{"Good", "bad", "bad", "bad", "Also good"}) || recs[4].Line != 7 || recs[4].Item.URL != "https://doi.org/10.1000/x" {
					t.Errorf("records %q, last %+v", got, recs[len(recs)-1])
				}
			},
		},
		{
			name: "strings with brackets, braces and escapes do not end an item",
			in:   `[{"title":"A [b] {c} \"d\" \\","URL":"https://e.org/a"},{"title":"x\u005d","URL":"https://e.org/b"}]`,
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Item.Title != `A [b] {c} "d" \` || recs[1].Item.Title != "x]" {
					t.Errorf("records %+v", recs)
				}
			},
		},
		{
			name: "an item cut off by the end of the file",
			in:   "[{\"title\":\"One\",\"URL\":\"https://e.org/1\"},\n{\"title\":\"Two\",\"URL\":\"htt",
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Err != nil || recs[1].Err == nil || recs[1].Line != 2 ||
					!strings.HasPrefix(recs[1].Err.Error(), "record truncated at end of file") {
					t.Errorf("records %+v", recs)
				}
			},
		},
		{
			name: "an unclosed array whose items are whole",
			in:   `[{"title":"One","URL":"https://e.org/1"}`,
			check: func(t *testing.T, recs []Record) {
				if r := only(t, recs); r.Err != nil {
					t.Errorf("record %+v", r)
				}
			},
		},
		{
			name: "an item over MaxRecordBytes",
			in:   `[{"title":"` + strings.Repeat("x", MaxRecordBytes) + `","URL":"https://e.org/1"},{"title":"Small","URL":"https://e.org/2"}]`,
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Err == nil || !strings.Contains(recs[0].Err.Error(), "longer than") || recs[1].Err != nil {
					t.Errorf("records %+v", recs)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, parseAll(t, CSLJSON, []byte(tt.in)))
		})
	}
}

func TestCSLJSONNoRecords(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", `no CSL-JSON record found (expected a JSON array of CSL items, [{"type": …, "title": …, "URL": …}]): the input is empty`},
		{"an empty array", "[ ]\n", `no CSL-JSON record found (expected a JSON array of CSL items, [{"type": …, "title": …, "URL": …}])`},
		{"an HTML page", "<!doctype html>\n<html><body>\n<p>Not found</p>\n</body></html>\n",
			`no CSL-JSON record found (expected a JSON array of CSL items, [{"type": …, "title": …, "URL": …}]); first problem: line 1: not CSL-JSON (want a JSON array of items: [{…}, …])`},
		{"a JSON object that is no item", `{"name":"evidence-tracker-test-tools","private":true}`,
			`no CSL-JSON record found (expected a JSON array of CSL items, [{"type": …, "title": …, "URL": …}]); first problem: line 1: a JSON object without the CSL variables title, type or URL`},
		{"RIS", "TY  - RPRT\nTI  - T\nER  - \n",
			`no CSL-JSON record found (expected a JSON array of CSL items, [{"type": …, "title": …, "URL": …}]); first problem: line 1: not CSL-JSON (want a JSON array of items: [{…}, …])`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := parseErr(t, CSLJSON, []byte(tt.in))
			var none *NoRecordsError
			if !errors.As(err, &none) || err.Error() != tt.want || len(recs) != 0 {
				t.Errorf("err %v, records %+v\nwant %s", err, recs, tt.want)
			}
		})
	}
}

func TestSplitURLs(t *testing.T) {
	for in, want := range map[string][]string{
		"https://a.org/x.pdf; https://b.org/y":      {"https://a.org/x.pdf", "https://b.org/y"},
		"https://a.org/x.pdf;https://b.org/y":       {"https://a.org/x.pdf", "https://b.org/y"},
		"https://a.org/p;v=1?q=a;b":                 {"https://a.org/p;v=1?q=a;b"},
		"https://a.org/x; internal-pdf://1/f.pdf;;": {"https://a.org/x", "internal-pdf://1/f.pdf"},
		"  https://a.org/x\thttps://b.org/y ":       {"https://a.org/x", "https://b.org/y"},
		";https://a.org/x;":                         {"https://a.org/x"},
		"":                                          nil,
	} {
		if got := splitURLs(in); !slices.Equal(got, want) {
			t.Errorf("splitURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseCSLJSON(f *testing.F) {
	fuzzParser(f, CSLJSON, `[{"title":"t","URL":"https://x.org/a"}]`, `{"title":"t","DOI":"10.1/x"}{"title":"u"`,
		`[{"title":"t","URL":"https://x.org/a","issued":{"date-parts":[[99999999999999999999]]}},"\`,
		"[\n}\n]]]\n{{{\n", `[{"title":"\ud800","author":[{"literal":null},{"family":{}}],"issued":{"raw":[]},"custom":{"pdf_urls":"x"}}]`)
}
