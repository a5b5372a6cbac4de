package page

import (
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/evidencetracker/evidence/ingest/text"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// Layers: the provenance values Extract records, in the order they are
// tried (canonical is the exception: rel=canonical, then og:url, then
// JSON-LD url — see Extract).
const (
	LayerJSONLD      = "json-ld"      // <script type="application/ld+json">, @graph included
	LayerOpenGraph   = "og"           // og:*, article:*
	LayerTwitter     = "twitter"      // twitter:*, Yoast's twitter:label1/data1 author
	LayerMeta        = "meta"         // meta name=author|description|keywords|date…, link rel=canonical
	LayerCitation    = "citation"     // citation_* (Highwire/Google Scholar)
	LayerTime        = "time"         // <time datetime>, itemprop=datePublished|dateModified
	LayerVisibleDate = "visible-date" // "1 November 2023" in page text
	LayerByline      = "byline"       // "By <Name>", rel=author links
	LayerTagLinks    = "tag-links"    // <a rel="tag">, links in a tags/topics/themes list
	LayerBreadcrumb  = "breadcrumb"   // a breadcrumb trail in the page
	LayerH1          = "h1"           // the page's <h1>
	LayerTitleTag    = "title-tag"    // <title>
	LayerBody        = "body"         // the summary cut from the body text
)

// MaxBodyBytes caps Meta.Body (a 100-page report is about 0.5 MiB of
// text); longer text is cut at a word boundary with a warning.
const MaxBodyBytes = 1 << 20

// cutBytes returns at most n bytes of s, not splitting a UTF-8 sequence.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Summary lengths, in runes.
const (
	// SummaryMax caps a summary taken from a description.
	SummaryMax = 1000
	// SummaryFromBody is the length of a summary cut from the body when
	// the page gives no description.
	SummaryFromBody = 400
)

// Meta is what an item page says about itself.
type Meta struct {
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// Published and Updated are UTC; a date without a time zone is read
	// as Europe/London. nil when the page gives none.
	Published *time.Time `json:"published"`
	Updated   *time.Time `json:"updated,omitempty"`
	Authors   []string   `json:"authors"`
	// Canonical is the page's canonical URL, absolute, as given (not
	// normalised and not checked to be on the same site).
	Canonical string `json:"canonical,omitempty"`
	// Type is a hint: the JSON-LD @type ("BlogPosting", "Report") or
	// og:type ("article").
	Type string `json:"type,omitempty"`
	// Tags are the publisher's keywords/tags/sections, as given.
	Tags []string `json:"tags"`
	// Breadcrumb is the page's trail ("Home", "Blogs", "…"), if shown.
	Breadcrumb []string `json:"breadcrumb,omitempty"`
	// Body is the plain text of the main content: no navigation, headers,
	// footers, sidebars, bylines, share buttons or cookie banners.
	Body string `json:"body"`
	// Links are the absolute http(s) links in the main content, in
	// document order, each once; the page's own URL is left out.
	Links []string `json:"links"`
	// Downloads are the documents the page offers (PDFs and office files,
	// citation_pdf_url), each once.
	Downloads []Download `json:"downloads"`
	// DOI is the page's own DOI (JSON-LD, citation_doi, dc.identifier),
	// lower-cased; never one merely linked from the body.
	DOI string `json:"doi,omitempty"`
	// Outdated: the page warns that its content is old ("This content is
	// more than five years old"). The notice is kept out of Body.
	Outdated bool `json:"outdated,omitempty"`
	// Provenance maps each field found ("title", "summary", "published",
	// "updated", "authors", "canonical", "type", "tags", "breadcrumb",
	// "doi") to the layer that gave it, and "body" to the element the
	// body was read from ("itemprop=articleBody", "entry-content",
	// "article", "main", "body").
	Provenance map[string]string `json:"provenance"`
	// Warnings say what was skipped (malformed JSON-LD, a page cut at
	// MaxPageBytes).
	Warnings []string `json:"warnings,omitempty"`
}

// Download is a document linked from a page.
type Download struct {
	URL string `json:"url"`
	// Title is the anchor text.
	Title string `json:"title"`
	// FileType is the upper-case extension or type: "PDF", "DOCX", "XLSX".
	FileType string `json:"file_type"`
}

// Options tune Extract. The zero value is ready to use.
type Options struct {
	// SiteNames are removed from the end of titles, in addition to
	// DefaultSiteNames and the names the page gives itself.
	SiteNames []string

	// maxPage and maxBody override MaxPageBytes and MaxBodyBytes (tests).
	maxPage int64
	maxBody int
}

// Extract reads an item page's metadata with default Options.
func Extract(r io.Reader, pageURL *url.URL) (Meta, error) {
	return Options{}.Extract(r, pageURL)
}

// Extract reads an item page and returns its metadata, each field from the
// first layer that has it, in this order: JSON-LD (Article, BlogPosting,
// NewsArticle, Report, ScholarlyArticle, then WebPage nodes, @graph
// included, @id references resolved) → OpenGraph/article:* → Twitter tags
// → meta name=author|description|keywords|date → citation_* → <time
// datetime> → dates written out ("1 November 2023") → "By <Name>" bylines
// → <h1> → <title>. The canonical URL is the exception: link
// rel=canonical, then og:url, then the JSON-LD url. Titles lose a
// site-name suffix (" | The King's Fund"). Summaries are cut on a sentence
// boundary; without a description the body's first sentences are used.
// Cookie banners, navigation, headers, footers and sidebars never reach
// Summary or Body.
//
// pageURL resolves relative links (a <base href> overrides it); it may be
// nil, and then relative links are dropped. Malformed JSON-LD is skipped
// with a warning. A bot-challenge page is an error wrapping ErrChallenge.
func (o Options) Extract(r io.Reader, pageURL *url.URL) (Meta, error) {
	maxPage := int64(MaxPageBytes)
	if o.maxPage > 0 {
		maxPage = o.maxPage
	}
	data, cut, err := readCapped(r, maxPage)
	if err != nil {
		return Meta{}, fmt.Errorf("page: extract: read: %w", err)
	}
	if IsChallenge(data) {
		return Meta{}, challengeError("extract", data)
	}
	root, err := parseHTML(data)
	if err != nil {
		return Meta{}, fmt.Errorf("page: extract: %w", err)
	}
	x := newExtraction(root, pageURL, o)
	x.maxBody = MaxBodyBytes
	if o.maxBody > 0 {
		x.maxBody = o.maxBody
	}
	if cut {
		x.m.Warnings = append(x.m.Warnings, fmt.Sprintf("page larger than %s: the rest was ignored", sizeString(maxPage)))
	}
	x.run()
	return x.m, nil
}

// extraction is the state of one Extract call.
type extraction struct {
	opts    Options
	root    *html.Node
	doc     *goquery.Document
	page    *url.URL // as given
	base    *url.URL // <base href> or page
	metas   map[string][]string
	ld      ldData
	titles  titleCleaner
	self    map[string]bool // dedupe keys of the page's own URLs
	m       Meta
	h1s     []*html.Node
	scope   *html.Node // the article (or main, or body)
	content *html.Node // the most specific main-content element
	maxBody int        // cap on Meta.Body, in bytes
}

func newExtraction(root *html.Node, pageURL *url.URL, o Options) *extraction {
	x := &extraction{
		opts:  o,
		root:  root,
		doc:   goquery.NewDocumentFromNode(root),
		page:  pageURL,
		metas: map[string][]string{},
		self:  map[string]bool{},
		m: Meta{
			Authors: []string{}, Tags: []string{}, Links: []string{},
			Downloads: []Download{}, Provenance: map[string]string{},
		},
	}
	x.base = documentBase(root, pageURL)
	if pageURL != nil {
		x.self[dedupeKey(pageURL)] = true
	}
	return x
}

func (x *extraction) run() {
	x.readHead()
	x.title()
	x.canonical()
	x.removeBanners()
	x.m.Outdated = x.removeNotices(x.root)
	x.breadcrumb()
	x.h1s = x.headings()
	x.removeChrome()
	x.downloads()
	x.removeAsides()
	x.chooseContent()

	x.summaryFromMeta()
	x.dates()
	x.authors()
	x.typeHint()
	x.tags()
	x.doi()
	x.titleFromPage()
	x.body()
	if x.m.Summary == "" && x.m.Body != "" {
		// Summarize re-reads all it is given: give it the start only.
		x.m.Summary = text.Summarize(cutBytes(x.m.Body, 16*SummaryFromBody), SummaryFromBody)
		x.m.Provenance["summary"] = LayerBody
	}
}

// readHead collects meta tags, JSON-LD blocks and the site's names.
func (x *extraction) readHead() {
	x.doc.Find("meta").Each(func(_ int, s *goquery.Selection) {
		n := s.Get(0)
		content, ok := s.Attr("content")
		if !ok {
			return
		}
		content = strings.TrimSpace(content)
		if content == "" {
			return
		}
		for _, k := range []string{"property", "name", "itemprop"} {
			if key := strings.ToLower(strings.TrimSpace(attr(n, k))); key != "" {
				x.metas[key] = append(x.metas[key], content)
			}
		}
	})
	var blocks []string
	x.doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		t, _ := s.Attr("type")
		if strings.Contains(strings.ToLower(t), "ld+json") {
			blocks = append(blocks, s.Text())
		}
	})
	x.ld = parseJSONLD(blocks)
	x.m.Warnings = append(x.m.Warnings, x.ld.warnings...)

	names := DefaultSiteNames()
	names = append(names, x.opts.SiteNames...)
	names = append(names, x.metas["og:site_name"]...)
	names = append(names, x.metas["application-name"]...)
	names = append(names, x.ld.siteNames...)
	x.titles = newTitleCleaner(names, x.page)
}

