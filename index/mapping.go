package index

import (
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/evidencetracker/evidence"
)

// MappingVersion identifies the field layout built by newMapping. It is
// stored in the index's internal metadata; an index written with another
// version is reported as ErrCorrupt so the caller rebuilds it. Bump it on
// every change to newMapping or to itemDoc.
const MappingVersion = "1"

// internalVersionKey is the internal-metadata key holding MappingVersion.
var internalVersionKey = []byte("evidence.mapping_version")

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
	fieldHash         = "hash"
)

// textFields are the fields the default query searches, with their boosts.
var textFields = []struct {
	name  string
	boost float64
}{
	{fieldTitle, 3},
	{fieldSummary, 2},
	{fieldBody, 1},
	{fieldAuthors, 1},
}

// newMapping builds the deliberate, static mapping for items: no dynamic
// fields, no _all composite field, BM25 scoring.
func newMapping() *mapping.IndexMappingImpl {
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
	date := func() *mapping.FieldMapping {
		fm := mapping.NewDateTimeFieldMapping()
		fm.Store = false
		fm.IncludeInAll = false
		fm.DocValues = true // sorting
		return fm
	}

	item := mapping.NewDocumentStaticMapping()
	item.Dynamic = false
	item.AddFieldMappingsAt(fieldTitle, text(en.AnalyzerName, true, true))
	item.AddFieldMappingsAt(fieldSummary, text(en.AnalyzerName, true, true))
	item.AddFieldMappingsAt(fieldBody, text(en.AnalyzerName, false, false))

	authors := text(standard.Name, false, false)
	authorsExact := kw()
	authorsExact.Name = fieldAuthorsExact
	authorsExact.Analyzer = keyword.Name
	item.AddFieldMappingsAt(fieldAuthors, authors, authorsExact)

	item.AddFieldMappingsAt(fieldSource, kw())
	item.AddFieldMappingsAt(fieldType, kw())
	item.AddFieldMappingsAt(fieldTopics, kw())
	item.AddFieldMappingsAt(fieldYear, kw())
	item.AddFieldMappingsAt(fieldPublished, date())
	item.AddFieldMappingsAt(fieldFirstSeen, date())

	hash := mapping.NewTextFieldMapping()
	hash.Analyzer = keyword.Name
	hash.Store = true
	hash.Index = false
	hash.IncludeTermVectors = false
	hash.IncludeInAll = false
	hash.DocValues = false
	item.AddFieldMappingsAt(fieldHash, hash)

	// No _all composite field.
	item.AddSubDocumentMapping("_all", mapping.NewDocumentDisabledMapping())

	im := mapping.NewIndexMapping()
	im.TypeMapping = map[string]*mapping.DocumentMapping{docType: item}
	im.DefaultType = docType
	im.DefaultMapping = mapping.NewDocumentDisabledMapping()
	im.DefaultAnalyzer = en.AnalyzerName
	im.ScoringModel = "bm25"
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	return im
}

// itemDoc turns an item into the document bleve indexes. Every document gets
// the "item" type through the mapping's DefaultType.
func itemDoc(it *evidence.Item) map[string]any {
	d := map[string]any{
		fieldTitle:   it.Title,
		fieldSummary: it.Summary,
		fieldBody:    it.Body,
		fieldSource:  it.Source,
		fieldType:    it.Type,
		fieldHash:    it.ContentHash,
	}
	if len(it.Authors) > 0 {
		d[fieldAuthors] = it.Authors
	}
	if len(it.Topics) > 0 {
		d[fieldTopics] = it.Topics
	}
	if it.Published != nil {
		p := it.Published.UTC()
		d[fieldPublished] = p
		d[fieldYear] = strconv.Itoa(p.Year())
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
