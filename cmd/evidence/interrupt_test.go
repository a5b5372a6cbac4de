package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evidencetracker/evidence/internal/replay"
)

// startCountingReplay serves the snapshots from this process (not the
// binary's replay command) and calls onRequest with the number of each
// request once it is answered, so a test can act at a known point of a run.
func startCountingReplay(t *testing.T, onRequest func(n int64)) string {
	t.Helper()
	rs, err := replay.New(replay.Options{Dir: filepath.Join("..", "..", "testdata", "snapshots")})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.ServeHTTP(w, r)
		onRequest(n.Add(1))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// TestInterruptKeepsWhatWasFetched sends Ctrl-C (SIGINT) to an ingest once
// the replay has answered a fixed number of requests: it stops promptly with
// exit status 1, prints its summary, and what it fetched is stored and
// indexed (check is clean). The sources it cut short are "interrupted", not
// failing, and the next `run` takes them up at once.
func TestInterruptKeepsWhatWasFetched(t *testing.T) {
	const interruptAt = 60 // requests: robots.txt, feeds and some item pages
	bin := buildBinary(t)
	atK := make(chan struct{})
	addr := startCountingReplay(t, func(n int64) {
		if n == interruptAt {
			close(atK)
		}
	})
	h := newHarness(t, bin, addr)
	// Slow enough that every source is still busy at the interrupt.
	h.env = append(h.env, "EVIDENCE_FETCH_RATE_PER_HOST=4")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, "ingest", "--backfill", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case <-atK:
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		err = <-exited
	case err = <-exited:
		t.Fatalf("ingest ended (%v) before the replay answered %d requests; stderr:\n%s", err, interruptAt, stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("interrupted ingest: err = %v, want exit status 1; stderr:\n%s", err, stderr.String())
	}
	var sum ingestJSON
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("no JSON summary after Ctrl-C: %v\n%s", err, stdout.String())
	}
	if sum.OK {
		t.Error("summary says ok after an interrupt")
	}
	saved := 0
	interrupted := map[string]bool{}
	for _, s := range sum.Sources {
		saved += s.New
		switch s.Status {
		case "interrupted":
			interrupted[s.Source] = true
		case "ok":
		default:
			t.Errorf("%s: status %q after Ctrl-C; want interrupted (or ok when it had finished)", s.Source, s.Status)
		}
	}
	if len(interrupted) == 0 {
		t.Errorf("no source interrupted: %+v", sum.Sources)
	}
	var res searchJSON
	h.runJSON(&res, "search", "", "--limit", "1000", "--json")
	if saved == 0 || res.Total != saved || sum.Indexed != saved {
		t.Errorf("reported %d new, %d indexed, %d searchable: want the same, above 0", saved, sum.Indexed, res.Total)
	}
	if _, code := h.run("check"); code != 0 {
		t.Errorf("check after Ctrl-C: exit %d", code)
	}
	var srcs sourcesJSON
	h.runJSON(&srcs, "sources", "--json")
	for _, s := range srcs.Sources {
		if interrupted[s.ID] && (s.Status != "interrupted" || s.ConsecutiveFailures != 0) {
			t.Errorf("sources: %s is %q with %d failures; want interrupted, no failure", s.ID, s.Status, s.ConsecutiveFailures)
		}
	}

	// The main job carries on where it stopped: the interrupted sources
	// are due at once (and backfilled, never having succeeded).
	h.env = append(h.env, "EVIDENCE_FETCH_RATE_PER_HOST=20") // the last value wins
	var again ingestJSON
	if code := h.runJSON(&again, "run", "--json"); code != 0 {
		t.Fatalf("run after Ctrl-C exit %d: %+v", code, again.Sources)
	}
	for _, s := range again.Sources {
		if want := map[bool]string{true: "ok", false: "skipped"}[interrupted[s.Source]]; s.Status != want {
			t.Errorf("run after Ctrl-C: %s is %q, want %q", s.Source, s.Status, want)
		}
	}
	h.runJSON(&res, "search", "", "--limit", "1000", "--json")
	if res.Total != 209 {
		t.Errorf("after resuming, %d items; want the full 209", res.Total)
	}
}
