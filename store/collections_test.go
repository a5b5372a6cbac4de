package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// newCollection stores a collection "Recovery resources" (slug recovery)
// owned by curator@example.org, with the given sections (empty).
func newCollection(t *testing.T, s *Store, sections ...string) evidence.Collection {
	t.Helper()
	c := evidence.Collection{Slug: "recovery", Name: "Recovery resources", Description: "For *staff*.", Owner: "curator@example.org"}
	for _, name := range sections {
		c.Sections = append(c.Sections, evidence.Section{Name: name})
	}
	got, err := s.CreateCollection(context.Background(), c)
	if err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	return got
}

// storedItems upserts items at the given URLs and returns their IDs.
func storedItems(t *testing.T, s *Store, urls ...string) []string {
	t.Helper()
	var ids []string
	for _, u := range urls {
		it := sampleItem(u)
		it.PDFURLs, it.Cites = nil, nil
		mustUpsert(t, s, it)
		ids = append(ids, it.ID)
	}
	return ids
}

// addEntry is an edit adding item id at the end of section name.
func addEntry(id, section, note string) CollectionEditFunc {
	return func(c *evidence.Collection) (string, string, error) {
		for i := range c.Sections {
			if c.Sections[i].Name == section {
				c.Sections[i].Entries = append(c.Sections[i].Entries, evidence.Entry{ItemID: id, Note: note})
				return "add", "added " + id + " to " + section, nil
			}
		}
		return "", "", fmt.Errorf("no section %s: %w", section, evidence.ErrNotFound)
	}
}

// layout is a collection's sections and entries as "Section: id id; …".
func layout(c evidence.Collection) string {
	var parts []string
	for _, sec := range c.Sections {
		var ids []string
		for _, e := range sec.Entries {
			ids = append(ids, e.ItemID)
		}
		parts = append(parts, sec.Name+": "+strings.Join(ids, " "))
	}
	return strings.Join(parts, "; ")
}

func TestCreateCollection(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newStore(t)
	c := newCollection(t, s, "Patient activation", "Self-management")
	if c.ID == "" || c.Version != 1 || c.Visibility != evidence.VisibilityPrivate || c.UpdatedBy != "curator@example.org" ||
		!c.Created.Equal(clk.Now()) || !c.Updated.Equal(clk.Now()) || c.Description != "For *staff*." {
		t.Errorf("created %+v", c)
	}
	if got := layout(c); got != "Patient activation: ; Self-management: " {
		t.Errorf("layout %q", got)
	}
	for _, sec := range c.Sections {
		if sec.ID == "" || sec.Entries == nil {
			t.Errorf("section %+v: want an ID and a non-nil entry list", sec)
		}
	}
	got, err := s.Collection(ctx, "recovery")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != c.Name || got.Version != 1 || layout(got) != layout(c) {
		t.Errorf("read back %+v", got)
	}
	hist, err := s.CollectionHistory(ctx, "recovery")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].Action != "create" || hist[0].Version != 1 || hist[0].By != "curator@example.org" ||
		hist[0].Detail != "created “Recovery resources”" || !hist[0].At.Equal(clk.Now()) {
		t.Errorf("history %+v", hist)
	}

	t.Run("bad input", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			c    evidence.Collection
			want error
			msg  string
		}{
			{"taken slug", evidence.Collection{Slug: "recovery", Name: "Other"}, evidence.ErrConflict, "slug recovery is taken by collection “Recovery resources”"},
			{"no slug", evidence.Collection{Name: "Other"}, evidence.ErrInvalid, "no slug"},
			{"no name", evidence.Collection{Slug: "x", Name: "  "}, evidence.ErrInvalid, "name: empty"},
			{"bad visibility", evidence.Collection{Slug: "x", Name: "X", Visibility: "secret"}, evidence.ErrInvalid, `visibility "secret"`},
			{"same section twice", evidence.Collection{Slug: "x", Name: "X", Sections: []evidence.Section{{Name: "A"}, {Name: "a"}}}, evidence.ErrConflict, "section “a”: a section of that name already exists"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.CreateCollection(ctx, tt.c)
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("err %v, want %v with %q", err, tt.want, tt.msg)
				}
			})
		}
		all, err := s.Collections(ctx)
		if err != nil || len(all) != 1 {
			t.Errorf("%d collections (%v) after refused creates, want 1", len(all), err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		if _, err := s.Collection(ctx, "nope"); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("Collection(nope): %v", err)
		}
		if _, err := s.CollectionHistory(ctx, "nope"); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("CollectionHistory(nope): %v", err)
		}
		if _, err := s.EditCollection(ctx, "nope", 0, "x", addEntry("a", "b", "")); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("EditCollection(nope): %v", err)
		}
		if err := s.DeleteCollection(ctx, "nope", 0, "x"); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("DeleteCollection(nope): %v", err)
		}
	})
}

