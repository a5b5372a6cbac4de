package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/store"
)

var (
	anonymous = evidence.Principal{}
	reader    = evidence.Principal{User: evidence.User{ID: "u1", Email: "reader@example.org", Role: evidence.RoleReader}, Via: "session"}
	curator   = evidence.Principal{User: evidence.User{ID: "u2", Email: "curator@example.org", Role: evidence.RoleCurator}, Via: "session"}
	curator2  = evidence.Principal{User: evidence.User{ID: "u3", Email: "second@example.org", Role: evidence.RoleCurator}, Via: "token"}
	admin     = evidence.Principal{User: evidence.User{ID: "u4", Email: "admin@example.org", Role: evidence.RoleAdmin}, Via: "session"}
)

// The recovery resource list's items.
const (
	kfURL     = "https://www.kingsfund.org.uk/insight-and-analysis/reports/supporting-people-manage-their-health"
	kfDOI     = "10.31365/KF.2014.SPMTH"
	nvURL     = "https://www.nationalvoices.org.uk/publication/what-is-good-supported-self-management"
	nvOldURL  = "https://www.nationalvoices.org.uk/publications/what-is-good-supported-self-management"
	nhsURL    = "https://www.england.nhs.uk/personalisedcare/supported-self-management/patient-activation/"
	storyURL  = "https://www.nationalelfservice.net/mental-health/personal-stories/recovery-narratives-online-trial-lived-experience-stories/"
	storyName = "Do recovery narratives help? An online trial of lived experience stories"
)

type collectionsFixture struct {
	svc *Collections
	st  *store.Store
	ids map[string]string // URL → item ID
	add *fakeAdder
}

// fakeAdder stores a manual item for any URL it is given.
type fakeAdder struct {
	st    *store.Store
	calls []string
	fail  error
}

func (f *fakeAdder) AddURL(ctx context.Context, rawURL, by string) (evidence.Item, error) {
	f.calls = append(f.calls, rawURL+" by "+by)
	if f.fail != nil {
		return evidence.Item{}, f.fail
	}
	it := &evidence.Item{Source: evidence.SourceManual, Type: evidence.TypePublication, Title: "Fetched " + rawURL, URL: rawURL}
	if _, err := f.st.UpsertItem(ctx, it); err != nil {
		return evidence.Item{}, err
	}
	return *it, nil
}

func newCollectionsFixture(t *testing.T) *collectionsFixture {
	t.Helper()
	ctx := context.Background()
	clk := &testClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "evidence.db"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &collectionsFixture{st: st, ids: map[string]string{}, add: &fakeAdder{st: st}}
	pub := time.Date(2014, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, it := range []*evidence.Item{
		{Source: evidence.SourceKingsFund, Type: evidence.TypeReport, Title: "Supporting people to manage their health", URL: kfURL,
			Authors: []string{"Judith Hibbard", "Helen Gilburt"}, DOI: kfDOI, Published: &pub},
		{Source: evidence.SourceNationalVoices, Type: evidence.TypePublication, Title: "What is good supported self-management?", URL: nvURL},
		{Source: evidence.SourceManual, Type: evidence.TypePublication, Title: "Patient activation", URL: nhsURL},
		{Source: evidence.SourceMentalElf, Type: evidence.TypeBlog, Title: storyName, URL: storyURL},
	} {
		if _, err := st.UpsertItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		f.ids[it.URL] = it.ID
	}
	if err := st.AddAlias(ctx, nvOldURL, nvURL); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{evidence.SourceKingsFund: "The King's Fund", evidence.SourceNationalVoices: "National Voices"}
	f.svc = &Collections{Store: st, URLs: f.add, Names: func(id string) string { return names[id] }}
	return f
}

func (f *collectionsFixture) create(t *testing.T, name string, public bool) evidence.Collection {
	t.Helper()
	c := evidence.Collection{Name: name}
	if public {
		c.Visibility = evidence.VisibilityPublic
	}
	got, err := f.svc.Create(context.Background(), curator, c)
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	return got
}

func (f *collectionsFixture) edit(t *testing.T, slug string, e evidence.CollectionEdit) evidence.Collection {
	t.Helper()
	c, err := f.svc.Edit(context.Background(), slug, 0, curator, e)
	if err != nil {
		t.Fatalf("Edit(%s, %+v): %v", slug, e, err)
	}
	return c
}

// titles is a collection's layout with the items' titles.
func titles(c evidence.Collection) string {
	var parts []string
	for _, sec := range c.Sections {
		var ts []string
		for _, e := range sec.Entries {
			if e.Item == nil {
				ts = append(ts, "?"+e.ItemID)
				continue
			}
			ts = append(ts, e.Item.Title)
		}
		parts = append(parts, sec.Name+": "+strings.Join(ts, " | "))
	}
	return strings.Join(parts, "; ")
}

func wantErr(t *testing.T, err, want error, msg string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err %v, want %v", err, want)
	}
	if msg != "" && (err == nil || !strings.Contains(err.Error(), msg)) {
		t.Fatalf("err %q, want it to say %q", err, msg)
	}
}

