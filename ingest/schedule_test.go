package ingest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func ptr(t time.Time) *time.Time { return &t }

func testSources(t *testing.T, ids ...string) []Source {
	t.Helper()
	var out []Source
	for _, id := range ids {
		s, err := Compile(SourceSpec{ID: id, Home: "https://" + id + ".example/", Feeds: []string{"https://" + id + ".example/feed"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func testPolicy(ids ...string) Policy {
	pol := Policy{PauseAfterFailures: 3, PauseFor: 24 * time.Hour, Sources: map[string]SourcePolicy{}}
	for _, id := range ids {
		pol.Sources[id] = SourcePolicy{Enabled: true, PollInterval: 6 * time.Hour}
	}
	return pol
}

func TestDecide(t *testing.T) {
	pol := testPolicy("a", "b")
	pol.Sources["off"] = SourcePolicy{Enabled: false, PollInterval: 6 * time.Hour}
	now := t0
	ok := evidence.SourceStatus{Status: evidence.StatusOK, LastSuccess: ptr(now.Add(-time.Hour))}
	paused := evidence.SourceStatus{Status: evidence.StatusFailing, ConsecutiveFailures: 3, LastError: "boom",
		LastErrorAt: ptr(now.Add(-time.Hour)), NextPoll: ptr(now.Add(time.Hour))}
	tests := []struct {
		name     string
		status   evidence.SourceStatus
		source   string // default "a"
		req      Request
		run      bool
		backfill bool
		kind     string
		reason   string
	}{
		{name: "never run is due and backfilled", req: Request{DueOnly: true}, run: true, backfill: true},
		{name: "never run, ingest: no backfill unless asked", req: Request{}, run: true},
		{name: "ingest --backfill", status: ok, req: Request{Backfill: true}, run: true, backfill: true},
		{name: "due", status: withNext(ok, now.Add(-time.Minute)), req: Request{DueOnly: true}, run: true},
		{name: "due exactly now", status: withNext(ok, now), req: Request{DueOnly: true}, run: true},
		{name: "not due", status: withNext(ok, now.Add(time.Hour)), req: Request{DueOnly: true},
			kind: SkipNotDue, reason: "not due until 2026-03-02T10:00:00Z"},
		{name: "not due, ingest runs it anyway", status: withNext(ok, now.Add(time.Hour)), req: Request{}, run: true},
		{name: "paused", status: paused, req: Request{DueOnly: true},
			kind: SkipPaused, reason: "paused after 3 consecutive failures until 2026-03-03T08:00:00Z (last error: boom)"},
		{name: "paused, ingest skips it too", status: paused, req: Request{}, kind: SkipPaused},
		{name: "paused, named runs", status: paused, req: Request{Names: []string{"a"}}, run: true},
		{name: "pause over", status: withNext(withLastErr(paused, now.Add(-24*time.Hour)), now.Add(-time.Hour)), req: Request{DueOnly: true}, run: true, backfill: true},
		{name: "failing below the threshold is not paused",
			status: evidence.SourceStatus{ConsecutiveFailures: 2, LastErrorAt: ptr(now), NextPoll: ptr(now)}, req: Request{DueOnly: true}, run: true, backfill: true},
		{name: "interrupted is due again", status: evidence.SourceStatus{Status: evidence.StatusInterrupted, LastSuccess: ptr(now.Add(-time.Hour)),
			NextPoll: ptr(now.Add(-time.Second))}, req: Request{DueOnly: true}, run: true},
		{name: "disabled", source: "off", req: Request{DueOnly: true}, kind: SkipDisabled, reason: "disabled in the configuration"},
		{name: "disabled, named runs", source: "off", req: Request{Names: []string{"off"}}, run: true},
		{name: "unconfigured is disabled", source: "x", req: Request{}, kind: SkipDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.source
			if id == "" {
				id = "a"
			}
			ds := pol.Decide(testSources(t, id), map[string]evidence.SourceStatus{id: tt.status}, tt.req, now)
			if len(ds) != 1 {
				t.Fatalf("%d decisions, want 1", len(ds))
			}
			d := ds[0]
			if d.Run != tt.run || d.Backfill != tt.backfill || d.SkipKind != tt.kind {
				t.Errorf("run %v backfill %v skip %q; want %v %v %q", d.Run, d.Backfill, d.SkipKind, tt.run, tt.backfill, tt.kind)
			}
			if tt.reason != "" && d.Reason != tt.reason {
				t.Errorf("reason %q, want %q", d.Reason, tt.reason)
			}
		})
	}
	t.Run("names leave the others out", func(t *testing.T) {
		ds := pol.Decide(testSources(t, "a", "b", "off"), nil, Request{Names: []string{"b"}}, now)
		if len(ds) != 1 || ds[0].Source.ID != "b" || !ds[0].Run {
			t.Errorf("decisions %+v; want b alone, run", ds)
		}
	})
}

func withNext(s evidence.SourceStatus, t time.Time) evidence.SourceStatus {
	s.NextPoll = &t
	return s
}

func withLastErr(s evidence.SourceStatus, t time.Time) evidence.SourceStatus {
	s.LastErrorAt = &t
	return s
}

func TestNextPoll(t *testing.T) {
	pol := testPolicy("a")
	pol.Sources["a"] = SourcePolicy{Enabled: true, PollInterval: 6 * time.Hour}
	tests := []struct {
		name     string
		outcome  string
		failures int // before this run
		want     time.Duration
	}{
		{"ok: a poll interval", evidence.StatusOK, 4, 6 * time.Hour},
		{"first failure: 15 min", evidence.StatusFailing, 0, 15 * time.Minute},
		{"second: 30 min", evidence.StatusFailing, 1, 30 * time.Minute},
		{"third: 1 h", evidence.StatusFailing, 2, time.Hour},
		{"fourth: 2 h", evidence.StatusFailing, 3, 2 * time.Hour},
		{"fifth: 4 h", evidence.StatusFailing, 4, 4 * time.Hour},
		{"sixth: capped by the poll interval", evidence.StatusFailing, 5, 6 * time.Hour},
		{"many: no overflow", evidence.StatusFailing, 200, 6 * time.Hour},
		{"blocked backs off too", evidence.StatusBlocked, 1, 30 * time.Minute},
		{"interrupted: at once", evidence.StatusInterrupted, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pol.NextPoll("a", tt.outcome, tt.failures, t0).Sub(t0); got != tt.want {
				t.Errorf("next poll in %v, want %v", got, tt.want)
			}
		})
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// memStatus keeps source statuses the way the store does (see
// store.RecordSourceRun).
type memStatus struct {
	st   map[string]evidence.SourceStatus
	runs []evidence.SourceRun
}

func (m *memStatus) SourceStatuses(context.Context) ([]evidence.SourceStatus, error) {
	var out []evidence.SourceStatus
	for _, s := range m.st {
		out = append(out, s)
	}
	return out, nil
}

func (m *memStatus) RecordSourceRun(_ context.Context, id string, r evidence.SourceRun) error {
	if m.st == nil {
		m.st = map[string]evidence.SourceStatus{}
	}
	s := m.st[id]
	s.ID, s.LastRun, s.NextPoll = id, ptr(r.End), ptr(r.NextPoll)
	switch {
	case r.Blocked:
		s.Status = evidence.StatusBlocked
		s.ConsecutiveFailures++
		s.LastErrorAt = ptr(r.End)
	case r.Interrupted:
		s.Status = evidence.StatusInterrupted
	case r.Err == nil:
		s.Status = evidence.StatusOK
		s.LastSuccess, s.ConsecutiveFailures = ptr(r.End), 0
	default:
		s.Status = evidence.StatusFailing
		s.ConsecutiveFailures++
		s.LastErrorAt = ptr(r.End)
		if r.Err != nil {
			s.LastError = r.Err.Error()
		}
	}
	m.st[id] = s
	m.runs = append(m.runs, r)
	return nil
}

// fakeRunner answers each run with result(source) and notes what ran.
type fakeRunner struct {
	clock  *fakeClock
	result func(ctx context.Context, src Source) Report
	ran    []string // "id" or "id+backfill"
}

func (f *fakeRunner) Run(ctx context.Context, sources []Source, ro RunOptions) []Report {
	var out []Report
	for _, src := range sources {
		name := src.ID
		if ro.Backfill {
			name += "+backfill"
		}
		f.ran = append(f.ran, name)
		r := f.result(ctx, src)
		r.Source, r.Start, r.End = src.ID, f.clock.Now(), f.clock.Now()
		out = append(out, r)
	}
	return out
}

func TestSchedulerPausesAndResumes(t *testing.T) {
	clock := &fakeClock{t: t0}
	fail := true
	runner := &fakeRunner{clock: clock, result: func(context.Context, Source) Report {
		if fail {
			err := errors.New("fetch https://a.example/feed: connection refused")
			return Report{Err: err, Errors: []string{err.Error()}}
		}
		return Report{New: 3}
	}}
	store := &memStatus{}
	s := &Scheduler{Runner: runner, Store: store, Policy: testPolicy("a"), Sources: testSources(t, "a"), Now: clock.Now}
	main := Request{DueOnly: true}
	steps := []struct {
		name    string
		advance time.Duration // before the run
		succeed bool
		want    string // the source's status in the summary
		reason  string // part of the skip reason
		fails   int    // stored consecutive failures after the run
	}{
		{name: "first failure", want: evidence.StatusFailing, fails: 1},
		{name: "not due during the first backoff", advance: 14 * time.Minute, want: StatusSkipped, reason: "not due until 2026-03-02T09:15:00Z", fails: 1},
		{name: "retried after 15 min", advance: time.Minute, want: evidence.StatusFailing, fails: 2},
		{name: "not due during the second backoff", advance: 29 * time.Minute, want: StatusSkipped, reason: "not due", fails: 2},
		{name: "third failure pauses", advance: time.Minute, want: evidence.StatusFailing, fails: 3},
		{name: "paused, although the backoff is over", advance: time.Hour, want: StatusSkipped, reason: "paused after 3 consecutive failures until 2026-03-03T09:45:00Z", fails: 3},
		{name: "still paused a second before the end", advance: 23*time.Hour - time.Second, want: StatusSkipped, reason: "paused", fails: 3},
		{name: "resumes by itself after pause_for", advance: time.Second, succeed: true, want: evidence.StatusOK, fails: 0},
		{name: "then polled at its interval", advance: 6*time.Hour - time.Second, want: StatusSkipped, reason: "not due", fails: 0},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		fail = !st.succeed
		sum, err := s.RunOnce(t.Context(), main)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if len(sum.Sources) != 1 || sum.Sources[0].Status != st.want || !strings.Contains(sum.Sources[0].Skipped, st.reason) {
			t.Fatalf("%s (at %s): %+v; want status %q, reason %q", st.name, clock.Now().Format(time.RFC3339), sum.Sources, st.want, st.reason)
		}
		if got := store.st["a"].ConsecutiveFailures; got != st.fails {
			t.Fatalf("%s: %d consecutive failures stored, want %d", st.name, got, st.fails)
		}
		if sum.Failed != (st.want == evidence.StatusFailing) {
			t.Errorf("%s: Failed = %v", st.name, sum.Failed)
		}
	}
	// Backfilled until the first success.
	want := []string{"a+backfill", "a+backfill", "a+backfill", "a+backfill"}
	if !slices.Equal(runner.ran, want) {
		t.Errorf("ran %v, want %v", runner.ran, want)
	}
}

func TestSchedulerInterruptionIsNoFailure(t *testing.T) {
	clock := &fakeClock{t: t0}
	pol := testPolicy("a", "b")
	pol.PauseAfterFailures = 5
	store := &memStatus{st: map[string]evidence.SourceStatus{
		"a": {ID: "a", Status: evidence.StatusFailing, ConsecutiveFailures: 2, LastError: "boom", LastErrorAt: ptr(t0.Add(-time.Hour)),
			LastSuccess: ptr(t0.Add(-48 * time.Hour))},
	}}
	var cancel context.CancelFunc
	runner := &fakeRunner{clock: clock, result: func(ctx context.Context, src Source) Report {
		if src.ID == "b" {
			return Report{New: 1} // finished before Ctrl-C
		}
		cancel() // Ctrl-C while a runs
		clock.Advance(time.Minute)
		return Report{Err: ctx.Err(), Errors: []string{"fetch https://a.example/feed: " + ctx.Err().Error()}, Interrupted: true}
	}}
	s := &Scheduler{Runner: runner, Store: store, Policy: pol, Sources: testSources(t, "a", "b"), Now: clock.Now}
	for i := range 6 {
		var ctx context.Context
		ctx, cancel = context.WithCancel(t.Context())
		sum, err := s.RunOnce(ctx, Request{Names: []string{"a", "b"}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range sum.Sources {
			got[r.Source] = r.Status
		}
		if got["a"] != evidence.StatusInterrupted || got["b"] != evidence.StatusOK || !sum.Interrupted || sum.Failed {
			t.Fatalf("run %d: %v, interrupted %v, failed %v; want a interrupted, b ok, not failed", i+1, got, sum.Interrupted, sum.Failed)
		}
		a := store.st["a"]
		if a.ConsecutiveFailures != 2 || a.LastError != "boom" {
			t.Fatalf("run %d: a has %d failures, last error %q; want the 2 and the error from before", i+1, a.ConsecutiveFailures, a.LastError)
		}
		if !a.NextPoll.Equal(clock.Now()) {
			t.Errorf("run %d: next poll %v, want at once (%v)", i+1, a.NextPoll, clock.Now())
		}
		// The main job runs it again at once.
		pl, err := s.Plan(t.Context(), Request{DueOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if d := pl.Decisions[0]; d.Source.ID != "a" || !d.Run {
			t.Errorf("run %d: after the interruption the main job does not run a: %+v", i+1, d)
		}
	}
}

func TestSchedulerUnknownName(t *testing.T) {
	s := &Scheduler{Store: &memStatus{}, Policy: testPolicy("a"), Sources: testSources(t, "a")}
	_, err := s.Plan(t.Context(), Request{Names: []string{"bbc"}})
	if !errors.Is(err, evidence.ErrInvalid) || !strings.Contains(err.Error(), `"bbc"`) {
		t.Errorf("err = %v; want ErrInvalid naming the source", err)
	}
}

// A source that failed before Ctrl-C was pressed is a failure still.
func TestSchedulerFailureBeforeInterruptStays(t *testing.T) {
	clock := &fakeClock{t: t0}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	runner := &fakeRunner{clock: clock, result: func(ctx context.Context, src Source) Report {
		if src.ID == "a" {
			return Report{Err: errors.New("fetch https://a.example/feed: connection refused")}
		}
		cancel()
		return Report{Err: ctx.Err(), Interrupted: true}
	}}
	store := &memStatus{}
	s := &Scheduler{Runner: runner, Store: store, Policy: testPolicy("a", "b"), Sources: testSources(t, "a", "b"), Now: clock.Now}
	sum, err := s.RunOnce(ctx, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := store.st["a"], store.st["b"]; a.Status != evidence.StatusFailing || a.ConsecutiveFailures != 1 || b.Status != evidence.StatusInterrupted {
		t.Errorf("a %q (%d failures), b %q; want a failing (1), b interrupted", a.Status, a.ConsecutiveFailures, b.Status)
	}
	if !sum.Failed || !sum.Interrupted {
		t.Errorf("failed %v, interrupted %v; want both", sum.Failed, sum.Interrupted)
	}
}
