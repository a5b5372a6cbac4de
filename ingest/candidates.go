package ingest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/ingest/page"
	"github.com/evidencetracker/evidence/ingest/text"
)

// reportLike types are the works that two publishers may both announce.
func reportLike(t string) bool {
	switch t {
	case evidence.TypeReport, evidence.TypeBriefing, evidence.TypePublication, evidence.TypeLongRead, evidence.TypeData:
		return true
	}
	return false
}

// process turns one candidate into a stored item: skip it when it is not
// an item URL, already seen this run or unchanged since last time; else
// fetch its page, merge the layers, dedupe and save.
//
// An item that is not settled (its save failed, its page could not be read
// for a reason that may pass, or the per-run cap deferred it) marks c.doc
// unsettled, so the document that listed it keeps its old validators and is
// read in full again next run; no candidate signature or page validator is
// recorded for it, so no layer takes it for unchanged. A failed save is
// also a source error (see sourceRun.saveErrs).
func (s *sourceRun) process(ctx context.Context, c candidate) error {
	if ctx.Err() != nil {
		return errAbort{s.errorf("%w", ctx.Err())}
	}
	canon, err := normalize(c.URL, s.src)
	if err != nil {
		s.r.Skipped++
		s.note(s.errorf("item %q: %w", c.URL, err))
		return nil
	}
	if !s.src.IsItemURL(canon) {
		s.r.Skipped++
		return nil
	}
	if settled, seen := s.seen[canon]; seen {
		if !settled { // another document listed it this run and it failed there
			c.doc.unsettle()
		}
		return nil
	}
	s.seen[canon] = false
	settled, err := s.processNew(ctx, canon, c)
	if settled {
		s.seen[canon] = true
	} else {
		c.doc.unsettle()
	}
	return err
}

// processNew is process for a candidate first met this run; it reports
// whether the item is settled.
func (s *sourceRun) processNew(ctx context.Context, canon string, c candidate) (bool, error) {
	s.r.Items++
	sig := c.signature()
	st := s.p.opts.Store
	prevSig, itemID, known, err := st.Candidate(ctx, canon)
	if err != nil {
		return false, errAbort{s.errorf("item %s: %w", canon, err)}
	}
	if known && itemID != "" && (prevSig == sig || c.Feed == nil && c.LastMod == nil) {
		s.r.Unchanged++
		return true, nil
	}
	if s.budget <= 0 {
		s.r.Deferred++
		return false, nil
	}
	s.budget--

	b, err := s.build(ctx, canon, c)
	if err != nil {
		var abort errAbort
		if errors.As(err, &abort) {
			return false, err
		}
		s.r.Skipped++
		s.note(err)
		return !b.retry, nil
	}
	if b.it == nil { // page unchanged and already stored
		s.r.Unchanged++
		if err := st.PutCandidate(ctx, canon, s.src.ID, sig, itemID); err != nil {
			return false, errAbort{s.errorf("item %s: %w", canon, err)}
		}
		return true, nil
	}
	id, err := s.save(ctx, b.it, b.aliases)
	if err != nil {
		var abort errAbort
		if errors.As(err, &abort) {
			return false, err
		}
		// Not skipped: the item is owed. The document that listed it is
		// read again next run and the source reports the failure.
		s.saveErrs = append(s.saveErrs, err)
		s.note(err)
		return false, nil
	}
	if b.retry {
		// Saved from the layer's metadata alone because the page could not
		// be read: record nothing, so the next run fetches the page again.
		s.p.progress(Event{Source: s.src.ID, Kind: "item", URL: b.it.URL})
		return false, nil
	}
	if b.state != nil {
		if err := st.PutFetchState(ctx, *b.state); err != nil {
			return false, errAbort{s.errorf("item %s: save fetch state: %w", canon, err)}
		}
	}
	if err := st.PutCandidate(ctx, canon, s.src.ID, sig, id); err != nil {
		return false, errAbort{s.errorf("item %s: %w", canon, err)}
	}
	s.p.progress(Event{Source: s.src.ID, Kind: "item", URL: b.it.URL})
	return true, nil
}

// built is what build made of a candidate.
type built struct {
	it      *evidence.Item // nil: the page is unchanged and already stored
	aliases []string
	state   *evidence.FetchState // the item page's validators, saved after the item
	// retry is set when the page could not be read for a reason that may
	// pass (a 5xx, a timeout, the store busy): the item, if it is kept
	// from the layer's metadata, must be fetched again next run.
	retry bool
}

