package ingest

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/evidencetracker/evidence/ingest/page"
)

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
