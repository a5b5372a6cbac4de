package main

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/metrics"
	"github.com/evidencetracker/evidence/store"
)

// serveStats is what /metrics reads at each scrape (metrics.Stats): the
// store's subscriber and per-source item counts, the index's documents.
type serveStats struct {
	st *store.Store
	ix *index.Index
}

// CountSubscribers counts by status, every status present (0 when none),
// so a status's series does not vanish when its last subscriber leaves it.
func (s serveStats) CountSubscribers(ctx context.Context) (map[string]int, error) {
	counts, err := s.st.CountSubscribers(ctx)
	if err != nil {
		return nil, err
	}
	for _, status := range []string{evidence.SubscriberPending, evidence.SubscriberActive, evidence.SubscriberUnsubscribed, evidence.SubscriberBouncing} {
		if _, ok := counts[status]; !ok {
			counts[status] = 0
		}
	}
	return counts, nil
}

// ItemsBySource counts stored items by source (every source the store
// knows, 0 included).
func (s serveStats) ItemsBySource(ctx context.Context) (map[string]int, error) {
	list, err := s.st.SourceStatuses(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(list))
	for _, ss := range list {
		out[ss.ID] = ss.Items
	}
	return out, nil
}

func (s serveStats) IndexDocuments(context.Context) (uint64, error) { return s.ix.Count() }

// observeIngest records a scheduled `run --json` job from the summary it
// printed: the job's outcome, and each source's run, items and errors.
// The summary, not the store's source_runs, because it has every outcome
// (unchanged, merged, deferred… the store keeps new and updated) and every
// error of the run (the store keeps the last). Output that is no summary
// (the job failed before it ran any source) counts as a failed job.
func (s *serveSchedule) observeIngest(code int, out []byte) {
	if s.metrics == nil {
		return
	}
	var sum ingestSummary
	if err := json.Unmarshal(out, &sum); err != nil {
		s.a.logger().Warn("serve: scheduled ingest printed no summary; its sources are not counted in /metrics",
			"exit", code, "err", err, "output", string(bytes.TrimSpace(out)))
		s.metrics.ObserveIngestJob(false)
		return
	}
	s.metrics.ObserveIngestJob(code == exitOK)
	for _, r := range sum.Sources {
		s.metrics.ObserveIngest(metrics.IngestRun{
			Source: r.Source, Status: r.Status,
			New: r.New, Updated: r.Updated, Unchanged: r.Unchanged, Merged: r.Merged, Skipped: r.Report.Skipped, Deferred: r.Deferred,
			Errors: r.Errors,
		})
	}
}