func TestCollectionsList(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	ids := storedItems(t, s, "https://example.org/a")
	for _, c := range []evidence.Collection{
		{Slug: "zeta", Name: "zeta list", Visibility: evidence.VisibilityPublic},
		{Slug: "alpha", Name: "Alpha list", Sections: []evidence.Section{{Name: "One", Entries: []evidence.Entry{{ItemID: ids[0], Note: "n"}}}}},
	} {
		if _, err := s.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Slug != "alpha" || all[1].Slug != "zeta" {
		t.Fatalf("list %+v, want alpha then zeta (by name, any case)", all)
	}
	e := all[0].Sections[0].Entries[0]
	if e.Item == nil || e.Item.Title != "Title of https://example.org/a" || e.Note != "n" || e.Item.Body != "" {
		t.Errorf("entry %+v: want its item (without the body) and note", e)
	}
	if all[1].Sections == nil || len(all[1].Sections) != 0 {
		t.Errorf("empty collection's sections %#v, want an empty list", all[1].Sections)
	}
}

func TestEditCollection(t *testing.T) {
	ctx := context.Background()
	s, clk, path := newStore(t)
	ids := storedItems(t, s, "https://example.org/a", "https://example.org/b", "https://example.org/c")
	c := newCollection(t, s, "Patient activation", "Self-management")

	clk.Advance(time.Hour)
	got, err := s.EditCollection(ctx, "recovery", c.Version, "editor@example.org", addEntry(ids[0], "Patient activation", "Why it matters"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.UpdatedBy != "editor@example.org" || !got.Updated.Equal(clk.Now()) || !got.Created.Equal(c.Created) {
		t.Errorf("after add: version %d by %s at %v", got.Version, got.UpdatedBy, got.Updated)
	}
	e := got.Sections[0].Entries[0]
	if e.ItemID != ids[0] || e.Note != "Why it matters" || e.AddedBy != "editor@example.org" || !e.Added.Equal(clk.Now()) || e.Item == nil {
		t.Errorf("entry %+v", e)
	}

	steps := []struct {
		name    string
		edit    CollectionEditFunc
		version int
		layout  string
	}{
		{"add a second", addEntry(ids[1], "Patient activation", ""), 3, "Patient activation: " + ids[0] + " " + ids[1] + "; Self-management: "},
		{"add to another section", addEntry(ids[2], "Self-management", ""), 4, "Patient activation: " + ids[0] + " " + ids[1] + "; Self-management: " + ids[2]},
		{"reorder entries", func(c *evidence.Collection) (string, string, error) {
			es := c.Sections[0].Entries
			es[0], es[1] = es[1], es[0]
			return "move", "moved", nil
		}, 5, "Patient activation: " + ids[1] + " " + ids[0] + "; Self-management: " + ids[2]},
		{"move between sections", func(c *evidence.Collection) (string, string, error) {
			moved := c.Sections[0].Entries[0]
			c.Sections[0].Entries = c.Sections[0].Entries[1:]
			c.Sections[1].Entries = append([]evidence.Entry{moved}, c.Sections[1].Entries...)
			return "move", "moved", nil
		}, 6, "Patient activation: " + ids[0] + "; Self-management: " + ids[1] + " " + ids[2]},
		{"add and reorder sections", func(c *evidence.Collection) (string, string, error) {
			c.Sections = append([]evidence.Section{{Name: "Personal stories", Intro: "Stories"}}, c.Sections...)
			return "add-section", "added section", nil
		}, 7, "Personal stories: ; Patient activation: " + ids[0] + "; Self-management: " + ids[1] + " " + ids[2]},
		{"remove a section with its entries", func(c *evidence.Collection) (string, string, error) {
			c.Sections = c.Sections[:2]
			return "remove-section", "removed", nil
		}, 8, "Personal stories: ; Patient activation: " + ids[0]},
		{"rename, describe, publish", func(c *evidence.Collection) (string, string, error) {
			c.Name, c.Description, c.Visibility = "Recovery", "<script>x</script>", evidence.VisibilityPublic
			c.Slug, c.Owner = "changed", "someone@else" // ignored
			return "rename", "renamed", nil
		}, 9, "Personal stories: ; Patient activation: " + ids[0]},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := s.EditCollection(ctx, "recovery", 0, "editor@example.org", st.edit)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != st.version || layout(got) != st.layout {
				t.Errorf("version %d, layout %q; want %d, %q", got.Version, layout(got), st.version, st.layout)
			}
			again, err := s.Collection(ctx, "recovery")
			if err != nil {
				t.Fatal(err)
			}
			if layout(again) != st.layout || again.Version != st.version {
				t.Errorf("read back %q v%d", layout(again), again.Version)
			}
		})
	}
	final, err := s.Collection(ctx, "recovery")
	if err != nil {
		t.Fatal(err)
	}
	if final.Slug != "recovery" || final.Owner != "curator@example.org" || final.Name != "Recovery" ||
		final.Description != "<script>x</script>" || final.Visibility != evidence.VisibilityPublic || final.Sections[0].Intro != "Stories" {
		t.Errorf("final %+v", final)
	}
	if e := final.Sections[1].Entries[0]; e.Note != "Why it matters" || e.AddedBy != "editor@example.org" {
		t.Errorf("an entry moved about lost its note or author: %+v", e)
	}
	hist, err := s.CollectionHistory(ctx, "recovery")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 9 || hist[0].Version != 9 || hist[0].Action != "rename" || hist[8].Action != "create" {
		t.Errorf("history %+v, want 9 changes newest first", hist)
	}
	obs := newObserver(t, path)
	if n := obs.queryInt(`SELECT count(*) FROM collection_sections`); n != 2 {
		t.Errorf("%d section rows, want 2 (a removed section's row goes)", n)
	}

	t.Run("nothing written", func(t *testing.T) {
		before := obs.dataVersion()
		for _, tt := range []struct {
			name string
			edit CollectionEditFunc
			want error
		}{
			{"no-op", func(*evidence.Collection) (string, string, error) { return "", "", nil }, nil},
			{"edit fails", func(c *evidence.Collection) (string, string, error) {
				c.Name = "half-done"
				return "", "", fmt.Errorf("refused: %w", evidence.ErrInvalid)
			}, evidence.ErrInvalid},
			{"item twice", func(c *evidence.Collection) (string, string, error) {
				c.Sections[0].Entries = append(c.Sections[0].Entries, evidence.Entry{ItemID: ids[0]})
				return "add", "", nil
			}, evidence.ErrConflict},
			{"foreign section", func(c *evidence.Collection) (string, string, error) {
				c.Sections = append(c.Sections, evidence.Section{ID: "s-other", Name: "Other"})
				return "add-section", "", nil
			}, evidence.ErrInvalid},
			{"unnamed section", func(c *evidence.Collection) (string, string, error) {
				c.Sections = append(c.Sections, evidence.Section{Name: " "})
				return "add-section", "", nil
			}, evidence.ErrInvalid},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.EditCollection(ctx, "recovery", 9, "x", tt.edit)
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Fatalf("err %v, want %v", err, tt.want)
				}
				if err == nil && (got.Version != 9 || got.Name != "Recovery") {
					t.Errorf("no-op returned %+v, want the stored collection", got)
				}
			})
		}
		if obs.dataVersion() != before {
			t.Error("a no-op or refused edit wrote to the database")
		}
		if err := errorOf(s.EditCollection(ctx, "recovery", 0, "x", func(c *evidence.Collection) (string, string, error) {
			c.Sections[1].Entries = append(c.Sections[1].Entries, evidence.Entry{ItemID: ids[0]})
			return "add", "", nil
		})); err == nil || !strings.Contains(err.Error(), "is already in “Patient activation”") {
			t.Errorf("item twice: %v, want it to name the section it is in", err)
		}
	})
}

