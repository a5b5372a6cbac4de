package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencetracker/evidence"
)

// The endpoints the HTTP benchmark loads.
const (
	EndpointSearchPage = "GET /search"
	EndpointSearchAPI  = "GET /api/v1/search"
)

// HTTPTarget is one endpoint and the request paths (with query strings)
// its clients cycle through.
type HTTPTarget struct {
	Endpoint string
	Paths    []string
}

// HTTPTargets is the benchmark's mix for the search page and the search
// API, the same queries on both: ranked words, phrases, filters (source
// and dates, type, topic), the empty query (every item, newest first) and
// the second page. The parameters are the CLI's flags (q, source, type,
// topic, from, to; page on the page, offset on the API).
func HTTPTargets() []HTTPTarget {
	sources := []string{evidence.SourceMentalElf, evidence.SourceKingsFund, evidence.SourceCentreForMH, evidence.SourceNationalVoices}
	types := []string{evidence.TypeReport, evidence.TypeBlog, evidence.TypeBriefing}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	var page, api []string
	add := func(common string, pageOnly, apiOnly string) {
		page = append(page, "/search?"+join(common, pageOnly))
		api = append(api, "/api/v1/search?"+join(common, apiOnly))
	}
	for i, t := range plainQueries {
		add(q("q", t), "", "")                                                                              // words
		add(q("q", phraseQueries[i%len(phraseQueries)]), "", "")                                            // a phrase
		add(q("q", t, "source", sources[i%len(sources)], "from", "2019-01-01", "to", "2024-12-31"), "", "") // source and dates
		switch i % 4 {
		case 0:
			add(q("q", t, "type", types[i%len(types)]), "", "")
		case 1:
			add(q("q", t, "topic", corpusTopics[i%len(corpusTopics)]), "", "")
		case 2:
			add(q("q", ""), "", "") // the empty query lists every item
		case 3:
			add(q("q", t), "page=2", "offset=20") // the second page
		}
	}
	return []HTTPTarget{{Endpoint: EndpointSearchPage, Paths: page}, {Endpoint: EndpointSearchAPI, Paths: api}}
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "&")
}

// ErrRouteNotServed is returned when a benchmarked endpoint answers 404:
// the server does not route it.
var ErrRouteNotServed = errors.New("route not served")

// HTTPOptions configure RunHTTP.
type HTTPOptions struct {
	// BaseURL is the server under load ("http://127.0.0.1:PORT").
	BaseURL string
	// Clients is the number of concurrent clients (default 50), each
	// sending one request after another, alternating the targets.
	Clients int
	// Duration is each run's length (default 20 s).
	Duration time.Duration
	// Targets default to HTTPTargets().
	Targets []HTTPTarget
	// Ingest, when set, makes a second run ("with ingest") with Ingest
	// running beside the clients until the run's context ends.
	Ingest func(ctx context.Context) IngestLoad
	// Items is the size of the data dir served (for the report).
	Items int
	// Progress, if set, is told what is being done.
	Progress func(stage string)
	// Warm requests every path once, one at a time, before the runs (so
	// they measure a server whose caches hold the mix); the time it took
	// is reported as the cold cost.
	Warm bool
}

// HTTPReport is what RunHTTP measured.
type HTTPReport struct {
	Items     int     `json:"items"`
	Clients   int     `json:"clients"`
	DurationS float64 `json:"duration_seconds"`
	// DataDir is the data dir served; Reused says it came from the cache.
	DataDir string `json:"data_dir,omitempty"`
	Reused  bool   `json:"reused"`
	// BuildS is the time to build the data dir (0 when reused).
	BuildS       float64 `json:"build_seconds"`
	MemoryMethod string  `json:"memory_method"`
	// WarmS and WarmRequests: the warm-up pass (Warm), every path once,
	// one at a time; WarmS/WarmRequests is a cold request's mean time.
	WarmS        float64   `json:"warmup_seconds,omitempty"`
	WarmRequests int       `json:"warmup_requests,omitempty"`
	Runs         []HTTPRun `json:"runs"`
}

