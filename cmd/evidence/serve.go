package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/digest"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/metrics"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
	"github.com/evidencetracker/evidence/web"
)

// serverState is what a running serve shares with the commands it runs:
// the open store and index, and one lock so that ingest, reindex and the
// index catch-up do not run at once.
type serverState struct {
	st      *store.Store
	ix      *index.Index
	writeMu sync.Mutex
}

// serveTick is how often serve looks for due sources.
const serveTick = time.Minute

func newServeCommand(a *app) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT]",
		Short: "Run the web server and the schedule; hold the data dir for every other command",
		Long: `Run Evidence Tracker as one long-running process on the data dir: it keeps
the store and the index open, ingests each source at its poll interval (the
'run' job, looked at every minute), sends the weekly digest at
digest.schedule (a cron spec in digest.timezone; with digest.require_approval
an unapproved draft waits, and /healthz says so), and serves the web on
web.addr: /subscribe, /confirm, /preferences, /unsubscribe (one-click, RFC
8058), /digests, /digests/WEEK, /digests.atom, the search, item, topic and
sources pages (/, /search, /items/ID, /topics, /sources) with their Atom
feeds, the JSON API under /api/v1 (OpenAPI at /api/v1/openapi.json),
/login and /logout (accounts: evidence users; with web.public false readers
sign in too), /healthz (JSON: store, index, each source's last ingest, the
next digest) and /metrics (Prometheus: requests by route, searches, ingest
runs, fetch errors, digests, item and subscriber counts).

While it runs, every other command on the same data dir (search, show,
sources, topics, check, ingest, reindex, digest …, subscribers …) is run
inside the server over the control socket DATA_DIR/serve.sock, with the
same output (users … works on the store beside it: it asks for passwords
on your terminal). A second serve on the data dir refuses to start and names the
process that holds it. SIGTERM or Ctrl-C stops it cleanly: a running ingest
is cut short and recorded as interrupted, nothing fetched is lost.`,
		Example: `  evidence serve
  evidence serve --addr 127.0.0.1:8081`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runServe(cmd.Context(), addr)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "listen on HOST:PORT (default web.addr)")
	return cmd
}

func (a *app) runServe(ctx context.Context, addr string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if addr != "" {
		cfg.Web.Addr = addr
	}
	loc, err := time.LoadLocation(cfg.Digest.Timezone)
	if err != nil {
		return fmt.Errorf("config digest.timezone %q: %w", cfg.Digest.Timezone, err)
	}
	spec, err := cron.ParseStandard("CRON_TZ=" + cfg.Digest.Timezone + " " + cfg.Digest.Schedule)
	if err != nil {
		return fmt.Errorf("config digest.schedule %q: %w", cfg.Digest.Schedule, err)
	}
	lock, err := acquireServeLock(cfg.DataDir, cfg.Web.Addr, time.Now())
	if err != nil {
		return err
	}
	defer lock.release()

	st, ix, closeAll, err := a.openBoth(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer closeAll()
	a.srv = &serverState{st: st, ix: ix}
	sch := &serveSchedule{a: a, cfg: cfg, spec: spec, loc: loc, st: st, ix: ix, now: time.Now}
	ws, err := a.buildWebServer(cfg, st, ix, sch.health)
	if err != nil {
		return err
	}
	defer ws.close()
	sch.digests, sch.metrics = ws.digests, ws.metrics
	ln, err := net.Listen("tcp", cfg.Web.Addr)
	if err != nil {
		return fmt.Errorf("serve: listen on web.addr %s: %w", cfg.Web.Addr, err)
	}
	hs := newHTTPServer(ws.web.Handler())
	cs, err := listenControl(cfg.DataDir, a.logger(), a.runInServer)
	if err != nil {
		ln.Close()
		return err
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- hs.Serve(ln) }()
	go cs.serve(ctx)
	schedCtx, stopSched := context.WithCancel(ctx)
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		sch.loop(schedCtx)
	}()
	fmt.Fprintf(a.stdout, "evidence serve: listening on http://%s (data dir %s)\n", ln.Addr(), cfg.DataDir)
	a.logger().Info("serve: started", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "next_digest", sch.nextDigest(time.Now()))

	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-httpErr:
		serveErr = fmt.Errorf("serve: web server: %w", err)
	}
	a.logger().Info("serve: shutting down")
	stopSched()
	<-schedDone
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdownCtx)
	cs.close()
	a.logger().Info("serve: stopped")
	return serveErr
}

// webServer is the web side of serve and what it was built with.
type webServer struct {
	web     *web.Server
	digests *service.Digests
	metrics *metrics.Metrics
	catalog *service.Catalog
	close   func() // releases the SMTP connection if one was opened
}

