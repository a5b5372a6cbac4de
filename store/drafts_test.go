package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/evidencetracker/evidence"
)

func TestDrafts(t *testing.T) {
	s, clk, _ := newStore(t)
	ctx := context.Background()
	d, found, err := s.Draft(ctx, "2026-W47")
	if err != nil || found || d.Version != 0 || d.Picks == nil {
		t.Fatalf("no draft = %+v, %v, %v", d, found, err)
	}
	d, err = s.EditDraft(ctx, "2026-W47", 0, "librarian@example.org", func(d *evidence.DigestDraft) error {
		d.Picks = append(d.Picks, "a", "b")
		d.Note = "This week: **recovery**."
		return nil
	})
	if err != nil || d.Version != 1 || d.UpdatedBy != "librarian@example.org" {
		t.Fatalf("first edit = %+v, %v", d, err)
	}
	clk.Advance(60)
	// A stale edit (made on version 0) is refused and changes nothing.
	_, err = s.EditDraft(ctx, "2026-W47", 5, "other@example.org", func(d *evidence.DigestDraft) error { d.Note = "lost"; return nil })
	if !errors.Is(err, evidence.ErrConflict) {
		t.Fatalf("stale edit: %v", err)
	}
	// A failing edit changes nothing either.
	_, err = s.EditDraft(ctx, "2026-W47", 0, "x", func(*evidence.DigestDraft) error { return evidence.ErrInvalid })
	if !errors.Is(err, evidence.ErrInvalid) {
		t.Fatalf("failing edit: %v", err)
	}
	now := clk.Now()
	d, err = s.EditDraft(ctx, "2026-W47", 1, "librarian@example.org", func(d *evidence.DigestDraft) error {
		d.Drops = []string{"c"}
		d.ApprovedBy, d.ApprovedAt = "librarian@example.org", &now
		return nil
	})
	if err != nil || d.Version != 2 {
		t.Fatal(d, err)
	}
	got, found, err := s.Draft(ctx, "2026-W47")
	if err != nil || !found || !slices.Equal(got.Picks, []string{"a", "b"}) || !slices.Equal(got.Drops, []string{"c"}) ||
		got.Note != "This week: **recovery**." || !got.Approved() || got.Version != 2 {
		t.Fatalf("stored draft = %+v, %v", got, err)
	}
	list, err := s.Drafts(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("drafts = %v, %v", list, err)
	}
}

func TestDigestArchive(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	a := evidence.ArchivedDigest{Week: "2026-W47", Title: "Digest", Dates: "16–22 November 2026", Items: 3, HTML: "<p>v1</p>", Text: "v1", Markdown: "v1", JSON: "{}"}
	if err := s.ArchiveDigest(ctx, a); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ArchivedDigests(ctx); len(list) != 0 {
		t.Errorf("an unsent digest is listed: %+v", list)
	}
	a.HTML = "<p>v2</p>"
	if err := s.ArchiveDigest(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDigestSent(ctx, "2026-W47"); err != nil {
		t.Fatal(err)
	}
	// Once sent, the archived copy is what was sent: a rebuild does not replace it.
	a.HTML = "<p>v3</p>"
	if err := s.ArchiveDigest(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.ArchivedDigest(ctx, "2026-W47")
	if err != nil || got.HTML != "<p>v2</p>" || got.Sent == nil {
		t.Fatalf("archived = %+v, %v", got, err)
	}
	list, err := s.ArchivedDigests(ctx)
	if err != nil || len(list) != 1 || list[0].HTML != "" || list[0].Items != 3 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := s.ArchivedDigest(ctx, "2026-W01"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("missing week: %v", err)
	}
}

func TestDraftOrder(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	d, _, err := s.Draft(ctx, "2026-W42")
	if err != nil || d.Order == nil || len(d.Order) != 0 {
		t.Fatalf("no draft: order %v, %v", d.Order, err)
	}
	_, err = s.EditDraft(ctx, "2026-W42", 0, "ed", func(d *evidence.DigestDraft) error {
		d.Order = map[string][]string{"recovery": {"b", "a"}, "workforce": {}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Draft(ctx, "2026-W42")
	if err != nil || len(got.Order) != 1 || !slices.Equal(got.Order["recovery"], []string{"b", "a"}) {
		t.Fatalf("stored order = %v, %v (want recovery: b, a; the empty section dropped)", got.Order, err)
	}
	// A draft stored before the order column existed reads as no order.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO digest_drafts (week, updated_at) VALUES ('2026-W41', '2026-10-12T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	old, found, err := s.Draft(ctx, "2026-W41")
	if err != nil || !found || old.Order == nil || len(old.Order) != 0 {
		t.Fatalf("older draft = %+v, %v", old, err)
	}
}
