package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/feed"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/ingest/page"
	"github.com/evidencetracker/evidence/ingest/text"
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
	p      *Pipeline
	src    Source
	ro     RunOptions
	r      *Report
	seen   map[string]bool
	budget int
	// pendingStates are sitemap validators saved after their items.
	pendingStates []evidence.FetchState
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
	if !worked {
		if len(failures) == 0 {
			return s.errorf("no layer gave any item (no feed, sitemap or listing configured or found)")
		}
		return errors.Join(failures...)
	}
	return nil
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
	items, err := feed.Parse(bytes.NewReader(resp.Body), base)
	if err != nil {
		return false, s.errorf("feed %s: %w", feedURL, err)
	}
	if len(items) == 0 {
		return false, s.errorf("feed %s: 0 items from layer %s (the feed parsed but held no entries)", feedURL, layer)
	}
	dated := 0
	for i := range items {
		if items[i].Published != nil {
			dated++
		}
		if err := s.process(ctx, candidate{URL: items[i].URL, Layer: layer, Feed: &items[i]}); err != nil {
			return true, err
		}
	}
	if dated == 0 {
		s.note(s.errorf("feed %s: none of %d items has a valid date", feedURL, len(items)))
	}
	// Saved only after every item, so a run killed half-way reads the
	// whole feed again.
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

// discover looks for feeds advertised on the home page. The home page is
// fetched conditionally; the feeds it advertised are remembered (as the
// signature of a candidate keyed discoveredKey), so a 304 still says which
// feeds to read.
func (s *sourceRun) discover(ctx context.Context) (bool, error) {
	resp, err := s.get(ctx, s.src.Home)
	if err != nil {
		var abort errAbort
		if errors.As(err, &abort) {
			return false, err
		}
		s.p.log.Debug("feed discovery: home page unavailable", "source", s.src.ID, "err", err)
		return false, nil
	}
	key := discoveredKey(s.src.Home)
	var feeds []string
	if resp.NotModified || resp.Unchanged {
		sig, _, _, err := s.p.opts.Store.Candidate(ctx, key)
		if err != nil {
			return false, s.errorf("home page: load discovered feeds: %w", err)
		}
		feeds = strings.Fields(sig)
	} else {
		base, _ := url.Parse(resp.URL)
		if l, err := page.HarvestLinks(bytes.NewReader(resp.Body), base, nil, nil, nil); err == nil {
			for _, f := range l.FeedLinks {
				if c := s.p.Canonical(f.URL); c != "" && s.src.ownsURL(c) && !strings.Contains(c, "/comments/") {
					feeds = append(feeds, f.URL)
				}
			}
		}
		// The list first: validators saved without it would leave a 304
		// with nothing to read.
		if err := s.p.opts.Store.PutCandidate(ctx, key, s.src.ID, strings.Join(feeds, " "), ""); err != nil {
			return false, s.errorf("home page: save discovered feeds: %w", err)
		}
		if err := s.p.opts.Store.PutFetchState(ctx, resp.State); err != nil {
			return false, s.errorf("home page: save fetch state: %w", err)
		}
		if len(feeds) > 0 {
			s.p.log.Info("feeds discovered on the home page", "source", s.src.ID, "feeds", feeds)
		}
	}
	if len(feeds) == 0 {
		return false, nil
	}
	return s.feeds(ctx, feeds, LayerDiscover)
}

// discoveredKey is the candidate key under which the feeds a home page
// advertises are remembered (no item URL looks like it).
func discoveredKey(home string) string { return "discovered-feeds " + home }

