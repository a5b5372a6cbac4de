package digest

import (
	"fmt"
	"slices"

	"github.com/evidencetracker/evidence"
)

// Edit is one change to a week's stored draft, as `evidence digest
// pick|unpick|drop|undrop|note|move|approve|withdraw` and the draft page
// (/digests/draft) make it: both go through the same service method with
// this value, so the CLI and the browser cannot drift apart.
type Edit struct {
	// Pick, Drop, Unpick, Undrop name an item: an ID, a URL or an old
	// alias.
	Pick, Drop, Unpick, Undrop string
	// Note replaces the editor's note (Markdown) when not nil; "" removes it.
	Note *string
	// Move names an item to move within its section, or among the picks
	// when it is one: Delta -1 moves it up one place and +1 down one;
	// To moves it to that 1-based position (the last place when To is
	// past the end). Give Delta or To, not both.
	Move  string
	Delta int
	To    int
	// Approve records who approved the draft and when; Withdraw takes an
	// approval back. Any other change withdraws an approval too: what was
	// approved is not what would go.
	Approve  bool
	Withdraw bool
	// Version is the draft version the edit was made on; a draft changed
	// since is refused (evidence.ErrConflict). 0: the current one.
	Version int
}

// Moved returns ids with id moved by delta places (-1 up, +1 down) or to
// the 1-based position to; a move past either end stops there. An id not
// in the list, or a move that gives neither or both, is ErrInvalid.
func Moved(ids []string, id string, delta, to int) ([]string, error) {
	i := slices.Index(ids, id)
	if i < 0 {
		return nil, fmt.Errorf("item %s is not in the list: %w", id, evidence.ErrInvalid)
	}
	if (delta == 0) == (to == 0) {
		return nil, fmt.Errorf("move %s: give one of up, down or a position: %w", id, evidence.ErrInvalid)
	}
	if to < 0 {
		return nil, fmt.Errorf("move %s to position %d: positions start at 1: %w", id, to, evidence.ErrInvalid)
	}
	j := i + delta
	if to > 0 {
		j = to - 1
	}
	j = max(0, min(j, len(ids)-1))
	out := slices.Delete(slices.Clone(ids), i, i+1)
	return slices.Insert(out, j, id), nil
}

// placed orders a section's entries: those the editor placed (order)
// first, in that order, then the rest as they were.
func placed(entries []Entry, order []string) []Entry {
	if len(order) == 0 {
		return entries
	}
	rank := map[string]int{}
	for i, id := range order {
		if _, dup := rank[id]; !dup {
			rank[id] = i
		}
	}
	out := make([]Entry, 0, len(entries))
	var rest []Entry
	for _, e := range entries {
		if _, ok := rank[e.ID]; ok {
			out = append(out, e)
		} else {
			rest = append(rest, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return rank[a.ID] - rank[b.ID] })
	return append(out, rest...)
}
