package digest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/importer"
)

// IDs in testdata/items.jsonl (week 2026-W42, 12–18 October 2026).
const (
	idLivingWell   = "6bee360b5f01bc97" // CMH report, announced by National Voices too, discussed by two blogs
	idLateKF       = "ab7de3169632c90f" // King's Fund report of September 2025 a sitemap found in W42
	idImported     = "f9eb5cb0baf1b45e" // CMH report of 2024 a librarian imported in W42
	idUndated      = "a4adbe44501c0cc1" // National Voices publication with no date
	idNoTopic      = "b86686ae02d511f2" // Mental Elf blog with no topic
	idJointNews    = "d28affbfe5a62dd0" // National Voices news
	idSchoolsBlog  = "41f49b6fb11537a3" // Mental Elf blog, children and young people; appraises a CMH report
	idArtsBlog     = "ea9fc176c60bbad9" // Mental Elf blog, children and young people
	idBackfillOnly = "14f51292960b7ae1" // first seen in W47, nothing to do with W42
)

// editorCuration is the curation the golden digests are built with.
var editorCuration = Curation{
	Picks: []string{idImported, idLivingWell},
	Drops: []string{idJointNews},
	Note: "This week: **long-term conditions** and mental health, with a joint report from " +
		"[Centre for Mental Health](https://www.centreformentalhealth.org.uk/) and National Voices.\n\n" +
		"- For the full text of anything here, ask your library: *library@example.nhs.uk*\n" +
		"- Next week's digest comes a day late, on Tuesday.\n",
}

func build(t *testing.T, week string, cur Curation, sub Subscriber, mod func(*Options)) *Digest {
	t.Helper()
	opts := testOptions(t)
	if mod != nil {
		mod(&opts)
	}
	d, err := New(loadFixture(t), opts).Build(context.Background(), Request{Week: mustWeek(t, week), Curation: cur, Subscriber: sub})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func entryIDs(d *Digest) (picks, rest []string) {
	for _, e := range d.Picks {
		picks = append(picks, e.ID)
	}
	for _, s := range d.Sections {
		for _, e := range s.Entries {
			rest = append(rest, e.ID)
		}
	}
	return picks, rest
}

func reasonOf(d *Digest, id string) string {
	for _, x := range d.Excluded {
		if x.ID == id {
			return x.Reason
		}
	}
	return ""
}

func TestSelection(t *testing.T) {
	tests := []struct {
		name       string
		cur        Curation
		sub        Subscriber
		in         []string          // in the sections
		picked     []string          // among the picks, in order
		out        map[string]string // id → reason
		notPresent []string          // neither in nor out: not a candidate
	}{
		{
			name: "new evidence only: an old item found late is too old, an import needs a pick",
			in:   []string{idLivingWell, idUndated, idNoTopic, idJointNews},
			out:  map[string]string{idLateKF: ReasonTooOld, idImported: ReasonImported},
			// first seen in another week
			notPresent: []string{idBackfillOnly},
		},
		{
			name:   "picks come first in the editor's order, even an import; drops are left out",
			cur:    editorCuration,
			picked: []string{idImported, idLivingWell},
			in:     []string{idUndated, idNoTopic},
			out:    map[string]string{idJointNews: ReasonDropped, idLateKF: ReasonTooOld},
		},
		{
			name:   "a pick from another week and an old pick count too",
			cur:    Curation{Picks: []string{idBackfillOnly, idLateKF}},
			picked: []string{idBackfillOnly, idLateKF},
		},
		{
			name:   "a subscriber gets their topics only; picks go to everyone",
			cur:    Curation{Picks: []string{idLivingWell}},
			sub:    Subscriber{Email: "a@example.org", Topics: []string{"Children and young people"}},
			picked: []string{idLivingWell},
			in:     []string{idSchoolsBlog, idArtsBlog},
			out:    map[string]string{idNoTopic: ReasonNoTopicMatch, idUndated: ReasonNoTopicMatch, idJointNews: ReasonNoTopicMatch},
		},
		{
			name: "a subscriber's sources match any announcer",
			sub:  Subscriber{Sources: []string{"national-voices"}},
			in:   []string{idLivingWell, idUndated, idJointNews},
			out:  map[string]string{idNoTopic: ReasonNoSourceMatch, idSchoolsBlog: ReasonNoSourceMatch},
		},
		{
			name: "a drop beats a pick",
			cur:  Curation{Picks: []string{idLivingWell}, Drops: []string{idLivingWell}},
			out:  map[string]string{idLivingWell: ReasonDropped},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := build(t, "2026-W42", tt.cur, tt.sub, nil)
			picks, rest := entryIDs(d)
			if tt.picked != nil && !slices.Equal(picks, tt.picked) {
				t.Errorf("picks = %v, want %v", picks, tt.picked)
			}
			for _, id := range tt.in {
				if !slices.Contains(rest, id) {
					t.Errorf("%s is not in the sections (excluded: %q)", id, reasonOf(d, id))
				}
			}
			for id, reason := range tt.out {
				if got := reasonOf(d, id); got != reason {
					t.Errorf("%s: reason %q, want %q", id, got, reason)
				}
				if slices.Contains(rest, id) || slices.Contains(picks, id) {
					t.Errorf("%s is excluded and shown", id)
				}
			}
			for _, id := range tt.notPresent {
				if slices.Contains(rest, id) || reasonOf(d, id) != "" {
					t.Errorf("%s was not first seen in the week but is a candidate", id)
				}
			}
			for _, id := range picks {
				if slices.Contains(rest, id) {
					t.Errorf("pick %s is shown twice", id)
				}
			}
		})
	}
}

