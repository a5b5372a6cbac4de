package service

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/digest"
	"github.com/evidencetracker/evidence/store"
)

type idResolver struct{ st *store.Store }

func (r idResolver) Resolve(ctx context.Context, ref string) (evidence.Item, error) {
	if strings.Contains(ref, "://") {
		return r.st.ItemByURL(ctx, ref)
	}
	return r.st.Item(ctx, ref)
}

// newDigests is the digest service over a real store holding week
// 2026-W46's items: three on recovery, one on workforce, one too old.
func newDigests(t *testing.T) (*Digests, *store.Store, map[string]string) {
	t.Helper()
	ctx := context.Background()
	clk := &testClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "evidence.db"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ids := map[string]string{}
	tags := map[string][]evidence.TopicTag{}
	for i, it := range []struct{ key, typ, topic, published string }{
		{"r1", evidence.TypeReport, "recovery", "2026-11-10"},
		{"r2", evidence.TypeBlog, "recovery", "2026-11-11"},
		{"r3", evidence.TypeNews, "recovery", "2026-11-12"},
		{"w1", evidence.TypeReport, "workforce", "2026-11-12"},
		{"old", evidence.TypeReport, "workforce", "2025-01-10"},
	} {
		pub, _ := time.Parse("2006-01-02", it.published)
		item := &evidence.Item{URL: "https://www.kingsfund.org.uk/reports/" + it.key, Source: evidence.SourceKingsFund,
			Type: it.typ, Title: "Item " + it.key, Published: &pub,
			FirstSeen: time.Date(2026, 11, 10+i, 9, 0, 0, 0, time.UTC), ContentHash: it.key}
		if _, err := st.UpsertItem(ctx, item); err != nil {
			t.Fatal(err)
		}
		ids[it.key] = item.ID
		tags[item.ID] = []evidence.TopicTag{{Name: it.topic, Strength: 1, Where: evidence.TopicTitle, Hits: 1}}
	}
	if err := st.SetTopics(ctx, tags); err != nil {
		t.Fatal(err)
	}
	d := &Digests{Store: st, Items: st, Resolver: idResolver{st},
		Options: digest.Options{Now: clk.Now, Location: time.UTC, SourceNames: map[string]string{evidence.SourceKingsFund: "The King's Fund"}}}
	return d, st, ids
}

func section(t *testing.T, dg *digest.Digest, topic string) []string {
	t.Helper()
	for _, s := range dg.Sections {
		if s.Topic == topic {
			var out []string
			for _, e := range s.Entries {
				out = append(out, e.ID)
			}
			return out
		}
	}
	return nil
}

