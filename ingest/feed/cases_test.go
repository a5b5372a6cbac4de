package feed

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func checkTitles(want ...string) func(t *testing.T, items []evidence.Item) {
	return func(t *testing.T, items []evidence.Item) {
		t.Helper()
		var got []string
		for _, it := range items {
			got = append(got, it.Title)
		}
		if !slices.Equal(got, want) {
			t.Errorf("titles %q, want %q", got, want)
		}
	}
}

func day(y int, m time.Month, d, h, min int) *time.Time {
	t := time.Date(y, m, d, h, min, 0, 0, time.UTC)
	return &t
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}

// checkDCTerms: dcterms:issued, then dcterms:created, give the published
// date when the feed's own (pubDate, dc:date) is missing; dcterms:modified
// gives the updated date.
func checkDCTerms(t *testing.T, items []evidence.Item) {
	tests := []struct {
		title              string
		published, updated *time.Time
	}{
		{"Issued and modified", day(2024, 3, 5, 0, 0), day(2024, 4, 5, 9, 30)},
		{"Created only", day(2023, 11, 20, 8, 0), nil},
		{"Issued wins over created", day(2023, 2, 1, 0, 0), nil},
		{"pubDate wins over dcterms:issued", day(2024, 1, 2, 9, 0), nil},
		{"dc:issued in the wrong namespace, year and month only", day(2022, 6, 1, 0, 0), nil},
		{"An implausible issued date is no date", nil, nil},
	}
	for i, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			it := items[i]
			if it.Title != tt.title {
				t.Fatalf("item %d is %q", i, it.Title)
			}
			if !sameTime(it.Published, tt.published) || !sameTime(it.Updated, tt.updated) {
				t.Errorf("published %v, updated %v; want %v, %v", it.Published, it.Updated, tt.published, tt.updated)
			}
			if _, ok := it.Provenance["published"]; ok != (tt.published != nil) {
				t.Errorf("provenance %v", it.Provenance)
			}
		})
	}
}

// checkAuthorsEmail: "Name <email>" and "email (Name)" keep the name; a
// bare address is no author.
func checkAuthorsEmail(t *testing.T, items []evidence.Item) {
	want := [][]string{{"Jane Doe"}, {"Jane Doe"}, {}, {"Andre Tomlin", "Sarah Smith"}, {"Jane Doe"}}
	for i, w := range want {
		if !slices.Equal(items[i].Authors, w) {
			t.Errorf("%s: authors %q, want %q", items[i].Title, items[i].Authors, w)
		}
	}
}

// checkTextTypes: an Atom title or summary declared type="text" keeps
// markup as the characters it is; html and undeclared ones are HTML.
func checkTextTypes(t *testing.T, items []evidence.Item) {
	tests := []struct {
		title, summary, body string
		links                []string
		authors              []string
	}{
		{
			title:   "Why the <blink> tag had to go",
			summary: `Line one<br />line two; &amp; is an entity, written out. <a href="https://example.org/x">not a link</a>`,
			body:    `Line one<br />line two; &amp; is an entity, written out. <a href="https://example.org/x">not a link</a>`,
			links:   []string{}, authors: []string{"Jane Doe"},
		},
		{
			title: "Use <br /> for breaks", summary: "HTML summary with a link.", body: "HTML summary with a link.",
			links: []string{"https://example.org/y"}, authors: []string{},
		},
		{
			// Literal text, but like all stored text never "<script".
			title: "An HTML title", body: "Plain content: 2 < 3 and script>alert(1)</script> is text here.",
			summary: "Plain content: 2 < 3 and script>alert(1)</script> is text here.",
			links:   []string{}, authors: []string{},
		},
		{title: "An undeclared title is read as HTML, as feeds use it", links: []string{}, authors: []string{}},
	}
	for i, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			it := items[i]
			if it.Title != tt.title || it.Summary != tt.summary || it.Body != tt.body {
				t.Errorf("title %q\nsummary %q\nbody %q\nwant %q\n%q\n%q", it.Title, it.Summary, it.Body, tt.title, tt.summary, tt.body)
			}
			if !slices.Equal(it.Links, tt.links) || !slices.Equal(it.Authors, tt.authors) {
				t.Errorf("links %q authors %q, want %q %q", it.Links, it.Authors, tt.links, tt.authors)
			}
		})
	}
}

// checkMathML: the text of MathML in content is kept (its TeX annotation
// is not repeated).
func checkMathML(t *testing.T, items []evidence.Item) {
	want := []string{"The NNT is NNT = 1 ARR, rounded up.", "Cohen’s d = 0.42 at 12 weeks."}
	for i, w := range want {
		if items[i].Body != w {
			t.Errorf("%s: body %q, want %q", items[i].Title, items[i].Body, w)
		}
	}
}

// TestParseTruncated: where a document breaks off decides what is kept.
func TestParseTruncated(t *testing.T) {
	const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://example.org/</link>
<item><title>A</title><link>https://example.org/a</link></item>
<item><title>B</title><link>https://example.org/b</link></item>
</channel></rss>`
	const rdf = `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://example.org/"><title>T</title><link>https://example.org/</link></channel>
<item rdf:about="https://example.org/a"><title>A</title><link>https://example.org/a</link></item>
<item rdf:about="https://example.org/b"><title>B</title><link>https://example.org/b</link></item>
</rdf:RDF>`
	tests := []struct {
		name   string
		in     string
		titles []string // nil: an error without items
		err    string   // prefix of the error or warning
	}{
		{"RSS without the final >", rss[:len(rss)-1], []string{"A", "B"}, "feed: parse: truncated feed: read the 2 entries before the document breaks off on line 4"},
		{"RSS without </rss>", strings.TrimSuffix(rss, "</rss>"), []string{"A", "B"}, "feed: parse: truncated feed: read the 2 entries"},
		{"RSS cut inside a tag of the second item", rss[:strings.Index(rss, "<link>https://example.org/b")+3], []string{"A"}, "feed: parse: truncated feed: read the 1 entry before"},
		{"RDF cut in the last item", rdf[:len(rdf)-40], []string{"A"}, "feed: parse: truncated feed: read the 1 entry before"},
		{"whole RSS", rss, []string{"A", "B"}, ""},
		{"damage mid-document is no truncation", strings.Replace(rss, "</title><link>https://example.org/b", "</title><link>https://example.org/b</link attr=\">", 1), nil, "feed: parse: XML syntax error"},
		{"JSON Feed cut off", `{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "https://example.org/a", "title": "A"}, {"url": "https://exa`, nil, "feed: parse: JSON: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := Parse(strings.NewReader(tt.in), nil)
			var got []string
			for _, it := range items {
				got = append(got, it.Title)
			}
			if !slices.Equal(got, tt.titles) {
				t.Errorf("titles %q, want %q (err %v)", got, tt.titles, err)
			}
			var pe *PartialError
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.err == "":
			case err == nil || !strings.HasPrefix(err.Error(), tt.err):
				t.Errorf("error %v, want it to start %q", err, tt.err)
			case errors.As(err, &pe) != (tt.titles != nil):
				t.Errorf("error %T %v: a *PartialError exactly when items come with it", err, err)
			}
		})
	}
}

func TestDeclaresText(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`<title type="text">`, true},
		{`<title type='TEXT'>`, true},
		{`<content type="text/plain">`, true},
		{`<title type="html">`, false},
		{`<title>`, false},
		{`type=`, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := declaresText([]byte(tt.in)); got != tt.want {
				t.Errorf("declaresText(%q) = %v", tt.in, got)
			}
		})
	}
}