func TestCollectionsRoles(t *testing.T) {
	ctx := context.Background()
	f := newCollectionsFixture(t)
	for _, tt := range []struct {
		name string
		p    evidence.Principal
		want error
		msg  string
	}{
		{"anonymous", anonymous, ErrForbidden, "sign in as a curator"},
		{"reader", reader, ErrForbidden, "needs the curator role (reader@example.org is a reader)"},
		{"curator", curator, nil, ""},
		{"admin", admin, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.svc.Create(ctx, tt.p, evidence.Collection{Name: "List by " + tt.name})
			wantErr(t, err, tt.want, tt.msg)
			if tt.want == nil && c.Owner != tt.p.User.Email {
				t.Errorf("owner %q", c.Owner)
			}
			_, err = f.svc.Edit(ctx, "list-by-curator", 0, tt.p, evidence.CollectionEdit{Action: ActionRename, Name: "Renamed by " + tt.name})
			wantErr(t, err, tt.want, tt.msg)
		})
	}
	for _, p := range []evidence.Principal{anonymous, reader} {
		wantErr(t, f.svc.Delete(ctx, "list-by-curator", 0, p), ErrForbidden, "")
	}
	if err := f.svc.Delete(ctx, "list-by-admin", 0, curator2); err != nil {
		t.Errorf("a curator deletes another's collection: %v", err)
	}
	if _, err := f.svc.Get(ctx, "list-by-admin", admin); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("deleted collection: %v", err)
	}
	wantErr(t, f.svc.Delete(ctx, "list-by-admin", 0, curator), evidence.ErrNotFound, `no collection "list-by-admin"`)
}

func TestCollectionsVisibility(t *testing.T) {
	ctx := context.Background()
	f := newCollectionsFixture(t)
	priv := f.create(t, "Private list", false)
	pub := f.create(t, "Public list", true)
	f.edit(t, pub.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{kfURL}, Note: "n"})
	if priv.Visibility != evidence.VisibilityPrivate {
		t.Errorf("default visibility %q, want private", priv.Visibility)
	}
	for _, tt := range []struct {
		name string
		p    evidence.Principal
		want []string
	}{
		{"anonymous", anonymous, []string{"public-list"}},
		{"reader", reader, []string{"public-list"}},
		{"curator", curator, []string{"private-list", "public-list"}},
		{"admin", admin, []string{"private-list", "public-list"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			list, err := f.svc.List(ctx, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var slugs []string
			for _, c := range list {
				slugs = append(slugs, c.Slug)
			}
			if strings.Join(slugs, " ") != strings.Join(tt.want, " ") {
				t.Errorf("list %v, want %v", slugs, tt.want)
			}
			for _, c := range list {
				if c.Slug == "public-list" && (len(c.Entries()) != 1 || c.Entries()[0].Item == nil) {
					t.Errorf("listed %+v without its entries", c)
				}
			}
			_, err = f.svc.Get(ctx, "private-list", tt.p)
			_, errMissing := f.svc.Get(ctx, "no-such-list", tt.p)
			curates := tt.p.Can(evidence.RoleCurator)
			if curates != (err == nil) {
				t.Errorf("Get(private): %v", err)
			}
			if !curates && (!errors.Is(err, evidence.ErrNotFound) || strings.ReplaceAll(err.Error(), "private-list", "X") != strings.ReplaceAll(errMissing.Error(), "no-such-list", "X")) {
				t.Errorf("a hidden private collection says %q, a missing one %q: want the same", err, errMissing)
			}
			c, err := f.svc.Get(ctx, "public-list", tt.p)
			if err != nil {
				t.Fatal(err)
			}
			hidden := c.Owner == "" && c.UpdatedBy == "" && c.Entries()[0].AddedBy == ""
			if hidden == curates {
				t.Errorf("curators' addresses shown to %s: owner %q, updated by %q, added by %q", tt.name, c.Owner, c.UpdatedBy, c.Entries()[0].AddedBy)
			}
			_, err = f.svc.History(ctx, "public-list", tt.p)
			if curates != (err == nil) || !curates && !errors.Is(err, ErrForbidden) {
				t.Errorf("History(public): %v", err)
			}
			_, err = f.svc.History(ctx, "private-list", tt.p)
			if curates != (err == nil) || !curates && !errors.Is(err, evidence.ErrNotFound) {
				t.Errorf("History(private): %v", err)
			}
			var b bytes.Buffer
			err = f.svc.Export(ctx, "private-list", tt.p, "ris", &b)
			if curates != (err == nil) || !curates && !errors.Is(err, evidence.ErrNotFound) {
				t.Errorf("Export(private): %v", err)
			}
		})
	}
	// Publishing and unpublishing.
	f.edit(t, priv.Slug, evidence.CollectionEdit{Action: ActionVisibility, Visibility: evidence.VisibilityPublic})
	if _, err := f.svc.Get(ctx, priv.Slug, anonymous); err != nil {
		t.Errorf("published collection: %v", err)
	}
	_, err := f.svc.Edit(ctx, priv.Slug, 0, curator, evidence.CollectionEdit{Action: ActionVisibility, Visibility: "unlisted"})
	wantErr(t, err, evidence.ErrInvalid, `visibility "unlisted": want public or private`)
}

