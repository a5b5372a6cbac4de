package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestUpsertItem(t *testing.T) {
	const url = "https://www.kingsfund.org.uk/insight-and-analysis/reports/a"
	explicitSeen := time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 3600))

	tests := []struct {
		name string
		// first, if set, is stored before the upsert under test.
		first  func() *evidence.Item
		second func() *evidence.Item
		want   evidence.UpsertResult
		check  func(t *testing.T, s *Store, first, got *evidence.Item, c *clock)
	}{
		{
			name:   "create derives id, first seen and announced_by",
			second: func() *evidence.Item { return sampleItem(url) },
			want:   evidence.Created,
			check: func(t *testing.T, s *Store, _, got *evidence.Item, c *clock) {
				if got.ID != evidence.NewID(url) {
					t.Errorf("ID = %q, want NewID", got.ID)
				}
				if !got.FirstSeen.Equal(c.Now()) {
					t.Errorf("FirstSeen = %v, want %v", got.FirstSeen, c.Now())
				}
				if !reflect.DeepEqual(got.AnnouncedBy, []string{evidence.SourceMentalElf}) {
					t.Errorf("AnnouncedBy = %v", got.AnnouncedBy)
				}
				stored := mustItem(t, s, got.ID)
				if h := evidence.ComputeHash(&stored); h != stored.ContentHash || h != got.ContentHash {
					t.Errorf("hash of stored item %q, stored %q, upserted %q: round trip changed content", h, stored.ContentHash, got.ContentHash)
				}
			},
		},
		{
			name: "create keeps given id and first seen (in UTC)",
			second: func() *evidence.Item {
				it := sampleItem(url)
				it.ID, it.FirstSeen = "custom-id", explicitSeen
				it.AnnouncedBy = []string{evidence.SourceKingsFund}
				return it
			},
			want: evidence.Created,
			check: func(t *testing.T, s *Store, _, got *evidence.Item, _ *clock) {
				stored := mustItem(t, s, "custom-id")
				if !stored.FirstSeen.Equal(explicitSeen) || stored.FirstSeen.Location() != time.UTC {
					t.Errorf("FirstSeen = %v, want %v in UTC", stored.FirstSeen, explicitSeen)
				}
				if !reflect.DeepEqual(stored.AnnouncedBy, []string{evidence.SourceKingsFund}) {
					t.Errorf("AnnouncedBy = %v", stored.AnnouncedBy)
				}
			},
		},
		{
			name:   "same content is unchanged and fills id and first seen",
			first:  func() *evidence.Item { return sampleItem(url) },
			second: func() *evidence.Item { return sampleItem(url) },
			want:   evidence.Unchanged,
			check: func(t *testing.T, _ *Store, first, got *evidence.Item, _ *clock) {
				if got.ID != first.ID || !got.FirstSeen.Equal(first.FirstSeen) {
					t.Errorf("got ID %q FirstSeen %v, want %q %v", got.ID, got.FirstSeen, first.ID, first.FirstSeen)
				}
			},
		},
		{
			name:  "changed content is updated, keeping id and first seen",
			first: func() *evidence.Item { return sampleItem(url) },
			second: func() *evidence.Item {
				it := sampleItem(url)
				it.Title = "A new title"
				it.ID = "ignored"
				it.FirstSeen = explicitSeen
				return it
			},
			want: evidence.Updated,
			check: func(t *testing.T, s *Store, first, got *evidence.Item, c *clock) {
				if got.ID != first.ID || !got.FirstSeen.Equal(first.FirstSeen) {
					t.Errorf("got ID %q FirstSeen %v, want %q %v", got.ID, got.FirstSeen, first.ID, first.FirstSeen)
				}
				stored := mustItem(t, s, first.ID)
				if stored.Title != "A new title" || stored.ContentHash != got.ContentHash {
					t.Errorf("stored title %q hash %q", stored.Title, stored.ContentHash)
				}
			},
		},
		{
			name:  "a second announcer is merged into announced_by",
			first: func() *evidence.Item { return sampleItem(url) },
			second: func() *evidence.Item {
				it := sampleItem(url)
				it.Source = evidence.SourceKingsFund
				it.AnnouncedBy = []string{evidence.SourceKingsFund, evidence.SourceMentalElf, evidence.SourceNationalVoices}
				return it
			},
			want: evidence.Updated,
			check: func(t *testing.T, s *Store, first, got *evidence.Item, _ *clock) {
				want := []string{evidence.SourceMentalElf, evidence.SourceKingsFund, evidence.SourceNationalVoices}
				if stored := mustItem(t, s, first.ID); !reflect.DeepEqual(stored.AnnouncedBy, want) {
					t.Errorf("stored AnnouncedBy = %v, want %v", stored.AnnouncedBy, want)
				}
				if !reflect.DeepEqual(got.AnnouncedBy, want) {
					t.Errorf("returned AnnouncedBy = %v, want %v", got.AnnouncedBy, want)
				}
			},
		},
		{
			name:  "announced_by defaults to source on update too",
			first: func() *evidence.Item { return sampleItem(url) },
			second: func() *evidence.Item {
				it := sampleItem(url)
				it.Source = evidence.SourceCentreForMH
				return it
			},
			want: evidence.Updated,
			check: func(t *testing.T, s *Store, first, _ *evidence.Item, _ *clock) {
				want := []string{evidence.SourceMentalElf, evidence.SourceCentreForMH}
				if stored := mustItem(t, s, first.ID); !reflect.DeepEqual(stored.AnnouncedBy, want) {
					t.Errorf("AnnouncedBy = %v, want %v", stored.AnnouncedBy, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, _ := newStore(t)
			var first *evidence.Item
			if tt.first != nil {
				first = tt.first()
				if res := mustUpsert(t, s, first); res != evidence.Created {
					t.Fatalf("first upsert = %v, want created", res)
				}
				c.Advance(time.Hour)
			}
			got := tt.second()
			if res := mustUpsert(t, s, got); res != tt.want {
				t.Fatalf("UpsertItem = %v, want %v", res, tt.want)
			}
			tt.check(t, s, first, got, c)
		})
	}
}

func TestUpsertItemInvalid(t *testing.T) {
	s, _, _ := newStore(t)
	tests := []struct {
		name string
		it   *evidence.Item
		want error
	}{
		{"nil item", nil, evidence.ErrInvalid},
		{"empty url", &evidence.Item{Title: "x"}, evidence.ErrInvalid},
		{"blank url", &evidence.Item{URL: "  "}, evidence.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.UpsertItem(context.Background(), tt.it); !errors.Is(err, tt.want) {
				t.Fatalf("UpsertItem = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("id taken by another url", func(t *testing.T) {
		a := sampleItem("https://a.example/1")
		a.ID = "same"
		mustUpsert(t, s, a)
		b := sampleItem("https://a.example/2")
		b.ID = "same"
		if _, err := s.UpsertItem(context.Background(), b); !errors.Is(err, evidence.ErrConflict) {
			t.Fatalf("UpsertItem = %v, want ErrConflict", err)
		}
	})
}

// TestUnchangedWritesNothing proves that re-ingesting unchanged data causes
// no write at all: another connection's data_version does not move, nor
// does the row's updated_at, nor its index state.
func TestUnchangedWritesNothing(t *testing.T) {
	tests := []struct {
		name string
		// again builds the re-ingested item from the URL.
		again func(url string) *evidence.Item
	}{
		{"identical item", sampleItem},
		{"hash given by caller", func(url string) *evidence.Item {
			it := sampleItem(url)
			it.ContentHash = evidence.ComputeHash(it)
			return it
		}},
		{"via alias url", func(string) *evidence.Item {
			it := sampleItem("https://www.centreformentalhealth.org.uk/p")
			it.URL = "https://old.example/p"
			return it
		}},
		{"announced_by already known", func(url string) *evidence.Item {
			it := sampleItem(url)
			it.AnnouncedBy = []string{evidence.SourceMentalElf}
			return it
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, c, path := newStore(t)
			const url = "https://www.centreformentalhealth.org.uk/p"
			first := sampleItem(url)
			first.Links = []string{"https://elsewhere.example/"}
			mustUpsert(t, s, first)
			if err := s.AddAlias(ctx, "https://old.example/p", url); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkIndexed(ctx, map[string]string{first.ID: first.ContentHash}); err != nil {
				t.Fatal(err)
			}
			c.Advance(24 * time.Hour)

			o := newObserver(t, path)
			before := o.dataVersion()
			updatedAt := o.queryString(`SELECT updated_at FROM items WHERE id = ?`, first.ID)

			again := tt.again(url)
			again.Links = first.Links
			if tt.name == "hash given by caller" {
				again.ContentHash = evidence.ComputeHash(again)
			}
			for range 3 {
				if res := mustUpsert(t, s, again); res != evidence.Unchanged {
					t.Fatalf("UpsertItem = %v, want unchanged", res)
				}
			}
			if after := o.dataVersion(); after != before {
				t.Errorf("unchanged upsert wrote: data_version %d → %d", before, after)
			}
			if got := o.queryString(`SELECT updated_at FROM items WHERE id = ?`, first.ID); got != updatedAt {
				t.Errorf("updated_at moved: %s → %s", updatedAt, got)
			}
			if again.ID != first.ID || !again.FirstSeen.Equal(first.FirstSeen) || again.URL != url {
				t.Errorf("item not filled: ID %q FirstSeen %v URL %q", again.ID, again.FirstSeen, again.URL)
			}
			pending, err := s.PendingIndex(ctx, 0)
			if err != nil || len(pending) != 0 {
				t.Errorf("PendingIndex = %d items, %v; want none", len(pending), err)
			}
			// The observer is not blind: a real change moves data_version.
			changed := sampleItem(url)
			changed.Title = "changed"
			if res := mustUpsert(t, s, changed); res != evidence.Updated {
				t.Fatalf("changed upsert = %v, want updated", res)
			}
			if o.dataVersion() == before {
				t.Error("observer did not see a real write")
			}
		})
	}
}

func TestEmptySlicesNonNil(t *testing.T) {
	s, _, _ := newStore(t)
	it := &evidence.Item{URL: "https://www.nationalvoices.org.uk/n", Title: "Bare"}
	mustUpsert(t, s, it)
	got := mustItem(t, s, it.ID)
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	for _, field := range []string{"authors", "topics", "pdf_urls", "announced_by", "discusses", "discussed_by", "cites"} {
		if !strings.Contains(js, `"`+field+`":[]`) {
			t.Errorf("JSON lacks %q: []: %s", field, js)
		}
	}
	if !strings.Contains(js, `"published":null`) {
		t.Errorf("JSON lacks published null: %s", js)
	}
	if got.Links == nil || got.Categories == nil || got.Provenance == nil {
		t.Errorf("Links/Categories/Provenance nil: %+v", got)
	}
}

func TestTimesAreUTC(t *testing.T) {
	s, _, _ := newStore(t)
	zone := time.FixedZone("EST", -5*3600)
	it := sampleItem("https://a.example/t")
	it.Published = ptime(time.Date(2025, 1, 1, 20, 0, 0, 0, zone))
	it.Updated = ptime(time.Date(2025, 1, 2, 20, 0, 0, 123456789, zone))
	mustUpsert(t, s, it)
	got := mustItem(t, s, it.ID)
	for name, tm := range map[string]time.Time{"published": *got.Published, "updated": *got.Updated, "first_seen": got.FirstSeen} {
		if tm.Location() != time.UTC {
			t.Errorf("%s location = %v, want UTC", name, tm.Location())
		}
	}
	if !got.Published.Equal(*it.Published) || !got.Updated.Equal(*it.Updated) {
		t.Errorf("times changed: %v %v", got.Published, got.Updated)
	}
}

func TestAliases(t *testing.T) {
	ctx := context.Background()
	const (
		canon = "https://www.kingsfund.org.uk/reports/b"
		old   = "http://kingsfund.org.uk/publications/b"
		older = "http://kingsfund.org.uk/p?id=7"
	)
	s, _, _ := newStore(t)
	it := sampleItem(canon)
	mustUpsert(t, s, it)

	steps := []struct {
		name         string
		alias, to    string
		wantResolved map[string]string // url → canonical ("" = unknown)
	}{
		{"alias to canonical", old, canon, map[string]string{old: canon, canon: canon}},
		{"idempotent", old, canon, map[string]string{old: canon}},
		{"alias equal to canonical is ignored", "https://x.example/", "https://x.example/", map[string]string{"https://x.example/": ""}},
		{"alias of an alias is flattened", older, old, map[string]string{older: canon}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.AddAlias(ctx, st.alias, st.to); err != nil {
				t.Fatal(err)
			}
			for u, want := range st.wantResolved {
				got, ok, err := s.ResolveURL(ctx, u)
				if err != nil || ok != (want != "") || got != want {
					t.Errorf("ResolveURL(%q) = %q, %v, %v; want %q", u, got, ok, err, want)
				}
			}
		})
	}

	t.Run("ItemByURL finds by alias", func(t *testing.T) {
		for _, u := range []string{canon, old, older} {
			got, err := s.ItemByURL(ctx, u)
			if err != nil || got.ID != it.ID {
				t.Errorf("ItemByURL(%q) = %q, %v", u, got.ID, err)
			}
		}
		if _, err := s.ItemByURL(ctx, "https://nowhere.example/"); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("ItemByURL(unknown) = %v, want ErrNotFound", err)
		}
	})

	t.Run("upsert under an alias updates the canonical item", func(t *testing.T) {
		up := sampleItem(canon)
		up.URL = old
		up.Title = "Retitled"
		if res := mustUpsert(t, s, up); res != evidence.Updated {
			t.Fatalf("UpsertItem = %v, want updated", res)
		}
		if up.ID != it.ID || up.URL != canon {
			t.Errorf("upserted ID %q URL %q, want %q %q", up.ID, up.URL, it.ID, canon)
		}
		if n, _ := s.CountItems(ctx); n != 1 {
			t.Errorf("CountItems = %d, want 1", n)
		}
		if got := mustItem(t, s, it.ID); got.Title != "Retitled" || got.URL != canon {
			t.Errorf("stored %q at %q", got.Title, got.URL)
		}
	})

	t.Run("empty urls are invalid", func(t *testing.T) {
		if err := s.AddAlias(ctx, "", canon); !errors.Is(err, evidence.ErrInvalid) {
			t.Errorf("AddAlias empty = %v", err)
		}
	})
}

func TestLinks(t *testing.T) {
	ctx := context.Background()
	const (
		blog   = "https://www.nationalelfservice.net/blog-post"
		report = "https://www.centreformentalhealth.org.uk/report"
		pdf    = "https://www.centreformentalhealth.org.uk/media/report.pdf"
		other  = "https://www.kingsfund.org.uk/other"
	)
	withLinks := func(url string, links ...string) *evidence.Item {
		it := sampleItem(url)
		it.PDFURLs = nil
		it.Links = links
		return it
	}
	withPDF := func(url, pdf string) *evidence.Item {
		it := sampleItem(url)
		it.PDFURLs = []string{pdf}
		return it
	}

	tests := []struct {
		name string
		// steps run in order; each upserts an item or adds an alias.
		steps []func(t *testing.T, s *Store)
		// want maps url → discusses urls and discussed_by urls.
		discusses   map[string][]string
		discussedBy map[string][]string
	}{
		{
			name: "link before target exists, then target arrives",
			steps: []func(*testing.T, *Store){
				upsert(withLinks(blog, report, "https://unrelated.example/")),
				upsert(withLinks(report)),
			},
			discusses:   map[string][]string{blog: {report}, report: {}},
			discussedBy: map[string][]string{report: {blog}, blog: {}},
		},
		{
			name: "target exists first",
			steps: []func(*testing.T, *Store){
				upsert(withLinks(report)),
				upsert(withLinks(blog, report)),
			},
			discusses:   map[string][]string{blog: {report}},
			discussedBy: map[string][]string{report: {blog}},
		},
		{
			name: "link to a pdf url of a stored item",
			steps: []func(*testing.T, *Store){
				upsert(withPDF(report, pdf)),
				upsert(withLinks(blog, pdf)),
			},
			discusses:   map[string][]string{blog: {report}},
			discussedBy: map[string][]string{report: {blog}},
		},
		{
			name: "link to a pdf url before the item exists",
			steps: []func(*testing.T, *Store){
				upsert(withLinks(blog, pdf)),
				upsert(withPDF(report, pdf)),
			},
			discusses:   map[string][]string{blog: {report}},
			discussedBy: map[string][]string{report: {blog}},
		},
		{
			name: "alias added after the link resolves it",
			steps: []func(*testing.T, *Store){
				upsert(withLinks(report)),
				upsert(withLinks(blog, "http://old.example/report")),
				alias("http://old.example/report", report),
			},
			discusses:   map[string][]string{blog: {report}},
			discussedBy: map[string][]string{report: {blog}},
		},
		{
			name: "alias recorded before either item",
			steps: []func(*testing.T, *Store){
				alias("http://old.example/report", report),
				upsert(withLinks(blog, "http://old.example/report")),
				upsert(withLinks(report)),
			},
			discusses:   map[string][]string{blog: {report}},
			discussedBy: map[string][]string{report: {blog}},
		},
		{
			name: "self links and own pdf are ignored, duplicates collapse",
			steps: []func(*testing.T, *Store){
				upsert(func() *evidence.Item {
					it := withPDF(report, pdf)
					it.Links = []string{report, pdf, other, other}
					return it
				}()),
				upsert(withLinks(other, report, pdf)),
			},
			discusses:   map[string][]string{report: {other}, other: {report}},
			discussedBy: map[string][]string{report: {other}, other: {report}},
		},
		{
			name: "update replaces links",
			steps: []func(*testing.T, *Store){
				upsert(withLinks(report)),
				upsert(withLinks(other)),
				upsert(withLinks(blog, report)),
				upsert(withLinks(blog, other)),
			},
			discusses:   map[string][]string{blog: {other}},
			discussedBy: map[string][]string{report: {}, other: {blog}},
		},
		{
			name: "dropping a pdf url unresolves links to it",
			steps: []func(*testing.T, *Store){
				upsert(withPDF(report, pdf)),
				upsert(withLinks(blog, pdf)),
				upsert(withPDF(report, "https://www.centreformentalhealth.org.uk/media/v2.pdf")),
			},
			discusses:   map[string][]string{blog: {}},
			discussedBy: map[string][]string{report: {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			for _, step := range tt.steps {
				step(t, s)
			}
			idOf := func(u string) string { return evidence.NewID(u) }
			for u, want := range tt.discusses {
				got := mustItem(t, s, idOf(u))
				if !reflect.DeepEqual(got.Discusses, ids(want)) {
					t.Errorf("%s Discusses = %v, want %v", u, got.Discusses, ids(want))
				}
			}
			for u, want := range tt.discussedBy {
				got := mustItem(t, s, idOf(u))
				if !reflect.DeepEqual(got.DiscussedBy, ids(want)) {
					t.Errorf("%s DiscussedBy = %v, want %v", u, got.DiscussedBy, ids(want))
				}
			}
			// ItemsByIDs fills the same relations.
			var all []string
			for u := range tt.discusses {
				all = append(all, idOf(u))
			}
			items, err := s.ItemsByIDs(ctx, all)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				single := mustItem(t, s, it.ID)
				if !reflect.DeepEqual(it.Discusses, single.Discusses) || !reflect.DeepEqual(it.DiscussedBy, single.DiscussedBy) {
					t.Errorf("ItemsByIDs relations of %s differ from Item", it.URL)
				}
			}
		})
	}

	t.Run("links come back in order", func(t *testing.T) {
		s, _, _ := newStore(t)
		it := withLinks(blog, other, report, "https://z.example/")
		mustUpsert(t, s, it)
		if got := mustItem(t, s, it.ID); !reflect.DeepEqual(got.Links, it.Links) {
			t.Errorf("Links = %v, want %v", got.Links, it.Links)
		}
	})
}

func upsert(it *evidence.Item) func(*testing.T, *Store) {
	return func(t *testing.T, s *Store) {
		t.Helper()
		cp := *it
		mustUpsert(t, s, &cp)
	}
}

func alias(from, to string) func(*testing.T, *Store) {
	return func(t *testing.T, s *Store) {
		t.Helper()
		if err := s.AddAlias(context.Background(), from, to); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(urls []string) []string {
	out := []string{}
	for _, u := range urls {
		out = append(out, evidence.NewID(u))
	}
	sortStrings(out)
	return out
}

func TestItemsByIDsAndEachItem(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	const n = 1100 // > 2 × maxIn: several IN chunks and EachItem pages
	var all []string
	for i := range n {
		it := &evidence.Item{URL: fmt.Sprintf("https://a.example/%04d", i), Source: evidence.SourceKingsFund}
		mustUpsert(t, s, it)
		all = append(all, it.ID)
	}

	tests := []struct {
		name string
		ids  []string
		want []string
	}{
		{"order given", []string{all[5], all[1], all[900]}, []string{all[5], all[1], all[900]}},
		{"missing skipped", []string{"nope", all[2], "gone"}, []string{all[2]}},
		{"none", nil, nil},
		{"all, reversed", reversed(all), reversed(all)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ItemsByIDs(ctx, tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("ItemsByIDs returned nil slice")
			}
			var gotIDs []string
			for _, it := range got {
				gotIDs = append(gotIDs, it.ID)
			}
			if !reflect.DeepEqual(gotIDs, tt.want) {
				t.Errorf("ids = %d items, want %d (first %v)", len(gotIDs), len(tt.want), head(gotIDs))
			}
		})
	}

	t.Run("EachItem visits every item by id", func(t *testing.T) {
		var seen []string
		err := s.EachItem(ctx, func(it evidence.Item) error {
			seen = append(seen, it.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := append([]string(nil), all...)
		sortStrings(want)
		if !reflect.DeepEqual(seen, want) {
			t.Errorf("EachItem visited %d, want %d in id order", len(seen), len(want))
		}
	})

	t.Run("EachItem stops on error", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.EachItem(ctx, func(evidence.Item) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 3 {
			t.Errorf("EachItem = %v after %d calls", err, calls)
		}
	})

	t.Run("CountItems", func(t *testing.T) {
		if got, err := s.CountItems(ctx); err != nil || got != n {
			t.Errorf("CountItems = %d, %v; want %d", got, err, n)
		}
	})

	t.Run("Item not found", func(t *testing.T) {
		if _, err := s.Item(ctx, "missing"); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("Item(missing) = %v, want ErrNotFound", err)
		}
	})
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func head(s []string) []string { return s[:min(3, len(s))] }

func TestPendingIndex(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a, b := sampleItem("https://a.example/a"), sampleItem("https://a.example/b")
	mustUpsert(t, s, a)
	mustUpsert(t, s, b)
	oldHashA := a.ContentHash

	pendingIDs := func(t *testing.T) []string {
		t.Helper()
		items, err := s.PendingIndex(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, it := range items {
			if it.Body == "" {
				t.Errorf("pending item %s is not full", it.ID)
			}
			out = append(out, it.ID)
		}
		return out
	}
	sorted := func(s ...string) []string { sortStrings(s); return s }

	steps := []struct {
		name string
		do   func(t *testing.T)
		want []string
	}{
		{"new items are pending", func(*testing.T) {}, sorted(a.ID, b.ID)},
		{"mark one indexed", func(t *testing.T) {
			if err := s.MarkIndexed(ctx, map[string]string{a.ID: a.ContentHash}); err != nil {
				t.Fatal(err)
			}
		}, []string{b.ID}},
		{"update makes it pending again", func(t *testing.T) {
			a2 := sampleItem(a.URL)
			a2.Title = "changed"
			if res := mustUpsert(t, s, a2); res != evidence.Updated {
				t.Fatalf("got %v", res)
			}
		}, sorted(a.ID, b.ID)},
		{"stale hash leaves it pending", func(t *testing.T) {
			if err := s.MarkIndexed(ctx, map[string]string{a.ID: oldHashA, "unknown": "x"}); err != nil {
				t.Fatal(err)
			}
		}, sorted(a.ID, b.ID)},
		{"current hashes clear the outbox", func(t *testing.T) {
			h, err := s.IndexedHashes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 2 || h[b.ID] != b.ContentHash {
				t.Fatalf("IndexedHashes = %v", h)
			}
			if err := s.MarkIndexed(ctx, h); err != nil {
				t.Fatal(err)
			}
		}, []string{}},
		{"reset makes everything pending", func(t *testing.T) {
			if err := s.ResetIndexed(ctx); err != nil {
				t.Fatal(err)
			}
		}, sorted(a.ID, b.ID)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do(t)
			if got := pendingIDs(t); !reflect.DeepEqual(got, st.want) {
				t.Errorf("pending = %v, want %v", got, st.want)
			}
		})
	}

	t.Run("limit", func(t *testing.T) {
		items, err := s.PendingIndex(ctx, 1)
		if err != nil || len(items) != 1 {
			t.Errorf("PendingIndex(1) = %d items, %v", len(items), err)
		}
	})
}

func TestConcurrentUpserts(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	const (
		workers = 8
		perW    = 40
		urls    = 25 // shared between workers, so upserts collide
	)
	var wg sync.WaitGroup
	errs := make(chan error, workers*perW*2)
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range perW {
				u := fmt.Sprintf("https://c.example/%d", (w*perW+i)%urls)
				it := sampleItem(u)
				it.Title = fmt.Sprintf("v%d", i%3) // some unchanged, some updated
				it.Links = []string{fmt.Sprintf("https://c.example/%d", (i+1)%urls)}
				if _, err := s.UpsertItem(ctx, it); err != nil {
					errs <- err
				}
				if i%10 == 0 {
					if err := s.RecordSourceRun(ctx, evidence.SourceMentalElf, SourceRun{Fetched: 1}); err != nil {
						errs <- err
					}
				}
			}
		}()
		go func() { // readers alongside
			defer wg.Done()
			for range perW {
				if _, err := s.PendingIndex(ctx, 10); err != nil {
					errs <- err
				}
				if _, err := s.ItemByURL(ctx, "https://c.example/1"); err != nil && !errors.Is(err, evidence.ErrNotFound) {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent: %v", err)
	}
	if n, err := s.CountItems(ctx); err != nil || n != urls {
		t.Errorf("CountItems = %d, %v; want %d", n, err, urls)
	}
}
