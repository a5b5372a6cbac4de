package store

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/evidencetracker/evidence"
)

// TestAddAliasRefusesToHideAnItem: an alias that is a stored item's own URL
// would make the item unreachable by its URL, so it is a conflict and
// nothing is written.
func TestAddAliasRefusesToHideAnItem(t *testing.T) {
	ctx := context.Background()
	const (
		a = "https://www.centreformentalhealth.org.uk/publications/a"
		b = "https://www.kingsfund.org.uk/insight-and-analysis/reports/b"
	)
	tests := []struct {
		name         string
		alias, canon string
		wantErr      error
	}{
		{"stored item url as alias of another item", b, a, evidence.ErrConflict},
		{"stored item url as alias of an unknown url", b, "https://nowhere.example/", evidence.ErrConflict},
		{"stored item url as alias of itself is ignored", a, a, nil},
		{"unknown url as alias is fine", "https://old.example/a", a, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, path := newStore(t)
			mustUpsert(t, s, sampleItem(a))
			mustUpsert(t, s, sampleItem(b))
			o := newObserver(t, path)
			before := o.dataVersion()
			err := s.AddAlias(ctx, tt.alias, tt.canon)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("AddAlias = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				return
			}
			if o.dataVersion() != before {
				t.Error("refused AddAlias wrote")
			}
			got, err := s.ItemByURL(ctx, tt.alias)
			if err != nil || got.URL != tt.alias {
				t.Errorf("ItemByURL(%q) = %q, %v; the item is hidden", tt.alias, got.URL, err)
			}
		})
	}
}

// TestAliasLinkResolution: links whose URL becomes an alias of a stored
// item, directly or through an alias moved to a new target, point at it.
func TestAliasLinkResolution(t *testing.T) {
	const (
		blog   = "https://www.nationalelfservice.net/blog"
		report = "https://www.centreformentalhealth.org.uk/publications/report"
		other  = "https://www.kingsfund.org.uk/reports/other"
		pdf    = "https://www.centreformentalhealth.org.uk/media/report.pdf"
		old    = "https://www.centreformentalhealth.org.uk/blogs/report"
		older  = "http://centreformentalhealth.org.uk/?p=123"
	)
	plain := func(url string, links ...string) *evidence.Item {
		it := sampleItem(url)
		it.PDFURLs, it.Links = nil, links
		return it
	}
	tests := []struct {
		name        string
		steps       []func(*testing.T, *Store)
		discusses   map[string][]string
		discussedBy map[string][]string
	}{
		{
			name: "link to an alias added later",
			steps: []func(*testing.T, *Store){
				upsert(plain(report)),
				upsert(plain(blog, old)),
				alias(old, report),
			},
			discusses:   map[string][]string{blog: {report}},
			discussedBy: map[string][]string{report: {blog}},
		},
		{
			name: "link to an alias of an alias, target stored first",
			steps: []func(*testing.T, *Store){
				upsert(plain(report)),
				upsert(plain(blog, older)),
				alias(older, old),  // old is not an item yet: older → old
				alias(old, report), // older moves to report
			},
			discusses:   map[string][]string{blog: {report}},
			discussedBy: map[string][]string{report: {blog}},
		},
		{
			name: "alias re-pointed to another item moves the link",
			steps: []func(*testing.T, *Store){
				upsert(plain(report)),
				upsert(plain(other)),
				alias(old, report),
				upsert(plain(blog, old)),
				alias(old, other),
			},
			discusses:   map[string][]string{blog: {other}},
			discussedBy: map[string][]string{report: {}, other: {blog}},
		},
		{
			name: "link to a pdf of an item",
			steps: []func(*testing.T, *Store){
				upsert(func() *evidence.Item { it := plain(report); it.PDFURLs = []string{pdf}; return it }()),
				upsert(plain(blog, pdf)),
			},
			discusses:   map[string][]string{blog: {report}},
			discussedBy: map[string][]string{report: {blog}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			for _, step := range tt.steps {
				step(t, s)
			}
			for u, want := range tt.discusses {
				if got := mustItem(t, s, evidence.NewID(u)).Discusses; !reflect.DeepEqual(got, ids(want)) {
					t.Errorf("%s Discusses = %v, want %v", u, got, ids(want))
				}
			}
			for u, want := range tt.discussedBy {
				if got := mustItem(t, s, evidence.NewID(u)).DiscussedBy; !reflect.DeepEqual(got, ids(want)) {
					t.Errorf("%s DiscussedBy = %v, want %v", u, got, ids(want))
				}
			}
		})
	}
}
