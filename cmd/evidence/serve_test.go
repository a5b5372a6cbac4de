package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evidencetracker/evidence/internal/smtptest"
)

// runningServe is `evidence serve` started as a real process.
type runningServe struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	done chan error
	errb *bytes.Buffer
}

func startServe(t *testing.T, h *harness) *runningServe {
	t.Helper()
	cmd := h.command(context.Background(), "serve", "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &runningServe{t: t, cmd: cmd, done: make(chan error, 1), errb: &errb}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on ") {
				lines <- sc.Text()
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case l := <-lines:
		u := l[strings.Index(l, "http://"):]
		s.url = strings.Fields(u)[0]
	case err := <-s.done:
		t.Fatalf("serve exited at start: %v\n%s", err, errb.String())
	case <-time.After(time.Minute):
		t.Fatalf("serve printed no address\n%s", errb.String())
	}
	return s
}

func (s *runningServe) health() map[string]any {
	s.t.Helper()
	resp, err := http.Get(s.url + "/healthz")
	if err != nil {
		s.t.Fatalf("healthz: %v", err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		s.t.Fatalf("healthz: %v", err)
	}
	if resp.StatusCode != 200 {
		s.t.Fatalf("healthz = %d: %v", resp.StatusCode, doc)
	}
	return doc
}

// waitFor polls cond (no fixed sleeps: it returns as soon as cond holds).
func (s *runningServe) waitFor(what string, cond func(map[string]any) bool) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		doc := s.health()
		if cond(doc) {
			return doc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("serve: %s did not happen; healthz %v\nstderr:\n%s", what, doc, s.errb.String())
		}
		select {
		case err := <-s.done:
			s.t.Fatalf("serve exited (%v) waiting for %s\n%s", err, what, s.errb.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *runningServe) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("serve after SIGTERM: %v\n%s", err, s.errb.String())
		}
	case <-time.After(2 * time.Minute):
		s.t.Fatalf("serve did not stop on SIGTERM\n%s", s.errb.String())
	}
}

