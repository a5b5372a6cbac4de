package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/evidencetracker/evidence"
)

// FallbackSource is the source of an imported item whose URL no configured
// source owns, when a source with this ID is configured (and no --source
// was given). Without it such a record is bad: search filters and `evidence
// sources` only know configured sources.
const FallbackSource = "import"

// Store is what importing needs from the system of record: the one
// transaction save the pipeline uses too (store.SaveItem), which finds the
// stored item that is the same work (URL, alias, DOI, PDF, title and date)
// and writes under the same lock.
type Store interface {
	SaveItem(ctx context.Context, it *evidence.Item, opts evidence.SaveOptions) (evidence.SaveResult, error)
}

// Sites is what importing needs to know about the configured sources.
type Sites interface {
	// Canonical normalises a URL with the rules of the source owning its
	// host, generic rules otherwise, as the pipeline does; "" if unusable.
	Canonical(raw string) string
	// Owner returns the configured source whose site serves the URL.
	Owner(canonicalURL string) (id string, ok bool)
	// Has reports whether a source ID is configured.
	Has(id string) bool
	// TypeOf classifies a canonical URL by a source's type rules.
	TypeOf(source, canonicalURL string) string
}

// Options configure Import.
type Options struct {
	Store Store
	Sites Sites
	// Source, when set, is the source of every new item (--source); it
	// must be configured.
	Source string
	// ReportLike says which item types a shared PDF makes the same work
	// (the pipeline's rule, ingest.ReportLike); nil leaves PDFs out.
	ReportLike func(typ string) bool
	Logger     *slog.Logger
	// Progress, if set, is called after each record with the report so
	// far.
	Progress func(Report)
}

// Report is what an import did. The JSON names are printed by `evidence
// import --json`.
type Report struct {
	File      string        `json:"file"`
	Format    Format        `json:"format"`
	Records   int           `json:"records"`
	Imported  int           `json:"imported"`
	New       int           `json:"new"`
	Updated   int           `json:"updated"`
	Unchanged int           `json:"unchanged"`
	Errors    []RecordError `json:"errors"`
}

// Import reads r in format f and saves every good record through the
// pipeline's dedupe path (Store.SaveItem, one transaction): keyed by
// canonical URL (the owning source's rules), an alias, the record's DOI
// (as a stored item's DOI or its doi.org URL), a report's PDF or the same
// title within days finds the item stored under another URL. A record for
// an item already stored is merged into it: the publisher's own fields win,
// the import fills the empty ones and adds its categories, documents and
// cites; fields an earlier import supplied are replaced. A new item's
// source is opts.Source, else the source owning its URL's host, else the
// source a JSONL record names (if configured), else FallbackSource (if
// configured); its type is the record's, else the source's type rules. The
// record's DOI URL (https://doi.org/…) becomes an alias of the item, so
// links to it resolve. Bad records are listed in the report and the others
// still go in.
//
// The error is non-nil only when reading fails, the input holds no record
// at all (*NoRecordsError), the store fails or ctx is done; the report then
// covers the records handled before.
func Import(ctx context.Context, r io.Reader, f Format, opts Options) (Report, error) {
	if opts.Store == nil || opts.Sites == nil {
		return Report{}, fmt.Errorf("importer: import: Store and Sites are required: %w", evidence.ErrInvalid)
	}
	if opts.Source != "" && !opts.Sites.Has(opts.Source) {
		return Report{}, fmt.Errorf("importer: import: source %q is not configured: %w", opts.Source, evidence.ErrInvalid)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	im := &importer{opts: opts, log: opts.Logger}
	rep := Report{Format: f, Errors: []RecordError{}}
	err := Parse(r, f, func(rec Record) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("importer: import: %w", err)
		}
		rep.Records++
		res, err := im.save(ctx, rec)
		var br *badRecord
		switch {
		case errors.As(err, &br):
			rep.Errors = append(rep.Errors, RecordError{Line: rec.Line, Message: br.msg})
		case err != nil:
			return err
		default:
			rep.Imported++
			switch res {
			case evidence.Created:
				rep.New++
			case evidence.Updated:
				rep.Updated++
			default:
				rep.Unchanged++
			}
		}
		if opts.Progress != nil {
			opts.Progress(rep)
		}
		return nil
	})
	return rep, err
}

type importer struct {
	opts Options
	log  *slog.Logger
}

