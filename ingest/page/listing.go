package page

import (
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/evidencetracker/evidence/ingest/text"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// Listing is what a listing page (a section, tag, author or search page)
// links to.
type Listing struct {
	// Items are the item links, in document order, each URL once.
	Items []ListItem `json:"items"`
	// Pagination are the other pages of the listing (by pattern or
	// rel=next), same site only, in document order, each once.
	Pagination []string `json:"pagination"`
	// Next is the rel=next page (<link> or <a>), if any.
	Next string `json:"next,omitempty"`
	// FeedLinks are the feeds the page advertises with
	// <link rel="alternate" type="application/rss+xml|atom+xml|feed+json">.
	FeedLinks []FeedLink `json:"feed_links"`
	// Links counts the page's resolvable http(s) anchors: with no Items it
	// tells "the layout changed" (many links, none matched) from "the
	// links are rendered client-side" (hardly any links).
	Links int `json:"links"`
	// Warnings say what was ignored (a page cut at MaxPageBytes).
	Warnings []string `json:"warnings,omitempty"`
}

// ListItem is one item link on a listing page.
type ListItem struct {
	// URL is absolute, without fragment, as linked (not normalised).
	URL string `json:"url"`
	// Text is the anchor text: the first that is not a generic "Read
	// more" when the page links the item more than once.
	Text string `json:"text"`
	// Date is the first date written out in the item's card ("1 November
	// 2023"), UTC, read as Europe/London; nil when none.
	Date *time.Time `json:"date,omitempty"`
	// Excerpt is the card's standfirst: its first paragraph of 40+
	// characters other than the title, cut on a sentence boundary.
	Excerpt string `json:"excerpt,omitempty"`
}

// FeedLink is a feed a page advertises.
type FeedLink struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	// Type is the MIME type given, lower-cased.
	Type string `json:"type"`
}

// excerptMax is the length of a listing card's excerpt, in runes.
const excerptMax = 400

// genericAnchorRE matches anchor texts that say nothing about the item.
var genericAnchorRE = regexp.MustCompile(`(?i)^(read( the)?( full)?( story| more| article| blog| report| on)?|more|continue( reading)?|full story|view( more| details)?|find out more|learn more|see more|details|click here|here|download)\W*$`)

// HarvestLinks reads a listing page and returns its item links, its
// pagination links and the feeds it advertises. Links are the page's
// a[href] resolved against base (or the page's <base href>); fragments are
// dropped; the page's own URL (and its same-site rel=canonical) is never
// returned, so a page that links to itself cannot loop.
//
// A link is pagination when it has rel=next or matches any pagination
// pattern (and is on the same site as base); otherwise it is an item when
// it matches any include pattern (no include patterns: every link), no
// exclude pattern, and is not a WordPress URL that is never an item
// (attachment, feed, /page/N/, ?p=N, AMP: urlnorm.IsWordPressNonItem).
// Patterns are matched against the absolute URL. Items are deduplicated
// ignoring scheme, "www.", trailing slash and tracking parameters.
//
// A bot-challenge page is an error wrapping ErrChallenge.
func HarvestLinks(r io.Reader, base *url.URL, include, exclude, pagination []*regexp.Regexp) (Listing, error) {
	l := Listing{Items: []ListItem{}, Pagination: []string{}, FeedLinks: []FeedLink{}}
	data, cut, err := readCapped(r, MaxPageBytes)
	if err != nil {
		return l, fmt.Errorf("page: listing: read: %w", err)
	}
	if cut {
		l.Warnings = append(l.Warnings, fmt.Sprintf("page larger than %s: the rest was ignored", sizeString(MaxPageBytes)))
	}
	if IsChallenge(data) {
		return l, challengeError("listing", data)
	}
	root, err := parseHTML(data)
	if err != nil {
		return l, fmt.Errorf("page: listing: %w", err)
	}
	doc := goquery.NewDocumentFromNode(root)
	b := documentBase(root, base)

	self := map[string]bool{}
	if base != nil {
		self[dedupeKey(base)] = true
	}
	doc.Find("link[rel]").Each(func(_ int, s *goquery.Selection) {
		n := s.Get(0)
		if relHas(n, "canonical") {
			if u := resolve(attr(n, "href"), b); u != nil && (base == nil || sameSite(u, base)) {
				self[dedupeKey(u)] = true
			}
		}
	})
	l.FeedLinks = feedLinks(doc, b)

	h := harvester{
		listing: &l, self: self, base: base, docBase: b,
		include: include, exclude: exclude, pagination: pagination,
		items: map[string]int{}, pages: map[string]bool{},
		itemOf: map[*html.Node]string{}, generic: map[int]bool{},
		anchors: map[string][]*html.Node{},
	}
	// rel=next in <head> first.
	doc.Find("link[rel]").Each(func(_ int, s *goquery.Selection) {
		if n := s.Get(0); relHas(n, "next") {
			h.page(resolve(attr(n, "href"), b), true)
		}
	})
	doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		h.anchor(s.Get(0))
	})
	h.cards(root)
	return l, nil
}

type harvester struct {
	listing                      *Listing
	self                         map[string]bool
	base, docBase                *url.URL
	include, exclude, pagination []*regexp.Regexp
	items                        map[string]int          // dedupe key → index in Items
	keys                         []string                // dedupe key of each item
	pages                        map[string]bool         // dedupe keys of Pagination
	itemOf                       map[*html.Node]string   // item anchors → dedupe key
	generic                      map[int]bool            // items whose Text is generic
	anchors                      map[string][]*html.Node // dedupe key → anchors
}

