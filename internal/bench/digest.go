package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/digest"
	"github.com/evidencetracker/evidence/internal/smtptest"
	"github.com/evidencetracker/evidence/mail"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

// DigestOptions configure the digest benchmark.
type DigestOptions struct {
	Items       int // items in the store (default 100,000)
	PerWeek     int // items first seen per week (default 100)
	Subscribers int // default 10,000
	Connections int // SMTP connections sending at once (default 2)
	Seed        uint64
	// Corpus gives the items' titles, summaries, authors and topics.
	Corpus *Corpus
	// Topics is the taxonomy subscribers choose from.
	Topics []string
	Logger *slog.Logger
	// Progress, if set, is told what is being done.
	Progress func(stage string)
}

// DigestReport is what the digest benchmark measured.
type DigestReport struct {
	Items        int     `json:"items"`
	WeekItems    int     `json:"week_items"`
	Subscribers  int     `json:"subscribers"`
	FillSeconds  float64 `json:"fill_seconds"`
	BuildMS      float64 `json:"build_ms"` // median of 5 builds of the week's archive copy
	HTMLBytes    int     `json:"html_bytes"`
	Sent         int     `json:"sent"`
	Empty        int     `json:"empty"`
	Failed       int     `json:"failed"`
	SendSeconds  float64 `json:"send_seconds"`
	MessagesPerS float64 `json:"messages_per_second"`
	PeakRSSMiB   float64 `json:"peak_rss_mib"`
	PeakMethod   string  `json:"peak_method"`
	Connections  int     `json:"smtp_connections"`
}

