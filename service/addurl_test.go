package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/store"
)

const addTestUA = "EvidenceTrackerTest/1.0 (+https://example.org/contact)"

// site is a loopback test server with a handler per path, counting the
// requests it gets (robots.txt included).
type site struct {
	*httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   map[string]int
	total  int
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{routes: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.total++
		h := s.routes[r.URL.Path]
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = h
}

func (s *site) html(path, body string) {
	s.handle(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	})
}

func (s *site) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

func (s *site) port() string { return s.URL[strings.LastIndex(s.URL, ":")+1:] }

// adderEnv is a URLAdder over a real store and index, fetching with a
// real client (guarded unless allowPrivate).
type adderEnv struct {
	adder *URLAdder
	st    *store.Store
	ix    *index.Index
}

type envOptions struct {
	guard     bool
	fetch     func(*fetch.Options)
	sources   []ingest.SourceSpec
	timeout   time.Duration
	withIndex bool
}

func newAdderEnv(t *testing.T, o envOptions) *adderEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "evidence.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fo := fetch.Options{UserAgent: addTestUA, RatePerHost: -1, Retries: -1, Timeout: 5 * time.Second}
	if o.guard {
		fo.Guard = &fetch.Guard{Hint: "set web.allow_private_fetch to allow"}
	}
	if o.fetch != nil {
		o.fetch(&fo)
	}
	fc, err := fetch.New(fo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Close)
	var srcs []ingest.Source
	for _, spec := range o.sources {
		src, err := ingest.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	env := &adderEnv{st: st}
	env.adder = &URLAdder{Store: st, Fetcher: fc, Sites: ingest.New(ingest.Options{Sources: srcs}), Timeout: o.timeout}
	if o.withIndex {
		ix, err := index.Open(ctx, index.Options{Path: filepath.Join(dir, "index.bleve")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		env.ix = ix
		env.adder.Index = func(ctx context.Context) error {
			_, err := ingest.SyncIndex(ctx, st, ix, 100, nil)
			return err
		}
	}
	return env
}

func (e *adderEnv) count(t *testing.T) int {
	t.Helper()
	n, err := e.st.CountItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wantAddErr asserts err is an *AddURLError of reason with status, whose
// message says each of says.
func wantAddErr(t *testing.T, err error, reason string, status int, says ...string) *AddURLError {
	t.Helper()
	var ae *AddURLError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %T %v; want an *AddURLError (%s)", err, err, reason)
	}
	if ae.Reason != reason || ae.HTTPStatus() != status {
		t.Errorf("reason %q status %d; want %q %d (%v)", ae.Reason, ae.HTTPStatus(), reason, status, err)
	}
	if errors.Is(err, evidence.ErrInvalid) != (status < 500) {
		t.Errorf("errors.Is(err, ErrInvalid) = %v for status %d", !(status < 500), status)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not say %q", err, s)
		}
	}
	return ae
}

const reportPage = `<!doctype html>
<html lang="en"><head>
<title>Patient activation in practice | Health Think Tank</title>
<meta property="og:title" content="Patient activation in practice">
<meta property="og:description" content="How services measure and support patient activation, and what changes when they do.">
<meta property="og:type" content="article">
<meta name="citation_title" content="Patient activation in practice">
<meta name="citation_author" content="Okafor, Ngozi">
<meta name="citation_doi" content="10.5555/pam.2024.7">
<meta name="citation_pdf_url" content="/files/pam-report.pdf">
<script type="application/ld+json">
{"@context":"https://schema.org","@type":"Report","headline":"Patient activation in practice",
 "datePublished":"2024-03-14","author":[{"@type":"Person","name":"Ngozi Okafor"},{"@type":"Person","name":"Sam Reid"}]}
</script>
</head><body><main><article>
<h1>Patient activation in practice</h1>
<p>Patient activation describes the knowledge, skills and confidence a person has in managing their own health.
This report looks at how the Patient Activation Measure is used by local services.</p>
<p>See <a href="https://doi.org/10.1000/xyz123">the original trial</a> and <a href="https://pubmed.ncbi.nlm.nih.gov/123456/">a review</a>.</p>
</article></main></body></html>`

func TestAddURLExtractsMetadataAndIndexes(t *testing.T) {
	s := newSite(t)
	s.html("/reports/pam", reportPage)
	env := newAdderEnv(t, envOptions{withIndex: true})
	ctx := context.Background()

	it, err := env.adder.AddURL(ctx, s.URL+"/reports/pam?utm_source=newsletter#summary", "curator@example.org")
	if err != nil {
		t.Fatalf("AddURL: %v", err)
	}
	wantURL := "https://127.0.0.1:" + s.port() + "/reports/pam" // canonical: https, no tracking, no fragment
	checks := []struct{ field, got, want string }{
		{"url", it.URL, wantURL},
		{"source", it.Source, evidence.SourceManual},
		{"type", it.Type, evidence.TypeReport},
		{"title", it.Title, "Patient activation in practice"},
		{"summary", it.Summary, "How services measure and support patient activation, and what changes when they do."},
		{"published", it.Published.Format("2006-01-02"), "2024-03-14"},
		{"authors", strings.Join(it.Authors, "; "), "Ngozi Okafor; Sam Reid"},
		{"doi", it.DOI, "10.5555/pam.2024.7"},
		{"pdf", strings.Join(it.PDFURLs, " "), "https://127.0.0.1:" + s.port() + "/files/pam-report.pdf"},
		{"provenance title", it.Provenance["title"], "page:json-ld"},
		{"provenance summary", it.Provenance["summary"], "page:og"},
		{"provenance doi", it.Provenance["doi"], "page:citation"},
		{"provenance authors", it.Provenance["authors"], "page:json-ld"},
		{"provenance url", it.Provenance["url"], "curator"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q; want %q", c.field, c.got, c.want)
		}
	}
	if len(it.Cites) != 2 {
		t.Errorf("cites = %+v; want the DOI and the PubMed links", it.Cites)
	}
	if it.ID == "" || it.FirstSeen.IsZero() {
		t.Errorf("stored item has no ID or first_seen: %+v", it)
	}
	res, err := env.ix.Search(ctx, index.Query{Text: "patient activation measure"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].ID != it.ID {
		t.Errorf("search hits = %+v; want the added item %s", res.Hits, it.ID)
	}
	if n, err := env.st.CountPending(ctx); err != nil || n != 0 {
		t.Errorf("pending after add = %d, %v; want 0 (indexed)", n, err)
	}
}

func TestAddURLKnownReturnsStoredWithoutFetching(t *testing.T) {
	s := newSite(t)
	s.html("/reports/pam", reportPage)
	s.handle("/old/pam", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/reports/pam", http.StatusMovedPermanently)
	})
	env := newAdderEnv(t, envOptions{})
	ctx := context.Background()
	first, err := env.adder.AddURL(ctx, s.URL+"/old/pam", "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	before := s.requests()
	for _, ref := range []string{
		s.URL + "/reports/pam",                                    // the URL
		"https://127.0.0.1:" + s.port() + "/reports/pam",          // its canonical form
		s.URL + "/reports/pam?utm_medium=email#top",               // tracking and fragment
		s.URL + "/old/pam",                                        // an alias (the redirect's origin)
		"https://doi.org/10.5555/pam.2024.7",                      // the DOI, as a link
		"http://dx.doi.org/10.5555/PAM.2024.7",                    // … old host, other case
		"doi:10.5555/pam.2024.7",                                  // … as doi:
		"10.5555/pam.2024.7",                                      // … bare
		"https://127.0.0.1:" + s.port() + "/files/pam-report.pdf", // its PDF (a report's)
	} {
		it, err := env.adder.AddURL(ctx, ref, "b@example.org")
		if err != nil {
			t.Errorf("AddURL(%s): %v", ref, err)
			continue
		}
		if it.ID != first.ID {
			t.Errorf("AddURL(%s) = item %s; want the stored %s", ref, it.ID, first.ID)
		}
	}
	if got := s.requests(); got != before {
		t.Errorf("known URLs made %d requests; want none", got-before)
	}
	if n := env.count(t); n != 1 {
		t.Errorf("%d items stored; want 1", n)
	}
}

// A DOI is resolved to its landing page: doi.org redirects, and the item
// is the landing page with the DOI (doi.org reached through connect_to).
func TestAddURLResolvesDOI(t *testing.T) {
	landing := newSite(t)
	landing.html("/article/42", `<html><head><title>Recovery stories and peer support</title>
<meta property="og:title" content="Recovery stories and peer support"></head>
<body><article><p>Personal recovery narratives in community mental health.</p></article></body></html>`)
	resolver := newSite(t)
	resolver.handle("/10.5555/rec.42", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "doi.org" {
			t.Errorf("doi.org request with Host %q", r.Host)
		}
		http.Redirect(w, r, landing.URL+"/article/42", http.StatusFound)
	})
	env := newAdderEnv(t, envOptions{fetch: func(o *fetch.Options) {
		o.ConnectTo = map[string]string{"doi.org": strings.TrimPrefix(resolver.URL, "http://")}
	}})
	it, err := env.adder.AddURL(context.Background(), "doi:10.5555/REC.42", "a@example.org")
	if err != nil {
		t.Fatalf("AddURL: %v", err)
	}
	if want := "https://127.0.0.1:" + landing.port() + "/article/42"; it.URL != want {
		t.Errorf("url = %s; want the landing page %s", it.URL, want)
	}
	if it.DOI != "10.5555/rec.42" || it.Provenance["doi"] != "url" {
		t.Errorf("doi = %q from %q; want 10.5555/rec.42 from the url", it.DOI, it.Provenance["doi"])
	}
	if it.Title != "Recovery stories and peer support" || it.Provenance["title"] != "page:og" {
		t.Errorf("title = %q from %q", it.Title, it.Provenance["title"])
	}
	// The doi.org link is now an alias; asking again fetches nothing.
	before := resolver.requests() + landing.requests()
	again, err := env.adder.AddURL(context.Background(), "https://doi.org/10.5555/rec.42", "b@example.org")
	if err != nil || again.ID != it.ID {
		t.Errorf("again = %s, %v; want %s", again.ID, err, it.ID)
	}
	if after := resolver.requests() + landing.requests(); after != before {
		t.Errorf("a known DOI made %d requests", after-before)
	}
}

// The guard refuses loopback, private and metadata addresses (with
// web.allow_private_fetch false); nothing is asked and nothing stored.
func TestAddURLRefusesPrivateAddresses(t *testing.T) {
	s := newSite(t)
	s.html("/page", reportPage)
	env := newAdderEnv(t, envOptions{guard: true})
	p := s.port()
	for _, tc := range []struct{ url, says string }{
		{"http://127.0.0.1:" + p + "/page", "refusing to fetch http://127.0.0.1:" + p + "/page: 127.0.0.1 is a loopback address (set web.allow_private_fetch to allow)"},
		{"http://[::1]:" + p + "/page", "[::1]:" + p + "/page: ::1 is a loopback address"},
		{"http://[::ffff:127.0.0.1]:" + p + "/page", "::ffff:127.0.0.1 (127.0.0.1) is a loopback address"},
		{"http://10.0.0.5/page", "10.0.0.5 is a private address"},
		{"http://192.168.0.10/", "192.168.0.10 is a private address"},
		{"http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254 is the cloud metadata address"},
		{"http://[fe80::1]/", "fe80::1 is a link-local address"},
		{"http://0.0.0.0:" + p + "/page", "0.0.0.0 is the unspecified address"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := env.adder.AddURL(context.Background(), tc.url, "a@example.org")
			wantAddErr(t, err, AddRefusedAddress, http.StatusUnprocessableEntity, tc.says)
			if !errors.Is(err, fetch.ErrRefusedAddress) {
				t.Errorf("err %v does not wrap fetch.ErrRefusedAddress", err)
			}
		})
	}
	if s.requests() != 0 || env.count(t) != 0 {
		t.Errorf("%d requests reached the server and %d items were stored; want none", s.requests(), env.count(t))
	}
}

