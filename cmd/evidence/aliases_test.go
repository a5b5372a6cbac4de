package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/internal/replay"
	"github.com/evidencetracker/evidence/store"
)

// kingsFundAliasFile is the real Drupal alias export (7,310 entries; see
// its SOURCE.txt).
const kingsFundAliasFile = "../../../shared/sources/kingsfund/drupal-node-alias.processed.json"

// kfManifestItem is what the King's Fund snapshot manifest says of an item's
// old URLs.
type kfManifestItem struct {
	URL             string   `json:"url"`
	Type            string   `json:"type"`
	Aliases         []string `json:"aliases"`
	OldAliasInTable *bool    `json:"old_alias_in_alias_table"`
}

// kingsFundSource loads the configuration (the defaults, or file over them)
// and compiles the kings-fund source the way `evidence aliases load` does.
func kingsFundSource(t *testing.T, file string) ingest.Source {
	t.Helper()
	l, err := config.Load(config.LoadOptions{File: file, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	src, err := aliasSource(l.Config, "kings-fund")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func loadFile(t *testing.T, st *store.Store, src ingest.Source, path string) ingest.AliasReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := loadAliasFile(context.Background(), st, src, f)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return rep
}

// TestRealKingsFundAliases loads the 7,310 real old Drupal aliases with
// the default alias rules into a real store, ingests the King's Fund
// snapshot, and checks that every old URL the manifest lists for an item
// resolves to it: those of the export by loading it, the rest by loading
// them as a text file. The default guess for /publications/<slug>
// (reports) is wrong for the snapshot's long reads; a YAML rule above it
// fixes that, and loading again re-points those aliases.
func TestRealKingsFundAliases(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 7,310 aliases and ingests a snapshot; skipped with -short")
	}
	if _, err := os.Stat(kingsFundAliasFile); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent (the shared real-data directory is not mounted)", kingsFundAliasFile)
	}
	ctx := context.Background()
	var manifest struct {
		Items []kfManifestItem `json:"items"`
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "snapshots", "www.kingsfund.org.uk", "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	var export map[string]string
	if b, err = os.ReadFile(kingsFundAliasFile); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &export); err != nil {
		t.Fatal(err)
	}
	inExport := map[string]bool{}
	for k, v := range export {
		inExport["https://www.kingsfund.org.uk"+k] = true
		inExport["https://www.kingsfund.org.uk/"+strings.TrimPrefix(v, "/")] = true
	}

	src := kingsFundSource(t, "")
	// Every old URL the manifest lists, with the item it must resolve to.
	owner := map[string]string{}
	var inTable, notInTable, longReadOld []string
	for _, it := range manifest.Items {
		for _, a := range it.Aliases {
			owner[a] = it.URL
			if inExport[a] {
				inTable = append(inTable, a)
			} else {
				notInTable = append(notInTable, a)
			}
			if it.OldAliasInTable != nil && *it.OldAliasInTable != inExport[a] {
				t.Errorf("manifest says old_alias_in_alias_table=%v for %s, the export says %v", *it.OldAliasInTable, a, inExport[a])
			}
			if it.Type == evidence.TypeLongRead {
				longReadOld = append(longReadOld, a)
			}
		}
	}
	t.Logf("manifest: %d old URLs of %d items; %d in the export, %d not", len(owner), len(manifest.Items), len(inTable), len(notInTable))

	// The rules alone: every old-shape URL maps to its item, except the
	// long reads that lived under /publications/.
	var wrongGuess []string
	for a, want := range owner {
		if strings.Contains(a, "/node/") {
			continue
		}
		got, ok := src.AliasTarget(a)
		if !ok {
			t.Errorf("AliasTarget(%s): unmapped, want %s", a, want)
		} else if got != want {
			wrongGuess = append(wrongGuess, a)
		}
	}
	sort.Strings(wrongGuess)
	var wantWrong []string
	for _, a := range longReadOld {
		if strings.Contains(a, "/publications/") {
			wantWrong = append(wantWrong, a)
		}
	}
	sort.Strings(wantWrong)
	if len(wantWrong) == 0 || !slices.Equal(wrongGuess, wantWrong) {
		t.Errorf("default rules mis-map %q, want exactly the long reads' /publications/ URLs %q", wrongGuess, wantWrong)
	}

	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "evidence.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	rep := loadFile(t, st, src, kingsFundAliasFile)
	t.Logf("loaded %s in %v: read %d, mapped %d, unmapped %d, stored %d, errors %d",
		filepath.Base(kingsFundAliasFile), time.Since(start).Round(time.Millisecond), rep.Read, rep.Mapped, rep.Unmapped, rep.Stored, len(rep.Errors))
	for _, rc := range rep.ByRule {
		t.Logf("  %5d mapped, %3d rejected  %s → %s", rc.Mapped, rc.Rejected, rc.Pattern, rc.Target)
	}
	t.Logf("  unmapped, for example: %q", rep.UnmappedExamples)
	byTarget := map[string][2]int{}
	for _, rc := range rep.ByRule {
		byTarget[rc.Target] = [2]int{rc.Mapped, rc.Rejected}
	}
	wantByTarget := map[string][2]int{
		"/insight-and-analysis/blogs/$1":          {1382, 10}, // /blog/YYYY/MM/<slug>
		"/insight-and-analysis/press-releases/$1": {986, 33},  // /press/press-releases/<slug>
		"/insight-and-analysis/articles/$1":       {410, 13},  // /publications/articles/<slug>
		"/insight-and-analysis/reports/$1":        {766, 0},   // /publications/<slug>
		"/insight-and-analysis/podcast/$1":        {59, 0},    // /audio-video/podcast/<slug>
	}
	for target, want := range wantByTarget {
		if got := byTarget[target]; got != want {
			t.Errorf("rule → %s: (mapped, rejected) = %v, want %v", target, got, want)
		}
	}
	if rep.Read != 7310 || rep.Mapped != 3603 || rep.Unmapped != 3707 || rep.Stored != 7206 || len(rep.Errors) != 0 {
		t.Errorf("report = read %d, mapped %d, unmapped %d, stored %d, errors %q; want 7310, 3603, 3707, 7206, none",
			rep.Read, rep.Mapped, rep.Unmapped, rep.Stored, rep.Errors)
	}

	// Ingest the snapshot: the aliases point at items that arrive now.
	rs, err := replay.New(replay.Options{Dir: filepath.Join("..", "..", "testdata", "snapshots")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	fc, err := fetch.New(fetch.Options{
		UserAgent: "EvidenceTrackerTest/1 (+https://example.org)", RatePerHost: -1, Retries: -1, Timeout: 10 * time.Second,
		ConnectTo: map[string]string{"www.kingsfund.org.uk": strings.TrimPrefix(srv.URL, "http://")},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := ingest.New(ingest.Options{Store: st, Fetcher: fc, Sources: []ingest.Source{src}})
	if r := p.RunSource(ctx, src, ingest.RunOptions{}); r.Err != nil || r.New != len(manifest.Items) {
		t.Fatalf("ingest: new %d, want %d; err %v; errors %q", r.New, len(manifest.Items), r.Err, r.Errors)
	}

	resolve := func(urls []string, wrong map[string]bool) {
		t.Helper()
		for _, a := range urls {
			it, err := st.ItemByURL(ctx, a)
			switch {
			case wrong[a]:
				if !errors.Is(err, evidence.ErrNotFound) {
					t.Errorf("ItemByURL(%s) = %s, %v; want not found (the default rule guesses a report)", a, it.URL, err)
				}
			case err != nil:
				t.Errorf("ItemByURL(%s): %v, want %s", a, err, owner[a])
			case it.URL != owner[a]:
				t.Errorf("ItemByURL(%s) = %s, want %s", a, it.URL, owner[a])
			}
		}
	}
	// The long reads' old URLs, and their /node/N paths, point at reports
	// that do not exist.
	wrong := map[string]bool{}
	for _, a := range longReadOld {
		wrong[a] = inExport[a]
	}
	resolve(inTable, wrong)
	for _, a := range notInTable {
		if _, err := st.ItemByURL(ctx, a); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("ItemByURL(%s) before loading it: err %v, want not found", a, err)
		}
	}

	// The fix, in YAML: a narrower rule above the guess.
	var slugs []string
	for _, a := range wantWrong {
		slugs = append(slugs, a[strings.LastIndex(a, "/")+1:])
	}
	yaml := fmt.Sprintf("sources:\n  kings-fund:\n    alias_rules:\n      - {pattern: '^/publications/(%s)/?$', target: '/insight-and-analysis/long-reads/$1', lowercase: true}\n",
		strings.Join(slugs, "|"))
	for _, r := range src.AliasRules {
		yaml += fmt.Sprintf("      - {pattern: '%s', target: '%s', lowercase: %v}\n", r.Pattern, r.Target, r.Lowercase)
	}
	cfgFile := filepath.Join(t.TempDir(), "evidence.yaml")
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fixed := kingsFundSource(t, cfgFile)
	rep = loadFile(t, st, fixed, kingsFundAliasFile)
	if rep.Mapped != 3603 || rep.ByRule[0].Mapped != len(slugs) || rep.ByRule[4].Mapped != 766-len(slugs) || len(rep.Errors) != 0 {
		t.Errorf("reload with the fix: mapped %d, by rule %+v, errors %q", rep.Mapped, rep.ByRule, rep.Errors)
	}
	resolve(inTable, nil)

	// Old URLs the export lacks, as a plain text file.
	txt := filepath.Join(t.TempDir(), "old-urls.txt")
	if err := os.WriteFile(txt, []byte("# old King's Fund URLs cited in press releases\n"+strings.Join(notInTable, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep = loadFile(t, st, fixed, txt)
	if rep.Read != len(notInTable) || rep.Mapped != len(notInTable) || rep.Stored != len(notInTable) {
		t.Errorf("text file: %+v, want all %d mapped and stored", rep, len(notInTable))
	}
	resolve(notInTable, nil)

	// Press releases link to old URLs: the pipeline stores each link under
	// the current URL its alias rule gives (the loaded aliases would
	// resolve the old one too), so each discusses the current item.
	links := []struct{ from, to string }{
		{"press-releases/short-term-funding-does-not-allow-long-term-work-needed-solve-hospital", "reports/hospital-discharge-funds"},
		{"press-releases/kings-fund-responds-chancellors-autumn-statement", "press-releases/kings-fund-comments-new-letter-nhs-financial-challenges"},
		{"press-releases/kings-fund-responds-gmcs-workforce-report", "blogs/unsustainable-workload-part-time-working-portfolio-careers-results-gp-trainee-survey"},
		{"press-releases/kings-fund-responds-ps250-million-beds-ahead-winter", "blogs/hidden-problems-behind-delayed-discharges"},
		{"press-releases/nhs-mixed-bill-health-international-health-care-systems", "reports/nhs-compare-health-care-systems-other-countries"},
	}
	const ia = "https://www.kingsfund.org.uk/insight-and-analysis/"
	for _, l := range links {
		from, err1 := st.ItemByURL(ctx, ia+l.from)
		to, err2 := st.ItemByURL(ctx, ia+l.to)
		if err := errors.Join(err1, err2); err != nil {
			t.Errorf("%s → %s: %v", l.from, l.to, err)
			continue
		}
		if !slices.Contains(from.Links, ia+l.to) {
			t.Errorf("%s links %v, want the old URL stored as %s", l.from, from.Links, ia+l.to)
		}
		if !slices.Contains(from.Discusses, to.ID) || !slices.Contains(to.DiscussedBy, from.ID) {
			t.Errorf("%s should discuss %s (discusses %v, links %v)", l.from, l.to, from.Discusses, from.Links)
		}
	}
}

func TestAliasesLoadCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "old.txt")
	if err := os.WriteFile(file, []byte("# old CMH blog URLs\n/blogs/racism-and-the-mental-health-act\nhttps://centreformentalhealth.org.uk/blogs/beacon-mental-health-equality/\n/pdfs/old.pdf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"/node/1": 7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"json", []string{"aliases", "load", file, "--source", "centre-for-mental-health", "--json"}, exitOK,
			`"read": 3,
  "mapped": 2,
  "unmapped": 1,
  "stored": 2,`},
		{"text", []string{"aliases", "load", file, "--source", "centre-for-mental-health"}, exitOK, "3 read, 2 mapped, 1 unmapped, 2 aliases stored, 0 error(s)"},
		{"no --source", []string{"aliases", "load", file}, exitUsage, ""},
		{"unknown source", []string{"aliases", "load", file, "--source", "nope"}, exitUsage, ""},
		{"no file", []string{"aliases", "load", filepath.Join(dir, "missing.json"), "--source", "kings-fund"}, exitFailure, ""},
		{"bad JSON", []string{"aliases", "load", bad, "--source", "kings-fund"}, exitFailure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(context.Background(), append([]string{"--data", dir, "--log-level", "warn"}, tt.args...), &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
		})
	}
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(dir, "evidence.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	canon, ok, err := st.ResolveURL(context.Background(), "https://www.centreformentalhealth.org.uk/blogs/beacon-mental-health-equality/")
	if err != nil || !ok || canon != "https://www.centreformentalhealth.org.uk/beacon-mental-health-equality/" {
		t.Errorf("ResolveURL = %q, %v, %v", canon, ok, err)
	}
}
