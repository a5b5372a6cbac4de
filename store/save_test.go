package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func reportLikeForTest(t string) bool { return t == evidence.TypeReport }

// TestSaveItemRules: SaveItem makes the pipeline's decisions (store one
// item per work, add announcers, keep one publisher's two URLs apart) in
// one transaction.
func TestSaveItemRules(t *testing.T) {
	pub := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	const (
		kfReport = "https://www.kingsfund.org.uk/reports/r"
		kfOld    = "https://www.kingsfund.org.uk/old/r"
		pdf      = "https://assets.kingsfund.org.uk/r.pdf"
	)
	stored := func() *evidence.Item {
		return &evidence.Item{Source: evidence.SourceKingsFund, Type: evidence.TypeReport, URL: kfReport,
			Title: "The state of adult social care funding", Published: &pub, DOI: "10.1/kf.r", PDFURLs: []string{pdf}}
	}
	tests := []struct {
		name       string
		in         evidence.Item
		aliases    []string
		wantRule   string
		wantMerged bool
		wantResult evidence.UpsertResult
		wantItems  int
		wantAnnBy  []string
	}{
		{"new work", evidence.Item{Source: evidence.SourceMentalElf, Type: evidence.TypeBlog, URL: "https://elf.example/x", Title: "Something else entirely here"},
			nil, "", false, evidence.Created, 2, []string{evidence.SourceKingsFund}},
		{"same DOI, other publisher: announced", evidence.Item{Source: evidence.SourceCentreForMH, Type: evidence.TypeBlog, URL: "https://cmh.example/a", Title: "A", DOI: "10.1/KF.R"},
			nil, RuleDOI, true, evidence.Unchanged, 1, []string{evidence.SourceKingsFund, evidence.SourceCentreForMH}},
		{"same DOI, same publisher: kept apart", evidence.Item{Source: evidence.SourceKingsFund, Type: evidence.TypeNews, URL: "https://www.kingsfund.org.uk/press/r", Title: "Press release", DOI: "10.1/kf.r"},
			nil, RuleDOI, false, evidence.Created, 2, []string{evidence.SourceKingsFund}},
		{"same report PDF, other publisher's report: announced", evidence.Item{Source: evidence.SourceCentreForMH, Type: evidence.TypeReport, URL: "https://cmh.example/r", Title: "R", PDFURLs: []string{pdf}},
			nil, RulePDF, true, evidence.Unchanged, 1, []string{evidence.SourceKingsFund, evidence.SourceCentreForMH}},
		{"same PDF linked by a blog: not the report", evidence.Item{Source: evidence.SourceCentreForMH, Type: evidence.TypeBlog, URL: "https://cmh.example/b", Title: "B", PDFURLs: []string{pdf}},
			nil, "", false, evidence.Created, 2, []string{evidence.SourceKingsFund}},
		{"same title within days, other publisher: announced", evidence.Item{Source: evidence.SourceMentalElf, Type: evidence.TypeBlog, URL: "https://elf.example/t", Title: "The state of adult social care funding", Published: ptime(pub.Add(48 * time.Hour))},
			nil, RuleTitle, true, evidence.Unchanged, 1, []string{evidence.SourceKingsFund, evidence.SourceMentalElf}},
		{"own item under a recorded old URL: updated at its URL", evidence.Item{Source: evidence.SourceKingsFund, Type: evidence.TypeReport, URL: kfOld, Title: "The state of adult social care funding (2nd ed.)", Published: &pub},
			nil, RuleAlias, false, evidence.Updated, 1, []string{evidence.SourceKingsFund}},
		{"own item's URL among the aliases: a new item at the new URL (as before)", evidence.Item{Source: evidence.SourceKingsFund, Type: evidence.TypeReport, URL: "https://www.kingsfund.org.uk/new/r", Title: "Another title for a new page", Published: &pub},
			// As before SaveItem: the same source's item at a new
			// canonical URL is stored there; the old URL stays its own item.
			[]string{kfReport}, RuleURL, false, evidence.Created, 2, []string{evidence.SourceKingsFund}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, _, _ := newStore(t)
			base := stored()
			if _, err := s.UpsertItem(ctx, base); err != nil {
				t.Fatal(err)
			}
			if err := s.AddAlias(ctx, kfOld, kfReport); err != nil {
				t.Fatal(err)
			}
			in := tc.in
			res, err := s.SaveItem(ctx, &in, SaveOptions{Aliases: tc.aliases, ReportLike: reportLikeForTest})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rule != tc.wantRule || res.Merged != tc.wantMerged || res.Result != tc.wantResult {
				t.Errorf("result %+v, want rule %q merged %v result %v", res, tc.wantRule, tc.wantMerged, tc.wantResult)
			}
			if n, _ := s.CountItems(ctx); n != tc.wantItems {
				t.Errorf("%d items, want %d", n, tc.wantItems)
			}
			got := mustItem(t, s, base.ID)
			if !slices.Equal(got.AnnouncedBy, tc.wantAnnBy) {
				t.Errorf("announced_by %v, want %v", got.AnnouncedBy, tc.wantAnnBy)
			}
			if res.Merged {
				if alias, err := s.ItemByURL(ctx, tc.in.URL); err != nil || alias.ID != base.ID {
					t.Errorf("the announcer's URL does not lead to the item: %v %v", alias.ID, err)
				}
			}
		})
	}
}
