package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
)

// Marks of a listing walk, kept as the signature of the candidate keyed
// listingWalkKey.
const (
	walkComplete = "complete" // the last saved walk reached the end of the pagination
	walkCut      = "cut"      // it stopped at the page limit
)

// listingWalkKey is the candidate key under which the outcome of a listing
// walk is remembered (no item URL looks like it).
func listingWalkKey(start string) string { return "listing-walk " + start }

// listings harvests item links from listing pages, following pagination.
//
// A walk is one document: the validators of its pages are saved only when
// the walk ends normally (the end of the pagination, the page limit, or a
// page that has not changed) and every item it listed is settled, and then
// the first page last. A walk cut by an error, a kill, or an item that
// could not be saved leaves the first page's old validators, so the next
// run reads the walk again from the start. A backfill reads every page in
// full (not conditionally) until a walk has once reached the end, so pages
// beyond an earlier run's page limit are read too.
func (s *sourceRun) listings(ctx context.Context) (bool, error) {
	var errs []error
	worked := false
	for _, start := range s.src.Listings {
		ok, err := s.listing(ctx, start)
		var abort errAbort
		if errors.As(err, &abort) {
			return worked || ok, err
		}
		if err != nil {
			errs = append(errs, err)
		}
		worked = worked || ok
	}
	return worked, errors.Join(errs...)
}

// listing walks one listing from its first page.
func (s *sourceRun) listing(ctx context.Context, start string) (bool, error) {
	st := s.p.opts.Store
	key := listingWalkKey(start)
	unconditional := false
	if s.ro.Backfill {
		mark, _, _, err := st.Candidate(ctx, key)
		if err != nil {
			return false, errAbort{s.errorf("listing %s: load walk state: %w", start, err)}
		}
		unconditional = mark != walkComplete
	}
	doc := &document{}
	var states []evidence.FetchState // of the pages read in full, in walk order
	queue := []string{start}
	visited := map[string]bool{}
	worked := false
	unchanged := false // the walk ended at a page that has not changed
	for len(queue) > 0 && len(visited) < s.ro.maxPages() {
		u := queue[0]
		queue = queue[1:]
		key := s.p.Canonical(u)
		if visited[key] {
			continue
		}
		visited[key] = true
		var resp *fetch.Response
		var err error
		if unconditional {
			resp, err = s.fetchWith(ctx, u, evidence.FetchState{})
		} else {
			resp, err = s.get(ctx, u)
		}
		if err != nil {
			var abort errAbort
			if errors.As(err, &abort) {
				return worked, err
			}
			return worked, s.layerErr(s.walkErr(start, len(visited), err), "listing")
		}
		if resp.NotModified || resp.Unchanged {
			worked = true
			unchanged = true
			break // nothing new on this page, so none on older ones
		}
		base, _ := url.Parse(resp.URL)
		l, err := s.src.readListing(resp.Body, base)
		if err != nil {
			return worked, s.errorf("listing %s: %w", u, s.walkErr(start, len(visited), err))
		}
		if len(l.Items) == 0 {
			why := "has the layout changed?"
			if l.Links < 5 {
				why = "the links may be rendered client-side; rely on the sitemap"
			}
			return worked, s.errorf("listing %s: 0 items from layer listing (%d links on the page, none matched the include patterns; %s)", u, l.Links, why)
		}
		worked = true
		for i := range l.Items {
			if err := s.process(ctx, candidate{URL: l.Items[i].URL, Layer: LayerListing, Listed: &l.Items[i], doc: doc}); err != nil {
				return worked, err
			}
		}
		states = append(states, resp.State)
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
	cut := !unchanged && slices.ContainsFunc(queue, func(u string) bool { return !visited[s.p.Canonical(u)] })
	// A backfill asked for every page: say when the page limit cut it (an
	// endless pagination loop ends here too), so the report shows it, not
	// only the log.
	if s.ro.Backfill && cut {
		s.note(s.errorf("listing %s: stopped after %d pages (the page limit, --max-pages); older pages were not read", start, len(visited)))
	}
	if !doc.settled() {
		s.p.log.Info("listing validators not saved: some items are owed", "source", s.src.ID, "url", start, "unsettled", doc.unsettled)
		return worked, nil
	}
	// The first page last: until it is saved, the next run walks again.
	for _, fs := range slices.Backward(states) {
		if err := st.PutFetchState(ctx, fs); err != nil {
			return worked, s.errorf("listing %s: save fetch state: %w", fs.URL, err)
		}
	}
	mark := ""
	switch {
	case cut:
		mark = walkCut
	case !unchanged:
		mark = walkComplete
	}
	if mark != "" {
		if err := st.PutCandidate(ctx, key, s.src.ID, mark, ""); err != nil {
			return worked, s.errorf("listing %s: save walk state: %w", start, err)
		}
	}
	return worked, nil
}

// walkErr says where a listing walk stopped when a page beyond the first
// failed.
func (s *sourceRun) walkErr(start string, page int, err error) error {
	if page <= 1 {
		return err
	}
	return fmt.Errorf("page %d of the walk from %s (no page of it is marked read: the next run walks again from the start): %w", page, start, err)
}
