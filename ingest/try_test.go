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

// TestTryDecidesByParsing: `sources try FILE` tells a feed, a sitemap and a
// listing page apart by reading them with the layers' readers, not by their
// first bytes: a feed that opens with a comment, or an RSS 1.0 (RDF) feed,
// is a feed.
func TestTryDecidesByParsing(t *testing.T) {
	p := New(Options{})
	tests := []struct {
		file, url string
		wantKind  string
		wantItems int // feed entries, or sitemap/listing item URLs
		wantErr   string
	}{
		{"comment-first.rss", "https://feeds.example.org/feed/", "feed", 2, ""},
		{"rss1.rdf", "https://feeds.example.org/rss1", "feed", 2, ""},
		{"comment-first-atom.xml", "https://feeds.example.org/atom", "feed", 1, ""},
		{"comment-first-sitemap.xml", "https://feeds.example.org/sitemap.xml", "sitemap", 1, ""},
		{"listing.html", "https://feeds.example.org/posts/", "listing", 2, ""},
		{"broken.rss", "https://feeds.example.org/broken", "", 0, "neither a sitemap nor a feed"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "try", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.TryBytes(body, tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q (kind %q)", err, tt.wantErr, r.Kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.wantKind {
				t.Fatalf("%s read as %q, want %q (warnings %v)", tt.file, r.Kind, tt.wantKind, r.Warnings)
			}
			got := len(r.Items)
			if tt.wantKind != "feed" {
				got = len(r.ItemURLs)
				if r.Sitemap != nil && r.Source == "" {
					got = len(r.Sitemap.Entries)
				}
			}
			if got != tt.wantItems {
				t.Errorf("%d items, want %d: %+v", got, tt.wantItems, r)
			}
		})
	}
}

// FuzzTryBytes: whatever a file holds, try either names its kind or says
// why it could not, and never panics.
func FuzzTryBytes(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "try", "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(""))
	f.Add([]byte("<!-- x --><rdf:RDF></rdf:RDF>"))
	p := New(Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := p.TryBytes(body, "https://feeds.example.org/doc")
		if err != nil {
			return
		}
		switch r.Kind {
		case "feed", "sitemap", "listing", "item":
		default:
			t.Fatalf("kind %q with no error", r.Kind)
		}
		if r.Items == nil || r.Warnings == nil {
			t.Fatalf("nil items or warnings: %+v", r)
		}
	})
}