func (h *harvester) anchor(n *html.Node) {
	u := resolve(attr(n, "href"), h.docBase)
	if u == nil {
		return
	}
	h.listing.Links++
	key := dedupeKey(u)
	if h.self[key] {
		return
	}
	s := u.String()
	if relHas(n, "next") || matchAny(h.pagination, s) {
		h.page(u, relHas(n, "next"))
		return
	}
	if len(h.include) > 0 && !matchAny(h.include, s) {
		return
	}
	if matchAny(h.exclude, s) || urlnorm.IsWordPressNonItem(s) {
		return
	}
	txt := anchorText(n)
	gen := txt == "" || genericAnchorRE.MatchString(txt)
	h.itemOf[n] = key
	h.anchors[key] = append(h.anchors[key], n)
	if i, ok := h.items[key]; ok {
		if h.generic[i] && !gen {
			h.listing.Items[i].Text = txt
			h.generic[i] = false
		} else if h.listing.Items[i].Text == "" && txt != "" {
			h.listing.Items[i].Text = txt
		}
		return
	}
	h.items[key] = len(h.listing.Items)
	h.keys = append(h.keys, key)
	h.generic[len(h.listing.Items)] = gen
	h.listing.Items = append(h.listing.Items, ListItem{URL: s, Text: txt})
}

// page records a pagination link.
func (h *harvester) page(u *url.URL, next bool) {
	if u == nil {
		return
	}
	key := dedupeKey(u)
	if h.self[key] || (h.base != nil && !sameSite(u, h.base)) {
		return
	}
	if next && h.listing.Next == "" {
		h.listing.Next = u.String()
	}
	if !h.pages[key] {
		h.pages[key] = true
		h.listing.Pagination = append(h.listing.Pagination, u.String())
	}
}

// cards finds each item's card — the largest element around its link that
// links to no other item — and reads a date and an excerpt from it.
func (h *harvester) cards(root *html.Node) {
	if len(h.listing.Items) == 0 {
		return
	}
	owner := map[*html.Node]string{}
	var own func(n *html.Node) string
	own = func(n *html.Node) string {
		k := h.itemOf[n]
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			ck := own(c)
			switch {
			case ck == "":
			case k == "":
				k = ck
			case k != ck:
				k = "*"
			}
		}
		if k != "" {
			owner[n] = k
		}
		return k
	}
	own(root)
	for i := range h.listing.Items {
		it := &h.listing.Items[i]
		k := h.keys[i]
		a := h.anchors[k][0]
		card := a
		for p := a.Parent; p != nil && p.DataAtom != atom.Body && owner[p] == k; p = p.Parent {
			card = p
		}
		if card == a {
			continue
		}
		if pub, _ := visibleDates(nodeText(card, 4096)); pub != nil {
			it.Date = pub
		}
		it.Excerpt = cardExcerpt(card, it.Text)
	}
}

// cardExcerpt returns the first paragraph-like block of a card with 40+
// characters that is not the item's title.
func cardExcerpt(card *html.Node, title string) string {
	var out string
	walk(card, func(n *html.Node) bool {
		if out != "" {
			return false
		}
		if n.Type != html.ElementNode {
			return true
		}
		switch n.DataAtom {
		case atom.P, atom.Div, atom.Section, atom.Span, atom.Li:
		default:
			return !skipped[n.DataAtom]
		}
		if firstElement(n, func(c *html.Node) bool { return c != n && !inline[c.DataAtom] }) != nil && n.DataAtom != atom.P {
			return true // a wrapper: look inside
		}
		t := nodeText(n, 4096)
		if len([]rune(t)) >= 40 && t != title && !strings.Contains(title, t) && visibleDateRE.FindString(t) != t {
			out = text.Summarize(t, excerptMax)
		}
		return false
	})
	return out
}

// anchorText is an anchor's visible text, else its title, aria-label or
// image alt text.
func anchorText(n *html.Node) string {
	if t := nodeText(n, 2048); t != "" {
		return t
	}
	for _, k := range []string{"title", "aria-label"} {
		if t := text.Collapse(attr(n, k)); t != "" {
			return t
		}
	}
	if img := firstElement(n, isAtom(atom.Img)); img != nil {
		return text.Collapse(attr(img, "alt"))
	}
	return ""
}

// feedTypes are the MIME types of feed auto-discovery links.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/rdf+xml":   true,
	"application/feed+json": true,
}

// feedLinks returns <link rel="alternate"> feeds, in document order.
func feedLinks(doc *goquery.Document, base *url.URL) []FeedLink {
	out := []FeedLink{}
	seen := map[string]bool{}
	doc.Find("link[rel][href]").Each(func(_ int, s *goquery.Selection) {
		n := s.Get(0)
		typ := strings.ToLower(strings.TrimSpace(attr(n, "type")))
		if i := strings.IndexByte(typ, ';'); i >= 0 {
			typ = strings.TrimSpace(typ[:i])
		}
		if !relHas(n, "alternate") || !feedTypes[typ] {
			return
		}
		u := resolveURL(attr(n, "href"), base)
		if u == "" || seen[u] {
			return
		}
		seen[u] = true
		out = append(out, FeedLink{URL: u, Title: text.Collapse(attr(n, "title")), Type: typ})
	})
	return out
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re != nil && re.MatchString(s) {
			return true
		}
	}
	return false
}

// dedupeKey identifies a URL loosely: normal form (tracking parameters
// dropped, trailing slash stripped) without scheme or "www.".
func dedupeKey(u *url.URL) string {
	if u == nil {
		return ""
	}
	n, err := urlnorm.Normalize(u.String(), nil, urlnorm.Rules{TrailingSlash: urlnorm.SlashStrip})
	if err != nil {
		return siteKey(u)
	}
	n = strings.TrimPrefix(n, "https://")
	return strings.TrimPrefix(n, "www.")
}
