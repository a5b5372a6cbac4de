package index

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/evidencetracker/evidence"
)

// Analysis selects the steps of the English analysis of titles, summaries
// and bodies, so their effect on relevance can be measured one by one.
// DefaultAnalysis is what the project uses.
type Analysis struct {
	// Stemming adds English possessives, stop words and Porter stemming to
	// lower-casing; without it the chain is bleve's "standard" analyzer
	// (lower case and stop words).
	Stemming bool
	// Spelling normalises UK and US spellings (behaviour/behavior,
	// paediatric/pediatric, organise/organize…) from data/spelling.txt.
	Spelling bool
	// Synonyms adds a concept token wherever a term of a synonym group
	// (data/synonyms.csv plus Options.SynonymsFile) appears, so any term
	// finds the others: CBT ↔ cognitive behavioural therapy.
	Synonyms bool
	// Scoring is "bm25" (the default when empty) or "tfidf".
	Scoring string
	// ExactBM25 corrects bleve's BM25 where it departs from the formula
	// (mean field length, idf counted twice, coordination factors): see
	// bm25.go. Only with Scoring "bm25"; query-time only, so it does not
	// change the index.
	ExactBM25 bool
	// Feedback expands plain-word queries with RM3 pseudo-relevance
	// feedback: terms taken from the best documents of a first search
	// (see feedback.go). Only with ExactBM25; query-time only (the terms
	// it reads are stored whatever the options).
	Feedback bool
}

// exactBM25 reports whether a ranks with the corrected BM25 of bm25.go.
func (a Analysis) exactBM25() bool { return a.ExactBM25 && a.Scoring == "bm25" }

// DefaultAnalysis is the analysis the project uses: every step on, BM25
// made exact, pseudo-relevance feedback.
func DefaultAnalysis() Analysis {
	return Analysis{Stemming: true, Spelling: true, Synonyms: true, Scoring: "bm25", ExactBM25: true, Feedback: true}
}

// Analyzer names in the mapping.
const (
	analyzerText  = "evidence_text"  // titles, summaries, bodies
	analyzerName  = "evidence_name"  // authors: lower case, no stemming
	analyzerSpell = "evidence_spell" // the "did you mean" dictionary
	analyzerType  = "evidence_text"  // registry type of the text analyzer
)

// textSpec is the configuration of the text analyzer. It is stored, as
// JSON, in the index mapping, so an index always analyses queries the way it
// analysed its documents.
type textSpec struct {
	Stemming bool       `json:"stemming"`
	Spelling bool       `json:"spelling"`
	Synonyms []synGroup `json:"synonyms,omitempty"`
}

// spec holds everything the index derives from Options.Analysis and the
// synonym files.
type spec struct {
	analysis Analysis
	text     textSpec
}

//go:embed data/spelling.txt
var spellingData []byte

//go:embed data/synonyms.csv
var synonymsData []byte

// DefaultSynonyms returns the embedded synonym groups (data/synonyms.csv).
func DefaultSynonyms() []SynonymGroup {
	gs, err := ParseSynonyms(bytes.NewReader(synonymsData))
	if err != nil {
		panic(fmt.Sprintf("index: embedded synonyms: %v", err)) // tested
	}
	return gs
}

// newSpec builds the analysis spec: the embedded synonyms plus extra.
func newSpec(a Analysis, extra []SynonymGroup) (*spec, error) {
	switch a.Scoring {
	case "":
		a.Scoring = "bm25"
	case "bm25", "tfidf":
	default:
		return nil, fmt.Errorf("index: analysis scoring %q: want bm25 or tfidf: %w", a.Scoring, evidence.ErrInvalid)
	}
	s := &spec{analysis: a, text: textSpec{Stemming: a.Stemming, Spelling: a.Spelling}}
	if a.Synonyms {
		pre := newTextAnalyzer(textSpec{Stemming: a.Stemming, Spelling: a.Spelling})
		gs, err := compileSynonyms(append(DefaultSynonyms(), extra...), pre)
		if err != nil {
			return nil, err
		}
		s.text.Synonyms = gs
	}
	return s, nil
}

