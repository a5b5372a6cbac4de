package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
)

// exportItems are three items on the publishers' sites: a King's Fund
// report with a DOI and a PDF, a Mental Elf post by two authors and a
// National Voices item by the organisation.
const exportItems = `{"type":"report","title":"Mental health 360: funding and costs","url":"https://www.kingsfund.org.uk/insight-and-analysis/reports/mental-health-360-funding-costs","published":"2023-03-15T00:00:00Z","authors":["Helen Gilburt","Dr Jane Smith"],"summary":"How much England spends on mental health services & whether funding has kept pace.","topics":["funding"],"pdf_urls":["https://assets.kingsfund.org.uk/f/256914/x/mh360_funding.pdf"],"doi":"10.31365/KF.2023.MH360"}
{"type":"blog","title":"Social prescribing for older people – does it reduce loneliness?","url":"https://www.nationalelfservice.net/mental-health/social-prescribing/social-prescribing-older-people-loneliness-wellbeing/","published":"2024-02-20T00:00:00Z","authors":["André Tomlin","Maria de la Cruz"],"summary":"A {systematic} review of social prescribing for people over 60."}
{"type":"press-release","title":"National Voices responds to the NHS 10 Year Health Plan","url":"https://www.nationalvoices.org.uk/news/national-voices-responds-to-the-10-year-health-plan/","published":"2025-07-03T00:00:00Z","authors":["National Voices"],"summary":"People who use services must be partners in the plan's delivery."}
`

// storedItems lists every item of a data dir (search "" lists them all),
// each as show --json prints it, by URL.
func storedItems(t *testing.T, h *harness) map[string]evidence.Item {
	t.Helper()
	var res searchJSON
	if code := h.runJSON(&res, "search", "", "--limit", "100", "--json"); code != 0 {
		t.Fatalf("search exited %d", code)
	}
	items := map[string]evidence.Item{}
	for _, hit := range res.Hits {
		var id string
		json.Unmarshal(hit["id"], &id)
		out, code := h.run("show", id, "--json")
		if code != 0 {
			t.Fatalf("show %s exited %d", id, code)
		}
		var it evidence.Item
		if err := json.Unmarshal([]byte(out), &it); err != nil {
			t.Fatalf("show %s --json: %v\n%s", id, err, out)
		}
		items[it.URL] = it
	}
	if len(items) != res.Total {
		t.Fatalf("%d items shown, search counts %d", len(items), res.Total)
	}
	return items
}

// TestExportRoundTrip: items imported from JSONL, read back with show
// --json and written with the export package as RIS, BibTeX and CSL-JSON,
// import into a fresh data dir as the same items (titles, URLs, DOIs,
// authors), and into the same data dir as no new ones.
func TestExportRoundTrip(t *testing.T) {
	bin := buildBinary(t)
	// Nothing is fetched: the replay address is never dialled.
	const noReplay = "127.0.0.1:9"
	h := newHarness(t, bin, noReplay)
	dir := t.TempDir()
	src := filepath.Join(dir, "items.jsonl")
	if err := os.WriteFile(src, []byte(exportItems), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep importJSON
	if code := h.runJSON(&rep, "import", src, "--json"); code != 0 || rep.New != 3 {
		t.Fatalf("import of the JSONL exited %d: %+v", code, rep)
	}
	orig := storedItems(t, h)
	if len(orig) != 3 {
		t.Fatalf("%d items stored, want 3", len(orig))
	}

	// The entries as the web's download would build them: the stored
	// items, their sources' names, a section and a note.
	var srcs struct {
		Sources []struct{ ID, Name string } `json:"sources"`
	}
	h.runJSON(&srcs, "sources", "--json")
	names := map[string]string{}
	for _, s := range srcs.Sources {
		names[s.ID] = s.Name
	}
	urls := make([]string, 0, len(orig))
	for u := range orig {
		urls = append(urls, u)
	}
	slices.Sort(urls)
	var entries []export.Entry
	for i, u := range urls {
		it := orig[u]
		if names[it.Source] == "" {
			t.Fatalf("source %q of %s has no name", it.Source, u)
		}
		entries = append(entries, export.Entry{Item: it, Publisher: names[it.Source], Section: "Section " + string(rune('A'+i)), Note: "Curator's note " + u})
	}
	if orig[urls[0]].DOI == "" && orig[urls[1]].DOI == "" && orig[urls[2]].DOI == "" {
		t.Fatal("no stored item has a DOI: the JSONL's doi was not imported")
	}

	for _, format := range []string{"ris", "bibtex", "csl-json"} {
		t.Run(format, func(t *testing.T) {
			_, ext, write, ok := export.Format(format)
			if !ok {
				t.Fatalf("no format %s", format)
			}
			var b bytes.Buffer
			if err := write(&b, entries); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "collection"+ext)
			if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}

			t.Run("into a fresh data dir", func(t *testing.T) {
				fresh := newHarness(t, bin, noReplay)
				var r importJSON
				if code := fresh.runJSON(&r, "import", file, "--json"); code != 0 || r.Records != 3 || r.New != 3 || len(r.Errors) != 0 {
					t.Fatalf("import exited %d: %+v", code, r)
				}
				if r.Format != format {
					t.Errorf("format %q, want %q", r.Format, format)
				}
				got := storedItems(t, fresh)
				if len(got) != 3 {
					t.Fatalf("%d items, want 3", len(got))
				}
				for u, want := range orig {
					it, ok := got[u]
					if !ok {
						t.Errorf("%s is missing after the import", u)
						continue
					}
					if it.Title != want.Title || !strings.EqualFold(it.DOI, want.DOI) || it.Source != want.Source || it.Type != want.Type {
						t.Errorf("%s: %q doi %q %s %s, want %q doi %q %s %s", u, it.Title, it.DOI, it.Source, it.Type,
							want.Title, want.DOI, want.Source, want.Type)
					}
					if !slices.Equal(it.Authors, displayNames(want.Authors)) {
						t.Errorf("%s: authors %q, want %q", u, it.Authors, displayNames(want.Authors))
					}
					if (it.Published == nil) != (want.Published == nil) || it.Published != nil && !it.Published.Equal(*want.Published) {
						t.Errorf("%s: published %v, want %v", u, it.Published, want.Published)
					}
				}
			})

			t.Run("into the same data dir again", func(t *testing.T) {
				for round := range 2 {
					var r importJSON
					if code := h.runJSON(&r, "import", file, "--json"); code != 0 || r.Records != 3 || r.Imported != 3 || r.New != 0 || len(r.Errors) != 0 {
						t.Fatalf("import %d exited %d: %+v", round+1, code, r)
					}
					if round == 1 && r.Unchanged != 3 {
						t.Errorf("the second import of the same file changed items: %+v", r)
					}
				}
				got := storedItems(t, h)
				if len(got) != 3 {
					t.Fatalf("%d items after importing the export into its own data dir, want 3", len(got))
				}
				for u, want := range orig {
					if it := got[u]; it.Title != want.Title || !strings.EqualFold(it.DOI, want.DOI) || it.ID != want.ID {
						t.Errorf("%s: %q doi %q id %s, want %q doi %q id %s", u, it.Title, it.DOI, it.ID, want.Title, want.DOI, want.ID)
					}
				}
			})
		})
	}
	if out, code := h.run("check"); code != 0 {
		t.Errorf("check exited %d:\n%s", code, out)
	}
}

// displayNames are authors as an export reads back: honorifics dropped.
func displayNames(authors []string) []string {
	out := []string{}
	for _, a := range authors {
		out = append(out, export.SplitName(a).Display())
	}
	return out
}
