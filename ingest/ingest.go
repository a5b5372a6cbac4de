// Package ingest is the pipeline that turns publishers' feeds and pages into
// stored items: fetch → parse → normalise URL → classify → save. It declares
// the small interfaces it needs from the store and the index; cmd wires the
// concrete ones in.
package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// Store is what the pipeline needs from the system of record.
type Store interface {
	FetchState(ctx context.Context, url string) (evidence.FetchState, error)
	PutFetchState(ctx context.Context, st evidence.FetchState) error
	UpsertItem(ctx context.Context, it *evidence.Item) (evidence.UpsertResult, error)
	ItemByURL(ctx context.Context, url string) (evidence.Item, error)
	AddAlias(ctx context.Context, alias, canonicalURL string) error
	// FindDuplicate returns the stored item that is the same work and the
	// rule that matched ("url", "alias", "doi", "pdf", "title").
	FindDuplicate(ctx context.Context, q evidence.DupQuery) (evidence.Item, string, error)
	AddAnnouncer(ctx context.Context, id, source string) (bool, error)
	// Candidate and PutCandidate remember what each layer last said of
	// an item URL, so unchanged items are not fetched again.
	Candidate(ctx context.Context, url string) (sig, itemID string, ok bool, err error)
	PutCandidate(ctx context.Context, url, source, sig, itemID string) error
}

// Fetcher is what the pipeline needs from the HTTP client.
type Fetcher interface {
	Get(ctx context.Context, rawURL string, prev evidence.FetchState) (*fetch.Response, error)
	// Sitemaps lists the Sitemap: lines of a host's robots.txt.
	Sitemaps(ctx context.Context, host string) ([]string, error)
}

// Event reports progress to a terminal display.
type Event struct {
	Source string
	Kind   string // "fetched", "item", "done"
	URL    string
}

// Options wires a Pipeline.
type Options struct {
	Store   Store
	Fetcher Fetcher
	Logger  *slog.Logger
	Now     func() time.Time
	// Concurrency is how many sources run at once (default 4). Requests to
	// one host are rate limited by the fetcher whatever this is.
	Concurrency int
	// Sources are every configured source (enabled or not): links to their
	// sites are normalised with their rules, so relations resolve.
	Sources []Source
	// Progress, if set, is called for each event (from several goroutines).
	Progress func(Event)
}

// Pipeline ingests sources.
type Pipeline struct {
	opts Options
	log  *slog.Logger
}

// New returns a pipeline.
func New(opts Options) *Pipeline {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Concurrency < 1 {
		opts.Concurrency = 4
	}
	return &Pipeline{opts: opts, log: opts.Logger}
}

