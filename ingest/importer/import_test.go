package importer_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/importer"
	"github.com/evidencetracker/evidence/store"
)

// sites adapts compiled sources to importer.Sites, as cmd does.
type sites struct {
	p    *ingest.Pipeline
	byID map[string]ingest.Source
}

func (s sites) Canonical(raw string) string { return s.p.Canonical(raw) }
func (s sites) Owner(u string) (string, bool) {
	src, ok := s.p.SourceFor(u)
	return src.ID, ok
}
func (s sites) Has(id string) bool { _, ok := s.byID[id]; return ok }
func (s sites) TypeOf(id, u string) string {
	if src, ok := s.byID[id]; ok {
		return src.TypeOf(u)
	}
	return evidence.TypeArticle
}

// newSites compiles the publishers' URL rules (as in config/default.yaml)
// plus, when asked, a source "import" with no site of its own.
func newSites(t *testing.T, withImport bool) sites {
	t.Helper()
	specs := []ingest.SourceSpec{
		{ID: "mental-elf", Home: "https://www.nationalelfservice.net/", PreferredHost: "www.nationalelfservice.net", TrailingSlash: "add", DefaultType: "blog"},
		{ID: "centre-for-mental-health", Home: "https://www.centreformentalhealth.org.uk/", PreferredHost: "www.centreformentalhealth.org.uk", TrailingSlash: "add", DefaultType: "blog",
			Types: []ingest.TypeRuleSpec{{Pattern: "/publications/", Type: "report"}}},
		{ID: "kings-fund", Home: "https://www.kingsfund.org.uk/", PreferredHost: "www.kingsfund.org.uk", TrailingSlash: "strip", DefaultType: "article",
			Types: []ingest.TypeRuleSpec{{Pattern: "/reports/", Type: "report"}, {Pattern: "/long-reads/", Type: "long-read"}}},
	}
	if withImport {
		specs = append(specs, ingest.SourceSpec{ID: "import", Home: "https://library.example.nhs.uk/", DefaultType: "article"})
	}
	s := sites{byID: map[string]ingest.Source{}}
	var all []ingest.Source
	for _, spec := range specs {
		src, err := ingest.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, src)
		s.byID[src.ID] = src
	}
	s.p = ingest.New(ingest.Options{Sources: all})
	return s
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "evidence.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

const elfURL = "https://www.nationalelfservice.net/mental-health/social-prescribing/social-prescribing-older-people-loneliness-wellbeing/"

// ingested stores an item as the feed layer would have.
func ingested(t *testing.T, st *store.Store) evidence.Item {
	t.Helper()
	pub := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	it := evidence.Item{
		Source: "mental-elf", Type: "blog", URL: elfURL,
		Title:     "Social prescribing for older people: does it reduce loneliness?",
		Summary:   "A new review of social prescribing for older people.",
		Body:      "The full blog post.",
		Published: &pub, Authors: []string{"Sarah Smith"},
		Provenance: map[string]string{"title": "feed", "summary": "feed", "body": "feed", "published": "feed", "authors": "feed"},
	}
	if _, err := st.UpsertItem(context.Background(), &it); err != nil {
		t.Fatal(err)
	}
	return it
}

const risList = `TY  - BLOG
TI  - Social prescribing and loneliness (librarian's title)
AU  - Jones, Ann
PY  - 2024
AB  - The librarian's abstract.
KW  - loneliness
DO  - 10.1093/ageing/afad001
UR  - http://nationalelfservice.net/mental-health/social-prescribing/social-prescribing-older-people-loneliness-wellbeing?utm_source=rss
ER  - 

TY  - RPRT
TI  - Mental health 360: funding and costs
AU  - Gilburt, Helen
PY  - 2023
UR  - https://kingsfund.org.uk/insight-and-analysis/reports/mental-health-360-funding-costs/
ER  - 

TY  - JOUR
TI  - Peer support for people with severe mental illness
PY  - 2019
DO  - 10.1016/S2215-0366(19)30001-2
ER  - 

TY  - RPRT
UR  - https://www.kingsfund.org.uk/insight-and-analysis/reports/untitled
ER  - 
`