func TestCollectionsCreate(t *testing.T) {
	ctx := context.Background()
	f := newCollectionsFixture(t)
	c, err := f.svc.Create(ctx, curator, evidence.Collection{Name: "  Recovery resources – King's Fund & National Voices  ",
		Description: "Gathered for *staff*.", Sections: []evidence.Section{{Name: "Patient activation", Intro: "Why"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Slug != "recovery-resources-kings-fund-and-national-voices" || c.Name != "Recovery resources – King's Fund & National Voices" ||
		c.Version != 1 || len(c.Sections) != 1 || c.Sections[0].Intro != "Why" {
		t.Errorf("created %+v", c)
	}
	for _, tt := range []struct {
		name string
		c    evidence.Collection
		want error
		msg  string
	}{
		{"name collides", evidence.Collection{Name: "Recovery resources: King’s Fund and National Voices"}, evidence.ErrConflict,
			"slug recovery-resources-kings-fund-and-national-voices is taken by collection “Recovery resources – King's Fund & National Voices”"},
		{"slug collides", evidence.Collection{Name: "Other", Slug: "recovery-resources-kings-fund-and-national-voices"}, evidence.ErrConflict, "is taken by collection"},
		{"no name", evidence.Collection{Name: " \t"}, evidence.ErrInvalid, "name: empty"},
		{"long name", evidence.Collection{Name: strings.Repeat("n", 201)}, evidence.ErrInvalid, "name: 201 characters; at most 200"},
		{"two-line name", evidence.Collection{Name: "One\nTwo"}, evidence.ErrInvalid, "name: one line"},
		{"no slug letters", evidence.Collection{Name: "！！！"}, evidence.ErrInvalid, "give a slug"},
		{"bad slug", evidence.Collection{Name: "X", Slug: "Recovery Resources"}, evidence.ErrInvalid, `use lower-case letters, digits and single hyphens (for example "recovery-resources")`},
		{"reserved slug", evidence.Collection{Name: "X", Slug: "new"}, evidence.ErrInvalid, "reserved"},
		{"bad visibility", evidence.Collection{Name: "X", Visibility: "everyone"}, evidence.ErrInvalid, `visibility "everyone"`},
		{"long description", evidence.Collection{Name: "X", Description: strings.Repeat("d", MaxDescription+1)}, evidence.ErrInvalid, "description: 20001 characters"},
		{"entries at creation", evidence.Collection{Name: "X", Sections: []evidence.Section{{Name: "S", Entries: []evidence.Entry{{ItemID: "x"}}}}}, evidence.ErrInvalid, "sections[1]: entries are added"},
		{"section twice", evidence.Collection{Name: "X", Sections: []evidence.Section{{Name: "S"}, {Name: "s"}}}, evidence.ErrInvalid, "sections[2]: section “s” is given twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Create(ctx, curator, tt.c)
			wantErr(t, err, tt.want, tt.msg)
		})
	}
	list, _ := f.svc.List(ctx, curator)
	if len(list) != 1 {
		t.Errorf("%d collections after refused creates, want 1", len(list))
	}
	// The name "new" gets a slug that is not reserved.
	if c, err := f.svc.Create(ctx, curator, evidence.Collection{Name: "New"}); err != nil || c.Slug != "new-collection" {
		t.Errorf("Create(New): %q, %v", c.Slug, err)
	}
}

func TestSlugify(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Recovery resources", "recovery-resources"},
		{"The King's Fund & me", "the-kings-fund-and-me"},
		{"Santé mentale: les études", "sante-mentale-les-etudes"},
		{"  --Hello,   World!--  ", "hello-world"},
		{"Straße Æsir Œuvre", "strasse-aesir-oeuvre"},
		{"2026 / week 47", "2026-week-47"},
		{"新しい", ""},
		{"<script>alert(1)</script>", "script-alert-1-script"},
		{strings.Repeat("word ", 30), strings.TrimSuffix(strings.Repeat("word-", 16), "-")},
		{strings.Repeat("x", 100), strings.Repeat("x", 80)},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got := Slugify(tt.in)
			if got != tt.want {
				t.Errorf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got != "" {
				if err := CheckSlug(got); err != nil {
					t.Errorf("Slugify's %q fails CheckSlug: %v", got, err)
				}
			}
		})
	}
}

// TestCollectionsAdd builds the recovery resource list: sections made on
// first use in the order named, items named every way the contract allows.
func TestCollectionsAdd(t *testing.T) {
	ctx := context.Background()
	f := newCollectionsFixture(t)
	c := f.create(t, "Recovery resources", true)
	c = f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{"doi:" + strings.ToLower(kfDOI), nhsURL + "?utm_source=newsletter"},
		Section: "Patient activation", Note: "Why activation matters."})
	c = f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{nvOldURL}, Section: "Self-management"})
	c = f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{f.ids[storyURL]}, Section: "personal stories"})
	want := "Patient activation: Supporting people to manage their health | Patient activation; " +
		"Self-management: What is good supported self-management?; personal stories: " + storyName
	if got := titles(c); got != want {
		t.Fatalf("layout\n%s\nwant\n%s", got, want)
	}
	if n := c.Sections[0].Entries[1].Note; n != "Why activation matters." {
		t.Errorf("note of the second of two added at once: %q", n)
	}
	if c.Version != 4 {
		t.Errorf("version %d, want 4 (create and three adds)", c.Version)
	}
	hist, err := f.svc.History(ctx, c.Slug, curator)
	if err != nil {
		t.Fatal(err)
	}
	if d := hist[2].Detail; d != "added “Supporting people to manage their health”, “Patient activation” to Patient activation (a new section)" {
		t.Errorf("detail %q", d)
	}
	if len(f.add.calls) != 0 {
		t.Errorf("known items were fetched: %v", f.add.calls)
	}

	t.Run("more ways to name a stored item", func(t *testing.T) {
		for _, ref := range []string{"https://doi.org/" + kfDOI, " " + kfURL + " ", strings.TrimPrefix(kfURL, "https://"), f.ids[kfURL]} {
			_, err := f.svc.Edit(ctx, c.Slug, 0, curator, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{ref}, Section: "Self-management"})
			wantErr(t, err, evidence.ErrConflict, "“Supporting people to manage their health” is already in Patient activation")
		}
	})
	t.Run("added twice moves nothing", func(t *testing.T) {
		got, err := f.svc.Get(ctx, c.Slug, curator)
		if err != nil {
			t.Fatal(err)
		}
		if titles(got) != want || got.Version != c.Version {
			t.Errorf("after refused adds: %s v%d", titles(got), got.Version)
		}
	})
	t.Run("some new, some already there", func(t *testing.T) {
		got := f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{kfURL, "https://www.rethink.org/recovery-stories", kfURL}, Section: "Personal stories"})
		if titles(got) != want+" | Fetched https://www.rethink.org/recovery-stories" {
			t.Errorf("layout %s", titles(got))
		}
		hist, _ := f.svc.History(ctx, c.Slug, curator)
		if d := hist[0].Detail; d != "added “Fetched https://www.rethink.org/recovery-stories” to personal stories; “Supporting people to manage their health” is already in Patient activation" {
			t.Errorf("detail %q", d)
		}
		if len(f.add.calls) != 1 || f.add.calls[0] != "https://www.rethink.org/recovery-stories by curator@example.org" {
			t.Errorf("adder calls %v", f.add.calls)
		}
	})
	t.Run("bad refs", func(t *testing.T) {
		before, _ := f.svc.Get(ctx, c.Slug, curator)
		for _, tt := range []struct {
			name string
			e    evidence.CollectionEdit
			want error
			msg  string
		}{
			{"no refs", evidence.CollectionEdit{Action: ActionAdd}, evidence.ErrInvalid, "refs: name at least one item"},
			{"empty ref", evidence.CollectionEdit{Action: ActionAdd, Refs: []string{kfURL, " "}}, evidence.ErrInvalid, "refs[2]: empty"},
			{"unknown id", evidence.CollectionEdit{Action: ActionAdd, Refs: []string{"0123456789abcdef"}}, evidence.ErrNotFound, `no item "0123456789abcdef"`},
			{"not http", evidence.CollectionEdit{Action: ActionAdd, Refs: []string{"javascript://alert(1)"}}, evidence.ErrInvalid, "not an http or https URL"},
			{"file URL", evidence.CollectionEdit{Action: ActionAdd, Refs: []string{"file:///etc/passwd"}}, evidence.ErrInvalid, "not an http or https URL"},
			{"too many", evidence.CollectionEdit{Action: ActionAdd, Refs: make([]string, MaxRefs+1)}, evidence.ErrInvalid, "at most 100"},
			{"long note", evidence.CollectionEdit{Action: ActionAdd, Refs: []string{f.ids[nvURL]}, Note: strings.Repeat("n", MaxNote+1)}, evidence.ErrInvalid, "note: 2001 characters; at most 2000"},
			{"unknown action", evidence.CollectionEdit{Action: "create"}, evidence.ErrInvalid, `action "create": want one of`},
			{"gone section id", evidence.CollectionEdit{Action: ActionAdd, Refs: []string{"https://example.org/new"}, Section: "s0123456789abcdef"}, evidence.ErrNotFound, "section s0123456789abcdef is no longer in collection"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.Edit(ctx, c.Slug, 0, curator, tt.e)
				wantErr(t, err, tt.want, tt.msg)
			})
		}
		after, _ := f.svc.Get(ctx, c.Slug, curator)
		if after.Version != before.Version {
			t.Errorf("refused edits changed the collection (v%d → v%d)", before.Version, after.Version)
		}
	})
	t.Run("unknown URL without fetching", func(t *testing.T) {
		svc := *f.svc
		svc.URLs = nil
		_, err := svc.Edit(ctx, c.Slug, 0, curator, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{"https://www.nhs.uk/new-page"}})
		wantErr(t, err, evidence.ErrNotFound, "https://www.nhs.uk/new-page is not in the store; adding new URLs needs web fetching")
		_, err = svc.Edit(ctx, c.Slug, 0, curator, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{"10.1000/unknown"}})
		wantErr(t, err, evidence.ErrNotFound, "10.1000/unknown is not in the store")
	})
	t.Run("the adder's refusal is named", func(t *testing.T) {
		f.add.fail = fmt.Errorf("fetch http://127.0.0.1/: address 127.0.0.1 is loopback: %w", evidence.ErrInvalid)
		defer func() { f.add.fail = nil }()
		_, err := f.svc.Edit(ctx, c.Slug, 0, curator, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{"http://127.0.0.1/"}})
		wantErr(t, err, evidence.ErrInvalid, "add http://127.0.0.1/: fetch http://127.0.0.1/: address 127.0.0.1 is loopback")
	})
	t.Run("default section", func(t *testing.T) {
		d := f.create(t, "Flat list", false)
		d = f.edit(t, d.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{kfURL}})
		d = f.edit(t, d.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{nvURL}, Position: 1})
		if titles(d) != "Resources: What is good supported self-management? | Supporting people to manage their health" {
			t.Errorf("layout %s", titles(d))
		}
	})
}

