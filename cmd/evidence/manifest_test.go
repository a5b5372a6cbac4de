package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// manifestItem is what a snapshot's MANIFEST.json says one item is.
type manifestItem struct {
	URL           string   `json:"url"`
	Type          string   `json:"type"`
	Title         string   `json:"title"`
	Published     *string  `json:"published"`
	PagePublished *string  `json:"page_published"`
	Authors       []string `json:"authors"`
	AnnouncedBy   []string `json:"announced_by"`
	SameAs        []string `json:"same_as"`
	Reports       []string `json:"reports"` // Mental Elf: reports the blog discusses
}

func readManifest(t *testing.T, host string) []manifestItem {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "snapshots", host, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Items []manifestItem `json:"items"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s manifest: %v", host, err)
	}
	return m.Items
}

type hitJSON struct {
	ID          string   `json:"id"`
	Source      string   `json:"source"`
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	URL         string   `json:"url"`
	Published   *string  `json:"published"`
	Authors     []string `json:"authors"`
	AnnouncedBy []string `json:"announced_by"`
	Discusses   []string `json:"discusses"`
	DiscussedBy []string `json:"discussed_by"`
}

// TestFourPublishersYieldTheManifest ingests the four snapshot sites with
// --backfill and checks the store holds exactly the items the manifests
// list: none missing, none extra, none twice, each with its type, title,
// date and authors; the joint report is one item announced by both
// publishers; Mental Elf blogs discuss the reports they link to. A second
// run over the unchanged snapshots is only 304s and writes nothing.
func TestFourPublishersYieldTheManifest(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, startReplay(t, bin))
	h.env = append(h.env, "EVIDENCE_FETCH_RATE_PER_HOST=100")

	var first ingestJSON
	if code := h.runJSON(&first, "ingest", "--backfill", "--json"); code != 0 {
		t.Fatalf("ingest exit %d: %+v", code, first)
	}
	var res struct {
		Total int       `json:"total"`
		Hits  []hitJSON `json:"hits"`
	}
	h.runJSON(&res, "search", "", "--limit", "1000", "--json")
	stored := map[string]hitJSON{}
	byID := map[string]hitJSON{}
	for _, hit := range res.Hits {
		if _, dup := stored[hit.URL]; dup {
			t.Errorf("URL stored twice: %s", hit.URL)
		}
		stored[hit.URL] = hit
		byID[hit.ID] = hit
	}

	hosts := map[string]string{
		"mental-elf":               "www.nationalelfservice.net",
		"centre-for-mental-health": "www.centreformentalhealth.org.uk",
		"kings-fund":               "www.kingsfund.org.uk",
		"national-voices":          "www.nationalvoices.org.uk",
	}
	expected := map[string]bool{} // URLs that must be items (one per work)
	dated, total := 0, 0
	for source, host := range hosts {
		items := readManifest(t, host)
		if len(items) < 34 {
			t.Errorf("%s manifest has only %d items", source, len(items))
		}
		for _, m := range items {
			if m.Type == "" && source == "mental-elf" {
				m.Type = "blog" // every Mental Elf post is a blog
			}
			hit, ok := stored[m.URL]
			if !ok {
				// One work announced by two publishers is stored once, under
				// one of its URLs.
				for _, alt := range m.SameAs {
					if h, ok2 := stored[alt]; ok2 {
						hit, ok = h, true
						expected[alt] = true
					}
				}
				if !ok {
					t.Errorf("%s: manifest item missing: %s", source, m.URL)
					continue
				}
			} else {
				expected[m.URL] = true
			}
			total++
			if hit.Published != nil {
				dated++
			}
			if hit.Title != m.Title {
				t.Errorf("%s: title = %q, want %q", m.URL, hit.Title, m.Title)
			}
			if len(m.SameAs) == 0 {
				if hit.Type != m.Type {
					t.Errorf("%s: type = %q, want %q", m.URL, hit.Type, m.Type)
				}
				if hit.Source != source {
					t.Errorf("%s: source = %q, want %q", m.URL, hit.Source, source)
				}
			}
			want := m.Published
			if want == nil {
				want = m.PagePublished
			}
			if want != nil && hit.URL == m.URL && (hit.Published == nil || !sameInstant(*hit.Published, *want)) {
				t.Errorf("%s: published = %v, want %s", m.URL, deref(hit.Published), *want)
			}
			if len(m.Authors) > 0 && !sameSet(hit.Authors, m.Authors) {
				t.Errorf("%s: authors = %q, want %q", m.URL, hit.Authors, m.Authors)
			}
			if len(m.AnnouncedBy) > 1 && !sameSet(hit.AnnouncedBy, m.AnnouncedBy) {
				t.Errorf("%s: announced_by = %q, want %q", m.URL, hit.AnnouncedBy, m.AnnouncedBy)
			}
			for _, r := range m.Reports {
				target, ok := stored[canonicalForTest(r)]
				if !ok {
					t.Errorf("%s links to %s, which is not a stored item", m.URL, r)
					continue
				}
				if !slices.Contains(hit.Discusses, target.ID) || !slices.Contains(target.DiscussedBy, hit.ID) {
					t.Errorf("%s should discuss %s (discusses %v; its discussed_by %v)", m.URL, target.URL, hit.Discusses, target.DiscussedBy)
				}
			}
		}
	}
	for u := range stored {
		if !expected[u] {
			t.Errorf("extra item not in any manifest: %s", u)
		}
	}
	if total > 0 && float64(dated)/float64(total) < 0.95 {
		t.Errorf("dates on %d of %d items, want ≥ 95%%", dated, total)
	}
	t.Logf("%d items stored, %d manifest entries, %d dated", len(stored), total, dated)

	var again ingestJSON
	if code := h.runJSON(&again, "ingest", "--backfill", "--json"); code != 0 {
		t.Fatalf("second ingest exit %d", code)
	}
	for _, s := range again.Sources {
		if s.Fetched != 0 || s.New != 0 || s.Updated != 0 || s.NotModified != s.Requests {
			t.Errorf("unchanged re-run of %s: %+v, want only 304s and no writes", s.Source, s)
		}
	}
	if again.Indexed != 0 {
		t.Errorf("unchanged re-run indexed %d items", again.Indexed)
	}
	if _, code := h.run("check"); code != 0 {
		t.Errorf("check exit %d", code)
	}
}

// canonicalForTest applies the snapshot sites' trailing-slash policies.
func canonicalForTest(u string) string {
	u = strings.SplitN(u, "#", 2)[0]
	switch {
	case strings.Contains(u, "kingsfund.org.uk"), strings.Contains(u, "nationalvoices.org.uk"):
		return strings.TrimSuffix(u, "/")
	case strings.HasSuffix(u, "/"):
		return u
	default:
		return u + "/"
	}
}

func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339, a)
	tb, err2 := time.Parse(time.RFC3339, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func deref(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}
