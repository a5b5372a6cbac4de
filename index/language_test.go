package index

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index/querylang"
)

// TestQueryForms runs one query of each form of the language over the
// snapshot corpus and checks the top results, and what must not match.
func TestQueryForms(t *testing.T) {
	x := openSnapshot(t, Options{})
	tests := []struct {
		name  string
		text  string
		top   []string // the first hits, in any order
		none  []string // not among the hits at all
		total int      // exact total when > 0
	}{
		// Analysis: UK/US spelling and synonyms.
		{"US spelling finds UK", "behavior change", []string{snapUSBehavior, snapBehaviour}, nil, 0},
		{"UK spelling finds US", "behaviour change", []string{snapUSBehavior, snapBehaviour}, nil, 0},
		{"paediatric finds pediatric", "paediatric", []string{extraPediatricED, snapPaediatric}, nil, 2},
		{"pediatric finds paediatric", "pediatric", []string{extraPediatricED, snapPaediatric}, nil, 2},
		{"acronym finds expansion", "CBT for psychosis", []string{snapCBTp}, nil, 0},
		{"IAPT finds NHS Talking Therapies", "IAPT", []string{extraIAPT, snapTalking}, nil, 0},
		{"expansion finds acronym", "improving access to psychological therapies", []string{extraIAPT, snapTalking}, nil, 0},
		{"SMI finds severe mental illness", "SMI", []string{snapPhysical, snapBehaviour}, nil, 0},
		{"A&E finds emergency department", "A&E", []string{extraPediatricED}, nil, 0},
		{"GP finds general practitioner", "GP", []string{snapIPS, extraGP}, nil, 0},
		{"LTC finds long-term conditions", "LTC", []string{snapActivation, snapTalking, extraGP}, nil, 0},
		{"ICS finds integrated care systems", "ICS", []string{snapICS}, nil, 1},
		{"PAM finds patient activation", "PAM", []string{snapActivation}, nil, 0},
		// Plain words: ranked, all preferred.
		{"plain words", "social prescribing older people", []string{snapSocialOlder}, nil, 0},
		{"stemmed", "prescribe", []string{snapSocialOlder, snapLinkWorkers}, nil, 0},
		// Phrases.
		{"phrase", `"link workers"`, []string{snapLinkWorkers}, []string{snapCBTp}, 0},
		{"phrase with synonym", `"severe mental illness"`, []string{snapPhysical, snapBehaviour}, nil, 0},
		{"phrase finds synonym phrase", `"CBT for psychosis"`, []string{snapCBTp}, []string{snapDigitalCBT}, 0},
		// Exclusion.
		{"exclude word", "CBT -insomnia", []string{snapCBTp}, []string{snapDigitalCBT}, 0},
		{"exclude phrase", `"social prescribing" -"older people"`, []string{snapLinkWorkers}, []string{snapSocialOlder}, 0},
		// OR.
		{"OR", "paediatric OR CAMHS", []string{extraPediatricED, snapPaediatric, snapCAMHS}, nil, 0},
		{"OR of phrases", `"link workers" OR "arts on prescription"`, []string{snapArts, snapLinkWorkers}, []string{snapCBTp}, 0},
		// Fields.
		{"title", "title:CBT", []string{snapCBTp, snapDigitalCBT}, nil, 2},
		{"title phrase", `title:"social prescribing"`, []string{snapSocialOlder, snapLinkWorkers}, nil, 2},
		{"author", "author:okafor", []string{snapLinkWorkers, snapCBTp}, nil, 2},
		{"author phrase", `author:"priya raman"`, []string{snapPerinatal, snapCBTp}, nil, 2},
		{"source", "source:kings-fund", []string{extraPediatricED}, nil, 1},
		{"source OR source", "source:kings-fund OR source:national-voices", []string{extraPediatricED, extraGP}, nil, 2},
		{"type", "type:briefing", []string{extraIAPT}, nil, 1},
		{"not source", "IAPT -source:centre-for-mental-health", []string{snapTalking}, []string{extraIAPT}, 0},
		{"words and source", "general practitioner source:national-voices", []string{extraGP}, nil, 1},
		// Dates.
		{"published from", "published:>=2026-11-19", []string{snapSocialOlder, snapCBTp}, nil, 2},
		{"published before", "published:<2026", []string{extraGP, extraPediatricED, extraIAPT}, nil, 3},
		{"published month", "published:2026-11 title:CBT", []string{snapCBTp}, nil, 1},
		{"published range", "published:2023..2024", []string{extraGP, extraIAPT}, nil, 2},
		{"year", "year:2025", []string{extraPediatricED}, nil, 1},
		{"words and dates", "IAPT published:<2024", []string{extraIAPT}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := x.Search(t.Context(), Query{Text: tt.text, Limit: 50})
			if err != nil {
				t.Fatalf("Search(%q): %v", tt.text, err)
			}
			got := hitIDs(r)
			if len(got) < len(tt.top) {
				t.Fatalf("Search(%q) = %v, want %v first", tt.text, got, tt.top)
			}
			if first := sorted(got[:len(tt.top)]...); !slices.Equal(first, sorted(tt.top...)) {
				t.Errorf("Search(%q) first hits = %v, want %v", tt.text, got[:len(tt.top)], tt.top)
			}
			for _, id := range tt.none {
				if slices.Contains(got, id) {
					t.Errorf("Search(%q) has %s", tt.text, id)
				}
			}
			if tt.total > 0 && r.Total != uint64(tt.total) {
				t.Errorf("Search(%q) total = %d, want %d (%v)", tt.text, r.Total, tt.total, got)
			}
		})
	}
}

