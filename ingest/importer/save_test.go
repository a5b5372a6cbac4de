package importer_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/importer"
)

// TestImportMergesThroughDedupe checks that an imported record goes
// through the pipeline's dedupe path: a stored item with the record's DOI
// (stored as a DOI, no doi.org alias) or, for reports, one of its PDFs is
// the same work, and the record merges into it instead of becoming a
// second item.
func TestImportMergesThroughDedupe(t *testing.T) {
	const reportURL = "https://www.kingsfund.org.uk/insight-and-analysis/reports/mental-health-360-funding-costs"
	const reportPDF = "https://assets.kingsfund.org.uk/f/mh360-funding.pdf"
	pub := time.Date(2023, 5, 4, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		ris  string
	}{
		{"same DOI, another URL, other case", "TY  - RPRT\nTI  - Mental health 360 (librarian's title)\nKW  - funding\n" +
			"UR  - https://www.journals.example/mh360\nDO  - 10.5555/KF.MH360\nER  - \n"},
		{"same DOI, no URL (doi.org)", "TY  - RPRT\nTI  - Mental health 360 (librarian's title)\nKW  - funding\n" +
			"DO  - 10.5555/kf.mh360\nER  - \n"},
		{"same report PDF", "TY  - RPRT\nTI  - Mental health 360 (librarian's title)\nKW  - funding\n" +
			"UR  - https://www.journals.example/mh360\nL1  - " + reportPDF + "\nER  - \n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := openStore(t)
			stored := evidence.Item{
				Source: "kings-fund", Type: "report", URL: reportURL,
				Title: "Mental health 360: funding and costs", Published: &pub, DOI: "10.5555/kf.mh360",
				PDFURLs:    []string{reportPDF},
				Provenance: map[string]string{"title": "json-ld"},
			}
			if _, err := st.UpsertItem(ctx, &stored); err != nil {
				t.Fatal(err)
			}
			rep, err := importer.Import(ctx, strings.NewReader(tc.ris), importer.RIS, importer.Options{
				Store: st, Sites: newSites(t, true), ReportLike: ingest.ReportLike,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Imported != 1 || rep.New != 0 || len(rep.Errors) != 0 {
				t.Errorf("report %+v, want the record merged (imported 1, new 0)", rep)
			}
			if n, _ := st.CountItems(ctx); n != 1 {
				t.Errorf("%d items stored, want 1 (merged, not duplicated)", n)
			}
			got, err := st.Item(ctx, stored.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Title != stored.Title || got.URL != reportURL || !slices.Contains(got.Categories, "funding") {
				t.Errorf("merged item: title %q url %q categories %q; want the publisher's title and URL, the record's keyword",
					got.Title, got.URL, got.Categories)
			}
		})
	}
}
