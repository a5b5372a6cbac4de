package main

import (
	"strings"
	"testing"
)

// TestFailingSourceIsPausedThenResumes: a source that fails
// ingest.pause_after_failures runs in a row is skipped with the reason
// (and shown as paused) until ingest.pause_for has passed, then runs again.
// The timing of the pause (and the backoff) is tested with a fake clock in
// ingest (TestSchedulerPausesAndResumes); here the pause ends because
// pause_for is shortened to a nanosecond, so nothing sleeps.
func TestFailingSourceIsPausedThenResumes(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, "127.0.0.1:9") // nothing answers
	h.env = append(h.env,
		"EVIDENCE_FETCH_RETRIES=0", "EVIDENCE_FETCH_TIMEOUT=2s",
		"EVIDENCE_INGEST_PAUSE_AFTER_FAILURES=2", "EVIDENCE_INGEST_PAUSE_FOR=24h",
		"EVIDENCE_SOURCES_CENTRE_FOR_MENTAL_HEALTH_ENABLED=false",
		"EVIDENCE_SOURCES_KINGS_FUND_ENABLED=false",
		"EVIDENCE_SOURCES_NATIONAL_VOICES_ENABLED=false",
	)
	status := func() (string, int, string) {
		var s sourcesJSON
		h.runJSON(&s, "sources", "--json")
		for _, src := range s.Sources {
			if src.ID == "mental-elf" {
				return src.Status, src.ConsecutiveFailures, src.LastError
			}
		}
		t.Fatal("no mental-elf in sources")
		return "", 0, ""
	}
	for i := 1; i <= 2; i++ {
		var rep ingestJSON
		if code := h.runJSON(&rep, "ingest", "--json"); code != 1 || rep.Sources[0].Status != "failing" {
			t.Fatalf("run %d: exit %d, %+v", i, code, rep.Sources)
		}
	}
	st, fails, lastErr := status()
	if st != "paused" || fails != 2 || !strings.Contains(lastErr, "mental-elf") {
		t.Fatalf("after 2 failures: status %q, failures %d, last error %q; want paused", st, fails, lastErr)
	}
	out, code := h.run("ingest")
	if code != 0 || !strings.Contains(out, "paused after 2 consecutive failures") {
		t.Errorf("paused source: exit %d, output %q; want it skipped with the reason", code, out)
	}
	h.env = append(h.env, "EVIDENCE_INGEST_PAUSE_FOR=1ns") // the last value wins
	var rep ingestJSON
	h.runJSON(&rep, "ingest", "--json")
	if len(rep.Sources) != 1 || rep.Sources[0].Status != "failing" {
		t.Errorf("after the pause the source should run again: %+v", rep.Sources)
	}
}