func errorOf(_ evidence.Collection, err error) error { return err }

func TestEditCollectionStale(t *testing.T) {
	ctx := context.Background()
	s, _, path := newStore(t)
	ids := storedItems(t, s, "https://example.org/a", "https://example.org/b")
	c := newCollection(t, s, "Patient activation")
	if _, err := s.EditCollection(ctx, "recovery", c.Version, "alice@example.org", addEntry(ids[0], "Patient activation", "")); err != nil {
		t.Fatal(err)
	}
	obs := newObserver(t, path)
	before := obs.dataVersion()
	_, err := s.EditCollection(ctx, "recovery", c.Version, "bob@example.org", addEntry(ids[1], "Patient activation", ""))
	var stale *evidence.StaleError
	if !errors.As(err, &stale) || !errors.Is(err, evidence.ErrConflict) {
		t.Fatalf("stale edit: %v, want *evidence.StaleError wrapping ErrConflict", err)
	}
	if stale.Current.Version != 2 || stale.Current.UpdatedBy != "alice@example.org" || layout(stale.Current) != "Patient activation: "+ids[0] ||
		stale.Current.Sections[0].Entries[0].Item == nil {
		t.Errorf("stale error's current state %+v", stale.Current)
	}
	if msg := err.Error(); !strings.Contains(msg, "changed by alice@example.org (now version 2)") {
		t.Errorf("message %q", msg)
	}
	if err := s.DeleteCollection(ctx, "recovery", 1, "bob@example.org"); !errors.As(err, &stale) {
		t.Errorf("stale delete: %v", err)
	}
	if obs.dataVersion() != before {
		t.Error("a stale edit wrote to the database")
	}
}