// meta returns the first value of the first of keys present.
func (x *extraction) meta(keys ...string) string {
	for _, k := range keys {
		for _, v := range x.metas[k] {
			if v != "" {
				return v
			}
		}
	}
	return ""
}

// metaAll returns every value of keys, in key order.
func (x *extraction) metaAll(keys ...string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, x.metas[k]...)
	}
	return out
}

// set records a string field from the first layer with a value.
func (x *extraction) set(field string, dst *string, layers ...layered) {
	for _, l := range layers {
		if v := l.get(); v != "" {
			*dst = v
			x.m.Provenance[field] = l.layer
			return
		}
	}
}

type layered struct {
	layer string
	get   func() string
}

func (x *extraction) title() {
	clean := x.titles.clean
	x.set("title", &x.m.Title,
		layered{LayerJSONLD, func() string {
			return x.ld.first(func(n ldNode) string {
				if t := clean(text.PlainText(ldString(n["headline"]))); t != "" {
					return t
				}
				return clean(text.PlainText(ldString(n["name"])))
			})
		}},
		layered{LayerOpenGraph, func() string { return clean(decode(x.meta("og:title"))) }},
		layered{LayerTwitter, func() string { return clean(decode(x.meta("twitter:title"))) }},
		layered{LayerMeta, func() string { return clean(decode(x.meta("title", "dc.title", "dcterms.title"))) }},
		layered{LayerCitation, func() string { return clean(decode(x.meta("citation_title"))) }},
	)
}

