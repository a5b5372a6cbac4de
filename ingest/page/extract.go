package page

import (
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"regexp"
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
	return collapse(b.String())
}

// decode turns a metadata value that may hold entities or markup into
// plain text.
func decode(s string) string {
	if strings.ContainsAny(s, "&<") {
		return text.PlainText(s)
	}
	return collapse(s)
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

// cookieTextRE matches what cookie-consent banners say.
var cookieTextRE = regexp.MustCompile(`(?i)(\bcookies?\b|customi[sz]e consent|consent preferences|manage consent|privacy preferences|accept all\s*$|reject all\s*$)`)

// cookieish reports whether s is about cookies or consent. A cheap
// substring test runs before the regular expression: most blocks of a
// page never mention either.
func cookieish(s string) bool {
	for _, k := range cookieKeys {
		if strings.Contains(s, k) {
			return cookieTextRE.MatchString(s)
		}
	}
	return false
}

var cookieKeys = []string{"ookie", "OOKIE", "onsent", "ONSENT", "rivacy", "RIVACY", "ccept", "CCEPT", "eject", "EJECT"}

// bannerHints are id/class fragments of consent banners and their
// platforms (CookieYes, Complianz, OneTrust, Cookiebot, Cookie Notice…).
var bannerHints = []string{
	"cookie", "consent", "gdpr", "cmplz", "onetrust", "cookiebot", "cky-", "cli-bar",
	"cli-modal", "cc-window", "cc-banner", "moove_gdpr", "borlabs", "didomi",
	"usercentrics", "osano", "termly", "qc-cmp",
}

// structural elements are never removed as boilerplate.
func structural(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Html, atom.Body, atom.Head, atom.Main, atom.Article:
		return true
	}
	return false
}

// holdsContent reports whether n is or contains the page's content: an
// h1, article, main or an article-body element.
func holdsContent(n *html.Node) bool {
	return firstElement(n, func(c *html.Node) bool {
		return structural(c) || c.DataAtom == atom.H1 || isContentBody(c)
	}) != nil
}

// isContentBody: [itemprop=articleBody] and WordPress-style content
// wrappers.
func isContentBody(n *html.Node) bool {
	if strings.EqualFold(attr(n, "itemprop"), "articleBody") {
		return true
	}
	return classIs(n, contentClasses...)
}

var contentClasses = []string{
	"entry-content", "post-content", "article-content", "article-body", "article__body",
	"post-body", "single-content", "content-body",
}

// removeBanners drops cookie-consent banners: elements named like one
// (id/class), dialogs about cookies, and class-less blocks of cookie text.
func (x *extraction) removeBanners() {
	for _, n := range elements(x.root, true, func(n *html.Node) bool {
		if structural(n) {
			return false
		}
		if classContains(n, bannerHints...) {
			return true
		}
		role := strings.ToLower(attr(n, "role"))
		if n.DataAtom == atom.Dialog || role == "dialog" || role == "alertdialog" || hasAttr(n, "aria-modal") {
			return cookieish(nodeText(n, 4096))
		}
		return false
	}) {
		if !holdsContent(n) {
			removeNode(n)
		}
	}
	// Class-less banners: a block whose own text is about cookies, widened
	// to the largest ancestor that is still small and holds no content.
	var blocks []*html.Node
	walk(x.root, func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return true
		}
		if skipped[n.DataAtom] || isContentBody(n) {
			return false // never inside the article's own text
		}
		if !inline[n.DataAtom] && !structural(n) && cookieish(ownText(n)) {
			blocks = append(blocks, n)
		}
		return true
	})
	for _, b := range blocks {
		if b.Parent == nil || !attached(b, x.root) {
			continue
		}
		cand := b
		if holdsContent(cand) || hasProse(cand) {
			continue
		}
		for p := b.Parent; p != nil && p.Type == html.ElementNode && !structural(p); p = p.Parent {
			if len(nodeText(p, 3000)) >= 3000 || holdsContent(p) || hasProse(p) {
				break
			}
			cand = p
		}
		removeNode(cand)
	}
}

// attached reports whether n is still in the tree under root.
func attached(n, root *html.Node) bool {
	return contains(root, n)
}

