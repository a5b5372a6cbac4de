package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser test: the demo data (all four sources ingested with
// --backfill over the snapshots, as scripts/demo.sh does), a curator made
// with `users add`, the real `evidence serve`, and headless Chromium driven
// through the pages as a reader and a curator would use them. On each page
// axe-core checks WCAG 2.1 A/AA and best practice (serious or critical
// violations fail); the pages are photographed at 1280 and 320 px.
//
// Needs Chromium (/usr/bin/chromium or `chromium` on PATH) and axe-core
// (testdata/npm/node_modules): skipped without them, except with CI=true.

const (
	browserTotal   = 5 * time.Minute  // everything from the browser's start
	browserStep    = 60 * time.Second // one step (a navigation and its checks)
	browserSel     = 15 * time.Second // a selector after its page has loaded
	browserWidth   = 1280
	browserNarrow  = 320
	browserHeight  = 900
	curatorEmail   = "curator@example.org"
	searchQuery    = "patient activation"
	axeRelPath     = "testdata/npm/node_modules/axe-core/axe.min.js"
	chromiumBinary = "/usr/bin/chromium"
)

// axeTags are the rule sets axe runs on every page.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"}

// needTool skips the test when something it needs is not installed, saying
// how to install it; in CI (CI=true) the browser test must run, so it fails.
func needTool(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: the browser test must run in CI; .ci/run installs both)", msg)
	}
	t.Skip(msg)
}