func run(t *testing.T, st *store.Store, s sites, f importer.Format, in string, source string) importer.Report {
	t.Helper()
	rep, err := importer.Import(context.Background(), strings.NewReader(in), f, importer.Options{Store: st, Sites: s, Source: source})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return rep
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	before := ingested(t, st)
	s := newSites(t, false)

	rep := run(t, st, s, importer.RIS, risList, "")
	if rep.Records != 4 || rep.Imported != 2 || rep.New != 1 || rep.Updated != 1 || rep.Unchanged != 0 {
		t.Errorf("report %+v, want 4 records: 1 new, 1 updated, 2 bad", rep)
	}
	wantErrs := []importer.RecordError{
		{Line: 18, Message: `https://doi.org/10.1016/S2215-0366(19)30001-2 is on no configured source's site: pass --source ID to import it, or configure a source "import" for such items`},
		{Line: 24, Message: "no title"},
	}
	if !slices.Equal(rep.Errors, wantErrs) {
		t.Errorf("errors:\n got %+v\nwant %+v", rep.Errors, wantErrs)
	}
	if n, _ := st.CountItems(ctx); n != 2 {
		t.Errorf("%d items stored, want 2 (the ingested one merged, not duplicated)", n)
	}

	t.Run("a record for an ingested item fills gaps and keeps the publisher's fields", func(t *testing.T) {
		got, err := st.ItemByURL(ctx, elfURL)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != before.ID || got.Source != "mental-elf" || got.Title != before.Title || got.Summary != before.Summary ||
			!got.Published.Equal(*before.Published) || !slices.Equal(got.Authors, before.Authors) || !slices.Equal(got.AnnouncedBy, []string{"mental-elf"}) {
			t.Errorf("publisher's fields changed: %+v", got)
		}
		if !slices.Equal(got.Categories, []string{"loneliness"}) || got.Provenance["categories"] != "import:ris" {
			t.Errorf("categories %q (%s)", got.Categories, got.Provenance["categories"])
		}
		if len(got.Cites) != 1 || got.Cites[0].DOI != "10.1093/ageing/afad001" {
			t.Errorf("cites %+v", got.Cites)
		}
		// The DOI now leads to the item.
		viaDOI, err := st.ItemByURL(ctx, "https://doi.org/10.1093/ageing/afad001")
		if err != nil || viaDOI.ID != before.ID {
			t.Errorf("DOI alias: %v %v", viaDOI.ID, err)
		}
	})

	t.Run("a new item gets the owning source, its rules and type", func(t *testing.T) {
		got, err := st.ItemByURL(ctx, "https://www.kingsfund.org.uk/insight-and-analysis/reports/mental-health-360-funding-costs")
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != "kings-fund" || got.Type != "report" || !slices.Equal(got.AnnouncedBy, []string{"kings-fund"}) ||
			got.Published.Format("2006-01-02") != "2023-01-01" || got.Provenance["published"] != "import:ris (year only)" {
			t.Errorf("item %+v", got)
		}
	})

	t.Run("importing the same file again changes nothing", func(t *testing.T) {
		rep := run(t, st, s, importer.RIS, risList, "")
		if rep.Unchanged != 2 || rep.New+rep.Updated != 0 {
			t.Errorf("report %+v", rep)
		}
	})

	t.Run("a re-import replaces what an import supplied", func(t *testing.T) {
		changed := strings.Replace(risList, "Mental health 360: funding and costs", "Mental health 360: funding", 1)
		rep := run(t, st, s, importer.RIS, changed, "")
		got, _ := st.ItemByURL(ctx, "https://www.kingsfund.org.uk/insight-and-analysis/reports/mental-health-360-funding-costs")
		if rep.Updated != 1 || got.Title != "Mental health 360: funding" {
			t.Errorf("report %+v, title %q", rep, got.Title)
		}
	})

	t.Run("with a source named import, foreign URLs go in; a later record finds them by DOI", func(t *testing.T) {
		si := newSites(t, true)
		rep := run(t, st, si, importer.RIS, risList, "")
		if rep.New != 1 || len(rep.Errors) != 1 {
			t.Fatalf("report %+v", rep)
		}
		art, err := st.ItemByURL(ctx, "https://doi.org/10.1016/S2215-0366(19)30001-2")
		if err != nil || art.Source != "import" || art.Type != "article" {
			t.Fatalf("article %+v %v", art, err)
		}
		// The same article under its publisher's URL, with its DOI: merged.
		ris := "TY  - JOUR\nTI  - Peer support for people with SMI\nKW  - peer support\n" +
			"UR  - https://www.thelancet.com/journals/lanpsy/article/PIIS2215-0366(19)30001-2/fulltext\nDO  - 10.1016/s2215-0366(19)30001-2\nER  - \n"
		rep = run(t, st, si, importer.RIS, ris, "")
		if rep.Updated != 1 {
			t.Fatalf("report %+v, want the article updated", rep)
		}
		got, err := st.ItemByURL(ctx, "https://www.thelancet.com/journals/lanpsy/article/PIIS2215-0366(19)30001-2/fulltext")
		if err != nil || got.ID != art.ID || got.Title != "Peer support for people with SMI" || !slices.Contains(got.Categories, "peer support") {
			t.Errorf("merged by DOI: %+v %v", got, err)
		}
		// A blog citing the DOI discusses the article.
		blog := `{"title":"What the peer support trial tells us","url":"https://www.kingsfund.org.uk/insight-and-analysis/blogs/peer-support-trial","cites":[{"url":"https://doi.org/10.1016/S2215-0366(19)30001-2","doi":"10.1016/s2215-0366(19)30001-2"}]}`
		if rep := run(t, st, si, importer.JSONL, blog, ""); rep.New != 1 {
			t.Fatalf("report %+v", rep)
		}
		b, err := st.ItemByURL(ctx, "https://www.kingsfund.org.uk/insight-and-analysis/blogs/peer-support-trial")
		if err != nil || !slices.Equal(b.Discusses, []string{art.ID}) {
			t.Errorf("blog discusses %v (%v), want [%s]", b.Discusses, err, art.ID)
		}
	})

	t.Run("--source names the source of new items", func(t *testing.T) {
		rep := run(t, st, s, importer.JSONL, `{"title":"NICE CG178","url":"https://www.nice.org.uk/guidance/cg178"}`, "centre-for-mental-health")
		got, err := st.ItemByURL(ctx, "https://www.nice.org.uk/guidance/cg178")
		if rep.New != 1 || err != nil || got.Source != "centre-for-mental-health" || got.Type != "blog" {
			t.Errorf("report %+v item %+v %v", rep, got, err)
		}
		if _, err := importer.Import(ctx, strings.NewReader(""), importer.JSONL, importer.Options{Store: st, Sites: s, Source: "bbc"}); !errors.Is(err, evidence.ErrInvalid) {
			t.Errorf("unknown --source: %v", err)
		}
	})

	t.Run("a cancelled context stops the import", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := importer.Import(cctx, strings.NewReader(risList), importer.RIS, importer.Options{Store: st, Sites: s})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
	})
}
