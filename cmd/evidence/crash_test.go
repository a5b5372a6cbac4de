package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCrashRecovery kills `ingest --backfill` of all four snapshot
// publishers with SIGKILL (no clean-up) at more than twenty points spread
// over the whole run — while feeds, sitemaps and item pages are fetched,
// during listing pagination, between item saves and while the index is
// written — then runs the same ingest again and expects exactly the items
// of an uninterrupted run, a successful re-run and `check` clean.
//
// Kill points are picked by counting what the binary itself reports, not
// by a clock: ingest runs with debug logs as JSON on stderr, and the test
// counts its "fetch", "store: saved item" and "indexed batch" lines (a
// fetch of a URL matching a source's pagination pattern also counts as a
// "page", and as a "kf-page" on the King's Fund). When the n-th event of the chosen kind is read the process is
// killed; where exactly it is then depends on the scheduler, so the points
// are "at or just after" the event, which is all a crash test needs. The
// numbers come from an uninterrupted reference run, so the points cover
// the whole run whatever the snapshots hold. No hook is added to the
// product.
//
// Items are compared as works (workSet): a work two publishers announce is
// one item whose URL is that of whichever publisher's source reached it
// first, and the order sources start in is not fixed even one at a time.
// Sources run one at a time (ingest.concurrency 1) all the same, as with
// several at once two sources saving one work at the same moment may both
// store it (the dedupe race the one-transaction save closes). Index
// batches of 8 stretch the window in which the store is ahead of the
// index. The subtests run two at a time, each in its own data directory.
func TestCrashRecovery(t *testing.T) {
	bin := buildBinary(t)
	addr := startReplay(t, bin)
	crashEnv := []string{
		"EVIDENCE_FETCH_RATE_PER_HOST=100", // the most config allows; loopback
		"EVIDENCE_INGEST_CONCURRENCY=1",
		"EVIDENCE_INDEX_BATCH_SIZE=8",
		// The King's Fund's sitemap is pointed at a missing file, so its
		// listing pages are the only way to its older items: a walk cut by
		// a kill must be read again, not trusted from its first page's
		// validators (the other three keep their sitemaps).
		"EVIDENCE_SOURCES_KINGS_FUND_SITEMAPS=https://www.kingsfund.org.uk/no-such-sitemap.xml",
	}
	args := []string{"ingest", "--backfill", "--json"}

	ref := newHarness(t, bin, addr)
	ref.env = append(ref.env, crashEnv...)
	counts, _ := runUntil(t, ref, args, killPoint{})
	var want ingestJSON
	if code := ref.runJSON(&want, args...); code != 0 || !want.OK {
		t.Fatalf("re-run of the uninterrupted backfill: exit %d %+v", code, want)
	}
	wantItems := workSet(t, ref)
	if len(wantItems) < 150 {
		t.Fatalf("the uninterrupted backfill stored %d items; the snapshots hold more than 150", len(wantItems))
	}
	points := spreadKillPoints(counts)
	if len(points) < 20 {
		t.Fatalf("only %d kill points from the reference run's events %v", len(points), counts)
	}
	t.Logf("reference run: %v events, %d items; %d kill points", counts, len(wantItems), len(points))

	for _, kp := range points {
		t.Run("killed at "+kp.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, bin, addr)
			h.env = append(h.env, crashEnv...)
			if _, reached := runUntil(t, h, args, kp); !reached {
				t.Fatalf("the run ended before %s (not deterministic?)", kp)
			}
			var again ingestJSON
			if code := h.runJSON(&again, args...); code != 0 || !again.OK {
				t.Fatalf("ingest after the crash: exit %d: %+v", code, again)
			}
			if got := workSet(t, h); !slices.Equal(got, wantItems) {
				t.Errorf("after the crash and a re-run: %d items, want %d\n missing %v\n extra %v",
					len(got), len(wantItems), minus(wantItems, got), minus(got, wantItems))
			}
			if out, code := h.run("check"); code != 0 {
				t.Errorf("check after the crash: exit %d\n%s", code, out)
			}
		})
	}
}

