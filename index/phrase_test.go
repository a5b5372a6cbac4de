package index

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/evidencetracker/evidence"
)

// phraseCorpus holds items whose phrases are in their bodies only (titles
// and summaries are neutral), in batches of two so the searcher walks
// several segments.
func phraseCorpus(t *testing.T) *Index {
	t.Helper()
	mk := func(id, source, body string) evidence.Item {
		it := evidence.Item{ID: id, Source: source, Type: evidence.TypeBlog, Title: "Item " + id,
			URL: "https://example.org/" + id, Summary: "A note.", Body: body,
			FirstSeen: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		it.ContentHash = evidence.ComputeHash(&it)
		return it
	}
	elf, kings := evidence.SourceMentalElf, evidence.SourceKingsFund
	items := []evidence.Item{
		mk("twice", elf, "The scheme offers social prescribing to older adults. Social prescribing link workers help."),
		mk("reversed", elf, "Prescribing social care is not like prescribing medicines."),
		mk("pam", elf, "A long report on primary care. Patient activation measure scores rose over the year."),
		mk("apart", elf, "Patient activation was studied; the measure of involvement was new."),
		mk("synonym", elf, "Trials of social prescription in general practice."),
		mk("mh", kings, "The mental health of the workforce and mental health services."),
		mk("hm", elf, "Health, mental or physical, matters."),
	}
	x, _ := openTemp(t, 2)
	if err := x.Index(t.Context(), items); err != nil {
		t.Fatalf("Index: %v", err)
	}
	return x
}

// TestBodyPhrases checks phrases of several words found in bodies alone,
// through phraseQuery, also when a filter drives the search (Advance) and
// across pages.
func TestBodyPhrases(t *testing.T) {
	x := phraseCorpus(t)
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"three words", Query{Text: `"activation measure scores"`}, []string{"pam"}},
		{"words apart are no phrase", Query{Text: `"activation measure"`}, []string{"pam"}},
		// A synonym group's term matches the group anywhere: "patient
		// activation" is a patient activation measure.
		{"synonym group", Query{Text: `"patient activation measure"`}, []string{"pam", "apart"}},
		{"order matters", Query{Text: `"prescribing social"`}, []string{"reversed"}},
		{"synonym term matches too", Query{Text: `"social prescribing"`}, []string{"twice", "synonym"}},
		{"punctuation between", Query{Text: `"health mental"`}, []string{"hm"}},
		{"stop words kept as gaps", Query{Text: `"the workforce and mental health"`}, []string{"mh"}},
		{"stop words in the wrong places", Query{Text: `"workforce the and mental health"`}, nil},
		{"with a filter", Query{Text: `"mental health"`, Sources: []string{evidence.SourceKingsFund}}, []string{"mh"}},
		{"filtered out", Query{Text: `"mental health"`, Sources: []string{evidence.SourceMentalElf}}, nil},
		{"with a word", Query{Text: `services "mental health"`}, []string{"mh"}},
		{"two phrases", Query{Text: `"mental health" "health services"`}, []string{"mh"}},
		{"unknown word", Query{Text: `"mental wellbeingness"`}, nil},
		{"excluded", Query{Text: `"mental health" -"health services"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := x.Search(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Search(%q): %v", tt.q.Text, err)
			}
			if got, want := sorted(hitIDs(r)...), sorted(tt.want...); !slices.Equal(got, want) {
				t.Errorf("Search(%q) = %v, want %v", tt.q.Text, got, want)
			}
			if r.Total != uint64(len(tt.want)) {
				t.Errorf("Total = %d, want %d", r.Total, len(tt.want))
			}
		})
	}
	t.Run("paged", func(t *testing.T) {
		var got []string
		for off := 0; off < 3; off++ {
			r, err := x.Search(t.Context(), Query{Text: `"social prescribing"`, Limit: 1, Offset: off})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != 2 {
				t.Errorf("offset %d: Total = %d, want 2", off, r.Total)
			}
			got = append(got, hitIDs(r)...)
		}
		if want := []string{"synonym", "twice"}; !slices.Equal(sorted(got...), want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
	})
	t.Run("scored", func(t *testing.T) {
		r, err := x.Search(t.Context(), Query{Text: `"mental health"`})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) != 1 || r.Hits[0].Score <= 0 {
			t.Errorf("hits = %+v, want one with a positive score", r.Hits)
		}
	})
}

// TestBodyVectorsNoOffsets checks that bodies' term vectors keep positions
// but no byte offsets (they serve phrases only), while titles keep both
// for highlighting.
func TestBodyVectorsNoOffsets(t *testing.T) {
	x := phraseCorpus(t)
	ir, err := x.bi.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ir.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		name, field, term string
		offsets           bool
	}{
		{"body", fieldBody, "mental", false},
		{"title", fieldTitle, "item", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tfr, err := r.TermFieldReader(t.Context(), []byte(tt.term), tt.field, true, true, true)
			if err != nil {
				t.Fatal(err)
			}
			defer tfr.Close()
			d, err := tfr.Next(nil)
			if err != nil || d == nil {
				t.Fatalf("no posting for %q in %s: %v", tt.term, tt.field, err)
			}
			if len(d.Vectors) == 0 {
				t.Fatalf("%s keeps no term vectors", tt.field)
			}
			for _, v := range d.Vectors {
				if has := v.End > 0; has != tt.offsets {
					t.Errorf("%s vector %+v: offsets kept = %v, want %v", tt.field, *v, has, tt.offsets)
				}
				if v.Pos == 0 {
					t.Errorf("%s vector %+v: no position", tt.field, *v)
				}
			}
		})
	}
}

// phraseIDs runs q alone on x and returns the matching IDs, sorted.
func phraseIDs(t *testing.T, x *Index, q query.Query) []string {
	t.Helper()
	req := bleve.NewSearchRequestOptions(q, 100, 0, false)
	res, err := x.bi.SearchInContext(t.Context(), req)
	if err != nil {
		t.Fatalf("search %T: %v", q, err)
	}
	ids := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	if res.Total != uint64(len(ids)) {
		t.Fatalf("%T: total %d, %d hits", q, res.Total, len(ids))
	}
	slices.Sort(ids)
	return ids
}

// checkPhraseLikeBleve checks that phraseQuery finds in bodies what
// bleve's own phrase query finds, for every variant of text's phrase.
func checkPhraseLikeBleve(t *testing.T, x *Index, text string) {
	t.Helper()
	ff := x.planner.phraseForm(analyse(x.planner.text, text))
	for _, ph := range ff.phrases {
		if len(ph) < 2 || len(ph[0]) == 0 || len(ph[len(ph)-1]) == 0 {
			continue // one word, or planner output a phrase never has
		}
		got := phraseIDs(t, x, &phraseQuery{field: fieldBody, slots: ph, boost: 1})
		want := phraseIDs(t, x, query.NewMultiPhraseQuery(ph, fieldBody))
		if !slices.Equal(got, want) {
			t.Errorf("phrase %q (slots %q): phraseQuery %v, bleve %v", text, ph, got, want)
		}
	}
}

// TestPhraseQueryLikeBleve compares phraseQuery with bleve's phrase query
// on every run of two and three words of the test corpus's bodies, and on
// the same words reversed.
func TestPhraseQueryLikeBleve(t *testing.T) {
	x := openCorpus(t)
	n := 0
	for _, it := range corpus(t) {
		words := strings.Fields(it.Body)
		for size := 2; size <= 3; size++ {
			for i := 0; i+size <= len(words); i++ {
				w := slices.Clone(words[i : i+size])
				checkPhraseLikeBleve(t, x, strings.Join(w, " "))
				slices.Reverse(w)
				checkPhraseLikeBleve(t, x, strings.Join(w, " "))
				n += 2
			}
		}
	}
	t.Logf("%d phrases compared", n)
}

// FuzzPhraseQuery compares phraseQuery with bleve's phrase query on any
// phrase text.
func FuzzPhraseQuery(f *testing.F) {
	for _, s := range []string{"stable funding", "link workers report", "the review included", "of the", "mental health act"} {
		f.Add(s)
	}
	x := openCorpus(f)
	f.Fuzz(func(t *testing.T, text string) {
		checkPhraseLikeBleve(t, x, text)
	})
}