// buildWebServer wires the web server over an open store and index as
// serve runs it: the services web calls, the metrics (/metrics), health
// for /healthz. serve and `bench http` both build it here.
func (a *app) buildWebServer(cfg *config.Config, st *store.Store, ix *index.Index, health func(context.Context) (any, bool)) (*webServer, error) {
	digests, subs, closeMail, err := a.digestServices(cfg, st)
	if err != nil {
		return nil, err
	}
	m := metrics.New(metrics.Options{Stats: serveStats{st: st, ix: ix}, Logger: a.logger()})
	cat := a.catalog(cfg, st, ix)
	cat.ObserveSearch = func(d time.Duration) { m.ObserveSearch("web", d) }
	// Repeated searches (the home page, popular queries, result pages)
	// are answered from memory; results may lag an ingest by 30 s.
	cat.Cache = &service.SearchCache{Size: 512, MaxStale: 30 * time.Second}
	colls := a.collectionsService(cfg, st)
	if adder, err := a.urlAdder(cfg, st, ix); err == nil {
		colls.URLs = adder
	} else {
		a.logger().Warn("serve: adding items by URL is off", "err", err)
	}
	w, err := web.New(web.Options{
		Subscriptions: subs, Digests: digests, Health: health, Metrics: m, Catalog: cat, Collections: colls,
		Accounts: a.accounts(cfg, st), Public: cfg.Web.Public,
		BaseURL: cfg.Web.BaseURL, SiteName: "Evidence Tracker", Logger: a.logger(),
	})
	if err != nil {
		closeMail()
		return nil, err
	}
	return &webServer{web: w, digests: digests, metrics: m, catalog: cat, close: closeMail}, nil
}

// newHTTPServer is serve's HTTP server (its timeouts and limits) for h.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}
}

// runInServer runs one command line inside the server, on its open store
// and index, writing to the given streams (the control channel's).
func (a *app) runInServer(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sub := &app{stdout: stdout, stderr: stderr, stdin: stdin, configFile: a.configFile, loaded: a.loaded, srv: a.srv}
	cfg := a.loaded.Config
	sub.log = newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	return sub.run(ctx, args)
}

// serveSchedule runs the due ingests and the weekly digest.
type serveSchedule struct {
	a       *app
	cfg     *config.Config
	spec    cron.Schedule
	loc     *time.Location
	st      *store.Store
	ix      *index.Index
	digests *service.Digests
	metrics *metrics.Metrics // nil: nothing recorded
	now     func() time.Time

	mu         sync.Mutex
	lastIngest *time.Time
	ingestOK   bool
	lastDigest *digestRun
}

type digestRun struct {
	Week   string    `json:"week"`
	At     time.Time `json:"at"`
	Status string    `json:"status"` // sent, empty, held, failed
	Sent   int       `json:"sent"`
	Failed int       `json:"failed"`
	Error  string    `json:"error,omitempty"`
}

func (s *serveSchedule) nextDigest(after time.Time) time.Time { return s.spec.Next(after) }

