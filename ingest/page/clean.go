package page

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/evidencetracker/evidence/ingest/text"
)

// Removing what is not the item: cookie banners, navigation, site headers
// and footers, sidebars, old-content notices; choosing the main content.

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
		if b.Parent == nil || !contains(x.root, b) {
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
	return text.Collapse(b.String())
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