// sitemaps walks the configured sitemaps, else those robots.txt names,
// else the usual places.
func (s *sourceRun) sitemaps(ctx context.Context) (bool, error) {
	urls := s.src.Sitemaps
	guessed := false
	if len(urls) == 0 {
		home, err := url.Parse(s.src.Home)
		if err != nil || home.Host == "" {
			return false, nil
		}
		if sm, err := s.p.opts.Fetcher.Sitemaps(ctx, home.Host); err == nil && len(sm) > 0 {
			urls = sm
		} else {
			guessed = true
			for _, p := range []string{"/sitemap_index.xml", "/sitemap.xml", "/wp-sitemap.xml"} {
				urls = append(urls, home.Scheme+"://"+home.Host+p)
			}
		}
	}
	var cands []candidate
	var errs []error
	files, entries := 0, 0
	worked := false
	visited := map[string]bool{}
	var walk func(u string, depth int) error
	walk = func(u string, depth int) error {
		if visited[u] || files >= maxSitemapFiles || depth > maxSitemapDepth {
			return nil
		}
		visited[u] = true
		files++
		resp, err := s.get(ctx, u)
		if err != nil {
			return s.layerErr(err, "sitemap")
		}
		if resp.NotModified || resp.Unchanged {
			worked = true
			return nil
		}
		sm, err := page.ParseSitemap(bytes.NewReader(resp.Body))
		if err != nil {
			if len(sm.Entries) == 0 {
				return s.errorf("sitemap %s: %w", u, err)
			}
			s.note(s.errorf("sitemap %s: %v (kept the %d entries read before it)", u, err, len(sm.Entries)))
		}
		if sm.Truncated {
			s.note(s.errorf("sitemap %s: more than %d entries; the rest were not read", u, len(sm.Entries)))
		}
		worked = true
		s.putStateLater(resp.State)
		if sm.Kind == page.KindSitemapIndex {
			for _, e := range sm.Entries {
				if err := walk(e.Loc, depth+1); err != nil {
					var abort errAbort
					if errors.As(err, &abort) {
						return err
					}
					errs = append(errs, err)
				}
			}
			return nil
		}
		entries += len(sm.Entries)
		for _, e := range sm.Entries {
			cands = append(cands, candidate{URL: e.Loc, Layer: LayerSitemap, LastMod: e.LastMod})
		}
		return nil
	}
	for _, u := range urls {
		if err := walk(u, 0); err != nil {
			var abort errAbort
			if errors.As(err, &abort) {
				return worked, err
			}
			if guessed {
				s.p.log.Debug("no sitemap here", "source", s.src.ID, "url", u, "err", err)
				continue
			}
			errs = append(errs, err)
		}
		if guessed && worked {
			break
		}
	}
	if guessed && !worked {
		return false, nil
	}
	// Newest first, so the per-run cap keeps the newest items.
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i].LastMod, cands[j].LastMod
		return a != nil && (b == nil || a.After(*b))
	})
	items := 0
	for _, c := range cands {
		if s.src.IsItemURL(s.canonical(c.URL)) {
			items++
		}
		if err := s.process(ctx, c); err != nil {
			return worked, err
		}
	}
	if worked && entries > 0 && items == 0 {
		errs = append(errs, s.errorf("0 items from layer sitemap: %d URLs in %d file(s), none matched the include patterns (has the URL scheme changed?)", entries, files))
	}
	if err := s.flushStates(ctx); err != nil {
		errs = append(errs, err)
	}
	return worked && (items > 0 || entries == 0), errors.Join(errs...)
}

// listings harvests item links from listing pages, following pagination.
func (s *sourceRun) listings(ctx context.Context) (bool, error) {
	var errs []error
	worked := false
	for _, start := range s.src.Listings {
		queue := []string{start}
		visited := map[string]bool{}
		stopped := false // the walk ended early (an error, 304, no items), not at the page limit
		for len(queue) > 0 && len(visited) < s.ro.maxPages() {
			u := queue[0]
			queue = queue[1:]
			key := s.p.Canonical(u)
			if visited[key] {
				continue
			}
			visited[key] = true
			resp, err := s.get(ctx, u)
			if err != nil {
				var abort errAbort
				if errors.As(err, &abort) {
					return worked, err
				}
				errs = append(errs, s.layerErr(err, "listing"))
				stopped = true
				break
			}
			if resp.NotModified || resp.Unchanged {
				worked = true
				stopped = true
				break // nothing new on this page, so none on older ones
			}
			base, _ := url.Parse(resp.URL)
			l, err := page.HarvestLinks(bytes.NewReader(resp.Body), base, s.src.Include, s.src.Exclude, s.src.Pagination)
			if err != nil {
				errs = append(errs, s.errorf("listing %s: %w", u, err))
				stopped = true
				break
			}
			if len(l.Items) == 0 {
				why := "has the layout changed?"
				if l.Links < 5 {
					why = "the links may be rendered client-side; rely on the sitemap"
				}
				errs = append(errs, s.errorf("listing %s: 0 items from layer listing (%d links on the page, none matched the include patterns; %s)", u, l.Links, why))
				stopped = true
				break
			}
			worked = true
			for i := range l.Items {
				if err := s.process(ctx, candidate{URL: l.Items[i].URL, Layer: LayerListing, Listed: &l.Items[i]}); err != nil {
					return worked, err
				}
			}
			if err := s.p.opts.Store.PutFetchState(ctx, resp.State); err != nil {
				return worked, s.errorf("listing %s: save fetch state: %w", u, err)
			}
			next := l.Pagination
			if l.Next != "" {
				next = append([]string{l.Next}, next...)
			}
			for _, n := range next {
				if !visited[s.p.Canonical(n)] {
					queue = append(queue, n)
				}
			}
		}
		// A backfill asked for every page: say when the page limit cut it
		// (an endless pagination loop ends here too), so the report shows
		// it, not only the log.
		if s.ro.Backfill && !stopped && slices.ContainsFunc(queue, func(u string) bool { return !visited[s.p.Canonical(u)] }) {
			s.note(s.errorf("listing %s: stopped after %d pages (the page limit, --max-pages); older pages were not read", start, len(visited)))
		}
	}
	return worked, errors.Join(errs...)
}