func TestAddURLBadInput(t *testing.T) {
	env := newAdderEnv(t, envOptions{guard: true})
	for _, tc := range []struct{ in, says string }{
		{"", "empty address"},
		{"   ", "empty address"},
		{"ftp://files.example.org/report.pdf", "only http and https addresses can be added, not ftp:"},
		{"javascript:alert(1)", "not javascript:"},
		{"file:///etc/passwd", "not file:"},
		{"data:text/html,<script>alert(1)</script>", "not data:"},
		{"https://alice:s3cret@www.example.org/report", "user name or password"},
		{"https://alice@www.example.org/report", "user name or password"},
		{"doi:not-a-doi", "is not a DOI"},
		{"https://doi.org/", "needs a DOI"},
		{"/reports/pam", "not an absolute URL"},
		{"https://www.example.org/a b", "no spaces"},
		{"https:///no-host", "no host"},
		{"https://" + strings.Repeat("a", 5000) + ".example.org/", "at most 4096"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := env.adder.AddURL(context.Background(), tc.in, "a@example.org")
			ae := wantAddErr(t, err, AddInvalidURL, http.StatusBadRequest, tc.says)
			if strings.Contains(ae.Error(), "s3cret") {
				t.Errorf("the message shows the password: %v", ae)
			}
		})
	}
}