// TestAnalysisOptions checks each analysis step can be turned off, so its
// effect can be measured.
func TestAnalysisOptions(t *testing.T) {
	tests := []struct {
		name string
		a    Analysis
		text string
		want bool // whether the item is found
		id   string
	}{
		{"spelling on", DefaultAnalysis(), "pediatric", true, snapPaediatric},
		{"spelling off", Analysis{Stemming: true, Synonyms: true}, "pediatric", false, snapPaediatric},
		{"synonyms on", DefaultAnalysis(), "IAPT", true, snapTalking},
		{"synonyms off", Analysis{Stemming: true, Spelling: true}, "ICS", false, snapICS},
		{"stemming off", Analysis{Spelling: true, Synonyms: true}, "prescribe", false, snapLinkWorkers},
		{"tf-idf", Analysis{Stemming: true, Spelling: true, Synonyms: true, Scoring: "tfidf"}, "IAPT", true, snapTalking},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.a
			x := openSnapshot(t, Options{Analysis: &a})
			r, err := x.Search(t.Context(), Query{Text: tt.text, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(hitIDs(r), tt.id); got != tt.want {
				t.Errorf("Search(%q) has %s = %v, want %v", tt.text, tt.id, got, tt.want)
			}
		})
	}
	if _, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "x"), Analysis: &Analysis{Scoring: "magic"}}); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("unknown scoring: err = %v", err)
	}
}

