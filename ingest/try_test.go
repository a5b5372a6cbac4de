package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

func TestTryBytes(t *testing.T) {
	kf, err := Compile(SourceSpec{
		ID: "kings-fund", Home: "https://www.kingsfund.org.uk/", PreferredHost: "www.kingsfund.org.uk", TrailingSlash: "strip",
		Include:     []string{`^https://www\.kingsfund\.org\.uk/insight-and-analysis/(?:reports|blogs)/[a-z0-9-]+/?$`},
		DefaultType: evidence.TypeArticle,
		Types:       []TypeRuleSpec{{Pattern: "/reports/", Type: evidence.TypeReport}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := New(Options{Sources: []Source{kf}})
	read := func(rel string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "testdata", "snapshots", "www.kingsfund.org.uk", rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, file, url string
		wantKind        string
		check           func(t *testing.T, r TryResult)
	}{
		{"item page", "insight-and-analysis/reports/social-prescribing-older-people-communities/index.html",
			"https://www.kingsfund.org.uk/insight-and-analysis/reports/social-prescribing-older-people-communities", "item",
			func(t *testing.T, r TryResult) {
				if len(r.Items) != 1 {
					t.Fatalf("items = %d", len(r.Items))
				}
				it := r.Items[0]
				if it.Type != evidence.TypeReport || strings.Contains(it.Title, "King's Fund") || len(it.Authors) != 2 || it.Published == nil {
					t.Errorf("item = %q %q %v %v", it.Type, it.Title, it.Authors, it.Published)
				}
				if it.Provenance["title"] == "" || it.Provenance["published"] == "" {
					t.Errorf("provenance = %v", it.Provenance)
				}
			}},
		{"sitemap", "sitemap-1.xml", "https://www.kingsfund.org.uk/sitemap-1.xml", "sitemap",
			func(t *testing.T, r TryResult) {
				if len(r.ItemURLs) == 0 {
					t.Errorf("no item URLs among %d entries", len(r.Sitemap.Entries))
				}
			}},
		{"listing", "insight-and-analysis/index.html", "https://www.kingsfund.org.uk/insight-and-analysis", "listing",
			func(t *testing.T, r TryResult) {
				if r.Listing == nil || len(r.Listing.Items) == 0 {
					t.Errorf("listing = %+v warnings %v", r.Listing, r.Warnings)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := p.TryBytes(read(tt.file), tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.wantKind || r.Source != "kings-fund" {
				t.Fatalf("kind %q source %q, want %q kings-fund", r.Kind, r.Source, tt.wantKind)
			}
			tt.check(t, r)
		})
	}
	if _, err := p.TryBytes([]byte("<html><title>Just a moment...</title></html>"), "https://www.kingsfund.org.uk/x"); err == nil {
		t.Error("a challenge page gave no error")
	}
}