func TestCollectionsMoveNoteRemove(t *testing.T) {
	ctx := context.Background()
	f := newCollectionsFixture(t)
	c := f.create(t, "Recovery resources", false)
	f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{kfURL, nhsURL}, Section: "Patient activation"})
	f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{nvURL}, Section: "Self-management"})
	f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{storyURL}, Section: "Personal stories"})
	const (
		kf, nhs, nv, story = "Supporting people to manage their health", "Patient activation", "What is good supported self-management?", storyName
	)
	steps := []struct {
		name   string
		e      evidence.CollectionEdit
		layout string
		detail string
	}{
		{"down", evidence.CollectionEdit{Action: ActionMove, Item: kfURL, Delta: 1},
			"Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: " + story, "moved “" + kf + "” down in Patient activation"},
		{"down past the section's end", evidence.CollectionEdit{Action: ActionMove, Item: f.ids[kfURL], Delta: 1},
			"Patient activation: " + nhs + "; Self-management: " + kf + " | " + nv + "; Personal stories: " + story, "moved “" + kf + "” down to the start of Self-management"},
		{"up past the section's top", evidence.CollectionEdit{Action: ActionMove, Item: kfURL, Delta: -1},
			"Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: " + story, "moved “" + kf + "” up to the end of Patient activation"},
		{"to position 1", evidence.CollectionEdit{Action: ActionMove, Item: "doi:" + kfDOI, Position: 1},
			"Patient activation: " + kf + " | " + nhs + "; Self-management: " + nv + "; Personal stories: " + story, "moved “" + kf + "” to position 1 in Patient activation"},
		{"to another section", evidence.CollectionEdit{Action: ActionMove, Item: storyURL, ToSection: "self-management", Position: 1},
			"Patient activation: " + kf + " | " + nhs + "; Self-management: " + story + " | " + nv + "; Personal stories: ", "moved “" + story + "” to Self-management (position 1)"},
		{"back, to its end", evidence.CollectionEdit{Action: ActionMove, Item: storyURL, ToSection: "Personal stories"},
			"Patient activation: " + kf + " | " + nhs + "; Self-management: " + nv + "; Personal stories: " + story, "moved “" + story + "” to Personal stories (position 1)"},
		{"position past the end", evidence.CollectionEdit{Action: ActionMove, Item: kfURL, Position: 99},
			"Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: " + story, "moved “" + kf + "” to position 2 in Patient activation"},
		{"note", evidence.CollectionEdit{Action: ActionNote, Item: nvOldURL, Note: `<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>`},
			"Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: " + story, "changed the note on “" + nv + "”"},
		{"add a section at the top", evidence.CollectionEdit{Action: ActionAddSection, Name: "Start here", Description: "Read *these* first", Position: 1},
			"Start here: ; Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: " + story, "added section Start here"},
		{"move a section down", evidence.CollectionEdit{Action: ActionMoveSection, Section: "start here", Delta: 1},
			"Patient activation: " + nhs + " | " + kf + "; Start here: ; Self-management: " + nv + "; Personal stories: " + story, "moved section Start here to position 2"},
		{"rename a section", evidence.CollectionEdit{Action: ActionRenameSection, Section: "Start here", Name: "Begin here"},
			"Patient activation: " + nhs + " | " + kf + "; Begin here: ; Self-management: " + nv + "; Personal stories: " + story, "renamed section Start here to Begin here"},
		{"describe a section", evidence.CollectionEdit{Action: ActionDescribe, Section: "Begin here", Description: "New intro"},
			"Patient activation: " + nhs + " | " + kf + "; Begin here: ; Self-management: " + nv + "; Personal stories: " + story, "changed the introduction to Begin here"},
		{"remove an empty section", evidence.CollectionEdit{Action: ActionRemoveSection, Section: "Begin here"},
			"Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: " + story, "removed section Begin here"},
		{"remove an entry", evidence.CollectionEdit{Action: ActionRemove, Item: storyURL},
			"Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: ", "removed “" + story + "” from Personal stories"},
		{"rename", evidence.CollectionEdit{Action: ActionRename, Name: "Recovery: resources"},
			"Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: ", "renamed “Recovery resources” to “Recovery: resources”"},
		{"describe", evidence.CollectionEdit{Action: ActionDescribe, Description: "<script>alert('x')</script>[click](javascript:alert(1))"},
			"Patient activation: " + nhs + " | " + kf + "; Self-management: " + nv + "; Personal stories: ", "changed the description"},
	}
	version := 4 // create and three adds
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := f.svc.Edit(ctx, c.Slug, version, curator2, st.e)
			if err != nil {
				t.Fatal(err)
			}
			version++
			if got.Version != version || titles(got) != st.layout {
				t.Errorf("v%d %s\nwant v%d %s", got.Version, titles(got), version, st.layout)
			}
			hist, err := f.svc.History(ctx, c.Slug, curator)
			if err != nil {
				t.Fatal(err)
			}
			if h := hist[0]; h.Detail != st.detail || h.Action != st.e.Action || h.By != "second@example.org" || h.Version != version {
				t.Errorf("history %+v, want %q", h, st.detail)
			}
		})
	}
	final, err := f.svc.Get(ctx, c.Slug, curator)
	if err != nil {
		t.Fatal(err)
	}
	// Hostile Markdown is stored as given: the pages sanitise it.
	if final.Description != "<script>alert('x')</script>[click](javascript:alert(1))" ||
		final.Sections[1].Entries[0].Note != `<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>` {
		t.Errorf("stored text changed: %q, %q", final.Description, final.Sections[1].Entries[0].Note)
	}
	if final.Slug != c.Slug {
		t.Errorf("a rename changed the slug to %q", final.Slug)
	}

	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			e    evidence.CollectionEdit
			want error
			msg  string
		}{
			{"up from the very top", evidence.CollectionEdit{Action: ActionMove, Item: nhsURL, Delta: -1}, evidence.ErrInvalid, "“Patient activation” is already first"},
			{"last section down", evidence.CollectionEdit{Action: ActionMoveSection, Section: "Personal stories", Delta: 1}, evidence.ErrInvalid, "section Personal stories is already last"},
			{"big delta", evidence.CollectionEdit{Action: ActionMove, Item: nvURL, Delta: 2}, evidence.ErrInvalid, "delta 2: want -1 (up) or 1 (down)"},
			{"nowhere", evidence.CollectionEdit{Action: ActionMove, Item: nvURL}, evidence.ErrInvalid, "give a position"},
			{"both", evidence.CollectionEdit{Action: ActionMove, Item: nvURL, Delta: 1, Position: 2}, evidence.ErrInvalid, "not both"},
			{"negative position", evidence.CollectionEdit{Action: ActionMove, Item: nvURL, Position: -1}, evidence.ErrInvalid, "positions start at 1"},
			{"not in it", evidence.CollectionEdit{Action: ActionRemove, Item: storyURL}, evidence.ErrNotFound, "is not in collection recovery-resources"},
			{"no item", evidence.CollectionEdit{Action: ActionNote, Note: "x"}, evidence.ErrInvalid, "item: say which entry"},
			{"long note", evidence.CollectionEdit{Action: ActionNote, Item: nvURL, Note: strings.Repeat("é", MaxNote+1)}, evidence.ErrInvalid, "note: 2001 characters"},
			{"section with entries", evidence.CollectionEdit{Action: ActionRemoveSection, Section: "Patient activation"}, evidence.ErrConflict, "section Patient activation has 2 entries: move or remove them first"},
			{"no such section", evidence.CollectionEdit{Action: ActionRenameSection, Section: "Nope", Name: "X"}, evidence.ErrNotFound, `section "Nope" is not in collection`},
			{"section name taken", evidence.CollectionEdit{Action: ActionAddSection, Name: "self-management"}, evidence.ErrConflict, "there is already a section “Self-management”"},
			{"rename onto another", evidence.CollectionEdit{Action: ActionRenameSection, Section: "Personal stories", Name: "Patient Activation"}, evidence.ErrConflict, "there is already a section"},
			{"empty rename", evidence.CollectionEdit{Action: ActionRename, Name: ""}, evidence.ErrInvalid, "name: empty"},
			{"stale", evidence.CollectionEdit{Action: ActionRename, Name: "Other"}, evidence.ErrConflict, "was changed by second@example.org (now version 20)"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				v := 0
				if tt.name == "stale" {
					v = 5
				}
				_, err := f.svc.Edit(ctx, c.Slug, v, curator, tt.e)
				wantErr(t, err, tt.want, tt.msg)
				var stale *evidence.StaleError
				if tt.name == "stale" && (!errors.As(err, &stale) || titles(stale.Current) != titles(final)) {
					t.Errorf("stale error %v without the current state", err)
				}
			})
		}
		got, _ := f.svc.Get(ctx, c.Slug, curator)
		if got.Version != final.Version {
			t.Errorf("refused edits made version %d (was %d)", got.Version, final.Version)
		}
	})
	t.Run("no-ops keep the version", func(t *testing.T) {
		for _, e := range []evidence.CollectionEdit{
			{Action: ActionRename, Name: " Recovery: resources "},
			{Action: ActionMove, Item: kfURL, Position: 2},
			{Action: ActionMove, Item: kfURL, ToSection: "Patient activation"},
			{Action: ActionVisibility, Visibility: evidence.VisibilityPrivate},
			{Action: ActionNote, Item: nvURL, Note: final.Sections[1].Entries[0].Note},
		} {
			got, err := f.svc.Edit(ctx, c.Slug, final.Version, curator, e)
			if err != nil || got.Version != final.Version {
				t.Errorf("%+v: v%d, %v", e, got.Version, err)
			}
		}
	})
	t.Run("remove by ID", func(t *testing.T) {
		got := f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionRemove, Item: f.ids[nhsURL]})
		if titles(got) != "Patient activation: "+kf+"; Self-management: "+nv+"; Personal stories: " {
			t.Errorf("layout %s", titles(got))
		}
	})
}

