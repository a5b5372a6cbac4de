package store

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func sortStrings(s []string) { sort.Strings(s) }

func TestSourceRuns(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 10, 6, 0, 0, 0, time.UTC)
	run := func(hour int, err error, blocked bool) SourceRun {
		start := t0.Add(time.Duration(hour) * time.Hour)
		return SourceRun{
			Start: start, End: start.Add(time.Minute), Strategy: "feed", Err: err, Blocked: blocked,
			NextPoll: start.Add(6 * time.Hour), Fetched: 3, New: 1,
		}
	}
	boom := errors.New("feed: 500 Internal Server Error")
	interrupted := func(hour int) SourceRun {
		r := run(hour, context.Canceled, false)
		r.Interrupted = true
		return r
	}

	tests := []struct {
		name       string
		runs       []SourceRun
		wantStatus string
		wantFails  int
		wantErr    string
		wantOK     bool // last_success set
	}{
		{"never run", nil, evidence.StatusNever, 0, "", false},
		{"success", []SourceRun{run(0, nil, false)}, evidence.StatusOK, 0, "", true},
		{"one failure", []SourceRun{run(0, boom, false)}, evidence.StatusFailing, 1, boom.Error(), false},
		{"failures count up", []SourceRun{run(0, nil, false), run(1, boom, false), run(2, boom, false)},
			evidence.StatusFailing, 2, boom.Error(), true},
		{"success resets count, keeps last error", []SourceRun{run(0, boom, false), run(1, boom, false), run(2, nil, false)},
			evidence.StatusOK, 0, boom.Error(), true},
		{"blocked", []SourceRun{run(0, errors.New("robots.txt disallows"), true)},
			evidence.StatusBlocked, 1, "robots.txt disallows", false},
		{"blocked without error", []SourceRun{run(0, nil, true)}, evidence.StatusBlocked, 1, "blocked", false},
		{"interrupted neither counts nor resets failures", []SourceRun{run(0, boom, false), run(1, boom, false), interrupted(2)},
			evidence.StatusInterrupted, 2, boom.Error(), false},
		{"interrupted after success keeps it", []SourceRun{run(0, nil, false), interrupted(1)},
			evidence.StatusInterrupted, 0, "", true},
		{"five interruptions are no failure", []SourceRun{interrupted(0), interrupted(1), interrupted(2), interrupted(3), interrupted(4)},
			evidence.StatusInterrupted, 0, "", false},
		{"failure after interruption counts on", []SourceRun{run(0, boom, false), interrupted(1), run(2, boom, false)},
			evidence.StatusFailing, 2, boom.Error(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, path := newStore(t)
			if err := s.EnsureSource(ctx, evidence.SourceMentalElf, "The Mental Elf"); err != nil {
				t.Fatal(err)
			}
			for _, r := range tt.runs {
				if err := s.RecordSourceRun(ctx, evidence.SourceMentalElf, r); err != nil {
					t.Fatal(err)
				}
			}
			st, err := s.SourceStatus(ctx, evidence.SourceMentalElf)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != tt.wantStatus || st.ConsecutiveFailures != tt.wantFails || st.LastError != tt.wantErr {
				t.Errorf("status %q fails %d err %q; want %q %d %q",
					st.Status, st.ConsecutiveFailures, st.LastError, tt.wantStatus, tt.wantFails, tt.wantErr)
			}
			if (st.LastSuccess != nil) != tt.wantOK {
				t.Errorf("LastSuccess = %v, want set=%v", st.LastSuccess, tt.wantOK)
			}
			if st.Name != "The Mental Elf" {
				t.Errorf("Name = %q", st.Name)
			}
			if n := len(tt.runs); n > 0 {
				last := tt.runs[n-1]
				if st.LastRun == nil || !st.LastRun.Equal(last.End) || st.NextPoll == nil || !st.NextPoll.Equal(last.NextPoll) {
					t.Errorf("LastRun %v NextPoll %v; want %v %v", st.LastRun, st.NextPoll, last.End, last.NextPoll)
				}
				if st.Strategy != "feed" {
					t.Errorf("Strategy = %q", st.Strategy)
				}
				if tt.wantErr != "" && (st.LastErrorAt == nil || st.LastErrorAt.Location() != time.UTC) {
					t.Errorf("LastErrorAt = %v", st.LastErrorAt)
				}
			} else if st.LastRun != nil || st.NextPoll != nil {
				t.Errorf("never-run source has times: %+v", st)
			}
			o := newObserver(t, path)
			if got := o.queryInt(`SELECT COUNT(*) FROM source_runs WHERE source_id = ?`, evidence.SourceMentalElf); got != len(tt.runs) {
				t.Errorf("source_runs rows = %d, want %d", got, len(tt.runs))
			}
		})
	}
}

