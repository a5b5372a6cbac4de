package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/ingest/page"
	"github.com/evidencetracker/evidence/ingest/text"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
)

// AddURLStore is what adding by URL needs of the store.
type AddURLStore interface {
	// FindDuplicate finds the stored item a URL, alias, DOI or PDF is.
	FindDuplicate(ctx context.Context, q evidence.DupQuery) (evidence.Item, string, error)
	// SaveItem dedupes and saves in one transaction, recording the item
	// for the index (the outbox).
	SaveItem(ctx context.Context, it *evidence.Item, opts evidence.SaveOptions) (evidence.SaveResult, error)
	Item(ctx context.Context, id string) (evidence.Item, error)
}

// AddURLFetcher fetches one URL politely: *fetch.Client, built with a
// fetch.Guard unless web.allow_private_fetch is set.
type AddURLFetcher interface {
	Get(ctx context.Context, rawURL string, prev evidence.FetchState) (*fetch.Response, error)
}

// AddURLSites knows the configured sources' URL rules (*ingest.Pipeline).
type AddURLSites interface {
	// Canonical normalises a URL with the rules of the source owning its
	// host (generic rules otherwise); "" if it is not a usable URL.
	Canonical(raw string) string
	SourceFor(raw string) (ingest.Source, bool)
}

// DefaultAddURLTimeout bounds one AddURL: robots.txt, redirects (a DOI's
// landing page) and the page together.
const DefaultAddURLTimeout = time.Minute