// TestEditCollectionConcurrent: two curators edit the same version at
// once; one wins, the other gets the current state, retries on it, and
// both changes are kept. Then many edits without a version all land.
func TestEditCollectionConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	ids := storedItems(t, s, "https://example.org/a", "https://example.org/b")
	c := newCollection(t, s, "Patient activation")

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.EditCollection(ctx, "recovery", c.Version, fmt.Sprintf("curator%d@example.org", i),
				addEntry(ids[i], "Patient activation", fmt.Sprintf("note %d", i)))
		}()
	}
	close(start)
	wg.Wait()
	won, lost := -1, -1
	for i, err := range errs {
		var stale *evidence.StaleError
		switch {
		case err == nil:
			won = i
		case errors.As(err, &stale):
			lost = i
			if stale.Current.Version != 2 || len(stale.Current.Sections[0].Entries) != 1 {
				t.Errorf("the loser saw %+v, want the winner's version 2", stale.Current)
			}
		default:
			t.Errorf("edit %d: %v", i, err)
		}
	}
	if won < 0 || lost < 0 {
		t.Fatalf("errors %v: want one winner and one stale", errs)
	}
	// The loser tries again on what it was shown.
	var stale *evidence.StaleError
	errors.As(errs[lost], &stale)
	got, err := s.EditCollection(ctx, "recovery", stale.Current.Version, "loser", addEntry(ids[lost], "Patient activation", "retry"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Sections[0].Entries) != 2 || got.Version != 3 {
		t.Fatalf("after the retry %q v%d, want both entries", layout(got), got.Version)
	}

	// Many writers without versions: every change is kept.
	const n = 20
	var more []string
	for i := range n {
		more = append(more, storedItems(t, s, fmt.Sprintf("https://example.org/more/%d", i))...)
	}
	var wg2 sync.WaitGroup
	for _, id := range more {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			if _, err := s.EditCollection(ctx, "recovery", 0, "many", addEntry(id, "Patient activation", "")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg2.Wait()
	final, err := s.Collection(ctx, "recovery")
	if err != nil {
		t.Fatal(err)
	}
	hist, _ := s.CollectionHistory(ctx, "recovery")
	if len(final.Sections[0].Entries) != 2+n || final.Version != 3+n || len(hist) != 3+n {
		t.Errorf("%d entries, version %d, %d history rows; want %d, %d, %d", len(final.Sections[0].Entries), final.Version, len(hist), 2+n, 3+n, 3+n)
	}
}

func TestDeleteCollection(t *testing.T) {
	ctx := context.Background()
	s, _, path := newStore(t)
	ids := storedItems(t, s, "https://example.org/a")
	c := newCollection(t, s, "Patient activation")
	c, err := s.EditCollection(ctx, "recovery", c.Version, "x", addEntry(ids[0], "Patient activation", ""))
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateCollection(ctx, evidence.Collection{Slug: "other", Name: "Other", Sections: []evidence.Section{{Name: "S", Entries: []evidence.Entry{{ItemID: ids[0]}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCollection(ctx, "recovery", c.Version, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Collection(ctx, "recovery"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("deleted collection still read: %v", err)
	}
	obs := newObserver(t, path)
	for _, table := range []string{"collections", "collection_sections", "collection_entries", "collection_history"} {
		if n := obs.queryInt(`SELECT count(*) FROM `+table+` WHERE `+map[bool]string{true: "id", false: "collection_id"}[table == "collections"]+` = ?`, c.ID); n != 0 {
			t.Errorf("%d rows of %s left", n, table)
		}
	}
	if n := obs.queryInt(`SELECT count(*) FROM items`); n != 1 {
		t.Errorf("%d items after deleting a collection, want 1", n)
	}
	if got, err := s.Collection(ctx, "other"); err != nil || len(got.Entries()) != 1 || got.Version != other.Version {
		t.Errorf("the other collection: %+v, %v", got, err)
	}
	// The slug is free again.
	if _, err := s.CreateCollection(ctx, evidence.Collection{Slug: "recovery", Name: "Again"}); err != nil {
		t.Errorf("slug of a deleted collection: %v", err)
	}
}

// TestCollectionItemGone: an item that leaves the store leaves its entry
// readable, without an item.
func TestCollectionItemGone(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	ids := storedItems(t, s, "https://example.org/a", "https://example.org/b")
	newCollection(t, s, "Patient activation")
	for _, id := range ids {
		if _, err := s.EditCollection(ctx, "recovery", 0, "x", addEntry(id, "Patient activation", "note "+id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM items WHERE id = ?`, ids[0]); err != nil {
		t.Fatal(err)
	}
	got, err := s.Collection(ctx, "recovery")
	if err != nil {
		t.Fatal(err)
	}
	es := got.Sections[0].Entries
	if len(es) != 2 || es[0].ItemID != ids[0] || es[0].Item != nil || es[0].Note != "note "+ids[0] || es[1].Item == nil {
		t.Errorf("entries %+v: want the gone item's entry kept without an item", es)
	}
	// It can still be edited (and removed).
	got, err = s.EditCollection(ctx, "recovery", got.Version, "x", func(c *evidence.Collection) (string, string, error) {
		c.Sections[0].Entries = c.Sections[0].Entries[1:]
		return "remove", "removed", nil
	})
	if err != nil || layout(got) != "Patient activation: "+ids[1] {
		t.Errorf("remove the gone item's entry: %q, %v", layout(got), err)
	}
}

func TestItemByDOI(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	it := sampleItem("https://example.org/report")
	it.DOI = "10.31365/KF.2023.MH360"
	mustUpsert(t, s, it)
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"10.31365/kf.2023.mh360", nil},
		{"doi:10.31365/KF.2023.MH360", nil},
		{"https://doi.org/10.31365/kf.2023.MH360", nil},
		{" https://dx.doi.org/10.31365/KF.2023.MH360 ", nil},
		{"10.31365/other", evidence.ErrNotFound},
		{"not a doi", evidence.ErrInvalid},
		{"10.1234", evidence.ErrInvalid},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := s.ItemByDOI(ctx, tt.in)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if err == nil && got.ID != it.ID {
				t.Errorf("got %s, want %s", got.ID, it.ID)
			}
		})
	}
}