// titleFromPage falls back on the page's <h1> and <title>.
func (x *extraction) titleFromPage() {
	if x.m.Title != "" {
		return
	}
	x.set("title", &x.m.Title,
		layered{LayerH1, func() string {
			for _, h := range x.h1s {
				// ownText: an unclosed <h1> swallows the paragraphs after it.
				if t := x.titles.clean(ownText(h)); t != "" {
					return t
				}
			}
			return ""
		}},
		layered{LayerTitleTag, func() string {
			t := firstElement(x.root, isAtom(atom.Title))
			if t == nil {
				return ""
			}
			s := nodeTextAll(t)
			// An unclosed <title> swallows the rest of the page (as in a
			// browser): keep what comes before the first tag.
			if i := strings.Index(s, "<"); i >= 0 && len(s) > 300 {
				s = s[:i]
			}
			return x.titles.clean(s)
		}},
	)
}

// nodeTextAll is the text of an element's text children (for <title>,
// which nodeText skips).
func nodeTextAll(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return text.Collapse(b.String())
}

// decode turns a metadata value that may hold entities or markup into
// plain text. Without '&' or '<' it is text.Collapse, not text.PlainText:
// the two differ only on invalid UTF-8 (Collapse makes each bad byte a
// U+FFFD, PlainText each run of them), and page output keeps Collapse's.
func decode(s string) string {
	if strings.ContainsAny(s, "&<") {
		return text.PlainText(s)
	}
	return text.Collapse(s)
}

