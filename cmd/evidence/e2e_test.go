package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests build the real binary, serve the snapshots with
// `evidence replay` on loopback and drive the CLI as a user would.

var publisherHosts = []string{
	"www.nationalelfservice.net", "www.centreformentalhealth.org.uk",
	"www.kingsfund.org.uk", "www.nationalvoices.org.uk",
}

type harness struct {
	t      *testing.T
	bin    string
	data   string
	replay string // address
	env    []string
}

// buildBinary returns the path of bin/evidence, built once for all the
// tests of the package (see TestMain); skipped with -short.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds the binary; skipped with -short")
	}
	bin, err := testBinary.build()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// builtBinary builds bin/evidence once for the whole test binary, on first
// use, into dir (made and removed by TestMain).
type builtBinary struct {
	dir  string
	once sync.Once
	path string
	err  error
}

func (b *builtBinary) build() (string, error) {
	b.once.Do(func() {
		if b.dir == "" {
			b.err = errors.New("no build directory: TestMain did not run")
			return
		}
		bin := filepath.Join(b.dir, "evidence")
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		b.path = bin
	})
	return b.path, b.err
}

// testBinary is the one build the end-to-end tests share: set up by
// TestMain, read-only afterwards.
var testBinary = &builtBinary{}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "evidence-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "TestMain:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	testBinary.dir = dir
	return m.Run()
}

// startReplay runs `evidence replay` on a free loopback port until the test
// ends and returns its address.
func startReplay(t *testing.T, bin string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "replay", "--dir", filepath.Join("..", "..", "testdata", "snapshots"), "--addr", "127.0.0.1:0", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
	}()
	select {
	case addr, ok := <-lines:
		if !ok || addr == "" {
			t.Fatalf("replay printed no address; stderr: %s", stderr.String())
		}
		return addr
	case <-time.After(20 * time.Second):
		t.Fatalf("replay did not start; stderr: %s", stderr.String())
	}
	return ""
}

func newHarness(t *testing.T, bin, replayAddr string) *harness {
	t.Helper()
	var ct []string
	for _, h := range publisherHosts {
		ct = append(ct, h+"="+replayAddr)
	}
	return &harness{
		t: t, bin: bin, data: t.TempDir(), replay: replayAddr,
		env: []string{
			"EVIDENCE_FETCH_CONNECT_TO=" + strings.Join(ct, ","),
			"EVIDENCE_FETCH_RATE_PER_HOST=20",
			"EVIDENCE_FETCH_BACKOFF_BASE=10ms",
			"EVIDENCE_LOG_LEVEL=warn",
		},
	}
}

func (h *harness) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, h.bin, append([]string{"--data", h.data}, args...)...)
	cmd.Env = append(os.Environ(), h.env...)
	cmd.Dir = h.t.TempDir() // no stray ./evidence.yaml
	return cmd
}

// run runs the binary and returns stdout and the exit status.
func (h *harness) run(args ...string) (string, int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("%v: %v", args, err)
	}
	if code != 0 {
		h.t.Logf("%v exited %d; stderr:\n%s", args, code, stderr.String())
	}
	return stdout.String(), code
}

func (h *harness) runJSON(v any, args ...string) int {
	h.t.Helper()
	out, code := h.run(args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		h.t.Fatalf("%v: stdout is not one JSON document: %v\n%s", args, err, out)
	}
	return code
}

// sourcesJSON is what `sources --json` prints.
type sourcesJSON struct {
	Sources []struct {
		ID                  string `json:"id"`
		Status              string `json:"status"`
		ConsecutiveFailures int    `json:"consecutive_failures"`
		LastError           string `json:"last_error"`
	} `json:"sources"`
}

type ingestJSON struct {
	Sources []struct {
		Source      string   `json:"source"`
		Status      string   `json:"status"`
		Requests    int      `json:"requests"`
		Fetched     int      `json:"fetched"`
		NotModified int      `json:"not_modified"`
		New         int      `json:"new"`
		Updated     int      `json:"updated"`
		Unchanged   int      `json:"unchanged"`
		Errors      []string `json:"errors"`
	} `json:"sources"`
	Indexed int  `json:"indexed"`
	OK      bool `json:"ok"`
}