// HTTPRun is one run: every endpoint under the same load, and the ingest
// beside it, if any.
type HTTPRun struct {
	Name string `json:"name"` // "without ingest", "with ingest"
	// WallS is the clients' time, from the first request sent to the last
	// answered (the ingest may finish its batch after).
	WallS     float64          `json:"wall_seconds"`
	Endpoints []EndpointResult `json:"endpoints"`
	Ingest    *IngestLoad      `json:"ingest,omitempty"`
	// PeakRSSBytes is the process's peak resident set (VmHWM, reset before
	// the run; 0 where unknown); RSSBytes its resident set (VmRSS) at the
	// end of the run. The process holds the server and the clients.
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
	RSSBytes     uint64 `json:"rss_bytes"`
	// RSSReset says the peak was reset before the run (else it is the
	// process's peak since it started).
	RSSReset bool `json:"rss_reset"`
}

// EndpointResult is one endpoint's figures for a run. Latencies are of
// the 2xx responses, from sending the request to reading the whole body.
type EndpointResult struct {
	Endpoint     string  `json:"endpoint"`
	Requests     int     `json:"requests"`
	RequestsPerS float64 `json:"requests_per_second"`
	// Errors are non-2xx responses and transport errors; ErrorsBy counts
	// them by "status 503" or "transport", FirstError says what the first
	// transport error was.
	Errors     int            `json:"errors"`
	ErrorsBy   map[string]int `json:"errors_by"`
	FirstError string         `json:"first_error,omitempty"`
	P50MS      float64        `json:"p50_ms"`
	P95MS      float64        `json:"p95_ms"`
	P99MS      float64        `json:"p99_ms"`
	MaxMS      float64        `json:"max_ms"`
}

// RunHTTP checks that every target is served, then loads the server for
// opts.Duration with opts.Clients clients ("without ingest") and, when
// opts.Ingest is set, again with the ingest running ("with ingest").
func RunHTTP(ctx context.Context, opts HTTPOptions) (*HTTPReport, error) {
	if opts.Clients <= 0 {
		opts.Clients = 50
	}
	if opts.Duration <= 0 {
		opts.Duration = 20 * time.Second
	}
	if len(opts.Targets) == 0 {
		opts.Targets = HTTPTargets()
	}
	say := func(s string) {
		if opts.Progress != nil {
			opts.Progress(s)
		}
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        opts.Clients * 2,
			MaxIdleConnsPerHost: opts.Clients * 2, // keep-alive for every client, no reconnecting
			IdleConnTimeout:     time.Minute,
		},
		Timeout: time.Minute,
	}
	defer client.CloseIdleConnections()
	if err := CheckTargets(ctx, client, opts.BaseURL, opts.Targets); err != nil {
		return nil, err
	}
	rep := &HTTPReport{Items: opts.Items, Clients: opts.Clients, DurationS: opts.Duration.Seconds()}
	if opts.Warm {
		say("warming up: every path once")
		start := time.Now()
		for _, t := range opts.Targets {
			for _, p := range t.Paths {
				if _, _, err := get(ctx, client, opts.BaseURL+p); err != nil {
					return nil, fmt.Errorf("bench http: warm-up GET %s: %w", p, err)
				}
				rep.WarmRequests++
			}
		}
		rep.WarmS = time.Since(start).Seconds()
	}
	runs := []struct {
		name   string
		ingest func(context.Context) IngestLoad
	}{{"without ingest", nil}}
	if opts.Ingest != nil {
		runs = append(runs, struct {
			name   string
			ingest func(context.Context) IngestLoad
		}{"with ingest", opts.Ingest})
	}
	for _, r := range runs {
		say(fmt.Sprintf("%s: %d clients for %v", r.name, opts.Clients, opts.Duration))
		run, err := loadRun(ctx, client, opts, r.name, r.ingest)
		if err != nil {
			return nil, err
		}
		rep.Runs = append(rep.Runs, run)
	}
	rep.MemoryMethod = rssMethod(rep.Runs[0].RSSReset)
	return rep, nil
}