func TestCollectionsStaleConcurrent(t *testing.T) {
	ctx := context.Background()
	f := newCollectionsFixture(t)
	c := f.create(t, "Recovery resources", false)
	errs := make(chan error, 2)
	for _, e := range []struct {
		p   evidence.Principal
		ref string
	}{{curator, kfURL}, {curator2, nvURL}} {
		go func() {
			_, err := f.svc.Edit(ctx, c.Slug, c.Version, e.p, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{e.ref}, Section: "Patient activation"})
			errs <- err
		}()
	}
	var stale *evidence.StaleError
	ok := 0
	for range 2 {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case errors.As(err, &stale) && errors.Is(err, evidence.ErrConflict):
		default:
			t.Fatalf("edit: %v", err)
		}
	}
	if ok != 1 || stale == nil || stale.Current.Version != 2 || len(stale.Current.Entries()) != 1 {
		t.Fatalf("%d won; stale %+v: want one winner and the loser shown version 2", ok, stale)
	}
}

func TestCollectionsExport(t *testing.T) {
	ctx := context.Background()
	f := newCollectionsFixture(t)
	c := f.create(t, "Recovery resources", true)
	f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{kfURL}, Section: "Patient activation", Note: "Introduces patient activation."})
	f.edit(t, c.Slug, evidence.CollectionEdit{Action: ActionAdd, Refs: []string{nvURL}, Section: "Self-management", Note: "What good looks like."})
	for _, tt := range []struct {
		format string
		want   []string
	}{
		{"ris", []string{"TI  - Supporting people to manage their health", "N1  - Section: Patient activation", "N1  - Introduces patient activation.", "PB  - The King's Fund", "N1  - What good looks like."}},
		{"bibtex", []string{"Supporting people to manage their health", "Section: Patient activation", "Introduces patient activation.", "The King's Fund"}},
		{"csl-json", []string{`"note": "Section: Patient activation\nIntroduces patient activation."`, `"publisher": "National Voices"`, `"section": "Patient activation"`}},
		{"csv", []string{"Patient activation", "Introduces patient activation.", "What is good supported self-management?"}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := f.svc.Export(ctx, c.Slug, anonymous, tt.format, &b); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("%s export lacks %q:\n%s", tt.format, w, b.String())
				}
			}
			if strings.Contains(b.String(), "curator@example.org") {
				t.Errorf("%s export names the curator", tt.format)
			}
		})
	}
	var b bytes.Buffer
	wantErr(t, f.svc.Export(ctx, c.Slug, anonymous, "docx", &b), evidence.ErrInvalid, `format "docx": want ris, bibtex, csl-json, csv`)
	wantErr(t, f.svc.Export(ctx, "nope", curator, "ris", &b), evidence.ErrNotFound, "")
}

