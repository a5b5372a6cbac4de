package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
)

// citeJS finds node and citation.js (../testdata/npm/node_modules, from
// testdata/npm/package.json). Missing, the test is skipped with how to
// install them, except on CI (CI=true), which installs them (.ci/run) and
// so fails.
func citeJS(t *testing.T) (node, modules string) {
	t.Helper()
	missing := func(format string, a ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, a...) + "; install them with: (cd testdata/npm && npm ci --no-audit --no-fund), which needs node and npm"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH (%v)", err)
	}
	modules, err = filepath.Abs(filepath.Join("..", "testdata", "npm", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"core", "plugin-ris", "plugin-bibtex", "plugin-csl"} {
		if _, err := os.Stat(filepath.Join(modules, "@citation-js", pkg, "package.json")); err != nil {
			missing("citation.js (@citation-js/%s) is not installed in %s", pkg, modules)
		}
	}
	return node, modules
}

// cslOut is what citation.js reads (a CSL-JSON item), the fields checked.
type cslOut struct {
	Type     string          `json:"type"`
	Title    string          `json:"title"`
	Author   []cslOutName    `json:"author"`
	Reporter json.RawMessage `json:"reporter"`
	Issued   struct {
		DateParts [][]json.Number `json:"date-parts"`
	} `json:"issued"`
	URL    string          `json:"URL"`
	DOI    string          `json:"DOI"`
	Note   json.RawMessage `json:"note"`
	Genre  string          `json:"genre"`
	Custom map[string]any  `json:"custom"`
}

type cslOutName struct {
	Family   string `json:"family"`
	Given    string `json:"given"`
	Particle string `json:"non-dropping-particle"`
	Literal  string `json:"literal"`
}

// family is the name as compared: literal, or particle and family.
func (n cslOutName) family() string {
	if n.Literal != "" {
		return n.Literal
	}
	return strings.TrimSpace(n.Particle + " " + n.Family)
}

var tags = regexp.MustCompile(`<[^>]*>`)

// notes reads a CSL note: a string, or (from RIS N1 lines) a list.
func (c cslOut) notes() string {
	var s string
	if json.Unmarshal(c.Note, &s) == nil {
		return s
	}
	var list []string
	json.Unmarshal(c.Note, &list)
	return strings.Join(list, "\n")
}

func runCiteJS(t *testing.T, node, modules, file, format string) []cslOut {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "citeparse.mjs"), file, format)
	cmd.Env = append(os.Environ(), "CITEPARSE_NODE_MODULES="+modules)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("citeparse.mjs %s %s: %v\n%s", file, format, err, stderr.Bytes())
	}
	var out []cslOut
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("citeparse.mjs printed no CSL-JSON array: %v\n%s", err, stdout.Bytes())
	}
	return out
}

// TestRealParser writes the golden entries in RIS, BibTeX and CSL-JSON and
// reads each file with citation.js, a real parser standing in for Zotero's
// importers: title, authors (family names), issued year, URL, DOI and the
// note (with the section) must come through. What citation.js drops is
// logged (run with -v), and is listed in the package's report: RIS L1 (the
// PDFs), NEWS authors read as "reporter" and NEWS dates as the year only
// (its RIS 2011 table has no DA for NEWS); BibTeX pdf, and @online is a
// webpage (the kind of work stays in genre).
func TestRealParser(t *testing.T) {
	node, modules := citeJS(t)
	dir := t.TempDir()
	for _, set := range goldenSets[:2] {
		for _, format := range []string{"ris", "bibtex", "csl-json"} {
			t.Run(set.name+"/"+format, func(t *testing.T) {
				_, ext, _, _ := export.Format(format)
				file := filepath.Join(dir, set.name+ext)
				if err := os.WriteFile(file, write(t, format, set.entries), 0o600); err != nil {
					t.Fatal(err)
				}
				got := runCiteJS(t, node, modules, file, format)
				if len(got) != len(set.entries) {
					t.Fatalf("citation.js read %d items from %d entries", len(got), len(set.entries))
				}
				for i, c := range got {
					checkCiteJS(t, format, set.entries[i], c)
				}
			})
		}
	}
}