func findChromium() string {
	if fi, err := os.Stat(chromiumBinary); err == nil && !fi.IsDir() {
		return chromiumBinary
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// browserOutDir is $EVIDENCE_TEST_OUT/browser, else test-output/browser at
// the repository root; emptied of an earlier run's files.
func browserOutDir(t *testing.T, root string) string {
	t.Helper()
	base := os.Getenv("EVIDENCE_TEST_OUT")
	if base == "" {
		base = filepath.Join(root, "test-output")
	}
	dir := filepath.Join(base, "browser")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// axeNode is one element a rule found.
type axeNode struct {
	Target         []any  `json:"target"` // selectors; an array again inside frames and shadow roots
	HTML           string `json:"html"`
	FailureSummary string `json:"failure_summary,omitempty"`
}

type axeRule struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"help_url"`
	Nodes   []axeNode `json:"nodes"`
}

// axePage is one page's axe run, as axe-results.json records it.
type axePage struct {
	Page         string    `json:"page"`
	URL          string    `json:"url"`
	Engine       string    `json:"axe_version"`
	Violations   []axeRule `json:"violations"`
	Incomplete   []string  `json:"incomplete"` // rules that need a person to judge
	Passes       int       `json:"passes"`
	Inapplicable int       `json:"inapplicable"`
	Serious      int       `json:"serious_or_critical"`
	Error        string    `json:"error,omitempty"`
}

// axeRun runs axe on the document and keeps only what the summary needs.
const axeRun = `axe.run(document, {runOnly: %s}).then(r => ({
  page: "", url: r.url, axe_version: r.testEngine.version,
  violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, help_url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, failure_summary: n.failureSummary || ""}))})),
  incomplete: r.incomplete.map(v => v.id), passes: r.passes.length, inapplicable: r.inapplicable.length,
  serious_or_critical: 0}))`

// browserRun is the state the steps share: one tab of one browser, over
// one running serve.
type browserRun struct {
	ctx  context.Context // the tab's
	base string          // http://ADDR of serve
	out  string          // screenshots and axe-results.json
	axe  string          // axe.min.js

	mu      sync.Mutex
	results []axePage
	done    map[string]bool // steps that ran to their end
}

// step runs one named step as a subtest bounded by browserStep. A step
// whose prerequisite did not run to its end is skipped (that one has
// already failed).
func (b *browserRun) step(t *testing.T, name string, needs []string, f func(t *testing.T, ctx context.Context)) {
	t.Helper()
	completed := false
	t.Run(name, func(t *testing.T) {
		for _, n := range needs {
			if !b.done[n] {
				t.Skipf("skipped: needs step %q, which did not complete", n)
			}
		}
		ctx, cancel := context.WithTimeout(b.ctx, browserStep)
		defer cancel()
		f(t, ctx)
		completed = true
	})
	b.done[name] = completed
}

// fatalf ends a step with the page's URL and a screenshot of it.
func (b *browserRun) fatalf(t *testing.T, format string, args ...any) {
	t.Helper()
	loc, shot := b.failureEvidence(t)
	t.Fatalf("%s: %s\n\tpage: %s\n\tscreenshot: %s", t.Name(), fmt.Sprintf(format, args...), loc, shot)
}

func (b *browserRun) errorf(t *testing.T, format string, args ...any) {
	t.Helper()
	loc, shot := b.failureEvidence(t)
	t.Errorf("%s: %s\n\tpage: %s\n\tscreenshot: %s", t.Name(), fmt.Sprintf(format, args...), loc, shot)
}

// failureEvidence is the tab's URL and a full-page screenshot of it, on
// a context of its own (the step's may be what ran out).
func (b *browserRun) failureEvidence(t *testing.T) (loc, shot string) {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		loc = "(unknown: " + err.Error() + ")"
	}
	name := "fail-" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + ".png"
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return loc, "(none: " + err.Error() + ")"
	}
	path := filepath.Join(b.out, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return loc, "(none: " + err.Error() + ")"
	}
	return loc, path
}

// open navigates to path and fails the step unless the page answers 200.
func (b *browserRun) open(t *testing.T, ctx context.Context, path string) *network.Response {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatalf(t, "GET %s: %v", path, err)
	}
	if resp.Status != http.StatusOK {
		b.fatalf(t, "GET %s answered %d %s (want 200): the page is not there yet?", path, resp.Status, resp.StatusText)
	}
	return resp
}

// click clicks the first element matching sel once it is visible, waits
// for the page that follows to load, and fails unless it answered 200.
func (b *browserRun) click(t *testing.T, ctx context.Context, sel string) *network.Response {
	t.Helper()
	b.visible(t, ctx, sel)
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf(t, "click %q: no page loaded: %v", sel, err)
	}
	if resp.Status != http.StatusOK {
		b.fatalf(t, "click %q: %s answered %d %s (want 200)", sel, resp.URL, resp.Status, resp.StatusText)
	}
	return resp
}

// visible waits for sel to be visible. The pages are rendered on the
// server with no scripts, so once a page has loaded what is not in it will
// not come: a missing element fails at once, naming the selector.
func (b *browserRun) visible(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if b.count(t, ctx, sel) == 0 {
		b.fatalf(t, "selector %q: no such element on the page", sel)
	}
	wctx, cancel := context.WithTimeout(ctx, browserSel)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.fatalf(t, "selector %q: not visible within %v (%v)", sel, browserSel, err)
	}
}

// eval evaluates a JavaScript expression into T, failing the step on error.
func evalJS[T any](b *browserRun, t *testing.T, ctx context.Context, what, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.fatalf(t, "%s: %v", what, err)
	}
	return v
}

// text is the rendered text of the first element matching sel ("" when
// there is none), spaces collapsed.
func (b *browserRun) text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText : ""; })()`, jsString(sel))
	return squash(evalJS[string](b, t, ctx, "text of "+sel, js))
}

func (b *browserRun) count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return evalJS[int](b, t, ctx, "count of "+sel, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

func (b *browserRun) location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.fatalf(t, "location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.fatalf(t, "location %q: %v", loc, err)
	}
	return u
}

