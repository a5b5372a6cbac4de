package ingest

import (
	"context"
	"errors"
	"net/url"
	"sort"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/page"
)

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
	// Each file read in full is a document whose validators are saved
	// after the items it listed (and, for an index, its sitemaps') are.
	type read struct {
		doc   *document
		state evidence.FetchState
	}
	var reads []read
	var walk func(u string, depth int, parent *document) error
	walk = func(u string, depth int, parent *document) error {
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
		sm, partial, err := readSitemap(resp.Body)
		if err != nil {
			return s.errorf("sitemap %s: %w", u, err)
		}
		if partial != nil {
			s.note(s.errorf("sitemap %s: %v (kept the %d entries read before it)", u, partial, len(sm.Entries)))
		}
		if sm.Truncated {
			s.note(s.errorf("sitemap %s: more than %d entries; the rest were not read", u, len(sm.Entries)))
		}
		worked = true
		doc := &document{}
		if parent != nil {
			parent.children = append(parent.children, doc)
		}
		reads = append(reads, read{doc, resp.State})
		if sm.Kind == page.KindSitemapIndex {
			for _, e := range sm.Entries {
				if err := walk(e.Loc, depth+1, doc); err != nil {
					var abort errAbort
					if errors.As(err, &abort) {
						return err
					}
					errs = append(errs, err)
					doc.unsettle() // read this sitemap again next run
				}
			}
			return nil
		}
		entries += len(sm.Entries)
		for _, e := range sm.Entries {
			cands = append(cands, candidate{URL: e.Loc, Layer: LayerSitemap, LastMod: e.LastMod, doc: doc})
		}
		return nil
	}
	for _, u := range urls {
		if err := walk(u, 0, nil); err != nil {
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
		if _, ok := s.src.itemURL(c.URL); ok {
			items++
		}
		if err := s.process(ctx, c); err != nil {
			return worked, err
		}
	}
	if worked && entries > 0 && items == 0 {
		errs = append(errs, s.errorf("0 items from layer sitemap: %d URLs in %d file(s), none matched the include patterns (has the URL scheme changed?)", entries, files))
	}
	for _, rd := range reads {
		if !rd.doc.settled() {
			s.p.log.Info("sitemap validators not saved: some items are owed", "source", s.src.ID, "url", rd.state.URL)
			continue
		}
		if err := s.p.opts.Store.PutFetchState(ctx, rd.state); err != nil {
			errs = append(errs, s.errorf("sitemap %s: save fetch state: %w", rd.state.URL, err))
			break
		}
	}
	return worked && (items > 0 || entries == 0), errors.Join(errs...)
}
