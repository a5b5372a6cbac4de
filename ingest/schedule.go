package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// Scheduling policy: which sources are due, paused or backed off, and what
// each run's outcome is recorded as. The CLI's `run` and `ingest` call it
// once; a long-running process can call RunOnce every minute or so. Every
// decision takes its time from an injected clock.

// FirstRetry is how soon a failing source is tried again after its first
// failure; each further failure doubles it, up to the poll interval.
const FirstRetry = 15 * time.Minute

// maxBackoffDoublings caps the doubling (15 min << 6 = 16 h) well before a
// time.Duration could overflow.
const maxBackoffDoublings = 6

// Policy is the configuration the schedule follows.
type Policy struct {
	// PauseAfterFailures consecutive failures pause a source for PauseFor
	// (from its last error); below 1 a source is never paused.
	PauseAfterFailures int
	PauseFor           time.Duration
	// Sources holds each configured source's switch and poll interval, by
	// id. A source missing here is disabled.
	Sources map[string]SourcePolicy
}

// SourcePolicy is one source's part of the policy.
type SourcePolicy struct {
	Enabled      bool
	PollInterval time.Duration
}

// Request is what one scheduled run is asked to do.
type Request struct {
	// Names are the sources asked for; empty means every enabled source.
	// Named sources run even when paused, disabled or not due.
	Names []string
	// DueOnly skips sources whose next poll is still to come, and
	// backfills a source that never succeeded (the main job).
	DueOnly bool
	// Backfill runs every layer of every chosen source.
	Backfill bool
	// MaxPages and MaxItemPages are passed to the pipeline (RunOptions).
	MaxPages, MaxItemPages int
}

// Skip reasons, by kind.
const (
	SkipDisabled = "disabled"
	SkipPaused   = "paused"
	SkipNotDue   = "not due"
)

// Decision is the schedule's verdict on one source.
type Decision struct {
	Source Source
	// Run is set when the source is to run now, with Backfill when it
	// should run every layer.
	Run      bool
	Backfill bool
	// SkipKind (SkipDisabled, SkipPaused, SkipNotDue) and Reason say why a
	// source does not run.
	SkipKind string
	Reason   string
}

// PausedUntil is when a source that failed repeatedly may run again; zero
// when it is not paused (whatever now is).
func (pol Policy) PausedUntil(s evidence.SourceStatus) time.Time {
	if pol.PauseAfterFailures < 1 || s.ConsecutiveFailures < pol.PauseAfterFailures || s.LastErrorAt == nil {
		return time.Time{}
	}
	return s.LastErrorAt.Add(pol.PauseFor)
}

// Decide says, for each of sources in order, whether it runs now. A source
// neither named nor enabled is returned as skipped (SkipDisabled) when no
// names are given and left out when they are.
func (pol Policy) Decide(sources []Source, statuses map[string]evidence.SourceStatus, req Request, now time.Time) []Decision {
	var out []Decision
	for _, src := range sources {
		st := statuses[src.ID]
		named := slices.Contains(req.Names, src.ID)
		d := Decision{Source: src}
		switch until := pol.PausedUntil(st); {
		case len(req.Names) > 0 && !named:
			continue
		case named:
			d.Run = true
		case !pol.Sources[src.ID].Enabled:
			d.SkipKind, d.Reason = SkipDisabled, "disabled in the configuration"
		case until.After(now):
			d.SkipKind = SkipPaused
			d.Reason = fmt.Sprintf("paused after %d consecutive failures until %s (last error: %s)",
				st.ConsecutiveFailures, until.Format(time.RFC3339), st.LastError)
		case req.DueOnly && st.NextPoll != nil && st.NextPoll.After(now):
			d.SkipKind, d.Reason = SkipNotDue, "not due until "+st.NextPoll.Format(time.RFC3339)
		default:
			d.Run = true
		}
		if d.Run {
			d.Backfill = req.Backfill || (req.DueOnly && st.LastSuccess == nil)
		}
		out = append(out, d)
	}
	return out
}

// Outcome is what a run is recorded as: one of evidence.StatusOK,
// StatusFailing, StatusBlocked, StatusInterrupted.
func Outcome(r Report) string {
	switch {
	case r.Blocked:
		return evidence.StatusBlocked
	case r.Interrupted:
		return evidence.StatusInterrupted
	case r.Err != nil:
		return evidence.StatusFailing
	}
	return evidence.StatusOK
}

// NextPoll is when a source should next run after a run that ended at end
// with outcome, failures being its consecutive failures before this run: a
// poll interval after a success; after a failure sooner, backing off
// 15 min, 30 min, 1 h, … up to the poll interval; at once after an
// interruption (the next run carries on).
func (pol Policy) NextPoll(id, outcome string, failures int, end time.Time) time.Time {
	interval := pol.Sources[id].PollInterval
	switch outcome {
	case evidence.StatusOK:
		return end.Add(interval)
	case evidence.StatusInterrupted:
		return end
	}
	n := min(max(failures, 0), maxBackoffDoublings)
	return end.Add(min(interval, FirstRetry<<n))
}

// StatusStore is what the scheduler needs from the system of record.
type StatusStore interface {
	SourceStatuses(ctx context.Context) ([]evidence.SourceStatus, error)
	RecordSourceRun(ctx context.Context, source string, run evidence.SourceRun) error
}