// ownText is the text of n without its block descendants' text.
func ownText(n *html.Node) string {
	var b strings.Builder
	var add func(*html.Node)
	add = func(c *html.Node) {
		switch c.Type {
		case html.TextNode:
			b.WriteString(c.Data)
		case html.ElementNode:
			if skipped[c.DataAtom] || (c != n && !inline[c.DataAtom]) {
				b.WriteByte(' ')
				return
			}
			for cc := c.FirstChild; cc != nil; cc = cc.NextSibling {
				add(cc)
			}
		}
		if b.Len() > 2048 {
			return
		}
	}
	add(n)
	return collapse(b.String())
}

// hasProse reports whether n holds a paragraph of 200+ characters that is
// not about cookies: real content, not a banner.
func hasProse(n *html.Node) bool {
	return firstElement(n, func(c *html.Node) bool {
		if c.DataAtom != atom.P && c.DataAtom != atom.Li && c.DataAtom != atom.Blockquote {
			return false
		}
		t := nodeText(c, 1024)
		return len(t) >= 200 && !cookieish(t)
	}) != nil
}

// outdatedRE matches a notice that the content is old.
var outdatedRE = regexp.MustCompile(`(?i)^(please note:?\s*)?this (content|page|article|report|blog|publication|item) (is|was published) (more than|over) (\w+|\d+) years? (old|ago)\b`)

// removeNotices drops "this content is more than five years old" notices
// under n and reports whether there was one.
func (x *extraction) removeNotices(n *html.Node) bool {
	found := false
	for _, e := range elements(n, true, func(e *html.Node) bool {
		if structural(e) || inline[e.DataAtom] {
			return false
		}
		if !outdatedRE.MatchString(nodeText(e, 120)) {
			return false
		}
		return len(nodeText(e, 400)) < 300 && !holdsContent(e)
	}) {
		found = true
		removeNode(e)
	}
	return found
}

// breadcrumbRE separates crumbs written as text.
var breadcrumbSepRE = regexp.MustCompile(`\s*[›»>/|→]\s*`)