// checkAxe injects axe-core into the page through DevTools (Runtime.evaluate
// is not subject to the page's Content-Security-Policy, which forbids every
// script of the page's own), runs it and records the result. A serious or
// critical violation fails the step; moderate and minor ones are logged.
func (b *browserRun) checkAxe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	loc := b.location(t, ctx).String()
	rec := axePage{Page: page, URL: loc}
	defer func() {
		b.mu.Lock()
		b.results = append(b.results, rec)
		b.mu.Unlock()
	}()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`))
	if err == nil && !loaded {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](b.axe))
		if err == nil {
			loaded, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`))
		}
	}
	if err != nil || !loaded {
		rec.Error = fmt.Sprintf("axe-core did not load into the page (loaded=%v): %v", loaded, err)
		b.fatalf(t, "%s", rec.Error)
	}
	tags, _ := json.Marshal(axeTags)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[axePage](fmt.Sprintf(axeRun, tags), chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		rec.Error = "axe.run: " + err.Error()
		b.fatalf(t, "%s", rec.Error)
	}
	res.Page = page
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			res.Serious++
		}
	}
	rec = res
	var serious []string
	for _, v := range res.Violations {
		line := fmt.Sprintf("axe %s [%s] %s (%s)", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			line += fmt.Sprintf("\n\t\ttarget %s: %s", targetString(n.Target), oneLine(n.HTML, 160))
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			serious = append(serious, line)
		} else {
			t.Logf("%s: %s", page, line)
		}
	}
	t.Logf("%s: axe-core %s on %s: %d violations (%d serious or critical), %d passes, %d to review by hand %v",
		page, res.Engine, loc, len(res.Violations), res.Serious, res.Passes, len(res.Incomplete), res.Incomplete)
	if len(serious) > 0 {
		b.errorf(t, "%s: %d serious or critical accessibility violations:\n\t%s", page, len(serious), strings.Join(serious, "\n\t"))
	}
}

// screenshots saves full-page PNGs of the page at 1280 and 320 px wide,
// then puts the viewport back.
func (b *browserRun) screenshots(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	defer func() {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(browserWidth, browserHeight)); err != nil {
			b.fatalf(t, "viewport back to %d px: %v", browserWidth, err)
		}
	}()
	for _, w := range []int64{browserWidth, browserNarrow} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, browserHeight)); err != nil {
			b.fatalf(t, "viewport %d px: %v", w, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.fatalf(t, "screenshot at %d px: %v", w, err)
		}
		path := filepath.Join(b.out, fmt.Sprintf("%s-%d.png", page, w))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
		if w == browserNarrow {
			// Reflow (WCAG 1.4.10): nothing should need sideways scrolling.
			sw := evalJS[int](b, t, ctx, "scroll width", `document.documentElement.scrollWidth`)
			if sw > browserNarrow {
				t.Logf("%s: at %d px the page is %d px wide (scrolls sideways)", page, browserNarrow, sw)
			}
		}
	}
}

func (b *browserRun) writeResults(t *testing.T, chromium string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	doc := struct {
		Browser string    `json:"browser"`
		Tags    []string  `json:"tags"`
		Pages   []axePage `json:"pages"`
	}{chromium, axeTags, b.results}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Error(err)
		return
	}
	path := filepath.Join(b.out, "axe-results.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Error(err)
		return
	}
	t.Logf("axe results: %s", path)
}

