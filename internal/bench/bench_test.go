package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/internal/eval"
)

// feedPath is the Mental Elf snapshot feed, from this package's directory.
var feedPath = filepath.Join("..", "..", DefaultFeedPath)

// medPath is the MED collection's documents; tests that need them skip
// without them.
const medPath = "../../../shared/eval/med/docs.jsonl"

func feedCorpus(t testing.TB, seed uint64) *Corpus {
	t.Helper()
	items, _, _, err := LoadSources(feedPath, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCorpus(items, nil, seed)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fullCorpus(t testing.TB, seed uint64) *Corpus {
	t.Helper()
	if _, err := os.Stat(medPath); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("MED collection not found at %s (shared eval data absent); skipping", medPath)
	}
	items, med, ok, err := LoadSources(feedPath, medPath)
	if err != nil || !ok {
		t.Fatalf("LoadSources: ok %v, err %v", ok, err)
	}
	c, err := NewCorpus(items, med, seed)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCorpusDeterministic(t *testing.T) {
	tests := []struct {
		name string
		make func(testing.TB, uint64) *Corpus
	}{
		{"feed only", feedCorpus},
		{"feed and MED", fullCorpus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.make(t, 1), tt.make(t, 1)
			got, again := a.Items(0, 50), b.Items(0, 50)
			if !reflect.DeepEqual(got, again) {
				t.Fatal("two corpora with the same seed differ")
			}
			if one := a.Item(37); !reflect.DeepEqual(one, got[37]) {
				t.Error("Item(37) differs from Items(0, 50)[37]")
			}
			other := tt.make(t, 2).Items(0, 50)
			same := 0
			for i := range got {
				if got[i].Body == other[i].Body {
					same++
				}
			}
			if same > 5 {
				t.Errorf("seeds 1 and 2 give %d identical bodies out of 50", same)
			}
		})
	}
}

// TestCorpusRealistic checks the items look like the publishers' items:
// every field filled, about 600 words of real sentences.
func TestCorpusRealistic(t *testing.T) {
	tests := []struct {
		name string
		make func(testing.TB, uint64) *Corpus
	}{
		{"feed only", feedCorpus},
		{"feed and MED", fullCorpus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.make(t, 7)
			const n = 300
			words := 0
			ids := make(map[string]bool)
			sources := make(map[string]int)
			for _, it := range c.Items(0, n) {
				if ids[it.ID] {
					t.Fatalf("duplicate ID %s", it.ID)
				}
				ids[it.ID] = true
				sources[it.Source]++
				w := len(strings.Fields(it.Body))
				words += w
				if w < MinWords || w > MaxWords+150 {
					t.Errorf("%s: %d words, want %d-%d", it.ID, w, MinWords, MaxWords+150)
				}
				if it.Title == "" || it.Summary == "" || len(it.Authors) == 0 || it.Type == "" || it.Published == nil || it.ContentHash == "" {
					t.Errorf("%s: missing fields: %+v", it.ID, it)
				}
				if it.Published.Before(corpusStart) || it.Published.After(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("%s: published %v out of range", it.ID, it.Published)
				}
				if r := []rune(it.Title)[0]; !unicode.IsUpper(r) && !unicode.IsDigit(r) {
					t.Errorf("%s: title %q does not start with a capital", it.ID, it.Title)
				}
			}
			if avg := float64(words) / n; avg < 550 || avg > 650 {
				t.Errorf("average %0.f words, want about 600", avg)
			}
			for _, s := range []string{evidence.SourceMentalElf, evidence.SourceKingsFund, evidence.SourceCentreForMH, evidence.SourceNationalVoices} {
				if sources[s] == 0 {
					t.Errorf("no items from %s", s)
				}
			}
		})
	}
}

func TestNewCorpusNoText(t *testing.T) {
	_, err := NewCorpus([]evidence.Item{{Title: "t"}}, []eval.Doc{{ID: "1", Body: "one sentence only ."}}, 1)
	if !errors.Is(err, evidence.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"One. Two? Three! 4 is a number.", []string{"One.", "Two?", "Three!", "4 is a number."}},
		{"e.g. this stays. And i.e. so does this", []string{"e.g. this stays.", "And i.e. so does this"}},
		{"Costs £3.5m. Next", []string{"Costs £3.5m.", "Next"}},
		{"No stop at the end", []string{"No stop at the end"}},
	}
	for _, tt := range tests {
		if got := splitSentences(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitSentences(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMEDSentences(t *testing.T) {
	got := medSentences("correlation between maternal and fetal plasma . correlation coefficients , 3 u.s.p. units .  . the end .")
	want := []string{"Correlation between maternal and fetal plasma.", "Correlation coefficients , 3 u.s.p. units.", "The end."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("medSentences = %q, want %q", got, want)
	}
}

func TestPercentile(t *testing.T) {
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100-i) * time.Millisecond // 100 … 1 ms, unsorted
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}}
	for _, tt := range tests {
		if got := percentile(ds, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
}

// TestRun runs the whole benchmark on a small corpus (timings are printed,
// never asserted).
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 300 items twice; skipped with -short")
	}
	c := feedCorpus(t, 1)
	r, err := Run(t.Context(), c, Options{Docs: 300, Dir: t.TempDir(), Samples: 20})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", buf.String())
	wantRows := 3 + 3*len(Kinds) + len(Kinds)
	if len(r.Rows) != wantRows {
		t.Fatalf("%d rows, want %d", len(r.Rows), wantRows)
	}
	for _, row := range r.Rows {
		if row.Bleve <= 0 || row.FTS5 <= 0 {
			t.Errorf("row %q: bleve %v, fts5 %v; want both > 0", row.Metric, row.Bleve, row.FTS5)
		}
	}
	if r.Samples < 20 {
		t.Errorf("samples = %d, want ≥ 20", r.Samples)
	}
	// Each phrase's matches on both engines, in query order, so a gap in
	// the mean can be traced to its phrase.
	if len(r.PhraseMatches) != len(phraseQueries) {
		t.Fatalf("%d phrase match counts, want %d", len(r.PhraseMatches), len(phraseQueries))
	}
	for i, m := range r.PhraseMatches {
		if m.Query != phraseQueries[i] {
			t.Errorf("phrase match %d is for %q, want %q", i, m.Query, phraseQueries[i])
		}
	}
	if !strings.Contains(buf.String(), "phrase matches per query") {
		t.Errorf("table lacks the phrase matches per query:\n%s", buf.String())
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
}
