// Package ingest is the pipeline that turns publishers' feeds and pages into
// stored items: fetch → parse → normalise URL → classify → save. It declares
// the small interfaces it needs from the store and the index; cmd wires the
// concrete ones in.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/feed"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// Store is what the pipeline needs from the system of record.
type Store interface {
	FetchState(ctx context.Context, url string) (evidence.FetchState, error)
	PutFetchState(ctx context.Context, st evidence.FetchState) error
	UpsertItem(ctx context.Context, it *evidence.Item) (evidence.UpsertResult, error)
	AddAlias(ctx context.Context, alias, canonicalURL string) error
}

// Fetcher is what the pipeline needs from the HTTP client.
type Fetcher interface {
	Get(ctx context.Context, rawURL string, prev evidence.FetchState) (*fetch.Response, error)
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
	Skipped     int       `json:"skipped"`
	Blocked     bool      `json:"blocked"`
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
func (p *Pipeline) Run(ctx context.Context, sources []Source) []Report {
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
					Errors: []string{ctx.Err().Error()}, Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			reports[i] = p.RunSource(ctx, src)
		}()
	}
	wg.Wait()
	return reports
}

// RunSource ingests one source through its first layer.
func (p *Pipeline) RunSource(ctx context.Context, src Source) Report {
	r := Report{Source: src.ID, Strategy: src.Strategy(), Start: p.opts.Now(), Errors: []string{}}
	log := p.log.With("source", src.ID)
	var fatal []error
	switch r.Strategy {
	case "feed":
		for _, u := range src.Feeds {
			if err := p.ingestFeed(ctx, src, u, &r); err != nil {
				fatal = append(fatal, err)
				r.Errors = append(r.Errors, err.Error())
				log.Warn("feed failed", "url", u, "err", err)
				if errors.Is(err, fetch.ErrBlocked) {
					r.Blocked = true
				}
			}
			if ctx.Err() != nil {
				break
			}
		}
	default:
		err := fmt.Errorf("ingest %s: strategy %q is not supported yet", src.ID, r.Strategy)
		fatal = append(fatal, err)
		r.Errors = append(r.Errors, err.Error())
	}
	if ctx.Err() != nil && len(fatal) == 0 {
		fatal = append(fatal, fmt.Errorf("ingest %s: %w", src.ID, ctx.Err()))
		r.Errors = append(r.Errors, fatal[len(fatal)-1].Error())
	}
	r.Err = errors.Join(fatal...)
	r.End = p.opts.Now()
	p.progress(Event{Source: src.ID, Kind: "done"})
	log.Info("source done", "new", r.New, "updated", r.Updated, "unchanged", r.Unchanged,
		"not_modified", r.NotModified, "errors", len(r.Errors))
	return r
}

func (p *Pipeline) progress(ev Event) {
	if p.opts.Progress != nil {
		p.opts.Progress(ev)
	}
}

// ingestFeed fetches one feed (conditionally), parses it and saves its
// items. The feed's validators are stored only after every item is saved,
// so a run killed half-way fetches the whole feed again next time.
func (p *Pipeline) ingestFeed(ctx context.Context, src Source, feedURL string, r *Report) error {
	prev, err := p.opts.Store.FetchState(ctx, feedURL)
	if err != nil {
		return fmt.Errorf("ingest %s: feed %s: load fetch state: %w", src.ID, feedURL, err)
	}
	r.Requests++
	resp, err := p.opts.Fetcher.Get(ctx, feedURL, prev)
	if err != nil {
		return fmt.Errorf("ingest %s: feed %s: %w", src.ID, feedURL, err)
	}
	p.progress(Event{Source: src.ID, Kind: "fetched", URL: feedURL})
	if resp.NotModified {
		r.NotModified++
		return nil
	}
	r.Fetched++
	if prev.ContentHash != "" && resp.State.ContentHash == prev.ContentHash {
		// The server ignored our validators but sent the same bytes.
		r.NotModified++
		return nil
	}
	base, err := url.Parse(resp.URL)
	if err != nil {
		return fmt.Errorf("ingest %s: feed %s: bad final URL %q: %w", src.ID, feedURL, resp.URL, err)
	}
	items, err := feed.Parse(bytes.NewReader(resp.Body), base)
	if err != nil {
		return fmt.Errorf("ingest %s: feed %s: %w", src.ID, feedURL, err)
	}
	if len(items) == 0 {
		return fmt.Errorf("ingest %s: feed %s: 0 items from layer feed (the feed parsed but held no entries)", src.ID, feedURL)
	}
	dated := 0
	for i := range items {
		if ctx.Err() != nil {
			return fmt.Errorf("ingest %s: feed %s: %w", src.ID, feedURL, ctx.Err())
		}
		it := &items[i]
		if it.Published != nil {
			dated++
		}
		if err := p.saveItem(ctx, src, it, r); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("ingest %s: feed %s: %w", src.ID, feedURL, ctx.Err())
			}
			r.Errors = append(r.Errors, err.Error())
		}
	}
	if dated == 0 {
		// Keep the items (their dates are null, not wrong) but say so.
		r.Errors = append(r.Errors, fmt.Sprintf("ingest %s: feed %s: none of %d items has a valid date", src.ID, feedURL, len(items)))
	}
	for _, old := range resp.Redirects {
		if old != resp.URL {
			p.log.Info("feed moved", "source", src.ID, "from", old, "to", resp.URL)
		}
	}
	if err := p.opts.Store.PutFetchState(ctx, resp.State); err != nil {
		return fmt.Errorf("ingest %s: feed %s: save fetch state: %w", src.ID, feedURL, err)
	}
	return nil
}

// saveItem finishes a parsed item (canonical URL, source, type, links) and
// upserts it.
func (p *Pipeline) saveItem(ctx context.Context, src Source, it *evidence.Item, r *Report) error {
	r.Items++
	raw := it.URL
	canon, err := urlnorm.Normalize(raw, nil, src.Rules)
	if err != nil {
		r.Skipped++
		return fmt.Errorf("ingest %s: item %q: %w", src.ID, raw, err)
	}
	if !src.IsItemURL(canon) {
		r.Skipped++
		p.log.Debug("not an item URL", "source", src.ID, "url", canon)
		return nil
	}
	if strings.TrimSpace(it.Title) == "" {
		r.Skipped++
		return fmt.Errorf("ingest %s: item %s: no title", src.ID, canon)
	}
	it.URL = canon
	it.Source = src.ID
	if it.Type == "" {
		it.Type = src.TypeOf(canon)
	}
	p.finishLinks(it)
	res, err := p.opts.Store.UpsertItem(ctx, it)
	if err != nil {
		r.Skipped++
		return fmt.Errorf("ingest %s: save %s: %w", src.ID, canon, err)
	}
	switch res {
	case evidence.Created:
		r.New++
	case evidence.Updated:
		r.Updated++
	default:
		r.Unchanged++
	}
	p.progress(Event{Source: src.ID, Kind: "item", URL: canon})
	return nil
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
// owns its host (generic rules otherwise); "" if it is not a usable URL.
func (p *Pipeline) Canonical(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	rules := urlnorm.Rules{}
	host := strings.ToLower(u.Hostname())
	for _, s := range p.opts.Sources {
		if s.ownsHost(host) {
			rules = s.Rules
			break
		}
	}
	c, err := urlnorm.Normalize(raw, nil, rules)
	if err != nil {
		return ""
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
