// Package digest builds the weekly evidence digest: the items first seen in
// one ISO week (in the configured time zone) that are new evidence, the
// editor's picks and note, grouped by each item's primary topic and
// ordered reports first, then rendered as HTML e-mail, plain text, Markdown
// or JSON from embedded templates.
//
// The package knows no store: it declares the two reads it needs (Store).
// Curation (picks, drops, an editor's note, approval) and a Subscriber's
// filter are inputs, so a stored draft, subscribers and mail plug in later.
package digest

import (
	"context"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// Store is what the digest reads. store.Store implements it.
type Store interface {
	// ItemsFirstSeen returns the items first seen in [from, to).
	ItemsFirstSeen(ctx context.Context, from, to time.Time) ([]evidence.Item, error)
	// ItemsByIDs returns the items with these ids, in that order; unknown
	// ids are skipped.
	ItemsByIDs(ctx context.Context, ids []string) ([]evidence.Item, error)
}

// Options configure a Builder (cmd fills them from config digest.* and
// web.base_url).
type Options struct {
	// Title heads the digest (config digest.title).
	Title string
	// Location is the time zone of the weeks (config digest.timezone);
	// nil means Europe/London, or UTC if that zone is unknown here.
	Location *time.Location
	// MaxAge: an item is new evidence if published at most this long
	// before it was first seen, or undated (config digest.max_age);
	// 0 means 14 days.
	MaxAge time.Duration
	// SendEmpty: an empty week still makes a short digest (config
	// digest.send_empty); otherwise the Digest is marked Skip.
	SendEmpty bool
	// RequireApproval: a digest whose curation is not approved is marked
	// Held (config digest.require_approval).
	RequireApproval bool
	// BaseURL is web.base_url: the archive, preferences and unsubscribe
	// links are under it.
	BaseURL string
	// SourceNames maps a source ID to the publisher's name.
	SourceNames map[string]string
	// Now is the clock for the default week; nil means time.Now.
	Now func() time.Time
}

// Curation is the editor's input for one week's digest. The stored draft
// (digest pick / drop / note / approve) comes later and fills this in.
type Curation struct {
	// Picks are item IDs pinned to the top, in this order. A pick counts
	// whatever its age or origin (an imported item too) and goes to every
	// subscriber.
	Picks []string `json:"picks"`
	// Drops are item IDs left out of this week's digest.
	Drops []string `json:"drops"`
	// Order maps a section (its Topic) to the item IDs the editor placed:
	// they lead the section in that order, the rest follow as ranked.
	Order map[string][]string `json:"order,omitempty"`
	// Note is the editor's note in Markdown (rendered safely, see
	// RenderMarkdown).
	Note string `json:"note"`
	// Approved is set when an editor has approved the draft (for
	// digest.require_approval); ApprovedBy and ApprovedAt say who and when.
	Approved   bool       `json:"approved"`
	ApprovedBy string     `json:"approved_by,omitempty"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
}

// Subscriber narrows a digest to one reader's topics and sources and gives
// the personal links. The zero Subscriber is the unpersonalised archive copy.
type Subscriber struct {
	Email string
	// Topics and Sources filter the items (any of them matches); empty
	// means all. Picks are never filtered.
	Topics  []string
	Sources []string
	// PreferencesURL and UnsubscribeURL are the signed personal links (made
	// by mail later); empty means the generic pages under BaseURL.
	PreferencesURL string
	UnsubscribeURL string
}

// Request is one digest to build.
type Request struct {
	Week       Week
	Curation   Curation
	Subscriber Subscriber
}

// Digest is one built digest: what every format renders. Its JSON is the
// `digest build --json` document.
type Digest struct {
	Week  Week      `json:"week"`
	Title string    `json:"title"`
	From  time.Time `json:"from"` // Monday 00:00, in the digest's zone
	To    time.Time `json:"to"`   // the next Monday 00:00 (exclusive)
	// Dates is the human range, "12–18 October 2026".
	Dates      string `json:"dates"`
	Subscriber string `json:"subscriber,omitempty"`
	// Topics and Sources are the subscriber's filter, shown in the header.
	Topics   []string   `json:"topics,omitempty"`
	Sources  []string   `json:"sources,omitempty"`
	Approved bool       `json:"approved"`
	Counts   Counts     `json:"counts"`
	Note     string     `json:"note,omitempty"`
	Picks    []Entry    `json:"picks"`
	Sections []Section  `json:"sections"`
	Excluded []Excluded `json:"excluded"`
	Links    Links      `json:"links"`
	// Publishers names every configured publisher, for the footer.
	Publishers []string `json:"-"`
	// Empty: no item made it in. Skip: empty and digest.send_empty is
	// false, so no digest should go out.
	Empty bool `json:"empty"`
	Skip  bool `json:"skip"`
	// Held: digest.require_approval is set and the editor has not
	// approved this week's curation, so it must not be sent yet.
	Held bool `json:"held"`

	noteHTML template.HTML
}

// NoteHTML is the editor's note rendered as sanitised HTML.
func (d *Digest) NoteHTML() template.HTML { return d.noteHTML }

// Counts are the header's figures over the items the digest holds.
type Counts struct {
	Items    int     `json:"items"`
	BySource []Count `json:"by_source"`
	ByType   []Count `json:"by_type"`
}

// Count is one figure: Key is the source ID or type, Label its display name.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int    `json:"n"`
}

// Section is one topic's entries.
type Section struct {
	Topic   string  `json:"topic"`
	Entries []Entry `json:"entries"`
}

// Entry is one item as the digest shows it.
type Entry struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
	Type  string `json:"type"`
	// TypeLabel is "Report", "Long read", …
	TypeLabel string `json:"type_label"`
	// Publishers are the names of every publisher that announced it.
	Publishers []string   `json:"publishers"`
	Published  *time.Time `json:"published"`
	// Date is the published date as people read it ("14 October 2026"),
	// or "" when undated.
	Date    string   `json:"date"`
	Authors []string `json:"authors"`
	// Summary is one or two sentences of the item's summary.
	Summary string   `json:"summary"`
	PDFURLs []string `json:"pdf_urls"`
	// Topic is the primary topic (Topics[0]); Labels are the others.
	Topic     string     `json:"topic"`
	Labels    []string   `json:"labels"`
	Relations []Relation `json:"relations"`
	Picked    bool       `json:"picked,omitempty"`
	// Why says for the editor why the item is in, and in this section:
	// "Picked by the editor", or when it was published and first seen and
	// which topic put it here.
	Why string `json:"why,omitempty"`
	// Placed: the editor set its place in the section (Curation.Order).
	Placed bool `json:"placed,omitempty"`
}

// Relation kinds.
const (
	RelAppraisedBy = "appraised_by" // a Mental Elf post appraises this item
	RelAppraises   = "appraises"    // this Mental Elf post appraises those
	RelDiscussedBy = "discussed_by"
	RelDiscusses   = "discusses"
)

// Relation is one line of links to related items: "Appraised by The Mental
// Elf: …", "Appraises: …".
type Relation struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Links []Link `json:"links"`
}

// Link is a related item.
type Link struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	URL       string `json:"url"`
	Publisher string `json:"publisher"`
}

// Links are the footer's links.
type Links struct {
	Archive     string `json:"archive"`
	Preferences string `json:"preferences"`
	Unsubscribe string `json:"unsubscribe"`
}

// Exclusion reasons.
const (
	ReasonTooOld        = "too_old"
	ReasonImported      = "imported"
	ReasonDropped       = "dropped"
	ReasonNoTopicMatch  = "no_topic_match"
	ReasonNoSourceMatch = "no_source_match"
)

// Excluded is a candidate (first seen in the week) left out, and why.
type Excluded struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Publisher is the name of the item's source.
	Publisher string `json:"publisher,omitempty"`
	Reason    string `json:"reason"`
	// Detail says it for a person: "published 3 June 2025, 498 days before first seen".
	Detail string `json:"detail"`
}

// OtherTopic is the section of items with no topic.
const OtherTopic = "Other new evidence"

// DefaultMaxAge is the digest.max_age default.
const DefaultMaxAge = 14 * 24 * time.Hour

// Builder builds digests from a Store.
type Builder struct {
	st   Store
	opts Options
}

// New returns a Builder reading st.
func New(st Store, opts Options) *Builder {
	if opts.Location == nil {
		loc, err := time.LoadLocation("Europe/London")
		if err != nil {
			loc = time.UTC
		}
		opts.Location = loc
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Title == "" {
		opts.Title = "Evidence Tracker weekly digest"
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	return &Builder{st: st, opts: opts}
}

// DefaultWeek is the week a digest built now covers: the last complete week.
func (b *Builder) DefaultWeek() Week { return LastComplete(b.opts.Now(), b.opts.Location) }

// Location is the builder's time zone.
func (b *Builder) Location() *time.Location { return b.opts.Location }

// Build selects, groups and orders the week's items.
func (b *Builder) Build(ctx context.Context, req Request) (*Digest, error) {
	loc := b.opts.Location
	from, to := req.Week.Start(loc), req.Week.End(loc)
	cands, err := b.st.ItemsFirstSeen(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("digest %s: items first seen: %w", req.Week, err)
	}
	cur := req.Curation
	picked := map[string]bool{}
	for _, id := range cur.Picks {
		picked[id] = true
	}
	dropped := map[string]bool{}
	for _, id := range cur.Drops {
		dropped[id] = true
	}

	d := &Digest{
		Week: req.Week, Title: b.opts.Title, From: from, To: to, Dates: dateRange(from, to.AddDate(0, 0, -1)),
		Subscriber: req.Subscriber.Email, Topics: req.Subscriber.Topics, Approved: cur.Approved, Note: strings.TrimSpace(cur.Note),
		Picks: []Entry{}, Sections: []Section{}, Excluded: []Excluded{},
		Links: b.links(req.Week, req.Subscriber),
	}
	for _, n := range b.opts.SourceNames {
		d.Publishers = append(d.Publishers, n)
	}
	for _, id := range req.Subscriber.Sources {
		d.Sources = append(d.Sources, b.sourceName(id))
	}
	sort.Strings(d.Publishers)
	if d.Note != "" {
		d.noteHTML = RenderMarkdown(d.Note)
	}

	// Picks, in the editor's order, wherever and whenever they were seen.
	var picks []evidence.Item
	if len(cur.Picks) > 0 {
		var ids []string
		for _, id := range cur.Picks {
			if !dropped[id] && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		picks, err = b.st.ItemsByIDs(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("digest %s: picks: %w", req.Week, err)
		}
		if len(picks) < len(ids) {
			found := map[string]bool{}
			for _, it := range picks {
				found[it.ID] = true
			}
			for _, id := range ids {
				if !found[id] {
					return nil, fmt.Errorf("digest %s: pick %q: no such item: %w", req.Week, id, evidence.ErrNotFound)
				}
			}
		}
	}

	var chosen []evidence.Item
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].ID < cands[j].ID })
	for _, it := range cands {
		if picked[it.ID] && !dropped[it.ID] {
			continue // shown among the picks
		}
		if reason, detail := b.exclude(it, dropped, req.Subscriber); reason != "" {
			d.Excluded = append(d.Excluded, Excluded{ID: it.ID, Title: it.Title, Publisher: b.sourceName(it.Source), Reason: reason, Detail: detail})
			continue
		}
		chosen = append(chosen, it)
	}
	sort.SliceStable(d.Excluded, func(i, j int) bool {
		a, c := d.Excluded[i], d.Excluded[j]
		if a.Reason != c.Reason {
			return a.Reason < c.Reason
		}
		return a.ID < c.ID
	})

	related, err := b.related(ctx, append(slices.Clone(picks), chosen...))
	if err != nil {
		return nil, fmt.Errorf("digest %s: related items: %w", req.Week, err)
	}
	for _, it := range picks {
		e := b.entry(it, related)
		e.Picked = true
		e.Why = b.whyPicked(it, from, to)
		d.Picks = append(d.Picks, e)
	}
	bySection := map[string][]Entry{}
	for _, it := range chosen {
		e := b.entry(it, related)
		e.Why = b.why(it)
		bySection[e.sectionName()] = append(bySection[e.sectionName()], e)
	}
	for name, entries := range bySection {
		sortEntries(entries)
		order := cur.Order[name]
		entries = placed(entries, order)
		for i := range entries {
			entries[i].Placed = slices.Contains(order, entries[i].ID)
		}
		d.Sections = append(d.Sections, Section{Topic: name, Entries: entries})
	}
	sort.Slice(d.Sections, func(i, j int) bool { return sectionLess(d.Sections[i].Topic, d.Sections[j].Topic) })

	d.Counts = b.counts(d)
	d.Empty = d.Counts.Items == 0
	d.Skip = d.Empty && !b.opts.SendEmpty
	d.Held = b.opts.RequireApproval && !cur.Approved
	return d, nil
}

// exclude says why a candidate is left out, or "".
func (b *Builder) exclude(it evidence.Item, dropped map[string]bool, sub Subscriber) (reason, detail string) {
	if dropped[it.ID] {
		return ReasonDropped, "dropped by the editor"
	}
	if Imported(it) {
		return ReasonImported, "imported by a librarian (" + it.Provenance["title"] + "); imported items count only when picked"
	}
	if it.Published != nil {
		if age := it.FirstSeen.Sub(*it.Published); age > b.opts.MaxAge {
			return ReasonTooOld, fmt.Sprintf("published %s, %d days before first seen (%s); digest.max_age is %s",
				humanDate(it.Published.In(b.opts.Location)), int(age/(24*time.Hour)),
				humanDate(it.FirstSeen.In(b.opts.Location)), days(b.opts.MaxAge))
		}
	}
	if len(sub.Topics) > 0 && !overlapFold(it.Topics, sub.Topics) {
		topics := "no topic"
		if len(it.Topics) > 0 {
			topics = "topics " + strings.Join(it.Topics, ", ")
		}
		return ReasonNoTopicMatch, fmt.Sprintf("%s; the subscriber follows %s", topics, strings.Join(sub.Topics, ", "))
	}
	if len(sub.Sources) > 0 && !overlapFold(append([]string{it.Source}, it.AnnouncedBy...), sub.Sources) {
		return ReasonNoSourceMatch, fmt.Sprintf("from %s; the subscriber follows %s", it.Source, strings.Join(sub.Sources, ", "))
	}
	return "", ""
}

// why says why a chosen item is in the digest and in its section.
func (b *Builder) why(it evidence.Item) string {
	loc := b.opts.Location
	var s string
	if it.Published != nil {
		pub, seen := humanDate(it.Published.In(loc)), humanDate(it.FirstSeen.In(loc))
		s = "New: published " + pub + ", first seen " + seen
		if pub == seen {
			s = "New: published and first seen " + pub
		}
	} else {
		s = "New: first seen " + humanDate(it.FirstSeen.In(loc)) + " (undated, so it counts as new)"
	}
	switch {
	case len(it.TopicTags) > 0:
		t := it.TopicTags[0]
		s += "; here for " + t.Name + ", its strongest topic"
		switch t.Where {
		case evidence.TopicTitle:
			s += " (in its title)"
		case evidence.TopicSummary:
			s += " (in its summary)"
		case evidence.TopicBody:
			s += " (in its text)"
		case evidence.TopicGiven:
			s += " (given to it by an editor or an import)"
		}
	case len(it.Topics) > 0:
		s += "; here for " + it.Topics[0] + ", its first topic"
	default:
		s += "; no topic matched it, so it is under " + OtherTopic
	}
	return s
}

// whyPicked says why a pick is in: the editor's choice, and what would
// have kept it out otherwise.
func (b *Builder) whyPicked(it evidence.Item, from, to time.Time) string {
	s := "Picked by the editor"
	if it.FirstSeen.Before(from) || !it.FirstSeen.Before(to) {
		return s + "; first seen " + humanDate(it.FirstSeen.In(b.opts.Location)) + ", outside this week"
	}
	if reason, detail := b.exclude(it, nil, Subscriber{}); reason != "" {
		return s + "; otherwise left out: " + detail
	}
	return s
}

// Imported reports whether a librarian brought the item in with `evidence
// import` rather than a publisher's feed or site: its title's provenance is
// an import layer ("import:ris", "import:bibtex", "import:jsonl"; see
// ingest/importer.LayerPrefix). A publisher ingest of the same work keeps
// the publisher's title, so such an item no longer counts as imported.
func Imported(it evidence.Item) bool {
	return strings.HasPrefix(it.Provenance["title"], importLayerPrefix)
}

// importLayerPrefix is ingest/importer.LayerPrefix (digest may not import
// ingest; a test keeps the two equal).
const importLayerPrefix = "import:"

func overlapFold(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(w)) {
				return true
			}
		}
	}
	return false
}

