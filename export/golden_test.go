package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence/export"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// write writes entries in the named format.
func write(t *testing.T, format string, entries []export.Entry) []byte {
	t.Helper()
	_, _, w, ok := export.Format(format)
	if !ok {
		t.Fatalf("Format(%q): not known", format)
	}
	var b bytes.Buffer
	if err := w(&b, entries); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return b.Bytes()
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./export -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./export -update to accept):\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	for _, set := range goldenSets {
		for _, format := range export.Formats() {
			_, ext, _, _ := export.Format(format)
			t.Run(set.name+ext, func(t *testing.T) {
				golden(t, set.name+ext, write(t, format, set.entries))
			})
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name, contentType, ext string
	}{
		{"ris", "application/x-research-info-systems; charset=utf-8", ".ris"},
		{"bibtex", "application/x-bibtex; charset=utf-8", ".bib"},
		{"BIB", "application/x-bibtex; charset=utf-8", ".bib"},
		{"csl-json", "application/vnd.citationstyles.csl+json", ".csl.json"},
		{"csv", "text/csv; charset=utf-8", ".csv"},
		{"endnote", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, ext, w, ok := export.Format(tt.name)
			if ct != tt.contentType || ext != tt.ext || ok != (tt.ext != "") || (w != nil) != ok {
				t.Errorf("Format(%q) = %q, %q, %v, %v", tt.name, ct, ext, w != nil, ok)
			}
		})
	}
	for _, name := range export.Formats() {
		if _, _, _, ok := export.Format(name); !ok {
			t.Errorf("Formats lists %q, which Format does not know", name)
		}
	}
}

func TestEmpty(t *testing.T) {
	for _, format := range export.Formats() {
		got := string(write(t, format, nil))
		want := map[string]string{"ris": "", "bibtex": "", "csl-json": "[]\n", "csv": strings.Join(export.CSVHeader, ",") + "\r\n"}[format]
		if got != want {
			t.Errorf("%s of no entries: %q, want %q", format, got, want)
		}
	}
}

// TestRepeatedItem: an item in two sections of a collection is written
// twice, with a unique BibTeX key and CSL id each time.
func TestRepeatedItem(t *testing.T) {
	twice := []export.Entry{withContext(kingsFundReport, "Money", ""), withContext(kingsFundReport, "Workforce", "")}
	bib := string(write(t, "bibtex", twice))
	if !strings.Contains(bib, "{gilburt2023mental,") || !strings.Contains(bib, "{gilburt2023mentala,") {
		t.Errorf("BibTeX keys not unique:\n%s", bib)
	}
	var items []struct{ ID string }
	if err := json.Unmarshal(write(t, "csl-json", twice), &items); err != nil || len(items) != 2 ||
		items[0].ID != kingsFundReport.Item.ID || items[1].ID != kingsFundReport.Item.ID+"-2" {
		t.Errorf("CSL ids %+v (%v)", items, err)
	}
	rows := readCSV(t, write(t, "csv", twice))
	if rows[1][0] != "Money" || rows[2][0] != "Workforce" || rows[1][1] != "1" || rows[2][1] != "1" {
		t.Errorf("CSV rows %q", rows)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	var many []export.Entry
	for range 50 {
		many = append(many, goldenSets[0].entries...)
	}
	for _, format := range export.Formats() {
		_, _, w, _ := export.Format(format)
		for _, after := range []int{0, 3} {
			if format == "csl-json" && after > 0 {
				continue // the whole array is one write
			}
			err := w(&failWriter{after: after}, many)
			if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.HasPrefix(err.Error(), "export: ") {
				t.Errorf("%s, failing after %d writes: %v", format, after, err)
			}
		}
	}
}
