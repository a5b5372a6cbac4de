package index

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/evidencetracker/evidence"
)

// MappingVersion identifies the field layout built by newMapping. It is
// stored in the index's internal metadata; an index written with another
// version is reported as ErrCorrupt so the caller rebuilds it. Bump it on
// every change to newMapping or to itemDoc.
const MappingVersion = "6"

// Internal-metadata keys: MappingVersion, the analysis fingerprint and the
// taxonomy fingerprint the documents were tagged with.
var (
	internalVersionKey  = []byte("evidence.mapping_version")
	internalAnalysisKey = []byte("evidence.analysis")
	internalTopicsKey   = []byte("evidence.topics")
)

const docType = "item"

// Field names in the index.
const (
	fieldTitle        = "title"
	fieldSummary      = "summary"
	fieldBody         = "body"
	fieldAuthors      = "authors"
	fieldAuthorsExact = "authors_exact" // keyword copy of authors, for exact filters
	fieldSource       = "source"
	fieldType         = "type"
	fieldTopics       = "topics"
	fieldPublished    = "published"
	fieldFirstSeen    = "first_seen"
	fieldYear         = "year"
	fieldMonth        = "month" // "2024-03", for the results timeline
	fieldHash         = "hash"
	fieldSpell        = "spell"    // title and summary, lower-cased words, for suggestions
	fieldFeedback     = "feedback" // analysed terms of title, summary and body lead, stored only
)

// indexedFields are the fields the mapping indexes: BM25 needs statistics
// for each (see bm25Context), and a test checks the list against the
// mapping.
var indexedFields = []string{fieldTitle, fieldSummary, fieldBody, fieldAuthors, fieldAuthorsExact,
	fieldSource, fieldType, fieldTopics, fieldPublished, fieldFirstSeen, fieldYear, fieldMonth, fieldSpell}

// textFields are the fields the default query searches, with their boosts
// and whether they keep term positions (so phrases can match there).
var textFields = []struct {
	name      string
	boost     float64
	positions bool
}{
	{fieldTitle, 3, true},
	{fieldSummary, 2, true},
	{fieldBody, 1, true},
	{fieldAuthors, 1, true},
}