func (x *extraction) canonical() {
	x.set("canonical", &x.m.Canonical,
		layered{LayerMeta, func() string {
			var out string
			x.doc.Find("link[rel][href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
				if n := s.Get(0); relHas(n, "canonical") {
					out = resolveURL(attr(n, "href"), x.base)
					return out == ""
				}
				return true
			})
			return out
		}},
		layered{LayerOpenGraph, func() string { return resolveURL(x.meta("og:url"), x.base) }},
		layered{LayerJSONLD, func() string {
			return x.ld.first(func(n ldNode) string {
				if u := resolveURL(urlOf(n["url"]), x.base); u != "" {
					return u
				}
				return resolveURL(urlOf(n["mainEntityOfPage"]), x.base)
			})
		}},
	)
	if x.m.Canonical != "" {
		if u := resolve(x.m.Canonical, nil); u != nil && (x.page == nil || sameSite(u, x.page)) {
			x.self[dedupeKey(u)] = true
		}
	}
}

func (x *extraction) summaryFromMeta() {
	clean := func(s string) string {
		s = decode(s)
		if s == "" || cookieish(s) && strings.Contains(strings.ToLower(s), "cookie") {
			return ""
		}
		return text.Summarize(s, SummaryMax)
	}
	x.set("summary", &x.m.Summary,
		layered{LayerJSONLD, func() string {
			return x.ld.first(func(n ldNode) string { return clean(ldString(n["description"])) })
		}},
		layered{LayerOpenGraph, func() string { return clean(x.meta("og:description")) }},
		layered{LayerTwitter, func() string { return clean(x.meta("twitter:description")) }},
		layered{LayerMeta, func() string { return clean(x.meta("description", "dc.description", "dcterms.description")) }},
		layered{LayerCitation, func() string { return clean(x.meta("citation_abstract")) }},
	)
}

// dateLayer is a date source.
type dateLayer struct {
	layer string
	get   func() *time.Time
}

func (x *extraction) setDate(field string, dst **time.Time, layers ...dateLayer) {
	for _, l := range layers {
		if t := l.get(); t != nil {
			*dst = t
			x.m.Provenance[field] = l.layer
			return
		}
	}
}

// firstDate returns the first readable date among values.
func firstDate(values ...string) *time.Time {
	for _, v := range values {
		if t, ok := ParseDate(v); ok {
			return &t
		}
	}
	return nil
}

