package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// feedURL is the base the test feeds are "fetched" from.
const feedURL = "https://www.nationalelfservice.net/mental-health/feed/"

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// goldenItem is an item as the golden files show it: the JSON contract's
// fields this package fills, plus Links (not in the JSON contract).
type goldenItem struct {
	URL        string            `json:"url"`
	Title      string            `json:"title"`
	Published  *time.Time        `json:"published"`
	Updated    *time.Time        `json:"updated,omitempty"`
	Authors    []string          `json:"authors"`
	Summary    string            `json:"summary"`
	Categories []string          `json:"categories,omitempty"`
	PDFURLs    []string          `json:"pdf_urls"`
	Links      []string          `json:"links"`
	Body       string            `json:"body,omitempty"`
	Provenance map[string]string `json:"provenance"`
}

type golden struct {
	Error string       `json:"error,omitempty"`
	Items []goldenItem `json:"items"`
}

func toGolden(items []evidence.Item, err error) golden {
	g := golden{Items: []goldenItem{}}
	if err != nil {
		g.Error = err.Error()
	}
	for _, it := range items {
		g.Items = append(g.Items, goldenItem{
			URL: it.URL, Title: it.Title, Published: it.Published, Updated: it.Updated,
			Authors: it.Authors, Summary: it.Summary, Categories: it.Categories,
			PDFURLs: it.PDFURLs, Links: it.Links, Body: it.Body, Provenance: it.Provenance,
		})
	}
	return g
}

