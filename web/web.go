// Package web serves Evidence Tracker's pages and API: server-rendered
// html/template pages with embedded assets, working without JavaScript.
// It calls the operations it needs through small interfaces (declared
// here) that cmd wires to the service layer; it never touches the store
// or the index.
package web

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Subscriptions is the digest sign-up service.
type Subscriptions interface {
	Choices() (topics []string, sources []evidence.SourceName)
	SignUp(ctx context.Context, email string, p evidence.Preferences) error
	Confirm(ctx context.Context, token string) (evidence.Subscriber, error)
	ForPreferences(ctx context.Context, token string) (evidence.Subscriber, error)
	UpdatePreferences(ctx context.Context, token string, p evidence.Preferences) (evidence.Subscriber, error)
	ForUnsubscribe(ctx context.Context, token string) (evidence.Subscriber, error)
	Unsubscribe(ctx context.Context, token string) (evidence.Subscriber, error)
	// PersonalLinks are a subscriber's signed preferences and unsubscribe URLs.
	PersonalLinks(sub evidence.Subscriber) (preferences, unsubscribe string)
}

// Options configure the server.
type Options struct {
	Subscriptions Subscriptions
	Digests       Digests
	// Catalog serves search, items, topics and sources; nil leaves them out.
	Catalog Catalog
	// Accounts signs users in; nil means nobody can (and web.public must
	// then be true for anyone to read).
	Accounts Accounts
	// Metrics serves /metrics and counts requests; nil leaves it out.
	Metrics Metrics
	// Public lets anonymous readers search and read (web.public).
	Public bool
	// The librarians' workbench; each nil leaves its pages out.
	Collections     Collections
	Saved           SavedSearches
	Curation        Curation
	SubscriberAdmin SubscriberAdmin
	// SourcesOPML writes the configured sources as OPML (/sources.opml).
	SourcesOPML func(ctx context.Context) ([]byte, error)
	// Health reports the /healthz document and whether all is well.
	Health func(ctx context.Context) (doc any, ok bool)
	// BaseURL is web.base_url: canonical links, and whether cookies are Secure.
	BaseURL  string
	SiteName string
	// SignUpRate is sign-ups allowed per client address per hour (default 10).
	SignUpRate int
	Logger     *slog.Logger
	Now        func() time.Time
}

// Server is the web application.
type Server struct {
	opts      Options
	log       *slog.Logger
	pages     map[string]*template.Template
	assetHash string
	mux       *http.ServeMux
	signups   *limiter
	logins    *limiter // sign-in attempts (auth.go)
	secure    bool
	micro     microCache // anonymous catalogue responses, a few seconds (conditional.go)
}

var pageNames = []string{"home", "message", "subscribe", "preferences", "unsubscribe", "digests", "search", "item", "topics", "topic", "sources", "login"}

