package index

import (
	"slices"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// TestFirstSeenBounds checks Query.FirstSeenFrom and FirstSeenBefore
// against the corpus itself: FirstSeenFrom <= first seen <
// FirstSeenBefore, exact instants, alone or with text and other filters.
func TestFirstSeenBounds(t *testing.T) {
	x := openCorpus(t)
	items := corpus(t)
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	want := func(from, before *time.Time, keep func(evidence.Item) bool) []string {
		var ids []string
		for _, it := range items {
			if (from == nil || !it.FirstSeen.Before(*from)) && (before == nil || it.FirstSeen.Before(*before)) && (keep == nil || keep(it)) {
				ids = append(ids, it.ID)
			}
		}
		slices.Sort(ids)
		return ids
	}
	kings := func(it evidence.Item) bool { return it.Source == evidence.SourceKingsFund }
	for _, tc := range []struct {
		name         string
		q            Query
		from, before *time.Time
		keep         func(evidence.Item) bool
	}{
		{"from a day", Query{}, day("2024-02-21"), nil, nil},
		{"from is inclusive", Query{}, at("2024-02-22T00:00:00Z"), nil, nil},
		{"a nanosecond later excludes that day's items", Query{}, at("2024-02-22T00:00:00.000000001Z"), nil, nil},
		{"before is exclusive", Query{}, nil, day("2024-02-22"), nil},
		{"a window", Query{}, day("2023-11-01"), day("2024-02-22"), nil},
		{"an empty window", Query{}, day("2030-01-01"), nil, nil},
		{"with a source filter", Query{Sources: []string{evidence.SourceKingsFund}}, day("2023-10-01"), nil, kings},
		{"with text", Query{Text: "prescribing"}, day("2024-02-21"), nil, func(it evidence.Item) bool {
			return slices.Contains([]string{idSocialOlder, idSocialGP, idLinkWorkers}, it.ID)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.FirstSeenFrom, q.FirstSeenBefore, q.Limit, q.NoFacets = tc.from, tc.before, 100, true
			res, err := x.Search(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			got := hitIDs(res)
			slices.Sort(got)
			if w := want(tc.from, tc.before, tc.keep); !slices.Equal(got, w) || res.Total != uint64(len(w)) {
				t.Errorf("got %v (total %d), want %v", got, res.Total, w)
			}
		})
	}
}