// checkGolden compares got with testdata/<name>.golden.json, or rewrites
// the file with -update.
func checkGolden(t *testing.T, name string, got golden) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ingest/feed -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("output differs from %s (run with -update and review the diff):\n%s", path, b)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		file    string
		base    string // feed URL; feedURL when ""
		wantErr string // prefix of the message; "" means success
		warn    string // prefix of a *PartialError returned with the items
		items   int
		check   func(t *testing.T, items []evidence.Item)
	}{
		{file: "rss_mental_elf.xml", items: 4, check: checkMentalElf},
		{file: "atom.xml", base: "https://www.centreformentalhealth.org.uk/feed/atom/", items: 2, check: checkAtom},
		{file: "rdf.xml", items: 1, check: func(t *testing.T, items []evidence.Item) {
			it := items[0]
			want := time.Date(2020, 3, 5, 10, 0, 0, 0, time.UTC)
			if it.Published == nil || !it.Published.Equal(want) {
				t.Errorf("Published = %v, want %v", it.Published, want)
			}
			if !equal(it.Categories, []string{"Person-centred care", "Lived experience"}) {
				t.Errorf("Categories = %q", it.Categories)
			}
		}},
		{file: "jsonfeed.json", base: "https://www.kingsfund.org.uk/feed.json", items: 2, check: checkJSONFeed},
		{file: "bad_dates.xml", items: 5, check: func(t *testing.T, items []evidence.Item) {
			for _, it := range items {
				if it.Published != nil || it.Updated != nil {
					t.Errorf("%s: Published = %v, Updated = %v, want nil", it.Title, it.Published, it.Updated)
				}
				if _, ok := it.Provenance["published"]; ok {
					t.Errorf("%s: provenance names a published date it does not have", it.Title)
				}
			}
		}},
		{file: "latin1_declared.xml", items: 1, check: checkLatin1("-")},
		{file: "latin1_prolog_utf8_bytes.xml", items: 1, check: checkLatin1("–")},
		{file: "cp1252_undeclared.xml", items: 1, check: func(t *testing.T, items []evidence.Item) {
			if want := "Étude sur la santé mentale – résumé"; items[0].Title != want {
				t.Errorf("Title = %q, want %q", items[0].Title, want)
			}
		}},
		{file: "utf16.xml", items: 1, check: checkLatin1("–")},
		{file: "long_preamble.xml", items: 1},
		{file: "empty_feed.xml", items: 0},
		{file: "html_instead.html", wantErr: "feed: parse: not a feed (got HTML document)"},
		{file: "empty.xml", wantErr: "feed: parse: empty body"},
		{file: "malformed.xml", wantErr: "feed: parse: XML syntax error on line 12"},
		{file: "sitemap.xml", wantErr: "feed: parse: not a feed (root element <urlset>)"},
		{file: "robots.txt", wantErr: `feed: parse: not a feed (got text starting "User-agent`},
		{file: "no_urls.xml", wantErr: "feed: parse: none of 2 entries has a usable URL"},
		{file: "truncated_rss.xml", items: 3, check: checkTitles("Item 1: peer support in crisis care", "Item 2: peer support in crisis care", "Item 3: peer support in crisis care"),
			warn: "feed: parse: truncated feed: read the 3 entries before the document breaks off on line 30 (XML syntax error on line 30: unexpected EOF in CDATA section)"},
		{file: "truncated_atom.xml", items: 2, check: checkTitles("Briefing 60: children’s mental health", "Briefing 61: money and mental health"),
			warn: "feed: parse: truncated feed: read the 2 entries before the document breaks off on line 22 (XML syntax error on line 22: unexpected EOF)"},
		{file: "dcterms.xml", base: "https://www.kingsfund.org.uk/feed", items: 6, check: checkDCTerms},
		{file: "authors_email.xml", items: 5, check: checkAuthorsEmail},
		{file: "atom_text_types.xml", base: "https://www.kingsfund.org.uk/feed", items: 4, check: checkTextTypes},
		{file: "mathml.xml", items: 2, check: checkMathML},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			base := feedURL
			if tt.base != "" {
				base = tt.base
			}
			items, err := Parse(f, mustURL(t, base))
			checkGolden(t, strings.TrimSuffix(tt.file, filepath.Ext(tt.file)), toGolden(items, err))
			if tt.warn != "" {
				var pe *PartialError
				if !errors.As(err, &pe) || !errors.Is(err, evidence.ErrInvalid) {
					t.Fatalf("error %v (%d items), want a *PartialError wrapping evidence.ErrInvalid", err, len(items))
				}
				if !strings.HasPrefix(err.Error(), tt.warn) {
					t.Errorf("warning %q, want it to start %q", err, tt.warn)
				}
				if pe.Kept != tt.items {
					t.Errorf("PartialError.Kept = %d, want %d", pe.Kept, tt.items)
				}
				err = nil
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %d items, want error %q", len(items), tt.wantErr)
				}
				if !errors.Is(err, evidence.ErrInvalid) {
					t.Errorf("error %v does not wrap evidence.ErrInvalid", err)
				}
				if !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("error %q, want it to start %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(items) != tt.items {
				t.Fatalf("got %d items, want %d", len(items), tt.items)
			}
			for _, it := range items {
				checkInvariants(t, it)
			}
			if tt.check != nil {
				tt.check(t, items)
			}
		})
	}
	// Every input in testdata has a case (so no golden file goes stale).
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		name := filepath.Base(p)
		if strings.HasSuffix(name, ".golden.json") || !strings.Contains(name, ".") {
			continue
		}
		if !seen[name] {
			t.Errorf("testdata/%s has no case in TestParse", name)
		}
	}
}

// checkInvariants holds for every item Parse returns.
func checkInvariants(t *testing.T, it evidence.Item) {
	t.Helper()
	again, err := urlnorm.Normalize(it.URL, nil, urlnorm.Rules{})
	if err != nil || again != it.URL || !strings.HasPrefix(it.URL, "https://") {
		t.Errorf("URL %q is not normalised (%q, %v)", it.URL, again, err)
	}
	for _, s := range append([]string{it.Title, it.Summary, it.Body}, it.Authors...) {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8: %q", s)
		}
		if s != strings.TrimSpace(s) || strings.Contains(s, "  ") || strings.ContainsAny(s, "\n\t") {
			t.Errorf("white space not collapsed: %q", s)
		}
	}
	if it.Published != nil && it.Published.Location() != time.UTC {
		t.Errorf("Published %v not UTC", it.Published)
	}
	if it.ID != "" || it.Source != "" || it.Type != "" || !it.FirstSeen.IsZero() {
		t.Errorf("pipeline fields filled: %q %q %q %v", it.ID, it.Source, it.Type, it.FirstSeen)
	}
	if it.Provenance["url"] != Layer {
		t.Errorf("provenance %v lacks url", it.Provenance)
	}
	for _, l := range it.Links {
		if u, err := url.Parse(l); err != nil || !u.IsAbs() || u.Fragment != "" {
			t.Errorf("link %q is not absolute", l)
		}
	}
}

