package index

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evidencetracker/evidence"
)

// fixtureItems reads items (id, title, summary, body) from a JSON file
// under testdata and gives each a URL, source, type and content hash.
func fixtureItems(t *testing.T, name string) []evidence.Item {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct{ ID, Title, Summary, Body string }
	if err := json.Unmarshal(raw, &recs); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	items := make([]evidence.Item, len(recs))
	for i, r := range recs {
		it := evidence.Item{ID: r.ID, Title: r.Title, Summary: r.Summary, Body: r.Body,
			URL: "https://example.org/" + r.ID, Source: evidence.SourceMentalElf, Type: evidence.TypeBlog}
		it.ContentHash = evidence.ComputeHash(&it)
		items[i] = it
	}
	return items
}

// openItems opens a temporary index with opts holding items.
func openItems(t *testing.T, opts Options, items []evidence.Item) *Index {
	t.Helper()
	opts.Path = filepath.Join(t.TempDir(), "index")
	x, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = x.Close() })
	if err := x.Index(t.Context(), items); err != nil {
		t.Fatalf("Index: %v", err)
	}
	return x
}

// TestCBTRanksFirst: an item that says "CBT" and "CBT for psychosis", its
// title "CBTp", comes first for every name of CBT, in UK or US spelling,
// ahead of items that merely hold the words cognitive, behaviour, therapy.
func TestCBTRanksFirst(t *testing.T) {
	x := openItems(t, Options{}, fixtureItems(t, "cbt_ranking.json"))
	for _, q := range []string{
		"cognitive behavioral therapy",
		"cognitive behavioural therapy",
		"cognitive behaviour therapy",
		"CBT",
		"CBTp",
		"CBT-p",
		"CBT for psychosis",
		"cognitive behavioral therapy for psychosis",
	} {
		t.Run(q, func(t *testing.T) {
			r, err := x.Search(t.Context(), Query{Text: q, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			got := hitIDs(r)
			if len(got) == 0 || got[0] != "cbt" {
				t.Errorf("Search(%q) = %v, want cbt first", q, got)
			}
			// CBTp is CBT: an item that only says "CBTp" is found too.
			if !slices.Contains(got, "cbtp-only") {
				t.Errorf("Search(%q) = %v, want cbtp-only among them", q, got)
			}
		})
	}
}

// TestSpellingThenSynonyms: synonym terms and documents may be written in
// either spelling; normalisation runs before synonyms at index and query
// time, so every combination finds the others.
func TestSpellingThenSynonyms(t *testing.T) {
	syn := filepath.Join(t.TempDir(), "synonyms.csv")
	// One group written in US spelling, one in UK spelling.
	if err := os.WriteFile(syn, []byte("ABA, applied behavior analysis\nPBS, positive behaviour support\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mk := func(id, title string) evidence.Item {
		it := evidence.Item{ID: id, Title: title, URL: "https://example.org/" + id}
		it.ContentHash = evidence.ComputeHash(&it)
		return it
	}
	x := openItems(t, Options{SynonymsFile: syn}, []evidence.Item{
		mk("aba-uk", "Applied behaviour analysis for autistic children"),
		mk("pbs-us", "Positive behavior support in care homes"),
		mk("other", "Support for carers"),
	})
	tests := []struct{ q, want string }{
		{"ABA", "aba-uk"},
		{"applied behavior analysis", "aba-uk"},
		{"applied behaviour analysis", "aba-uk"},
		{"PBS", "pbs-us"},
		{"positive behaviour support", "pbs-us"},
		{`"positive behavior support"`, "pbs-us"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			r, err := x.Search(t.Context(), Query{Text: tt.q})
			if err != nil {
				t.Fatal(err)
			}
			if got := hitIDs(r); len(got) == 0 || got[0] != tt.want {
				t.Errorf("Search(%q) = %v, want %s first", tt.q, got, tt.want)
			}
		})
	}
}