// Report is what one source's run did. The JSON names are printed by
// `evidence ingest --json`.
type Report struct {
	Source      string    `json:"source"`
	Strategy    string    `json:"strategy"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Requests    int       `json:"requests"`
	Fetched     int       `json:"fetched"`
	NotModified int       `json:"not_modified"`
	Items       int       `json:"items"`
	New         int       `json:"new"`
	Updated     int       `json:"updated"`
	Unchanged   int       `json:"unchanged"`
	// Merged counts items another publisher had already announced: they
	// were added to its announced_by instead of stored twice.
	Merged  int `json:"merged"`
	Skipped int `json:"skipped"`
	// Deferred counts new items left for the next run by the per-run cap
	// on item pages.
	Deferred int  `json:"deferred"`
	Blocked  bool `json:"blocked"`
	// Interrupted is set when the run's context was cancelled (Ctrl-C,
	// SIGTERM) before the source finished: what it did is kept, but it is
	// no failure of the source.
	Interrupted bool `json:"interrupted"`
	// Errors lists every problem met, each naming its URL and cause.
	Errors []string `json:"errors"`
	// Err is set when a layer failed outright (fetch or parse of a feed):
	// the source is then recorded as failing. Item-level problems only go
	// to Errors.
	Err error `json:"-"`
}

// Run ingests each source, several at once, and returns one report per
// source in the order given. Cancelling ctx stops the run; everything saved
// before then stays saved.
func (p *Pipeline) Run(ctx context.Context, sources []Source, ro RunOptions) []Report {
	reports := make([]Report, len(sources))
	sem := make(chan struct{}, p.opts.Concurrency)
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				reports[i] = Report{Source: src.ID, Strategy: src.Strategy(), Start: p.opts.Now(), End: p.opts.Now(),
					Errors: []string{ctx.Err().Error()}, Err: ctx.Err(), Interrupted: true}
				return
			}
			defer func() { <-sem }()
			reports[i] = p.RunSource(ctx, src, ro)
		}()
	}
	wg.Wait()
	return reports
}

// RunSource ingests one source: its first working layer, or every layer
// with ro.Backfill.
func (p *Pipeline) RunSource(ctx context.Context, src Source, ro RunOptions) Report {
	r := Report{Source: src.ID, Start: p.opts.Now(), Errors: []string{}}
	budget := ro.MaxItemPages
	if budget <= 0 {
		budget = 500
	}
	run := &sourceRun{p: p, src: src, ro: ro, r: &r, seen: map[string]bool{}, budget: budget}
	r.Err = run.runLayers(ctx)
	if r.Err != nil && !slices.Contains(r.Errors, r.Err.Error()) {
		r.Errors = append(r.Errors, r.Err.Error())
	}
	if r.Strategy == "" {
		r.Strategy = src.Strategy()
	}
	if r.Deferred > 0 {
		r.Errors = append(r.Errors, fmt.Sprintf("ingest %s: %d new item(s) left for the next run (at most %d item pages a run)", src.ID, r.Deferred, budget))
	}
	r.End = p.opts.Now()
	r.Interrupted = ctx.Err() != nil
	p.progress(Event{Source: src.ID, Kind: "done"})
	p.log.Info("source done", "source", src.ID, "strategy", r.Strategy, "new", r.New, "updated", r.Updated,
		"unchanged", r.Unchanged, "merged", r.Merged, "not_modified", r.NotModified, "errors", len(r.Errors))
	return r
}

func (p *Pipeline) progress(ev Event) {
	if p.opts.Progress != nil {
		p.opts.Progress(ev)
	}
}

// normalize gives a URL its canonical form under a source's rules.
func normalize(raw string, src Source) (string, error) {
	return urlnorm.Normalize(raw, nil, src.Rules)
}

// finishLinks normalises outbound links and PDFs with the rules of the site
// they point to (so they match stored canonical URLs) and picks out the
// external evidence the item cites.
func (p *Pipeline) finishLinks(it *evidence.Item) {
	self := it.URL
	seen := map[string]bool{}
	links := it.Links[:0:0]
	var cites []evidence.Cite
	seenCite := map[string]bool{}
	for _, l := range it.Links {
		c := p.Canonical(l)
		if c == "" || c == self || seen[c] {
			continue
		}
		seen[c] = true
		links = append(links, c)
		if cite, ok := citation(c); ok && !seenCite[cite.URL] {
			seenCite[cite.URL] = true
			cites = append(cites, cite)
		}
	}
	it.Links = links
	if cites == nil {
		cites = []evidence.Cite{}
	}
	it.Cites = cites
	pdfs := it.PDFURLs[:0:0]
	seenPDF := map[string]bool{}
	for _, u := range it.PDFURLs {
		if c := p.Canonical(u); c != "" && !seenPDF[c] {
			seenPDF[c] = true
			pdfs = append(pdfs, c)
		}
	}
	it.PDFURLs = pdfs
}

// Canonical normalises any URL with the rules of the configured source that
// owns its host (generic rules otherwise); "" if it is not a usable URL. An
// old URL of that source that one of its alias rules maps becomes the
// current URL, so links written before a site moved resolve.
func (p *Pipeline) Canonical(raw string) string {
	src, owned := p.SourceFor(raw)
	c, err := urlnorm.Normalize(raw, nil, src.Rules) // zero Rules: generic
	if err != nil {
		return ""
	}
	if owned {
		if t, ok := src.AliasTarget(c); ok {
			return t
		}
	}
	return c
}

// citation reports whether a link is external evidence: a DOI, PubMed or
// NICE guidance.
func citation(u string) (evidence.Cite, bool) {
	if doi := urlnorm.DOI(u); doi != "" {
		return evidence.Cite{URL: u, DOI: doi}, true
	}
	pu, err := url.Parse(u)
	if err != nil {
		return evidence.Cite{}, false
	}
	host := strings.TrimPrefix(strings.ToLower(pu.Hostname()), "www.")
	switch {
	case host == "pubmed.ncbi.nlm.nih.gov",
		host == "ncbi.nlm.nih.gov" && (strings.HasPrefix(pu.Path, "/pubmed") || strings.HasPrefix(pu.Path, "/pmc")),
		host == "nice.org.uk" && strings.HasPrefix(pu.Path, "/guidance"),
		host == "cochranelibrary.com":
		return evidence.Cite{URL: u}, true
	}
	return evidence.Cite{}, false
}