func TestAddURLFailures(t *testing.T) {
	s := newSite(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	s.handle("/silent", func(w http.ResponseWriter, r *http.Request) {
		select { // never answers
		case <-r.Context().Done():
		case <-release:
		}
	})
	fifty := int64(50 << 20)
	s.handle("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.FormatInt(fifty, 10))
		chunk := make([]byte, 1<<20)
		for i := int64(0); i < fifty>>20; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	s.handle("/huge-chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		chunk := []byte(strings.Repeat("<p>padding</p>", 1<<16))
		for written := 0; written < 50<<20; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	s.html("/challenge", `<!doctype html><html><head><title>Just a moment...</title></head>
<body><div id="challenge-running">Checking your browser before accessing the site.</div></body></html>`)
	s.handle("/cf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cf-Mitigated", "challenge")
		w.WriteHeader(http.StatusForbidden)
	})
	s.handle("/photo.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	})
	s.handle("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>`)
	})
	s.handle("/data.zip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Write([]byte("PK\x03\x04"))
	})
	s.html("/untitled", `<html><body><div>   </div></body></html>`)
	s.handle("/broken", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	s.handle("/members", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	s.handle("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	s.html("/private/page", reportPage)

	// The silent server is given 200ms; the rest 5s (reading 15 MiB under
	// the race detector takes a while).
	short := newAdderEnv(t, envOptions{fetch: func(o *fetch.Options) { o.Timeout = 200 * time.Millisecond }})
	env := newAdderEnv(t, envOptions{})
	cases := []struct {
		name, path, reason string
		status             int
		says               []string
	}{
		{"never answers", "/silent", AddTimeout, http.StatusGatewayTimeout, []string{"did not answer in time", "timed out after 200ms"}},
		{"50 MB with a length", "/huge", AddTooLarge, http.StatusUnprocessableEntity, []string{"too big", "15 MiB", "fetch.max_body_bytes"}},
		{"50 MB chunked", "/huge-chunked", AddTooLarge, http.StatusUnprocessableEntity, []string{"too big", "15 MiB"}},
		{"bot challenge page", "/challenge", AddBlocked, http.StatusBadGateway, []string{"bot challenge", "Just a moment"}},
		{"cf-mitigated", "/cf", AddBlocked, http.StatusBadGateway, []string{"bot challenge", "cf-mitigated"}},
		{"image", "/photo.png", AddUnsupported, http.StatusUnprocessableEntity, []string{"is an image (image/png)", "add the page that shows it"}},
		{"feed", "/feed.xml", AddUnsupported, http.StatusUnprocessableEntity, []string{"is a feed", "application/rss+xml"}},
		{"zip", "/data.zip", AddUnsupported, http.StatusUnprocessableEntity, []string{"application/zip file, not a web page or a PDF"}},
		{"no title", "/untitled", AddNoMetadata, http.StatusUnprocessableEntity, []string{"no title in any layer"}},
		{"404", "/gone", AddNotFound, http.StatusUnprocessableEntity, []string{"no such page (HTTP 404)"}},
		{"503", "/broken", AddUnreachable, http.StatusBadGateway, []string{"the site failed", "503"}},
		{"401", "/members", AddBlocked, http.StatusBadGateway, []string{"sign-in or a subscription"}},
		{"robots.txt", "/private/page", AddDisallowed, http.StatusUnprocessableEntity, []string{"robots.txt does not allow"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			e := env
			if tc.path == "/silent" {
				e = short
			}
			_, err := e.adder.AddURL(context.Background(), s.URL+tc.path, "a@example.org")
			wantAddErr(t, err, tc.reason, tc.status, append(tc.says, s.URL+tc.path)...)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if n := env.count(t) + short.count(t); n != 0 {
		t.Errorf("%d items stored; want none", n)
	}

	// The whole add has a deadline too (URLAdder.Timeout).
	env = newAdderEnv(t, envOptions{timeout: 150 * time.Millisecond})
	_, err := env.adder.AddURL(context.Background(), s.URL+"/silent", "a@example.org")
	wantAddErr(t, err, AddTimeout, http.StatusGatewayTimeout, "did not answer within 150ms")

	// No such host.
	_, err = env.adder.AddURL(context.Background(), "http://no-such-host.invalid/page", "a@example.org")
	wantAddErr(t, err, AddNotFound, http.StatusUnprocessableEntity, "no such host")
}

func minimalPDF(info string) string {
	return "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj\n<< " + info + " >>\nendobj\n" +
		"trailer\n<< /Root 1 0 R /Info 2 0 R >>\n%%EOF\n"
}

func TestAddURLPDF(t *testing.T) {
	s := newSite(t)
	pdf := func(path, body string, header map[string]string) {
		s.handle(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			for k, v := range header {
				w.Header().Set(k, v)
			}
			fmt.Fprint(w, body)
		})
	}
	pdf("/docs/pam-review.pdf", minimalPDF(`/Title (Patient activation: a review \(2024\)) /Author (Ngozi Okafor; Sam Reid)`), nil)
	pdf("/docs/utf16.pdf", minimalPDF(`/Title <FEFF00530065006C0066002D006D0061006E006100670065006D0065006E0074>`), nil)
	pdf("/download", minimalPDF(`/Title (Microsoft Word - draft3.docx)`), map[string]string{
		"Content-Disposition": `attachment; filename="recovery-stories_2024.pdf"`,
	})
	pdf("/files/what-is-good-supported-self-management.pdf", "%PDF-1.4\n%%EOF\n", nil)
	xmp := `%PDF-1.6
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Personal recovery &amp; peer support</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>National Voices</rdf:li></rdf:Seq></dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta>
%%EOF`
	pdf("/xmp.pdf", xmp, nil)
	env := newAdderEnv(t, envOptions{})
	for _, tc := range []struct{ path, title, layer, authors string }{
		{"/docs/pam-review.pdf", "Patient activation: a review (2024)", "pdf:info", "Ngozi Okafor; Sam Reid"},
		{"/docs/utf16.pdf", "Self-management", "pdf:info", ""},
		{"/download", "Recovery stories 2024", "content-disposition", ""},
		{"/files/what-is-good-supported-self-management.pdf", "What is good supported self management", "url", ""},
		{"/xmp.pdf", "Personal recovery & peer support", "pdf:xmp", "National Voices"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			it, err := env.adder.AddURL(context.Background(), s.URL+tc.path, "a@example.org")
			if err != nil {
				t.Fatalf("AddURL: %v", err)
			}
			if it.Title != tc.title || it.Provenance["title"] != tc.layer {
				t.Errorf("title %q from %q; want %q from %q", it.Title, it.Provenance["title"], tc.title, tc.layer)
			}
			if got := strings.Join(it.Authors, "; "); got != tc.authors {
				t.Errorf("authors %q; want %q", got, tc.authors)
			}
			if it.Type != evidence.TypeReport || it.Source != evidence.SourceManual || len(it.PDFURLs) != 1 || it.PDFURLs[0] != it.URL {
				t.Errorf("item = type %s source %s pdfs %v; want a manual report that is its own PDF", it.Type, it.Source, it.PDFURLs)
			}
		})
	}
}

// A page of a configured source, not yet ingested, is stored as that
// source's item (its type rules apply), so its next ingest updates it.
func TestAddURLOwnedBySource(t *testing.T) {
	s := newSite(t)
	s.html("/insight-and-analysis/reports/pam", reportPage)
	s.html("/about", `<html><head><title>About us</title></head><body><h1>About us</h1><p>Who we are.</p></body></html>`)
	env := newAdderEnv(t, envOptions{sources: []ingest.SourceSpec{{
		ID: "kings-fund", Name: "The King's Fund", Home: "https://127.0.0.1/",
		Include: []string{`/insight-and-analysis/`},
		Types:   []ingest.TypeRuleSpec{{Pattern: `/reports/`, Type: evidence.TypeReport}},
		// A long read by its URL, whatever the page says.
		DefaultType: evidence.TypeLongRead,
	}}})
	it, err := env.adder.AddURL(context.Background(), s.URL+"/insight-and-analysis/reports/pam", "a@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if it.Source != "kings-fund" || it.Type != evidence.TypeReport || it.Provenance["type"] != "source:kings-fund" {
		t.Errorf("source %s type %s (%s); want kings-fund report by its rules", it.Source, it.Type, it.Provenance["type"])
	}
	other, err := env.adder.AddURL(context.Background(), s.URL+"/about", "a@example.org")
	if err != nil || other.ID == it.ID || other.Source != evidence.SourceManual {
		t.Errorf("a page of the site that is no item of the source: source %q, %v; want a manual item of its own", other.Source, err)
	}
	// The same title and date under another URL is the same work: the
	// stored item is the answer, not a second one.
	s.html("/mirror/pam", reportPage)
	again, err := env.adder.AddURL(context.Background(), s.URL+"/mirror/pam", "a@example.org")
	if err != nil || again.ID != it.ID {
		t.Errorf("the same work under another URL = %s, %v; want the stored %s", again.ID, err, it.ID)
	}
}
