package page

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func res(t testing.TB, patterns ...string) []*regexp.Regexp {
	t.Helper()
	out := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		out[i] = regexp.MustCompile(p)
	}
	return out
}

// listingCase is a listing fixture with the patterns a source would
// configure for it.
type listingCase struct {
	file, url                    string
	include, exclude, pagination []string
}

var listingCases = []listingCase{
	{
		file: "mental_elf_tag_page2", url: "https://www.nationalelfservice.net/tag/recovery/page/2/",
		include:    []string{`^https?://(www\.)?nationalelfservice\.net/[a-z0-9-]+/([a-z0-9-]+/)?[a-z0-9-]+/?$`},
		exclude:    []string{`/(tag|category|author)/`, `/feed/?$`},
		pagination: []string{`/page/\d+/?$`},
	},
	{
		file: "cmh_news", url: "https://www.centreformentalhealth.org.uk/news/",
		include:    []string{`^https://www\.centreformentalhealth\.org\.uk/news/item/[^/]+/?$`, `^https://www\.centreformentalhealth\.org\.uk/\?p=\d+$`},
		pagination: []string{`/news/page/\d+/?$`},
	},
}

func TestHarvestLinksGolden(t *testing.T) {
	for _, c := range listingCases {
		t.Run(c.file, func(t *testing.T) {
			l, err := HarvestLinks(bytes.NewReader(readFile(t, "listing/"+c.file+".html")), mustURL(t, c.url),
				res(t, c.include...), res(t, c.exclude...), res(t, c.pagination...))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "listing/"+c.file+".golden.json", l)
		})
	}
}

func itemURLs(l Listing) []string {
	var out []string
	for _, it := range l.Items {
		out = append(out, it.URL)
	}
	return out
}

func TestHarvestLinksMentalElf(t *testing.T) {
	c := listingCases[0]
	l, err := HarvestLinks(bytes.NewReader(readFile(t, "listing/"+c.file+".html")), mustURL(t, c.url),
		res(t, c.include...), res(t, c.exclude...), res(t, c.pagination...))
	if err != nil {
		t.Fatal(err)
	}
	wantItems := []string{
		"https://www.nationalelfservice.net/mental-health/recovery/imroc-recovery-public-mental-health-wellbeing/",
		"https://www.nationalelfservice.net/treatment/peer-support/peer-support-workers-recovery-colleges/",
		"http://nationalelfservice.net/mental-health/the-future-of-the-mental-elf",
	}
	if got := itemURLs(l); fmt.Sprint(got) != fmt.Sprint(wantItems) {
		t.Errorf("items\n got %q\nwant %q", got, wantItems)
	}
	// The title link wins over the image link and "Read the full story".
	if l.Items[0].Text != "Recovery and public mental health: what the ImROC briefing still teaches us" {
		t.Errorf("anchor text %q", l.Items[0].Text)
	}
	if d := day(l.Items[1].Date); d != "2023-10-30" {
		t.Errorf("card date %q, want 2023-10-30 (\"30th October 2023\")", d)
	}
	if !strings.HasPrefix(l.Items[1].Excerpt, "Alan Simpson reports on a realist review") {
		t.Errorf("excerpt %q", l.Items[1].Excerpt)
	}
	wantPages := []string{
		"https://www.nationalelfservice.net/tag/recovery/page/3/",
		"https://www.nationalelfservice.net/tag/recovery/page/14/",
	}
	if fmt.Sprint(l.Pagination) != fmt.Sprint(wantPages) {
		t.Errorf("pagination\n got %q\nwant %q (never the page itself)", l.Pagination, wantPages)
	}
	if l.Next != wantPages[0] {
		t.Errorf("next %q", l.Next)
	}
	if len(l.FeedLinks) != 3 || l.FeedLinks[2].URL != "https://www.nationalelfservice.net/tag/recovery/feed/" || l.FeedLinks[2].Title != "National Elf Service » Recovery Tag Feed" {
		t.Errorf("feed links %+v", l.FeedLinks)
	}
}

func TestHarvestLinksCMH(t *testing.T) {
	c := listingCases[1]
	l, err := HarvestLinks(bytes.NewReader(readFile(t, "listing/"+c.file+".html")), mustURL(t, c.url),
		res(t, c.include...), res(t, c.exclude...), res(t, c.pagination...))
	if err != nil {
		t.Fatal(err)
	}
	// ?p=1580 matches the include pattern but is a WordPress post-ID link:
	// never an item (the pipeline follows its redirect elsewhere).
	want := []string{
		"https://www.centreformentalhealth.org.uk/news/item/new-commission-report-mental-health-equality/",
		"https://www.centreformentalhealth.org.uk/news/item/children-young-peoples-mental-health-waiting-times/",
		"https://www.centreformentalhealth.org.uk/news/item/short-card/",
	}
	if got := itemURLs(l); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("items\n got %q\nwant %q", got, want)
	}
	if d := day(l.Items[0].Date); d != "2023-11-01" {
		t.Errorf("card date %q", d)
	}
	if l.Items[0].Text != "Commission report charts progress on mental health equality" {
		t.Errorf("text %q", l.Items[0].Text)
	}
	if l.Items[2].Date != nil || l.Items[2].Excerpt != "" {
		t.Errorf("short card: %+v", l.Items[2])
	}
	if fmt.Sprint(l.Pagination) != fmt.Sprint([]string{
		"https://www.centreformentalhealth.org.uk/news/page/2/",
		"https://www.centreformentalhealth.org.uk/news/page/3/",
	}) {
		t.Errorf("pagination %q", l.Pagination)
	}
	if l.Next != "" {
		t.Errorf("next %q without rel=next", l.Next)
	}
}