// fingerprint identifies the analysis: an index built with another one must
// be rebuilt.
func (s *spec) fingerprint() string {
	h := sha256.New()
	j, _ := json.Marshal(struct {
		Version string
		Scoring string
		Text    textSpec
	}{MappingVersion, s.analysis.Scoring, s.text})
	h.Write(j)
	if s.text.Spelling {
		h.Write(spellingData)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func init() {
	// The text analyzer is registered once, as a type: its configuration
	// (the synonym groups among it) travels in each index's mapping.
	if err := registry.RegisterAnalyzer(analyzerType, textAnalyzerConstructor); err != nil {
		panic(err)
	}
}

func textAnalyzerConstructor(config map[string]any, _ *registry.Cache) (analysis.Analyzer, error) {
	raw, _ := config["spec"].(string)
	var ts textSpec
	if err := json.Unmarshal([]byte(raw), &ts); err != nil {
		return nil, fmt.Errorf("index: %s analyzer spec: %w", analyzerText, err)
	}
	return newTextAnalyzer(ts), nil
}

// newTextAnalyzer builds the text chain: acronyms with & kept whole (A&E),
// Unicode words, possessives, lower case, UK→US spelling, stop words, Porter
// stemming, then synonym concept tokens.
func newTextAnalyzer(ts textSpec) analysis.Analyzer {
	var filters []analysis.TokenFilter
	if ts.Stemming {
		filters = append(filters, en.NewPossessiveFilter())
	}
	filters = append(filters, lowercase.NewLowerCaseFilter(), ampersandFilter{})
	if ts.Spelling {
		filters = append(filters, spellingFilter{table: mustSpelling()})
	}
	filters = append(filters, stop.NewStopTokensFilter(englishStopWords()))
	if ts.Stemming {
		filters = append(filters, porter.NewPorterStemmer())
	}
	if len(ts.Synonyms) > 0 {
		filters = append(filters, newSynonymFilter(ts.Synonyms))
	}
	return &analysis.DefaultAnalyzer{
		CharFilters:  []analysis.CharFilter{ampersandCharFilter{}},
		Tokenizer:    unicode.NewUnicodeTokenizer(),
		TokenFilters: filters,
	}
}

func englishStopWords() analysis.TokenMap {
	tm := analysis.NewTokenMap()
	if err := tm.LoadBytes(en.EnglishStopWords); err != nil {
		panic(err) // bleve's own constant list
	}
	return tm
}

// Acronyms of two letters joined by & (A&E, R&D) would be split into two
// stop-word letters. The char filter joins them with underscores, keeping
// the byte length so highlights stay in place ("A & E" → "A___E"), and
// ampersandFilter folds the underscores to one ("a_e").
var ampersandRE = regexp.MustCompile(`\b[A-Za-z] ?& ?[A-Za-z]\b`)

type ampersandCharFilter struct{}

func (ampersandCharFilter) Filter(in []byte) []byte {
	if bytes.IndexByte(in, '&') < 0 {
		return in
	}
	return ampersandRE.ReplaceAllFunc(in, func(m []byte) []byte {
		out := bytes.Repeat([]byte{'_'}, len(m))
		out[0], out[len(m)-1] = m[0], m[len(m)-1]
		return out
	})
}

type ampersandFilter struct{}

func (ampersandFilter) Filter(ts analysis.TokenStream) analysis.TokenStream {
	for _, t := range ts {
		if len(t.Term) > 3 && t.Term[1] == '_' && t.Term[len(t.Term)-2] == '_' &&
			len(bytes.Trim(t.Term[1:len(t.Term)-1], "_")) == 0 {
			t.Term = []byte{t.Term[0], '_', t.Term[len(t.Term)-1]}
		}
		if len(t.Term) == 3 && t.Term[1] == '_' {
			t.KeyWord = true // not for the stemmer
		}
	}
	return ts
}

// analyse runs a over text and returns its tokens.
func analyse(a analysis.Analyzer, text string) analysis.TokenStream {
	if text == "" {
		return nil
	}
	return a.Analyze([]byte(text))
}