// TestBackfillIsNotNews: the first backfill (week 2026-W41 in the fixture)
// finds 170-odd old items; the digest holds only that week's new evidence.
func TestBackfillIsNotNews(t *testing.T) {
	d := build(t, "2026-W41", Curation{}, Subscriber{}, nil)
	old := 0
	for _, x := range d.Excluded {
		if x.Reason == ReasonTooOld {
			old++
			if !strings.Contains(x.Detail, "days before first seen") {
				t.Errorf("detail %q does not say how old", x.Detail)
			}
		}
	}
	if old < 150 {
		t.Errorf("%d items excluded as too old, want the backfill's 150+", old)
	}
	if d.Counts.Items > 15 {
		t.Errorf("the backfill week holds %d items; want only the week's own", d.Counts.Items)
	}
	for _, s := range d.Sections {
		for _, e := range s.Entries {
			if e.Published != nil && e.Published.Before(time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("%s published %s is in the digest", e.ID, e.Published)
			}
		}
	}
}

func TestMaxAge(t *testing.T) {
	for _, tt := range []struct {
		name   string
		maxAge time.Duration
		want   string
	}{
		{"default 14 days: a year-old report is too old", 0, ReasonTooOld},
		{"two years: it counts", 2 * 365 * 24 * time.Hour, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := build(t, "2026-W42", Curation{}, Subscriber{}, func(o *Options) { o.MaxAge = tt.maxAge })
			if got := reasonOf(d, idLateKF); got != tt.want {
				t.Errorf("reason for %s = %q, want %q", idLateKF, got, tt.want)
			}
		})
	}
}

func TestGroupingAndOrder(t *testing.T) {
	d := build(t, "2026-W42", Curation{}, Subscriber{}, nil)
	var names []string
	for _, s := range d.Sections {
		names = append(names, s.Topic)
		for i, e := range s.Entries {
			if e.Topic != s.Topic && !(s.Topic == OtherTopic && e.Topic == "") {
				t.Errorf("%s (primary topic %q) is in section %q", e.ID, e.Topic, s.Topic)
			}
			if i > 0 {
				p := s.Entries[i-1]
				if typeRank(p.Type) > typeRank(e.Type) {
					t.Errorf("section %q: %s (%s) before %s (%s)", s.Topic, p.ID, p.Type, e.ID, e.Type)
				}
				if typeRank(p.Type) == typeRank(e.Type) && p.Published != nil && e.Published != nil && p.Published.Before(*e.Published) {
					t.Errorf("section %q: older %s before newer %s", s.Topic, p.ID, e.ID)
				}
			}
		}
	}
	if !slices.IsSortedFunc(names, func(a, b string) int {
		if sectionLess(a, b) {
			return -1
		}
		return 1
	}) || names[len(names)-1] != OtherTopic {
		t.Errorf("sections %v: want topics in order and %q last", names, OtherTopic)
	}
	lw := findEntry(t, d, idLivingWell)
	if !slices.Equal(lw.Publishers, []string{"Centre for Mental Health", "National Voices"}) {
		t.Errorf("publishers of %s = %v", idLivingWell, lw.Publishers)
	}
	if len(lw.Labels) == 0 || lw.Topic == "" {
		t.Errorf("%s: topic %q labels %v", idLivingWell, lw.Topic, lw.Labels)
	}
	sb := findEntry(t, d, idSchoolsBlog)
	if len(sb.Relations) != 1 || sb.Relations[0].Kind != RelAppraises || sb.Relations[0].Links[0].Publisher != "Centre for Mental Health" {
		t.Errorf("Mental Elf post relations = %+v, want Appraises a CMH item", sb.Relations)
	}
}

