package index

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

func hitIDs(r *Result) []string {
	ids := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		ids[i] = h.ID
	}
	return ids
}

func sorted(ids ...string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

func without(all []string, drop ...string) []string {
	var out []string
	for _, id := range all {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}

// TestSearchMatches checks which items a query finds, ignoring order.
func TestSearchMatches(t *testing.T) {
	x := openCorpus(t)
	social := []string{idSocialOlder, idSocialGP, idLinkWorkers}
	kings := []string{idSocialOlder, idLinkWorkers, idWaitingTimes, idWorkforce, idCrisis}
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"word", Query{Text: "prescribing"}, social},
		{"stemmed word", Query{Text: "prescribe"}, social},
		{"case and stemming", Query{Text: "PRESCRIPTIONS prescribed"}, social},
		{"any word matches", Query{Text: "schizophrenia yoga"}, []string{idSchizophrenia, idExercise}},
		{"phrase", Query{Text: `"older people"`}, []string{idSocialOlder, idLoneliness}},
		{"phrase words out of order do not match", Query{Text: `"people older"`}, nil},
		// Phrases of several words match bodies too (issue item 12): the
		// full text keeps term positions. A quoted word is a word.
		{"phrase only in body", Query{Text: `"stable funding"`}, []string{idSocialOlder}},
		{"phrase in body across a stop word", Query{Text: `"arts and gardening"`}, []string{idSocialOlder}},
		{"phrase in body across punctuation", Query{Text: `"community groups, arts"`}, []string{idSocialOlder}},
		{"phrase in body, words out of order", Query{Text: `"funding stable"`}, nil},
		{"body words apart are no phrase", Query{Text: `"stable workers"`}, nil},
		{"phrase in another item's body", Query{Text: `"heavy caseloads"`}, []string{idLinkWorkers}},
		{"excluded phrase in body", Query{Text: `prescribing -"stable funding"`}, []string{idSocialGP, idLinkWorkers}},
		{"one-word phrase in body", Query{Text: `"gardening"`}, []string{idSocialOlder}},
		{"one-word phrase with a stop word", Query{Text: `"the gardening"`}, []string{idSocialOlder}},
		{"phrase and word", Query{Text: `loneliness "older people"`}, []string{idSocialOlder, idLoneliness}},
		{"exclude word", Query{Text: "prescribing -link"}, []string{idSocialGP}},
		{"exclude phrase", Query{Text: `prescribing -"older people"`}, []string{idSocialGP, idLinkWorkers}},
		{"only exclusion", Query{Text: "-prescribing"}, without(newestOrder, social...)},
		{"author surname", Query{Text: "Patel"}, []string{idSocialOlder}},
		{"author full name", Query{Text: "Andy Bell"}, []string{idMHAct, idSchizophrenia}},
		{"body only word", Query{Text: "gardening"}, []string{idSocialOlder}},
		{"brackets and operators are plain text", Query{Text: `(prescribing AND +)`}, social},
		{"punctuation only", Query{Text: `:( ) ^~*`}, nil},
		{"stop words only", Query{Text: "the and of"}, nil},
		{"lone dash is ignored", Query{Text: "- prescribing"}, social},
		{"source filter", Query{Sources: []string{evidence.SourceKingsFund}}, kings},
		{"two sources", Query{Sources: []string{evidence.SourceKingsFund, evidence.SourceMentalElf}},
			without(newestOrder, idChildrenMH, idMHAct, idLoneliness, idHousing, idSchizophrenia)},
		{"unknown source", Query{Sources: []string{"nowhere"}}, nil},
		{"text and source", Query{Text: "prescribing", Sources: []string{evidence.SourceKingsFund}},
			[]string{idSocialOlder, idLinkWorkers}},
		{"type filter", Query{Types: []string{evidence.TypeBriefing}}, []string{idMHAct, idHousing}},
		{"types and source", Query{Types: []string{evidence.TypeReport, evidence.TypeData}, Sources: []string{evidence.SourceKingsFund}},
			[]string{idSocialOlder, idWaitingTimes, idCrisis}},
		{"date range inclusive", Query{From: day("2024-01-15"), To: day("2024-02-20")},
			[]string{idPeerSupport, idSocialGP, idHousing}},
		{"from only", Query{From: day("2024-04-02")}, []string{idWaitingTimes, idExercise, idApps}},
		{"to only", Query{To: day("2022-10-10")}, []string{idLoneliness, idSchizophrenia}},
		{"text and dates", Query{Text: "mental health", From: day("2024-02-01"), To: day("2024-12-31")},
			[]string{idHousing, idApps}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := x.Search(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Search(%+v): %v", tt.q, err)
			}
			if got, want := sorted(hitIDs(r)...), sorted(tt.want...); !slices.Equal(got, want) {
				t.Errorf("Search(%q) = %v, want %v", tt.q.Text, got, want)
			}
			if r.Total != uint64(len(tt.want)) {
				t.Errorf("Total = %d, want %d", r.Total, len(tt.want))
			}
		})
	}
}