// TestBrowser drives the web as a reader and a curator would (see the top
// of this file).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: starts serve and Chromium; skipped with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	chromium := findChromium()
	if chromium == "" {
		needTool(t, "browser test: Chromium not found at "+chromiumBinary+" nor as `chromium` on PATH; install it with `apt-get install chromium` (Debian), as .ci/run does")
	}
	axeSrc, err := os.ReadFile(filepath.Join(root, axeRelPath))
	if err != nil {
		needTool(t, "browser test: axe-core not installed ("+err.Error()+"); install it with `cd testdata/npm && npm ci --no-audit --no-fund`, as .ci/run does")
	}
	out := browserOutDir(t, root)
	t.Logf("output folder: %s", out)
	start := time.Now()

	bin := buildBinary(t)
	h := newHarness(t, bin, startReplay(t, bin))
	h.env = append(h.env,
		"EVIDENCE_FETCH_RATE_PER_HOST=50",
		// Mail goes nowhere: nothing listens on the discard port, and the
		// digest is not due during the test.
		"EVIDENCE_SMTP_HOST=127.0.0.1", "EVIDENCE_SMTP_PORT=9", "EVIDENCE_SMTP_TLS=none",
		"EVIDENCE_SMTP_FROM=digest@evidence.example.org", "EVIDENCE_DIGEST_SCHEDULE=0 7 1 1 *",
		// Plain http, so the session cookie is not Secure-only.
		"EVIDENCE_WEB_BASE_URL=http://127.0.0.1",
		// Anonymous readers may search (a warning only while the key is not there).
		"EVIDENCE_WEB_PUBLIC=true",
	)

	t.Log("step: ingest the demo data (all four sources, --backfill)")
	var ing ingestJSON
	args := []string{"ingest", "--backfill", "--json"}
	for _, s := range []string{"mental-elf", "centre-for-mental-health", "kings-fund", "national-voices"} {
		args = append(args, "--source", s)
	}
	if code := h.runJSON(&ing, args...); code != 0 || !ing.OK || len(ing.Sources) != 4 || ing.Indexed == 0 {
		t.Fatalf("step ingest: exit %d, ok=%v, %d sources, %d indexed: %+v", code, ing.OK, len(ing.Sources), ing.Indexed, ing.Sources)
	}
	t.Logf("ingested and indexed %d items in %v", ing.Indexed, time.Since(start).Round(time.Millisecond))

	done := map[string]bool{}
	password := "a long test passphrase, 2026"
	t.Run("users add curator", func(t *testing.T) {
		pwFile := filepath.Join(t.TempDir(), "password")
		if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		hu := *h // the subtest's t, so a failure ends the subtest only
		hu.t = t
		stdout, code := hu.run("users", "add", curatorEmail, "--role", "curator", "--password-file", pwFile)
		if code != 0 {
			t.Fatalf("evidence users add %s --role curator --password-file FILE: exit %d (stderr above); stdout: %s", curatorEmail, code, stdout)
		}
		done["users add curator"] = true
	})

	t.Log("step: start evidence serve")
	s := startServe(t, h)
	waitHealthy(t, s)
	t.Logf("serve is up at %s (%v since start)", s.url, time.Since(start).Round(time.Millisecond))

	b, stopBrowser := startBrowser(t, chromium, string(axeSrc), out, s.url, done)
	b.runSteps(t, password)

	t.Log("step: stop Chromium, then serve (SIGTERM)")
	stopBrowser()
	s.stop()
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}

// startBrowser starts headless Chromium with a fresh profile on one tab,
// for at most browserTotal, at 1280×900. The results are written when the
// test ends; stop ends the browser (also called at the end of the test).
func startBrowser(t *testing.T, chromium, axeSrc, out, base string, done map[string]bool) (b *browserRun, stop func()) {
	t.Helper()
	t.Log("step: start Chromium")
	total, cancelTotal := context.WithTimeout(context.Background(), browserTotal)
	userData := t.TempDir() // made before the browser's cleanup, so removed after it
	var chromeOut lockedBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(total,
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(userData),
		chromedp.WindowSize(browserWidth, browserHeight),
		chromedp.CombinedOutput(&chromeOut),
	)
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancelTab()
			cancelAlloc()
			cancelTotal()
		})
	}
	t.Cleanup(stop)
	// The first Run starts the browser; it has no timeout of its own (that
	// would stop the browser), only the whole test's.
	version, err := chromedp.Run(tab, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatalf("step start Chromium (%s): %v\n%s", chromium, err, chromeOut.String())
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(browserWidth, browserHeight)); err != nil {
		t.Fatal(err)
	}
	t.Logf("browser: %s", version)
	b = &browserRun{ctx: tab, base: base, out: out, axe: axeSrc + "\n;undefined", done: done}
	t.Cleanup(func() { b.writeResults(t, chromium+" · "+version) })
	return b, stop
}