// CheckTargets sends each target's first request once: a 404 is
// ErrRouteNotServed, any other non-2xx an error naming the status.
func CheckTargets(ctx context.Context, client *http.Client, base string, targets []HTTPTarget) error {
	for _, t := range targets {
		if len(t.Paths) == 0 {
			return fmt.Errorf("bench http: %s: no requests: %w", t.Endpoint, evidence.ErrInvalid)
		}
		status, body, err := get(ctx, client, base+t.Paths[0])
		switch {
		case err != nil:
			return fmt.Errorf("bench http: %s: %w", t.Endpoint, err)
		case status == http.StatusNotFound:
			return fmt.Errorf("bench http: GET %s answered 404: %w: the server has no %s yet (the search pages and API, web/catalog.go, routed by web.Options.Catalog)",
				t.Paths[0], ErrRouteNotServed, t.Endpoint)
		case status < 200 || status > 299:
			return fmt.Errorf("bench http: %s answered %d to GET %s, want 2xx: %s", t.Endpoint, status, t.Paths[0], excerpt(body))
		}
	}
	return nil
}

func get(ctx context.Context, client *http.Client, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, body, err
}

func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// sample is one request's outcome.
type sample struct {
	target int
	took   time.Duration
	status int // 0: transport error
	err    string
}

// loadRun runs the clients (and the ingest) for opts.Duration.
func loadRun(ctx context.Context, client *http.Client, opts HTTPOptions, name string, ingest func(context.Context) IngestLoad) (HTTPRun, error) {
	run := HTTPRun{Name: name, RSSReset: ResetPeakRSS()}
	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	var load IngestLoad
	ingestDone := make(chan struct{})
	if ingest != nil {
		go func() {
			defer close(ingestDone)
			load = ingest(runCtx)
		}()
	} else {
		close(ingestDone)
	}
	start := time.Now()
	per := make([][]sample, opts.Clients)
	var wg sync.WaitGroup
	for c := range opts.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			per[c] = runClient(runCtx, ctx, client, opts, c)
		}()
	}
	wg.Wait()
	wall := time.Since(start) // the clients' time: the ingest may finish a batch after
	<-ingestDone
	if err := ctx.Err(); err != nil {
		return run, fmt.Errorf("bench http: %w", err)
	}
	run.WallS = wall.Seconds()
	run.PeakRSSBytes = PeakRSS()
	run.RSSBytes = CurrentRSS()
	if ingest != nil {
		run.Ingest = &load
	}
	var all []sample
	for _, s := range per {
		all = append(all, s...)
	}
	for ti, t := range opts.Targets {
		er := EndpointResult{Endpoint: t.Endpoint, ErrorsBy: map[string]int{}}
		var lat []time.Duration
		for _, s := range all {
			if s.target != ti {
				continue
			}
			er.Requests++
			switch {
			case s.status == 0:
				er.Errors++
				er.ErrorsBy["transport"]++
				if er.FirstError == "" {
					er.FirstError = s.err
				}
			case s.status < 200 || s.status > 299:
				er.Errors++
				er.ErrorsBy[fmt.Sprintf("status %d", s.status)]++
			default:
				lat = append(lat, s.took)
			}
		}
		er.RequestsPerS = float64(er.Requests) / wall.Seconds()
		er.P50MS, er.P95MS, er.P99MS = ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(percentile(lat, 99))
		if len(lat) > 0 {
			er.MaxMS = ms(slices.Max(lat))
		}
		run.Endpoints = append(run.Endpoints, er)
	}
	return run, nil
}

// runClient is one client: requests one after another until runCtx ends,
// alternating the targets and cycling their paths from an offset of its
// own. A request in flight when the run ends is finished (under ctx), not
// counted as an error.
func runClient(runCtx, ctx context.Context, client *http.Client, opts HTTPOptions, c int) []sample {
	var out []sample
	for k := 0; runCtx.Err() == nil; k++ {
		ti := (c + k) % len(opts.Targets)
		paths := opts.Targets[ti].Paths
		p := paths[(c*7+k/len(opts.Targets))%len(paths)]
		t0 := time.Now()
		status, _, err := get(ctx, client, opts.BaseURL+p)
		s := sample{target: ti, took: time.Since(t0), status: status}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			s.status, s.err = 0, err.Error()
		}
		out = append(out, s)
	}
	return out
}
