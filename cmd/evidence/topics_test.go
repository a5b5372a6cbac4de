package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/ingest/feed"
)

// TestDefaultTaxonomy checks the built-in topics compile without warnings
// and tag the snapshot feed's items sensibly: the topic a post is plainly
// about, and no topic on most of the posts.
func TestDefaultTaxonomy(t *testing.T) {
	l, err := config.Load(config.LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, loaded: l}
	a.log = newLogger(a.stderr, "error", "text")
	opts := a.indexOptions(l.Config)
	if len(opts.Topics) != len(l.Config.Topics) || opts.Topics[0].Name != l.Config.Topics[0].Name {
		t.Fatalf("indexOptions topics = %v", opts.Topics)
	}
	tg, err := index.NewTagger(opts.Topics, opts)
	if err != nil {
		t.Fatalf("default topics: %v", err)
	}
	if w := tg.Warnings(); len(w) > 0 {
		t.Errorf("default topics: %s", strings.Join(w, "; "))
	}

	raw, err := os.ReadFile("../../testdata/snapshots/www.nationalelfservice.net/mental-health/feed/index.xml")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://www.nationalelfservice.net/mental-health/feed/")
	items, err := feed.Parse(bytes.NewReader(raw), base)
	if err != nil {
		t.Fatal(err)
	}
	tagged := map[string]int{}
	byTitle := map[string][]string{}
	for i := range items {
		tags := tg.Tags(&items[i])
		byTitle[items[i].Title] = tags
		for _, tag := range tags {
			tagged[tag]++
		}
	}
	for topic, n := range tagged {
		if n > len(items)/2 {
			t.Errorf("topic %q tags %d of %d posts: too broad", topic, n, len(items))
		}
	}
	want := map[string]string{
		"Peer support workers in community mental health teams": "peer support",
		"Waiting for CAMHS": "children and young people",
		"Safety planning interventions for suicide prevention":         "suicide prevention",
		"Housing First for people with mental illness":                 "housing",
		"Post-diagnostic support for people living with dementia":      "dementia",
		"Patient activation in people with depression":                 "patient activation",
		"Integrated care systems and mental health":                    "integrated care",
		"Social prescribing link workers":                              "social prescribing",
		"Individual Placement and Support in primary care":             "employment",
		"Ethnic inequalities in detention under the Mental Health Act": "inequalities",
		"Burnout in mental health nurses":                              "workforce",
		"Crisis houses and acute day units":                            "crisis care",
		"Do recovery narratives help?":                                 "personal stories",
		"Self-management interventions for bipolar disorder":           "self-management",
	}
	for prefix, topic := range want {
		found := false
		for title, tags := range byTitle {
			if strings.HasPrefix(title, prefix) {
				found = true
				if !slices.Contains(tags, topic) {
					t.Errorf("%q tagged %v, want %q among them", title, tags, topic)
				}
			}
		}
		if !found {
			t.Errorf("no post titled %q…", prefix)
		}
	}
}

// topicsJSON is what `topics --json` prints.
type topicsJSON struct {
	Topics []struct {
		Name    string `json:"name"`
		Items   int    `json:"items"`
		Primary int    `json:"primary"`
	} `json:"topics"`
	Stale bool `json:"stale"`
}

// checkTopicsAgree checks, for every item, that show's topics equal the
// search hit's (same order: the primary topic first), and that `topics`
// counts what search shows. It returns the topics of each item by URL.
func checkTopicsAgree(t *testing.T, h *harness, global ...string) map[string][]string {
	t.Helper()
	g := func(args ...string) []string { return append(slices.Clone(global), args...) }
	var res searchJSON
	if code := h.runJSON(&res, g("search", "", "--limit", "1000", "--json")...); code != 0 || len(res.Hits) == 0 {
		t.Fatalf("search exit %d, %d hits", code, len(res.Hits))
	}
	byURL := map[string][]string{}
	count, primary := map[string]int{}, map[string]int{}
	for _, hit := range res.Hits {
		var id, u string
		var hitTopics []string
		json.Unmarshal(hit["id"], &id)
		json.Unmarshal(hit["url"], &u)
		json.Unmarshal(hit["topics"], &hitTopics)
		var shown struct {
			Topics []string `json:"topics"`
		}
		if code := h.runJSON(&shown, g("show", id, "--json")...); code != 0 {
			t.Fatalf("show %s exit %d", id, code)
		}
		if hitTopics == nil {
			hitTopics = []string{}
		}
		if !slices.Equal(shown.Topics, hitTopics) {
			t.Errorf("%s: show --json topics %v, search hit topics %v", u, shown.Topics, hitTopics)
		}
		byURL[u] = shown.Topics
		for i, tp := range shown.Topics {
			count[tp]++
			if i == 0 {
				primary[tp]++
			}
		}
	}
	var tj topicsJSON
	if code := h.runJSON(&tj, g("topics", "--json")...); code != 0 {
		t.Fatalf("topics exit %d", code)
	}
	if tj.Stale {
		t.Errorf("topics reports the index stale")
	}
	for _, tp := range tj.Topics {
		if tp.Items != count[tp.Name] || tp.Primary != primary[tp.Name] {
			t.Errorf("topics: %q %d items (%d primary), search shows %d (%d primary)", tp.Name, tp.Items, tp.Primary, count[tp.Name], primary[tp.Name])
		}
	}
	return byURL
}

// Topics are stored: show, search and topics agree on every item, and
// reindex after a taxonomy change re-tags the store as well as the index.
func TestTopicsStoredAgreeWithSearch(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, startReplay(t, bin))
	var ing ingestJSON
	if code := h.runJSON(&ing, "ingest", "--source", "mental-elf", "--json"); code != 0 {
		t.Fatalf("ingest exit %d: %+v", code, ing)
	}
	before := checkTopicsAgree(t, h)
	tagged := 0
	for _, ts := range before {
		if len(ts) > 0 {
			tagged++
		}
	}
	if tagged == 0 {
		t.Fatal("no item has a topic")
	}

	cfg := filepath.Join(t.TempDir(), "evidence.yaml")
	if err := os.WriteFile(cfg, []byte(`topics:
  - name: only dementia
    description: a one-topic taxonomy
    query: dementia OR alzheimer
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var tj topicsJSON
	if code := h.runJSON(&tj, "--config", cfg, "topics", "--json"); code != 0 || !tj.Stale {
		t.Fatalf("topics after a taxonomy change: exit %d, stale %v; want stale", code, tj.Stale)
	}
	if _, code := h.run("--config", cfg, "reindex"); code != 0 {
		t.Fatalf("reindex exit %d", code)
	}
	after := checkTopicsAgree(t, h, "--config", cfg)
	dementia := 0
	for _, ts := range after {
		if slices.Contains(ts, "only dementia") {
			dementia++
		}
	}
	if dementia == 0 {
		t.Error("reindex tagged no item with the new taxonomy's topic")
	}
	for u, ts := range after {
		for _, tp := range ts {
			if tp != "only dementia" {
				t.Errorf("%s: topic %q survived the taxonomy change (topics %v)", u, tp, ts)
			}
		}
	}
}
