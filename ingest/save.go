package ingest

import (
	"context"
	"errors"
	"slices"

	"github.com/evidencetracker/evidence"
)

// ItemSaver is a store that finds the duplicate, writes and records aliases
// in one transaction (store.SaveItem), so two sources saving one work at
// once store it once. The pipeline uses it when its Store has it.
type ItemSaver interface {
	SaveItem(ctx context.Context, it *evidence.Item, opts evidence.SaveOptions) (evidence.SaveResult, error)
}

// ReportLike reports whether items of type t are reports (report,
// briefing, publication, long read, data): only such items are the same
// work by a shared PDF. The importer uses the same rule.
func ReportLike(t string) bool { return reportLike(t) }

// save stores it (dedupe, upsert or announce, aliases) and returns the ID of
// the item the candidate now belongs to.
func (s *sourceRun) save(ctx context.Context, it *evidence.Item, aliases []string) (string, error) {
	st := s.p.opts.Store
	if sv, ok := st.(ItemSaver); ok {
		return s.saveOnce(ctx, sv, it, aliases)
	}
	// A Store without SaveItem (a test double, a wrapper): the same rules
	// in separate transactions.
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

// saveOnce saves it through the store's one-transaction SaveItem.
func (s *sourceRun) saveOnce(ctx context.Context, sv ItemSaver, it *evidence.Item, aliases []string) (string, error) {
	res, err := sv.SaveItem(ctx, it, evidence.SaveOptions{Aliases: aliases, ReportLike: reportLike})
	if err != nil {
		if errors.Is(err, evidence.ErrInvalid) || errors.Is(err, evidence.ErrConflict) {
			return "", s.errorf("save %s: %w", it.URL, err)
		}
		return "", errAbort{s.errorf("save %s: %w", it.URL, err)}
	}
	for _, a := range res.RefusedAliases {
		s.p.log.Debug("alias is an item of its own", "alias", a, "target", res.URL)
	}
	switch {
	case res.Merged:
		s.r.Merged++
		s.p.log.Info("same work announced by two publishers", "source", s.src.ID, "url", it.URL, "item", res.ID, "rule", res.Rule)
	case res.Result == evidence.Created:
		s.r.New++
	case res.Result == evidence.Updated:
		s.r.Updated++
	default:
		s.r.Unchanged++
	}
	return res.ID, nil
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