func TestAppraisedBy(t *testing.T) {
	// The CMH report the schools blog appraises, picked into W42: its
	// entry names the Mental Elf post.
	target := ""
	st := loadFixture(t)
	for _, it := range st.items {
		if it.ID == idSchoolsBlog {
			target = it.Discusses[0]
		}
	}
	d := build(t, "2026-W42", Curation{Picks: []string{target}}, Subscriber{}, nil)
	e := d.Picks[0]
	if len(e.Relations) == 0 || e.Relations[0].Kind != RelAppraisedBy || e.Relations[0].Label != "Appraised by The Mental Elf" {
		t.Fatalf("relations of %s = %+v, want Appraised by The Mental Elf first", target, e.Relations)
	}
	found := false
	for _, l := range e.Relations[0].Links {
		found = found || l.ID == idSchoolsBlog
	}
	if !found {
		t.Errorf("Appraised by links %+v lack %s", e.Relations[0].Links, idSchoolsBlog)
	}
}

func findEntry(t *testing.T, d *Digest, id string) Entry {
	t.Helper()
	for _, s := range d.Sections {
		for _, e := range s.Entries {
			if e.ID == id {
				return e
			}
		}
	}
	t.Fatalf("%s not in the digest", id)
	return Entry{}
}

func TestUnknownPick(t *testing.T) {
	_, err := New(loadFixture(t), testOptions(t)).Build(context.Background(),
		Request{Week: mustWeek(t, "2026-W42"), Curation: Curation{Picks: []string{"nosuchitem"}}})
	if !errors.Is(err, evidence.ErrNotFound) || !strings.Contains(err.Error(), `"nosuchitem"`) {
		t.Errorf("err = %v, want ErrNotFound naming the pick", err)
	}
}

func TestEmptyWeek(t *testing.T) {
	for _, tt := range []struct {
		name      string
		sendEmpty bool
		skip      bool
	}{
		{"send_empty false: no digest", false, true},
		{"send_empty true: a short one", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := build(t, "2026-W50", Curation{}, Subscriber{}, func(o *Options) { o.SendEmpty = tt.sendEmpty })
			if !d.Empty || d.Skip != tt.skip {
				t.Errorf("Empty %v Skip %v, want true %v", d.Empty, d.Skip, tt.skip)
			}
		})
	}
}

func TestImportedMatchesImporter(t *testing.T) {
	if importLayerPrefix != importer.LayerPrefix {
		t.Errorf("importLayerPrefix %q != importer.LayerPrefix %q", importLayerPrefix, importer.LayerPrefix)
	}
}

// TestGolden renders the archive copy of week 2026-W42 with the editor's
// curation in every format, and an empty week as text.
func TestGolden(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		d    *Digest
		f    Format
	}{
		{"2026-W42.html", build(t, "2026-W42", editorCuration, Subscriber{}, nil), HTML},
		{"2026-W42.txt", build(t, "2026-W42", editorCuration, Subscriber{}, nil), Text},
		{"2026-W42.md", build(t, "2026-W42", editorCuration, Subscriber{}, nil), Markdown},
		{"2026-W42.json", build(t, "2026-W42", editorCuration, Subscriber{}, nil), JSON},
		{"2026-W42-subscriber.txt", build(t, "2026-W42", editorCuration, Subscriber{Email: "reader@example.org",
			Topics: []string{"children and young people"}, PreferencesURL: "https://evidence.example.org/p/TOKEN",
			UnsubscribeURL: "https://evidence.example.org/u/TOKEN"}, nil), Text},
		{"2026-W50-empty.txt", build(t, "2026-W50", Curation{}, Subscriber{}, func(o *Options) { o.SendEmpty = true }), Text},
		{"2026-W50-empty.html", build(t, "2026-W50", Curation{}, Subscriber{}, func(o *Options) { o.SendEmpty = true }), HTML},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := r.Render(&a, c.d, c.f); err != nil {
				t.Fatal(err)
			}
			if err := r.Render(&b, c.d, c.f); err != nil || a.String() != b.String() {
				t.Fatal("two renders differ")
			}
			golden(t, c.name, a.Bytes())
		})
	}
}

func TestRequireApproval(t *testing.T) {
	for _, tt := range []struct {
		name     string
		require  bool
		approved bool
		held     bool
	}{
		{"approval not required", false, false, false},
		{"required, not approved: held", true, false, true},
		{"required and approved", true, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := build(t, "2026-W42", Curation{Approved: tt.approved}, Subscriber{}, func(o *Options) { o.RequireApproval = tt.require })
			if d.Held != tt.held {
				t.Errorf("Held = %v, want %v", d.Held, tt.held)
			}
		})
	}
}