func (b *Builder) links(w Week, sub Subscriber) Links {
	l := Links{
		Archive:     b.opts.BaseURL + "/digests/" + w.String(),
		Preferences: b.opts.BaseURL + "/preferences",
		Unsubscribe: b.opts.BaseURL + "/unsubscribe",
	}
	if sub.PreferencesURL != "" {
		l.Preferences = sub.PreferencesURL
	}
	if sub.UnsubscribeURL != "" {
		l.Unsubscribe = sub.UnsubscribeURL
	}
	return l
}

// related loads the items the entries discuss or are discussed by.
func (b *Builder) related(ctx context.Context, items []evidence.Item) (map[string]evidence.Item, error) {
	var ids []string
	seen := map[string]bool{}
	for _, it := range items {
		for _, id := range slices.Concat(it.Discusses, it.DiscussedBy) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	out := map[string]evidence.Item{}
	if len(ids) == 0 {
		return out, nil
	}
	rel, err := b.st.ItemsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, it := range rel {
		out[it.ID] = it
	}
	return out, nil
}

func (b *Builder) sourceName(id string) string {
	if n, ok := b.opts.SourceNames[id]; ok && n != "" {
		return n
	}
	return id
}

func (b *Builder) entry(it evidence.Item, related map[string]evidence.Item) Entry {
	e := Entry{
		ID: it.ID, Title: strings.TrimSpace(it.Title), URL: it.URL, Type: it.Type, TypeLabel: TypeLabel(it.Type),
		Authors: nonNil(it.Authors), Summary: Summarise(it.Summary), PDFURLs: nonNil(it.PDFURLs),
		Labels: []string{}, Relations: []Relation{}, Publishers: []string{},
	}
	if e.Title == "" {
		e.Title = it.URL
	}
	if it.Published != nil {
		p := it.Published.UTC()
		e.Published = &p
		e.Date = humanDate(it.Published.In(b.opts.Location))
	}
	for _, s := range slices.Concat([]string{it.Source}, it.AnnouncedBy) {
		if s == "" {
			continue
		}
		if n := b.sourceName(s); !slices.Contains(e.Publishers, n) {
			e.Publishers = append(e.Publishers, n)
		}
	}
	// A publisher credited as the author ("By Centre for Mental Health")
	// says nothing the publisher line does not.
	e.Authors = slices.DeleteFunc(slices.Clone(e.Authors), func(a string) bool { return slices.Contains(e.Publishers, a) })
	if len(it.Topics) > 0 {
		e.Topic = it.Topics[0]
		e.Labels = append(e.Labels, it.Topics[1:]...)
	}
	elf := it.Source == evidence.SourceMentalElf
	var appraisedBy, discussedBy, out []Link
	for _, id := range it.DiscussedBy {
		r, ok := related[id]
		if !ok {
			continue
		}
		l := b.link(r)
		if r.Source == evidence.SourceMentalElf {
			appraisedBy = append(appraisedBy, l)
		} else {
			discussedBy = append(discussedBy, l)
		}
	}
	for _, id := range it.Discusses {
		if r, ok := related[id]; ok {
			out = append(out, b.link(r))
		}
	}
	if len(appraisedBy) > 0 {
		e.Relations = append(e.Relations, Relation{Kind: RelAppraisedBy, Label: "Appraised by " + b.sourceName(evidence.SourceMentalElf), Links: appraisedBy})
	}
	if len(discussedBy) > 0 {
		e.Relations = append(e.Relations, Relation{Kind: RelDiscussedBy, Label: "Discussed by", Links: discussedBy})
	}
	if len(out) > 0 {
		if elf {
			e.Relations = append(e.Relations, Relation{Kind: RelAppraises, Label: "Appraises", Links: out})
		} else {
			e.Relations = append(e.Relations, Relation{Kind: RelDiscusses, Label: "Discusses", Links: out})
		}
	}
	return e
}

func (b *Builder) link(it evidence.Item) Link {
	t := strings.TrimSpace(it.Title)
	if t == "" {
		t = it.URL
	}
	return Link{ID: it.ID, Title: t, URL: it.URL, Publisher: b.sourceName(it.Source)}
}

func (e Entry) sectionName() string {
	if e.Topic == "" {
		return OtherTopic
	}
	return e.Topic
}

// sectionLess orders sections by topic name, "Other new evidence" last.
func sectionLess(a, b string) bool {
	if (a == OtherTopic) != (b == OtherTopic) {
		return b == OtherTopic
	}
	if la, lb := strings.ToLower(a), strings.ToLower(b); la != lb {
		return la < lb
	}
	return a < b
}

// typeRank orders entries within a section: reports and briefings first,
// then other publications, long reads, blogs and podcasts, news.
func typeRank(t string) int {
	switch t {
	case evidence.TypeReport, evidence.TypeBriefing:
		return 0
	case evidence.TypePublication, evidence.TypeData:
		return 1
	case evidence.TypeLongRead, evidence.TypeArticle:
		return 2
	case evidence.TypeBlog, evidence.TypePodcast:
		return 3
	case evidence.TypeNews, evidence.TypePressRelease:
		return 4
	}
	return 5
}

// sortEntries: by type rank, then newest published first (undated last),
// then title and ID so the order is always the same.
func sortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if ra, rb := typeRank(a.Type), typeRank(b.Type); ra != rb {
			return ra < rb
		}
		switch {
		case a.Published != nil && b.Published == nil:
			return true
		case a.Published == nil && b.Published != nil:
			return false
		case a.Published != nil && !a.Published.Equal(*b.Published):
			return a.Published.After(*b.Published)
		}
		if a.Title != b.Title {
			return a.Title < b.Title
		}
		return a.ID < b.ID
	})
}

