package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// The recovery resource page (/work/shared/seeds/recovery-resource-page.txt):
// a King's Fund paper on patient activation, NHS England's PAM page (a
// manual item: no publisher of ours), National Voices' "What is good
// supported self-management?" and a collection of personal recovery
// stories (the Mental Elf on the NEON trial of recovery narratives).
const (
	recoveryKF    = "https://www.kingsfund.org.uk/insight-and-analysis/reports/supporting-people-manage-their-health"
	recoveryNHS   = "https://www.england.nhs.uk/personalisedcare/supported-self-management/patient-activation/"
	recoveryNV    = "https://www.nationalvoices.org.uk/publication/what-is-good-supported-self-management"
	recoveryStory = "https://www.nationalelfservice.net/mental-health/personal-stories/recovery-narratives-online-trial-lived-experience-stories/"
)

const recoveryItems = `{"type":"report","title":"Supporting people to manage their health: an introduction to patient activation","url":"https://www.kingsfund.org.uk/insight-and-analysis/reports/supporting-people-manage-their-health","published":"2014-05-21T00:00:00Z","authors":["Judith Hibbard","Helen Gilburt"],"summary":"This paper introduces a way of conceptualising and measuring engagement that is known as 'patient activation'.","doi":"10.31365/kf.2014.spmth"}
{"source":"manual","type":"publication","title":"Patient activation","url":"https://www.england.nhs.uk/personalisedcare/supported-self-management/patient-activation/","authors":["NHS England"],"summary":"Patient activation describes the knowledge, skills and confidence a person has in managing their own health and care. The Patient Activation Measure (PAM) measures it."}
{"type":"publication","title":"What is good supported self-management?","url":"https://www.nationalvoices.org.uk/publication/what-is-good-supported-self-management","published":"2025-02-10T00:00:00Z","authors":["National Voices"],"summary":"National Voices, a coalition of charities, on supported self-management: people in control of their health and care."}
{"type":"blog","title":"Do recovery narratives help? An online trial of lived experience stories","url":"https://www.nationalelfservice.net/mental-health/personal-stories/recovery-narratives-online-trial-lived-experience-stories/","published":"2024-06-12T00:00:00Z","authors":["André Tomlin"],"summary":"The NEON trial offered people a collection of recorded recovery stories, written in each person's own words."}
`

// recoveryConfig adds the source of manual items (NHS England's pages).
const recoveryConfig = `sources:
  manual:
    name: Added by curators
    home: https://www.england.nhs.uk/
    enabled: false
    poll_interval: 24h
`

