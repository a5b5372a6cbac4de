package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// work returns a stored-item fixture; pub is days after 1 March 2025, or
// nil for no date.
func work(source, url, title string, pub *int, doi string, pdfs ...string) *evidence.Item {
	it := &evidence.Item{Source: source, Type: evidence.TypeReport, URL: url, Title: title, DOI: doi, PDFURLs: pdfs}
	if pub != nil {
		it.Published = ptime(dupBase.AddDate(0, 0, *pub))
	}
	return it
}

var dupBase = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func day(n int) *int { return &n }

func at(n int) *time.Time { return ptime(dupBase.AddDate(0, 0, n)) }

func TestFindDuplicate(t *testing.T) {
	const (
		report    = "https://www.centreformentalhealth.org.uk/publications/children-in-care"
		reportPDF = "https://www.centreformentalhealth.org.uk/media/children-in-care.pdf"
		oldURL    = "https://www.centreformentalhealth.org.uk/blogs/children-in-care"
		kf        = "https://www.kingsfund.org.uk/insight-and-analysis/reports/workforce"
		kfPDF     = "https://www.kingsfund.org.uk/media/workforce.pdf"
		annual    = "https://www.kingsfund.org.uk/annual-report"
		undated   = "https://www.nationalvoices.org.uk/publications/undated-briefing"
		early     = "https://www.nationalvoices.org.uk/news/waiting-lists-early"
		late      = "https://www.nationalvoices.org.uk/news/waiting-lists-late"
		orphan    = "https://old.example/orphan"
		newURL    = "https://www.nationalelfservice.net/new"
	)
	fixtures := []*evidence.Item{
		work(evidence.SourceCentreForMH, report, "Mental health of children in care | Centre for Mental Health",
			day(0), "10.1234/CMH.2025.5", reportPDF),
		work(evidence.SourceKingsFund, kf, "The NHS workforce in numbers", day(10), "10.9999/kf.1", kfPDF),
		work(evidence.SourceKingsFund, annual, "Annual report", day(0), ""),
		work(evidence.SourceNationalVoices, undated, "Briefing on young people's voices", nil, ""),
		work(evidence.SourceNationalVoices, early, "Waiting lists in England today", day(20), ""),
		work(evidence.SourceNationalVoices, late, "Waiting lists in England today", day(27), ""),
	}

	tests := []struct {
		name     string
		q        DupQuery
		wantURL  string // "" = ErrNotFound
		wantRule string
	}{
		{"canonical url", DupQuery{URL: report}, report, RuleURL},
		{"query url is a recorded alias", DupQuery{URL: oldURL}, report, RuleAlias},
		{"an alias of the query is a stored url", DupQuery{URL: newURL, Aliases: []string{"", "https://x.example/", kf}}, kf, RuleURL},
		{"an alias of the query is a recorded alias", DupQuery{URL: newURL, Aliases: []string{oldURL}}, report, RuleAlias},
		{"alias to an item not stored is no match", DupQuery{URL: orphan}, "", ""},
		{"url wins over doi", DupQuery{URL: kf, DOI: "10.1234/cmh.2025.5"}, kf, RuleURL},
		{"doi, ignoring case and spaces", DupQuery{URL: newURL, DOI: " 10.1234/cmh.2025.5 "}, report, RuleDOI},
		{"doi wins over pdf", DupQuery{URL: newURL, DOI: "10.9999/KF.1", PDFURLs: []string{reportPDF}}, kf, RuleDOI},
		{"unknown doi falls through to pdf", DupQuery{URL: newURL, DOI: "10.1/none", PDFURLs: []string{"https://x.example/a.pdf", kfPDF}}, kf, RulePDF},
		{"pdf wins over title", DupQuery{URL: newURL, PDFURLs: []string{kfPDF},
			Title: "Mental health of children in care", Published: at(1)}, kf, RulePDF},
		{"title normalised, dates 3 days apart", DupQuery{URL: newURL,
			Title: "The Mental Health of Children in Care | The King's Fund", Published: at(3)}, report, RuleTitle},
		{"title, dates exactly the window apart", DupQuery{URL: newURL,
			Title: "Mental health of children in care", Published: at(-7)}, report, RuleTitle},
		{"title, dates 30 days apart", DupQuery{URL: newURL,
			Title: "Mental health of children in care", Published: at(30)}, "", ""},
		{"title, dates 3 days apart but window 1 day", DupQuery{URL: newURL,
			Title: "Mental health of children in care", Published: at(3), Window: 24 * time.Hour}, "", ""},
		{"title, dates 20 days apart within a 30 day window", DupQuery{URL: newURL,
			Title: "Mental health of children in care", Published: at(20), Window: 30 * 24 * time.Hour}, report, RuleTitle},
		{"title of two words never matches", DupQuery{URL: newURL, Title: "Annual report", Published: at(0)}, "", ""},
		{"title of two words after the article", DupQuery{URL: newURL, Title: "The annual report", Published: at(0)}, "", ""},
		{"query date missing", DupQuery{URL: newURL, Title: "Mental health of children in care"}, "", ""},
		{"stored date missing", DupQuery{URL: newURL, Title: "Briefing on young people's voices", Published: at(0)}, "", ""},
		{"several title matches: closest date", DupQuery{URL: newURL,
			Title: "Waiting lists in England today", Published: at(25)}, late, RuleTitle},
		{"several title matches: closest date, other side", DupQuery{URL: newURL,
			Title: "Waiting lists in England today", Published: at(22)}, early, RuleTitle},
		{"different title", DupQuery{URL: newURL, Title: "Mental health of adults in care", Published: at(0)}, "", ""},
		{"empty query", DupQuery{}, "", ""},
	}

	ctx := context.Background()
	s, _, _ := newStore(t)
	for _, it := range fixtures {
		mustUpsert(t, s, it)
	}
	if err := s.AddAlias(ctx, oldURL, report); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAlias(ctx, orphan, "https://not.stored.example/"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rule, err := s.FindDuplicate(ctx, tt.q)
			if tt.wantURL == "" {
				if !errors.Is(err, evidence.ErrNotFound) {
					t.Fatalf("FindDuplicate = %q (%s), %v; want ErrNotFound", got.URL, rule, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindDuplicate: %v", err)
			}
			if got.URL != tt.wantURL || rule != tt.wantRule {
				t.Errorf("FindDuplicate = %q by %q, want %q by %q", got.URL, rule, tt.wantURL, tt.wantRule)
			}
			if got.ID != evidence.NewID(got.URL) || got.ContentHash == "" || got.AnnouncedBy == nil {
				t.Errorf("returned item not fully loaded: %+v", got)
			}
		})
	}
}