func (x *extraction) dates() {
	var visPub, visUpd *time.Time
	visDone := false
	visible := func() {
		if visDone {
			return
		}
		visDone = true
		visPub, visUpd = x.visibleDates()
	}
	x.setDate("published", &x.m.Published,
		dateLayer{LayerJSONLD, func() *time.Time {
			for _, n := range x.ld.nodes() {
				if t := firstDate(ldStrings(n["datePublished"])...); t != nil {
					return t
				}
			}
			return nil
		}},
		dateLayer{LayerOpenGraph, func() *time.Time {
			return firstDate(x.metaAll("article:published_time", "og:article:published_time", "og:published_time")...)
		}},
		dateLayer{LayerMeta, func() *time.Time {
			return firstDate(x.metaAll("date", "pubdate", "publish_date", "publish-date", "publication_date",
				"dc.date", "dc.date.issued", "dcterms.issued", "dcterms.date", "dcterms.created",
				"sailthru.date", "parsely-pub-date")...)
		}},
		dateLayer{LayerCitation, func() *time.Time {
			return firstDate(x.metaAll("citation_publication_date", "citation_date", "citation_online_date")...)
		}},
		dateLayer{LayerTime, func() *time.Time { return x.timeElement(false) }},
		dateLayer{LayerVisibleDate, func() *time.Time { visible(); return visPub }},
	)
	x.setDate("updated", &x.m.Updated,
		dateLayer{LayerJSONLD, func() *time.Time {
			for _, n := range x.ld.nodes() {
				if t := firstDate(ldStrings(n["dateModified"])...); t != nil {
					return t
				}
			}
			return nil
		}},
		dateLayer{LayerOpenGraph, func() *time.Time {
			return firstDate(x.metaAll("article:modified_time", "og:article:modified_time", "og:updated_time")...)
		}},
		dateLayer{LayerMeta, func() *time.Time {
			return firstDate(x.metaAll("last-modified", "dcterms.modified", "dc.date.modified", "revised")...)
		}},
		dateLayer{LayerTime, func() *time.Time { return x.timeElement(true) }},
		dateLayer{LayerVisibleDate, func() *time.Time { visible(); return visUpd }},
	)
}

// timeElement reads itemprop=datePublished|dateModified, then <time>
// elements (class "updated"/"modified" ones for modification), in the
// article first, then in the rest of the page.
func (x *extraction) timeElement(modified bool) *time.Time {
	prop := "datepublished"
	if modified {
		prop = "datemodified"
	}
	for _, v := range x.metas[prop] {
		if t := firstDate(v); t != nil {
			return t
		}
	}
	for _, scope := range []*html.Node{x.scope, x.root} {
		var found *time.Time
		walk(scope, func(n *html.Node) bool {
			if found != nil {
				return false
			}
			if n.Type != html.ElementNode {
				return true
			}
			switch ip := strings.ToLower(attr(n, "itemprop")); {
			case ip == "datepublished" || ip == "datemodified":
				if ip != prop {
					return true
				}
			case n.DataAtom == atom.Time:
				if classContains(n, "updated", "modified") != modified {
					return true
				}
			default:
				return true
			}
			v := attr(n, "datetime")
			if v == "" {
				v = attr(n, "content")
			}
			if v == "" {
				v = nodeText(n, 128)
			}
			found = firstDate(v)
			return found == nil
		})
		if found != nil {
			return found
		}
	}
	return nil
}

// visibleDates looks for dates written out: in date-like elements, then
// in the article's text, then in the page's.
func (x *extraction) visibleDates() (pub, upd *time.Time) {
	var b strings.Builder
	for _, n := range elements(x.root, true, func(n *html.Node) bool {
		return classContains(n, "date", "posted", "published", "byline", "meta", "updated")
	}) {
		b.WriteString(nodeText(n, 512))
		b.WriteString(" · ")
	}
	for _, s := range []string{b.String(), nodeText(x.scope, 16<<10), nodeText(x.root, 64<<10)} {
		p, u := visibleDates(s)
		if pub == nil {
			pub = p
		}
		if upd == nil {
			upd = u
		}
		if pub != nil {
			break
		}
	}
	return pub, upd
}