// killPoint is the n-th event of a kind in ingest's log; the zero value
// never kills.
type killPoint struct {
	event string // "fetch", "page", "kf-page", "saved", "indexed"
	n     int
}

func (k killPoint) String() string { return fmt.Sprintf("%s %d", k.event, k.n) }

// paginationURL matches the listing pages after the first under the
// default sources' pagination patterns.
var paginationURL = regexp.MustCompile(`/page/[0-9]+/?$|[?&]page=[0-9]+`)

// runUntil runs the binary with debug JSON logs, counting its events, and
// kills it (SIGKILL) once kp's event has been seen kp.n times. It returns
// the counts and whether kp was reached.
func runUntil(t *testing.T, h *harness, args []string, kp killPoint) (map[string]int, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, args...)
	cmd.Env = append(cmd.Env, "EVIDENCE_LOG_LEVEL=debug", "EVIDENCE_LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	reached := false
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var line struct {
			Msg string `json:"msg"`
			URL string `json:"url"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		var events []string
		switch line.Msg {
		case "fetch":
			events = append(events, "fetch")
			if paginationURL.MatchString(line.URL) {
				events = append(events, "page")
				if strings.HasPrefix(line.URL, "https://www.kingsfund.org.uk/") {
					events = append(events, "kf-page")
				}
			}
		case "store: saved item":
			events = append(events, "saved")
		case "indexed batch":
			events = append(events, "indexed")
		}
		for _, e := range events {
			counts[e]++
			if !reached && e == kp.event && counts[e] == kp.n {
				reached = true
				_ = cmd.Process.Kill() // SIGKILL
			}
		}
	}
	err = cmd.Wait()
	if kp.n == 0 && err != nil {
		t.Fatalf("uninterrupted %v: %v", args, err)
	}
	return counts, reached
}

// spreadKillPoints picks kill points over a run with these event counts:
// twelve over the requests, five over the listing pages after the first
// and three more over the King's Fund's, three between item saves and
// three while indexing.
func spreadKillPoints(counts map[string]int) []killPoint {
	spread := func(event string, k int) []killPoint {
		n := counts[event]
		var out []killPoint
		for i := range k {
			p := 1 + i*(n-1)/max(k-1, 1)
			if n > 0 && (len(out) == 0 || out[len(out)-1].n != p) {
				out = append(out, killPoint{event, p})
			}
		}
		return out
	}
	return slices.Concat(spread("fetch", 12), spread("page", 5), spread("kf-page", 3), spread("saved", 3), spread("indexed", 3))
}

// minus lists the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// workSet lists every stored item as "url|title|published", sorted; an
// item more than one publisher announced is listed as
// "work|title|announcers" instead, since which publisher's URL and date it
// keeps depends on which source met it first.
func workSet(t *testing.T, h *harness) []string {
	t.Helper()
	var res searchJSON
	h.runJSON(&res, "search", "", "--limit", "1000", "--json")
	if res.Total != len(res.Hits) {
		t.Fatalf("search listed %d of %d items", len(res.Hits), res.Total)
	}
	var out []string
	for _, hit := range res.Hits {
		var url, title string
		var pub *string
		var by []string
		json.Unmarshal(hit["url"], &url)
		json.Unmarshal(hit["title"], &title)
		json.Unmarshal(hit["published"], &pub)
		json.Unmarshal(hit["announced_by"], &by)
		p := "null"
		if pub != nil {
			p = *pub
		}
		if len(by) > 1 {
			slices.Sort(by)
			out = append(out, fmt.Sprintf("work|%s|%v", title, by))
			continue
		}
		out = append(out, url+"|"+title+"|"+p)
	}
	slices.Sort(out)
	return out
}