func TestFindDuplicateUsesIndexes(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	tests := []struct {
		query string
		args  []any
		index string
	}{
		{`SELECT id FROM items WHERE doi = ? COLLATE NOCASE ORDER BY first_seen, id LIMIT 1`, []any{"x"}, "items_doi"},
		{`SELECT id, published, first_seen FROM items WHERE title_key = ? AND published BETWEEN ? AND ?`,
			[]any{"k", "a", "b"}, "items_title_key"},
		{`SELECT signature, item_id FROM candidates WHERE url = ?`, []any{"u"}, "sqlite_autoindex_candidates_1"},
	}
	for _, tt := range tests {
		t.Run(tt.index, func(t *testing.T) {
			rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan += detail + "\n"
			}
			if !strings.Contains(plan, tt.index) {
				t.Errorf("plan does not use %s:\n%s", tt.index, plan)
			}
		})
	}
}

func TestDOIAndTitleKeyPersisted(t *testing.T) {
	ctx := context.Background()
	s, _, path := newStore(t)
	o := newObserver(t, path)
	const url = "https://www.kingsfund.org.uk/insight-and-analysis/reports/doi"

	steps := []struct {
		name        string
		doi, title  string
		wantDOI     any // stored column value: nil for NULL
		wantTitleKy string
	}{
		{"created with doi", "10.1000/ABC", "The Report On Things | The King's Fund", "10.1000/ABC", "report on things"},
		{"updated doi and title", "10.1000/def", "A new title, revised", "10.1000/def", "new title revised"},
		{"doi removed", "", "A new title, revised", nil, "new title revised"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			it := sampleItem(url)
			it.DOI, it.Title = st.doi, st.title
			mustUpsert(t, s, it)
			for name, got := range map[string]evidence.Item{"Item": mustItem(t, s, it.ID)} {
				if got.DOI != st.doi {
					t.Errorf("%s DOI = %q, want %q", name, got.DOI, st.doi)
				}
			}
			byURL, err := s.ItemByURL(ctx, url)
			if err != nil || byURL.DOI != st.doi {
				t.Errorf("ItemByURL DOI = %q, %v; want %q", byURL.DOI, err, st.doi)
			}
			var doi any
			if err := o.conn.QueryRowContext(ctx, `SELECT doi FROM items WHERE id = ?`, it.ID).Scan(&doi); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(doi) != fmt.Sprint(st.wantDOI) {
				t.Errorf("doi column = %v, want %v", doi, st.wantDOI)
			}
			if got := o.queryString(`SELECT title_key FROM items WHERE id = ?`, it.ID); got != st.wantTitleKy {
				t.Errorf("title_key = %q, want %q", got, st.wantTitleKy)
			}
		})
	}
}

