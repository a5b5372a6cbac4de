package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/feed"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/ingest/page"
)

// Layers, in the order they are tried.
const (
	LayerFeed     = "feed"
	LayerSitemap  = "sitemap"
	LayerListing  = "listing"
	LayerDiscover = "discover" // feeds found on the home page
)

// RunOptions tune one run.
type RunOptions struct {
	// Backfill runs every layer (feeds, sitemaps, listings), not only the
	// first that works, and follows listing pagination up to MaxPages.
	Backfill bool
	// MaxPages bounds listing pages followed per listing URL (default 2,
	// or 20 with Backfill).
	MaxPages int
	// MaxItemPages bounds the item pages fetched per source in one run
	// (default 500); the rest wait for the next run.
	MaxItemPages int
}

func (o RunOptions) maxPages() int {
	switch {
	case o.MaxPages > 0:
		return o.MaxPages
	case o.Backfill:
		return 20
	default:
		return 2
	}
}

// Bounds on sitemap walking.
const (
	maxSitemapFiles = 50
	maxSitemapDepth = 3
)

// candidate is a URL some layer says may be an item, with what that layer
// knows about it.
type candidate struct {
	URL     string
	Layer   string
	Feed    *evidence.Item // from a feed entry
	LastMod *time.Time     // sitemap <lastmod>
	Listed  *page.ListItem // listing card
	// doc is the document that listed it (nil: none to answer to).
	doc *document
}

// document is one feed, sitemap file or listing walk being read. Its
// validators may be saved only when every item it yielded is settled
// (stored, unchanged, merged, or not an item at all): otherwise the next
// run would get a 304 and never see the unsettled items again.
type document struct {
	unsettled int
	// children are documents it led to (a sitemap index's sitemaps),
	// which must be settled too.
	children []*document
}

func (d *document) unsettle() {
	if d != nil {
		d.unsettled++
	}
}

func (d *document) settled() bool {
	if d == nil {
		return true
	}
	for _, c := range d.children {
		if !c.settled() {
			return false
		}
	}
	return d.unsettled == 0
}

// signature changes when the layer's view of the item changes; an item
// whose signature is unchanged is not fetched again. Sitemap and listing
// candidates without a date have none: they are fetched once, when new.
func (c candidate) signature() string {
	switch {
	case c.Feed != nil:
		return "feed:" + evidence.ComputeHash(c.Feed)
	case c.LastMod != nil:
		return "lastmod:" + c.LastMod.UTC().Format(time.RFC3339)
	default:
		return "seen"
	}
}

// errAbort stops a source's run (blocked, cancelled).
type errAbort struct{ err error }

func (e errAbort) Error() string { return e.err.Error() }
func (e errAbort) Unwrap() error { return e.err }

// sourceRun is one source's run in progress.
type sourceRun struct {
	p   *Pipeline
	src Source
	ro  RunOptions
	r   *Report
	// seen holds the item URLs met this run, true once settled.
	seen   map[string]bool
	budget int
	// saveErrs are the items whose save failed: the run is a source error.
	saveErrs []error
}

func (s *sourceRun) errorf(format string, a ...any) error {
	return fmt.Errorf("ingest %s: "+format, append([]any{s.src.ID}, a...)...)
}

func (s *sourceRun) note(err error) {
	s.r.Errors = append(s.r.Errors, err.Error())
	s.p.log.Warn("ingest problem", "source", s.src.ID, "err", err)
}

