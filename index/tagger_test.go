package index

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/evidencetracker/evidence"
)

var strengthTopics = []Topic{
	{Name: "housing", Query: `housing OR homelessness`},
	{Name: "carers", Query: `carer OR carers OR "unpaid care"`},
	{Name: "dementia", Query: `dementia`},
	{Name: "recent", Query: `published:>=2025-01-01`},
}

func strengthItem(id, title, summary, body string, own ...string) evidence.Item {
	it := evidence.Item{ID: id, URL: "https://example.org/" + id, Source: "kings-fund", Type: "blog",
		Title: title, Summary: summary, Body: body, Published: day("2025-06-01"), Topics: own}
	it.ContentHash = evidence.ComputeHash(&it)
	return it
}

func TestTagItemStrength(t *testing.T) {
	tg, err := NewTagger(strengthTopics, Options{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		name, where string
		hits        int
	}
	tests := []struct {
		name string
		item evidence.Item
		want []want // strongest first
	}{
		{
			name: "title beats summary beats body",
			item: strengthItem("a", "Dementia services", "Support for carers.",
				"Housing was mentioned once. Carers and dementia again: carers."),
			// housing: one passing word in the body is not enough.
			want: []want{{"dementia", "title", 2}, {"carers", "summary", 3}, {"recent", "other", 0}},
		},
		{
			name: "a body-only topic is kept when repeated three times (phrases count)",
			item: strengthItem("b", "A report", "", "Unpaid care is unpaid care; homelessness and housing, housing."),
			want: []want{{"housing", "body", 3}, {"recent", "other", 0}},
		},
		{
			name: "a body-only topic mentioned twice is dropped",
			item: strengthItem("b2", "A report", "", "Unpaid care is unpaid care."),
			want: []want{{"recent", "other", 0}},
		},
		{
			name: "own topics come first, lower case, and are not repeated",
			item: strengthItem("c", "Housing", "", "", "Editor Pick", "housing"),
			want: []want{{"editor pick", "given", 0}, {"housing", "given", 0}, {"recent", "other", 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tg.TagItem(&tt.item)
			var g []want
			for _, tag := range got {
				g = append(g, want{tag.Name, tag.Where, tag.Hits})
			}
			if !slices.Equal(g, tt.want) {
				t.Errorf("TagItem = %v, want %v", g, tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Strength > got[i-1].Strength {
					t.Errorf("tags not strongest first: %v", got)
				}
			}
		})
	}
}

// The index's hits carry the same topics, in the same order, as Tag
// returns for the item: what the store keeps agrees with search.
func TestIndexTopicsAgreeWithTag(t *testing.T) {
	x, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "index"), Topics: strengthTopics})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	items := []evidence.Item{
		strengthItem("a", "Dementia services", "Support for carers.", "Housing. Carers and dementia: carers."),
		strengthItem("b", "A report", "", "Unpaid care is unpaid care; homelessness, housing and housing."),
		strengthItem("c", "Housing", "", "", "Editor Pick"),
		strengthItem("d", "Nothing", "", ""),
	}
	items[3].Published = nil
	tags, err := x.Tag(t.Context(), items)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Index(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	r, err := x.Search(t.Context(), Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Hits) != len(items) {
		t.Fatalf("%d hits, want %d", len(r.Hits), len(items))
	}
	want := map[string][]string{}
	for i, it := range items {
		want[it.ID] = TopicNames(tags[i])
	}
	for _, h := range r.Hits {
		if got := h.Topics; !slices.Equal(append([]string{}, got...), want[h.ID]) {
			t.Errorf("hit %s topics = %v, Tag says %v", h.ID, got, want[h.ID])
		}
	}
}

// BenchmarkTag is what the sync step adds before indexing: tagging 1,000
// items with a 24-topic taxonomy (analysis and matching), to set beside
// BenchmarkIndexTopics.
func BenchmarkTag(b *testing.B) {
	items := generate(1000)
	x, err := Open(b.Context(), Options{Path: filepath.Join(b.TempDir(), "index"), Topics: benchTopics()})
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	for b.Loop() {
		if _, err := x.Tag(b.Context(), items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(items)), "items/op")
}