// New parses the templates and builds the routes.
func New(opts Options) (*Server, error) {
	if opts.SiteName == "" {
		opts.SiteName = "Evidence Tracker"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SignUpRate <= 0 {
		opts.SignUpRate = 10
	}
	s := &Server{opts: opts, log: opts.Logger, pages: map[string]*template.Template{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if u, err := url.Parse(opts.BaseURL); err == nil && u.Scheme == "https" {
		s.secure = true
	}
	base, err := template.New("layout").Funcs(template.FuncMap{
		"sub":   func(a, b int) int { return a - b },
		"add":   func(a, b int) int { return a + b },
		"lower": strings.ToLower,
	}).ParseFS(templateFS, "templates/layout.html", "templates/choices.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	css, err := fs.ReadFile(staticFS, "static/site.css")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	s.assetHash = hex.EncodeToString(sum[:6])
	s.signups = newLimiter(opts.SignUpRate, time.Hour, opts.Now)
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	if s.opts.Catalog == nil {
		m.HandleFunc("GET /{$}", s.home)
	}
	if s.opts.Digests != nil {
		m.HandleFunc("GET /digests", s.requireRead(s.digestList))
		m.HandleFunc("GET /digests/{week}", s.requireRead(s.digestPage))
		m.HandleFunc("GET /digests.atom", s.requireRead(s.digestFeed))
	}
	m.HandleFunc("GET /healthz", s.healthz)
	s.authRoutes(m)
	s.metricsRoutes(m)
	if s.opts.Catalog != nil {
		s.catalogRoutes(m)
		s.collectionRoutes(m)
		s.savedRoutes(m)
		s.opmlRoutes(m)
		s.apiRoutes(m)
	}
	s.draftRoutes(m)
	m.Handle("GET /static/", s.static())
	if s.opts.Subscriptions != nil {
		m.HandleFunc("GET /subscribe", s.subscribeForm)
		m.HandleFunc("POST /subscribe", s.subscribe)
		m.HandleFunc("GET /confirm", s.confirm)
		m.HandleFunc("GET /preferences", s.preferencesForm)
		m.HandleFunc("POST /preferences", s.preferences)
		m.HandleFunc("GET /unsubscribe", s.unsubscribeForm)
		m.HandleFunc("POST /unsubscribe", s.unsubscribe)
	}
	m.HandleFunc("/", s.notFound)
	s.mux = m
}

// notFound answers what no route matched: 405 (with Allow) when the path
// has a page for another method, else the 404 page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		probe := r.Clone(r.Context())
		probe.Method = http.MethodGet
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			w.Header().Set("Allow", "GET, HEAD")
			s.fail(w, r, http.StatusMethodNotAllowed, "Not allowed", "This page can only be read, not sent a "+r.Method+" request.")
			return
		}
	}
	s.fail(w, r, http.StatusNotFound, "Page not found", "There is no page at this address. It may have moved, or the link may be mistyped.")
}

// Handler is the whole site with its middleware: security headers, panic
// recovery, body limits and the access log.
func (s *Server) Handler() http.Handler {
	return s.accessLog(s.observe(s.recoverPanics(s.secureHeaders(s.conditional(s.limitBody(s.authenticate(s.mux)))))))
}

// page is what every template gets.
type page struct {
	Site, Title, Section string
	Canonical            string
	AssetVersion         string
	// Feed is the page's Atom feed, if it has one (FeedTitle names it).
	Feed, FeedTitle string
	NoIndex         bool
	CSRF            string
	Nav             []navLink
	Data            any
	// User is who is signed in (nil: nobody); SignIn shows the sign-in
	// link. Both are filled by render (pageAccount).
	User   *evidence.User
	SignIn bool
	// Collect offers a curator "add to collection" (collections.go).
	Collect *collectionPicker
}

type navLink struct {
	URL, Label string
	Current    bool
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Site = s.opts.SiteName
	p.AssetVersion = s.assetHash
	s.pageAccount(w, r, &p)
	if p.Canonical == "" && s.opts.BaseURL != "" {
		p.Canonical = strings.TrimRight(s.opts.BaseURL, "/") + r.URL.Path
	}
	if s.opts.Catalog != nil {
		p.Nav = append(p.Nav, navLink{URL: "/search", Label: "Search", Current: p.Section == "search"},
			navLink{URL: "/topics", Label: "Topics", Current: p.Section == "topics"},
			navLink{URL: "/sources", Label: "Sources", Current: p.Section == "sources"})
		s.collectionPage(r, name, &p)
	}
	if s.opts.Digests != nil {
		p.Nav = append(p.Nav, navLink{URL: "/digests", Label: "Weekly digests", Current: p.Section == "digests"})
	}
	if s.opts.Subscriptions != nil {
		p.Nav = append(p.Nav, navLink{URL: "/subscribe", Label: "Subscribe", Current: p.Section == "subscribe"})
	}
	var buf strings.Builder
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("web: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

type message struct {
	Kind              string // "", ok, error
	Paragraphs        []string
	LinkURL, LinkText string
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, title string, paras ...string) {
	s.render(w, r, status, "message", page{Title: title, NoIndex: true, Data: message{Kind: "error", Paragraphs: paras, LinkURL: "/", LinkText: "Go to the home page"}})
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", page{Title: s.opts.SiteName})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	doc, ok := any(map[string]string{"status": "ok"}), true
	if s.opts.Health != nil {
		doc, ok = s.opts.Health(r.Context())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(doc)
}

func (s *Server) static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServer(http.FS(sub))
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") == s.assetHash {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		w.Header().Set("ETag", `"`+s.assetHash+`"`)
		files.ServeHTTP(w, r)
	}))
}

// errorText is the part of an error a reader should see: the message
// without the sentinel's suffix.
func errorText(err error) string {
	msg := err.Error()
	for _, suffix := range []string{": " + evidence.ErrInvalid.Error(), ": " + evidence.ErrNotFound.Error(), ": " + evidence.ErrConflict.Error()} {
		msg = strings.ReplaceAll(msg, suffix, "")
	}
	msg = strings.TrimPrefix(msg, "link: ")
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg
}