// FuzzSlugify: whatever a name holds, its slug is valid or empty.
func FuzzSlugify(f *testing.F) {
	for _, s := range []string{"Recovery resources", "King's Fund & me", "new", "--", "Ǆ ß ﬁ", strings.Repeat("ab-", 40), "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s := Slugify(name)
		if s == "" {
			return
		}
		if err := CheckSlug(s); err != nil {
			t.Errorf("Slugify(%q) = %q: %v", name, s, err)
		}
		if Slugify(s) != s {
			t.Errorf("Slugify is not idempotent on %q", s)
		}
	})
}

// FuzzApplyEdit: any edit on a small collection either fails or leaves
// every entry in exactly one place (none lost, none duplicated).
func FuzzApplyEdit(f *testing.F) {
	f.Add(uint8(8), "Patient activation", "", 0, 1, uint8(0), "Name")
	f.Add(uint8(8), "", "Personal stories", 2, 0, uint8(3), "")
	f.Add(uint8(5), "Self-management", "", 1, 0, uint8(0), "X")
	f.Add(uint8(7), "Personal stories", "", 0, -1, uint8(0), "")
	f.Fuzz(func(t *testing.T, action uint8, section, to string, position, delta int, item uint8, name string) {
		items := []string{"a", "b", "c", "d"}
		c := evidence.Collection{Slug: "x", Name: "X", Visibility: evidence.VisibilityPrivate, Sections: []evidence.Section{
			{ID: "s0000000000000001", Name: "Patient activation", Entries: []evidence.Entry{{ItemID: "a"}, {ItemID: "b"}}},
			{ID: "s0000000000000002", Name: "Self-management", Entries: []evidence.Entry{{ItemID: "c"}}},
			{ID: "s0000000000000003", Name: "Personal stories", Entries: []evidence.Entry{{ItemID: "d"}}},
		}}
		e := evidence.CollectionEdit{Action: editActions[int(action)%len(editActions)], Section: section, ToSection: to,
			Position: position, Delta: delta, Name: name, Item: items[int(item)%len(items)], Refs: []string{"e"}, Visibility: evidence.VisibilityPublic}
		if checkEdit(&e) != nil {
			return
		}
		_, _, err := applyEdit(&c, e, []evidence.Item{{ID: "e", Title: "E"}}, e.Item, e.Item)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, sec := range c.Sections {
			for _, en := range sec.Entries {
				if seen[en.ItemID] {
					t.Fatalf("%+v: %s twice: %s", e, en.ItemID, titles(c))
				}
				seen[en.ItemID] = true
			}
		}
		want := 4
		switch e.Action {
		case ActionAdd:
			want = 5
		case ActionRemove:
			want = 3
		}
		if len(seen) != want {
			t.Fatalf("%+v: %d entries, want %d: %v", e, len(seen), want, seen)
		}
	})
}