// TestRealParserHostile: the hostile entry's text does not break the
// record for citation.js either: two items come back, the second whole,
// and the first keeps its four authors and its note on one line.
func TestRealParserHostile(t *testing.T) {
	node, modules := citeJS(t)
	dir := t.TempDir()
	for _, format := range []string{"ris", "bibtex", "csl-json"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, "hostile."+format)
			os.WriteFile(file, write(t, format, []export.Entry{hostile, kingsFundReport}), 0o600)
			got := runCiteJS(t, node, modules, file, format)
			if len(got) != 2 {
				t.Fatalf("citation.js read %d items from 2 entries: %+v", len(got), got)
			}
			checkCiteJS(t, format, kingsFundReport, got[1])
			h := got[0]
			if len(h.Author) != 4 || !strings.HasPrefix(h.Title, "{Unbalanced & 100% $cost") || h.URL != "https://www.kingsfund.org.uk/a%20b%7Bc%7D%5Cd%22e%22%7F" {
				t.Errorf("hostile item %+v", h)
			}
			if n := h.notes(); !strings.Contains(n, "line one ER - TY - JOUR TI - Injected } @misc{evil, next") {
				t.Errorf("hostile note %q", n)
			}
		})
	}
}

func checkCiteJS(t *testing.T, format string, e export.Entry, c cslOut) {
	t.Helper()
	it := e.Item
	if title := strings.TrimSpace(tags.ReplaceAllString(c.Title, "")); title != it.Title {
		t.Errorf("title %q, want %q", title, it.Title)
	}
	if c.URL != it.URL || !strings.EqualFold(c.DOI, it.DOI) {
		t.Errorf("%s: URL %q DOI %q, want %q %q", it.Title, c.URL, c.DOI, it.URL, it.DOI)
	}
	authors := c.Author
	if len(authors) == 0 && len(c.Reporter) > 0 {
		// RIS NEWS: citation.js follows the 2011 table, AU is the
		// reporter (Zotero reads an author).
		t.Logf("%s %s: authors read as reporter", format, it.Type)
		var r []cslOutName
		if err := json.Unmarshal(c.Reporter, &r); err != nil {
			var s string
			json.Unmarshal(c.Reporter, &s)
			r = []cslOutName{{Literal: s}}
		}
		authors = r
	}
	var want []string
	for _, a := range it.Authors {
		n := export.SplitName(a)
		if n.IsLiteral() {
			want = append(want, n.Literal)
		} else {
			want = append(want, n.Family)
		}
	}
	var families []string
	for _, a := range authors {
		families = append(families, a.family())
	}
	if strings.Join(families, "; ") != strings.Join(want, "; ") {
		t.Errorf("%s: authors %q, want %q", it.Title, families, want)
	}
	year := ""
	if len(c.Issued.DateParts) > 0 && len(c.Issued.DateParts[0]) > 0 {
		year = c.Issued.DateParts[0][0].String()
		if len(c.Issued.DateParts[0]) == 1 && it.Published != nil {
			t.Logf("%s %s: the date is read as the year only", format, it.Type)
		}
	}
	wantYear := ""
	if it.Published != nil {
		wantYear = fmt.Sprint(it.Published.Year())
	}
	if year != wantYear {
		t.Errorf("%s: issued year %q, want %q", it.Title, year, wantYear)
	}
	note := c.notes()
	for _, part := range []string{prefixed(e.Section), e.Note} {
		if !strings.Contains(note, part) {
			t.Errorf("%s: note %q lacks %q", it.Title, note, part)
		}
	}
	if e.Section == "" && e.Note == "" && note != "" {
		t.Errorf("%s: note %q from nowhere", it.Title, note)
	}
	// Not required, reported: the PDFs and the item type.
	if len(it.PDFURLs) > 0 {
		if pdfs, _ := c.Custom["pdf_urls"].([]any); len(pdfs) != len(it.PDFURLs) {
			t.Logf("%s %s: the PDF URLs are dropped", format, it.Type)
		}
	}
	if c.Type == "webpage" && it.Type != evidence.TypeArticle {
		t.Logf("%s %s: read as a webpage (genre %q)", format, it.Type, c.Genre)
	}
}
