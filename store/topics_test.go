package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evidencetracker/evidence"
)

func TestSetTopics(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a, b := sampleItem("https://a.example/1"), sampleItem("https://a.example/2")
	mustUpsert(t, s, a)
	mustUpsert(t, s, b)
	tag := func(name string, strength float64, where string) evidence.TopicTag {
		return evidence.TopicTag{Name: name, Strength: strength, Where: where, Hits: 1}
	}
	names := func(ts []evidence.TopicTag) []string {
		out := []string{}
		for _, t := range ts {
			out = append(out, t.Name)
		}
		return out
	}
	tests := []struct {
		name string
		set  map[string][]evidence.TopicTag
		// want: item id -> Topics as read (strongest first, then own).
		want map[string][]string
	}{
		{
			name: "strongest first, ties by name, own topics after",
			set: map[string][]evidence.TopicTag{
				a.ID: {tag("workforce", 1, "body"), tag("housing", 5, "title"), tag("carers", 5, "title")},
				b.ID: {tag("dementia", 2, "summary")},
			},
			want: map[string][]string{a.ID: {"carers", "housing", "workforce", "depression"}, b.ID: {"dementia", "depression"}},
		},
		{
			name: "replaces, and an own topic also tagged is listed once",
			set:  map[string][]evidence.TopicTag{a.ID: {tag("depression", 3, "title"), tag("psychosis", 4, "title")}},
			want: map[string][]string{a.ID: {"psychosis", "depression"}, b.ID: {"dementia", "depression"}},
		},
		{
			name: "an empty list removes; unknown ids are skipped",
			set:  map[string][]evidence.TopicTag{a.ID: {}, "nosuchitem": {tag("x", 1, "body")}},
			want: map[string][]string{a.ID: {"depression"}, b.ID: {"dementia", "depression"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetTopics(ctx, tt.set); err != nil {
				t.Fatal(err)
			}
			for id, want := range tt.want {
				it := mustItem(t, s, id)
				if !slices.Equal(it.Topics, want) {
					t.Errorf("Item(%s).Topics = %v, want %v", id, it.Topics, want)
				}
				tags, err := s.ItemTopics(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if got := names(tags); !slices.Equal(got, names(it.TopicTags)) {
					t.Errorf("ItemTopics(%s) = %v, Item's TopicTags = %v", id, got, names(it.TopicTags))
				}
				if len(it.TopicTags) > 0 && len(it.Topics) > 0 && it.Topics[0] != it.TopicTags[0].Name {
					t.Errorf("primary topic %q is not the strongest tag %q", it.Topics[0], it.TopicTags[0].Name)
				}
				// Every reader agrees.
				byID, err := s.ItemsByIDs(ctx, []string{id})
				if err != nil || len(byID) != 1 || !slices.Equal(byID[0].Topics, want) {
					t.Errorf("ItemsByIDs(%s) = %v (%v), want topics %v", id, byID, err, want)
				}
				byURL, err := s.ItemByURL(ctx, it.URL)
				if err != nil || !slices.Equal(byURL.Topics, want) {
					t.Errorf("ItemByURL(%s).Topics = %v (%v), want %v", it.URL, byURL.Topics, err, want)
				}
			}
			var each int
			if err := s.EachItem(ctx, func(it evidence.Item) error {
				each++
				if want := tt.want[it.ID]; !slices.Equal(it.Topics, want) {
					t.Errorf("EachItem %s topics = %v, want %v", it.ID, it.Topics, want)
				}
				return nil
			}); err != nil || each != 2 {
				t.Errorf("EachItem: %d items, %v", each, err)
			}
		})
	}
	t.Run("pending items carry only their own topics", func(t *testing.T) {
		if err := s.SetTopics(ctx, map[string][]evidence.TopicTag{a.ID: {tag("housing", 5, "title")}}); err != nil {
			t.Fatal(err)
		}
		pending, err := s.PendingIndex(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pending {
			if !slices.Equal(it.Topics, []string{"depression"}) || len(it.TopicTags) != 0 {
				t.Errorf("pending %s: topics %v, tags %v; want its own [depression] only", it.ID, it.Topics, it.TopicTags)
			}
		}
	})
	t.Run("given topics leave the tagger's out", func(t *testing.T) {
		it := mustItem(t, s, a.ID)
		if got := it.GivenTopics(); !slices.Equal(got, []string{"depression"}) {
			t.Errorf("GivenTopics() = %v, want [depression]", got)
		}
	})
}

func TestSetTopicsInvalid(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a := sampleItem("https://a.example/1")
	mustUpsert(t, s, a)
	if err := s.SetTopics(ctx, map[string][]evidence.TopicTag{a.ID: {{Name: "housing", Strength: 1}}}); err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	tests := []struct {
		name string
		tags []evidence.TopicTag
	}{
		{"empty name", []evidence.TopicTag{{Name: "", Strength: 1}}},
		{"repeated name", []evidence.TopicTag{{Name: "carers", Strength: 1}, {Name: "carers", Strength: 2}}},
		{"not a number", []evidence.TopicTag{{Name: "carers", Strength: zero / zero}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetTopics(ctx, map[string][]evidence.TopicTag{a.ID: tt.tags})
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Fatalf("SetTopics = %v, want ErrInvalid", err)
			}
			if got := mustItem(t, s, a.ID).Topics; !slices.Equal(got, []string{"housing", "depression"}) {
				t.Errorf("after a refused SetTopics topics = %v, want [housing depression] kept", got)
			}
		})
	}
}

func TestTopicCounts(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	var ids []string
	for _, u := range []string{"https://a.example/1", "https://a.example/2", "https://a.example/3"} {
		it := sampleItem(u)
		mustUpsert(t, s, it)
		ids = append(ids, it.ID)
	}
	if err := s.SetTopics(ctx, map[string][]evidence.TopicTag{
		ids[0]: {{Name: "housing", Strength: 3}, {Name: "carers", Strength: 1}},
		ids[1]: {{Name: "carers", Strength: 2}, {Name: "housing", Strength: 2}},
		ids[2]: {{Name: "carers", Strength: 1}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		primary bool
		want    map[string]int
	}{
		{"all tags", false, map[string]int{"housing": 2, "carers": 3}},
		{"primary only (ties by name)", true, map[string]int{"housing": 1, "carers": 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.TopicCounts(ctx, tt.primary)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || got["housing"] != tt.want["housing"] || got["carers"] != tt.want["carers"] {
				t.Errorf("TopicCounts(%v) = %v, want %v", tt.primary, got, tt.want)
			}
		})
	}
}

// Items stored before migration 0004 have no stored topics: the migration
// makes them pending, so the next sync tags and stores them.
func TestMigration0004MakesItemsPending(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "evidence.db")
	createV1(t, path, [][3]string{{"https://www.kingsfund.org.uk/a", "A", ""}, {"https://www.kingsfund.org.uk/b", "B", ""}})
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE items SET indexed_hash = content_hash`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := openAt(t, path, newClock())
	if n, err := s.CountPending(ctx); err != nil || n != 2 {
		t.Errorf("CountPending after migrating = %d, %v; want both items pending", n, err)
	}
}
