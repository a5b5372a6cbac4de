package index

import (
	"encoding/xml"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

// The snapshot corpus: the 34 items of the (synthetic) Mental Elf feed in
// testdata/snapshots, read with encoding/xml (the index does not depend on
// the feed parser), plus a few items from the other publishers written in
// US spelling or with other names for the same things.

const snapshotFeed = "../testdata/snapshots/www.nationalelfservice.net/mental-health/feed/index.xml"

// IDs of snapshot items used by tests (the last segment of their URL).
const (
	snapSocialOlder  = "social-prescribing-older-people-loneliness-wellbeing"
	snapCBTp         = "cbt-for-psychosis-effect-on-distressing-voices"
	snapTalking      = "nhs-talking-therapies-long-term-conditions-integrated-services"
	snapBehaviour    = "behaviour-change-techniques-physical-activity-severe-mental-illness"
	snapPaediatric   = "screening-anxiety-depression-paediatric-outpatient-clinics"
	snapUSBehavior   = "health-behavior-change-motivational-interviewing-us-primary-care"
	snapDigitalCBT   = "digital-cbt-insomnia-depression-trial"
	snapCAMHS        = "waiting-for-camhs-children-young-people-waiting-list"
	snapActivation   = "patient-activation-depression-long-term-conditions"
	snapICS          = "integrated-care-systems-mental-health-partnerships"
	snapLinkWorkers  = "social-prescribing-link-workers-realist-review"
	snapPhysical     = "physical-health-checks-severe-mental-illness"
	extraPediatricED = "kf-pediatric-emergency-department-visits"
	extraIAPT        = "cmh-iapt-employment-advisers"
	extraGP          = "nv-general-practitioners-continuity"
	snapIPS          = "individual-placement-and-support-primary-care"
	snapPerinatal    = "specialist-perinatal-mental-health-services-access-outcomes"
	snapArts         = "arts-on-prescription-young-people-anxiety-feasibility-trial"
)

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	Creators    []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
	PubDate     string   `xml:"pubDate"`
	Categories  []string `xml:"category"`
	Description string   `xml:"description"`
	Content     string   `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func plainText(s string) string {
	return evidence.NormalizeSpace(html.UnescapeString(tagRE.ReplaceAllString(s, " ")))
}

// snapshotCorpus returns the feed's items and the extras.
func snapshotCorpus(t testing.TB) []evidence.Item {
	t.Helper()
	raw, err := os.ReadFile(snapshotFeed)
	if err != nil {
		t.Fatalf("read snapshot feed: %v", err)
	}
	var doc struct {
		Items []rssItem `xml:"channel>item"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse snapshot feed: %v", err)
	}
	var items []evidence.Item
	for _, ri := range doc.Items {
		link, _, _ := strings.Cut(ri.Link, "?")
		id := filepath.Base(strings.TrimSuffix(link, "/"))
		it := evidence.Item{
			ID: id, Source: evidence.SourceMentalElf, Type: evidence.TypeBlog,
			Title: plainText(ri.Title), URL: link, Authors: ri.Creators,
			Summary: plainText(ri.Description), Body: plainText(ri.Content),
			Categories: ri.Categories, FirstSeen: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
		}
		if p, err := time.Parse(time.RFC1123Z, strings.TrimSpace(ri.PubDate)); err == nil {
			p = p.UTC()
			it.Published = &p
		}
		it.ContentHash = evidence.ComputeHash(&it)
		items = append(items, it)
	}
	if len(items) != 34 {
		t.Fatalf("snapshot feed has %d items, want 34", len(items))
	}
	extra := func(id, source, typ, title, summary, body, published string, authors ...string) {
		p, err := time.Parse(time.DateOnly, published)
		if err != nil {
			t.Fatal(err)
		}
		it := evidence.Item{
			ID: id, Source: source, Type: typ, Title: title, URL: "https://example.org/" + id,
			Summary: summary, Body: body, Authors: authors, Published: &p, FirstSeen: p,
		}
		it.ContentHash = evidence.ComputeHash(&it)
		items = append(items, it)
	}
	extra(extraPediatricED, evidence.SourceKingsFund, evidence.TypeReport,
		"Pediatric visits to the emergency department: what the data show",
		"Children's attendances at emergency departments have risen; many pediatric visits could be seen in primary care.",
		"Analysis of hospital episode statistics for children under 16. Pediatric emergency medicine capacity varies by region, and behavior problems account for a growing share of visits.",
		"2025-03-04", "Sarah Lin")
	extra(extraIAPT, evidence.SourceCentreForMH, evidence.TypeBriefing,
		"Employment advisers in IAPT services",
		"Placing employment advisers in IAPT services helped people with common mental health problems stay in or return to work.",
		"The Improving Access to Psychological Therapies programme added employment advisers in 2012. Outcomes for people on sick leave improved.",
		"2023-05-10", "Andy Bell")
	extra(extraGP, evidence.SourceNationalVoices, evidence.TypeReport,
		"Continuity of care with general practitioners: what patients say",
		"People living with several long-term conditions value seeing the same general practitioner, but it is getting harder.",
		"Our survey of 2,000 people found continuity matters most to people with complex needs. Practices that protected continuity used personal lists.",
		"2024-09-18", "Charlotte Augst")
	return items
}

// openSnapshot opens a temporary index holding the snapshot corpus, with
// opts (Path is set here).
func openSnapshot(t testing.TB, opts Options) *Index {
	t.Helper()
	opts.Path = filepath.Join(t.TempDir(), "index")
	x, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = x.Close() })
	if err := x.Index(t.Context(), snapshotCorpus(t)); err != nil {
		t.Fatalf("Index: %v", err)
	}
	return x
}