// runSteps is the walk through the site, one subtest a step.
func (b *browserRun) runSteps(t *testing.T, password string) {
	b.step(t, "home page", nil, func(t *testing.T, ctx context.Context) {
		resp := b.open(t, ctx, "/")
		csp := header(resp.Headers, "Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("Content-Security-Policy = %q, want default-src 'none' (no scripts of the page's own)", csp)
		}
		// axe is injected through DevTools, which the CSP does not govern.
		b.checkAxe(t, ctx, "home")
	})

	var before int
	b.step(t, "search", nil, func(t *testing.T, ctx context.Context) {
		b.open(t, ctx, "/")
		form := `form[role="search"][action="/search"].search-form`
		b.visible(t, ctx, form+` input[type="search"][name="q"]#q`)
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(form+" input#q"), searchQuery)); err != nil {
			b.fatalf(t, "type into %s input#q: %v", form, err)
		}
		b.click(t, ctx, form+` button[type="submit"]`)
		u := b.location(t, ctx)
		if u.Path != "/search" || u.Query().Get("q") != searchQuery {
			b.errorf(t, "after submitting the search form the page is %s, want /search?q=%s", u, url.QueryEscape(searchQuery))
		}
		if msg := b.text(t, ctx, "p.query-error"); msg != "" {
			b.fatalf(t, "query %q shows a query error: %s", searchQuery, msg)
		}
		b.visible(t, ctx, "ol.results li.result h2.result-title a")
		n := b.count(t, ctx, "ol.results > li.result")
		before = b.resultCount(t, ctx)
		t.Logf("%q: %d results on the page, p.result-count %d", searchQuery, n, before)
		if n == 0 || before < n {
			b.errorf(t, "%d results listed but p.result-count says %d", n, before)
		}
	})

	b.step(t, "facet", []string{"search"}, func(t *testing.T, ctx context.Context) {
		b.visible(t, ctx, `nav.facets[aria-label="Filters"] section.facet a.facet-value`)
		if b.count(t, ctx, "ul.applied-filters li") > 0 {
			b.errorf(t, "filters are shown as applied before any was chosen: %s", b.text(t, ctx, "ul.applied-filters"))
		}
		// The first source facet's value (fall back to the first of any facet).
		sel := `nav.facets section.facet[data-facet="source"] a.facet-value`
		if b.count(t, ctx, sel) == 0 {
			sel = `nav.facets section.facet a.facet-value`
		}
		type facetValue struct {
			Facet, Label, Count, Href string
		}
		fv := evalJS[facetValue](b, t, ctx, "facet value", fmt.Sprintf(`(() => {
			const a = document.querySelector(%s), c = a.querySelector("span.count");
			const label = Array.from(a.childNodes).filter(n => !(n.nodeType === 1 && n.matches("span.count"))).map(n => n.textContent).join("");
			return {Facet: a.closest("section.facet").dataset.facet || "", Label: label.trim(), Count: c ? c.textContent.trim() : "", Href: a.getAttribute("href")};
		})()`, jsString(sel)))
		want, err := strconv.Atoi(strings.ReplaceAll(fv.Count, ",", ""))
		if err != nil {
			b.errorf(t, "facet value %q (%s) has no number in span.count: %q", fv.Label, sel, fv.Count)
		}
		t.Logf("applying facet %s = %q (%s results) → %s", fv.Facet, fv.Label, fv.Count, fv.Href)
		b.click(t, ctx, sel)
		b.visible(t, ctx, "ul.applied-filters li a.remove-filter")
		if applied := b.text(t, ctx, "ul.applied-filters"); !strings.Contains(strings.ToLower(applied), strings.ToLower(fv.Label)) {
			b.errorf(t, "applied filters %q do not name the facet value %q", applied, fv.Label)
		}
		if u := b.location(t, ctx); u.Query().Get("q") != searchQuery {
			b.errorf(t, "the query was lost applying the facet: %s", u)
		}
		after := b.resultCount(t, ctx)
		t.Logf("result count %d → %d", before, after)
		if after > before || (err == nil && after != want) {
			b.errorf(t, "with %s = %q applied p.result-count is %d; the facet said %d, and without it there were %d", fv.Facet, fv.Label, after, want, before)
		}
		if b.count(t, ctx, "ol.results > li.result") == 0 {
			b.errorf(t, "no results listed with the facet applied")
		}
		b.checkAxe(t, ctx, "search-facet")
		b.screenshots(t, ctx, "search-facet")
	})

	var itemTitle, itemPath string
	b.step(t, "item page", []string{"search"}, func(t *testing.T, ctx context.Context) {
		link := "ol.results li.result h2.result-title a"
		b.visible(t, ctx, link)
		listed := b.text(t, ctx, link)
		href := evalJS[string](b, t, ctx, "first result's href", fmt.Sprintf(`document.querySelector(%s).getAttribute("href")`, jsString(link)))
		if !strings.HasPrefix(href, "/items/") {
			b.errorf(t, "first result links to %q, want /items/{id}", href)
		}
		b.click(t, ctx, link)
		b.visible(t, ctx, "h1.item-title")
		itemTitle = b.text(t, ctx, "h1.item-title")
		itemPath = b.location(t, ctx).Path
		t.Logf("item %s: %q", itemPath, itemTitle)
		if itemPath != href {
			b.errorf(t, "clicking %q opened %s", href, itemPath)
		}
		if itemTitle != listed {
			b.errorf(t, "item page title %q, but the result was listed as %q", itemTitle, listed)
		}
		b.checkAxe(t, ctx, "item")
		b.screenshots(t, ctx, "item")
	})

	b.step(t, "RIS download", []string{"item page"}, func(t *testing.T, ctx context.Context) {
		for _, sel := range []string{"a.cite-bib", "a.cite-csl"} {
			if b.count(t, ctx, sel) == 0 {
				b.errorf(t, "item page has no %s link", sel)
			}
		}
		b.visible(t, ctx, "a.cite-ris")
		href := evalJS[string](b, t, ctx, "RIS href", `document.querySelector("a.cite-ris").getAttribute("href")`)
		if want := itemPath + ".ris"; href != want {
			b.errorf(t, "a.cite-ris href = %q, want %q", href, want)
		}
		u := b.location(t, ctx)
		ris, err := u.Parse(href)
		if err != nil {
			b.fatalf(t, "RIS href %q: %v", href, err)
		}
		body, ctype := b.fetchWithCookies(t, ctx, ris.String())
		t.Logf("GET %s: %s, %d bytes", ris, ctype, len(body))
		if !strings.HasPrefix(body, "TY  - ") {
			b.errorf(t, "RIS from %s does not start with %q:\n%s", ris, "TY  - ", oneLine(body, 300))
		}
		if !strings.Contains(squash(body), itemTitle) {
			b.errorf(t, "RIS from %s does not contain the title %q:\n%s", ris, itemTitle, body)
		}
		if !strings.Contains(body, "ER  - ") {
			b.errorf(t, "RIS from %s has no end of record (ER  - )", ris)
		}
	})

	var topicName, topicHref string
	b.step(t, "topics", nil, func(t *testing.T, ctx context.Context) {
		b.open(t, ctx, "/topics")
		link := `ul.topic-list li a[href^="/topics/"]`
		b.visible(t, ctx, link)
		topicName = b.text(t, ctx, link)
		topicHref = evalJS[string](b, t, ctx, "first topic's href", fmt.Sprintf(`document.querySelector(%s).getAttribute("href")`, jsString(link)))
		t.Logf("%d topics listed; first %q → %s", b.count(t, ctx, "ul.topic-list li"), topicName, topicHref)
		b.checkAxe(t, ctx, "topics")
		b.screenshots(t, ctx, "topics")
	})

	b.step(t, "topic page", []string{"topics"}, func(t *testing.T, ctx context.Context) {
		b.click(t, ctx, fmt.Sprintf(`ul.topic-list li a[href=%s]`, jsString(topicHref)))
		if p := b.location(t, ctx).EscapedPath(); p != topicHref {
			b.errorf(t, "clicking %q opened %s", topicHref, p)
		}
		b.visible(t, ctx, "h1")
		h1 := b.text(t, ctx, "h1")
		name, _ := url.PathUnescape(strings.TrimPrefix(topicHref, "/topics/"))
		if !strings.Contains(strings.ToLower(h1), strings.ToLower(name)) && !strings.Contains(strings.ToLower(h1), strings.ToLower(topicName)) {
			b.errorf(t, "topic page h1 %q does not name the topic %q (%s)", h1, topicName, topicHref)
		}
		b.checkAxe(t, ctx, "topic")
		b.screenshots(t, ctx, "topic")
	})

	b.step(t, "login page", nil, func(t *testing.T, ctx context.Context) {
		b.open(t, ctx, "/login")
		b.visible(t, ctx, `form[method="post"][action="/login"] input#email[name="email"]`)
		b.visible(t, ctx, `form[method="post"][action="/login"] input#password[name="password"]`)
		b.visible(t, ctx, `form[method="post"][action="/login"] button[type="submit"]`)
		if btn := b.text(t, ctx, `form[action="/login"] button[type="submit"]`); btn != "Sign in" {
			b.errorf(t, "login button says %q, want %q", btn, "Sign in")
		}
		b.checkAxe(t, ctx, "login")
		b.screenshots(t, ctx, "login")
	})

	b.step(t, "sign in", []string{"users add curator", "login page"}, func(t *testing.T, ctx context.Context) {
		form := `form[method="post"][action="/login"]`
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(form+" input#email"), curatorEmail),
			chromedp.SendKeys(chromedp.CSS(form+" input#password"), password),
		); err != nil {
			b.fatalf(t, "fill in the login form: %v", err)
		}
		b.click(t, ctx, form+` button[type="submit"]`)
		b.visible(t, ctx, `header form.signout[method="post"][action="/logout"] button[type="submit"]`)
		if hd := b.text(t, ctx, "header"); !strings.Contains(hd, curatorEmail) {
			b.errorf(t, "signed in, but the header does not show %s: %q", curatorEmail, hd)
		}
		if n := b.count(t, ctx, `header a[href="/login"]`); n > 0 {
			b.errorf(t, "signed in, but the header still links to /login")
		}
	})

	b.step(t, "sign out", []string{"sign in"}, func(t *testing.T, ctx context.Context) {
		b.click(t, ctx, `header form.signout button[type="submit"]`)
		b.visible(t, ctx, `header a[href="/login"]`)
		if txt := b.text(t, ctx, `header a[href="/login"]`); txt != "Sign in" {
			b.errorf(t, "signed out: the header's /login link says %q, want %q", txt, "Sign in")
		}
		if n := b.count(t, ctx, "header form.signout"); n > 0 {
			b.errorf(t, "signed out, but the header still has the sign-out form")
		}
		if hd := b.text(t, ctx, "header"); strings.Contains(hd, curatorEmail) {
			b.errorf(t, "signed out, but the header still shows %s", curatorEmail)
		}
	})

}

