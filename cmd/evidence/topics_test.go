package main

import (
	"bytes"
	"net/url"
	"os"
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