type searchJSON struct {
	Query  string                       `json:"query"`
	Total  int                          `json:"total"`
	TookMS *int64                       `json:"took_ms"`
	Hits   []map[string]json.RawMessage `json:"hits"`
}

func TestEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, startReplay(t, bin))

	// First ingest: every item of the snapshot feed is new.
	var first ingestJSON
	if code := h.runJSON(&first, "ingest", "--source", "mental-elf", "--json"); code != 0 {
		t.Fatalf("ingest exited %d: %+v", code, first)
	}
	if len(first.Sources) != 1 || first.Sources[0].Source != "mental-elf" {
		t.Fatalf("sources = %+v", first.Sources)
	}
	me := first.Sources[0]
	// One feed and one page per new item.
	if me.New < 30 || me.Fetched != me.New+1 || first.Indexed != me.New {
		t.Errorf("first ingest: new=%d fetched=%d indexed=%d, want ≥30 new, the feed and each item's page fetched, all indexed", me.New, me.Fetched, first.Indexed)
	}

	t.Run("search returns the contract's fields and a marked snippet", func(t *testing.T) {
		var res searchJSON
		if code := h.runJSON(&res, "search", "social prescribing", "--json"); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if res.Query != "social prescribing" || res.TookMS == nil || res.Total == 0 || len(res.Hits) == 0 {
			t.Fatalf("search result = %+v", res)
		}
		for _, k := range []string{"id", "source", "type", "title", "url", "published", "first_seen", "authors", "summary",
			"topics", "pdf_urls", "announced_by", "discusses", "discussed_by", "cites", "score", "snippet"} {
			if _, ok := res.Hits[0][k]; !ok {
				t.Errorf("hit has no %q field: %v", k, keys(res.Hits[0]))
			}
		}
		var title, url, snippet string
		json.Unmarshal(res.Hits[0]["title"], &title)
		json.Unmarshal(res.Hits[0]["url"], &url)
		json.Unmarshal(res.Hits[0]["snippet"], &snippet)
		if !strings.Contains(strings.ToLower(title+snippet), "prescrib") {
			t.Errorf("top hit %q is not about social prescribing", title)
		}
		if !strings.Contains(snippet, "<mark>") {
			t.Errorf("snippet has no <mark>: %q", snippet)
		}
		if !strings.HasPrefix(url, "https://www.nationalelfservice.net/") || strings.Contains(url, "utm_") {
			t.Errorf("url %q is not the canonical publisher URL", url)
		}
	})

	t.Run("empty query lists every item newest first", func(t *testing.T) {
		var res searchJSON
		h.runJSON(&res, "search", "", "--limit", "1000", "--json")
		if res.Total != me.New {
			t.Errorf("total = %d, want %d", res.Total, me.New)
		}
		var prev string
		for _, hit := range res.Hits {
			var p *string
			json.Unmarshal(hit["published"], &p)
			if p == nil {
				continue
			}
			if prev != "" && *p > prev {
				t.Errorf("not newest first: %s after %s", *p, prev)
			}
			prev = *p
		}
	})

	t.Run("filters", func(t *testing.T) {
		var res searchJSON
		h.runJSON(&res, "search", "", "--source", "kings-fund", "--json")
		if res.Total != 0 {
			t.Errorf("kings-fund filter: total %d, want 0", res.Total)
		}
		h.runJSON(&res, "search", "", "--from", "2026-11-01", "--to", "2026-11-30", "--limit", "1000", "--json")
		if res.Total == 0 || res.Total >= me.New {
			t.Errorf("November filter: total %d of %d", res.Total, me.New)
		}
	})

	t.Run("unchanged re-ingest is only 304s and writes nothing", func(t *testing.T) {
		var again ingestJSON
		if code := h.runJSON(&again, "ingest", "--source", "mental-elf", "--json"); code != 0 {
			t.Fatalf("exit %d", code)
		}
		s := again.Sources[0]
		if s.New != 0 || s.Updated != 0 || again.Indexed != 0 || s.Fetched != 0 || s.NotModified != s.Requests || s.Requests == 0 {
			t.Errorf("re-ingest = %+v indexed=%d: want 0 new, 0 updated, 0 indexed, every request 304", s, again.Indexed)
		}
	})

	t.Run("check, sources and show", func(t *testing.T) {
		if out, code := h.run("check"); code != 0 || !strings.Contains(out, "ok") {
			t.Errorf("check exit %d: %s", code, out)
		}
		var src struct {
			Sources []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Items  int    `json:"items"`
			} `json:"sources"`
		}
		h.runJSON(&src, "sources", "--json")
		found := false
		for _, s := range src.Sources {
			if s.ID == "mental-elf" {
				found = true
				if s.Status != "ok" || s.Items != me.New {
					t.Errorf("mental-elf status = %+v", s)
				}
			}
		}
		if !found || len(src.Sources) != 4 {
			t.Errorf("sources = %+v", src.Sources)
		}
		var res searchJSON
		h.runJSON(&res, "search", "", "--limit", "1", "--json")
		var id string
		json.Unmarshal(res.Hits[0]["id"], &id)
		var item map[string]json.RawMessage
		if code := h.runJSON(&item, "show", id, "--json"); code != 0 {
			t.Fatalf("show exit %d", code)
		}
		for _, k := range []string{"body", "provenance"} {
			if _, ok := item[k]; !ok {
				t.Errorf("show --json has no %q", k)
			}
		}
	})

	t.Run("reindex then check", func(t *testing.T) {
		if _, code := h.run("reindex"); code != 0 {
			t.Fatalf("reindex exit %d", code)
		}
		if _, code := h.run("check"); code != 0 {
			t.Errorf("check after reindex exit %d", code)
		}
	})
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestExitStatusAndErrors(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, "127.0.0.1:9") // nothing listens there
	badCfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badCfg, []byte("fetch:\n  timout: 3s\nsources:\n  mental-elf:\n    include: ['(']\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"unknown command", []string{"frobnicate"}, 2, ""},
		{"bad flag value", []string{"search", "x", "--limit", "0"}, 2, ""},
		{"bad date", []string{"search", "x", "--from", "yesterday"}, 2, ""},
		{"unknown source", []string{"ingest", "--source", "bbc"}, 2, ""},
		{"config check names keys", []string{"--config", badCfg, "config", "check"}, 1, "fetch.timout"},
		{"config check names regex key", []string{"--config", badCfg, "config", "check"}, 1, "sources.mental-elf.include[0]"},
		{"config check ok", []string{"config", "check"}, 0, "ok"},
		{"version", []string{"version"}, 0, "evidence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := h.run(tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout %q does not contain %q", out, tt.wantOut)
			}
		})
	}
}

