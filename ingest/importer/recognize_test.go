package importer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

// parseErr parses in and returns the records handed on and Parse's error.
func parseErr(t *testing.T, f Format, in []byte) ([]Record, error) {
	t.Helper()
	var recs []Record
	err := Parse(bytes.NewReader(in), f, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNoRecords: input holding no record of its format is an error naming
// the format and what a record looks like, not "0 records, 0 bad".
func TestNoRecords(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		file   string // under testdata, or
		in     string
		want   string // the whole message
	}{
		{name: "random bytes as BibTeX", format: BibTeX, file: "random.bib",
			want: "no BibTeX record found (expected @type{key, ...})"},
		{name: "random bytes as RIS", format: RIS, file: "random.bib",
			want: `no RIS record found (expected records that start with a "TY  - " line and end with "ER  - "); first problem: line 1: text outside a record (records start with a TY line)`},
		{name: "random bytes as JSONL", format: JSONL, file: "random.bib",
			want: "no JSONL record found (expected one JSON object per line); first problem: line 1: not valid JSON at byte 1: invalid character"},
		{name: "an HTML page as BibTeX", format: BibTeX, file: "html_page.bib",
			want: "no BibTeX record found (expected @type{key, ...}); first problem: line 5: @media: want { or ( after the entry type, got 's'"},
		{name: "an HTML page as RIS", format: RIS, file: "html_page.ris",
			want: `no RIS record found (expected records that start with a "TY  - " line and end with "ER  - "); first problem: line 1: text outside a record (records start with a TY line)`},
		{name: "an empty JSONL file", format: JSONL, file: "empty.jsonl",
			want: "no JSONL record found (expected one JSON object per line): the input is empty"},
		{name: "white space only", format: RIS, in: "\n  \r\n\t\n",
			want: `no RIS record found (expected records that start with a "TY  - " line and end with "ER  - "): the input is empty`},
		{name: "empty BibTeX", format: BibTeX, in: "",
			want: "no BibTeX record found (expected @type{key, ...}): the input is empty"},
		{name: "BibTeX comments and strings only", format: BibTeX, in: "% my refs\n@comment{nothing yet}\n@string{kf = {The King's Fund}}\n",
			want: "no BibTeX record found (expected @type{key, ...})"},
		{name: "JSON, but no objects", format: JSONL, in: "[1, 2]\n\"text\"\n",
			want: "no JSONL record found (expected one JSON object per line); first problem: line 1: want one JSON object per line, got a JSON array"},
		{name: "a binary file", format: RIS, in: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
			want: `no RIS record found (expected records that start with a "TY  - " line and end with "ER  - "); first problem: line 1: text outside a record (records start with a TY line)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			if tt.file != "" {
				in = readTestdata(t, tt.file)
			}
			recs, err := parseErr(t, tt.format, in)
			var none *NoRecordsError
			if !errors.As(err, &none) || none.Format != tt.format {
				t.Fatalf("err %v after %d records, want a *NoRecordsError for %s", err, len(recs), tt.format)
			}
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
			if got := err.Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("error\n %s\nwant it to start\n %s", got, tt.want)
			}
			if len(recs) != 0 {
				t.Errorf("%d records handed on, want none: %+v", len(recs), recs)
			}
		})
	}
}

// TestNoRecordsManyBadLines: past maxHeld bad lines are reported as they
// come, and the parse still fails at the end.
func TestNoRecordsManyBadLines(t *testing.T) {
	in := strings.Repeat("not json\n", maxHeld+5)
	recs, err := parseErr(t, JSONL, []byte(in))
	var none *NoRecordsError
	if !errors.As(err, &none) || len(recs) != maxHeld+5 || recs[0].Line != 1 || recs[maxHeld+4].Line != maxHeld+5 {
		t.Fatalf("err %v, %d records", err, len(recs))
	}
}

// TestBadBeforeGoodRecords: bad lines held back while looking for a first
// record are reported, in order, once one is found.
func TestBadBeforeGoodRecords(t *testing.T) {
	in := "stray\nTY  - JOUR\nTI  - A\nUR  - https://example.org/a\nER  - \n"
	recs, err := parseErr(t, RIS, []byte(in))
	if err != nil || len(recs) != 2 || recs[0].Line != 1 || recs[0].Err == nil || recs[1].Err != nil {
		t.Fatalf("err %v, records %+v", err, recs)
	}
}

// TestTruncatedLastRecord: a file cut off inside its last record reports
// that record by line as truncated; the complete records before it are
// good.
func TestTruncatedLastRecord(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		line   int
		want   string
	}{
		{"truncated.ris", RIS, 8, `record truncated at end of file (no ER line after line 11); line 11: PY "20" is not a date (want a 4-digit year: YYYY, YYYY/MM/DD/ or YYYY-MM-DD, years 1000 to 2099); no url or doi`},
		{"truncated.bib", BibTeX, 8, `record truncated at end of file (@article{garcia2019}: field "abstract" is not closed (missing }); the file ends at line 12)`},
		{"truncated.jsonl", JSONL, 2, `record truncated at end of file (the line ends before its JSON object is closed)`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs, err := parseErr(t, tt.format, readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(recs) != 2 {
				t.Fatalf("%d records, want 2: %+v", len(recs), recs)
			}
			if r := recs[0]; r.Err != nil || r.Line != 1 || !strings.HasPrefix(r.Item.Title, "Mental health 360") {
				t.Errorf("first record %+v, want the complete record", r)
			}
			r := recs[1]
			if r.Err == nil || !errors.Is(r.Err, evidence.ErrInvalid) {
				t.Fatalf("last record %+v, want a bad record", r)
			}
			got := (RecordError{Line: r.Line, Message: r.Err.Error()}).Error()
			if want := (RecordError{Line: tt.line, Message: tt.want}).Error(); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestTruncatedOnlyMidFile: a cut-off JSON line followed by more lines is
// an ordinary bad line, not a truncated file.
func TestTruncatedOnlyMidFile(t *testing.T) {
	in := `{"title":"A","url":"https://exa` + "\n" + `{"title":"B","url":"https://example.org/b"}` + "\n"
	recs, err := parseErr(t, JSONL, []byte(in))
	if err != nil || len(recs) != 2 || recs[0].Err == nil || strings.Contains(recs[0].Err.Error(), "truncated") || recs[1].Err != nil {
		t.Fatalf("err %v, records %+v", err, recs)
	}
}
