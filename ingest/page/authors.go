package page

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Authors: the layers, "By <Name>" bylines and author boxes.

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
	// An author list whose entries mark the name (and the role) in their
	// own elements, as CMSs built from components do:
	// <li class="Authors_author"><a href="/whos-who/x"><span class="Authors_name">Jane Doe</span></a>
	// <span class="Authors_role">Fellow</span></li>.
	for _, n := range authorBoxes {
		var names []string
		for _, e := range elements(n, false, func(e *html.Node) bool {
			return e != n && classContains(e, "name") && !classContains(e, "surname", "username")
		}) {
			if t := nodeText(e, 256); nameLike(t) {
				names = append(names, t)
			}
		}
		if a := cleanNames(names); len(a) > 0 {
			return a
		}
		names = nil
		for _, e := range elements(n, false, func(e *html.Node) bool {
			return e.DataAtom == atom.A && profileLink(attr(e, "href"))
		}) {
			if t := nodeText(e, 256); nameLike(t) {
				names = append(names, t)
			}
		}
		if a := cleanNames(names); len(a) > 0 {
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

// profileLink reports whether href looks like a person's page on the site.
func profileLink(href string) bool {
	h := strings.ToLower(href)
	for _, p := range []string{"/author/", "/authors/", "/whos-who/", "/people/", "/person/", "/staff/", "/team/", "/experts/", "/our-people/"} {
		if strings.Contains(h, p) {
			return true
		}
	}
	return false
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