// TestAnalysisChangeRebuilds checks an index built with other analysis is
// reported as ErrCorrupt, so the caller rebuilds it.
func TestAnalysisChangeRebuilds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index")
	syn := filepath.Join(dir, "synonyms.csv")
	if err := os.WriteFile(syn, []byte("# ours\nMECC, making every contact count\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	x, err := Open(t.Context(), Options{Path: path, SynonymsFile: syn})
	if err != nil {
		t.Fatal(err)
	}
	it := evidence.Item{ID: "mecc", Title: "Making every contact count in mental health", URL: "https://example.org/mecc"}
	if err := x.Index(t.Context(), []evidence.Item{it}); err != nil {
		t.Fatal(err)
	}
	r, err := x.Search(t.Context(), Query{Text: "MECC"})
	if err != nil || r.Total != 1 {
		t.Errorf("file synonym: total %v, err %v", r, err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	// Same options: opens.
	x, err = Open(t.Context(), Options{Path: path, SynonymsFile: syn})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	_ = x.Close()
	// The librarian edits the file: rebuild.
	if err := os.WriteFile(syn, []byte("MECC, making every contact count\nHCA, healthcare support worker\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), Options{Path: path, SynonymsFile: syn}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("after editing synonyms: err = %v, want ErrCorrupt", err)
	}
	// Another analysis: rebuild.
	if _, err := Open(t.Context(), Options{Path: path, Analysis: &Analysis{Stemming: true}}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("other analysis: err = %v, want ErrCorrupt", err)
	}
	// A bad file is an error naming the file and line.
	if err := os.WriteFile(syn, []byte("a, b\nlonely\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), Options{Path: filepath.Join(dir, "other"), SynonymsFile: syn})
	if !errors.Is(err, evidence.ErrInvalid) || !strings.Contains(err.Error(), syn) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad synonyms file: err = %v", err)
	}
}

func TestSearchMalformed(t *testing.T) {
	x := openCorpus(t)
	tests := []struct{ text, want string }{
		{`social "older people`, `column 8: unclosed quote`},
		{"housing OR", "column 9: OR needs a term after it"},
		{"OR housing", "column 1: OR needs a term before it"},
		{"published:2024-13", `bad date "2024-13"`},
		{"colour:red", `unknown field "colour"`},
		{strings.Repeat("x", 501), "the limit is 500"},
		{strings.Repeat("a OR ", 8) + "b", "too many OR alternatives"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := x.Search(t.Context(), Query{Text: tt.text})
			if !errors.Is(err, evidence.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Search(%.30q): err = %v, want ErrInvalid saying %q", tt.text, err, tt.want)
			}
		})
	}
}

func TestFacets(t *testing.T) {
	x := openSnapshot(t, Options{})
	r, err := x.Search(t.Context(), Query{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]FacetCount{
		FacetSource: {{Value: "mental-elf", Count: 34}, {Value: "centre-for-mental-health", Count: 1}, {Value: "kings-fund", Count: 1}, {Value: "national-voices", Count: 1}},
		FacetType:   {{Value: "blog", Count: 34}, {Value: "report", Count: 2}, {Value: "briefing", Count: 1}},
		FacetYear:   {{Value: "2026", Count: 33}, {Value: "2025", Count: 1}, {Value: "2024", Count: 1}, {Value: "2023", Count: 1}}, // one item is undated
		FacetTopic:  {},
	}
	for name, w := range want {
		if got := r.Facets[name]; !slices.Equal(got, w) {
			t.Errorf("facet %s = %v, want %v", name, got, w)
		}
	}
	// Facets count every matching item, not just the page.
	r, err = x.Search(t.Context(), Query{Text: "IAPT", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Facets[FacetSource]; len(got) < 2 || sum(got) != int(r.Total) {
		t.Errorf("IAPT source facet = %v, total %d", got, r.Total)
	}
	r, err = x.Search(t.Context(), Query{Text: "x", NoFacets: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Facets[FacetSource]) != 0 {
		t.Errorf("NoFacets: %v", r.Facets)
	}
}

func sum(fc []FacetCount) int {
	n := 0
	for _, f := range fc {
		n += f.Count
	}
	return n
}

func TestSuggestion(t *testing.T) {
	x := openSnapshot(t, Options{})
	tests := []struct{ text, want string }{
		{"prescibing", "prescribing"},
		{"Prescibing", "Prescribing"},
		{"socail prescribing", "social prescribing"},
		{`"peer suport"`, `"peer support"`},
		{"loneliness", ""},              // found: nothing to suggest
		{"xyzzy", ""},                   // nothing close
		{"prescribing -loneliness", ""}, // fine as it is
		{"psychossis", "psychosis"},
		{"dementai", "dementia"}, // two edits
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, err := x.Search(t.Context(), Query{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if r.Suggestion != tt.want {
				t.Errorf("Search(%q).Suggestion = %q, want %q", tt.text, r.Suggestion, tt.want)
			}
		})
	}
}

var testTopics = []Topic{
	{Name: "psychosis", Query: "psychosis OR schizophrenia"},
	{Name: "talking therapies", Query: "IAPT"},
	{Name: "behaviour change", Query: `"behaviour change"`},
	{Name: "children", Query: "source:kings-fund paediatric"},
	{Name: "cbt not insomnia", Query: "CBT -insomnia"},
}

func TestTopicTagging(t *testing.T) {
	x := openSnapshot(t, Options{Topics: testTopics})
	tests := []struct {
		topic string
		want  []string // exactly these are tagged
	}{
		// The digital CBT item's body mentions NHS Talking Therapies once
		// in passing: too weak to tag (see keepTag).
		{"talking therapies", []string{snapTalking, extraIAPT}},
		{"behaviour change", []string{snapBehaviour, snapUSBehavior}},
		{"children", []string{extraPediatricED}},
		{"cbt not insomnia", []string{snapCBTp}},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			r, err := x.Search(t.Context(), Query{Text: `topic:"` + tt.topic + `"`, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(hitIDs(r)...); !slices.Equal(got, sorted(tt.want...)) {
				t.Errorf("topic %q tags %v, want %v", tt.topic, got, tt.want)
			}
			for _, h := range r.Hits {
				if !slices.Contains(h.Topics, tt.topic) {
					t.Errorf("hit %s topics = %v, want %q among them", h.ID, h.Topics, tt.topic)
				}
			}
		})
	}
	// The Topics filter and the topic facet agree.
	r, err := x.Search(t.Context(), Query{Topics: []string{"Psychosis"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	// (Two items: the behaviour change review names psychosis and
	// schizophrenia once each in its body only, too weak to tag.)
	if r.Total < 2 || !slices.Contains(hitIDs(r), snapCBTp) {
		t.Errorf("psychosis: %v", hitIDs(r))
	}
	counts, err := x.TopicCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if counts["psychosis"] != int(r.Total) || counts["talking therapies"] != 2 {
		t.Errorf("TopicCounts = %v", counts)
	}
}

func TestTopicRetagging(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	items := snapshotCorpus(t)
	items[0].Topics = []string{"Own Topic"} // an item's own topics are kept
	open := func(topics []Topic) *Index {
		t.Helper()
		x, err := Open(t.Context(), Options{Path: path, Topics: topics})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	tagged := func(x *Index, topic string) []string {
		t.Helper()
		r, err := x.Search(t.Context(), Query{Topics: []string{topic}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return sorted(hitIDs(r)...)
	}
	x := open(testTopics[:2])
	if err := x.Index(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	if x.TopicsStale() {
		t.Error("new index is stale")
	}
	if got := tagged(x, "own topic"); !slices.Equal(got, []string{items[0].ID}) {
		t.Errorf("own topic: %v", got)
	}
	_ = x.Close()

	// Same taxonomy: not stale.
	x = open(testTopics[:2])
	if x.TopicsStale() {
		t.Error("same taxonomy reported stale")
	}
	_ = x.Close()

	// The taxonomy changes: the index says so, and keeps its old tags
	// until rebuilt.
	changed := []Topic{{Name: "talking therapies", Query: `IAPT -source:centre-for-mental-health`}, {Name: "dementia", Query: "dementia"}}
	x = open(changed)
	if !x.TopicsStale() {
		t.Error("changed taxonomy not reported stale")
	}
	if got := tagged(x, "dementia"); len(got) != 0 {
		t.Errorf("dementia tagged before rebuild: %v", got)
	}
	_ = x.Close()

	// Rebuild (what `evidence reindex` does): every item re-tagged.
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	x = open(changed)
	defer x.Close()
	if err := x.Index(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	if x.TopicsStale() {
		t.Error("rebuilt index is stale")
	}
	// (The digital CBT item mentions NHS Talking Therapies once in its
	// body: too weak to tag.)
	if got := tagged(x, "talking therapies"); !slices.Equal(got, sorted(snapTalking)) {
		t.Errorf("talking therapies after re-tagging: %v", got)
	}
	if got := tagged(x, "psychosis"); len(got) != 0 {
		t.Errorf("psychosis still tagged: %v", got)
	}
	if got := tagged(x, "dementia"); len(got) == 0 {
		t.Error("dementia not tagged")
	}
}

func TestTaggerErrors(t *testing.T) {
	tests := []struct {
		topics []Topic
		want   string
	}{
		{[]Topic{{Name: "a", Query: "x"}, {Name: "b", Query: `"unclosed`}}, "topics[1].query: query: column 1: unclosed quote"},
		{[]Topic{{Name: "", Query: "x"}}, "topics[0].name: must not be empty"},
		{[]Topic{{Name: "a", Query: "x"}, {Name: "A", Query: "y"}}, `topics[1].name: "A" repeats topics[0]`},
		{[]Topic{{Name: "a", Query: "topic:b"}}, "topics[0].query: query: column 1: topic: cannot be used"},
		{[]Topic{{Name: "a", Query: "-x"}}, "topics[0].query: query: needs a word"},
	}
	for _, tt := range tests {
		_, err := NewTagger(tt.topics, Options{})
		if !errors.Is(err, evidence.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewTagger(%v): err = %v, want %q", tt.topics, err, tt.want)
		}
	}
}

func TestTaggerTags(t *testing.T) {
	tg, err := NewTagger([]Topic{
		{Name: "peer support", Query: `"peer support" OR "peer worker"`},
		{Name: "older people", Query: `"older people" OR "later life"`},
		{Name: "smi physical", Query: `SMI "physical health"`},
		{Name: "recent", Query: "published:>=2026-11-01"},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]evidence.Item{}
	for _, it := range snapshotCorpus(t) {
		byID[it.ID] = it
	}
	tests := []struct {
		id   string
		want []string
	}{
		// "peer support workers" in the title; the body says later life? no.
		{"peer-support-workers-community-mental-health-teams-trial", []string{"peer support", "recent"}},
		{snapSocialOlder, []string{"older people", "recent"}},
		// "severe mental illness" and "physical health checks": both required.
		{"physical-health-checks-severe-mental-illness", []string{"smi physical"}},
		{extraIAPT, nil},
	}
	for _, tt := range tests {
		it, ok := byID[tt.id]
		if !ok {
			t.Fatalf("no item %s", tt.id)
		}
		if got := tg.Tags(&it); !slices.Equal(got, tt.want) {
			t.Errorf("Tags(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestPlanStopWords(t *testing.T) {
	x := openCorpus(t)
	q, err := querylang.Parse("CBT for the psychosis")
	if err != nil {
		t.Fatal(err)
	}
	p := x.planner.plan(q)
	if len(p.soft) != 2 || p.vanished != true {
		t.Errorf("plan of %q: %d soft conditions (want 2: stop words vanish), vanished %v", q, len(p.soft), p.vanished)
	}
}

func TestSynonymSnippet(t *testing.T) {
	x := openSnapshot(t, Options{})
	r, err := x.Search(t.Context(), Query{Text: "IAPT", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Hits {
		if h.ID == snapTalking {
			if !strings.Contains(h.Snippet, "<mark>NHS Talking Therapies</mark>") || !strings.Contains(h.Snippet, "<mark>IAPT</mark>") {
				t.Errorf("snippet %q does not mark the synonym and the acronym", h.Snippet)
			}
			return
		}
	}
	t.Errorf("%s not found", snapTalking)
}