func TestSourceStatuses(t *testing.T) {
	ctx := context.Background()
	s, _, path := newStore(t)
	for _, id := range []string{evidence.SourceNationalVoices, evidence.SourceKingsFund, evidence.SourceMentalElf} {
		if err := s.EnsureSource(ctx, id, id+" name"); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"https://k.example/1", "https://k.example/2"} {
		it := sampleItem(u)
		it.Source = evidence.SourceKingsFund
		mustUpsert(t, s, it)
	}
	mustUpsert(t, s, sampleItem("https://m.example/1"))
	if err := s.RecordSourceRun(ctx, evidence.SourceKingsFund, SourceRun{}); err != nil {
		t.Fatal(err)
	}

	t.Run("ensure again writes nothing", func(t *testing.T) {
		o := newObserver(t, path)
		before := o.dataVersion()
		if err := s.EnsureSource(ctx, evidence.SourceKingsFund, evidence.SourceKingsFund+" name"); err != nil {
			t.Fatal(err)
		}
		if after := o.dataVersion(); after != before {
			t.Errorf("EnsureSource with same name wrote")
		}
	})

	got, err := s.SourceStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id     string
		status string
		items  int
	}{
		{evidence.SourceKingsFund, evidence.StatusOK, 2},
		{evidence.SourceMentalElf, evidence.StatusNever, 1},
		{evidence.SourceNationalVoices, evidence.StatusNever, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("SourceStatuses = %d sources, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].Status != w.status || got[i].Items != w.items {
			t.Errorf("source %d = %s %s %d; want %s %s %d", i, got[i].ID, got[i].Status, got[i].Items, w.id, w.status, w.items)
		}
	}

	tests := []struct {
		name    string
		id      string
		wantErr error
	}{
		{"known", evidence.SourceMentalElf, nil},
		{"unknown", "nope", evidence.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.SourceStatus(ctx, tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("SourceStatus(%q) = %v, want %v", tt.id, err, tt.wantErr)
			}
		})
	}
}

func TestFetchState(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newStore(t)
	at := time.Date(2025, 2, 3, 4, 5, 6, 7, time.FixedZone("X", 7200))
	tests := []struct {
		name string
		put  *evidence.FetchState
		want evidence.FetchState
	}{
		{"none stored", nil, evidence.FetchState{URL: "https://f.example/feed"}},
		{"round trip",
			&evidence.FetchState{URL: "https://f.example/feed", ETag: `W/"abc"`, LastModified: "Mon, 03 Feb 2025 02:05:06 GMT", ContentHash: "h1", FetchedAt: at},
			evidence.FetchState{URL: "https://f.example/feed", ETag: `W/"abc"`, LastModified: "Mon, 03 Feb 2025 02:05:06 GMT", ContentHash: "h1", FetchedAt: at.UTC()}},
		{"overwrite, zero time means now",
			&evidence.FetchState{URL: "https://f.example/feed", ETag: `"def"`},
			evidence.FetchState{URL: "https://f.example/feed", ETag: `"def"`, FetchedAt: c.Now()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.put != nil {
				if err := s.PutFetchState(ctx, *tt.put); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.FetchState(ctx, tt.want.URL)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("FetchState = %+v, want %+v", got, tt.want)
			}
		})
	}
	if err := s.PutFetchState(ctx, evidence.FetchState{}); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("PutFetchState(empty url) = %v, want ErrInvalid", err)
	}
}