func (x *extraction) typeHint() {
	x.set("type", &x.m.Type,
		layered{LayerJSONLD, func() string {
			for _, n := range x.ld.nodes() {
				if t := ldTypeName(n); t != "" {
					return t
				}
			}
			return ""
		}},
		layered{LayerOpenGraph, func() string { return x.meta("og:type") }},
	)
}

func (x *extraction) tags() {
	layers := []struct {
		layer string
		get   func() []string
	}{
		{LayerJSONLD, func() []string {
			for _, n := range x.ld.articles {
				var t []string
				for _, k := range ldStrings(n["keywords"]) {
					t = append(t, strings.Split(k, ",")...)
				}
				if t = cleanTags(t); len(t) > 0 {
					return t
				}
				if t = cleanTags(ldStrings(n["articleSection"])); len(t) > 0 {
					return t
				}
			}
			return nil
		}},
		{LayerOpenGraph, func() []string { return cleanTags(x.metaAll("article:tag", "og:article:tag", "article:section")) }},
		{LayerMeta, func() []string {
			var t []string
			for _, v := range x.metaAll("keywords", "news_keywords") {
				t = append(t, strings.Split(v, ",")...)
			}
			return cleanTags(t)
		}},
		{LayerCitation, func() []string {
			var t []string
			for _, v := range x.metaAll("citation_keywords") {
				t = append(t, strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' })...)
			}
			return cleanTags(t)
		}},
		{LayerTagLinks, func() []string {
			var t []string
			for _, a := range elements(x.root, true, func(n *html.Node) bool {
				return n.DataAtom == atom.A && (relHas(n, "tag") || ancestor(n, func(p *html.Node) bool {
					return classContains(p, "tags", "topics", "themes", "tag-list", "topic-list", "theme-list")
				}) != nil)
			}) {
				t = append(t, nodeText(a, 256))
			}
			return cleanTags(t)
		}},
	}
	for _, l := range layers {
		if t := l.get(); len(t) > 0 {
			x.m.Tags = t
			x.m.Provenance["tags"] = l.layer
			return
		}
	}
}

func cleanTags(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range in {
		t = decode(t)
		l := strings.ToLower(t)
		if t == "" || utf8.RuneCountInString(t) > 100 || seen[l] {
			continue
		}
		seen[l] = true
		out = append(out, t)
		if len(out) == 100 {
			break
		}
	}
	return out
}

func (x *extraction) doi() {
	x.set("doi", &x.m.DOI,
		layered{LayerJSONLD, func() string {
			for _, n := range x.ld.articles {
				var vals []string
				if id, ok := n["identifier"].(map[string]any); ok {
					vals = append(vals, ldString(id["value"]))
				}
				if ids, ok := n["identifier"].([]any); ok {
					for _, e := range ids {
						if m, ok := e.(map[string]any); ok {
							vals = append(vals, ldString(m["value"]))
						}
					}
				}
				vals = append(vals, ldStrings(n["identifier"])...)
				vals = append(vals, ldStrings(n["sameAs"])...)
				vals = append(vals, ldString(n["doi"]))
				for _, v := range vals {
					if d := doiOf(v); d != "" {
						return d
					}
				}
			}
			return ""
		}},
		layered{LayerCitation, func() string { return doiOf(x.meta("citation_doi")) }},
		layered{LayerMeta, func() string {
			for _, v := range x.metaAll("dc.identifier", "dcterms.identifier", "prism.doi", "doi") {
				if d := doiOf(v); d != "" {
					return d
				}
			}
			return ""
		}},
	)
}

// doiOf reads a DOI from "10.x/y", "doi:10.x/y" or a DOI URL.
func doiOf(v string) string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(strings.TrimPrefix(v, "doi:"), "DOI:")
	return urlnorm.DOI(strings.TrimSpace(v))
}

// downloadTypes maps document MIME types to file types.
var downloadTypes = map[string]string{
	"application/pdf":    "PDF",
	"application/msword": "DOC",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
	"application/vnd.ms-excel": "XLS",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "XLSX",
	"application/vnd.ms-powerpoint":                                             "PPT",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPTX",
	"text/csv":             "CSV",
	"application/epub+zip": "EPUB",
}

