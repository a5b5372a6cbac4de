package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/ingest/page"
)

// TryResult is what the pipeline would make of one document, stored
// nowhere. `evidence sources try --json` prints it.
type TryResult struct {
	URL         string `json:"url"`
	Source      string `json:"source,omitempty"` // the configured source owning the URL's site
	Kind        string `json:"kind"`             // feed, sitemap, listing, item
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Charset     string `json:"charset,omitempty"`
	Bytes       int    `json:"bytes"`
	// Items are the items the pipeline would store: feed entries, or the
	// item a page describes (with provenance).
	Items []evidence.Item `json:"items"`
	// Sitemap entries and listing links, for those kinds.
	Sitemap *page.Sitemap `json:"sitemap,omitempty"`
	Listing *page.Listing `json:"listing,omitempty"`
	// ItemURLs are the sitemap or listing URLs that are items of the
	// owning source under its include/exclude patterns.
	ItemURLs []string `json:"item_urls,omitempty"`
	Warnings []string `json:"warnings"`
}

// Try fetches rawURL (unconditionally, politely) and shows what each layer
// extracts from it, storing nothing.
func (p *Pipeline) Try(ctx context.Context, rawURL string) (TryResult, error) {
	if p.opts.Fetcher == nil {
		return TryResult{}, fmt.Errorf("try %s: no fetcher", rawURL)
	}
	resp, err := p.opts.Fetcher.Get(ctx, rawURL, evidence.FetchState{})
	if err != nil {
		return TryResult{URL: rawURL, Items: []evidence.Item{}}, fmt.Errorf("try %s: %w", rawURL, err)
	}
	res, err := p.tryDecoded(resp.Body, resp.URL, resp.Charset) // the fetcher made it UTF-8
	res.Status, res.ContentType = resp.Status, resp.ContentType
	for _, r := range resp.Redirects {
		res.Warnings = append(res.Warnings, "redirected from "+r)
	}
	return res, err
}

// TryBytes shows what the pipeline makes of a document already in hand (a
// local file), as if it had been served at pageURL ("" when unknown: then
// links stay relative and no source's patterns apply). Files are read as
// UTF-8 or in the charset they declare.
func (p *Pipeline) TryBytes(body []byte, pageURL string) (TryResult, error) {
	n, charset := len(body), ""
	if utf8, cs, err := fetch.ToUTF8(body, ""); err == nil {
		body, charset = utf8, cs
	}
	res, err := p.tryDecoded(body, pageURL, charset)
	res.Bytes = n
	return res, err
}

// tryDecoded is TryBytes for a body already in UTF-8, decoded from charset.
//
// What the document is, is decided as ingest decides it, by the layers'
// own readers (layers.go): a sitemap if the sitemap layer reads it, else a
// feed if the feed layer does, else an HTML page, which is an item page
// when its URL is an item of its source and a listing page otherwise.
// First bytes decide nothing: a feed that opens with an XML comment, a
// doctype or <rdf:RDF is still a feed.
func (p *Pipeline) tryDecoded(body []byte, pageURL, charset string) (TryResult, error) {
	res := TryResult{URL: pageURL, Bytes: len(body), Charset: charset, Items: []evidence.Item{}, Warnings: []string{}}
	var base *url.URL
	if pageURL != "" {
		u, err := url.Parse(pageURL)
		if err != nil || !u.IsAbs() {
			return res, fmt.Errorf("try: %q is not an absolute URL", pageURL)
		}
		base = u
	}
	src, owned := p.SourceFor(pageURL)
	if owned {
		res.Source = src.ID
	}
	if page.IsChallenge(body) {
		return res, fmt.Errorf("try %s: %w: the server answered with a bot challenge page", pageURL, page.ErrChallenge)
	}
	run := &sourceRun{p: p, src: src, r: &Report{}, seen: map[string]bool{}}
	defer func() { res.Warnings = append(res.Warnings, run.r.Errors...) }()

	if sm, partial, err := readSitemap(body); err == nil {
		res.Kind = "sitemap"
		if partial != nil {
			res.Warnings = append(res.Warnings, partial.Error())
		}
		res.Sitemap = &sm
		if owned && sm.Kind == page.KindURLSet {
			for _, e := range sm.Entries {
				if c, ok := src.itemURL(e.Loc); ok {
					res.ItemURLs = append(res.ItemURLs, c)
				}
			}
			if len(res.ItemURLs) == 0 && len(sm.Entries) > 0 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("0 items from layer sitemap: none of %d URLs matches %s's include patterns", len(sm.Entries), src.ID))
			}
		}
		return res, nil
	}
	if items, partial, err := readFeed(body, base); err == nil {
		res.Kind = "feed"
		if partial != nil {
			res.Warnings = append(res.Warnings, partial.Error())
		}
		for i := range items {
			it := items[i]
			if owned {
				c, ok := src.itemURL(it.URL)
				if !ok {
					res.Warnings = append(res.Warnings, fmt.Sprintf("feed entry %s is not an item URL of %s (skipped by the pipeline)", it.URL, src.ID))
					continue
				}
				it.URL, it.Source, it.Type = c, src.ID, src.TypeOf(c)
			}
			p.finishLinks(&it)
			res.Items = append(res.Items, it)
		}
		if len(items) == 0 {
			res.Warnings = append(res.Warnings, "0 items from layer feed")
		}
		return res, nil
	} else if looksLikeXML(body) {
		return res, fmt.Errorf("try %s: neither a sitemap nor a feed: %w", pageURL, err)
	}

	// HTML: an item page when its URL is an item of its source, else a
	// listing page.
	if owned && base != nil {
		if c, ok := src.itemURL(pageURL); ok {
			it, _, m, err := run.pageItem(c, candidate{URL: c}, &fetch.Response{URL: pageURL, Body: body})
			if err != nil {
				return res, fmt.Errorf("try %s: %w", pageURL, err)
			}
			res.Kind = "item"
			res.Items = append(res.Items, it)
			if m != nil {
				res.Warnings = append(res.Warnings, m.Warnings...)
			}
			return res, nil
		}
	}
	l, err := src.readListing(body, base)
	if err != nil {
		return res, fmt.Errorf("try %s: %w", pageURL, err)
	}
	res.Kind = "listing"
	res.Listing = &l
	for _, li := range l.Items {
		if c := src.canonical(li.URL); c != "" {
			res.ItemURLs = append(res.ItemURLs, c)
		}
	}
	if len(l.Items) == 0 {
		why := "no source owns this site, so every link counts"
		if owned {
			why = fmt.Sprintf("none of its %d links matches %s's include patterns", l.Links, src.ID)
		}
		res.Warnings = append(res.Warnings, "0 items from layer listing: "+why)
	}
	if len(l.FeedLinks) > 0 {
		var feeds []string
		for _, f := range l.FeedLinks {
			feeds = append(feeds, f.URL)
		}
		res.Warnings = append(res.Warnings, "the page advertises feeds: "+strings.Join(feeds, ", "))
	}
	return res, nil
}

// looksLikeXML reports whether a body that neither the sitemap nor the feed
// reader accepted is meant as XML or JSON all the same (a broken feed or
// sitemap), so that their error, not a listing page without links, is
// what try shows. Only the message depends on it.
func looksLikeXML(body []byte) bool {
	t := bytes.ToLower(bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))))
	for _, p := range []string{"<?xml", "{", "[", "<rss", "<feed", "<rdf:rdf", "<urlset", "<sitemapindex", "\x1f\x8b"} {
		if bytes.HasPrefix(t, []byte(p)) {
			return true
		}
	}
	return len(t) == 0
}
