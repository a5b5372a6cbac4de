package fts5

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestMatchExpr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  ,.; ", ""},
		{"social prescribing", `"social" OR "prescribing"`},
		{"the crystalline lens, including humans.", `"the" OR "crystalline" OR "lens" OR "including" OR "humans"`},
		{`"peer support"`, `"peer support"`},
		{`"peer support" "older people"`, `"peer support" AND "older people"`},
		{`"peer support" workers`, `"peer support" AND ("workers")`},
		{`gerstmann's AND NOT x*`, `"gerstmann" OR "s" OR "AND" OR "NOT" OR "x"`},
		{`"unclosed phrase`, `"unclosed phrase"`},
		{`""`, ""},
		{"café naïve", `"café" OR "naïve"`},
	}
	for _, tt := range tests {
		if got := MatchExpr(tt.in); got != tt.want {
			t.Errorf("MatchExpr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func day(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func open(t *testing.T) *DB {
	t.Helper()
	d, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "fts.db"), BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	items := []evidence.Item{
		{ID: "title", Source: "mental-elf", Type: "blog", Title: "Social prescribing for older people",
			Summary: "A review <of> link workers.", Body: "Loneliness fell.", Published: day("2024-03-01"),
			Authors: []string{"Helen Wainwright"}, Topics: []string{"social prescribing", "loneliness"}},
		{ID: "body", Source: "kings-fund", Type: "report", Title: "Primary care networks",
			Summary: "How networks spend their money.", Body: "Some fund social prescribing link workers.",
			Published: day("2021-06-30"), Topics: []string{"social prescribing"}},
		{ID: "other", Source: "kings-fund", Type: "news", Title: "Waiting times",
			Summary: "Waits for hospital care grew.", Body: "Elective care backlog.", Published: day("2019-01-01")},
		{ID: "undated", Source: "national-voices", Type: "news", Title: "Prescribing errors",
			Summary: "Errors in prescribing.", Body: "Pharmacists help."},
	}
	if err := d.Index(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	return d
}

func ids(r *Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func TestSearch(t *testing.T) {
	d := open(t)
	tests := []struct {
		name  string
		q     Query
		want  []string
		total int
	}{
		// "body" has both words, but only in the body (weight 1); "undated"
		// has one, in its title and summary.
		{name: "words, title weighted over body", q: Query{Text: "social prescribing"}, want: []string{"title", "undated", "body"}, total: -1},
		{name: "phrase", q: Query{Text: `"social prescribing"`}, want: []string{"title", "body"}, total: -1},
		{name: "porter stemming", q: Query{Text: "prescribe"}, want: []string{"undated", "title", "body"}, total: -1},
		{name: "source filter", q: Query{Text: "social prescribing", Sources: []string{"kings-fund", "national-voices"}}, want: []string{"undated", "body"}, total: -1},
		{name: "date filter, inclusive days", q: Query{Text: "care", From: day("2019-01-01"), To: day("2021-06-30")}, want: []string{"other", "body"}, total: -1},
		{name: "empty text lists newest first", q: Query{}, want: []string{"title", "body", "other", "undated"}, total: -1},
		{name: "limit", q: Query{Text: "social prescribing", Limit: 1}, want: []string{"title"}, total: -1},
		{name: "no match", q: Query{Text: "zebra"}, want: nil, total: -1},
		{name: "facets count every match", q: Query{Text: "social prescribing", Facets: true, Limit: 1}, want: []string{"title"}, total: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := d.Search(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(r); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("hits %v, want %v", got, tt.want)
			}
			if r.Total != tt.total {
				t.Errorf("total %d, want %d", r.Total, tt.total)
			}
			n, err := d.Count(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if tt.q.Limit == 0 && n != len(tt.want) {
				t.Errorf("Count = %d, want %d", n, len(tt.want))
			}
		})
	}
}

func TestFacetsAndSnippets(t *testing.T) {
	d := open(t)
	r, err := d.Search(t.Context(), Query{Text: "social prescribing review", Facets: true, Snippets: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]FacetCount{
		FacetSource: {{"kings-fund", 1}, {"mental-elf", 1}, {"national-voices", 1}},
		FacetType:   {{"blog", 1}, {"news", 1}, {"report", 1}},
		FacetYear:   {{"2021", 1}, {"2024", 1}},
		FacetTopic:  {{"social prescribing", 2}, {"loneliness", 1}},
	}
	if !reflect.DeepEqual(r.Facets, want) {
		t.Errorf("facets %v, want %v", r.Facets, want)
	}
	if r.Total != 3 {
		t.Errorf("total %d, want 3", r.Total)
	}
	h := r.Hits[0]
	if h.Title != "<mark>Social</mark> <mark>prescribing</mark> for older people" {
		t.Errorf("title %q", h.Title)
	}
	if h.Snippet != "A <mark>review</mark> &lt;of&gt; link workers." {
		t.Errorf("snippet %q", h.Snippet)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "x.db")
	for _, o := range []Options{{Path: ""}, {Path: "a?b"}, {Path: path, BatchSize: -1}} {
		if _, err := Open(ctx, o); !errors.Is(err, evidence.ErrInvalid) {
			t.Errorf("Open(%+v) err = %v, want ErrInvalid", o, err)
		}
	}
	d, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Index(ctx, []evidence.Item{{ID: "a", Source: "s", Type: "t"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Index(ctx, []evidence.Item{{ID: "a", Source: "s", Type: "t"}}); err == nil {
		t.Error("indexing an ID twice: no error")
	}
	if err := d.Index(ctx, []evidence.Item{{Source: "s"}}); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("empty ID: err = %v, want ErrInvalid", err)
	}
	if n, err := d.SizeBytes(ctx); err != nil || n == 0 {
		t.Errorf("SizeBytes = %d, %v", n, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, Options{Path: path}); !errors.Is(err, evidence.ErrConflict) {
		t.Errorf("Open over an existing file: err = %v, want ErrConflict", err)
	}
}
