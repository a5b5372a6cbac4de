package index

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

// searchIDs returns the IDs of every hit of text (up to 100).
func searchIDs(t *testing.T, x *Index, text string) []string {
	t.Helper()
	r, err := x.Search(t.Context(), Query{Text: text, Limit: 100})
	if err != nil {
		t.Fatalf("Search(%q): %v", text, err)
	}
	return hitIDs(r)
}

// TestNotAndGroups: NOT excludes like -, and parentheses group: each query
// finds what its spelled-out equivalent finds.
func TestNotAndGroups(t *testing.T) {
	x := openSnapshot(t, Options{})
	tests := []struct {
		name, text, same string
		differs          string // a query whose hits must differ ("" for none)
	}{
		{"NOT is -", "social NOT care", "social -care", "social care"},
		{"NOT phrase", `"social prescribing" NOT "older people"`, `"social prescribing" -"older people"`, `"social prescribing"`},
		{"NOT field", "IAPT NOT source:centre-for-mental-health", "IAPT -source:centre-for-mental-health", "IAPT"},
		{"NOT group", "psychosis NOT (CBT OR voices)", "psychosis -CBT -voices", "psychosis"},
		{"group of OR", "(paediatric OR CAMHS)", "paediatric OR CAMHS", ""},
		{"group and word", "(CAMHS OR paediatric) waiting", "CAMHS OR paediatric waiting", ""},
		{"OR of groups", `(social prescribing) OR "link workers"`, `social OR "link workers" prescribing OR "link workers"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := searchIDs(t, x, tt.text)
			if len(got) == 0 {
				t.Fatalf("Search(%q) found nothing", tt.text)
			}
			if want := searchIDs(t, x, tt.same); !slices.Equal(got, want) {
				t.Errorf("Search(%q) = %v,\nwant as %q: %v", tt.text, got, tt.same, want)
			}
			if tt.differs != "" {
				if other := searchIDs(t, x, tt.differs); slices.Equal(got, other) {
					t.Errorf("Search(%q) = Search(%q): the operator was ignored", tt.text, tt.differs)
				}
			}
		})
	}
}

// TestGroupErrors: unbalanced parentheses and groups the language cannot
// express are malformed queries, with the column.
func TestGroupErrors(t *testing.T) {
	x := openCorpus(t)
	tests := []struct{ text, want string }{
		{"(social OR care", "column 1: unclosed parenthesis"},
		{"social OR care)", "column 15: ) without an opening ("},
		{"social NOT", "column 8: NOT needs a word"},
		{"NOT (social care)", "column 1: NOT (a b) is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := x.Search(t.Context(), Query{Text: tt.text})
			if !errors.Is(err, evidence.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Search(%q): err = %v, want ErrInvalid saying %q", tt.text, err, tt.want)
			}
		})
	}
}

// TestNotice: a query whose words cannot be searched for says why nothing
// matched; a wildcard says how it was read.
func TestNotice(t *testing.T) {
	x := openCorpus(t)
	tests := []struct {
		text  string
		total bool   // whether something matches
		want  string // substring of the notice; "" for no notice
	}{
		{"the and of", false, "every word of the query is a stop word (the, and, of)"},
		{`"the of"`, false, "every word of the query is a stop word"},
		{"soc*", false, "there are no wildcards: * is ignored, so soc* looked for the word as typed"},
		{"prescrib* older", true, "no wildcards"},
		{"😀", false, "😀 has no letters or digits to search for"},
		{"the 😀", false, "only stop words (the) are left"},
		{"loneliness", true, ""},
		{"xyzzy", false, ""},
		{"loneliness -the", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, err := x.Search(t.Context(), Query{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if (r.Total > 0) != tt.total {
				t.Errorf("Search(%q) total = %d, want matches %v", tt.text, r.Total, tt.total)
			}
			switch {
			case tt.want == "" && r.Notice != "":
				t.Errorf("Search(%q).Notice = %q, want none", tt.text, r.Notice)
			case !strings.Contains(r.Notice, tt.want):
				t.Errorf("Search(%q).Notice = %q, want it to say %q", tt.text, r.Notice, tt.want)
			}
		})
	}
}

// TestTaggerNotAndGroups: a topic's query may use NOT and groups, and tags
// what a search for it finds.
func TestTaggerNotAndGroups(t *testing.T) {
	tg, err := NewTagger([]Topic{
		{Name: "cbt not insomnia", Query: "(CBT OR CBTp) NOT insomnia"},
		{Name: "voices or sleep", Query: "(voices OR insomnia) NOT (anxiety OR gambling)"},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]evidence.Item{}
	for _, it := range snapshotCorpus(t) {
		byID[it.ID] = it
	}
	tests := []struct {
		id   string
		want []string
	}{
		{snapCBTp, []string{"cbt not insomnia", "voices or sleep"}},
		{snapDigitalCBT, []string{"voices or sleep"}},
		{snapSocialOlder, nil},
	}
	for _, tt := range tests {
		it := byID[tt.id]
		if got := tg.Tags(&it); !slices.Equal(got, tt.want) {
			t.Errorf("Tags(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