// TestServe runs evidence serve over the snapshots: its schedule ingests at
// once, CLI commands on the same data dir run inside it (search answers as
// usual, never "index in use"), a second serve is refused naming the first,
// the digest goes out on its schedule to a real SMTP server, and SIGTERM
// stops it cleanly with nothing lost.
func TestServe(t *testing.T) {
	bin := buildBinary(t)
	var served atomic.Int64
	addr := startCountingReplay(t, func(int64) { served.Add(1) })
	h := newHarness(t, bin, addr)
	smtp, err := smtptest.Start(smtptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	h.env = append(h.env,
		"EVIDENCE_FETCH_RATE_PER_HOST=100",
		"EVIDENCE_DIGEST_SCHEDULE=@every 1s",
		"EVIDENCE_SMTP_HOST=127.0.0.1", "EVIDENCE_SMTP_PORT="+strconv.Itoa(smtp.Port()), "EVIDENCE_SMTP_TLS=none",
		"EVIDENCE_SMTP_FROM=digest@evidence.example.org", "EVIDENCE_WEB_BASE_URL=https://evidence.example.org",
		"EVIDENCE_INDEX_LOCK_WAIT=0s", // a CLI command that did not go through serve would fail at once
	)
	s := startServe(t, h)
	items := func(doc map[string]any) float64 {
		st, _ := doc["store"].(map[string]any)
		n, _ := st["items"].(float64)
		return n
	}
	doc := s.waitFor("the first scheduled ingest", func(doc map[string]any) bool {
		_, ok := doc["last_ingest"]
		return ok && items(doc) >= 200
	})
	if dg, _ := doc["digest"].(map[string]any); dg["next"] == nil || dg["schedule"] != "@every 1s" {
		t.Errorf("healthz digest = %v", doc["digest"])
	}
	if srcs, _ := doc["sources"].([]any); len(srcs) != 4 {
		t.Errorf("healthz sources = %v", doc["sources"])
	}

	checkWebOverServe(t, h, s)

	// The CLI beside serve: same JSON as without it.
	var res struct {
		Total int `json:"total"`
		Hits  []struct {
			ID      string `json:"id"`
			Snippet string `json:"snippet"`
		} `json:"hits"`
	}
	if code := h.runJSON(&res, "search", "social prescribing", "--json"); code != 0 || res.Total == 0 || !strings.Contains(res.Hits[0].Snippet, "<mark>") {
		t.Fatalf("search beside serve: exit %d, %+v", code, res)
	}
	if out, code := h.run("show", res.Hits[0].ID); code != 0 || !strings.Contains(out, "id:") {
		t.Errorf("show beside serve: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"sources", "--json"}, {"topics", "--json"}, {"check"}, {"ingest", "--source", "mental-elf", "--json"}, {"reindex", "--json"}, {"check"}} {
		if out, code := h.run(args...); code != 0 {
			t.Errorf("%v beside serve: exit %d\n%s", args, code, out)
		}
	}
	if _, code := h.run("subscribers", "add", "reader@example.org"); code != 0 {
		t.Fatal("subscribers add beside serve failed")
	}

	// A second serve on the data dir is refused and names the first.
	second := h.command(context.Background(), "serve", "--addr", "127.0.0.1:0")
	var secondErr bytes.Buffer
	second.Stderr = &secondErr
	err = second.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(secondErr.String(), "held by a running evidence serve: pid "+strconv.Itoa(s.cmd.Process.Pid)) {
		t.Errorf("second serve: %v\n%s", err, secondErr.String())
	}

	// The digest on its schedule: the librarian picks an item for the last
	// complete week (the items are all first seen this week), and the next
	// firing mails it.
	if out, code := h.run("digest", "pick", res.Hits[0].ID); code != 0 {
		t.Fatalf("digest pick: %s", out)
	}
	s.waitFor("the scheduled digest", func(map[string]any) bool { return smtp.Count() >= 1 })
	doc = s.waitFor("the digest's outcome in healthz", func(doc map[string]any) bool {
		dg, _ := doc["digest"].(map[string]any)
		last, _ := dg["last"].(map[string]any)
		return last != nil && last["status"] == "sent"
	})
	if got := smtp.Messages(); len(got) != 1 || got[0].To[0] != "reader@example.org" {
		t.Errorf("mail received = %d messages", len(got))
	}
	s.stop()
	// Sent once, however often the schedule fired.
	if smtp.Count() != 1 {
		t.Errorf("%d digests sent, want 1", smtp.Count())
	}
	// After serve: the CLI opens the data dir itself again, and it agrees.
	if out, code := h.run("check"); code != 0 {
		t.Errorf("check after serve: %s", out)
	}
	var list struct {
		Sent []struct{ Week string } `json:"sent"`
	}
	if code := h.runJSON(&list, "digest", "list", "--json"); code != 0 || len(list.Sent) != 1 {
		t.Errorf("digest list after serve: %+v", list)
	}
}

// TestServeStopsCleanlyMidIngest sends SIGTERM while the first scheduled
// ingest is fetching: serve exits 0, the cut sources are interrupted (not
// failing), and a restarted serve completes the ingest with store and index
// agreeing.
func TestServeStopsCleanlyMidIngest(t *testing.T) {
	bin := buildBinary(t)
	mid := make(chan struct{})
	addr := startCountingReplay(t, func(n int64) {
		if n == 40 {
			close(mid)
		}
	})
	h := newHarness(t, bin, addr)
	h.env = append(h.env, "EVIDENCE_FETCH_RATE_PER_HOST=4")
	s := startServe(t, h)
	select {
	case <-mid:
	case <-time.After(2 * time.Minute):
		t.Fatal("the scheduled ingest did not start")
	}
	s.stop()
	var srcs struct {
		Sources []struct {
			ID, Status          string
			ConsecutiveFailures int `json:"consecutive_failures"`
		} `json:"sources"`
	}
	h.runJSON(&srcs, "sources", "--json")
	for _, src := range srcs.Sources {
		if src.Status == "failing" || src.ConsecutiveFailures != 0 {
			t.Errorf("after SIGTERM %s is %s with %d failures, want no failure", src.ID, src.Status, src.ConsecutiveFailures)
		}
	}
	h.env = append(h.env, "EVIDENCE_FETCH_RATE_PER_HOST=100")
	s = startServe(t, h)
	s.waitFor("the resumed ingest", func(doc map[string]any) bool {
		li, _ := doc["last_ingest"].(map[string]any)
		return li != nil && li["ok"] == true
	})
	s.stop()
	if out, code := h.run("check"); code != 0 {
		t.Errorf("check: %s", out)
	}
	var res struct{ Total int }
	if h.runJSON(&res, "search", "", "--json"); res.Total < 200 {
		t.Errorf("%d items after the resumed ingest, want the snapshots' 209", res.Total)
	}
}