// mayPass reports whether an item page's fetch error may go away by
// itself (a server error, a timeout, a dropped connection, the store
// unavailable), unlike a 404 or a redirect loop.
func mayPass(err error) bool {
	var se *fetch.StatusError
	switch {
	case errors.As(err, &se):
		return se.Status >= 500 || se.Status == http.StatusRequestTimeout
	case errors.Is(err, fetch.ErrTooManyRedirects), errors.Is(err, fetch.ErrTooLarge), errors.Is(err, fetch.ErrDisallowed):
		return false
	}
	return true
}

// build fetches an item's page and merges what the page and the layer say.
// It returns a nil item when the page is unchanged and nothing new came
// from the layer. When the page cannot be read, a feed candidate is kept
// from the feed: merged into the stored item if there is one (so what the
// page gave it before is not lost), else built from the feed alone.
func (s *sourceRun) build(ctx context.Context, canon string, c candidate) (built, error) {
	var b built
	resp, err := s.get(ctx, canon)
	if err == nil && (resp.NotModified || resp.Unchanged) {
		stored, serr := s.p.opts.Store.ItemByURL(ctx, canon)
		if serr == nil {
			if c.Feed != nil {
				merged := mergeFeedIntoStored(stored, c.Feed)
				b.it = &merged
			}
			return b, nil
		}
		// Validators but no item (an interrupted run): fetch in full.
		resp, err = s.fetchWith(ctx, canon, evidence.FetchState{})
		if err != nil {
			b.retry = mayPass(err)
			return b, s.layerErr(err, "item page")
		}
	}
	if err != nil {
		var abort errAbort
		if errors.As(err, &abort) {
			return b, err
		}
		b.retry = mayPass(err)
		if c.Feed == nil {
			return b, s.errorf("item page: %w", err)
		}
		// The feed says enough to keep the item.
		s.note(s.errorf("item page: %w (kept the feed's metadata)", err))
		if stored, err := s.p.opts.Store.ItemByURL(ctx, canon); err == nil {
			merged := mergeFeedIntoStored(stored, c.Feed)
			b.it = &merged
			return b, nil
		}
		it := s.merge(canon, c, nil)
		if strings.TrimSpace(it.Title) == "" {
			return b, s.errorf("item %s: no title in any layer", canon)
		}
		b.it = &it
		return b, nil
	}
	it, aliases, _, err := s.pageItem(canon, c, resp)
	if err != nil {
		return b, err
	}
	st := resp.State
	b.it, b.aliases, b.state = &it, aliases, &st
	return b, nil
}

// pageItem is the item layer's reading of an item page (fetched for the
// candidate at canon, or read from a file by Try): its canonical URL after
// redirects and rel=canonical, the other URLs as aliases, and the item
// merged from the page's metadata and the layer's.
func (s *sourceRun) pageItem(canon string, c candidate, resp *fetch.Response) (evidence.Item, []string, *page.Meta, error) {
	aliases := []string{}
	itemURL := canon
	if cu := s.canonical(resp.URL); cu != "" && cu != canon {
		if !s.src.IsItemURL(cu) {
			return evidence.Item{}, nil, nil, s.errorf("item %s redirects to %s, which is not an item", canon, resp.URL)
		}
		aliases = append(aliases, canon)
		itemURL = cu
	}
	for _, r := range resp.Redirects {
		if cu := s.canonical(r); cu != "" && cu != itemURL {
			aliases = append(aliases, cu)
		}
	}
	base, _ := url.Parse(resp.URL)
	var meta *page.Meta
	m, err := page.Extract(bytes.NewReader(resp.Body), base)
	if err != nil {
		if c.Feed == nil {
			return evidence.Item{}, nil, nil, s.errorf("item page %s: %w", canon, err)
		}
		s.note(s.errorf("item page %s: %v (kept the feed's metadata)", canon, err))
	} else {
		meta = &m
		if m.Canonical != "" {
			if cc := s.canonical(m.Canonical); cc != "" && cc != itemURL && s.src.IsItemURL(cc) {
				aliases = append(aliases, itemURL)
				itemURL = cc
			}
		}
	}
	it := s.merge(itemURL, c, meta)
	if strings.TrimSpace(it.Title) == "" {
		return evidence.Item{}, nil, nil, s.errorf("item %s: no title in any layer", itemURL)
	}
	return it, aliases, meta, nil
}