func (b *Builder) counts(d *Digest) Counts {
	bySource, byType := map[string]int{}, map[string]int{}
	var c Counts
	all := slices.Clone(d.Picks)
	for _, s := range d.Sections {
		all = append(all, s.Entries...)
	}
	srcOf := map[string]string{}
	for id, n := range b.opts.SourceNames {
		srcOf[n] = id
	}
	for _, e := range all {
		c.Items++
		byType[e.Type]++
		for _, p := range e.Publishers {
			bySource[p]++
		}
	}
	c.BySource, c.ByType = []Count{}, []Count{}
	for name, n := range bySource {
		key := srcOf[name]
		if key == "" {
			key = name
		}
		c.BySource = append(c.BySource, Count{Key: key, Label: name, N: n})
	}
	for t, n := range byType {
		c.ByType = append(c.ByType, Count{Key: t, Label: TypeLabel(t), N: n})
	}
	for _, cs := range [][]Count{c.BySource, c.ByType} {
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].N != cs[j].N {
				return cs[i].N > cs[j].N
			}
			return cs[i].Key < cs[j].Key
		})
	}
	return c
}

// TypeLabel is an item type as a reader sees it: "report" → "Report",
// "long-read" → "Long read".
func TypeLabel(t string) string {
	switch t {
	case "":
		return "Item"
	case evidence.TypePressRelease:
		return "Press release"
	case evidence.TypeBlog:
		return "Blog"
	}
	s := strings.ReplaceAll(t, "-", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func humanDate(t time.Time) string { return t.Format("2 January 2006") }

// dateRange is "12–18 October 2026", "28 September – 4 October 2026" or
// "28 December 2026 – 3 January 2027".
func dateRange(a, b time.Time) string {
	switch {
	case a.Year() != b.Year():
		return a.Format("2 January 2006") + " – " + b.Format("2 January 2006")
	case a.Month() != b.Month():
		return a.Format("2 January") + " – " + b.Format("2 January 2006")
	}
	return fmt.Sprintf("%d–%s", a.Day(), b.Format("2 January 2006"))
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