// RunDigest fills a throw-away store with opts.Items items (opts.PerWeek
// first seen each week, topics stored), times the build of one week's
// digest, then sends that week's personalised digest to opts.Subscribers
// subscribers (random topics) through the real SMTP sender to an
// in-process SMTP server on 127.0.0.1, measuring messages per second and
// peak memory.
func RunDigest(ctx context.Context, opts DigestOptions) (DigestReport, error) {
	if opts.Items <= 0 {
		opts.Items = 100_000
	}
	if opts.PerWeek <= 0 {
		opts.PerWeek = 100
	}
	if opts.Subscribers <= 0 {
		opts.Subscribers = 10_000
	}
	if opts.Connections <= 0 {
		opts.Connections = 2
	}
	say := func(s string) {
		if opts.Progress != nil {
			opts.Progress(s)
		}
	}
	rep := DigestReport{Items: opts.Items, Subscribers: opts.Subscribers}
	dir, err := os.MkdirTemp("", "evidence-bench-digest-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "evidence.db"), Logger: opts.Logger})
	if err != nil {
		return rep, err
	}
	defer st.Close()

	// Items: the newest week is the one sent; first seen spaced evenly.
	loc, _ := time.LoadLocation("Europe/London")
	if loc == nil {
		loc = time.UTC
	}
	week := digest.LastComplete(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), loc)
	end := week.End(loc)
	step := 7 * 24 * time.Hour / time.Duration(opts.PerWeek)
	say(fmt.Sprintf("storing %d items", opts.Items))
	start := time.Now()
	tags := map[string][]evidence.TopicTag{}
	for i := range opts.Items {
		it := opts.Corpus.Item(i)
		seen := end.Add(-time.Duration(i+1) * step)
		pub := seen.Add(-36 * time.Hour)
		it.FirstSeen, it.Published, it.Body = seen, &pub, ""
		it.ContentHash = evidence.ComputeHash(&it)
		topics := it.Topics
		it.Topics = nil
		if _, err := st.UpsertItem(ctx, &it); err != nil {
			return rep, err
		}
		var tt []evidence.TopicTag
		for j, t := range topics {
			tt = append(tt, evidence.TopicTag{Name: t, Strength: float64(10 - j), Where: evidence.TopicTitle, Hits: 1})
		}
		if len(tt) > 0 {
			tags[it.ID] = tt
		}
		if len(tags) >= 1000 || i == opts.Items-1 {
			if err := st.SetTopics(ctx, tags); err != nil {
				return rep, err
			}
			tags = map[string][]evidence.TopicTag{}
		}
	}
	r := rand.New(rand.NewPCG(opts.Seed, 7))
	say(fmt.Sprintf("adding %d subscribers", opts.Subscribers))
	for i := range opts.Subscribers {
		var topics []string
		for range r.IntN(4) {
			if t := opts.Topics[r.IntN(len(opts.Topics))]; !slices.Contains(topics, t) {
				topics = append(topics, t)
			}
		}
		format := evidence.FormatHTML
		if i%4 == 0 {
			format = evidence.FormatText
		}
		if _, _, err := st.AddSubscriber(ctx, store.SubscriberInput{Email: fmt.Sprintf("reader%05d@bench.example.org", i),
			Status: evidence.SubscriberActive, Topics: topics, Format: format}); err != nil {
			return rep, err
		}
	}
	rep.FillSeconds = time.Since(start).Seconds()

	srv, err := smtptest.Start(smtptest.Options{Discard: true})
	if err != nil {
		return rep, err
	}
	defer srv.Close()
	sender, err := mail.NewSender(mail.Options{Host: srv.Host(), Port: srv.Port(), TLS: mail.TLSNone, Timeout: 30 * time.Second, Retries: 1, Connections: opts.Connections, Logger: opts.Logger})
	if err != nil {
		return rep, err
	}
	defer sender.Close()
	secret, _ := mail.NewSecret()
	tokens, err := mail.NewTokens([]byte(secret), nil, nil)
	if err != nil {
		return rep, err
	}
	const base = "https://evidence.bench.invalid"
	subs := &service.Subscriptions{Store: st, Tokens: tokens, BaseURL: base, From: "Evidence Tracker <digest@bench.example.org>", Topics: opts.Topics}
	d := &service.Digests{
		Store: st, Items: st, Options: digest.Options{Location: loc, BaseURL: base, Now: func() time.Time { return end.Add(7 * time.Hour) }},
		Subs: subs, From: subs.From, BounceLimit: 3, Logger: opts.Logger, Workers: opts.Connections,
		Transport: func() (mail.Transport, error) { return sender, nil },
	}

	say("building the week's digest")
	var times []time.Duration
	for range 5 {
		t0 := time.Now()
		dg, err := d.Build(ctx, service.Preview{Week: week})
		if err != nil {
			return rep, err
		}
		times = append(times, time.Since(t0))
		rep.WeekItems = dg.Counts.Items
		var sb strings.Builder
		if err := d.Render(&sb, dg, digest.HTML); err != nil {
			return rep, err
		}
		rep.HTMLBytes = sb.Len()
	}
	slices.Sort(times)
	rep.BuildMS = float64(times[len(times)/2].Microseconds()) / 1000

	say(fmt.Sprintf("sending %d digests", opts.Subscribers))
	meter := newPeakMeter()
	meter.reset()
	t0 := time.Now()
	sr, err := d.Send(ctx, service.SendRequest{Week: week})
	rep.SendSeconds = time.Since(t0).Seconds()
	rep.PeakRSSMiB = float64(meter.peak()) / (1 << 20)
	rep.PeakMethod = meter.method()
	meter.stopSampler()
	if err != nil {
		return rep, err
	}
	rep.Sent, rep.Empty, rep.Failed = sr.Sent, sr.Empty, sr.Failed
	rep.MessagesPerS = float64(sr.Sent) / rep.SendSeconds
	rep.Connections = srv.Connections()
	if srv.Count() != sr.Sent {
		return rep, fmt.Errorf("bench digest: the SMTP server accepted %d messages, the sender says %d", srv.Count(), sr.Sent)
	}
	return rep, nil
}

// WriteTable prints the report.
func (rep DigestReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%d items, %d subscribers (filled in %.1fs)\n", rep.Items, rep.Subscribers, rep.FillSeconds)
	fmt.Fprintf(tw, "one week's digest\t%d items, built in %.1f ms (median of 5), %d KB of HTML\n", rep.WeekItems, rep.BuildMS, rep.HTMLBytes/1024)
	fmt.Fprintf(tw, "personalised send\t%d sent, %d with nothing in their topics, %d failed, in %.1fs over %d SMTP connection(s)\n",
		rep.Sent, rep.Empty, rep.Failed, rep.SendSeconds, rep.Connections)
	fmt.Fprintf(tw, "messages/s\t%.0f\t(target ≥ 500)\n", rep.MessagesPerS)
	fmt.Fprintf(tw, "peak memory while sending\t%.0f MiB (%s)\t(target ≤ 300)\n", rep.PeakRSSMiB, rep.PeakMethod)
	return tw.Flush()
}