// save stores one record. A *badRecord error is the record's fault; any
// other error stops the import.
func (im *importer) save(ctx context.Context, rec Record) (evidence.UpsertResult, error) {
	if rec.Err != nil {
		var br *badRecord
		if errors.As(rec.Err, &br) {
			return evidence.Unchanged, br
		}
		return evidence.Unchanged, &badRecord{msg: rec.Err.Error()}
	}
	sites := im.opts.Sites
	it := rec.Item
	canon := sites.Canonical(it.URL)
	if canon == "" {
		return evidence.Unchanged, bad("url %q is not usable", clip(it.URL, 200))
	}
	it.URL = canon
	it.Links = canonicalAll(sites, it.Links)
	it.PDFURLs = canonicalAll(sites, it.PDFURLs)
	for i := range it.Cites {
		if c := sites.Canonical(it.Cites[i].URL); c != "" {
			it.Cites[i].URL = c
		}
	}
	// The DOI's URLs: as the record wrote it and lower-cased (DOIs ignore
	// case; links to them do not).
	var doiURLs []string
	if rec.DOI != "" {
		// Stored as the item's DOI too, so the DOI rule finds it (and it
		// finds an ingested item carrying the DOI).
		if it.DOI == "" {
			it.DOI = rec.DOI
		}
		doiURLs = canonicalAll(sites, []string{rec.DOIURL, DOIURL(rec.DOI)})
	}

	// The source and type a new item would get; an error is the record's
	// only when nothing stored is the same work.
	src, srcErr := im.sourceFor(it)
	newType := it.Type
	if newType == "" && srcErr == nil {
		newType = sites.TypeOf(src, canon)
	}
	opts := evidence.SaveOptions{
		// The DOI's URLs lead to the stored item, and from now on to it.
		Aliases:     doiURLs,
		KeepAliases: true,
		Merge:       merge,
		Prepare: func(w *evidence.Item) error {
			if srcErr != nil {
				return srcErr
			}
			w.ID, w.Source, w.AnnouncedBy, w.Type = "", src, nil, newType
			return nil
		},
	}
	if rl := im.opts.ReportLike; rl != nil {
		opts.ReportLike = func(t string) bool {
			if t == "" { // the record's own type, not known yet
				t = newType
			}
			return rl(t)
		}
	}
	save := it
	save.ContentHash = ""
	res, err := im.opts.Store.SaveItem(ctx, &save, opts)
	var br *badRecord
	switch {
	case errors.As(err, &br):
		return evidence.Unchanged, br
	case errors.Is(err, evidence.ErrInvalid) || errors.Is(err, evidence.ErrConflict):
		return evidence.Unchanged, bad("%v", err)
	case err != nil:
		return evidence.Unchanged, fmt.Errorf("importer: line %d: %w", rec.Line, err)
	}
	im.log.Debug("imported", "line", rec.Line, "url", res.URL, "id", res.ID, "result", res.Result.String(), "rule", res.Rule)
	return res.Result, nil
}

// sourceFor picks a new item's source.
func (im *importer) sourceFor(it evidence.Item) (string, error) {
	sites := im.opts.Sites
	if im.opts.Source != "" {
		return im.opts.Source, nil
	}
	if id, ok := sites.Owner(it.URL); ok {
		return id, nil
	}
	if it.Source != "" && sites.Has(it.Source) {
		return it.Source, nil
	}
	if sites.Has(FallbackSource) {
		return FallbackSource, nil
	}
	return "", bad("%s is on no configured source's site: pass --source ID to import it, or configure a source %q for such items",
		it.URL, FallbackSource)
}

func canonicalAll(sites Sites, urls []string) []string {
	out := make([]string, 0, len(urls))
	for _, u := range urls {
		if c := sites.Canonical(u); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// merge folds an imported item into the stored one. The stored item keeps
// its ID, URL, source, first-seen date, announcers and topics. A field
// takes the imported value when the stored one is empty or came from an
// earlier import (its provenance starts with LayerPrefix); the publisher's
// own values are never overwritten. Categories, documents, links and cites
// are unions.
func merge(stored, imp evidence.Item) evidence.Item {
	out := stored
	// Its own topics, that is: the tagger's are re-tagged on indexing.
	out.Topics, out.TopicTags = stored.GivenTopics(), nil
	prov := make(map[string]string, len(stored.Provenance)+4)
	for k, v := range stored.Provenance {
		prov[k] = v
	}
	takes := func(field string, storedEmpty bool) bool {
		return storedEmpty || strings.HasPrefix(stored.Provenance[field], LayerPrefix)
	}
	set := func(field string) {
		if v, ok := imp.Provenance[field]; ok {
			prov[field] = v
		}
	}
	if imp.Title != "" && takes("title", stored.Title == "") {
		out.Title = imp.Title
		set("title")
	}
	if imp.Summary != "" && takes("summary", stored.Summary == "") {
		out.Summary = imp.Summary
		set("summary")
	}
	if imp.Body != "" && takes("body", stored.Body == "") {
		out.Body = imp.Body
		set("body")
	}
	if imp.Type != "" && takes("type", stored.Type == "") {
		out.Type = imp.Type
		set("type")
	}
	if imp.Published != nil && takes("published", stored.Published == nil) {
		out.Published = imp.Published
		set("published")
	}
	if imp.Updated != nil && takes("updated", stored.Updated == nil) {
		out.Updated = imp.Updated
		set("updated")
	}
	if imp.DOI != "" && stored.DOI == "" {
		out.DOI = imp.DOI
	}
	if len(imp.Authors) > 0 && takes("authors", len(stored.Authors) == 0) {
		out.Authors = imp.Authors
		set("authors")
	}
	out.Categories = slices.Clone(stored.Categories)
	for _, c := range imp.Categories {
		if !slices.ContainsFunc(out.Categories, func(x string) bool { return strings.EqualFold(x, c) }) {
			out.Categories = append(out.Categories, c)
			if _, ok := prov["categories"]; !ok {
				set("categories")
			}
		}
	}
	out.PDFURLs = union(stored.PDFURLs, imp.PDFURLs)
	out.Links = union(stored.Links, imp.Links)
	out.Cites = slices.Clone(stored.Cites)
	for _, c := range imp.Cites {
		if c.URL != "" && !slices.ContainsFunc(out.Cites, func(x evidence.Cite) bool { return x.URL == c.URL }) {
			out.Cites = append(out.Cites, c)
		}
	}
	out.Provenance = prov
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
