package page

import (
	"bytes"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// itemCases are the item-page fixtures and the URL each is read as.
var itemCases = []struct{ file, url string }{
	{"mental_elf_yoast", "https://www.nationalelfservice.net/mental-health/recovery/imroc-recovery-public-mental-health-wellbeing/?utm_source=rss&utm_medium=rss"},
	{"cmh_blog_cookie", "https://www.centreformentalhealth.org.uk/beacon-mental-health-equality/"},
	{"kingsfund_press_release", "https://www.kingsfund.org.uk/insight-and-analysis/press-releases/our-response-norman-lambs-announcement-plans-integrated-care"},
	{"national_voices_blog", "https://nationalvoices.org.uk/blogpost/what-good-supported-self-management"},
	{"broken", "https://www.centreformentalhealth.org.uk/news/item/waiting-times/"},
	{"cp1252_converted", "https://www.nationalvoices.org.uk/newsitem/integrated-care-pledge/"},
	{"malformed_jsonld", "https://www.centreformentalhealth.org.uk/cost-of-living/"},
}

func TestExtractGolden(t *testing.T) {
	for _, c := range itemCases {
		t.Run(c.file, func(t *testing.T) {
			m, err := Extract(bytes.NewReader(readFile(t, "item/"+c.file+".html")), mustURL(t, c.url))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "item/"+c.file+".golden.json", m)
		})
	}
}