func checkMentalElf(t *testing.T, items []evidence.Item) {
	first := items[0]
	if want := "https://www.nationalelfservice.net/treatment/psychotherapy/trauma-focused-cbt-for-ptsd/"; first.URL != want {
		t.Errorf("URL = %q, want %q (utm_* stripped)", first.URL, want)
	}
	if want := "Trauma-focused CBT for PTSD: what’s new in the evidence?"; first.Title != want {
		t.Errorf("Title = %q, want %q", first.Title, want)
	}
	if want := "Andre Tomlin reports on a new systematic review of trauma-focused CBT for adults with PTSD… Fish & chips."; first.Summary != want {
		t.Errorf("Summary = %q, want %q", first.Summary, want)
	}
	if strings.Contains(first.Body, "tracking") {
		t.Errorf("script content in body: %q", first.Body)
	}
	if !strings.Contains(first.Body, "It’s a “good” review.") {
		t.Errorf("entities not decoded in body: %q", first.Body)
	}
	want := time.Date(2025, 1, 13, 7, 0, 0, 0, time.UTC)
	if first.Published == nil || !first.Published.Equal(want) {
		t.Errorf("Published = %v, want %v", first.Published, want)
	}
	if !equal(first.Authors, []string{"Andre Tomlin"}) {
		t.Errorf("Authors = %q", first.Authors)
	}
	if !equal(first.Categories, []string{"Mental health", "PTSD", "Psychotherapy"}) {
		t.Errorf("Categories = %q (want de-duplicated)", first.Categories)
	}
	if !equal(first.PDFURLs, []string{
		"https://www.nationalelfservice.net/cms/wp-content/uploads/2025/01/Protocol.pdf",
		"https://nationalelfservice.net/cms/wp-content/uploads/2025/01/data-tables.xlsx",
	}) {
		t.Errorf("PDFURLs = %q", first.PDFURLs)
	}
	if !contains(first.Links, "https://www.nationalelfservice.net/mental-health/ptsd/another-blog/") {
		t.Errorf("relative link not resolved: %q", first.Links)
	}

	second := items[1]
	if want := "https://www.nationalelfservice.net/mental-health/depression/loneliness-and-depression-in-older-adults/"; second.URL != want {
		t.Errorf("relative item link: URL = %q, want %q", second.URL, want)
	}
	if second.Title != "Loneliness & depression in older adults" {
		t.Errorf("Title = %q", second.Title)
	}
	if second.Published != nil {
		t.Errorf("bad pubDate gave Published = %v, want nil", second.Published)
	}
	if !equal(second.Authors, []string{"Sarah Knowles", "Jane Doe"}) {
		t.Errorf("Authors = %q", second.Authors)
	}
	if second.Summary != "Sarah Knowles and Jane Doe report on a cohort study…" {
		t.Errorf("Summary = %q", second.Summary)
	}

	third := items[2]
	if want := "https://nationalelfservice.net/mental-health/children-and-young-people/digital-interventions-for-young-people/"; third.URL != want {
		t.Errorf("GUID fallback: URL = %q, want %q", third.URL, want)
	}
	if !equal(third.Authors, []string{"Smith, John", "Ana Silva", "Ben Jones"}) {
		t.Errorf("Authors = %q", third.Authors)
	}
	if n := utf8.RuneCountInString(third.Summary); n == 0 || n > SummaryFromContent || !strings.HasSuffix(third.Summary, ".") {
		t.Errorf("Summary from content (%d runes): %q", n, third.Summary)
	}
	if !equal(third.PDFURLs, []string{"https://www.centreformentalhealth.org.uk/wp-content/uploads/2024/11/CentreforMH_Briefing.PDF"}) {
		t.Errorf("PDFURLs = %q", third.PDFURLs)
	}

	last := items[3]
	if !equal(last.Authors, []string{"The Mental Elf"}) {
		t.Errorf("Authors = %q (e-mail not stripped?)", last.Authors)
	}
	if last.Body != last.Summary || last.Body != "Plain-text description with no content. Escaped bold." {
		t.Errorf("Body = %q, Summary = %q", last.Body, last.Summary)
	}
	want = time.Date(2025, 1, 9, 17, 0, 0, 0, time.UTC)
	if last.Published == nil || !last.Published.Equal(want) {
		t.Errorf("Published = %v, want %v (UTC)", last.Published, want)
	}
}

