package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// importJSON is what `import --json` prints.
type importJSON struct {
	File      string `json:"file"`
	Format    string `json:"format"`
	Records   int    `json:"records"`
	Imported  int    `json:"imported"`
	New       int    `json:"new"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	Errors    []struct {
		Line  int    `json:"line"`
		Error string `json:"error"`
	} `json:"errors"`
}

const elfItem = "https://www.nationalelfservice.net/mental-health/social-prescribing/social-prescribing-older-people-loneliness-wellbeing/"

// mixedRIS is a librarian's list: an item the Mental Elf feed already gave
// us (under a tracking URL), publishers' reports and briefings, NICE
// guidance, a journal article known by its DOI, and two bad records.
const mixedRIS = `TY  - BLOG
TI  - Social prescribing for older people (librarian's copy)
AU  - Elf, Mental
PY  - 2024
KW  - Loneliness
KW  - later life
DO  - 10.1093/ageing/afad105
UR  - http://nationalelfservice.net/mental-health/social-prescribing/social-prescribing-older-people-loneliness-wellbeing?utm_source=rss&utm_medium=rss
ER  - 

TY  - RPRT
TI  - Mental health 360: funding and costs
AU  - Gilburt, Helen
PY  - 2023
AB  - How much England spends on mental health services, and whether funding has kept pace with demand.
UR  - https://www.kingsfund.org.uk/insight-and-analysis/reports/mental-health-360-funding-costs/
ER  - 

TY  - RPRT
TI  - Briefing 58: Social prescribing for children and young people
A1  - Centre for Mental Health
Y1  - 2023/05/12/
M3  - Briefing paper
UR  - https://www.centreformentalhealth.org.uk/publications/briefing-58-social-prescribing-children-young-people
ER  - 

TY  - RPRT
AU  - Nobody, Anne
PY  - 2020
UR  - https://www.kingsfund.org.uk/insight-and-analysis/reports/untitled
ER  - 

TY  - GOVDOC
TI  - Psychosis and schizophrenia in adults: prevention and management
AU  - National Institute for Health and Care Excellence
DA  - 2014/02/12
UR  - https://www.nice.org.uk/guidance/cg178
ER  - 

TY  - JOUR
TI  - Peer support workers in community mental health teams: a randomised trial
AU  - García, José
PY  - 2019/03/
DO  - 10.1016/S2215-0366(19)30001-2
ER  - 

TY  - BLOG
TI  - A post with nowhere to live
PY  - 2022
ER  - 
`

// importConfig adds a source "import" for items on no publisher's site.
const importConfig = `sources:
  import:
    name: Imported references
    home: https://library.example.nhs.uk/
    enabled: false
    poll_interval: 24h
`

func TestImportEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, startReplay(t, bin))
	var ing ingestJSON
	if code := h.runJSON(&ing, "ingest", "--source", "mental-elf", "--json"); code != 0 {
		t.Fatalf("ingest exited %d", code)
	}
	ingested := ing.Sources[0].New

	dir := t.TempDir()
	refs := filepath.Join(dir, "library.ris")
	cfg := filepath.Join(dir, "evidence.yaml")
	os.WriteFile(refs, []byte(mixedRIS), 0o600)
	os.WriteFile(cfg, []byte(importConfig), 0o600)

	var rep importJSON
	code := h.runJSON(&rep, "--config", cfg, "import", refs, "--json")
	if code != 1 {
		t.Errorf("import exited %d, want 1 (two bad records)", code)
	}
	if rep.File != refs || rep.Format != "ris" || rep.Records != 7 || rep.Imported != 5 || rep.New != 4 || rep.Updated != 1 || rep.Unchanged != 0 {
		t.Errorf("report %+v, want 7 records: 4 new, 1 updated (the ingested item), 2 bad", rep)
	}
	if len(rep.Errors) != 2 || rep.Errors[0].Line != 27 || rep.Errors[0].Error != "no title" ||
		rep.Errors[1].Line != 47 || rep.Errors[1].Error != "no url or doi" {
		t.Errorf("errors %+v, want line 27: no title and line 47: no url or doi", rep.Errors)
	}

	t.Run("search finds the imported items", func(t *testing.T) {
		for _, tt := range []struct{ query, url, source, typ string }{
			{"mental health 360 funding", "https://www.kingsfund.org.uk/insight-and-analysis/reports/mental-health-360-funding-costs", "kings-fund", "report"},
			{"social prescribing children young people", "https://www.centreformentalhealth.org.uk/publications/briefing-58-social-prescribing-children-young-people/", "centre-for-mental-health", "briefing"},
			{"psychosis schizophrenia prevention", "https://www.nice.org.uk/guidance/cg178", "import", "report"},
			{"peer support workers", "https://doi.org/10.1016/S2215-0366(19)30001-2", "import", "article"},
		} {
			var res searchJSON
			if code := h.runJSON(&res, "--config", cfg, "search", tt.query, "--json"); code != 0 {
				t.Fatalf("search exit %d", code)
			}
			found := false
			for _, hit := range res.Hits {
				var url, source, typ string
				json.Unmarshal(hit["url"], &url)
				json.Unmarshal(hit["source"], &source)
				json.Unmarshal(hit["type"], &typ)
				if url == tt.url {
					found = true
					if source != tt.source || typ != tt.typ {
						t.Errorf("%q: source %q type %q, want %q %q", tt.query, source, typ, tt.source, tt.typ)
					}
				}
			}
			if !found {
				t.Errorf("search %q did not find %s in %d hits", tt.query, tt.url, len(res.Hits))
			}
		}
		var all searchJSON
		h.runJSON(&all, "search", "", "--limit", "1000", "--json")
		if all.Total != ingested+4 {
			t.Errorf("%d items after the import, want %d ingested + 4 new", all.Total, ingested)
		}
	})

	t.Run("the ingested item was merged, not duplicated", func(t *testing.T) {
		out, code := h.run("show", elfItem, "--json")
		if code != 0 {
			t.Fatalf("show exit %d", code)
		}
		var it struct {
			Title      string                 `json:"title"`
			Source     string                 `json:"source"`
			Categories []string               `json:"categories"`
			Cites      []struct{ DOI string } `json:"cites"`
			Provenance map[string]string      `json:"provenance"`
		}
		json.Unmarshal([]byte(out), &it)
		if !strings.HasPrefix(it.Title, "Social prescribing for older people – does it reduce") || it.Source != "mental-elf" ||
			strings.HasPrefix(it.Provenance["title"], "import:") {
			t.Errorf("the feed's title and source were not kept: %q %q", it.Title, it.Source)
		}
		// The feed's categories stay first; "Loneliness" was there already
		// (compared ignoring case), "later life" is added.
		if len(it.Categories) == 0 || it.Categories[len(it.Categories)-1] != "later life" ||
			slices.Contains(it.Categories, "loneliness") {
			t.Errorf("categories %q provenance %v", it.Categories, it.Provenance)
		}
		if !slices.ContainsFunc(it.Cites, func(c struct{ DOI string }) bool { return c.DOI == "10.1093/ageing/afad105" }) {
			t.Errorf("cites %+v lack the DOI", it.Cites)
		}
	})

	t.Run("check is clean", func(t *testing.T) {
		if out, code := h.run("check"); code != 0 {
			t.Errorf("check exit %d:\n%s", code, out)
		}
	})

	t.Run("importing again changes nothing", func(t *testing.T) {
		var again importJSON
		h.runJSON(&again, "--config", cfg, "import", refs, "--json")
		if again.Unchanged != 5 || again.New+again.Updated != 0 || len(again.Errors) != 2 {
			t.Errorf("report %+v", again)
		}
	})

	t.Run("without a source for them, foreign URLs are bad records that name --source", func(t *testing.T) {
		plain := newHarness(t, bin, h.replay)
		out, code := plain.run("import", refs)
		if code != 1 || !strings.Contains(out, "line 33: https://www.nice.org.uk/guidance/cg178 is on no configured source's site: pass --source ID") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})

	t.Run("JSONL from standard input", func(t *testing.T) {
		line := `{"type":"long-read","title":"Health inequalities in a nutshell","url":"https://www.kingsfund.org.uk/insight-and-analysis/long-reads/health-inequalities-nutshell","published":"2024-02-20T00:00:00Z","authors":["Williams, Elizabeth"],"summary":"The gap in healthy life expectancy.","body":"Full text about deprivation and healthy life expectancy."}`
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := h.command(ctx, "import", "-", "--format", "jsonl", "--json")
		cmd.Stdin = strings.NewReader(line + "\n")
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			t.Fatalf("import -: %v", err)
		}
		var r importJSON
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || r.File != "-" || r.New != 1 || len(r.Errors) != 0 {
			t.Errorf("report %+v (%v)", r, err)
		}
		var res searchJSON
		h.runJSON(&res, "search", "deprivation healthy life expectancy", "--json")
		if res.Total == 0 {
			t.Error("the imported body is not searchable")
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		txt := filepath.Join(dir, "refs.txt")
		os.WriteFile(txt, []byte(mixedRIS), 0o600)
		for _, args := range [][]string{
			{"import", txt},
			{"import", "-"},
			{"import", refs, "--format", "endnote"},
			{"import", refs, "--source", "bbc"},
			{"import"},
		} {
			if _, code := h.run(args...); code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		}
		if _, code := h.run("import", filepath.Join(dir, "missing.ris")); code != 1 {
			t.Errorf("missing file: exit %d, want 1", code)
		}
	})
}
