package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestInterruptKeepsWhatWasFetched sends Ctrl-C (SIGINT) to a slow ingest:
// it stops promptly with exit status 1, prints its summary, and what it
// fetched is stored and indexed (check is clean).
func TestInterruptKeepsWhatWasFetched(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, startReplay(t, bin))
	h.env = append(h.env, "EVIDENCE_FETCH_RATE_PER_HOST=4") // about a minute for the four sites

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, "ingest", "--backfill", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := cmd.Wait()
	stopped := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("interrupted ingest: err = %v, want exit status 1; stderr:\n%s", err, stderr.String())
	}
	if stopped > 30*time.Second {
		t.Errorf("took %v to stop after Ctrl-C", stopped)
	}
	var sum ingestJSON
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("no JSON summary after Ctrl-C: %v\n%s", err, stdout.String())
	}
	if sum.OK {
		t.Error("summary says ok after an interrupt")
	}
	saved := 0
	for _, s := range sum.Sources {
		saved += s.New
	}
	var res searchJSON
	h.runJSON(&res, "search", "", "--limit", "1000", "--json")
	if saved == 0 || res.Total != saved || sum.Indexed != saved {
		t.Errorf("reported %d new, %d indexed, %d searchable: want the same, above 0", saved, sum.Indexed, res.Total)
	}
	if _, code := h.run("check"); code != 0 {
		t.Errorf("check after Ctrl-C: exit %d", code)
	}
	// The next run carries on where it stopped.
	var again ingestJSON
	if code := h.runJSON(&again, "ingest", "--backfill", "--json"); code != 0 {
		t.Fatalf("ingest after Ctrl-C exit %d", code)
	}
	h.runJSON(&res, "search", "", "--limit", "1000", "--json")
	if res.Total != 209 {
		t.Errorf("after resuming, %d items; want the full 209", res.Total)
	}
}