// runLayers tries the source's layers in order; the first that works feeds
// new items, the others run only with Backfill. It returns an error when
// no layer worked.
func (s *sourceRun) runLayers(ctx context.Context) error {
	type layer struct {
		name string
		run  func(context.Context) (bool, error)
	}
	layers := []layer{}
	if len(s.src.Feeds) > 0 {
		layers = append(layers, layer{LayerFeed, func(ctx context.Context) (bool, error) { return s.feeds(ctx, s.src.Feeds, LayerFeed) }})
	} else if s.src.Home != "" {
		layers = append(layers, layer{LayerDiscover, s.discover})
	}
	layers = append(layers, layer{LayerSitemap, s.sitemaps})
	if len(s.src.Listings) > 0 {
		layers = append(layers, layer{LayerListing, s.listings})
	}
	var failures []error
	worked := false
	for _, l := range layers {
		if worked && !s.ro.Backfill {
			break
		}
		ok, err := l.run(ctx)
		var abort errAbort
		if errors.As(err, &abort) {
			return abort.err
		}
		if err != nil {
			failures = append(failures, err)
			s.note(err)
			if unreachable(err) {
				// Other layers live on the same host: don't wait on it again.
				break
			}
		}
		if ok {
			worked = true
			if s.r.Strategy == "" || s.r.Strategy == "none" {
				s.r.Strategy = l.name
			}
		}
		if ctx.Err() != nil {
			return s.errorf("%w", ctx.Err())
		}
	}
	var saveErr error
	if len(s.saveErrs) > 0 {
		// Each was noted; the source fails, so `sources` shows it and the
		// run exits 1, and the documents listing them are read again.
		saveErr = s.errorf("%d item(s) could not be saved, to be retried next run (the first: %w)", len(s.saveErrs), s.saveErrs[0])
	}
	if !worked {
		if len(failures) == 0 && saveErr == nil {
			return s.errorf("no layer gave any item (no feed, sitemap or listing configured or found)")
		}
		return errors.Join(append(failures, saveErr)...)
	}
	return saveErr
}

// unreachable reports whether err says the host itself is not answering
// (a timeout, a refused connection, robots.txt unavailable), as opposed to
// one bad document.
func unreachable(err error) bool {
	var ne net.Error
	return errors.Is(err, fetch.ErrTimeout) || errors.Is(err, fetch.ErrRobotsUnavailable) || errors.As(err, &ne)
}

// get fetches a URL conditionally, turning a block (a challenge page
// included: the fetcher recognises them) into an abort of the whole source.
func (s *sourceRun) get(ctx context.Context, u string) (*fetch.Response, error) {
	prev, err := s.p.opts.Store.FetchState(ctx, u)
	if err != nil {
		return nil, s.errorf("load fetch state of %s: %w", u, err)
	}
	return s.fetchWith(ctx, u, prev)
}

// fetchWith fetches u, conditionally on prev's validators when it has any,
// with get's accounting and its aborts on blocks, rate limits and challenge
// pages.
func (s *sourceRun) fetchWith(ctx context.Context, u string, prev evidence.FetchState) (*fetch.Response, error) {
	s.r.Requests++
	resp, err := s.p.opts.Fetcher.Get(ctx, u, prev)
	if err != nil {
		if errors.Is(err, fetch.ErrBlocked) {
			s.r.Blocked = true
			return nil, errAbort{s.errorf("blocked: %w", err)}
		}
		// A 429 that outlasted the fetcher's retries (each after the
		// Retry-After the site asked for) is about the whole host, not this
		// URL: stop the source for this run instead of sending every other
		// feed, sitemap and item page into the same storm.
		var se *fetch.StatusError
		if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
			return nil, errAbort{s.errorf("rate limited by the site (HTTP 429 after honouring Retry-After); no more requests this run: %w", err)}
		}
		if ctx.Err() != nil {
			return nil, errAbort{s.errorf("%w", ctx.Err())}
		}
		return nil, err // names the URL and the cause; callers add source and layer
	}
	if resp.NotModified || resp.Unchanged {
		s.r.NotModified++
	} else {
		s.r.Fetched++ // a bot-challenge page came back as fetch.ErrBlocked
	}
	s.p.progress(Event{Source: s.src.ID, Kind: "fetched", URL: u})
	return resp, nil
}

// feeds ingests each feed URL. A feed that answers 304 works.
func (s *sourceRun) feeds(ctx context.Context, urls []string, layer string) (bool, error) {
	var errs []error
	worked := false
	for _, u := range urls {
		ok, err := s.feed(ctx, u, layer)
		var abort errAbort
		if errors.As(err, &abort) {
			return worked, err
		}
		if err != nil {
			errs = append(errs, err)
		}
		worked = worked || ok
	}
	return worked, errors.Join(errs...)
}