func TestAddAnnouncer(t *testing.T) {
	ctx := context.Background()
	s, c, path := newStore(t)
	const url = "https://www.centreformentalhealth.org.uk/publications/shared"
	it := work(evidence.SourceCentreForMH, url, "A report announced by two publishers", day(0), "")
	mustUpsert(t, s, it)
	if err := s.MarkIndexed(ctx, map[string]string{it.ID: it.ContentHash}); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	o := newObserver(t, path)

	steps := []struct {
		name        string
		id, source  string
		wantChanged bool
		wantErr     error
		wantWrite   bool
		wantList    []string
	}{
		{"own source is already there", it.ID, evidence.SourceCentreForMH, false, nil, false,
			[]string{evidence.SourceCentreForMH}},
		{"second publisher", it.ID, evidence.SourceMentalElf, true, nil, true,
			[]string{evidence.SourceCentreForMH, evidence.SourceMentalElf}},
		{"second publisher again writes nothing", it.ID, evidence.SourceMentalElf, false, nil, false,
			[]string{evidence.SourceCentreForMH, evidence.SourceMentalElf}},
		{"third publisher", it.ID, evidence.SourceKingsFund, true, nil, true,
			[]string{evidence.SourceCentreForMH, evidence.SourceMentalElf, evidence.SourceKingsFund}},
		{"unknown item", "nope", evidence.SourceKingsFund, false, evidence.ErrNotFound, false, nil},
		{"empty source", it.ID, " ", false, evidence.ErrInvalid, false, nil},
		{"empty id", "", evidence.SourceKingsFund, false, evidence.ErrInvalid, false, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := o.dataVersion()
			changed, err := s.AddAnnouncer(ctx, st.id, st.source)
			if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
				t.Fatalf("AddAnnouncer = %v, %v; want error %v", changed, err, st.wantErr)
			}
			if changed != st.wantChanged {
				t.Errorf("AddAnnouncer changed = %v, want %v", changed, st.wantChanged)
			}
			if wrote := o.dataVersion() != before; wrote != st.wantWrite {
				t.Errorf("wrote = %v, want %v", wrote, st.wantWrite)
			}
			if st.wantList == nil {
				return
			}
			got := mustItem(t, s, it.ID)
			if !reflect.DeepEqual(got.AnnouncedBy, st.wantList) {
				t.Errorf("AnnouncedBy = %v, want %v", got.AnnouncedBy, st.wantList)
			}
			if got.ContentHash != it.ContentHash {
				t.Errorf("content hash changed: %s → %s", it.ContentHash, got.ContentHash)
			}
			if pending, err := s.PendingIndex(ctx, 0); err != nil || len(pending) != 0 {
				t.Errorf("PendingIndex = %d items, %v; want none", len(pending), err)
			}
		})
	}

	t.Run("unchanged re-ingest of the first copy writes nothing and keeps announcers", func(t *testing.T) {
		before := o.dataVersion()
		again := work(evidence.SourceCentreForMH, url, "A report announced by two publishers", day(0), "")
		if res := mustUpsert(t, s, again); res != evidence.Unchanged {
			t.Fatalf("UpsertItem = %v, want unchanged", res)
		}
		if o.dataVersion() != before {
			t.Error("unchanged upsert wrote")
		}
		changed := work(evidence.SourceCentreForMH, url, "A report announced by two publishers, revised", day(0), "")
		if res := mustUpsert(t, s, changed); res != evidence.Updated {
			t.Fatalf("UpsertItem = %v, want updated", res)
		}
		want := []string{evidence.SourceCentreForMH, evidence.SourceMentalElf, evidence.SourceKingsFund}
		if got := mustItem(t, s, it.ID).AnnouncedBy; !reflect.DeepEqual(got, want) {
			t.Errorf("AnnouncedBy after update = %v, want %v", got, want)
		}
	})

	t.Run("concurrent announcers all land", func(t *testing.T) {
		sources := []string{"s1", "s2", "s3", "s4", "s5", "s6"}
		var wg sync.WaitGroup
		errs := make(chan error, len(sources)*2)
		for _, src := range sources {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.AddAnnouncer(ctx, it.ID, src); err != nil {
						errs <- err
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got := mustItem(t, s, it.ID).AnnouncedBy
		if len(got) != 3+len(sources) {
			t.Errorf("AnnouncedBy = %v, want 3 + %v", got, sources)
		}
	})
}

func TestItemsBySource(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	for _, it := range []*evidence.Item{
		work(evidence.SourceKingsFund, "https://www.kingsfund.org.uk/b", "B", nil, ""),
		work(evidence.SourceKingsFund, "https://www.kingsfund.org.uk/a", "A", nil, ""),
		work(evidence.SourceMentalElf, "https://www.nationalelfservice.net/c", "C", nil, ""),
	} {
		mustUpsert(t, s, it)
	}
	tests := []struct {
		source string
		want   []string
	}{
		{evidence.SourceKingsFund, []string{"https://www.kingsfund.org.uk/a", "https://www.kingsfund.org.uk/b"}},
		{evidence.SourceMentalElf, []string{"https://www.nationalelfservice.net/c"}},
		{evidence.SourceNationalVoices, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			got, err := s.ItemsBySource(ctx, tt.source)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ItemsBySource = %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

// BenchmarkFindDuplicate measures the common case in a pipeline run: a new
// item that matches nothing, so every rule is tried, over 5,000 items.
func BenchmarkFindDuplicate(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: b.TempDir() + "/bench.db"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 5000 {
		it := work(evidence.SourceKingsFund, fmt.Sprintf("https://www.kingsfund.org.uk/r/%d", i),
			fmt.Sprintf("Report number %d on waiting lists", i%500), day(i%60), fmt.Sprintf("10.1/%d", i),
			fmt.Sprintf("https://www.kingsfund.org.uk/r/%d.pdf", i))
		if _, err := s.UpsertItem(ctx, it); err != nil {
			b.Fatal(err)
		}
	}
	q := DupQuery{URL: "https://www.nationalelfservice.net/new", Aliases: []string{"https://x.example/a"},
		DOI: "10.1/none", PDFURLs: []string{"https://x.example/a.pdf"},
		Title: "Report number 7 on waiting lists", Published: at(200)}
	for b.Loop() {
		if _, _, err := s.FindDuplicate(ctx, q); !errors.Is(err, evidence.ErrNotFound) {
			b.Fatal(err)
		}
	}
}
