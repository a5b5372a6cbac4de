package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenRecord is a record as the golden files show it.
type goldenRecord struct {
	Line  int            `json:"line"`
	Error string         `json:"error,omitempty"`
	DOI   string         `json:"doi,omitempty"`
	Item  *evidence.Item `json:"item,omitempty"`
	Links []string       `json:"links,omitempty"`
	Notes []string       `json:"notes,omitempty"`
}

func parseAll(t *testing.T, f Format, in []byte) []Record {
	t.Helper()
	var recs []Record
	if err := Parse(bytes.NewReader(in), f, func(r Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return recs
}

func TestParseGolden(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		good   int
		bad    int
	}{
		{"references.ris", RIS, 4, 4},
		{"references.bib", BibTeX, 5, 3},
		{"items.jsonl", JSONL, 3, 6},
		{"references.csl.json", CSLJSON, 6, 4},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			recs := parseAll(t, tt.format, in)
			var out []goldenRecord
			good, badN := 0, 0
			for _, r := range recs {
				g := goldenRecord{Line: r.Line, DOI: r.DOI}
				if r.Err != nil {
					badN++
					g.Error = r.Err.Error()
					if !errors.Is(r.Err, evidence.ErrInvalid) {
						t.Errorf("line %d: error %v does not wrap ErrInvalid", r.Line, r.Err)
					}
				} else {
					good++
					it := r.Item
					g.Item, g.Links, g.Notes = &it, it.Links, r.Notes
				}
				out = append(out, g)
			}
			if good != tt.good || badN != tt.bad {
				t.Errorf("%d good and %d bad records, want %d and %d", good, badN, tt.good, tt.bad)
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", tt.file+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./ingest/importer -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("records differ from %s (run with -update to accept):\n%s", golden, got)
			}
		})
	}
}

// checkRecords is what every parser promises, whatever the input.
func checkRecords(t *testing.T, recs []Record) {
	t.Helper()
	last := 0
	for _, r := range recs {
		if r.Line < 1 || r.Line < last {
			t.Fatalf("line %d after line %d", r.Line, last)
		}
		last = r.Line
		if r.Err != nil {
			if !errors.Is(r.Err, evidence.ErrInvalid) {
				t.Fatalf("line %d: error %v does not wrap ErrInvalid", r.Line, r.Err)
			}
			continue
		}
		it := r.Item
		if strings.TrimSpace(it.Title) == "" {
			t.Fatalf("line %d: good record without a title", r.Line)
		}
		// (Not "normalising again changes nothing": urlnorm drops one
		// trailing dot of a host per pass, "http://a.." → "https://a./".)
		if u, err := url.Parse(it.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			t.Fatalf("line %d: URL %q is not an absolute https URL: %v", r.Line, it.URL, err)
		}
		for _, s := range append([]string{it.Title, it.Summary, it.Body, it.Type}, append(it.Authors, it.Categories...)...) {
			if !utf8.ValidString(s) {
				t.Fatalf("line %d: invalid UTF-8 %q", r.Line, s)
			}
		}
		if it.Published != nil && (it.Published.Location() != time.UTC || it.Published.Year() < minYear || it.Published.Year() >= maxYear) {
			t.Fatalf("line %d: published %v", r.Line, it.Published)
		}
		if utf8.RuneCountInString(it.Summary) > SummaryMax {
			t.Fatalf("line %d: summary of %d runes", r.Line, utf8.RuneCountInString(it.Summary))
		}
	}
}

func fuzzParser(f *testing.F, format Format, seeds ...string) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		if ff, ok := FormatOf(p); ok && ff == format {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var recs []Record
		err := Parse(bytes.NewReader(in), format, func(r Record) error {
			recs = append(recs, r)
			return nil
		})
		var none *NoRecordsError
		good := slices.ContainsFunc(recs, func(r Record) bool { return r.Err == nil })
		switch {
		case errors.As(err, &none):
			// Only inputs with no record at all; bad lines are held back
			// (up to maxHeld).
			if good || len(recs) > 0 && len(recs) < maxHeld || !errors.Is(err, evidence.ErrInvalid) {
				t.Fatalf("%v after %d records (good: %v)", err, len(recs), good)
			}
		case err != nil:
			t.Fatalf("Parse of bytes in memory: %v", err)
		}
		checkRecords(t, recs)
	})
}

func FuzzParseJSONL(f *testing.F) {
	fuzzParser(f, JSONL, `{"title":"t","url":"https://x.org/a"}`, "{\"title\":\"t\",\"url\":\"https://x.org/a\"}\n{\"title\":\"u\",\"u", "[1]\n\"s\"\n{\"title\":5}", "{\"title\":\"\\u00e9\",\"url\":\"http://[::1]/\"}\n\n{", `{"title":"t","cites":[{"doi":"10.1/x"}],"published":"0999"}`)
}

func FuzzParseRIS(f *testing.F) {
	fuzzParser(f, RIS, "TY  - JOUR\nTI  - t\nDO  - 10.1000/x\nER  -", "TY  - JOUR\nTI  - t\nUR  - https://x.org/a\nPY  - 20", "<html><body>no\nrecord</body></html>", "TY - RPRT\r\nT1 - \xe9t\xe9\r\nUR - https://a.b/c d\r\nPY - 2020/13/40/\r\n", "ER  - \nTY  -\nTY  -\n")
}

func FuzzParseBibTeX(f *testing.F) {
	fuzzParser(f, BibTeX, `@article{k, title={{\'e}\"{o}\c c\'{\i}}, doi="10.1/x"}`, "@misc{a, title={A}, url={https://x.org/a}}\n@misc{b, title={B {c}", "@media screen {\n@font-face {\n", "@string(a=\"x\")@misc{k,title=a#{b}#1,url={\\url{https://a.org/x\\_y}}}", `@a{k,title={\'\'\'\'\'\'\'\'\'\'\'\'\'{e}}`, "@x{,}\n@{\n@y{k,t=\"{\"}\"}")
}