func TestHarvestLinks(t *testing.T) {
	const base = "https://www.example.org/news/"
	tests := []struct {
		name                         string
		html                         string
		include, exclude, pagination []string
		items, pages                 []string
		next                         string
	}{
		{
			name:    "self link and its spellings never returned",
			html:    `<a href="/news/">News</a><a href="https://example.org/news">News</a><a href="/news/#top">Top</a><a href="/news/?utm_source=x">x</a><a href="/news/a">A</a>`,
			include: []string{`/news/`}, pagination: []string{`/news/(page/\d+/?)?$`},
			items: []string{"https://www.example.org/news/a"},
		},
		{
			name:  "rel=next on an anchor is pagination, even unmatched",
			html:  `<a rel="next" href="/news/?page=2">Older</a><a href="/news/b">B</a>`,
			items: []string{"https://www.example.org/news/b"}, pages: []string{"https://www.example.org/news/?page=2"},
			next: "https://www.example.org/news/?page=2",
		},
		{
			name:  "rel=next pointing at the page itself is dropped",
			html:  `<link rel="next" href="/news/"><a rel="next" href="https://www.example.org/news/">Again</a>`,
			items: []string{},
		},
		{
			name:       "pagination on another site is dropped",
			html:       `<a href="https://other.example/news/page/2/">2</a><link rel=next href="https://other.example/news/page/2/">`,
			pagination: []string{`/page/\d+/?$`}, items: []string{},
		},
		{
			name:    "exclude patterns",
			html:    `<a href="/news/a">A</a><a href="/news/category/x">Cat</a><a href="/news/b.pdf">PDF</a>`,
			include: []string{`/news/`}, exclude: []string{`/category/`, `\.pdf$`},
			items: []string{"https://www.example.org/news/a"},
		},
		{
			name:  "no include patterns: every link",
			html:  `<a href="/a">A</a><a href="https://other.example/b">B</a><a href="mailto:x@example.org">mail</a><a href="javascript:void(0)">js</a><a href="#x">frag</a>`,
			items: []string{"https://www.example.org/a", "https://other.example/b"},
		},
		{
			name:  "WordPress non-items dropped",
			html:  `<a href="/x/attachment/img/">att</a><a href="/feed/">feed</a><a href="/news/page/2/">2</a><a href="/?p=12">p</a><a href="/x/amp/">amp</a><a href="/x/">ok</a>`,
			items: []string{"https://www.example.org/x/"},
		},
		{
			name:  "dedupe ignores scheme, www, trailing slash and tracking",
			html:  `<a href="/a/">A</a><a href="http://example.org/a">A2</a><a href="/a/?utm_campaign=z&amp;fbclid=1">A3</a><a href="/a/?id=2">A4</a>`,
			items: []string{"https://www.example.org/a/", "https://www.example.org/a/?id=2"},
		},
		{
			name:  "base href",
			html:  `<head><base href="https://cdn.example.org/root/"></head><a href="item">I</a>`,
			items: []string{"https://cdn.example.org/root/item"},
		},
		{
			name:  "canonical of the page counts as self",
			html:  `<link rel="canonical" href="/news/index"><a href="/news/index">Index</a><a href="/news/c">C</a>`,
			items: []string{"https://www.example.org/news/c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := HarvestLinks(strings.NewReader(tt.html), mustURL(t, base), res(t, tt.include...), res(t, tt.exclude...), res(t, tt.pagination...))
			if err != nil {
				t.Fatal(err)
			}
			if got := itemURLs(l); fmt.Sprint(got) != fmt.Sprint(tt.items) && !(len(got) == 0 && len(tt.items) == 0) {
				t.Errorf("items\n got %q\nwant %q", got, tt.items)
			}
			if fmt.Sprint(l.Pagination) != fmt.Sprint(tt.pages) && !(len(l.Pagination) == 0 && len(tt.pages) == 0) {
				t.Errorf("pagination %q, want %q", l.Pagination, tt.pages)
			}
			if l.Next != tt.next {
				t.Errorf("next %q, want %q", l.Next, tt.next)
			}
		})
	}
}

func TestHarvestLinksChallenge(t *testing.T) {
	page := `<html><head><title>Just a moment...</title></head><body><script>window._cf_chl_opt={}</script></body></html>`
	_, err := HarvestLinks(strings.NewReader(page), mustURL(t, "https://www.kingsfund.org.uk/insight-and-analysis"), nil, nil, nil)
	if !errors.Is(err, ErrChallenge) {
		t.Fatalf("error %v, want ErrChallenge", err)
	}
}

func TestHarvestLinksNoLinks(t *testing.T) {
	// A client-side rendered listing: no links, and Links says so.
	l, err := HarvestLinks(strings.NewReader(`<div id="__next"></div><script src="/app.js"></script>`), mustURL(t, "https://www.kingsfund.org.uk/insight-and-analysis"), res(t, `/reports/`), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 0 || l.Links != 0 || l.Items == nil || l.Pagination == nil || l.FeedLinks == nil {
		t.Errorf("%+v", l)
	}
}