func (s *sourceRun) feed(ctx context.Context, feedURL, layer string) (bool, error) {
	resp, err := s.get(ctx, feedURL)
	if err != nil {
		return false, s.layerErr(err, "feed")
	}
	if resp.NotModified || resp.Unchanged {
		return true, nil
	}
	base, _ := url.Parse(resp.URL)
	items, partial, err := readFeed(resp.Body, base)
	if err != nil {
		return false, s.errorf("feed %s: %w", feedURL, err)
	}
	if partial != nil {
		s.note(s.errorf("feed %s: %w", feedURL, partial))
	}
	if len(items) == 0 {
		return false, s.errorf("feed %s: 0 items from layer %s (the feed parsed but held no entries)", feedURL, layer)
	}
	dated := 0
	doc := &document{}
	for i := range items {
		if items[i].Published != nil {
			dated++
		}
		if err := s.process(ctx, candidate{URL: items[i].URL, Layer: layer, Feed: &items[i], doc: doc}); err != nil {
			return true, err
		}
	}
	if dated == 0 {
		s.note(s.errorf("feed %s: none of %d items has a valid date", feedURL, len(items)))
	}
	// Saved only after every item is, so a run killed half-way, or one
	// that could not save an item, reads the whole feed again.
	if !doc.settled() {
		s.p.log.Info("feed validators not saved: some items are owed", "source", s.src.ID, "url", feedURL, "unsettled", doc.unsettled)
		return true, nil
	}
	if partial != nil {
		// A cut-off copy: ask for the whole feed again next run.
		return true, nil
	}
	if err := s.p.opts.Store.PutFetchState(ctx, resp.State); err != nil {
		return true, s.errorf("feed %s: save fetch state: %w", feedURL, err)
	}
	return true, nil
}

// layerErr names the source and the layer of a fetch error (which names
// its URL): "ingest kings-fund: sitemap: fetch https://…: HTTP 404". Aborts
// pass through unchanged.
func (s *sourceRun) layerErr(err error, layer string) error {
	var abort errAbort
	if errors.As(err, &abort) {
		return err
	}
	return s.errorf("%s: %w", layer, err)
}

func (s *sourceRun) canonical(raw string) string { return s.src.canonical(raw) }

// The readers below are each layer's reading of one document. The layers
// and Try (`sources try`) both call them, so what try shows is what ingest
// does.

// readFeed is the feed layer's reading of a feed: its entries. A feed cut
// off at the end keeps the entries before the damage: partial says so, and
// err is set only when the feed could not be read.
func readFeed(body []byte, base *url.URL) (items []evidence.Item, partial, err error) {
	items, err = feed.Parse(bytes.NewReader(body), base)
	var pe *feed.PartialError
	if errors.As(err, &pe) {
		return items, err, nil
	}
	return items, nil, err
}

// readSitemap is the sitemap layer's reading of a sitemap. A sitemap that
// fails part-way keeps the entries read before the fault: partial is that
// fault, and err is set only when nothing could be read.
func readSitemap(body []byte) (sm page.Sitemap, partial, err error) {
	sm, err = page.ParseSitemap(bytes.NewReader(body))
	if err != nil && len(sm.Entries) > 0 {
		return sm, err, nil
	}
	return sm, nil, err
}

// readListing is the listing layer's reading of a listing page: the links
// that are the source's items under its patterns, and its pagination.
func (s Source) readListing(body []byte, base *url.URL) (page.Listing, error) {
	return page.HarvestLinks(bytes.NewReader(body), base, s.Include, s.Exclude, s.Pagination)
}

// itemURL is raw's canonical form and whether it is an item of the source
// (what the pipeline's candidate filter decides).
func (s Source) itemURL(raw string) (string, bool) {
	c := s.canonical(raw)
	return c, c != "" && s.IsItemURL(c)
}
