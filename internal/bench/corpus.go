// Package bench measures search speed against the alternative a developer
// would pick instead: it builds a realistic, deterministic corpus, indexes it
// with the index package (bleve, the project's mapping) and with SQLite FTS5
// (eval/fts5: porter unicode61, bm25), runs the same queries on both and
// reports indexing rate, index size, peak memory and query latency side by
// side. `evidence bench search` prints its table; timing targets belong here
// and in Go benchmarks, never in unit tests.
package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/feed"
	"github.com/evidencetracker/evidence/internal/eval"
)

// Corpus generation constants.
const (
	// MinWords and MaxWords bound an item's body length (about 600 words
	// on average, like the publishers' posts and reports).
	MinWords = 450
	MaxWords = 750
	// feedShare is the chance that an item is built around a feed post
	// (else a MED abstract), and that a filler sentence comes from the
	// feed.
	feedShare = 0.4
	// maxTitleWords caps titles taken from MED abstracts.
	maxTitleWords = 20
	// summaryChars caps generated summaries.
	summaryChars = 400
)

var (
	corpusStart = time.Date(2012, 1, 1, 7, 0, 0, 0, time.UTC)
	corpusDays  = int(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Sub(corpusStart) / (24 * time.Hour))
)

// titleSuffixes recombine titles the way publishers vary them.
var titleSuffixes = []string{
	": a systematic review", ": a cluster randomised trial", " – what does the evidence say?",
	": findings from a national evaluation", ": a realist review", ": a cohort study",
	": ten-year follow-up", ": a qualitative study", " in England", " – a briefing for commissioners",
}

// Topics drawn for items (the default taxonomy's names).
var corpusTopics = []string{
	"recovery", "self-management", "patient activation", "peer support", "social inclusion",
	"employment", "housing", "children and young people", "suicide prevention", "inequalities",
	"workforce", "integrated care", "personal stories", "crisis care", "social prescribing", "dementia",
}

var (
	firstNames = []string{"Helen", "Tom", "Priya", "Gareth", "Siobhan", "Marcus", "Aisha", "Oliver",
		"Ruth", "Eleanor", "Fiona", "Samuel", "Nadia", "Chloe", "James", "Grace", "Kwame", "Maya",
		"Rhys", "Ben", "Laura", "Imran", "Sophie", "Daniel"}
	lastNames = []string{"Wainwright", "Okafor", "Raman", "Lloyd", "Keane", "Bell", "Rahman", "Pennington",
		"Adeyemi", "Fraser", "MacLeod", "Hart", "Hussain", "Barrett", "Whitfield", "Nwosu", "Mensah",
		"Thornton", "Morgan", "Stafford", "Jennings", "Chaudhry", "Delaney", "Kowalski"}
)

// weighted is a value with a relative weight.
type weighted struct {
	v string
	w float64
}

var (
	corpusSources = []weighted{
		{evidence.SourceMentalElf, 0.4}, {evidence.SourceKingsFund, 0.25},
		{evidence.SourceCentreForMH, 0.2}, {evidence.SourceNationalVoices, 0.15},
	}
	corpusTypes = map[string][]weighted{
		evidence.SourceMentalElf: {{evidence.TypeBlog, 0.9}, {evidence.TypePodcast, 0.1}},
		evidence.SourceKingsFund: {{evidence.TypeLongRead, 0.3}, {evidence.TypeReport, 0.2},
			{evidence.TypeBriefing, 0.1}, {evidence.TypeNews, 0.2}, {evidence.TypeBlog, 0.2}},
		evidence.SourceCentreForMH: {{evidence.TypeReport, 0.35}, {evidence.TypeBriefing, 0.25},
			{evidence.TypeBlog, 0.25}, {evidence.TypeNews, 0.15}},
		evidence.SourceNationalVoices: {{evidence.TypeNews, 0.4}, {evidence.TypePublication, 0.3}, {evidence.TypeBlog, 0.3}},
	}
)