func (s *sourceRun) canonical(raw string) string { return s.src.canonical(raw) }

// putStateLater and flushStates save sitemap validators after the items
// they listed.
func (s *sourceRun) putStateLater(st evidence.FetchState) {
	s.pendingStates = append(s.pendingStates, st)
}

func (s *sourceRun) flushStates(ctx context.Context) error {
	for _, st := range s.pendingStates {
		if err := s.p.opts.Store.PutFetchState(ctx, st); err != nil {
			return s.errorf("save fetch state of %s: %w", st.URL, err)
		}
	}
	s.pendingStates = nil
	return nil
}

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
	if s.seen[canon] {
		return nil
	}
	s.seen[canon] = true
	s.r.Items++
	sig := c.signature()
	st := s.p.opts.Store
	prevSig, itemID, known, err := st.Candidate(ctx, canon)
	if err != nil {
		return errAbort{s.errorf("item %s: %w", canon, err)}
	}
	if known && itemID != "" && (prevSig == sig || c.Feed == nil && c.LastMod == nil) {
		s.r.Unchanged++
		return nil
	}
	if s.budget <= 0 {
		s.r.Deferred++
		return nil
	}
	s.budget--

	it, aliases, state, err := s.build(ctx, canon, c)
	if err != nil {
		var abort errAbort
		if errors.As(err, &abort) {
			return err
		}
		s.r.Skipped++
		s.note(err)
		return nil
	}
	if it == nil { // page unchanged and already stored
		s.r.Unchanged++
		return st.PutCandidate(ctx, canon, s.src.ID, sig, itemID)
	}
	id, err := s.save(ctx, it, aliases)
	if err != nil {
		var abort errAbort
		if errors.As(err, &abort) {
			return err
		}
		s.r.Skipped++
		s.note(err)
		return nil
	}
	if state != nil {
		if err := st.PutFetchState(ctx, *state); err != nil {
			return errAbort{s.errorf("item %s: save fetch state: %w", canon, err)}
		}
	}
	if err := st.PutCandidate(ctx, canon, s.src.ID, sig, id); err != nil {
		return errAbort{s.errorf("item %s: %w", canon, err)}
	}
	s.p.progress(Event{Source: s.src.ID, Kind: "item", URL: it.URL})
	return nil
}