func TestEditDraftMove(t *testing.T) {
	d, _, ids := newDigests(t)
	ctx := context.Background()
	w := d.DefaultWeek()
	if w.String() != "2026-W46" {
		t.Fatalf("default week %s", w)
	}
	_, dg, err := d.Draft(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if got := section(t, dg, "recovery"); !slices.Equal(got, []string{ids["r1"], ids["r2"], ids["r3"]}) {
		t.Fatalf("recovery as built = %v", got)
	}
	dr, err := d.EditDraft(ctx, w, "ed@example.org", Edit{Approve: true})
	if err != nil || !dr.Approved() {
		t.Fatal(dr, err)
	}

	steps := []struct {
		name string
		edit Edit
		want []string
	}{
		{"down", Edit{Move: ids["r1"], Delta: 1}, []string{"r2", "r1", "r3"}},
		{"up", Edit{Move: ids["r3"], Delta: -1}, []string{"r2", "r3", "r1"}},
		{"to the top by URL", Edit{Move: "https://www.kingsfund.org.uk/reports/r1", To: 1}, []string{"r1", "r2", "r3"}},
		{"to the end", Edit{Move: ids["r1"], To: 3}, []string{"r2", "r3", "r1"}},
	}
	for _, s := range steps {
		dr, err = d.EditDraft(ctx, w, "ed@example.org", s.edit)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		_, dg, _ = d.Draft(ctx, w)
		var want []string
		for _, k := range s.want {
			want = append(want, ids[k])
		}
		if got := section(t, dg, "recovery"); !slices.Equal(got, want) {
			t.Errorf("%s: recovery = %v, want %v", s.name, got, want)
		}
	}
	if dr.Approved() {
		t.Error("a move kept the approval")
	}
	if !slices.Equal(dr.Order["recovery"], []string{ids["r2"], ids["r3"], ids["r1"]}) || len(dr.Order) != 1 {
		t.Errorf("stored order = %v", dr.Order)
	}

	// Picks move among themselves.
	for _, k := range []string{"w1", "old"} {
		if _, err := d.EditDraft(ctx, w, "ed", Edit{Pick: ids[k]}); err != nil {
			t.Fatal(err)
		}
	}
	if dr, err = d.EditDraft(ctx, w, "ed", Edit{Move: ids["old"], Delta: -1}); err != nil || !slices.Equal(dr.Picks, []string{ids["old"], ids["w1"]}) {
		t.Errorf("move a pick: picks %v, %v", dr.Picks, err)
	}

	bad := []struct {
		name string
		edit Edit
		want error
		msg  string
	}{
		{"a dropped item", Edit{Move: ids["r2"], Delta: 1}, evidence.ErrInvalid, "left out"},
		{"no direction", Edit{Move: ids["r1"]}, evidence.ErrInvalid, "up, down or a position"},
		{"with another change", Edit{Move: ids["r1"], Delta: 1, Approve: true}, evidence.ErrInvalid, "on its own"},
		{"an unknown item", Edit{Move: "nosuch", Delta: 1}, evidence.ErrNotFound, "nosuch"},
		{"a stale version", Edit{Move: ids["r1"], Delta: -1, Version: 1}, evidence.ErrConflict, "version"},
	}
	if _, err := d.EditDraft(ctx, w, "ed", Edit{Drop: ids["r2"]}); err != nil {
		t.Fatal(err)
	}
	before, _, _ := d.Draft(ctx, w)
	for _, b := range bad {
		_, err := d.EditDraft(ctx, w, "ed", b.edit)
		if !errors.Is(err, b.want) || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%s: %v, want %v naming %q", b.name, err, b.want, b.msg)
		}
	}
	if after, _, _ := d.Draft(ctx, w); after.Version != before.Version {
		t.Errorf("refused moves changed the draft: version %d → %d", before.Version, after.Version)
	}
}

func TestEditDraftApproval(t *testing.T) {
	d, _, ids := newDigests(t)
	ctx := context.Background()
	w := d.DefaultWeek()
	dr, err := d.EditDraft(ctx, w, "ed@example.org", Edit{Approve: true})
	if err != nil || dr.ApprovedBy != "ed@example.org" || dr.ApprovedAt == nil {
		t.Fatalf("approve = %+v, %v", dr, err)
	}
	if dr, err = d.EditDraft(ctx, w, "boss@example.org", Edit{Withdraw: true, Version: dr.Version}); err != nil || dr.Approved() {
		t.Fatalf("withdraw = %+v, %v", dr, err)
	}
	if _, err = d.EditDraft(ctx, w, "x", Edit{Approve: true, Withdraw: true}); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("approve and withdraw: %v", err)
	}
	if _, err = d.EditDraft(ctx, w, "x", Edit{Pick: ids["r1"], Version: 1}); !errors.Is(err, evidence.ErrConflict) {
		t.Errorf("stale pick: %v", err)
	}
}

func TestPreviewFor(t *testing.T) {
	d, _, ids := newDigests(t)
	ctx := context.Background()
	w := d.DefaultWeek()
	dg, err := d.PreviewFor(ctx, w, []string{"workforce"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dg.Sections) != 1 || dg.Sections[0].Topic != "workforce" || section(t, dg, "workforce")[0] != ids["w1"] {
		t.Errorf("workforce preview: %+v", dg.Sections)
	}
	topics, sources := d.Choices()
	if topics != nil || len(sources) != 1 || sources[0].ID != evidence.SourceKingsFund {
		t.Errorf("choices without subscriptions = %v, %v", topics, sources)
	}
}