func pick(r *rand.Rand, ws []weighted) string {
	total := 0.0
	for _, w := range ws {
		total += w.w
	}
	x := r.Float64() * total
	for _, w := range ws {
		if x < w.w {
			return w.v
		}
		x -= w.w
	}
	return ws[len(ws)-1].v
}

// seedDoc is a source text an item is built around.
type seedDoc struct {
	title, summary string
	sentences      []string
	authors        []string
}

// Corpus generates realistic items deterministically: item i depends only on
// the source texts, the seed and i, so any range can be generated on its own
// (the whole corpus never needs to be in memory).
type Corpus struct {
	seed                uint64
	feedSeeds, medSeeds []seedDoc
	feedPool, medPool   []string
	authors             []string
}

// NewCorpus builds a generator from the items of a feed (titles, summaries,
// bodies, authors) and the documents of a test collection such as MED. At
// least one of them must have text; med may be empty.
func NewCorpus(feedItems []evidence.Item, med []eval.Doc, seed uint64) (*Corpus, error) {
	c := &Corpus{seed: seed}
	authorSet := make(map[string]bool)
	for _, it := range feedItems {
		sents := splitSentences(it.Body)
		if it.Title == "" || len(sents) == 0 {
			continue
		}
		c.feedSeeds = append(c.feedSeeds, seedDoc{title: it.Title, summary: it.Summary, sentences: sents, authors: it.Authors})
		c.feedPool = append(c.feedPool, sents...)
		for _, a := range it.Authors {
			if !authorSet[a] {
				authorSet[a] = true
				c.authors = append(c.authors, a)
			}
		}
	}
	for _, d := range med {
		sents := medSentences(d.Body)
		if len(sents) < 2 {
			continue
		}
		title := strings.TrimSuffix(sents[0], ".")
		if w := strings.Fields(title); len(w) > maxTitleWords {
			title = strings.Join(w[:maxTitleWords], " ")
		}
		s := seedDoc{title: title, sentences: sents[1:]}
		s.summary = truncate(strings.Join(sents[1:min(3, len(sents))], " "), summaryChars)
		c.medSeeds = append(c.medSeeds, s)
		c.medPool = append(c.medPool, sents[1:]...)
	}
	if len(c.feedSeeds)+len(c.medSeeds) == 0 {
		return nil, fmt.Errorf("bench: corpus: no usable text in %d feed items and %d documents: %w",
			len(feedItems), len(med), evidence.ErrInvalid)
	}
	for _, f := range firstNames {
		for _, l := range lastNames {
			if n := f + " " + l; !authorSet[n] {
				c.authors = append(c.authors, n)
			}
		}
	}
	return c, nil
}

// Item returns item i (0-based) of the corpus.
func (c *Corpus) Item(i int) evidence.Item {
	r := rand.New(rand.NewPCG(c.seed, uint64(i)))
	fromFeed := len(c.medSeeds) == 0 || (len(c.feedSeeds) > 0 && r.Float64() < feedShare)
	var s seedDoc
	if fromFeed {
		s = c.feedSeeds[r.IntN(len(c.feedSeeds))]
	} else {
		s = c.medSeeds[r.IntN(len(c.medSeeds))]
	}

	title := s.title
	if r.IntN(2) == 0 {
		title = strings.TrimRight(title, "?.!") + titleSuffixes[r.IntN(len(titleSuffixes))]
	}

	target := MinWords + r.IntN(MaxWords-MinWords+1)
	var body strings.Builder
	words := 0
	add := func(sent string) {
		if body.Len() > 0 {
			body.WriteByte(' ')
		}
		body.WriteString(sent)
		words += len(strings.Fields(sent))
	}
	for _, sent := range s.sentences {
		if words >= target {
			break
		}
		add(sent)
	}
	for words < target {
		pool := c.medPool
		if len(pool) == 0 || (len(c.feedPool) > 0 && r.Float64() < feedShare) {
			pool = c.feedPool
		}
		add(pool[r.IntN(len(pool))])
	}

	var authors []string
	if fromFeed && len(s.authors) > 0 && r.IntN(2) == 0 {
		authors = append(authors, s.authors...)
	} else {
		for range 1 + r.IntN(3) {
			authors = append(authors, c.authors[r.IntN(len(c.authors))])
		}
	}

	var topics []string
	for range r.IntN(4) {
		t := corpusTopics[r.IntN(len(corpusTopics))]
		if !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}

	source := pick(r, corpusSources)
	pub := corpusStart.Add(time.Duration(r.IntN(corpusDays)) * 24 * time.Hour)
	it := evidence.Item{
		ID:        fmt.Sprintf("bench-%07d", i),
		Source:    source,
		Type:      pick(r, corpusTypes[source]),
		Title:     title,
		URL:       fmt.Sprintf("https://bench.invalid/items/%d", i),
		Published: &pub,
		FirstSeen: pub.Add(2 * time.Hour),
		Authors:   authors,
		Summary:   s.summary,
		Topics:    topics,
		Body:      body.String(),
	}
	it.ContentHash = evidence.ComputeHash(&it)
	return it
}