// resultCount is the number in p.result-count.
func (b *browserRun) resultCount(t *testing.T, ctx context.Context) int {
	t.Helper()
	b.visible(t, ctx, "p.result-count")
	txt := b.text(t, ctx, "p.result-count")
	m := regexp.MustCompile(`\d[\d,]*`).FindString(txt)
	n, err := strconv.Atoi(strings.ReplaceAll(m, ",", ""))
	if err != nil {
		b.fatalf(t, "p.result-count %q has no number", txt)
	}
	return n
}

// fetchWithCookies GETs u with Go's client, carrying the browser's cookies
// for it (so a signed-in download works the same).
func (b *browserRun) fetchWithCookies(t *testing.T, ctx context.Context, u string) (body, contentType string) {
	t.Helper()
	cookies, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		r, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
		return r.Cookies, err
	})
	if err != nil {
		b.fatalf(t, "browser cookies for %s: %v", u, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		b.fatalf(t, "%v", err)
	}
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.fatalf(t, "GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		b.fatalf(t, "GET %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		b.fatalf(t, "GET %s answered %s: %s", u, resp.Status, oneLine(string(data), 300))
	}
	return string(data), resp.Header.Get("Content-Type")
}

// waitHealthy polls /healthz until it answers 200, within a deadline.
func waitHealthy(t *testing.T, s *runningServe) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		resp, err := client.Get(s.url + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("%s: %s", resp.Status, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("step serve: /healthz not healthy within a minute: %v\nstderr:\n%s", err, s.errb.String())
		}
		select {
		case err := <-s.done:
			t.Fatalf("step serve: serve exited (%v) before /healthz answered\n%s", err, s.errb.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// header is a response header, whatever the case of its name.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var spaces = regexp.MustCompile(`\s+`)

func squash(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

func oneLine(s string, max int) string {
	s = squash(s)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

func targetString(target []any) string {
	var parts []string
	for _, x := range target {
		if s, ok := x.(string); ok {
			parts = append(parts, s)
		} else {
			b, _ := json.Marshal(x)
			parts = append(parts, string(b))
		}
	}
	return strings.Join(parts, " ")
}

// lockedBuffer collects Chromium's output, written from another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