// downloads collects documents linked anywhere in the page (sidebars
// included; navigation, headers and footers already gone), then
// citation_pdf_url.
func (x *extraction) downloads() {
	seen := map[string]bool{}
	add := func(d Download) {
		if d.URL == "" || seen[d.URL] {
			return
		}
		seen[d.URL] = true
		x.m.Downloads = append(x.m.Downloads, d)
	}
	for _, a := range elements(x.root, true, isAtom(atom.A)) {
		u := resolveURL(attr(a, "href"), x.base)
		if u == "" {
			continue
		}
		ft := fileType(u, attr(a, "type"))
		if !text.IsPDF(u) && !(ft != "" && (hasAttr(a, "download") || attr(a, "type") != "")) {
			continue
		}
		if ft == "" {
			ft = "FILE"
		}
		add(Download{URL: u, Title: anchorText(a), FileType: ft})
	}
	for _, v := range x.metaAll("citation_pdf_url") {
		if u := resolveURL(v, x.base); u != "" {
			add(Download{URL: u, Title: decode(x.meta("citation_title")), FileType: "PDF"})
		}
	}
}

// fileType names a document's type from its extension or MIME type.
func fileType(u, mimeType string) string {
	if mt, _, err := mime.ParseMediaType(mimeType); err == nil {
		if t, ok := downloadTypes[strings.ToLower(mt)]; ok {
			return t
		}
	}
	p := u
	if pu, err := url.Parse(u); err == nil {
		p = pu.Path
	}
	return text.DocumentType(p)
}

// body reads the main content's text and links, after removing what is
// not the text itself: headings, bylines, dates, tag lists, share bars.
func (x *extraction) body() {
	c := x.content
	x.removeNotices(c)
	for _, n := range elements(c, true, func(n *html.Node) bool {
		if n == c || isContentBody(n) {
			return false
		}
		switch n.DataAtom {
		case atom.H1:
			// An unclosed <h1> holds the rest of the article: drop only
			// the title text before its first block.
			if firstElement(n, func(c *html.Node) bool { return c != n && !inline[c.DataAtom] }) != nil {
				for c := n.FirstChild; c != nil && (c.Type != html.ElementNode || inline[c.DataAtom]); {
					next := c.NextSibling
					n.RemoveChild(c)
					c = next
				}
				return false
			}
			return true
		case atom.Header, atom.Footer, atom.Nav, atom.Aside:
			return true
		}
		if classContains(n, "byline", "entry-meta", "post-meta", "posted-on", "article-meta",
			"author", "reading-time", "read-time", "tags", "tag-list", "cat-links", "breadcrumb",
			"topics", "themes") ||
			classIs(n, "meta", "date", "published", "updated", "entry-date", "post-date") {
			return true
		}
		return !inline[n.DataAtom] && isMetaLine(nodeText(n, 256))
	}) {
		removeNode(n)
	}
	body, cut := nodeTextCut(c, 2*x.maxBody)
	x.m.Body = body
	if cut || len(x.m.Body) > x.maxBody {
		x.m.Body = cutBytes(x.m.Body, x.maxBody)
		if i := strings.LastIndexByte(x.m.Body, ' '); i > x.maxBody/2 {
			x.m.Body = x.m.Body[:i]
		}
		x.m.Warnings = append(x.m.Warnings, fmt.Sprintf("body text longer than %s: cut", sizeString(int64(x.maxBody))))
	}
	seen := map[string]bool{}
	for _, a := range elements(c, true, isAtom(atom.A)) {
		u := resolve(attr(a, "href"), x.base)
		if u == nil {
			continue
		}
		s := u.String()
		if seen[s] || x.self[dedupeKey(u)] {
			continue
		}
		seen[s] = true
		x.m.Links = append(x.m.Links, s)
	}
}
