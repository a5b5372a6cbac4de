package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func addTestUser(t *testing.T, s *Store, email string) evidence.User {
	t.Helper()
	u, err := s.AddUser(context.Background(), UserInput{Email: email, Role: evidence.RoleReader, PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSavedSearches(t *testing.T) {
	s, clk, _ := newStore(t)
	ctx := context.Background()
	alice, bob := addTestUser(t, s, "alice@example.org"), addTestUser(t, s, "bob@example.org")

	in := evidence.SavedSearch{UserID: alice.ID, Name: "  Peer support in the NHS ", Query: `"peer support"`,
		Sources: []string{"kings-fund"}, Types: []string{"report", "briefing"}, Year: "2025"}
	ss, err := s.AddSavedSearch(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := base64.RawURLEncoding.DecodeString(ss.FeedToken)
	if ss.ID == "" || ss.Name != "Peer support in the NHS" || ss.UserID != alice.ID || !ss.Created.Equal(clk.Now()) || ss.LastVisit != nil ||
		len(tok) != 32 || !slices.Equal(ss.Types, []string{"report", "briefing"}) || ss.Topics == nil || len(ss.Topics) != 0 || ss.Year != "2025" {
		t.Fatalf("add = %+v, %v", ss, err)
	}

	for _, tc := range []struct {
		name string
		in   evidence.SavedSearch
		want error
	}{
		{"same name in another case", evidence.SavedSearch{UserID: alice.ID, Name: "PEER SUPPORT in the nhs"}, evidence.ErrConflict},
		{"empty name", evidence.SavedSearch{UserID: alice.ID, Name: "  "}, evidence.ErrInvalid},
		{"line break", evidence.SavedSearch{UserID: alice.ID, Name: "a\nb"}, evidence.ErrInvalid},
		{"too long", evidence.SavedSearch{UserID: alice.ID, Name: strings.Repeat("é", MaxSavedSearchName+1)}, evidence.ErrInvalid},
		{"unknown user", evidence.SavedSearch{UserID: "unone", Name: "x"}, evidence.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.AddSavedSearch(ctx, tc.in); !errors.Is(err, tc.want) {
				t.Errorf("= %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := s.AddSavedSearch(ctx, evidence.SavedSearch{UserID: alice.ID, Name: "PEER SUPPORT in the nhs"}); err == nil || !strings.Contains(err.Error(), `"PEER SUPPORT in the nhs"`) {
		t.Errorf("conflict does not name the name: %v", err)
	}
	// Another user may use the same name.
	bobs, err := s.AddSavedSearch(ctx, evidence.SavedSearch{UserID: bob.ID, Name: "Peer support in the NHS"})
	if err != nil {
		t.Fatal(err)
	}
	if bobs.FeedToken == ss.FeedToken {
		t.Fatal("two saved searches share a feed token")
	}

	// Each user sees only their own.
	if _, err := s.SavedSearch(ctx, bob.ID, ss.ID); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("bob reads alice's: %v", err)
	}
	for _, op := range []func() error{
		func() error { _, err := s.RenameSavedSearch(ctx, bob.ID, ss.ID, "mine"); return err },
		func() error { _, err := s.VisitSavedSearch(ctx, bob.ID, ss.ID, clk.Now()); return err },
		func() error { _, err := s.RotateSavedSearchToken(ctx, bob.ID, ss.ID); return err },
		func() error { return s.DeleteSavedSearch(ctx, bob.ID, ss.ID) },
	} {
		if err := op(); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("bob changes alice's: %v", err)
		}
	}

	got, err := s.SavedSearchByFeedToken(ctx, ss.FeedToken)
	if err != nil || got.ID != ss.ID {
		t.Fatalf("by token = %+v, %v", got, err)
	}
	for _, bad := range []string{"", ss.FeedToken[:len(ss.FeedToken)-1], ss.FeedToken + "x", strings.ToUpper(ss.FeedToken)} {
		if _, err := s.SavedSearchByFeedToken(ctx, bad); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("token %q: %v", bad, err)
		}
	}

	clk.Advance(time.Hour)
	v, err := s.VisitSavedSearch(ctx, alice.ID, ss.ID, clk.Now())
	if err != nil || v.LastVisit == nil || !v.LastVisit.Equal(clk.Now()) {
		t.Fatalf("visit = %+v, %v", v, err)
	}
	rot, err := s.RotateSavedSearchToken(ctx, alice.ID, ss.ID)
	if err != nil || rot.FeedToken == ss.FeedToken || len(rot.FeedToken) != 43 {
		t.Fatalf("rotate = %+v, %v", rot, err)
	}
	if _, err := s.SavedSearchByFeedToken(ctx, ss.FeedToken); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("the old token still works: %v", err)
	}
	if got, err := s.SavedSearchByFeedToken(ctx, rot.FeedToken); err != nil || got.ID != ss.ID {
		t.Errorf("new token = %+v, %v", got, err)
	}

	second, err := s.AddSavedSearch(ctx, evidence.SavedSearch{UserID: alice.ID, Name: "anxiety"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenameSavedSearch(ctx, alice.ID, second.ID, "peer support IN THE NHS"); !errors.Is(err, evidence.ErrConflict) {
		t.Errorf("rename onto another's name: %v", err)
	}
	if r, err := s.RenameSavedSearch(ctx, alice.ID, ss.ID, "peer support in the NHS"); err != nil || r.Name != "peer support in the NHS" {
		t.Errorf("rename to itself in another case = %+v, %v", r, err)
	}
	list, err := s.SavedSearches(ctx, alice.ID)
	if err != nil || len(list) != 2 || list[0].ID != second.ID || list[1].ID != ss.ID || list[1].LastVisit == nil {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if err := s.DeleteSavedSearch(ctx, alice.ID, second.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSavedSearch(ctx, alice.ID, second.ID); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}

	// Removing the user removes their saved searches.
	if err := s.RemoveUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SavedSearchByFeedToken(ctx, bobs.FeedToken); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("a removed user's feed still works: %v", err)
	}
}

func TestSavedSearchLimit(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	u := addTestUser(t, s, "many@example.org")
	for i := range MaxSavedSearches {
		if _, err := s.AddSavedSearch(ctx, evidence.SavedSearch{UserID: u.ID, Name: fmt.Sprint("search ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddSavedSearch(ctx, evidence.SavedSearch{UserID: u.ID, Name: "one more"}); !errors.Is(err, evidence.ErrInvalid) || !strings.Contains(err.Error(), "delete one first") {
		t.Errorf("over the limit: %v", err)
	}
}

func TestCustomTopicsAndDigestSections(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	u := addTestUser(t, s, "admin@example.org")
	ss, err := s.AddSavedSearch(ctx, evidence.SavedSearch{UserID: u.ID, Name: "Peer support"})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.AddCustomTopic(ctx, CustomTopic{Name: "Peer support work", Description: "From a saved search", Query: `"peer support" source:kings-fund`,
		SavedSearchID: ss.ID, CreatedBy: "admin@example.org"})
	if err != nil || ct.Created.IsZero() {
		t.Fatalf("add topic = %+v, %v", ct, err)
	}
	if _, err := s.AddCustomTopic(ctx, CustomTopic{Name: "PEER SUPPORT WORK", Query: "x", CreatedBy: "a"}); !errors.Is(err, evidence.ErrConflict) {
		t.Errorf("same name: %v", err)
	}
	if _, err := s.AddCustomTopic(ctx, CustomTopic{Name: "no query", CreatedBy: "a"}); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("no query: %v", err)
	}

	sub, _, err := s.AddSubscriber(ctx, SubscriberInput{Email: "reader@example.org", Status: evidence.SubscriberActive})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddDigestSection(ctx, sub.ID, ss.ID, "admin@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDigestSection(ctx, sub.ID, ss.ID, "admin@example.org"); !errors.Is(err, evidence.ErrConflict) {
		t.Errorf("twice: %v", err)
	}
	if err := s.AddDigestSection(ctx, "bnone", ss.ID, "a"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("unknown subscriber: %v", err)
	}
	if err := s.AddDigestSection(ctx, sub.ID, "snone", "a"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("unknown saved search: %v", err)
	}
	secs, err := s.DigestSections(ctx)
	if err != nil || len(secs) != 1 || len(secs[sub.ID]) != 1 || secs[sub.ID][0].ID != ss.ID || secs[sub.ID][0].Name != "Peer support" {
		t.Fatalf("sections = %+v, %v", secs, err)
	}
	emails, err := s.DigestSectionSubscribers(ctx, u.ID)
	if err != nil || !slices.Equal(emails[ss.ID], []string{"reader@example.org"}) {
		t.Fatalf("section subscribers = %v, %v", emails, err)
	}

	// Deleting the saved search drops its sections and keeps its topic.
	if err := s.DeleteSavedSearch(ctx, u.ID, ss.ID); err != nil {
		t.Fatal(err)
	}
	if secs, _ := s.DigestSections(ctx); len(secs) != 0 {
		t.Errorf("sections after delete = %+v", secs)
	}
	topics, err := s.CustomTopics(ctx)
	if err != nil || len(topics) != 1 || topics[0].SavedSearchID != "" || topics[0].Query != `"peer support" source:kings-fund` {
		t.Fatalf("topics = %+v, %v", topics, err)
	}
	if err := s.RemoveCustomTopic(ctx, "peer SUPPORT work"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveCustomTopic(ctx, "peer support work"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	if err := s.RemoveDigestSection(ctx, sub.ID, ss.ID); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("remove a section not there: %v", err)
	}
}
