// Package metrics records what a running `evidence serve` does and serves it
// at /metrics in the Prometheus text format. It wraps the Prometheus client
// (client_golang): no other package imports it, and no Prometheus type
// appears in this package's API. Each Metrics has its own registry (the
// global default registry is never used), with the Go runtime and process
// collectors beside the evidence_ series.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every series of this package.
const Namespace = "evidence"

// OtherRoute is the route label of a request no route pattern matched.
const OtherRoute = "other"

// Stats is what the gauges read at scrape time, each call bounded by
// Options.StatsTimeout. A failing call is logged and its series left out
// of that scrape; the scrape itself never fails.
type Stats interface {
	// CountSubscribers counts subscribers by status.
	CountSubscribers(ctx context.Context) (map[string]int, error)
	// ItemsBySource counts stored items by source ID.
	ItemsBySource(ctx context.Context) (map[string]int, error)
	// IndexDocuments is the number of documents in the search index.
	IndexDocuments(ctx context.Context) (uint64, error)
}

// Options configure New.
type Options struct {
	// Stats feeds evidence_subscribers, evidence_items and
	// evidence_index_documents; nil leaves them out.
	Stats Stats
	// StatsTimeout bounds each Stats call during a scrape (default 2 s).
	StatsTimeout time.Duration
	// Logger reports failed Stats reads; nil discards.
	Logger *slog.Logger
}

// Buckets, in seconds. HTTP requests: 1 ms (a cached static file) to 10 s
// (a page that waited on a busy store). Searches: 1 ms to 2 s, finer where
// bleve's answers usually fall (5–200 ms).
var (
	httpBuckets   = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	searchBuckets = []float64{.001, .002, .005, .01, .02, .035, .05, .075, .1, .15, .2, .35, .5, .75, 1, 1.5, 2}
)

// Metrics holds the series and the registry they are served from. Its
// methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	search        *prometheus.HistogramVec
	ingestJobs    *prometheus.CounterVec
	ingestRuns    *prometheus.CounterVec
	ingestItems   *prometheus.CounterVec
	fetchErrors   *prometheus.CounterVec
	digestRuns    *prometheus.CounterVec
	digestsSent   prometheus.Counter
	digestsFailed prometheus.Counter
}

// New builds the series on a registry of their own.
func New(opts Options) *Metrics {
	if opts.StatsTimeout <= 0 {
		opts.StatsTimeout = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "http_requests_total",
		Help: "HTTP requests served, by route pattern (\"other\" when none matched) and status code.",
	}, []string{"route", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: httpBuckets,
	}, []string{"route"})
	m.search = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "search_duration_seconds",
		Help:    "Time to run one search, by where it came from (web, api, cli).",
		Buckets: searchBuckets,
	}, []string{"via"})
	m.ingestJobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "ingest_jobs_total",
		Help: "Scheduled ingest jobs (one every minute, each ingesting the sources that are due), by outcome: ok, failed (a source failed, or the job did not run).",
	}, []string{"status"})
	m.ingestRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "ingest_runs_total",
		Help: "Ingest runs of a source, by source and outcome (ok, failing, blocked, interrupted); sources skipped as not due are not counted.",
	}, []string{"source", "status"})
	m.ingestItems = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "ingest_items_total",
		Help: "Items seen by ingest runs, by source and outcome: new, updated, unchanged, merged (another publisher's item), skipped, deferred (left for the next run).",
	}, []string{"source", "outcome"})
	m.fetchErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "fetch_errors_total",
		Help: "Problems reported by ingest runs, by source and kind: timeout, http_4xx, http_5xx, robots, blocked (refused or a bot challenge), parse, other.",
	}, []string{"source", "kind"})
	m.digestRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "digest_runs_total",
		Help: "Scheduled digest sends, by outcome: sent, empty, held (waiting for approval), failed.",
	}, []string{"status"})
	m.digestsSent = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "digests_sent_total",
		Help: "Digest messages accepted by the SMTP server.",
	})
	m.digestsFailed = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "digests_failed_total",
		Help: "Digest messages that could not be delivered.",
	})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.search,
		m.ingestJobs, m.ingestRuns, m.ingestItems, m.fetchErrors,
		m.digestRuns, m.digestsSent, m.digestsFailed,
	)
	if opts.Stats != nil {
		m.reg.MustRegister(&statsCollector{stats: opts.Stats, timeout: opts.StatsTimeout, log: opts.Logger})
	}
	return m
}

// Handler serves the registry in the Prometheus text format (OpenMetrics
// when the scraper asks for it). A series that cannot be collected is left
// out; the rest are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: true,
	})
}

