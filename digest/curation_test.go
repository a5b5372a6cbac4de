package digest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

func TestMoved(t *testing.T) {
	ids := []string{"a", "b", "c", "d"}
	tests := []struct {
		name      string
		id        string
		delta, to int
		want      []string
		invalid   bool
	}{
		{name: "up", id: "c", delta: -1, want: []string{"a", "c", "b", "d"}},
		{name: "down", id: "a", delta: 1, want: []string{"b", "a", "c", "d"}},
		{name: "up at the top stays", id: "a", delta: -1, want: ids},
		{name: "down at the bottom stays", id: "d", delta: 1, want: ids},
		{name: "to the top", id: "d", to: 1, want: []string{"d", "a", "b", "c"}},
		{name: "to position 3", id: "a", to: 3, want: []string{"b", "c", "a", "d"}},
		{name: "past the end is the last place", id: "a", to: 99, want: []string{"b", "c", "d", "a"}},
		{name: "unknown item", id: "x", delta: 1, invalid: true},
		{name: "neither", id: "a", invalid: true},
		{name: "both", id: "a", delta: 1, to: 2, invalid: true},
		{name: "negative position", id: "a", to: -1, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Moved(ids, tt.id, tt.delta, tt.to)
			if tt.invalid {
				if !errors.Is(err, evidence.ErrInvalid) {
					t.Fatalf("Moved = %v, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Moved = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if !slices.Equal(ids, []string{"a", "b", "c", "d"}) {
		t.Errorf("Moved changed its input: %v", ids)
	}
}

func sectionIDs(t *testing.T, d *Digest, topic string) []string {
	t.Helper()
	for _, s := range d.Sections {
		if s.Topic == topic {
			var ids []string
			for _, e := range s.Entries {
				ids = append(ids, e.ID)
			}
			return ids
		}
	}
	t.Fatalf("no section %q", topic)
	return nil
}

// TestEditorOrder: the order an editor gives a section leads it; items
// not placed follow in the digest's own order; a placed item that is no
// longer in the section is ignored.
func TestEditorOrder(t *testing.T) {
	const topic = "children and young people"
	ranked := sectionIDs(t, build(t, "2026-W42", Curation{}, Subscriber{}, nil), topic)
	if len(ranked) < 2 {
		t.Fatalf("section %q has %v: the test needs two items", topic, ranked)
	}
	reversed := slices.Clone(ranked)
	slices.Reverse(reversed)
	last := ranked[len(ranked)-1]
	tests := []struct {
		name  string
		order []string
		want  []string
	}{
		{"reversed", reversed, reversed},
		{"one placed leads, the rest as ranked", []string{last}, append([]string{last}, ranked[:len(ranked)-1]...)},
		{"an item gone from the section is ignored", []string{"gone", last}, append([]string{last}, ranked[:len(ranked)-1]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := build(t, "2026-W42", Curation{Order: map[string][]string{topic: tt.order, "no such section": {"x"}}}, Subscriber{}, nil)
			if got := sectionIDs(t, d, topic); !slices.Equal(got, tt.want) {
				t.Errorf("section = %v, want %v", got, tt.want)
			}
			for _, s := range d.Sections {
				for _, e := range s.Entries {
					if want := s.Topic == topic && slices.Contains(tt.order, e.ID); e.Placed != want {
						t.Errorf("%s in %s: placed = %v, want %v", e.ID, s.Topic, e.Placed, want)
					}
				}
			}
		})
	}
	// A subscriber's digest keeps the editor's order among what they get.
	d := build(t, "2026-W42", Curation{Order: map[string][]string{topic: reversed}}, Subscriber{Topics: []string{topic}}, nil)
	if got := sectionIDs(t, d, topic); !slices.Equal(got, reversed) {
		t.Errorf("subscriber's section = %v, want %v", got, reversed)
	}
}

// TestWhy: every entry says why it is in: a pick that would otherwise be
// left out says so, a section entry its dates and topic.
func TestWhy(t *testing.T) {
	d := build(t, "2026-W42", Curation{Picks: []string{idLateKF, idLivingWell}}, Subscriber{}, nil)
	if w := d.Picks[0].Why; !strings.HasPrefix(w, "Picked by the editor; otherwise left out: published ") {
		t.Errorf("too-old pick: why %q", w)
	}
	if w := d.Picks[1].Why; w != "Picked by the editor" {
		t.Errorf("pick: why %q", w)
	}
	for _, s := range d.Sections {
		for _, e := range s.Entries {
			if !strings.HasPrefix(e.Why, "New: ") {
				t.Errorf("%s: why %q", e.ID, e.Why)
			}
			if s.Topic == OtherTopic && !strings.Contains(e.Why, "no topic matched") {
				t.Errorf("%s in %s: why %q", e.ID, s.Topic, e.Why)
			}
			if s.Topic != OtherTopic && !strings.Contains(e.Why, "here for "+s.Topic) {
				t.Errorf("%s in %s: why %q", e.ID, s.Topic, e.Why)
			}
		}
	}
	if w := findEntry(t, d, idUndated).Why; !strings.Contains(w, "undated, so it counts as new") {
		t.Errorf("undated: why %q", w)
	}
	other := build(t, "2026-W42", Curation{Picks: []string{idBackfillOnly}}, Subscriber{}, nil)
	if w := other.Picks[0].Why; !strings.Contains(w, "outside this week") {
		t.Errorf("pick from another week: why %q", w)
	}
	for _, x := range d.Excluded {
		if x.Publisher == "" {
			t.Errorf("excluded %s has no publisher", x.ID)
		}
	}
}