func (x *extraction) breadcrumb() {
	if len(x.ld.breadcrumb) > 0 {
		x.m.Breadcrumb = x.ld.breadcrumb
		x.m.Provenance["breadcrumb"] = LayerJSONLD
		return
	}
	bc := firstElement(x.root, func(n *html.Node) bool {
		return strings.Contains(strings.ToLower(attr(n, "aria-label")), "breadcrumb") ||
			classContains(n, "breadcrumb")
	})
	if bc == nil {
		return
	}
	var crumbs []string
	if lis := elements(bc, true, isAtom(atom.Li)); len(lis) > 0 {
		for _, li := range lis {
			crumbs = append(crumbs, nodeText(li, 512))
		}
	} else {
		crumbs = breadcrumbSepRE.Split(nodeText(bc, 2048), -1)
	}
	out := []string{}
	for _, c := range crumbs {
		c = strings.TrimSpace(strings.Trim(c, "›»>/|→ "))
		if c != "" {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		x.m.Breadcrumb = out
		x.m.Provenance["breadcrumb"] = LayerBreadcrumb
	}
}

// headings returns the page's <h1> elements, those in an article or main
// first, none from navigation or footers.
func (x *extraction) headings() []*html.Node {
	var inMain, other []*html.Node
	for _, h := range elements(x.root, true, isAtom(atom.H1)) {
		if ancestor(h, func(p *html.Node) bool {
			return p.DataAtom == atom.Nav || p.DataAtom == atom.Footer || p.DataAtom == atom.Aside
		}) != nil {
			continue
		}
		if ancestor(h, func(p *html.Node) bool { return p.DataAtom == atom.Article || p.DataAtom == atom.Main }) != nil {
			inMain = append(inMain, h)
		} else {
			other = append(other, h)
		}
	}
	return append(inMain, other...)
}

// inArticle reports whether n sits in an article or main element.
func inArticle(n *html.Node) bool {
	return ancestor(n, func(p *html.Node) bool {
		return p.DataAtom == atom.Article || p.DataAtom == atom.Main || strings.EqualFold(attr(p, "role"), "main")
	}) != nil
}

// removeChrome drops navigation, site headers and footers, forms, buttons
// and hidden elements.
func (x *extraction) removeChrome() {
	for _, n := range elements(x.root, true, func(n *html.Node) bool {
		if structural(n) {
			return false
		}
		role := strings.ToLower(attr(n, "role"))
		switch {
		case n.DataAtom == atom.Nav, role == "navigation", role == "banner", role == "contentinfo", role == "search":
			return true
		case n.DataAtom == atom.Header:
			return !inArticle(n) && (n.Parent != nil && n.Parent.DataAtom == atom.Body ||
				firstElement(n, isAtom(atom.Nav)) != nil || classContains(n, "site", "masthead", "global"))
		case n.DataAtom == atom.Footer:
			return !inArticle(n) || classContains(n, "site")
		case n.DataAtom == atom.Form, n.DataAtom == atom.Button, n.DataAtom == atom.Dialog,
			n.DataAtom == atom.Input, n.DataAtom == atom.Label && attr(n, "for") != "":
			return true
		case hasAttr(n, "hidden"):
			return true
		}
		return classContains(n, "skip-link", "screen-reader", "sr-only", "visually-hidden", "breadcrumb") ||
			strings.Contains(strings.ToLower(attr(n, "aria-label")), "breadcrumb")
	}) {
		if !holdsContent(n) {
			removeNode(n)
		}
	}
}

// asideHints are id/class fragments of sidebars, related-content boxes,
// comments, share bars and sign-up boxes.
var asideHints = []string{
	"sidebar", "widget", "related", "comments", "comment-respond", "share", "sharing",
	"social-", "newsletter", "subscribe", "signup", "sign-up", "advert",
}

// removeAsides drops sidebars, related-content boxes, comments, share bars
// and sign-up boxes; it does not look inside the article's own text.
func (x *extraction) removeAsides() {
	var found []*html.Node
	walk(x.root, func(n *html.Node) bool {
		if n.Type != html.ElementNode || structural(n) {
			return true
		}
		if isContentBody(n) {
			return false
		}
		role := strings.ToLower(attr(n, "role"))
		if n.DataAtom == atom.Aside || role == "complementary" || classContains(n, asideHints...) || classIs(n, "respond") {
			found = append(found, n)
			return false
		}
		return true
	})
	for _, n := range found {
		if !holdsContent(n) {
			removeNode(n)
		}
	}
}

// chooseContent picks the article (scope) and its main text (content).
func (x *extraction) chooseContent() {
	body := firstElement(x.root, isAtom(atom.Body))
	if body == nil {
		body = x.root
	}
	longest := func(ns []*html.Node) (*html.Node, int) {
		var best *html.Node
		bestLen := -1
		for _, n := range ns {
			if l := len(nodeText(n, 0)); l > bestLen {
				best, bestLen = n, l
			}
		}
		return best, bestLen
	}
	scopeName := "body"
	x.scope = body
	if a, _ := longest(elements(body, true, isAtom(atom.Article))); a != nil {
		x.scope, scopeName = a, "article"
	} else if m := firstElement(body, func(n *html.Node) bool {
		return n.DataAtom == atom.Main || strings.EqualFold(attr(n, "role"), "main")
	}); m != nil {
		x.scope, scopeName = m, "main"
	}
	x.content = x.scope
	contentName := scopeName
	cands := elements(x.scope, true, isContentBody)
	if len(cands) == 0 && x.scope != body {
		cands = elements(body, true, isContentBody)
	}
	if c, l := longest(cands); c != nil {
		scopeLen := len(nodeText(x.scope, 0))
		// A content wrapper holding a small part of a long article is
		// an intro box, not the text.
		if contains(x.scope, c) && l*3 < scopeLen && l < 500 {
			c = nil
		}
		if c != nil {
			x.content = c
			contentName = "entry-content"
			for _, cl := range contentClasses {
				if classIs(c, cl) {
					contentName = cl
					break
				}
			}
			if strings.EqualFold(attr(c, "itemprop"), "articleBody") {
				contentName = "itemprop=articleBody"
			}
			if !contains(x.scope, c) {
				x.scope = c
			}
		}
	}
	x.m.Provenance["body"] = contentName
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

func (x *extraction) authors() {
	layers := []struct {
		layer string
		get   func() []string
	}{
		{LayerJSONLD, func() []string {
			for _, n := range x.ld.nodes() {
				if a := cleanNames(x.ld.names(n["author"])); len(a) > 0 {
					return a
				}
			}
			return nil
		}},
		{LayerOpenGraph, func() []string { return cleanNames(x.metaAll("article:author", "og:article:author")) }},
		{LayerTwitter, func() []string {
			for i := 1; i <= 4; i++ {
				l := strings.ToLower(x.meta(fmt.Sprintf("twitter:label%d", i)))
				if strings.Contains(l, "written by") || strings.Contains(l, "author") || l == "by" {
					return cleanNames(splitNames(x.meta(fmt.Sprintf("twitter:data%d", i))))
				}
			}
			return nil
		}},
		{LayerMeta, func() []string {
			var out []string
			for _, v := range x.metaAll("author", "dc.creator", "dcterms.creator") {
				out = append(out, strings.Split(v, ";")...)
			}
			return cleanNames(out)
		}},
		{LayerCitation, func() []string { return cleanNames(x.metaAll("citation_author")) }},
		{LayerByline, x.bylines},
	}
	for _, l := range layers {
		if a := l.get(); len(a) > 0 {
			x.m.Authors = x.dropSiteAuthors(a)
			x.m.Provenance["authors"] = l.layer
			return
		}
	}
}

// dropSiteAuthors removes the site's own name from a list that also names
// people: "Jane Doe, Centre for Mental Health" is Jane Doe's; the site
// alone stays the author.
func (x *extraction) dropSiteAuthors(names []string) []string {
	var people []string
	for _, n := range names {
		if !x.titles.isSite(n) {
			people = append(people, n)
		}
	}
	if len(people) == 0 {
		return names
	}
	return people
}

// bylineRE matches the start of a byline.
var bylineRE = regexp.MustCompile(`^(?i:written by|posted by|authors?:|by)\s*:?\s+(\p{Lu}.*)$`)

// bylines reads authors from rel=author / author-page links in byline
// elements, then from "By <Name>" text: in byline-like elements first,
// then in short blocks of the article.
func (x *extraction) bylines() []string {
	var links []string
	for _, a := range elements(x.root, false, func(n *html.Node) bool {
		if n.DataAtom != atom.A {
			return false
		}
		if relHas(n, "author") {
			return true
		}
		href := strings.ToLower(attr(n, "href"))
		return strings.Contains(href, "/author/") && ancestor(n, func(p *html.Node) bool {
			return classContains(p, "byline", "author", "meta", "posted")
		}) != nil
	}) {
		links = append(links, nodeText(a, 256))
	}
	if a := cleanNames(links); len(a) > 0 {
		return a
	}
	try := func(n *html.Node) []string {
		t := nodeText(n, 512)
		if len(t) > 300 {
			return nil
		}
		m := bylineRE.FindStringSubmatch(t)
		if m == nil {
			return nil
		}
		return cleanNames(parseByline(m[1]))
	}
	authorBoxes := elements(x.root, true, func(n *html.Node) bool {
		return classContains(n, "byline", "author") && !classContains(n, "authority")
	})
	for _, n := range authorBoxes {
		if a := try(n); len(a) > 0 {
			return a
		}
	}
	// An author box listing names (with roles) in its own elements:
	// <div class="author"><span>Jane Doe</span><span>Policy Manager</span></div>.
	for _, n := range authorBoxes {
		var names []string
		for _, e := range elements(n, true, func(e *html.Node) bool {
			return e != n && (e.DataAtom == atom.A || e.DataAtom == atom.Li || e.DataAtom == atom.Span ||
				e.DataAtom == atom.P || e.DataAtom == atom.Strong || e.DataAtom == atom.H3 || e.DataAtom == atom.H4)
		}) {
			if t := nodeText(e, 256); nameLike(t) && !strings.EqualFold(t, "authors") && !strings.EqualFold(t, "author") {
				names = append(names, t)
			}
		}
		if a := cleanNames(names); len(a) > 0 {
			return a
		}
	}
	// A byline sits near the top: only the article's first blocks count.
	var out []string
	blocks := 0
	walk(x.scope, func(n *html.Node) bool {
		if out != nil || blocks > maxBylineBlocks {
			return false
		}
		if n.Type != html.ElementNode || skipped[n.DataAtom] {
			return n.Type != html.ElementNode
		}
		if !inline[n.DataAtom] {
			blocks++
		}
		switch n.DataAtom {
		case atom.P, atom.Div, atom.Span, atom.Li, atom.Address, atom.Strong, atom.Em, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			if a := try(n); len(a) > 0 {
				out = a
				return false
			}
		}
		return true
	})
	return out
}

// dateLineRE matches a line holding only dates, reading times and
// separators.
var dateLineRE = regexp.MustCompile(`(?i)^(?:(?:published|posted|updated|last updated|reviewed|review date|date)\s*:?\s*|` +
	visibleDatePattern + `|\d+[- ]min(?:ute)?s? read|[|•·,/–-]|\s)+$`)

// isMetaLine reports whether a short block is a byline or date line
// ("By Andy Bell | 1 November 2023", "Published 12 March 2013") rather
// than text.
func isMetaLine(t string) bool {
	if t == "" || len(t) > 200 {
		return false
	}
	if m := bylineRE.FindStringSubmatch(t); m != nil && len(parseByline(m[1])) > 0 {
		return true
	}
	return strings.ContainsAny(t, "0123456789") && dateLineRE.MatchString(t)
}

// maxBylineBlocks is how many of an article's first block elements are
// searched for a "By <Name>" line.
const maxBylineBlocks = 25

// bylineCutRE ends the name part of a byline: a date, a separator, " on ".
var bylineCutRE = regexp.MustCompile(`(\s+on\s+|\s+at\s+|\s[-–—|•·]\s|[|•·(]|\d|\s+-\s+|\s+posted\b|\s+published\b)`)

// parseByline turns "Andy Bell and Kadra Abdinasir, 1 November 2023" into
// names, stopping at the first part that reads like a job title.
func parseByline(s string) []string {
	if loc := bylineCutRE.FindStringIndex(s); loc != nil {
		s = s[:loc[0]]
	}
	var out []string
	for _, p := range splitNames(s) {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !nameLike(p) {
			break
		}
		out = append(out, p)
	}
	return out
}

var nameSplitRE = regexp.MustCompile(`\s*(?:,|;|&|\band\b)\s*`)

func splitNames(s string) []string {
	return nameSplitRE.Split(s, -1)
}

// roleWords mark a byline part as a job title, not a name.
var roleWords = map[string]bool{
	"chief": true, "executive": true, "director": true, "officer": true, "manager": true,
	"head": true, "lead": true, "analyst": true, "researcher": true, "fellow": true,
	"associate": true, "adviser": true, "advisor": true, "coordinator": true, "co-ordinator": true,
	"assistant": true, "editor": true, "consultant": true, "trustee": true, "chair": true,
	"team": true, "policy": true, "senior": true, "programme": true, "project": true,
	"communications": true, "volunteer": true, "intern": true, "ceo": true, "lecturer": true,
	"student": true, "nurse": true, "psychiatrist": true, "psychologist": true, "partner": true,
	"officer,": true, "member": true, "minutes": true, "min": true, "read": true,
}

// nameParticles may be lower-case inside a name.
var nameParticles = map[string]bool{
	"de": true, "van": true, "von": true, "der": true, "den": true, "la": true, "le": true,
	"du": true, "da": true, "di": true, "dos": true, "bin": true, "al": true, "el": true,
}

// nameLike: one to five words, capitalised (particles aside), no job
// title words.
func nameLike(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 5 || utf8.RuneCountInString(s) > 60 {
		return false
	}
	for i, w := range words {
		lw := strings.ToLower(w)
		if roleWords[lw] {
			return false
		}
		r, _ := utf8.DecodeRuneInString(w)
		if nameParticles[lw] && i > 0 {
			continue
		}
		if !isUpperRune(r) {
			return false
		}
	}
	return true
}

func isUpperRune(r rune) bool {
	return r != utf8.RuneError && strings.ToUpper(string(r)) == string(r) && strings.ToLower(string(r)) != string(r)
}

// byPrefixRE strips "By " from an author value.
var byPrefixRE = regexp.MustCompile(`(?i)^(by|written by|posted by)\s+`)

// cleanNames trims, drops URLs, e-mail addresses, handles and over-long
// values, and removes duplicates (case-insensitive), keeping order.
func cleanNames(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range in {
		n = byPrefixRE.ReplaceAllString(decode(n), "")
		n = strings.Trim(n, " ,;:")
		l := strings.ToLower(n)
		if n == "" || utf8.RuneCountInString(n) > 100 || strings.Contains(l, "://") ||
			strings.HasPrefix(l, "www.") || strings.HasPrefix(n, "@") || strings.Contains(n, "@") && strings.Contains(n, ".") {
			continue
		}
		if seen[l] {
			continue
		}
		seen[l] = true
		out = append(out, n)
		if len(out) == 50 {
			break
		}
	}
	return out
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
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(p), "."))
	switch ext {
	case "pdf", "doc", "docx", "odt", "rtf", "xls", "xlsx", "ods", "csv", "ppt", "pptx", "odp", "epub":
		return strings.ToUpper(ext)
	}
	return ""
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