// ObserveRequest counts one HTTP request by its route pattern (as
// http.ServeMux reports it: "GET /items/{id}"; "" counts as "other") and
// status, and records how long it took.
func (m *Metrics) ObserveRequest(route string, status int, took time.Duration) {
	if route == "" {
		route = OtherRoute
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
}

// ObserveSearch records one search's duration; via says where it came
// from ("web", "api", "cli"; "" counts as "other"). Its signature is the
// search service's observer hook.
func (m *Metrics) ObserveSearch(via string, d time.Duration) {
	if via == "" {
		via = "other"
	}
	m.search.WithLabelValues(via).Observe(d.Seconds())
}

// IngestRun is one source's part of an ingest job: what `run --json`
// reports for it.
type IngestRun struct {
	Source string
	// Status is ok, failing, blocked, interrupted or skipped; a skipped
	// source is not counted at all.
	Status                                             string
	New, Updated, Unchanged, Merged, Skipped, Deferred int
	// Errors are the run's problems, each naming its URL and cause; each
	// is counted in evidence_fetch_errors_total by FetchErrorKind.
	Errors []string
}

// ObserveIngestJob counts one scheduled ingest job: ok when it ran and no
// source failed.
func (m *Metrics) ObserveIngestJob(ok bool) {
	status := "ok"
	if !ok {
		status = "failed"
	}
	m.ingestJobs.WithLabelValues(status).Inc()
}

// ObserveIngest counts one source's run, its items by outcome and its
// problems by kind. A skipped source (not due, paused) did not run and
// is not counted.
func (m *Metrics) ObserveIngest(r IngestRun) {
	if r.Status == "skipped" || r.Source == "" {
		return
	}
	m.ingestRuns.WithLabelValues(r.Source, r.Status).Inc()
	for _, o := range []struct {
		outcome string
		n       int
	}{{"new", r.New}, {"updated", r.Updated}, {"unchanged", r.Unchanged}, {"merged", r.Merged}, {"skipped", r.Skipped}, {"deferred", r.Deferred}} {
		// Add(0) too: every outcome's series exists from the first run.
		m.ingestItems.WithLabelValues(r.Source, o.outcome).Add(float64(max(o.n, 0)))
	}
	for _, e := range r.Errors {
		if kind := FetchErrorKind(e); kind != "" {
			m.fetchErrors.WithLabelValues(r.Source, kind).Inc()
		}
	}
}

// ObserveDigest counts one scheduled digest send by its status (sent,
// empty, held, failed) and the messages it delivered and failed to.
func (m *Metrics) ObserveDigest(status string, sent, failed int) {
	if status == "" {
		status = "failed"
	}
	m.digestRuns.WithLabelValues(status).Inc()
	m.digestsSent.Add(float64(max(sent, 0)))
	m.digestsFailed.Add(float64(max(failed, 0)))
}

// statsCollector reads the gauges from Stats at each scrape.
type statsCollector struct {
	stats   Stats
	timeout time.Duration
	log     *slog.Logger
}

var (
	subscribersDesc = prometheus.NewDesc(Namespace+"_subscribers", "Digest subscribers, by status (read at scrape time).", []string{"status"}, nil)
	itemsDesc       = prometheus.NewDesc(Namespace+"_items", "Stored items, by source (read at scrape time).", []string{"source"}, nil)
	indexDocsDesc   = prometheus.NewDesc(Namespace+"_index_documents", "Documents in the search index (read at scrape time).", nil, nil)
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- subscribersDesc
	ch <- itemsDesc
	ch <- indexDocsDesc
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	read := func(what string, fn func(ctx context.Context) error) {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		if err := fn(ctx); err != nil {
			c.log.Warn("metrics: read for scrape failed; series left out", "series", what, "err", err)
		}
	}
	read(Namespace+"_subscribers", func(ctx context.Context) error {
		counts, err := c.stats.CountSubscribers(ctx)
		for status, n := range counts {
			if err == nil {
				ch <- prometheus.MustNewConstMetric(subscribersDesc, prometheus.GaugeValue, float64(n), status)
			}
		}
		return err
	})
	read(Namespace+"_items", func(ctx context.Context) error {
		counts, err := c.stats.ItemsBySource(ctx)
		for source, n := range counts {
			if err == nil {
				ch <- prometheus.MustNewConstMetric(itemsDesc, prometheus.GaugeValue, float64(n), source)
			}
		}
		return err
	})
	read(Namespace+"_index_documents", func(ctx context.Context) error {
		n, err := c.stats.IndexDocuments(ctx)
		if err == nil {
			ch <- prometheus.MustNewConstMetric(indexDocsDesc, prometheus.GaugeValue, float64(n))
		}
		return err
	})
}