// merge builds an item from the page's metadata (first) and the layer's
// (feed entry, listing card, sitemap lastmod), recording the layer of each
// field.
func (s *sourceRun) merge(itemURL string, c candidate, m *page.Meta) evidence.Item {
	it := evidence.Item{URL: itemURL, Source: s.src.ID, Type: s.src.TypeOf(itemURL), Provenance: map[string]string{}}
	f := c.Feed
	if f == nil {
		f = &evidence.Item{Provenance: map[string]string{}}
	}
	prov := func(field, layer string) {
		if layer != "" {
			it.Provenance[field] = layer
		}
	}
	pageLayer := func(field string) string {
		if m == nil {
			return ""
		}
		if l := m.Provenance[field]; l != "" {
			return "page:" + l
		}
		return "page"
	}
	// Title.
	switch {
	case m != nil && m.Title != "":
		it.Title = m.Title
		prov("title", pageLayer("title"))
	case f.Title != "":
		it.Title = f.Title
		prov("title", "feed")
	case c.Listed != nil && c.Listed.Text != "":
		it.Title = c.Listed.Text
		prov("title", "listing")
	}
	// Summary: a description from the page, else the feed's or the
	// card's, else what the page cut from its body.
	pageSummary, pageSummaryFromBody := "", false
	if m != nil && m.Summary != "" {
		pageSummary = m.Summary
		pageSummaryFromBody = m.Provenance["summary"] == page.LayerBody
	}
	switch {
	case pageSummary != "" && !pageSummaryFromBody:
		it.Summary = pageSummary
		prov("summary", pageLayer("summary"))
	case f.Summary != "":
		it.Summary = f.Summary
		prov("summary", "feed")
	case c.Listed != nil && c.Listed.Excerpt != "":
		it.Summary = c.Listed.Excerpt
		prov("summary", "listing")
	case pageSummary != "":
		it.Summary = pageSummary
		prov("summary", pageLayer("summary"))
	}
	// Dates.
	switch {
	case m != nil && m.Published != nil:
		it.Published = m.Published
		prov("published", pageLayer("published"))
	case f.Published != nil:
		it.Published = f.Published
		prov("published", "feed")
	case c.Listed != nil && c.Listed.Date != nil:
		it.Published = c.Listed.Date
		prov("published", "listing")
	case c.LastMod != nil:
		it.Published = c.LastMod
		prov("published", "sitemap-lastmod (approximate)")
	}
	switch {
	case m != nil && m.Updated != nil:
		it.Updated = m.Updated
		prov("updated", pageLayer("updated"))
	case f.Updated != nil:
		it.Updated = f.Updated
		prov("updated", "feed")
	}
	// Authors.
	switch {
	case m != nil && len(m.Authors) > 0:
		it.Authors = m.Authors
		prov("authors", pageLayer("authors"))
	case len(f.Authors) > 0:
		it.Authors = f.Authors
		prov("authors", "feed")
	}
	// Body: the page's main text, else the feed's content.
	switch {
	case m != nil && len(m.Body) >= len(f.Body)/2 && m.Body != "":
		it.Body = m.Body
		prov("body", pageLayer("body"))
	case f.Body != "":
		it.Body = f.Body
		prov("body", "feed")
	}
	if m != nil && m.DOI != "" {
		it.DOI = m.DOI
		prov("doi", pageLayer("doi"))
	}
	it.Categories = union(f.Categories, nil)
	it.PDFURLs = union(f.PDFURLs, nil)
	it.Links = union(f.Links, nil)
	if m != nil {
		it.Categories = union(it.Categories, m.Tags)
		it.Links = union(m.Links, it.Links)
		for _, d := range m.Downloads {
			if text.IsPDF(d.URL) || strings.EqualFold(d.FileType, "pdf") {
				it.PDFURLs = union(it.PDFURLs, []string{d.URL})
			}
		}
	}
	it.Authors = union(it.Authors, nil)
	s.p.finishLinks(&it)
	return it
}

// mergeFeedIntoStored updates the fields of a stored item that came from
// the feed with a changed feed entry (its page did not change).
func mergeFeedIntoStored(stored evidence.Item, f *evidence.Item) evidence.Item {
	it := stored
	if it.Provenance == nil {
		it.Provenance = map[string]string{}
	}
	if it.Provenance["title"] == "feed" && f.Title != "" {
		it.Title = f.Title
	}
	if it.Provenance["summary"] == "feed" && f.Summary != "" {
		it.Summary = f.Summary
	}
	if it.Provenance["published"] == "feed" && f.Published != nil {
		it.Published = f.Published
	}
	if it.Provenance["authors"] == "feed" && len(f.Authors) > 0 {
		it.Authors = f.Authors
	}
	if it.Provenance["body"] == "feed" && f.Body != "" {
		it.Body = f.Body
	}
	it.Categories = union(it.Categories, f.Categories)
	it.ContentHash = ""
	return it
}

// save dedupes and stores an item and its aliases; it returns the ID of