// build fetches an item's page and merges what the page and the layer say.
// It returns a nil item when the page is unchanged and nothing new came
// from the layer.
func (s *sourceRun) build(ctx context.Context, canon string, c candidate) (*evidence.Item, []string, *evidence.FetchState, error) {
	resp, err := s.get(ctx, canon)
	var meta *page.Meta
	var state *evidence.FetchState
	aliases := []string{}
	itemURL := canon
	switch {
	case err != nil:
		var abort errAbort
		if errors.As(err, &abort) {
			return nil, nil, nil, err
		}
		if c.Feed == nil {
			return nil, nil, nil, s.errorf("item page: %w", err)
		}
		// The feed says enough to keep the item.
		s.note(s.errorf("item page: %w (kept the feed's metadata)", err))
	case resp.NotModified || resp.Unchanged:
		stored, err := s.p.opts.Store.ItemByURL(ctx, canon)
		if err == nil && c.Feed == nil {
			return nil, nil, nil, nil
		}
		if err == nil {
			merged := mergeFeedIntoStored(stored, c.Feed)
			return &merged, nil, nil, nil
		}
		// Validators but no item (an interrupted run): fetch in full.
		resp, err = s.fetchWith(ctx, canon, evidence.FetchState{})
		if err != nil {
			return nil, nil, nil, s.layerErr(err, "item page")
		}
		fallthrough
	default:
		if c := s.canonical(resp.URL); c != "" && c != canon {
			if !s.src.IsItemURL(c) {
				return nil, nil, nil, s.errorf("item %s redirects to %s, which is not an item", canon, resp.URL)
			}
			aliases = append(aliases, canon)
			itemURL = c
		}
		for _, r := range resp.Redirects {
			if c := s.canonical(r); c != "" && c != itemURL {
				aliases = append(aliases, c)
			}
		}
		base, _ := url.Parse(resp.URL)
		m, err := page.Extract(bytes.NewReader(resp.Body), base)
		if err != nil {
			if c.Feed == nil {
				return nil, nil, nil, s.errorf("item page %s: %w", canon, err)
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
		st := resp.State
		state = &st
	}
	it := s.merge(itemURL, c, meta)
	if strings.TrimSpace(it.Title) == "" {
		return nil, nil, nil, s.errorf("item %s: no title in any layer", itemURL)
	}
	return &it, aliases, state, nil
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
// the item the candidate now belongs to.
func (s *sourceRun) save(ctx context.Context, it *evidence.Item, aliases []string) (string, error) {
	st := s.p.opts.Store
	q := evidence.DupQuery{URL: it.URL, Aliases: aliases, DOI: it.DOI, Title: it.Title, Published: it.Published}
	if reportLike(it.Type) {
		q.PDFURLs = it.PDFURLs
	}
	dup, rule, err := st.FindDuplicate(ctx, q)
	switch {
	case errors.Is(err, evidence.ErrNotFound):
	case err != nil:
		return "", errAbort{s.errorf("item %s: find duplicate: %w", it.URL, err)}
	case rule == "url" || rule == "alias":
		// Our own item under its URL or an old one: update it.
		if dup.Source != s.src.ID {
			return s.announce(ctx, dup, it, aliases, rule)
		}
		if rule == "alias" && dup.URL != it.URL {
			aliases = append(aliases, it.URL)
			it.URL = dup.URL
		}
	case dup.Source == s.src.ID:
		// Same work under two URLs of one publisher (a report and its
		// news item, say): keep both.
	case rule == "pdf" && !reportLike(dup.Type):
		// A blog that links the report's PDF is not the report.
	default:
		return s.announce(ctx, dup, it, aliases, rule)
	}
	res, err := st.UpsertItem(ctx, it)
	if err != nil {
		return "", s.errorf("save %s: %w", it.URL, err)
	}
	switch res {
	case evidence.Created:
		s.r.New++
	case evidence.Updated:
		s.r.Updated++
	default:
		s.r.Unchanged++
	}
	s.addAliases(ctx, aliases, it.URL)
	return it.ID, nil
}

// announce records that this source announced an item another publisher
// already has: one item, several announcers.
func (s *sourceRun) announce(ctx context.Context, dup evidence.Item, it *evidence.Item, aliases []string, rule string) (string, error) {
	if _, err := s.p.opts.Store.AddAnnouncer(ctx, dup.ID, s.src.ID); err != nil {
		return "", s.errorf("item %s: add announcer to %s: %w", it.URL, dup.ID, err)
	}
	s.r.Merged++
	s.p.log.Info("same work announced by two publishers", "source", s.src.ID, "url", it.URL, "item", dup.ID, "of", dup.Source, "rule", rule)
	s.addAliases(ctx, append(aliases, it.URL), dup.URL)
	return dup.ID, nil
}

func (s *sourceRun) addAliases(ctx context.Context, aliases []string, target string) {
	for _, a := range aliases {
		if a == "" || a == target {
			continue
		}
		if err := s.p.opts.Store.AddAlias(ctx, a, target); err != nil {
			if errors.Is(err, evidence.ErrConflict) {
				s.p.log.Debug("alias is an item of its own", "alias", a, "target", target)
				continue
			}
			s.note(s.errorf("alias %s → %s: %w", a, target, err))
		}
	}
}

// union appends the values of b missing from a, keeping order; never nil.
func union(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for _, v := range slices.Concat(a, b) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