// TestSearchOrder checks the order of hits and paging.
func TestSearchOrder(t *testing.T) {
	x := openCorpus(t)
	tests := []struct {
		name      string
		q         Query
		want      []string
		wantTotal uint64
	}{
		{"empty text is newest first", Query{}, newestOrder, 15},
		{"blank text is empty text", Query{Text: "  \t"}, newestOrder, 15},
		{"empty text ignores relevance sort", Query{Sort: SortRelevance}, newestOrder, 15},
		{"limit", Query{Limit: 3}, newestOrder[:3], 15},
		{"limit and offset", Query{Limit: 5, Offset: 5}, newestOrder[5:10], 15},
		{"offset past the end", Query{Offset: 40}, []string{}, 15},
		{"default limit", Query{Limit: 0}, newestOrder, 15},
		{"newest with text", Query{Text: "prescribing", Sort: SortNewest},
			[]string{idSocialOlder, idSocialGP, idLinkWorkers}, 3},
		{"relevance: both words in the title first", Query{Text: "social prescribing older", Limit: 1},
			[]string{idSocialOlder}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := x.Search(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if got := hitIDs(r); !slices.Equal(got, tt.want) {
				t.Errorf("hits = %v\nwant   %v", got, tt.want)
			}
			if r.Total != tt.wantTotal {
				t.Errorf("Total = %d, want %d", r.Total, tt.wantTotal)
			}
		})
	}
}

func TestSearchRelevancePrefersAllTerms(t *testing.T) {
	x := openCorpus(t)
	r, err := x.Search(t.Context(), Query{Text: "loneliness older people"})
	if err != nil {
		t.Fatal(err)
	}
	// Both items have all three words; the loneliness report has
	// "loneliness" in its title, so it ranks first.
	if got := hitIDs(r); len(got) < 2 || got[0] != idLoneliness || got[1] != idSocialOlder {
		t.Errorf("hits = %v, want %s then %s first", got, idLoneliness, idSocialOlder)
	}
	for i := 1; i < len(r.Hits); i++ {
		if r.Hits[i].Score > r.Hits[i-1].Score {
			t.Errorf("hit %d score %v > previous %v", i, r.Hits[i].Score, r.Hits[i-1].Score)
		}
	}
}

func TestSearchSnippet(t *testing.T) {
	x := openCorpus(t)
	tests := []struct {
		name    string
		text    string
		id      string
		want    []string // substrings
		wantNot []string
	}{
		{"summary match is marked", "commissioners", idHousing,
			[]string{"what <mark>commissioners</mark> can do"}, nil},
		{"stemmed match is marked", "prescribe", idSocialGP,
			[]string{"social <mark>prescribing</mark> reduces"}, nil},
		{"title used when summary has no match", "alert", idHostile,
			[]string{"Hostile &lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;", "&amp;", "&#34;quotes&#34;"},
			[]string{"<script>", `"quotes"`}},
		{"summary is escaped", "markup", idHostile,
			[]string{"&lt;b&gt;<mark>markup</mark>&lt;/b&gt; &amp; ampersands"}, []string{"<b>"}},
		{"body-only match falls back to the summary", "gardening", idSocialOlder,
			[]string{"A review of social prescribing schemes"}, []string{"<mark>"}},
		{"empty query uses the summary", "", idApps,
			[]string{"A meta-analysis of smartphone apps"}, []string{"<mark>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := x.Search(t.Context(), Query{Text: tt.text, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(r.Hits, func(h Hit) bool { return h.ID == tt.id })
			if i < 0 {
				t.Fatalf("%s not in hits %v", tt.id, hitIDs(r))
			}
			s := r.Hits[i].Snippet
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("snippet %q does not contain %q", s, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(s, w) {
					t.Errorf("snippet %q contains %q", s, w)
				}
			}
		})
	}
}

func TestSearchInvalid(t *testing.T) {
	x := openCorpus(t)
	tests := []struct {
		name string
		q    Query
	}{
		{"unknown sort", Query{Text: "x", Sort: "oldest"}},
		{"from after to", Query{From: day("2024-02-01"), To: day("2024-01-01")}},
		{"from out of range", Query{Text: "x", From: day("9999-01-01")}},
		{"to out of range", Query{To: day("1066-10-14")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := x.Search(t.Context(), tt.q); !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSearchLimitIsCapped(t *testing.T) {
	x, _ := openTemp(t, 0)
	items := generate(MaxLimit + 20)
	if err := x.Index(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	r, err := x.Search(t.Context(), Query{Limit: MaxLimit * 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hits) != MaxLimit || r.Total != uint64(len(items)) {
		t.Errorf("hits %d total %d, want %d and %d", len(r.Hits), r.Total, MaxLimit, len(items))
	}
}
