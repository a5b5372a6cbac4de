package index

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// Vocabulary for generated items: sentences read like the real corpus.
var (
	genSubjects = []string{"Social prescribing", "Peer support", "Talking therapies", "Crisis care",
		"Supported housing", "Exercise", "Digital mental health apps", "Community mental health teams",
		"Link workers", "School counselling", "Early intervention in psychosis", "Employment support"}
	genGroups = []string{"older people", "children and young people", "people with severe mental illness",
		"new mothers", "carers", "people in prison", "students", "refugees", "NHS staff", "veterans"}
	genFindings = []string{"reduced symptoms of depression", "cut hospital readmissions",
		"improved wellbeing scores", "had no clear effect on anxiety", "lowered loneliness",
		"increased return to work", "was valued by participants", "saved money for commissioners"}
	genDetails = []string{"The trial followed participants for twelve months.",
		"Most studies were small and at high risk of bias.",
		"Effects were largest where services had stable funding.",
		"Waiting times varied widely between areas.",
		"Staff turnover made the service hard to sustain.",
		"People with lived experience helped design the study.",
		"The evaluation used routine data from general practice."}
	genSources = []string{evidence.SourceMentalElf, evidence.SourceKingsFund, evidence.SourceCentreForMH, evidence.SourceNationalVoices}
	genTypes   = []string{evidence.TypeBlog, evidence.TypeReport, evidence.TypeBriefing, evidence.TypeLongRead, evidence.TypeNews}
)

// generate returns n deterministic, realistic-looking items.
func generate(n int) []evidence.Item {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	items := make([]evidence.Item, n)
	for i := range items {
		subj := genSubjects[i%len(genSubjects)]
		group := genGroups[(i/3)%len(genGroups)]
		finding := genFindings[(i/7)%len(genFindings)]
		pub := base.Add(time.Duration(i%2000) * 24 * time.Hour)
		var body strings.Builder
		for j := range 12 {
			body.WriteString(genDetails[(i+j)%len(genDetails)])
			body.WriteByte(' ')
		}
		it := evidence.Item{
			ID:        fmt.Sprintf("gen-%06d", i),
			Source:    genSources[i%len(genSources)],
			Type:      genTypes[(i/2)%len(genTypes)],
			Title:     fmt.Sprintf("%s for %s: evaluation %d", subj, group, i),
			URL:       fmt.Sprintf("https://example.org/gen/%d", i),
			Published: &pub,
			FirstSeen: pub.Add(time.Hour),
			Authors:   []string{"Author " + genGroups[i%len(genGroups)]},
			Summary:   fmt.Sprintf("%s for %s %s, according to this evaluation.", subj, group, finding),
			Body:      body.String(),
			Topics:    []string{"mental-health"},
		}
		it.ContentHash = evidence.ComputeHash(&it)
		items[i] = it
	}
	return items
}

func BenchmarkIndex(b *testing.B) {
	items := generate(1000)
	for b.Loop() {
		b.StopTimer()
		x, _ := openTemp(b, 0)
		b.StartTimer()
		if err := x.Index(b.Context(), items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(items)), "items/op")
}

func BenchmarkSearch(b *testing.B) {
	x, _ := openTemp(b, 0)
	items := generate(5000)
	if err := x.Index(b.Context(), items); err != nil {
		b.Fatal(err)
	}
	if size, err := x.SizeBytes(); err == nil {
		b.Logf("%d items, %d bytes on disk", len(items), size)
	}
	queries := []Query{
		{Text: "social prescribing older people"},
		{Text: `"peer support" -prison`},
		{Text: "depression", Sources: []string{evidence.SourceMentalElf}},
		{},
	}
	for _, q := range queries {
		name := q.Text
		if name == "" {
			name = "empty"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := x.Search(b.Context(), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchTopics is a taxonomy the size of the default one (24 topics).
func benchTopics() []Topic {
	qs := []string{`"peer support" OR "peer worker"`, `housing OR homelessness`, `"older people" OR "later life"`,
		`crisis OR "home treatment"`, `"social prescribing" OR "link worker"`, `employment OR "return to work"`,
		`child OR children OR "young people"`, `depression OR anxiety`, `"talking therapies" OR IAPT`,
		`refugees OR "asylum seekers"`, `prison OR "criminal justice"`, `students OR university`,
		`carers OR caregiver`, `veterans OR military`, `exercise OR "physical activity"`, `apps OR digital`,
		`loneliness OR isolation`, `psychosis OR schizophrenia`, `"new mothers" OR perinatal`, `"NHS staff" OR workforce`,
		`funding OR commissioners`, `bias OR "systematic review"`, `wellbeing OR "quality of life"`, `readmissions OR hospital`}
	out := make([]Topic, len(qs))
	for i, q := range qs {
		out[i] = Topic{Name: fmt.Sprintf("topic %d", i), Query: q}
	}
	return out
}

// BenchmarkIndexTopics is BenchmarkIndex with a 24-topic taxonomy: the
// cost of tagging.
func BenchmarkIndexTopics(b *testing.B) {
	items := generate(1000)
	for b.Loop() {
		b.StopTimer()
		x, err := Open(b.Context(), Options{Path: filepath.Join(b.TempDir(), "index"), Topics: benchTopics()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := x.Index(b.Context(), items); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = x.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(items)), "items/op")
}

// BenchmarkSearchFacets compares a search with and without the facet
// counts, and a query that gets a suggestion.
func BenchmarkSearchFacets(b *testing.B) {
	x, _ := openTemp(b, 0)
	if err := x.Index(b.Context(), generate(5000)); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    Query
	}{
		{"plain", Query{Text: "social prescribing older people"}},
		{"plain no facets", Query{Text: "social prescribing older people", NoFacets: true}},
		{"all", Query{}},
		{"all no facets", Query{NoFacets: true}},
		{"typo", Query{Text: "prescibing"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := x.Search(b.Context(), tc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