// cliRun runs the binary with the config and returns stdout, stderr and
// the exit status.
func cliRun(t *testing.T, h *harness, cfg string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, append([]string{"--config", cfg}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, h *harness, cfg string, args ...string) string {
	t.Helper()
	out, errOut, code := cliRun(t, h, cfg, args...)
	if code != 0 {
		t.Fatalf("%v exited %d:\n%s", args, code, errOut)
	}
	return out
}

// showCollection is `collections show --json`.
func showCollection(t *testing.T, h *harness, cfg, slug string) evidence.Collection {
	t.Helper()
	var c evidence.Collection
	if err := json.Unmarshal([]byte(mustRun(t, h, cfg, "collections", "show", slug, "--json")), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// layoutOf is "Section: title | title; …".
func layoutOf(c evidence.Collection) string {
	var parts []string
	for _, sec := range c.Sections {
		var ts []string
		for _, e := range sec.Entries {
			if e.Item == nil {
				ts = append(ts, "?")
				continue
			}
			ts = append(ts, e.Item.Title)
		}
		parts = append(parts, sec.Name+": "+strings.Join(ts, " | "))
	}
	return strings.Join(parts, "; ")
}

// TestCollectionsEndToEnd rebuilds the recovery resource page as a
// collection with the real binary, exports it in all four formats and
// imports the exports back: into the same data dir (no new items), into
// a fresh one (the same items) and with one record broken (the rest in,
// the broken one named).
func TestCollectionsEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, "127.0.0.1:9") // nothing is fetched
	dir := t.TempDir()
	cfg := filepath.Join(dir, "evidence.yaml")
	items := filepath.Join(dir, "recovery.jsonl")
	os.WriteFile(cfg, []byte(recoveryConfig), 0o600)
	os.WriteFile(items, []byte(recoveryItems), 0o600)
	var rep importJSON
	if err := json.Unmarshal([]byte(mustRun(t, h, cfg, "import", items, "--json")), &rep); err != nil || rep.New != 4 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	orig := storedItems(t, h)
	if len(orig) != 4 || orig[recoveryNHS].Source != "manual" {
		t.Fatalf("%d items stored (NHS England's as %q), want 4 with a manual one", len(orig), orig[recoveryNHS].Source)
	}

	mustRun(t, h, cfg, "collections", "create", "Recovery resources",
		"--description", "Recovery is an idea anyone can work on. These resources support *self-management* and [choice](https://www.england.nhs.uk/).")
	const slug = "recovery-resources"
	adds := [][]string{
		{recoveryKF, "--section", "Patient activation", "--note", "Introduces patient activation and how to measure engagement."},
		{orig[recoveryNHS].ID, "--section", "Patient activation", "--note", "The knowledge, skills and confidence to manage one's own health and care."},
		{recoveryNV + "?utm_source=newsletter", "--section", "Self-management", "--note", "National Voices on what good supported self-management looks like."},
		{"10.1000/never-stored", recoveryStory, "--section", "Personal stories"}, // refused whole: the DOI is unknown
		{recoveryStory, "--section", "Personal stories", "--note", "Everyone has a story to share."},
	}
	for i, args := range adds {
		out, errOut, code := cliRun(t, h, cfg, append([]string{"collections", "add", slug}, args...)...)
		if i == 3 {
			if code != 1 || !strings.Contains(errOut, "10.1000/never-stored is not in the store; adding new URLs needs web fetching") {
				t.Errorf("add of an unknown DOI exited %d: %s", code, errOut)
			}
			continue
		}
		if code != 0 || !strings.Contains(out, "added “") {
			t.Fatalf("add %v exited %d: %s%s", args, code, out, errOut)
		}
	}

	t.Run("an entry added twice", func(t *testing.T) {
		_, errOut, code := cliRun(t, h, cfg, "collections", "add", slug, "https://doi.org/10.31365/KF.2014.SPMTH", "--section", "Self-management")
		if code != 1 || !strings.Contains(errOut, "is already in Patient activation") {
			t.Errorf("exited %d: %s", code, errOut)
		}
	})
	t.Run("a taken name", func(t *testing.T) {
		_, errOut, code := cliRun(t, h, cfg, "collections", "create", "Recovery Resources")
		if code != 1 || !strings.Contains(errOut, "slug recovery-resources is taken by collection “Recovery resources”") {
			t.Errorf("exited %d: %s", code, errOut)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"collections", "add", slug},
			{"collections", "move", slug, recoveryKF},
			{"collections", "move", slug, recoveryKF, "--up", "--down"},
			{"collections", "export", slug, "--format", "docx"},
			{"collections", "create", "X", "--slug", "Not A Slug"},
			{"collections", "delete", slug},
			{"collections", "show", slug, "--as", "nobody@example.org"},
		} {
			if _, errOut, code := cliRun(t, h, cfg, args...); code != 2 || errOut == "" {
				t.Errorf("%v exited %d, want 2: %s", args, code, errOut)
			}
		}
	})

	hostile := `<script>alert(1)</script> [read](javascript:alert(1)) <img src=x onerror=alert(1)>`
	mustRun(t, h, cfg, "collections", "note", slug, recoveryNV, hostile)
	out := mustRun(t, h, cfg, "collections", "move", slug, recoveryNHS, "--up")
	if !strings.Contains(out, "moved “Patient activation” up in Patient activation") {
		t.Errorf("move said %q", out)
	}
	mustRun(t, h, cfg, "collections", "move", slug, recoveryNHS, "--to", "2")
	mustRun(t, h, cfg, "collections", "publish", slug)

	c := showCollection(t, h, cfg, slug)
	want := "Patient activation: Supporting people to manage their health: an introduction to patient activation | Patient activation; " +
		"Self-management: What is good supported self-management?; " +
		"Personal stories: Do recovery narratives help? An online trial of lived experience stories"
	if got := layoutOf(c); got != want {
		t.Errorf("layout\n%s\nwant\n%s", got, want)
	}
	if c.Visibility != evidence.VisibilityPublic || c.Sections[1].Entries[0].Note != hostile || !strings.HasPrefix(c.UpdatedBy, "cli:") {
		t.Errorf("collection %+v", c)
	}
	var hist struct {
		History []evidence.CollectionChange `json:"history"`
	}
	json.Unmarshal([]byte(mustRun(t, h, cfg, "collections", "show", slug, "--history", "--json")), &hist)
	if len(hist.History) != 9 || hist.History[0].Detail != "made it public" || hist.History[8].Action != "create" {
		t.Errorf("history %+v", hist.History)
	}
	text := mustRun(t, h, cfg, "collections", "show", slug, "--history")
	for _, w := range []string{"Recovery resources (recovery-resources)", "Personal stories", "Note: Everyone has a story to share.",
		"added “What is good supported self-management?” to Self-management (a new section)"} {
		if !strings.Contains(text, w) {
			t.Errorf("show lacks %q:\n%s", w, text)
		}
	}
	var list struct {
		Collections []collectionSummary `json:"collections"`
	}
	json.Unmarshal([]byte(mustRun(t, h, cfg, "collections", "list", "--json")), &list)
	if len(list.Collections) != 1 || list.Collections[0].Entries != 4 || list.Collections[0].Sections != 3 {
		t.Errorf("list %+v", list.Collections)
	}

	// Export in all four formats.
	files := map[string]string{}
	for format, ext := range map[string]string{"ris": ".ris", "bibtex": ".bib", "csl-json": ".csl.json", "csv": ".csv"} {
		files[format] = filepath.Join(dir, "recovery"+ext)
		mustRun(t, h, cfg, "collections", "export", slug, "--format", format, "--out", files[format])
		b, err := os.ReadFile(files[format])
		if err != nil {
			t.Fatal(err)
		}
		if stdout := mustRun(t, h, cfg, "collections", "export", slug, "--format", format); stdout != string(b) {
			t.Errorf("%s: stdout differs from --out", format)
		}
	}
	t.Run("csv", func(t *testing.T) {
		b, _ := os.ReadFile(files["csv"])
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(rows) != 5 {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		joined := string(b)
		for _, w := range []string{"Patient activation", "Self-management", "Personal stories", "Everyone has a story to share."} {
			if !strings.Contains(joined, w) {
				t.Errorf("csv lacks %q", w)
			}
		}
	})
	ris, _ := os.ReadFile(files["ris"])
	if n := strings.Count(string(ris), "N1  - Section: "); n != 4 {
		t.Errorf("RIS has %d section notes, want 4", n)
	}

	for _, format := range []string{"ris", "bibtex", "csl-json"} {
		t.Run(format+" into the same data dir", func(t *testing.T) {
			var r importJSON
			json.Unmarshal([]byte(mustRun(t, h, cfg, "import", files[format], "--json")), &r)
			if r.Records != 4 || r.New != 0 || len(r.Errors) != 0 {
				t.Errorf("import %+v, want 4 records and no new items", r)
			}
			if got := storedItems(t, h); len(got) != 4 {
				t.Errorf("%d items, want 4", len(got))
			}
			t.Logf("%s into the same data dir: %d records, %d new, %d updated, %d unchanged", format, r.Records, r.New, r.Updated, r.Unchanged)
		})
		t.Run(format+" into a fresh data dir", func(t *testing.T) {
			fresh := newHarness(t, bin, "127.0.0.1:9")
			var r importJSON
			json.Unmarshal([]byte(mustRun(t, fresh, cfg, "import", files[format], "--json")), &r)
			if r.Records != 4 || r.New != 4 || len(r.Errors) != 0 {
				t.Errorf("import %+v, want 4 new items", r)
			}
			got := storedItems(t, fresh)
			if len(got) != 4 {
				t.Errorf("%d items, want 4", len(got))
			}
			for u, it := range orig {
				if got[u].Title != it.Title {
					t.Errorf("%s: %q, want %q", u, got[u].Title, it.Title)
				}
			}
			t.Logf("%s into a fresh data dir: %d records, %d new", format, r.Records, r.New)
		})
		t.Run(format+" with one broken record", func(t *testing.T) {
			broken := filepath.Join(t.TempDir(), "broken"+filepath.Ext(files[format]))
			if format == "csl-json" {
				broken = strings.TrimSuffix(broken, ".json") + ".csl.json"
			}
			os.WriteFile(broken, breakOneRecord(t, format, files[format]), 0o600)
			fresh := newHarness(t, bin, "127.0.0.1:9")
			out, _, code := cliRun(t, fresh, cfg, "import", broken, "--json")
			var r importJSON
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("import --json: %v\n%s", err, out)
			}
			if code != 1 || r.Records != 4 || r.Imported != 3 || r.New != 3 || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Error, "no title") || r.Errors[0].Line < 2 {
				t.Errorf("import exited %d: %+v, want 3 imported and the broken one named", code, r)
			}
			if got := storedItems(t, fresh); len(got) != 3 {
				t.Errorf("%d items, want 3", len(got))
			}
			t.Logf("%s with one broken record: %d records, %d imported, errors %+v", format, r.Records, r.Imported, r.Errors)
		})
	}

	// The collection is untouched by the imports; delete needs --yes.
	if got := showCollection(t, h, cfg, slug); layoutOf(got) != want || got.Version != c.Version {
		t.Errorf("after the imports: v%d %s", got.Version, layoutOf(got))
	}
	out = mustRun(t, h, cfg, "collections", "delete", slug, "--yes")
	if !strings.Contains(out, "deleted recovery-resources (“Recovery resources”, 4 entries)") {
		t.Errorf("delete said %q", out)
	}
	if _, errOut, code := cliRun(t, h, cfg, "collections", "show", slug); code != 1 || !strings.Contains(errOut, `no collection "recovery-resources"`) {
		t.Errorf("show after delete exited %d: %s", code, errOut)
	}
	if got := storedItems(t, h); len(got) != 4 {
		t.Errorf("%d items after deleting the collection, want 4", len(got))
	}
}

// breakOneRecord returns the export with the second record's title taken
// out.
func breakOneRecord(t *testing.T, format, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	switch format {
	case "ris":
		recs := strings.SplitAfter(string(b), "ER  - \r\n")
		recs[1] = regexp.MustCompile(`(?m)^TI  - .*\r\n`).ReplaceAllString(recs[1], "")
		return []byte(strings.Join(recs, ""))
	case "bibtex":
		recs := strings.Split(string(b), "\n@")
		recs[1] = regexp.MustCompile(`(?m)^\s*title\s*=.*\n`).ReplaceAllString(recs[1], "")
		return []byte(strings.Join(recs, "\n@"))
	default:
		var recs []map[string]any
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatal(err)
		}
		delete(recs[1], "title")
		out, _ := json.MarshalIndent(recs, "", "  ")
		return out
	}
}
