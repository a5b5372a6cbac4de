package digest

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// memStore is the digest's Store over a slice of items.
type memStore struct{ items []evidence.Item }

func (m *memStore) ItemsFirstSeen(_ context.Context, from, to time.Time) ([]evidence.Item, error) {
	out := []evidence.Item{}
	for _, it := range m.items {
		if !it.FirstSeen.Before(from) && it.FirstSeen.Before(to) {
			out = append(out, it)
		}
	}
	return out, nil
}

func (m *memStore) ItemsByIDs(_ context.Context, ids []string) ([]evidence.Item, error) {
	var out []evidence.Item
	for _, id := range ids {
		for _, it := range m.items {
			if it.ID == id {
				out = append(out, it)
			}
		}
	}
	return out, nil
}

// loadFixture reads testdata/items.jsonl: the items the snapshots
// (testdata/snapshots) ingest into, as `search "" --json` printed them,
// with first_seen dates and provenance assigned (see testdata/README.md).
func loadFixture(t *testing.T) *memStore {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "items.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var m memStore
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var it evidence.Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("testdata/items.jsonl line %d: %v", line, err)
		}
		m.items = append(m.items, it)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return &m
}

func london(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no tzdata for Europe/London:", err)
	}
	return loc
}

var sourceNames = map[string]string{
	evidence.SourceMentalElf:      "The Mental Elf",
	evidence.SourceCentreForMH:    "Centre for Mental Health",
	evidence.SourceKingsFund:      "The King's Fund",
	evidence.SourceNationalVoices: "National Voices",
}

func testOptions(t testing.TB) Options {
	t.Helper()
	return Options{
		Title: "Evidence Tracker weekly digest", Location: london(t), MaxAge: DefaultMaxAge,
		BaseURL: "https://evidence.example.org/", SourceNames: sourceNames,
		Now: func() time.Time { panic("the clock is not read when the week is given") },
	}
}

func mustWeek(t testing.TB, s string) Week {
	t.Helper()
	w, err := ParseWeek(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./digest -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run go test ./digest -update and review the diff):\n%s", name, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := splitLines(want), splitLines(got)
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n want " + w + "\n  got " + g
		}
	}
	return ""
}
