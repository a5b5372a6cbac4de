package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/evidencetracker/evidence"
)

// SaveOptions and SaveResult are declared in the domain package so the
// pipeline and the importer can use them without importing store.
type (
	SaveOptions = evidence.SaveOptions
	SaveResult  = evidence.SaveResult
)

// SaveItem saves one incoming item the way the pipeline and the importer
// both do, in one write transaction (BEGIN IMMEDIATE): it looks for the
// stored item that is the same work (FindDuplicate's rules: URL, alias,
// DOI, PDF for report-like types, title and date), decides, writes, and
// records opts.Aliases. Because find and write hold the write lock
// together, two sources saving one work at once store it once.
//
// Without opts.Merge (ingest):
//   - no duplicate, a PDF match whose stored item is not report-like, or
//     a DOI, PDF or title match of the item's own source (the same work
//     under two URLs of one publisher): it is upserted at its URL;
//   - a URL or alias match of its own source: the stored item is updated
//     (under its canonical URL, it.URL becoming an alias);
//   - any match of another source: it.Source is added to the stored
//     item's announced_by and it.URL becomes an alias (Merged).
//
// With opts.Merge (import) every match folds it into the stored item.
//
// it is updated like UpsertItem does when it is written (URL, ID,
// FirstSeen, AnnouncedBy, ContentHash); a merged announcement leaves it
// alone. The error wraps evidence.ErrInvalid for an item without URL and
// evidence.ErrConflict when a new item's ID is taken.
func (s *Store) SaveItem(ctx context.Context, it *evidence.Item, opts SaveOptions) (SaveResult, error) {
	if it == nil {
		return SaveResult{}, fmt.Errorf("store: save item: nil item: %w", evidence.ErrInvalid)
	}
	if strings.TrimSpace(it.URL) == "" {
		return SaveResult{}, fmt.Errorf("store: save item %q: url is required: %w", it.Title, evidence.ErrInvalid)
	}
	var (
		out     SaveResult
		written *evidence.Item
	)
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		// Work on a copy: a failed transaction leaves *it as it was.
		work := *it
		out, written = SaveResult{}, nil
		dup, rule, err := findSaveDuplicate(ctx, tx, &work, opts)
		if err != nil {
			return err
		}
		out.Rule = rule
		aliases := slices.Clone(opts.Aliases)
		switch {
		case dup == nil:
			if opts.Prepare != nil {
				if err := opts.Prepare(&work); err != nil {
					return err
				}
			}
		case opts.Merge != nil:
			aliases = append(aliases, work.URL)
			work = opts.Merge(*dup, work)
			work.ContentHash = ""
			out.Merged = true
		case rule == RuleURL || rule == RuleAlias:
			if dup.Source != work.Source {
				return s.announceTx(ctx, tx, dup, &work, append(aliases, work.URL), opts, &out)
			}
			if rule == RuleAlias && dup.URL != work.URL {
				aliases = append(aliases, work.URL)
				work.URL = dup.URL
			}
		case dup.Source == work.Source:
			// Same work under two URLs of one publisher (a report and its
			// news item, say): keep both.
		default:
			return s.announceTx(ctx, tx, dup, &work, append(aliases, work.URL), opts, &out)
		}
		if work.ContentHash == "" {
			work.ContentHash = evidence.ComputeHash(&work)
		}
		u, err := s.upsertTx(ctx, tx, &work)
		if err != nil {
			return err
		}
		u.apply(&work)
		out.Result, out.ID, out.URL = u.res, u.id, work.URL
		if out.RefusedAliases, err = s.aliasesTx(ctx, tx, aliases, work.URL, opts.KeepAliases); err != nil {
			return err
		}
		written = &work
		return nil
	})
	if err != nil {
		return SaveResult{}, fmt.Errorf("store: save item %q: %w", it.URL, err)
	}
	if written != nil {
		*it = *written
	}
	s.log.Debug("store: saved item", "id", out.ID, "url", out.URL, "result", out.Result.String(),
		"rule", out.Rule, "merged", out.Merged)
	return out, nil
}

// findSaveDuplicate runs FindDuplicate's rules for it inside tx and loads
// the stored item found, or returns nil. A PDF match with a stored item
// that is not report-like is no match (a blog linking a report's PDF is
// not the report).
func findSaveDuplicate(ctx context.Context, tx *sql.Tx, it *evidence.Item, opts SaveOptions) (*evidence.Item, string, error) {
	q := DupQuery{URL: it.URL, Aliases: opts.Aliases, DOI: it.DOI, Title: it.Title, Published: it.Published, Window: opts.Window}
	if opts.ReportLike != nil && opts.ReportLike(it.Type) {
		q.PDFURLs = it.PDFURLs
	}
	id, rule, err := findDuplicateID(ctx, tx, q)
	if err != nil || id == "" {
		return nil, "", err
	}
	items, err := queryItems(ctx, tx, `SELECT `+itemCols+` FROM items WHERE id = ?`, id)
	if err != nil {
		return nil, "", fmt.Errorf("duplicate %q: %w", id, err)
	}
	if len(items) == 0 {
		return nil, "", nil
	}
	dup := items[0]
	if rule == RulePDF && !opts.ReportLike(dup.Type) {
		return nil, "", nil
	}
	return &dup, rule, nil
}

// announceTx records that it's source announced dup, another publisher's
// item: one item, several announcers; it's URLs become aliases of dup.
func (s *Store) announceTx(ctx context.Context, tx *sql.Tx, dup, it *evidence.Item, aliases []string,
	opts SaveOptions, out *SaveResult) error {
	have, err := announcers(ctx, tx, dup.ID)
	if err != nil {
		return err
	}
	if it.Source != "" && !slices.Contains(have, it.Source) {
		b, err := json.Marshal(mergeStrings(have, []string{it.Source}))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE items SET announced_by = ?, updated_at = ? WHERE id = ?`,
			string(b), fmtTime(s.now()), dup.ID); err != nil {
			return fmt.Errorf("add announcer %q to %q: %w", it.Source, dup.ID, err)
		}
	}
	out.Result, out.ID, out.URL, out.Merged = evidence.Unchanged, dup.ID, dup.URL, true
	out.RefusedAliases, err = s.aliasesTx(ctx, tx, aliases, dup.URL, opts.KeepAliases)
	return err
}

// aliasesTx records each of aliases as another URL of target, skipping
// empty ones and target itself. One that is a stored item's own URL is
// refused (returned) and the others still go in; with keep, one already
// leading to an item is left alone.
func (s *Store) aliasesTx(ctx context.Context, tx *sql.Tx, aliases []string, target string, keep bool) ([]string, error) {
	var refused []string
	for _, a := range mergeStrings(nil, aliases) {
		if strings.TrimSpace(a) == "" || a == target {
			continue
		}
		if keep {
			if _, known, err := canonicalFor(ctx, tx, a); err != nil {
				return nil, fmt.Errorf("alias %q: %w", a, err)
			} else if known {
				continue
			}
		}
		if err := s.addAliasTx(ctx, tx, a, target); err != nil {
			if errors.Is(err, evidence.ErrConflict) {
				refused = append(refused, a)
				continue
			}
			return nil, fmt.Errorf("alias %q → %q: %w", a, target, err)
		}
	}
	return refused, nil
}