// URLAdder adds an item a curator names by its URL (or DOI): a URL the
// store knows (as an item's URL, an alias, its DOI or its PDF) gives the
// stored item without a request; any other is fetched politely (robots.txt,
// the body cap, timeouts, and the fetcher's guard against private
// addresses), its metadata read as ingest reads an item page (JSON-LD,
// OpenGraph, citation_*, … with the layer of each field kept as
// provenance), saved through the store's SaveItem (so the index outbox has
// it) and indexed.
//
// The item's source is the configured source whose site serves it, when
// the URL is one of that source's item URLs (so the source's next ingest
// updates it rather than counting a second announcement), else
// evidence.SourceManual.
//
// A PDF is stored as a report titled from the PDF's own metadata, else
// its file name (Content-Disposition, else the URL): grey literature is
// often a PDF alone, and a PDF already linked from a stored report page
// gives that report. An image, a feed or another kind of file is refused
// with what to add instead.
//
// Every error is an *AddURLError: its message names the URL and the cause,
// its HTTPStatus the status a handler should answer with.
type URLAdder struct {
	Store   AddURLStore
	Fetcher AddURLFetcher
	// Sites applies the configured sources' URL rules; nil: generic
	// rules, and every item is SourceManual.
	Sites AddURLSites
	// Index brings the index up to date with the store after a save
	// (ingest.SyncIndex; cmd wires it). Nil, or an error, leaves the item
	// pending: the next sync indexes it.
	Index func(ctx context.Context) error
	// Timeout bounds one AddURL (default DefaultAddURLTimeout).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Why an AddURL failed (AddURLError.Reason).
const (
	AddInvalidURL      = "invalid_url"      // not an http(s) URL or a DOI, credentials in it…
	AddRefusedAddress  = "refused_address"  // a loopback, private, link-local or metadata address
	AddTimeout         = "timeout"          // the site did not answer in time
	AddTooLarge        = "too_large"        // more than fetch.max_body_bytes
	AddUnsupported     = "unsupported_type" // an image, a feed, a file that is neither page nor PDF
	AddBlocked         = "blocked"          // a bot challenge, HTTP 403
	AddDisallowed      = "robots_disallowed"
	AddNotFound        = "not_found"   // HTTP 404, 410, no such host
	AddUnreachable     = "unreachable" // connection refused, 5xx, robots.txt unreadable
	AddNoMetadata      = "no_metadata" // not even a title
	AddFailed          = "failed"      // the store failed
	maxAddURLBytes     = 4096
	addLayerCurator    = "curator"
	addLayerURL        = "url"
	addLayerDisposited = "content-disposition"
)

// AddURLError is why a URL could not be added. Error is a sentence a
// curator can act on; it wraps evidence.ErrInvalid when the URL (or what
// it serves) is the problem, and the underlying fetch or store error.
type AddURLError struct {
	URL    string
	Reason string // one of the Add… constants
	Msg    string
	Err    error
}

func (e *AddURLError) Error() string { return e.Msg }

func (e *AddURLError) Unwrap() []error {
	var errs []error
	if e.invalid() {
		errs = append(errs, evidence.ErrInvalid)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func (e *AddURLError) invalid() bool {
	switch e.Reason {
	case AddTimeout, AddUnreachable, AddBlocked, AddFailed:
		return false
	}
	return true
}

// HTTPStatus is the status a web handler answers the failed add with: 400
// for a malformed URL, 422 for one that cannot be added as it is (refused
// address, too big, not a page, disallowed, gone), 502 when the site
// failed or blocked us, 504 when it did not answer, 500 when we failed.
func (e *AddURLError) HTTPStatus() int {
	switch e.Reason {
	case AddInvalidURL:
		return http.StatusBadRequest
	case AddTimeout:
		return http.StatusGatewayTimeout
	case AddUnreachable, AddBlocked:
		return http.StatusBadGateway
	case AddFailed:
		return http.StatusInternalServerError
	}
	return http.StatusUnprocessableEntity
}

func addErr(raw, reason string, err error, format string, args ...any) *AddURLError {
	return &AddURLError{URL: raw, Reason: reason, Err: err, Msg: fmt.Sprintf(format, args...)}
}

func (a *URLAdder) log() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *URLAdder) canonical(raw string) string {
	if a.Sites != nil {
		return a.Sites.Canonical(raw)
	}
	c, err := urlnorm.Normalize(raw, nil, urlnorm.Rules{})
	if err != nil {
		return ""
	}
	return c
}

// AddURL returns the stored item for rawURL (an http(s) URL, a doi.org
// link, "doi:10.…" or a bare DOI), fetching and storing it when the store
// does not know it. by (the curator) is logged, not stored.
func (a *URLAdder) AddURL(ctx context.Context, rawURL, by string) (evidence.Item, error) {
	in, err := parseAddURL(rawURL)
	if err != nil {
		return evidence.Item{}, err
	}
	canon := a.canonical(in.fetch)
	if canon == "" {
		return evidence.Item{}, addErr(in.raw, AddInvalidURL, nil, "cannot add %q: not a usable web address", in.raw)
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultAddURLTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if it, ok, err := a.known(ctx, in, canon); err != nil || ok {
		if ok {
			a.log().Info("add by URL: already stored", "url", in.raw, "id", it.ID, "by", by)
		}
		return it, err
	}
	if a.Fetcher == nil {
		return evidence.Item{}, addErr(in.raw, AddFailed, nil, "cannot add %s: no fetcher configured", in.raw)
	}
	resp, err := a.Fetcher.Get(ctx, in.fetch, evidence.FetchState{})
	if err != nil {
		return evidence.Item{}, fetchFailure(ctx, in.raw, err, timeout)
	}
	it, aliases, err := a.build(in, canon, resp)
	if err != nil {
		return evidence.Item{}, err
	}
	res, err := a.Store.SaveItem(ctx, &it, evidence.SaveOptions{
		Aliases: aliases, ReportLike: ingest.ReportLike, KeepAliases: true,
		// The same work already stored (by the page's canonical URL, a
		// redirect, its DOI, its PDF, its title and date) is the answer:
		// a curator's fetch never rewrites what a publisher's ingest gave.
		Merge: func(stored, _ evidence.Item) evidence.Item { return stored },
	})
	if err != nil {
		if ctx.Err() != nil {
			return evidence.Item{}, fetchFailure(ctx, in.raw, err, timeout)
		}
		return evidence.Item{}, addErr(in.raw, AddFailed, err, "cannot add %s: %v", in.raw, err)
	}
	if res.Result != evidence.Unchanged && a.Index != nil {
		if err := a.Index(ctx); err != nil {
			// Stored, so not a failure: the next sync indexes it.
			a.log().Warn("add by URL: stored but not indexed yet", "url", in.raw, "id", res.ID, "err", err)
		}
	}
	stored, err := a.Store.Item(ctx, res.ID)
	if err != nil {
		return evidence.Item{}, addErr(in.raw, AddFailed, err, "cannot add %s: read back item %s: %v", in.raw, res.ID, err)
	}
	a.log().Info("add by URL", "url", in.raw, "id", stored.ID, "result", res.Result.String(), "merged", res.Merged,
		"rule", res.Rule, "source", stored.Source, "by", by)
	return stored, nil
}

// addInput is a URL a curator gave, checked.
type addInput struct {
	raw   string // as given, trimmed
	fetch string // what is fetched: the URL without its fragment, or https://doi.org/DOI
	doi   string // the DOI a doi.org link or "doi:" names (the item's DOI)
	// lookupDOI is a DOI the URL carries (a publisher's /doi/10.… page):
	// only to find a stored item with it.
	lookupDOI string
}

var bareDOI = regexp.MustCompile(`^10\.[0-9]{4,9}(?:\.[0-9]+)*/\S+$`)

// parseAddURL checks what a curator pasted: http or https only, a host,
// no user name or password; a DOI becomes its doi.org link.
func parseAddURL(raw string) (addInput, error) {
	s := strings.TrimSpace(raw)
	in := addInput{raw: s}
	bad := func(format string, args ...any) (addInput, error) {
		return addInput{}, addErr(s, AddInvalidURL, nil, format, args...)
	}
	switch {
	case s == "":
		return bad("cannot add an empty address: paste the page's URL or its DOI")
	case len(s) > maxAddURLBytes:
		return bad("cannot add a %d-byte address: at most %d", len(s), maxAddURLBytes)
	case strings.ContainsAny(s, " \t\r\n\x00"):
		return bad("cannot add %q: a URL has no spaces or control characters", s)
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "doi:"):
		s = strings.TrimSpace(s[4:])
		if !bareDOI.MatchString(s) {
			return bad("cannot add %q: %q is not a DOI (10.NNNN/…)", in.raw, s)
		}
		s = "https://doi.org/" + s
	case bareDOI.MatchString(s):
		s = "https://doi.org/" + s
	case !strings.Contains(s, "://") && !strings.Contains(strings.SplitN(s, "/", 2)[0], ":") &&
		strings.Contains(strings.SplitN(s, "/", 2)[0], "."):
		s = "https://" + s // "www.england.nhs.uk/…", pasted without its scheme
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("cannot add %q: not a URL: %v", in.raw, unwrapParse(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return bad("cannot add %q: not an absolute URL (it needs https://…)", in.raw)
	default:
		return bad("cannot add %q: only http and https addresses can be added, not %s:", in.raw, strings.ToLower(u.Scheme))
	}
	if u.User != nil {
		return bad("cannot add %s: the address carries a user name or password (user:password@host), which would be sent to the site; paste it without them", redactUser(u))
	}
	if u.Hostname() == "" || u.Opaque != "" {
		return bad("cannot add %q: no host", in.raw)
	}
	u.Fragment, u.RawFragment = "", ""
	in.fetch = u.String()
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if host == "doi.org" || host == "dx.doi.org" {
		in.doi = urlnorm.DOI(in.fetch)
		if in.doi == "" {
			return bad("cannot add %s: a doi.org link needs a DOI (https://doi.org/10.NNNN/…)", in.fetch)
		}
		in.fetch = "https://doi.org/" + in.doi
	}
	in.lookupDOI = in.doi
	if in.lookupDOI == "" {
		in.lookupDOI = urlnorm.DOI(in.fetch)
	}
	return in, nil
}

func unwrapParse(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactUser shows a URL with its password replaced.
func redactUser(u *url.URL) string {
	c := *u
	if _, has := c.User.Password(); has {
		c.User = url.UserPassword(c.User.Username(), "xxxxx")
	}
	return c.String()
}

// known returns the stored item the input already is (by URL, alias, DOI,
// or as a stored report's PDF), asking no one.
func (a *URLAdder) known(ctx context.Context, in addInput, canon string) (evidence.Item, bool, error) {
	q := evidence.DupQuery{URL: canon, DOI: in.lookupDOI}
	if c := a.canonical(in.raw); c != "" && c != canon {
		q.Aliases = []string{c}
	}
	if text.IsPDF(canon) {
		q.PDFURLs = []string{canon}
	}
	dup, rule, err := a.Store.FindDuplicate(ctx, q)
	switch {
	case errors.Is(err, evidence.ErrNotFound):
		return evidence.Item{}, false, nil
	case err != nil:
		return evidence.Item{}, false, addErr(in.raw, AddFailed, err, "cannot add %s: %v", in.raw, err)
	case rule == "pdf" && !ingest.ReportLike(dup.Type):
		return evidence.Item{}, false, nil // a blog linking the PDF is not the report
	case rule == "title":
		return evidence.Item{}, false, nil // no title was asked about; never guess
	}
	it, err := a.Store.Item(ctx, dup.ID)
	if err != nil {
		return evidence.Item{}, false, addErr(in.raw, AddFailed, err, "cannot add %s: read item %s: %v", in.raw, dup.ID, err)
	}
	return it, true, nil
}

// fetchFailure turns a fetch error into the curator's sentence.
func fetchFailure(ctx context.Context, raw string, err error, timeout time.Duration) error {
	var se *fetch.StatusError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, fetch.ErrRefusedAddress):
		return addErr(raw, AddRefusedAddress, err, "%v", err)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		// Often met first fetching robots.txt: say what it is.
		return addErr(raw, AddNotFound, err, "cannot add %s: there is no such host (%s)", raw, dnsErr.Name)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return addErr(raw, AddTimeout, err, "cannot add %s: the site did not answer within %v; try again later", raw, timeout)
	case errors.Is(err, context.Canceled):
		return addErr(raw, AddFailed, err, "cannot add %s: cancelled", raw)
	case errors.Is(err, fetch.ErrTimeout):
		return addErr(raw, AddTimeout, err, "cannot add %s: the site did not answer in time (%v); try again later", raw, err)
	case errors.Is(err, fetch.ErrTooLarge):
		return addErr(raw, AddTooLarge, err, "cannot add %s: it is too big to fetch (%v; the cap is fetch.max_body_bytes)", raw, err)
	case errors.Is(err, fetch.ErrDisallowed):
		return addErr(raw, AddDisallowed, err, "cannot add %s: the site's robots.txt does not allow it to be fetched (%v)", raw, err)
	case errors.Is(err, fetch.ErrBlocked) && (strings.Contains(err.Error(), "challenge") || strings.Contains(err.Error(), "cf-mitigated")):
		return addErr(raw, AddBlocked, err, "cannot add %s: the site answered with a bot challenge instead of the page (%v); it cannot be fetched automatically", raw, err)
	case errors.Is(err, fetch.ErrBlocked):
		return addErr(raw, AddBlocked, err, "cannot add %s: the site refused to serve it (%v)", raw, err)
	case errors.Is(err, fetch.ErrRobotsUnavailable):
		return addErr(raw, AddUnreachable, err, "cannot add %s: the site's robots.txt could not be read, so the site is not fetched (%v); try again later", raw, err)
	case errors.Is(err, fetch.ErrTooManyRedirects):
		return addErr(raw, AddUnreachable, err, "cannot add %s: %v", raw, err)
	case errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusGone):
		return addErr(raw, AddNotFound, err, "cannot add %s: the site says there is no such page (HTTP %d)", raw, se.Status)
	case errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusPaymentRequired):
		return addErr(raw, AddBlocked, err, "cannot add %s: the page needs a sign-in or a subscription (HTTP %d); add the public page that describes it", raw, se.Status)
	case errors.As(err, &se) && se.Status >= 500:
		return addErr(raw, AddUnreachable, err, "cannot add %s: the site failed (%v); try again later", raw, err)
	case errors.As(err, &se):
		return addErr(raw, AddNotFound, err, "cannot add %s: %v", raw, err)
	}
	return addErr(raw, AddUnreachable, err, "cannot add %s: the site could not be reached (%v)", raw, err)
}

// build makes the item from what the server sent, with its aliases.
func (a *URLAdder) build(in addInput, requested string, resp *fetch.Response) (evidence.Item, []string, error) {
	itemURL := a.canonical(resp.URL)
	if itemURL == "" {
		itemURL = requested
	}
	var it evidence.Item
	var err error
	switch kind := contentKind(resp); kind {
	case "html":
		it, err = a.fromPage(in, itemURL, resp)
	case "pdf":
		it = a.fromPDF(itemURL, resp)
	case "image":
		return evidence.Item{}, nil, addErr(in.raw, AddUnsupported, nil,
			"cannot add %s: it is an image (%s), not a page: add the page that shows it", in.raw, resp.ContentType)
	case "feed":
		return evidence.Item{}, nil, addErr(in.raw, AddUnsupported, nil,
			"cannot add %s: it is a feed or an XML document (%s), not a page: add one of its items, or the site as a source", in.raw, resp.ContentType)
	default:
		return evidence.Item{}, nil, addErr(in.raw, AddUnsupported, nil,
			"cannot add %s: it is a %s file, not a web page or a PDF", in.raw, cmpOr(resp.ContentType, "binary"))
	}
	if err != nil {
		return evidence.Item{}, nil, err
	}
	if it.DOI == "" && in.doi != "" {
		it.DOI = in.doi
		it.Provenance["doi"] = addLayerURL
	}
	it.Provenance["url"] = addLayerCurator
	var aliases []string
	for _, u := range slices.Concat([]string{requested, a.canonical(in.raw), a.canonical(resp.URL)}, resp.Redirects) {
		if c := a.canonical(u); c != "" && c != it.URL && !slices.Contains(aliases, c) {
			aliases = append(aliases, c)
		}
	}
	return it, aliases, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// contentKind sorts a response: html, pdf, image, feed or other.
func contentKind(resp *fetch.Response) string {
	ct := resp.ContentType
	switch {
	case ct == "application/pdf" || ct == "application/x-pdf" || bytes.HasPrefix(resp.Body, []byte("%PDF-")):
		return "pdf"
	case ct == "text/html" || ct == "application/xhtml+xml":
		return "html"
	case strings.HasPrefix(ct, "image/"):
		return "image"
	case ct == "application/rss+xml" || ct == "application/atom+xml" || ct == "application/xml" ||
		ct == "text/xml" || ct == "application/feed+json" || strings.HasSuffix(ct, "+xml"):
		return "feed"
	}
	return "other"
}

// fromPage reads an HTML page's metadata as ingest reads an item page,
// each field with its layer ("page:json-ld", "page:og", "page:citation"…).
func (a *URLAdder) fromPage(in addInput, itemURL string, resp *fetch.Response) (evidence.Item, error) {
	base, _ := url.Parse(resp.URL)
	m, err := page.Extract(bytes.NewReader(resp.Body), base)
	if errors.Is(err, page.ErrChallenge) {
		return evidence.Item{}, addErr(in.raw, AddBlocked, err,
			"cannot add %s: the site answered with a bot challenge instead of the page (%v); it cannot be fetched automatically", in.raw, err)
	}
	if err != nil {
		return evidence.Item{}, addErr(in.raw, AddNoMetadata, err, "cannot add %s: the page cannot be read: %v", in.raw, err)
	}
	// The page's own canonical URL, when it is on the same site.
	if m.Canonical != "" {
		if cc := a.canonical(m.Canonical); cc != "" && cc != itemURL && sameSite(cc, itemURL) {
			itemURL = cc
		}
	}
	it := evidence.Item{URL: itemURL, Provenance: map[string]string{}}
	layer := func(field string) string {
		if l := m.Provenance[field]; l != "" {
			return "page:" + l
		}
		return "page"
	}
	set := func(field string, ok bool) {
		if ok {
			it.Provenance[field] = layer(field)
		}
	}
	it.Title = m.Title
	set("title", it.Title != "")
	if strings.TrimSpace(it.Title) == "" {
		return evidence.Item{}, addErr(in.raw, AddNoMetadata, nil,
			"cannot add %s: the page has no title in any layer (JSON-LD, OpenGraph, citation_*, <h1>, <title>)", in.raw)
	}
	it.Summary = m.Summary
	set("summary", it.Summary != "")
	it.Published, it.Updated = m.Published, m.Updated
	set("published", it.Published != nil)
	set("updated", it.Updated != nil)
	it.Authors = union(m.Authors, nil)
	set("authors", len(it.Authors) > 0)
	it.Body = m.Body
	set("body", it.Body != "")
	it.DOI = m.DOI
	set("doi", it.DOI != "")
	it.Categories = union(m.Tags, nil)
	it.Links = union(m.Links, nil)
	it.PDFURLs = []string{}
	for _, d := range m.Downloads {
		if text.IsPDF(d.URL) || strings.EqualFold(d.FileType, "pdf") {
			it.PDFURLs = union(it.PDFURLs, []string{d.URL})
		}
	}
	it.Source, it.Type = evidence.SourceManual, typeFromMeta(m)
	if m.Type != "" {
		it.Provenance["type"] = layer("type")
	}
	if a.Sites != nil {
		if src, owned := a.Sites.SourceFor(itemURL); owned && src.IsItemURL(itemURL) {
			it.Source, it.Type = src.ID, src.TypeOf(itemURL)
			it.Provenance["type"] = "source:" + src.ID
		}
	}
	a.finishLinks(&it)
	return it, nil
}

// sameSite reports whether two canonical URLs are on one host (with or
// without "www.").
func sameSite(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return false
	}
	ha := strings.TrimPrefix(strings.ToLower(ua.Host), "www.")
	hb := strings.TrimPrefix(strings.ToLower(ub.Host), "www.")
	return ha == hb
}

// typeFromMeta reads an item type from the page's JSON-LD @type or
// og:type; an unknown one is an article.
func typeFromMeta(m page.Meta) string {
	t := strings.ToLower(m.Type)
	switch {
	case strings.Contains(t, "report"):
		return evidence.TypeReport
	case strings.Contains(t, "blogposting") || t == "blog":
		return evidence.TypeBlog
	case strings.Contains(t, "newsarticle"):
		return evidence.TypeNews
	case strings.Contains(t, "dataset"):
		return evidence.TypeData
	case strings.Contains(t, "podcast"):
		return evidence.TypePodcast
	case strings.Contains(t, "book") || strings.Contains(t, "chapter") || strings.Contains(t, "thesis"):
		return evidence.TypePublication
	}
	return evidence.TypeArticle
}

// finishLinks canonicalises links and PDFs with the configured sources'
// rules (so relations resolve) and picks out the external evidence cited:
// DOIs, PubMed, NICE guidance, Cochrane (as ingest does).
func (a *URLAdder) finishLinks(it *evidence.Item) {
	var links []string
	cites := []evidence.Cite{}
	seen := map[string]bool{it.URL: true}
	for _, l := range it.Links {
		c := a.canonical(l)
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		links = append(links, c)
		if cite, ok := citationOf(c); ok {
			cites = append(cites, cite)
		}
	}
	it.Links, it.Cites = links, cites
	pdfs := []string{}
	for _, p := range it.PDFURLs {
		if c := a.canonical(p); c != "" && !slices.Contains(pdfs, c) {
			pdfs = append(pdfs, c)
		}
	}
	it.PDFURLs = pdfs
}

// citationOf is ingest's rule for external evidence.
func citationOf(u string) (evidence.Cite, bool) {
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

// union appends the values of b missing from a, keeping order; never nil.
func union(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for _, v := range slices.Concat(a, b) {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