// Items returns items [start, end).
func (c *Corpus) Items(start, end int) []evidence.Item {
	out := make([]evidence.Item, 0, max(end-start, 0))
	for i := start; i < end; i++ {
		out = append(out, c.Item(i))
	}
	return out
}

// splitSentences splits prose after ".", "?" or "!" followed by a space and
// a capital letter or digit.
func splitSentences(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if r != '.' && r != '?' && r != '!' {
			continue
		}
		j := i + 1
		if j >= len(s) || s[j] != ' ' {
			continue
		}
		next, _ := utf8.DecodeRuneInString(s[j+1:])
		if !unicode.IsUpper(next) && !unicode.IsDigit(next) {
			continue
		}
		if sent := strings.TrimSpace(s[start:j]); sent != "" {
			out = append(out, sent)
		}
		start = j + 1
	}
	if sent := strings.TrimSpace(s[start:]); sent != "" {
		out = append(out, sent)
	}
	return out
}

// medSentences splits a MED abstract (lower case, sentences ending " .")
// into tidied sentences: capitalised, ending in a full stop.
func medSentences(body string) []string {
	var out []string
	for _, part := range strings.Split(body, " . ") {
		part = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), " ."))
		if part == "" {
			continue
		}
		r, n := utf8.DecodeRuneInString(part)
		out = append(out, string(unicode.ToUpper(r))+part[n:]+".")
	}
	return out
}

// truncate shortens s to at most n bytes at a word boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut <= 0 {
		cut = n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return strings.TrimRight(s[:cut], " ,;:") + "…"
}

// DefaultFeedPath is the Mental Elf snapshot feed, relative to the
// repository root.
const DefaultFeedPath = "testdata/snapshots/www.nationalelfservice.net/mental-health/feed/index.xml"

// LoadSources reads the feed at feedPath and, if medPath is not empty and
// exists, the MED documents (docs.jsonl). A missing MED file is reported
// with ok false, not as an error, so the corpus can be built from the feed
// alone.
func LoadSources(feedPath, medPath string) (items []evidence.Item, med []eval.Doc, medOK bool, err error) {
	f, err := os.Open(feedPath)
	if err != nil {
		return nil, nil, false, fmt.Errorf("bench: feed: %w", err)
	}
	defer f.Close()
	base, _ := url.Parse("https://www.nationalelfservice.net/mental-health/feed/")
	items, err = feed.Parse(f, base)
	if err != nil {
		return nil, nil, false, fmt.Errorf("bench: feed %s: %w", feedPath, err)
	}
	if medPath == "" {
		return items, nil, false, nil
	}
	m, err := os.Open(medPath)
	if errors.Is(err, os.ErrNotExist) {
		return items, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("bench: MED: %w", err)
	}
	defer m.Close()
	med, err = eval.ParseDocs(m)
	if err != nil {
		return nil, nil, false, fmt.Errorf("bench: MED %s: %w", medPath, err)
	}
	return items, med, true, nil
}