// Runner runs sources; *Pipeline is one.
type Runner interface {
	Run(ctx context.Context, sources []Source, ro RunOptions) []Report
}

// Scheduler decides which sources run, runs them and records each run.
type Scheduler struct {
	Runner Runner
	Store  StatusStore
	Policy Policy
	// Sources are every configured source (those asked for and not).
	Sources []Source
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// RecordTimeout bounds recording the runs, which goes on after the
	// run's context is cancelled (default 2 minutes).
	RecordTimeout time.Duration
}

// Plan is a Request decided against the stored statuses.
type Plan struct {
	Request   Request
	Decisions []Decision
	statuses  map[string]evidence.SourceStatus
}

// Runs counts the sources the plan runs.
func (pl Plan) Runs() int {
	n := 0
	for _, d := range pl.Decisions {
		if d.Run {
			n++
		}
	}
	return n
}

// SourceResult is one source's line in a Summary; the JSON names are
// printed by `evidence ingest --json`.
type SourceResult struct {
	Report
	// Status is the run's outcome (ok, failing, blocked, interrupted) or
	// "skipped".
	Status   string `json:"status"`
	Skipped  string `json:"skipped_reason,omitempty"`
	SkipKind string `json:"-"`
}

// StatusSkipped is a SourceResult's status when the source did not run.
const StatusSkipped = "skipped"

// Summary is what RunOnce did, one result per source decided on, by id.
type Summary struct {
	Sources []SourceResult
	// Failed is set when a source that ran failed or was blocked.
	Failed bool
	// Interrupted is set when ctx was cancelled.
	Interrupted bool
}

func (s *Scheduler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Plan reads the stored statuses and decides on each source. Names must be
// configured sources.
func (s *Scheduler) Plan(ctx context.Context, req Request) (Plan, error) {
	for _, id := range req.Names {
		if !slices.ContainsFunc(s.Sources, func(src Source) bool { return src.ID == id }) {
			return Plan{}, fmt.Errorf("schedule: unknown source %q: %w", id, evidence.ErrInvalid)
		}
	}
	list, err := s.Store.SourceStatuses(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("schedule: %w", err)
	}
	statuses := make(map[string]evidence.SourceStatus, len(list))
	for _, st := range list {
		statuses[st.ID] = st
	}
	return Plan{Request: req, Decisions: s.Policy.Decide(s.Sources, statuses, req, s.now()), statuses: statuses}, nil
}

// Execute runs the plan's sources with the Runner (those to backfill and
// the others as two batches) and records each run, also when ctx is
// cancelled part-way: a source the Runner reports cut short (Interrupted)
// is recorded as interrupted, due again at once; one that had failed
// before the cancellation stays a failure. Failures to record are logged; the summary is returned
// either way.
func (s *Scheduler) Execute(ctx context.Context, pl Plan) Summary {
	var fresh, known []Source
	var sum Summary
	for _, d := range pl.Decisions {
		switch {
		case !d.Run:
			sum.Sources = append(sum.Sources, SourceResult{
				Report: Report{Source: d.Source.ID, Strategy: d.Source.Strategy(), Errors: []string{}},
				Status: StatusSkipped, Skipped: d.Reason, SkipKind: d.SkipKind,
			})
		case d.Backfill:
			fresh = append(fresh, d.Source)
		default:
			known = append(known, d.Source)
		}
	}
	req := pl.Request
	var reports []Report
	if len(fresh) > 0 {
		reports = s.Runner.Run(ctx, fresh, RunOptions{Backfill: true, MaxPages: req.MaxPages, MaxItemPages: req.MaxItemPages})
	}
	if len(known) > 0 {
		reports = append(reports, s.Runner.Run(ctx, known, RunOptions{MaxPages: req.MaxPages, MaxItemPages: req.MaxItemPages})...)
	}

	// Record the runs even after Ctrl-C: what was fetched is kept.
	timeout := s.RecordTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	for _, r := range reports {
		outcome := Outcome(r)
		end := r.End
		if end.IsZero() {
			end = s.now()
		}
		rec := evidence.SourceRun{
			Start: r.Start, End: end, Strategy: r.Strategy, Err: r.Err,
			Blocked:     outcome == evidence.StatusBlocked,
			Interrupted: outcome == evidence.StatusInterrupted,
			NextPoll:    s.Policy.NextPoll(r.Source, outcome, pl.statuses[r.Source].ConsecutiveFailures, end),
			Fetched:     r.Fetched, NotModified: r.NotModified, New: r.New, Updated: r.Updated,
		}
		if err := s.Store.RecordSourceRun(rctx, r.Source, rec); err != nil {
			s.log().Error("record source run", "source", r.Source, "err", err)
		}
		if outcome == evidence.StatusFailing || outcome == evidence.StatusBlocked {
			sum.Failed = true
		}
		sum.Sources = append(sum.Sources, SourceResult{Report: r, Status: outcome})
	}
	slices.SortStableFunc(sum.Sources, func(x, y SourceResult) int { return strings.Compare(x.Source, y.Source) })
	sum.Interrupted = ctx.Err() != nil
	return sum
}

// RunOnce plans req and executes the plan.
func (s *Scheduler) RunOnce(ctx context.Context, req Request) (Summary, error) {
	pl, err := s.Plan(ctx, req)
	if err != nil {
		return Summary{}, err
	}
	return s.Execute(ctx, pl), nil
}
