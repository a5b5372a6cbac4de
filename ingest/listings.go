package ingest

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"

	"github.com/evidencetracker/evidence/ingest/page"
)

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