// TestUnreachableSource: a source that cannot be fetched is reported with
// its cause, the run exits 1, and nothing already stored is lost.
func TestUnreachableSource(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, startReplay(t, bin))
	var first ingestJSON
	h.runJSON(&first, "ingest", "--source", "mental-elf", "--json")
	stored := first.Sources[0].New

	bad := newHarness(t, bin, "127.0.0.1:9")
	bad.data = h.data
	bad.env = append(bad.env, "EVIDENCE_FETCH_RETRIES=0", "EVIDENCE_FETCH_TIMEOUT=2s")
	var rep ingestJSON
	code := bad.runJSON(&rep, "ingest", "--source", "mental-elf", "--json")
	if code != 1 || rep.OK {
		t.Errorf("exit %d ok=%v, want 1 and false", code, rep.OK)
	}
	if s := rep.Sources[0]; s.Status != "failing" || len(s.Errors) == 0 || !strings.Contains(s.Errors[0], "mental-elf") {
		t.Errorf("report = %+v, want a failing source with an error naming it", s)
	}
	var res searchJSON
	h.runJSON(&res, "search", "", "--limit", "1000", "--json")
	if res.Total != stored {
		t.Errorf("after a failed run the store has %d items, want %d", res.Total, stored)
	}
}

// itemSet lists every stored item as "url|title|published", sorted.
func itemSet(t *testing.T, h *harness) []string {
	t.Helper()
	var res searchJSON
	h.runJSON(&res, "search", "", "--limit", "1000", "--json")
	var out []string
	for _, hit := range res.Hits {
		var url, title string
		var pub *string
		json.Unmarshal(hit["url"], &url)
		json.Unmarshal(hit["title"], &title)
		json.Unmarshal(hit["published"], &pub)
		p := "null"
		if pub != nil {
			p = *pub
		}
		out = append(out, url+"|"+title+"|"+p)
	}
	slices.Sort(out)
	return out
}