func checkAtom(t *testing.T, items []evidence.Item) {
	it := items[0]
	if it.URL != "https://www.centreformentalhealth.org.uk/beacon-mental-health-equality/" {
		t.Errorf("xml:base not applied: %q", it.URL)
	}
	if it.Title != "Beacon: mental health equality & the law" {
		t.Errorf("Title = %q", it.Title)
	}
	if !equal(it.Authors, []string{"Andy Bell", "Kadra Abdinasir", "Sarah Hughes"}) {
		t.Errorf("Authors = %q", it.Authors)
	}
	if !equal(it.Categories, []string{"Equality", "policy"}) {
		t.Errorf("Categories = %q", it.Categories)
	}
	if !equal(it.PDFURLs, []string{"https://www.centreformentalhealth.org.uk/wp-content/uploads/2020/10/CentreforMH_Beacon.pdf"}) {
		t.Errorf("PDFURLs = %q", it.PDFURLs)
	}
	if it.Published == nil || !it.Published.Equal(time.Date(2024, 11, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("Published = %v", it.Published)
	}
	if it.Updated == nil || !it.Updated.Equal(time.Date(2024, 11, 2, 12, 30, 0, 0, time.UTC)) {
		t.Errorf("Updated = %v", it.Updated)
	}
	second := items[1]
	if !equal(second.Authors, []string{"Centre for Mental Health"}) {
		t.Errorf("feed author not inherited: %q", second.Authors)
	}
	if second.Published == nil || !second.Published.Equal(time.Date(2024, 10, 15, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("Published from updated = %v", second.Published)
	}
	if second.Body != "XHTML content with bold." {
		t.Errorf("Body = %q", second.Body)
	}
}

func checkJSONFeed(t *testing.T, items []evidence.Item) {
	it := items[0]
	if it.URL != "https://www.kingsfund.org.uk/insight-and-analysis/reports/mental-health-360" {
		t.Errorf("URL = %q (relative to the feed URL, tracking stripped)", it.URL)
	}
	if it.Title != "Mental health 360 | The King’s Fund" {
		t.Errorf("Title = %q", it.Title)
	}
	if !equal(it.Authors, []string{"Helen Gilburt", "Danielle Jefferies", "Sally Warren"}) {
		t.Errorf("Authors = %q", it.Authors)
	}
	if len(it.PDFURLs) != 1 || !strings.HasSuffix(it.PDFURLs[0], "/sites/default/files/2023-02/MH360_report.pdf") {
		t.Errorf("PDFURLs = %q", it.PDFURLs)
	}
	second := items[1]
	if second.URL != "https://www.kingsfund.org.uk/insight-and-analysis/blogs/no-url-field" {
		t.Errorf("id fallback: URL = %q", second.URL)
	}
	if second.Published != nil {
		t.Errorf("Published = %v, want nil", second.Published)
	}
	if second.Summary != "Plain text content. Second sentence." {
		t.Errorf("Summary = %q", second.Summary)
	}
}

// checkLatin1 checks the accented text of the charset test feeds; dash is
// the title's dash (Latin-1 has no en dash, so that file has a hyphen).
func checkLatin1(dash string) func(t *testing.T, items []evidence.Item) {
	return func(t *testing.T, items []evidence.Item) {
		if want := "Étude sur la santé mentale " + dash + " résumé"; items[0].Title != want {
			t.Errorf("Title = %q, want %q", items[0].Title, want)
		}
		if want := "Naïve café ½"; items[0].Summary != want {
			t.Errorf("Summary = %q, want %q", items[0].Summary, want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"BOM and spaces only", "\xEF\xBB\xBF \r\n", "feed: parse: empty body"},
		{"upper-case doctype", "\n<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">", "feed: parse: not a feed (got HTML document)"},
		{"bare html", "<html><body>Just a moment…</body></html>", "feed: parse: not a feed (got HTML document)"},
		{"XHTML with prolog", `<?xml version="1.0"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`, "feed: parse: not a feed (got HTML document)"},
		{"JSON object", `{"error": "rate limited"}`, "feed: parse: not a feed (JSON without a JSON Feed version)"},
		{"JSON array", `[1, 2]`, "feed: parse: not a feed (JSON that is not a JSON Feed)"},
		{"broken JSON", `{"version": "https://jsonfeed.org/version/1.1", "items": [`, "feed: parse: JSON: "},
		{"truncated RSS before its first item ends", `<rss version="2.0"><channel><item><title>x`, "feed: parse: truncated feed: the document breaks off on line 1 before its first entry ends (XML syntax error on line 1: unexpected EOF)"},
		{"XML without root", `<?xml version="1.0"?><!-- nothing -->`, "feed: parse: not a feed (no root element)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := Parse(strings.NewReader(tt.in), nil)
			if err == nil {
				t.Fatalf("got %d items, want error %q", len(items), tt.want)
			}
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("error %v does not wrap evidence.ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start %q", err, tt.want)
			}
		})
	}
}

func TestParseNilBaseUsesFeedLink(t *testing.T) {
	in := `<rss version="2.0"><channel><link>https://www.nationalvoices.org.uk/</link>
<item><title>T</title><link>/blogpost/x</link></item></channel></rss>`
	items, err := Parse(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].URL != "https://www.nationalvoices.org.uk/blogpost/x" {
		t.Errorf("items = %+v", items)
	}
}

func TestParseEntryCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<rss version="2.0"><channel><title>Big</title>`)
	for i := 0; i < MaxEntries+5; i++ {
		b.WriteString(`<item><title>x</title><link>https://example.org/`)
		b.WriteString(strings.Repeat("a", 1+i%7))
		b.WriteString("/")
		b.WriteString(time.Unix(int64(i), 0).UTC().Format("150405"))
		b.WriteString(`</link></item>`)
	}
	b.WriteString(`</channel></rss>`)
	items, err := Parse(strings.NewReader(b.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) > MaxEntries {
		t.Errorf("got %d items, cap is %d", len(items), MaxEntries)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestParseReadError(t *testing.T) {
	_, err := Parse(failingReader{}, nil)
	if !errors.Is(err, io.ErrClosedPipe) || errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("err = %v, want the reader's error, not ErrInvalid", err)
	}
}

func TestSplitNames(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Andre Tomlin", []string{"Andre Tomlin"}},
		{"  By Andre Tomlin ", []string{"Andre Tomlin"}},
		{"Sarah Knowles and Jane Doe", []string{"Sarah Knowles", "Jane Doe"}},
		{"A Smith, B Jones and C Brown", []string{"A Smith", "B Jones", "C Brown"}},
		{"A Smith, B Jones, and C Brown", []string{"A Smith", "B Jones", "C Brown"}},
		{"Kadra Abdinasir & Sarah Hughes", []string{"Kadra Abdinasir", "Sarah Hughes"}},
		{"Ana Silva; Ben Jones", []string{"Ana Silva", "Ben Jones"}},
		{"Smith, John", []string{"Smith, John"}},
		{"Jane Doe, PhD", []string{"Jane Doe, PhD"}},
		{"Andrew Anderson", []string{"Andrew Anderson"}},
		{"Department of Health and Social Care", []string{"Department of Health and Social Care"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := splitNames(tt.in); !equal(got, tt.want) {
				t.Errorf("splitNames(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// corpusDir holds real feeds from Miniflux's parser tests (shared with the
// other packages, outside this module).
const corpusDir = "../../../shared/corpora/miniflux-reader-testdata/parser/testdata"

func TestParseRealFeeds(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("real-feed corpus not available at %s (%v): skipping", corpusDir, err)
	}
	tests := []struct {
		file      string
		minItems  int
		wantTitle string // title of the first item, "" to skip
	}{
		{"large_rss.xml", 20, "Using vale with vim"},
		{"large_atom.xml", 20, "Using vale with vim"},
		{"small_atom.xml", 10, "Parse podcast categories"},
		{"rdf_UTF8.xml", 50, "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"},
		{"urdu_UTF8.xml", 20, ""},
		{"encoding_ISO-8859-1.xml", 30, "Red Dead Redemption 2: Hinweise auf PC-Umsetzung in App von Rockstar Games"},
		{"encoding_WINDOWS-1251.xml", 40, "Цитата #17703"},
		{"no_encoding_ISO-8859-1.xml", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(corpusDir, tt.file))
			if err != nil {
				t.Skipf("%v: skipping", err)
			}
			items, err := Parse(bytes.NewReader(raw), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(items) < tt.minItems {
				t.Fatalf("got %d items, want at least %d", len(items), tt.minItems)
			}
			for _, it := range items {
				if it.URL == "" || it.Title == "" {
					t.Errorf("item without URL or title: %+v", it)
				}
				if !utf8.ValidString(it.Title) || strings.ContainsRune(it.Title, utf8.RuneError) {
					t.Errorf("title not clean UTF-8: %q", it.Title)
				}
				checkInvariants(t, it)
			}
			if tt.wantTitle != "" && items[0].Title != tt.wantTitle {
				t.Errorf("first title = %q, want %q", items[0].Title, tt.wantTitle)
			}
		})
	}
}

// TestParseConvertedCharsets checks the fetcher's path too: bytes already
// converted to UTF-8 (here by a first Parse-independent decode) with the
// original encoding= prolog left in place must read the same.
func TestParseConvertedCharsets(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("real-feed corpus not available at %s (%v): skipping", corpusDir, err)
	}
	raw, err := os.ReadFile(filepath.Join(corpusDir, "encoding_ISO-8859-1.xml"))
	if err != nil {
		t.Skip(err)
	}
	direct, err := Parse(bytes.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	// ISO-8859-1 → UTF-8 by hand, prolog untouched.
	var conv bytes.Buffer
	for _, c := range raw {
		conv.WriteRune(rune(c))
	}
	converted, err := Parse(&conv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(direct) != len(converted) {
		t.Fatalf("%d items vs %d", len(direct), len(converted))
	}
	for i := range direct {
		if direct[i].Title != converted[i].Title || direct[i].Summary != converted[i].Summary {
			t.Errorf("item %d: %q vs %q", i, direct[i].Title, converted[i].Title)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	base, _ := url.Parse(feedURL)
	f.Fuzz(func(t *testing.T, in []byte) {
		items, err := Parse(bytes.NewReader(in), base)
		if err != nil {
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			var pe *PartialError
			if errors.As(err, &pe) {
				if len(items) == 0 || len(items) > pe.Kept {
					t.Fatalf("%d items from %d entries with %v", len(items), pe.Kept, err)
				}
			} else if len(items) != 0 {
				t.Fatalf("items with an error")
			}
			if len(items) == 0 {
				return
			}
		}
		if len(items) > MaxEntries {
			t.Fatalf("%d items", len(items))
		}
		for _, it := range items {
			again, err := urlnorm.Normalize(it.URL, nil, urlnorm.Rules{})
			if err != nil || again != it.URL {
				t.Fatalf("URL %q not normalised: %q %v", it.URL, again, err)
			}
			for _, s := range []string{it.Title, it.Summary, it.Body} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 %q", s)
				}
			}
			if it.Published != nil && it.Published.Location() != time.UTC {
				t.Fatalf("Published not UTC")
			}
		}
	})
}
