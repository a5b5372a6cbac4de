// Package page parses what publishers' web sites serve besides feeds:
// sitemaps (ParseSitemap), listing pages whose item links are found by URL
// pattern (HarvestLinks) and item pages whose metadata is read layer by
// layer — JSON-LD, OpenGraph, Twitter tags, meta tags, citation_*, visible
// dates and bylines, <h1> — recording which layer gave each field (Extract).
// It also recognises bot-challenge pages (IsChallenge).
//
// Every parser reads bytes from an io.Reader: fetching is the fetcher's job.
// Input is expected in UTF-8 (the fetcher converts other charsets).
//
// The package imports the standard library, goquery (and the x/net/html it
// is built on), the domain package and its siblings ingest/text and
// ingest/urlnorm.
package page

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/evidencetracker/evidence/ingest/text"
)

var (
	// ErrNotSitemap means the input is not a sitemap (an HTML page, a feed,
	// another XML document, empty input). It is also evidence.ErrInvalid.
	ErrNotSitemap = errors.New("not a sitemap")
	// ErrChallenge means the page is a bot-challenge or "blocked" page (a
	// Cloudflare "Just a moment..." interstitial and the like), not the
	// page asked for: report the source blocked, do not retry at once.
	ErrChallenge = errors.New("bot challenge page")
	// ErrTooLarge means the input exceeds the parser's size cap.
	ErrTooLarge = errors.New("input too large")
)

// MaxPageBytes is the most of an HTML page HarvestLinks and Extract read;
// the rest is ignored and a warning says so. Metadata sits in <head>, so a
// truncated page still gives it.
const MaxPageBytes = 10 << 20

// readCapped reads at most max bytes of r and reports whether more was
// available.
func readCapped(r io.Reader, max int64) ([]byte, bool, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > max {
		return data[:max], true, nil
	}
	return data, false, nil
}

// parseHTML parses a page, first dropping a UTF-8 byte-order mark.
func parseHTML(data []byte) (*html.Node, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse HTML: %w", err)
	}
	return doc, nil
}

// attr returns the value of an element's attribute (without namespace).
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasAttr reports whether the element carries the attribute at all.
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return true
		}
	}
	return false
}

// relHas reports whether the element's rel attribute lists token
// (case-insensitive, space-separated).
func relHas(n *html.Node, token string) bool {
	for _, t := range strings.Fields(attr(n, "rel")) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// resolveURL returns href as an absolute http(s) URL without fragment, or
// "" when it is empty, fragment-only, not http(s), has no host or is
// relative without a base.
func resolveURL(href string, base *url.URL) string {
	u := resolve(href, base)
	if u == nil {
		return ""
	}
	return u.String()
}

// maxHref is the longest href (in bytes, after trimming) page resolves;
// text.Links has no such limit.
const maxHref = 4096

// resolve is text.ResolveLink with page's length limit.
func resolve(href string, base *url.URL) *url.URL {
	return text.ResolveLink(href, base, maxHref)
}

// documentBase returns the base URL links resolve against: the document's
// first <base href>, resolved against pageURL, or pageURL itself.
func documentBase(doc *html.Node, pageURL *url.URL) *url.URL {
	var base *url.URL
	walk(doc, func(n *html.Node) bool {
		if base != nil {
			return false
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Base && hasAttr(n, "href") {
			if u := resolve(attr(n, "href"), pageURL); u != nil {
				base = u
			}
			return false
		}
		// <base> belongs in <head>: stop at <body>.
		return n.DataAtom != atom.Body
	})
	if base != nil {
		return base
	}
	return pageURL
}

// walk visits n and its descendants in document order; visit returns
// false to skip a node's children.
func walk(n *html.Node, visit func(*html.Node) bool) {
	if !visit(n) {
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, visit)
	}
}

// siteKey is a loose identity for comparing URLs of the same site: host
// without "www.", path without trailing slash, query as given, scheme and
// fragment ignored.
func siteKey(u *url.URL) string {
	if u == nil {
		return ""
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	p := u.EscapedPath()
	p = strings.TrimRight(p, "/")
	k := host + p
	if u.RawQuery != "" {
		k += "?" + u.RawQuery
	}
	return k
}

// sameSite reports whether a and b are on the same host, ignoring "www.".
func sameSite(a, b *url.URL) bool {
	if a == nil || b == nil {
		return false
	}
	return strings.TrimPrefix(strings.ToLower(a.Hostname()), "www.") ==
		strings.TrimPrefix(strings.ToLower(b.Hostname()), "www.")
}