// newMapping builds the deliberate, static mapping for items: no dynamic
// fields, no _all composite field, BM25 scoring (unless sp says otherwise),
// the text analyzer sp describes.
func newMapping(sp *spec) (*mapping.IndexMappingImpl, error) {
	im := mapping.NewIndexMapping()
	specJSON, err := json.Marshal(sp.text)
	if err != nil {
		return nil, fmt.Errorf("index: mapping: %w", err)
	}
	if err := im.AddCustomAnalyzer(analyzerText, map[string]any{"type": analyzerType, "spec": string(specJSON)}); err != nil {
		return nil, fmt.Errorf("index: mapping: text analyzer: %w", err)
	}
	if err := im.AddCustomAnalyzer(analyzerName, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name, en.StopName},
	}); err != nil {
		return nil, fmt.Errorf("index: mapping: name analyzer: %w", err)
	}
	if err := im.AddCustomAnalyzer(analyzerSpell, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name},
	}); err != nil {
		return nil, fmt.Errorf("index: mapping: spell analyzer: %w", err)
	}

	text := func(analyzer string, store, vectors bool) *mapping.FieldMapping {
		fm := mapping.NewTextFieldMapping()
		fm.Analyzer = analyzer
		fm.Store = store
		fm.Index = true
		fm.IncludeTermVectors = vectors
		fm.IncludeInAll = false
		fm.DocValues = false
		return fm
	}
	kw := func() *mapping.FieldMapping {
		fm := mapping.NewKeywordFieldMapping()
		fm.Store = false
		fm.IncludeTermVectors = false
		fm.IncludeInAll = false
		fm.DocValues = true // sorting and facets
		return fm
	}
	stored := func(fm *mapping.FieldMapping) *mapping.FieldMapping {
		fm.Store = true
		return fm
	}
	storedOnly := func() *mapping.FieldMapping { // kept as it is, not indexed
		fm := text(keyword.Name, true, false)
		fm.Index = false
		return fm
	}
	date := func() *mapping.FieldMapping {
		fm := mapping.NewDateTimeFieldMapping()
		fm.Store = false
		fm.IncludeInAll = false
		fm.DocValues = true // sorting
		return fm
	}

	item := mapping.NewDocumentStaticMapping()
	item.Dynamic = false
	// Titles, summaries and bodies keep term vectors: phrases match in all
	// three (bodies' phrases are matched by phraseQuery, see phrase.go);
	// titles and summaries are highlighted and stored too.
	item.AddFieldMappingsAt(fieldTitle, text(analyzerText, true, true))
	item.AddFieldMappingsAt(fieldSummary, text(analyzerText, true, true))
	item.AddFieldMappingsAt(fieldBody, text(analyzerText, false, true))
	item.AddFieldMappingsAt(fieldSpell, text(analyzerSpell, false, false))

	authors := text(analyzerName, false, true)
	authorsExact := kw()
	authorsExact.Name = fieldAuthorsExact
	authorsExact.Analyzer = keyword.Name
	item.AddFieldMappingsAt(fieldAuthors, authors, authorsExact)

	item.AddFieldMappingsAt(fieldSource, kw())
	item.AddFieldMappingsAt(fieldType, kw())
	item.AddFieldMappingsAt(fieldTopics, stored(kw())) // hits show the tags
	item.AddFieldMappingsAt(fieldYear, kw())
	item.AddFieldMappingsAt(fieldMonth, kw())
	item.AddFieldMappingsAt(fieldPublished, date())
	item.AddFieldMappingsAt(fieldFirstSeen, date())

	item.AddFieldMappingsAt(fieldHash, storedOnly())

	// The analysed terms of the title, summary and start of the body,
	// stored but not indexed: pseudo-relevance feedback reads the best
	// hits' terms from it, and scores its own terms in the hits it
	// reorders, without analysing text or walking posting lists at query
	// time (bodies are not stored).
	item.AddFieldMappingsAt(fieldFeedback, storedOnly())

	// No _all composite field.
	item.AddSubDocumentMapping("_all", mapping.NewDocumentDisabledMapping())

	im.TypeMapping = map[string]*mapping.DocumentMapping{docType: item}
	im.DefaultType = docType
	im.DefaultMapping = mapping.NewDocumentDisabledMapping()
	im.DefaultAnalyzer = analyzerText
	im.ScoringModel = sp.analysis.Scoring
	if im.ScoringModel == "tfidf" {
		im.ScoringModel = "tf-idf" // bleve's name
	}
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	return im, nil
}

// itemDoc turns an item into the document bleve indexes, with topics as
// its topic tags (the feedback field is added by Index.add). Every document gets the "item" type through the mapping's
// DefaultType.
func itemDoc(it *evidence.Item, topics []string) map[string]any {
	d := map[string]any{
		fieldTitle:   it.Title,
		fieldSummary: it.Summary,
		fieldBody:    it.Body,
		fieldSpell:   it.Title + "\n" + it.Summary,
		fieldSource:  it.Source,
		fieldType:    it.Type,
		fieldHash:    it.ContentHash,
	}
	if len(it.Authors) > 0 {
		d[fieldAuthors] = it.Authors
	}
	if len(topics) > 0 {
		d[fieldTopics] = topics
	}
	if it.Published != nil {
		p := it.Published.UTC()
		d[fieldPublished] = p
		d[fieldYear] = strconv.Itoa(p.Year())
		d[fieldMonth] = p.Format("2006-01")
	}
	if !it.FirstSeen.IsZero() {
		d[fieldFirstSeen] = it.FirstSeen.UTC()
	}
	return d
}

// dayBounds turns the inclusive calendar dates of from and to (read in each
// time's own location) into a half-open UTC range [start, end).
func dayBounds(from, to *time.Time) (start, end time.Time) {
	if from != nil {
		y, m, d := from.Date()
		start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	if to != nil {
		y, m, d := to.Date()
		end = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	}
	return start, end
}