func extractFixture(t *testing.T, file string) Meta {
	t.Helper()
	for _, c := range itemCases {
		if c.file == file {
			m, err := Extract(bytes.NewReader(readFile(t, "item/"+file+".html")), mustURL(t, c.url))
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no fixture %q", file)
	return Meta{}
}

// TestExtractFixtures asserts what matters in each fixture, so that a
// golden-file update cannot silently lose it.
func TestExtractFixtures(t *testing.T) {
	type want struct {
		title, published, updated, canonical, typ, doi string
		authors, tags, breadcrumb                      []string
		prov                                           map[string]string
		bodyStarts                                     string
		summaryStarts                                  string
		links, downloads                               int
		outdated                                       bool
		warnings                                       int
	}
	tests := []struct {
		file string
		want want
	}{
		{"mental_elf_yoast", want{
			title: "Recovery and public mental health: what the ImROC briefing still teaches us", published: "2023-11-06T07:30:00Z",
			updated: "2023-11-07T10:02:13Z", typ: "Article", authors: []string{"Sarah Carr"},
			canonical:  "https://www.nationalelfservice.net/mental-health/recovery/imroc-recovery-public-mental-health-wellbeing/",
			tags:       []string{"Recovery", "Public mental health", "Wellbeing", "ImROC"},
			breadcrumb: []string{"Home", "Mental Health", "Recovery and public mental health: what the ImROC briefing still teaches us"},
			prov:       map[string]string{"title": LayerJSONLD, "authors": LayerJSONLD, "published": LayerJSONLD, "summary": LayerJSONLD, "canonical": LayerMeta, "body": "entry-content"},
			bodyStarts: "Sarah Carr reports on the ImROC briefing", summaryStarts: "Sarah Carr reports on the ImROC briefing ‘Recovery, Public Mental Health and Wellbeing’ (2012)",
			links: 8, downloads: 2,
		}},
		{"cmh_blog_cookie", want{
			title: "A beacon for mental health equality", published: "2023-11-01T00:00:00Z", authors: []string{"Andy Bell"},
			canonical:  "https://www.centreformentalhealth.org.uk/beacon-mental-health-equality/",
			prov:       map[string]string{"title": LayerH1, "authors": LayerByline, "published": LayerVisibleDate, "summary": LayerBody, "body": "body"},
			bodyStarts: "Mental health inequalities are not inevitable.", summaryStarts: "Mental health inequalities are not inevitable.",
			links: 3, downloads: 1,
		}},
		{"kingsfund_press_release", want{
			title: "Our response to Norman Lamb's announcement on plans for integrated care", published: "2013-05-13T23:00:00Z",
			updated: "2023-09-04T23:00:00Z", typ: "website", authors: []string{"Chris Ham"},
			canonical:     "https://www.kingsfund.org.uk/insight-and-analysis/press-releases/our-response-norman-lambs-announcement-plans-integrated-care",
			tags:          []string{"Integrated care", "Social care"},
			breadcrumb:    []string{"Home", "Insight and analysis", "Press releases"},
			prov:          map[string]string{"title": LayerOpenGraph, "summary": LayerOpenGraph, "published": LayerVisibleDate, "authors": LayerByline, "tags": LayerTagLinks},
			bodyStarts:    "Press release Responding to Care and Support Minister Norman Lamb’s announcement",
			summaryStarts: "Norman Lamb's announcement signals a step change", links: 4, downloads: 2, outdated: true,
		}},
		{"national_voices_blog", want{
			title: "What is good supported self-management?", published: "2024-03-14T09:15:00Z", updated: "2024-07-02T15:40:00Z",
			typ: "article", authors: []string{"Charlotte Augst"},
			canonical:  "https://www.nationalvoices.org.uk/blogpost/what-good-supported-self-management/",
			tags:       []string{"Person-centred care", "Lived experience", "Integrated care"},
			breadcrumb: []string{"Home", "Blogs", "What is good supported self-management?"},
			prov:       map[string]string{"published": LayerOpenGraph, "updated": LayerOpenGraph, "title": LayerH1, "breadcrumb": LayerBreadcrumb},
			bodyStarts: "People living with long-term conditions", summaryStarts: "People living with long-term conditions", links: 2,
		}},
		{"broken", want{
			title: "Waiting times for mental health care", published: "2024-05-02T23:00:00Z", authors: []string{"Kadra Abdinasir", "Andy Bell"},
			prov:       map[string]string{"title": LayerOpenGraph, "summary": LayerMeta, "authors": LayerByline, "published": LayerVisibleDate},
			bodyStarts: "Too many people wait too long.", summaryStarts: "Long waits for mental health care", links: 1, downloads: 1,
		}},
		{"cp1252_converted", want{
			title: "Patients’ views on the £2.5bn “integrated care” pledge", published: "2019-10-07T23:00:00Z", authors: []string{"Renée O’Connor"},
			prov:       map[string]string{"title": LayerH1, "authors": LayerMeta, "published": LayerMeta, "summary": LayerMeta},
			bodyStarts: "The government’s £2.5bn pledge for “integrated care” is welcome – but", summaryStarts: "National Voices’ response: “integrated care”",
		}},
		{"malformed_jsonld", want{
			title: "Mental health and the cost of living crisis", published: "2022-10-19T23:00:00Z", typ: "BlogPosting",
			authors: []string{"Zoë Billingham"}, tags: []string{"Cost of living", "Poverty"}, doi: "10.1234/cmh.2022.17",
			prov:       map[string]string{"title": LayerOpenGraph, "authors": LayerJSONLD, "published": LayerJSONLD, "doi": LayerCitation, "body": "itemprop=articleBody"},
			bodyStarts: "Money worries and mental health problems feed each other:", summaryStarts: "Money worries", downloads: 1, warnings: 1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := extractFixture(t, tt.file)
			w := tt.want
			check := func(field, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			check("title", m.Title, w.title)
			check("published", timeString(m.Published), w.published)
			check("updated", timeString(m.Updated), w.updated)
			check("canonical", m.Canonical, w.canonical)
			check("type", m.Type, w.typ)
			check("doi", m.DOI, w.doi)
			check("authors", strings.Join(m.Authors, "; "), strings.Join(w.authors, "; "))
			check("tags", strings.Join(m.Tags, "; "), strings.Join(w.tags, "; "))
			check("breadcrumb", strings.Join(m.Breadcrumb, " › "), strings.Join(w.breadcrumb, " › "))
			for f, l := range w.prov {
				check("provenance["+f+"]", m.Provenance[f], l)
			}
			if !strings.HasPrefix(m.Body, w.bodyStarts) {
				t.Errorf("body starts %.120q, want %q", m.Body, w.bodyStarts)
			}
			if !strings.HasPrefix(m.Summary, w.summaryStarts) {
				t.Errorf("summary starts %.120q, want %q", m.Summary, w.summaryStarts)
			}
			if len(m.Links) != w.links || len(m.Downloads) != w.downloads || m.Outdated != w.outdated || len(m.Warnings) != w.warnings {
				t.Errorf("links %d, downloads %d, outdated %v, warnings %d; want %d, %d, %v, %d",
					len(m.Links), len(m.Downloads), m.Outdated, len(m.Warnings), w.links, w.downloads, w.outdated, w.warnings)
			}
		})
	}
}

func timeString(t *time.Time) string {
	if t == nil {
		return ""
	}
	if t.Location() != time.UTC {
		return "not UTC: " + t.String()
	}
	return t.Format(time.RFC3339)
}

// boilerplateRE is text that must never reach a summary or a body.
var boilerplateRE = regexp.MustCompile(`(?i)cookie|consent|always active|accept all|reject all|skip to|main navigation|more than five years old|share this|recent posts|registered charity|privacy`)

func TestExtractNoBoilerplate(t *testing.T) {
	for _, c := range itemCases {
		t.Run(c.file, func(t *testing.T) {
			m := extractFixture(t, c.file)
			for field, s := range map[string]string{"summary": m.Summary, "body": m.Body, "title": m.Title} {
				if loc := boilerplateRE.FindStringIndex(s); loc != nil {
					t.Errorf("%s holds boilerplate %q: …%s…", field, s[loc[0]:loc[1]], s[max(0, loc[0]-60):min(len(s), loc[1]+60)])
				}
				if !utf8.ValidString(s) {
					t.Errorf("%s is not valid UTF-8", field)
				}
			}
			if m.Summary != "" && utf8.RuneCountInString(m.Summary) > SummaryMax {
				t.Errorf("summary of %d runes", utf8.RuneCountInString(m.Summary))
			}
			for _, l := range append(append([]string{}, m.Links...), m.Canonical) {
				if l != "" && !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
					t.Errorf("link %q is not absolute http(s)", l)
				}
			}
		})
	}
}

func TestExtractCases(t *testing.T) {
	const pageURL = "https://www.example.org/blog/post/"
	tests := []struct {
		name  string
		html  string
		check func(t *testing.T, m Meta)
	}{
		{"unclosed title", "<html><head><title>Waiting lists | The King's Fund\n<meta name=x content=y>" + strings.Repeat("<p>swallowed text</p>", 30),
			func(t *testing.T, m Meta) {
				if m.Title != "Waiting lists" || m.Provenance["title"] != LayerTitleTag {
					t.Errorf("title %q from %q", m.Title, m.Provenance["title"])
				}
			}},
		{"empty input", "", func(t *testing.T, m Meta) {
			if m.Title != "" || m.Body != "" || m.Authors == nil || m.Tags == nil || m.Links == nil || m.Downloads == nil || m.Provenance == nil {
				t.Errorf("%+v", m)
			}
		}},
		{"json-ld author as @id reference, array and string", `<script type="application/ld+json">{"@graph":[
			{"@type":"NewsArticle","headline":"H","author":[{"@id":"#a"},{"@type":"Person","name":"B Person"},"C Person",{"@id":"#missing"}]},
			{"@type":"Person","@id":"#a","name":"A Person"}]}</script>`,
			func(t *testing.T, m Meta) {
				if got := strings.Join(m.Authors, "; "); got != "A Person; B Person; C Person" {
					t.Errorf("authors %q", got)
				}
				if m.Type != "NewsArticle" {
					t.Errorf("type %q", m.Type)
				}
			}},
		{"json-ld types: Report first, WebPage second, schema.org URL types", `<script type="application/ld+json">[
			{"@type":"WebPage","name":"Page name | Example","datePublished":"2020-01-01","description":"Page description."},
			{"@type":"http://schema.org/Report","name":"Report name","author":"Org Author","identifier":{"@type":"PropertyValue","propertyID":"doi","value":"https://doi.org/10.5555/ABC.1"}}]</script>`,
			func(t *testing.T, m Meta) {
				if m.Title != "Report name" || m.Type != "Report" || m.Summary != "Page description." || timeString(m.Published) != "2020-01-01T00:00:00Z" || m.DOI != "10.5555/abc.1" {
					t.Errorf("%+v", m)
				}
			}},
		{"json-ld with other types only is ignored", `<script type="application/ld+json">{"@type":"Organization","name":"Example Trust"}</script><title>Real title | Example Trust</title>`,
			func(t *testing.T, m Meta) {
				if m.Title != "Real title" || m.Provenance["title"] != LayerTitleTag {
					t.Errorf("title %q from %q", m.Title, m.Provenance["title"])
				}
			}},
		{"all json-ld malformed", `<script type="application/ld+json">{"@type":"Article",</script><script type="application/ld+json">not json</script><meta property="og:title" content="OG">`,
			func(t *testing.T, m Meta) {
				if m.Title != "OG" || len(m.Warnings) != 2 {
					t.Errorf("title %q, warnings %q", m.Title, m.Warnings)
				}
			}},
		{"twitter written-by", `<meta name="twitter:label1" content="Est. reading time"><meta name="twitter:data1" content="4 minutes"><meta name="twitter:label2" content="Written by"><meta name="twitter:data2" content="Andy Bell">`,
			func(t *testing.T, m Meta) {
				if strings.Join(m.Authors, ";") != "Andy Bell" || m.Provenance["authors"] != LayerTwitter {
					t.Errorf("authors %q from %q", m.Authors, m.Provenance["authors"])
				}
			}},
		{"og article:author URL is not a name", `<meta property="article:author" content="https://www.facebook.com/someone"><meta name="author" content="Jane Doe">`,
			func(t *testing.T, m Meta) {
				if strings.Join(m.Authors, ";") != "Jane Doe" || m.Provenance["authors"] != LayerMeta {
					t.Errorf("authors %q from %q", m.Authors, m.Provenance["authors"])
				}
			}},
		{"citation layer", `<meta name="citation_title" content="Cited title"><meta name="citation_author" content="Smith, Jane"><meta name="citation_author" content="Jones, Ali"><meta name="citation_publication_date" content="2012/03/01"><meta name="citation_pdf_url" content="https://www.example.org/paper.pdf">`,
			func(t *testing.T, m Meta) {
				if m.Title != "Cited title" || strings.Join(m.Authors, "; ") != "Smith, Jane; Jones, Ali" || timeString(m.Published) != "2012-03-01T00:00:00Z" ||
					len(m.Downloads) != 1 || m.Downloads[0].Title != "Cited title" || m.Provenance["published"] != LayerCitation {
					t.Errorf("%+v", m)
				}
			}},
		{"time element, updated class", `<article><h1>T</h1><time class="updated" datetime="2024-02-02">2 Feb</time><time datetime="2024-01-01T10:00:00Z">1 Jan</time><p>Text.</p></article>`,
			func(t *testing.T, m Meta) {
				if timeString(m.Published) != "2024-01-01T10:00:00Z" || timeString(m.Updated) != "2024-02-02T00:00:00Z" || m.Provenance["published"] != LayerTime {
					t.Errorf("published %v updated %v", m.Published, m.Updated)
				}
			}},
		{"visible date 1st November", `<main><h1>T</h1><p class="meta">Posted on 1st November 2023</p><p>Body text.</p></main>`,
			func(t *testing.T, m Meta) {
				if timeString(m.Published) != "2023-11-01T00:00:00Z" || m.Body != "Body text." {
					t.Errorf("published %v, body %q", m.Published, m.Body)
				}
			}},
		{"byline with role stops at the role", `<article><h1>T</h1><p>By Sarah Hughes, Chief Executive</p><p>Text.</p></article>`,
			func(t *testing.T, m Meta) {
				if strings.Join(m.Authors, ";") != "Sarah Hughes" || m.Body != "Text." {
					t.Errorf("authors %q, body %q", m.Authors, m.Body)
				}
			}},
		{"a paragraph starting 'By 2030' is not a byline", `<article><h1>T</h1><p>By 2030, the NHS will need more staff.</p></article>`,
			func(t *testing.T, m Meta) {
				if len(m.Authors) != 0 || m.Body != "By 2030, the NHS will need more staff." {
					t.Errorf("authors %q, body %q", m.Authors, m.Body)
				}
			}},
		{"site name alone as author stays", `<meta name="author" content="Centre for Mental Health">`,
			func(t *testing.T, m Meta) {
				if strings.Join(m.Authors, ";") != "Centre for Mental Health" {
					t.Errorf("authors %q", m.Authors)
				}
			}},
		{"no page URL: relative links dropped", `<article><p>See <a href="/x">x</a> and <a href="https://a.example/y">y</a>.</p></article>`,
			func(t *testing.T, m Meta) {
				if strings.Join(m.Links, " ") != "https://a.example/y" {
					t.Errorf("links %q", m.Links)
				}
			}},
		{"longest article wins over related-post cards", `<main><article><h2>Related</h2><p>Short card.</p></article><article><h1>Main</h1><p>` + strings.Repeat("Long article text. ", 20) + `</p></article></main>`,
			func(t *testing.T, m Meta) {
				if !strings.HasPrefix(m.Body, "Long article text.") || m.Title != "Main" {
					t.Errorf("title %q, body %.60q", m.Title, m.Body)
				}
			}},
		{"cookie dialog by role", `<div role="dialog" aria-label="x"><p>This website uses cookies.</p><button>OK</button></div><main><h1>T</h1><p>Real text.</p></main>`,
			func(t *testing.T, m Meta) {
				if m.Body != "Real text." || m.Summary != "Real text." {
					t.Errorf("body %q summary %q", m.Body, m.Summary)
				}
			}},
		{"cookie text in description is not a summary", `<meta name="description" content="We use cookies to improve your experience."><main><p>Real text.</p></main>`,
			func(t *testing.T, m Meta) {
				if m.Summary != "Real text." || m.Provenance["summary"] != LayerBody {
					t.Errorf("summary %q from %q", m.Summary, m.Provenance["summary"])
				}
			}},
		{"long description cut on a sentence", `<meta name="description" content="` + strings.Repeat("A sentence of some length here. ", 60) + `">`,
			func(t *testing.T, m Meta) {
				if n := utf8.RuneCountInString(m.Summary); n > SummaryMax || !strings.HasSuffix(m.Summary, "here.") {
					t.Errorf("summary of %d runes ending %q", n, m.Summary[max(0, len(m.Summary)-20):])
				}
			}},
		{"downloads: .pdf anywhere, documents under upload dirs, not images", `<main>
			<a href="/files/a.PDF?v=2">A</a><a href="/wp-content/uploads/2020/10/b.docx">B</a><a href="/wp-content/uploads/2020/10/c.jpg">C</a>
			<a href="/other/d.docx">D</a><a href="/x" type="application/pdf"></a><a href="/sites/default/files/e.xlsx" title="E data"></a></main>`,
			func(t *testing.T, m Meta) {
				var got []string
				for _, d := range m.Downloads {
					got = append(got, d.FileType+":"+d.Title)
				}
				if strings.Join(got, ",") != "PDF:A,DOCX:B,PDF:,XLSX:E data" {
					t.Errorf("downloads %q", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u *url.URL
			if !strings.HasPrefix(tt.name, "no page URL") {
				u = mustURL(t, pageURL)
			}
			m, err := Extract(strings.NewReader(tt.html), u)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestCleanTitle(t *testing.T) {
	c := newTitleCleaner(append(DefaultSiteNames(), "Example Trust"), mustURL(t, "https://www.nationalvoices.org.uk/x"))
	tests := []struct{ in, want string }{
		{"Waiting lists | The King's Fund", "Waiting lists"},
		{"Waiting lists | The King’s Fund", "Waiting lists"},
		{"A beacon for equality - Centre for Mental Health", "A beacon for equality"},
		{"Recovery colleges | National Elf Service", "Recovery colleges"},
		{"What is good supported self-management? – National Voices", "What is good supported self-management?"},
		{"Person-centred care in 2020 - nationalvoices.org.uk", "Person-centred care in 2020"},
		{"Title | Blogs | The King's Fund", "Title"},
		{"Title | Example Trust", "Title"},
		{"Title | Some Other Site", "Title"},                                         // generic rule: a pipe then a site-like name
		{"Mental health | a guide for carers", "Mental health | a guide for carers"}, // not a site name
		{"Recovery - Public Mental Health and Wellbeing", "Recovery - Public Mental Health and Wellbeing"},
		{"Covid-19 - the story so far", "Covid-19 - the story so far"},
		{"Long waits – Health Foundation", "Long waits"}, // dash + organisation word
		{"Long waits – Winter Pressures", "Long waits – Winter Pressures"},
		{"The King's Fund", ""},
		{"National Voices", ""},
		{"  Spaces   and\ttabs  ", "Spaces and tabs"},
		{"| Only a suffix", "| Only a suffix"},
	}
	for _, tt := range tests {
		if got := c.clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsChallenge(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"cloudflare just a moment", `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>`, true},
		{"ellipsis character", `<title>Just a moment…</title>`, true},
		{"attention required", `<title>Attention Required! | Cloudflare</title>`, true},
		{"cf script marker only", `<html><head><title>x</title></head><body><script>window._cf_chl_opt={cvId:'3'}</script></body></html>`, true},
		{"cloudflare block page", `<title>Access denied | www.kingsfund.org.uk used Cloudflare to restrict access</title><div id="cf-error-details">`, true},
		{"article quoting the phrase", `<title>Waiting lists | The King's Fund</title><p>Just a moment... said nobody in A&amp;E.</p>`, false},
		{"ordinary page with the jsd beacon", `<title>News</title><script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsChallenge([]byte(tt.body)); got != tt.want {
				t.Errorf("IsChallenge = %v, want %v", got, tt.want)
			}
		})
	}
	_, err := Extract(strings.NewReader(tests[0].body), nil)
	if !errors.Is(err, ErrChallenge) || !strings.Contains(err.Error(), "Just a moment...") {
		t.Errorf("Extract error %v, want ErrChallenge naming the title", err)
	}
}

func TestExtractLargePage(t *testing.T) {
	// The caps at test scale: a 64 KiB page cap, a 16 KiB body cap.
	o := Options{maxPage: 64 << 10, maxBody: 16 << 10}
	var b strings.Builder
	b.WriteString(`<html><head><meta property="og:title" content="Big"></head><body><main>`)
	for b.Len() <= 3*int(o.maxPage) {
		b.WriteString("<p>Padding text that goes on and on.</p>\n")
	}
	b.WriteString(`</main></body></html>`)
	m, err := o.Extract(strings.NewReader(b.String()), mustURL(t, "https://www.example.org/big"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Title != "Big" || len(m.Warnings) != 2 || !strings.Contains(m.Warnings[0], "larger than 65536 bytes") || !strings.Contains(m.Warnings[1], "body text longer than 16384 bytes") {
		t.Errorf("title %q, warnings %q", m.Title, m.Warnings)
	}
	lastWord := m.Body[strings.LastIndexByte(m.Body, ' ')+1:]
	if len(m.Body) > o.maxBody || len(m.Body) < o.maxBody/2 || !strings.Contains(" Padding text that goes on and on. ", " "+lastWord+" ") {
		t.Errorf("body of %d bytes ending %q", len(m.Body), m.Body[max(0, len(m.Body)-20):])
	}
	if !strings.HasPrefix(m.Summary, "Padding text") || utf8.RuneCountInString(m.Summary) > SummaryFromBody {
		t.Errorf("summary %.80q", m.Summary)
	}
}

func TestExtractSiteNamesOption(t *testing.T) {
	page := `<title>Some report - Health Watchers</title>`
	m, _ := Extract(strings.NewReader(page), nil)
	if m.Title != "Some report - Health Watchers" {
		t.Errorf("default: %q", m.Title)
	}
	m, _ = Options{SiteNames: []string{"Health Watchers"}}.Extract(strings.NewReader(page), nil)
	if m.Title != "Some report" {
		t.Errorf("with SiteNames: %q", m.Title)
	}
}