// loop ingests what is due every serveTick and sends the digest when its
// schedule says, until ctx ends.
func (s *serveSchedule) loop(ctx context.Context) {
	nextIngest := s.now()
	nextDigest := s.nextDigest(s.now())
	for {
		now := s.now()
		if !now.Before(nextIngest) {
			s.ingest(ctx)
			nextIngest = s.now().Add(serveTick)
		}
		if now = s.now(); !now.Before(nextDigest) {
			s.sendDigest(ctx, now)
			nextDigest = s.nextDigest(s.now())
		}
		wait := min(nextIngest.Sub(s.now()), nextDigest.Sub(s.now()))
		if wait < 0 {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// job runs one command line inside the server, its output to the log.
func (s *serveSchedule) job(ctx context.Context, args ...string) (int, []byte) {
	var out bytes.Buffer
	code := s.a.runInServer(ctx, args, strings.NewReader(""), &out, logWriter{s.a})
	return code, out.Bytes()
}

func (s *serveSchedule) ingest(ctx context.Context) {
	code, out := s.job(ctx, "run", "--json")
	if ctx.Err() != nil {
		return
	}
	s.observeIngest(code, out)
	t := s.now()
	s.mu.Lock()
	s.lastIngest, s.ingestOK = &t, code == exitOK
	s.mu.Unlock()
	if code != exitOK {
		s.a.logger().Warn("serve: scheduled ingest had failures", "exit", code, "summary", string(bytes.TrimSpace(out)))
	}
}

func (s *serveSchedule) sendDigest(ctx context.Context, now time.Time) {
	week := digest.LastComplete(now, s.loc).String()
	code, out := s.job(ctx, "digest", "send", "--week", week, "--json")
	if ctx.Err() != nil {
		return
	}
	run := &digestRun{Week: week, At: now, Status: "failed"}
	var rep service.SendReport
	if json.Unmarshal(out, &rep) == nil && rep.Status != "" {
		run.Status, run.Sent, run.Failed = rep.Status, rep.Sent, rep.Failed
	}
	if code != exitOK && run.Status != "held" {
		run.Error = fmt.Sprintf("digest send exited %d", code)
	}
	if s.metrics != nil {
		s.metrics.ObserveDigest(run.Status, run.Sent, run.Failed)
	}
	if run.Status == "held" {
		s.a.logger().Warn("serve: digest waiting for approval; not sent", "week", week)
	} else {
		s.a.logger().Info("serve: digest", "week", week, "status", run.Status, "sent", run.Sent, "failed", run.Failed)
	}
	s.mu.Lock()
	s.lastDigest = run
	s.mu.Unlock()
}

// health is /healthz: the store and index answer, each source's last
// ingest, the digest's next time and last outcome.
func (s *serveSchedule) health(ctx context.Context) (any, bool) {
	ok := true
	doc := map[string]any{"status": "ok"}
	storeDoc := map[string]any{"ok": true}
	if n, err := s.st.CountItems(ctx); err != nil {
		ok, storeDoc["ok"], storeDoc["error"] = false, false, err.Error()
	} else {
		storeDoc["items"] = n
	}
	doc["store"] = storeDoc
	indexDoc := map[string]any{"ok": true}
	if n, err := s.ix.Count(); err != nil {
		ok, indexDoc["ok"], indexDoc["error"] = false, false, err.Error()
	} else {
		indexDoc["documents"] = n
	}
	doc["index"] = indexDoc
	type src struct {
		ID          string     `json:"id"`
		Status      string     `json:"status"`
		Items       int        `json:"items"`
		LastSuccess *time.Time `json:"last_success"`
		LastError   string     `json:"last_error,omitempty"`
		NextPoll    *time.Time `json:"next_poll"`
	}
	sources := []src{}
	if list, err := s.st.SourceStatuses(ctx); err == nil {
		for _, ss := range list {
			if _, configured := s.cfg.Sources[ss.ID]; !configured {
				continue
			}
			sources = append(sources, src{ID: ss.ID, Status: ss.Status, Items: ss.Items, LastSuccess: ss.LastSuccess, LastError: ss.LastError, NextPoll: ss.NextPoll})
		}
	}
	doc["sources"] = sources
	s.mu.Lock()
	dg := map[string]any{"schedule": s.cfg.Digest.Schedule, "timezone": s.cfg.Digest.Timezone,
		"next": s.nextDigest(s.now()), "last": s.lastDigest, "require_approval": s.cfg.Digest.RequireApproval}
	if s.lastDigest != nil && s.lastDigest.Status == "held" {
		dg["waiting_for_approval"] = s.lastDigest.Week
	}
	if s.lastIngest != nil {
		doc["last_ingest"] = map[string]any{"at": *s.lastIngest, "ok": s.ingestOK}
	}
	s.mu.Unlock()
	doc["digest"] = dg
	if !ok {
		doc["status"] = "failing"
	}
	return doc, ok
}

// logWriter sends a scheduled job's stderr to the server's log.
type logWriter struct{ a *app }

func (w logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			fmt.Fprintln(w.a.stderr, line)
		}
	}
	return len(p), nil
}

// serverReindex rebuilds the server's open index in place: every item
// marked pending, documents with no item removed, then re-tagged and
// re-indexed (the index files stay open; a mapping change needs a
// restart of serve, which rebuilds on open).
func (a *app) serverReindex(ctx context.Context, cfg *config.Config) (int, error) {
	a.srv.writeMu.Lock()
	defer a.srv.writeMu.Unlock()
	st, ix := a.srv.st, a.srv.ix
	if err := st.ResetIndexed(ctx); err != nil {
		return 0, err
	}
	want, err := st.IndexedHashes(ctx)
	if err != nil {
		return 0, err
	}
	got, err := ix.Hashes(ctx)
	if err != nil {
		return 0, err
	}
	var orphans []string
	for id := range got {
		if _, ok := want[id]; !ok {
			orphans = append(orphans, id)
		}
	}
	if len(orphans) > 0 {
		if err := ix.Delete(ctx, orphans); err != nil {
			return 0, err
		}
	}
	return a.syncIndex(ctx, cfg, st, ix, false)
}
