package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/digest"
	"github.com/evidencetracker/evidence/mail"
)

// DigestStore is what digests need of the store besides the items the
// builder reads.
type DigestStore interface {
	Draft(ctx context.Context, week string) (evidence.DigestDraft, bool, error)
	EditDraft(ctx context.Context, week string, wantVersion int, by string, edit func(*evidence.DigestDraft) error) (evidence.DigestDraft, error)
	Drafts(ctx context.Context) ([]evidence.DigestDraft, error)
	ArchiveDigest(ctx context.Context, a evidence.ArchivedDigest) error
	MarkDigestSent(ctx context.Context, week string) error
	ArchivedDigest(ctx context.Context, week string) (evidence.ArchivedDigest, error)
	ArchivedDigests(ctx context.Context) ([]evidence.ArchivedDigest, error)
	Subscribers(ctx context.Context, statuses ...string) ([]evidence.Subscriber, error)
	mail.DeliveryLog
}

// ItemResolver finds the item an ID, URL or old alias names.
type ItemResolver interface {
	Resolve(ctx context.Context, ref string) (evidence.Item, error)
}

// Digests builds, curates, sends and archives the weekly digests.
type Digests struct {
	Store    DigestStore
	Items    digest.Store // what the builder reads (items with their topics)
	Resolver ItemResolver
	Options  digest.Options
	Subs     *Subscriptions // personal links; may be nil for the CLI's build
	// Transport sends messages (a *mail.Sender); Deliver opens it lazily.
	Transport   func() (mail.Transport, error)
	From        string
	BounceLimit int
	// Workers send that many messages at once (config smtp.connections).
	Workers int
	// TemplateDir replaces built-in templates (config digest.templates).
	TemplateDir string
	Logger      *slog.Logger

	once     sync.Once
	renderer *digest.Renderer
	rerr     error
}

// ErrHeld is returned by Send when digest.require_approval is set and the
// week's draft is not approved.
var ErrHeld = errors.New("digest is waiting for approval")

func (d *Digests) log() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

func (d *Digests) render() (*digest.Renderer, error) {
	d.once.Do(func() { d.renderer, d.rerr = digest.NewRendererFrom(d.TemplateDir) })
	return d.renderer, d.rerr
}

func (d *Digests) builder(items digest.Store) *digest.Builder {
	if items == nil {
		items = d.Items
	}
	return digest.New(items, d.Options)
}

// DefaultWeek is the week a digest made now covers.
func (d *Digests) DefaultWeek() digest.Week { return d.builder(nil).DefaultWeek() }

// ParseWeek parses "2026-W47"; empty means DefaultWeek.
func (d *Digests) ParseWeek(s string) (digest.Week, error) {
	if strings.TrimSpace(s) == "" {
		return d.DefaultWeek(), nil
	}
	w, err := digest.ParseWeek(s)
	if err != nil {
		return w, fmt.Errorf("%w: %w", err, evidence.ErrInvalid)
	}
	return w, nil
}

func curation(dr evidence.DigestDraft) digest.Curation {
	return digest.Curation{Picks: dr.Picks, Drops: dr.Drops, Order: dr.Order, Note: dr.Note, Approved: dr.Approved(),
		ApprovedBy: dr.ApprovedBy, ApprovedAt: dr.ApprovedAt}
}

// Draft returns a week's stored draft and the digest it makes (the
// un-personalised copy).
func (d *Digests) Draft(ctx context.Context, w digest.Week) (evidence.DigestDraft, *digest.Digest, error) {
	dr, _, err := d.Store.Draft(ctx, w.String())
	if err != nil {
		return dr, nil, err
	}
	dg, err := d.builder(nil).Build(ctx, digest.Request{Week: w, Curation: curation(dr)})
	return dr, dg, err
}

// Edit is one change to a draft (digest.Edit: the CLI's digest pick,
// drop, note, move, approve and the draft page make the same value).
type Edit = digest.Edit

// EditDraft applies an edit for user by. Any edit but an approval
// withdraws an earlier approval: what was approved is not what would go.
// A move (Edit.Move) is made on the digest as the draft now builds it
// and may not be combined with other changes; an edit made on a version
// that is no longer the draft's is refused with evidence.ErrConflict.
func (d *Digests) EditDraft(ctx context.Context, w digest.Week, by string, e Edit) (evidence.DigestDraft, error) {
	resolve := func(ref string) (string, error) {
		if ref == "" {
			return "", nil
		}
		it, err := d.Resolver.Resolve(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("item %q: %w", ref, err)
		}
		return it.ID, nil
	}
	if e.Approve && e.Withdraw {
		return evidence.DigestDraft{}, fmt.Errorf("approve or withdraw the approval, not both: %w", evidence.ErrInvalid)
	}
	if e.Move != "" {
		if e.Pick != "" || e.Drop != "" || e.Unpick != "" || e.Undrop != "" || e.Note != nil || e.Approve || e.Withdraw {
			return evidence.DigestDraft{}, fmt.Errorf("a move is made on its own, with no other change: %w", evidence.ErrInvalid)
		}
		id, err := resolve(e.Move)
		if err != nil {
			return evidence.DigestDraft{}, err
		}
		return d.move(ctx, w, by, id, e)
	}
	pick, err := resolve(e.Pick)
	if err != nil {
		return evidence.DigestDraft{}, err
	}
	drop, err := resolve(e.Drop)
	if err != nil {
		return evidence.DigestDraft{}, err
	}
	unpick, err := resolve(e.Unpick)
	if err != nil {
		return evidence.DigestDraft{}, err
	}
	undrop, err := resolve(e.Undrop)
	if err != nil {
		return evidence.DigestDraft{}, err
	}
	return d.Store.EditDraft(ctx, w.String(), e.Version, by, func(dr *evidence.DigestDraft) error {
		changed := false
		if pick != "" && !slices.Contains(dr.Picks, pick) {
			dr.Picks = append(dr.Picks, pick)
			dr.Drops = slices.DeleteFunc(dr.Drops, func(s string) bool { return s == pick })
			changed = true
		}
		if drop != "" && !slices.Contains(dr.Drops, drop) {
			dr.Drops = append(dr.Drops, drop)
			dr.Picks = slices.DeleteFunc(dr.Picks, func(s string) bool { return s == drop })
			changed = true
		}
		if unpick != "" && slices.Contains(dr.Picks, unpick) {
			dr.Picks = slices.DeleteFunc(dr.Picks, func(s string) bool { return s == unpick })
			changed = true
		}
		if undrop != "" && slices.Contains(dr.Drops, undrop) {
			dr.Drops = slices.DeleteFunc(dr.Drops, func(s string) bool { return s == undrop })
			changed = true
		}
		if e.Note != nil && *e.Note != dr.Note {
			dr.Note = *e.Note
			changed = true
		}
		if changed || e.Withdraw {
			dr.ApprovedBy, dr.ApprovedAt = "", nil
		}
		if e.Approve {
			t := d.now().UTC()
			dr.ApprovedBy, dr.ApprovedAt = by, &t
		}
		return nil
	})
}

func (d *Digests) now() time.Time {
	if d.Options.Now != nil {
		return d.Options.Now()
	}
	return time.Now()
}

// errMoveRaced: the draft changed between building the digest a move was
// worked out on and storing it.
var errMoveRaced = errors.New("the draft changed while the move was made")

// move places an item within its section (or among the picks) of the
// digest the draft builds now, storing the section's whole order. Made
// with no version (the CLI), a move that races another edit is worked out
// again on the new draft.
func (d *Digests) move(ctx context.Context, w digest.Week, by, id string, e Edit) (evidence.DigestDraft, error) {
	week := w.String()
	for attempt := 0; ; attempt++ {
		dr, _, err := d.Store.Draft(ctx, week)
		if err != nil {
			return dr, err
		}
		if e.Version > 0 && dr.Version != e.Version {
			return dr, fmt.Errorf("draft %s is at version %d, the move was made on version %d: %w", week, dr.Version, e.Version, evidence.ErrConflict)
		}
		dg, err := d.builder(nil).Build(ctx, digest.Request{Week: w, Curation: curation(dr)})
		if err != nil {
			return dr, err
		}
		section, ids, inPicks := "", []string(nil), false
		for _, p := range dg.Picks {
			ids = append(ids, p.ID)
		}
		if slices.Contains(ids, id) {
			inPicks = true
		} else {
			ids = nil
			for _, s := range dg.Sections {
				if slices.ContainsFunc(s.Entries, func(en digest.Entry) bool { return en.ID == id }) {
					section = s.Topic
					for _, en := range s.Entries {
						ids = append(ids, en.ID)
					}
				}
			}
		}
		if ids == nil {
			for _, x := range dg.Excluded {
				if x.ID == id {
					return dr, fmt.Errorf("item %s is left out of the %s digest (%s: %s); pick it or put it back before moving it: %w", id, week, x.Reason, x.Detail, evidence.ErrInvalid)
				}
			}
			return dr, fmt.Errorf("item %s is not in the %s digest: %w", id, week, evidence.ErrInvalid)
		}
		moved, err := digest.Moved(ids, id, e.Delta, e.To)
		if err != nil {
			return dr, err
		}
		out, err := d.Store.EditDraft(ctx, week, e.Version, by, func(cur *evidence.DigestDraft) error {
			if cur.Version != dr.Version {
				return errMoveRaced
			}
			if inPicks {
				rest := slices.DeleteFunc(slices.Clone(cur.Picks), func(s string) bool { return slices.Contains(moved, s) })
				cur.Picks = append(moved, rest...)
			} else {
				if cur.Order == nil {
					cur.Order = map[string][]string{}
				}
				cur.Order[section] = moved
			}
			if !slices.Equal(ids, moved) {
				cur.ApprovedBy, cur.ApprovedAt = "", nil
			}
			return nil
		})
		if errors.Is(err, errMoveRaced) && attempt < 3 {
			continue
		}
		if errors.Is(err, errMoveRaced) {
			return out, fmt.Errorf("move %s: %w: %w", id, err, evidence.ErrConflict)
		}
		return out, err
	}
}

// PreviewFor builds the week's draft as a subscriber who chose these
// topics and sources (none: everything) would get it, with the generic
// preference and unsubscribe links: the draft page's preview.
func (d *Digests) PreviewFor(ctx context.Context, w digest.Week, topics, sources []string) (*digest.Digest, error) {
	return d.Build(ctx, Preview{Week: w, Topics: topics, Sources: sources})
}

// Choices are the topics and sources a subscriber may choose, for a
// preview as one of them.
func (d *Digests) Choices() (topics []string, sources []evidence.SourceName) {
	if d.Subs != nil {
		return d.Subs.Choices()
	}
	for id, name := range d.Options.SourceNames {
		sources = append(sources, evidence.SourceName{ID: id, Name: name})
	}
	slices.SortFunc(sources, func(a, b evidence.SourceName) int { return strings.Compare(a.ID, b.ID) })
	return nil, sources
}

// Preview is one digest to look at: the stored draft, plus one-off picks,
// drops or a note that are not stored, as a subscriber would get it (or
// with ad-hoc topics and sources; none: the archive copy).
type Preview struct {
	Week       digest.Week
	Subscriber *evidence.Subscriber
	Topics     []string
	Sources    []string
	Picks      []string
	Drops      []string
	Note       *string
}

// Build makes a preview.
func (d *Digests) Build(ctx context.Context, p Preview) (*digest.Digest, error) {
	dr, _, err := d.Store.Draft(ctx, p.Week.String())
	if err != nil {
		return nil, err
	}
	cur := curation(dr)
	for _, ref := range p.Picks {
		it, err := d.Resolver.Resolve(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("pick %q: %w", ref, err)
		}
		if !slices.Contains(cur.Picks, it.ID) {
			cur.Picks = append(cur.Picks, it.ID)
		}
	}
	for _, ref := range p.Drops {
		it, err := d.Resolver.Resolve(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("drop %q: %w", ref, err)
		}
		cur.Drops = append(cur.Drops, it.ID)
	}
	if p.Note != nil {
		cur.Note = *p.Note
	}
	ds := digest.Subscriber{Topics: p.Topics, Sources: p.Sources}
	if p.Subscriber != nil {
		ds.Email = p.Subscriber.Email
		ds.Topics = append(slices.Clone(p.Subscriber.Topics), p.Topics...)
		ds.Sources = append(slices.Clone(p.Subscriber.Sources), p.Sources...)
		if d.Subs != nil {
			l := d.Subs.LinksFor(*p.Subscriber)
			ds.PreferencesURL, ds.UnsubscribeURL = l.Preferences, l.Unsubscribe
		}
	}
	return d.builder(nil).Build(ctx, digest.Request{Week: p.Week, Curation: cur, Subscriber: ds})
}

// CheckTemplates loads the templates now, so a broken one is reported
// before anything is built or sent.
func (d *Digests) CheckTemplates() error {
	_, err := d.render()
	return err
}

// Render writes a digest in a format.
func (d *Digests) Render(w io.Writer, dg *digest.Digest, f digest.Format) error {
	r, err := d.render()
	if err != nil {
		return err
	}
	return r.Render(w, dg, f)
}

// SendRequest is one run of digest send.
type SendRequest struct {
	Week digest.Week
	// DryRun, when set, writes .eml files there and records nothing.
	DryRun string
	// To, when set, sends only to these subscribers (addresses).
	To       []string
	Progress func(done, total int)
}

// SendReport says what a send did.
type SendReport struct {
	mail.DeliveryReport
	Items  int    `json:"items"`
	Status string `json:"status"` // sent, empty, held, dry-run
}

// Send delivers the week's digest to every active subscriber (their
// topics and sources only; nobody gets an empty one), exactly once per
// week and subscriber, and archives the un-personalised copy.
func (d *Digests) Send(ctx context.Context, req SendRequest) (SendReport, error) {
	week := req.Week.String()
	rep := SendReport{DeliveryReport: mail.DeliveryReport{Week: week, Failures: []mail.DeliveryFailure{}}}
	dr, _, err := d.Store.Draft(ctx, week)
	if err != nil {
		return rep, err
	}
	cur := curation(dr)
	items := newMemoItems(d.Items)
	b := d.builder(items)
	general, err := b.Build(ctx, digest.Request{Week: req.Week, Curation: cur})
	if err != nil {
		return rep, err
	}
	rep.Items = general.Counts.Items
	if general.Held && req.DryRun == "" {
		rep.Status = "held"
		return rep, fmt.Errorf("digest %s: %w (run 'evidence digest approve --week %s')", week, ErrHeld, week)
	}
	if general.Skip {
		rep.Status = "empty"
		d.log().Info("digest: nothing new this week; not sent (digest.send_empty is false)", "week", week)
		return rep, nil
	}
	r, err := d.render()
	if err != nil {
		return rep, err
	}
	if req.DryRun == "" {
		arch, err := d.archive(r, general)
		if err != nil {
			return rep, err
		}
		if err := d.Store.ArchiveDigest(ctx, arch); err != nil {
			return rep, err
		}
	}
	subs, err := d.Store.Subscribers(ctx, evidence.SubscriberActive)
	if err != nil {
		return rep, err
	}
	if len(req.To) > 0 {
		var only []evidence.Subscriber
		for _, to := range req.To {
			i := slices.IndexFunc(subs, func(s evidence.Subscriber) bool { return strings.EqualFold(s.Email, strings.TrimSpace(to)) })
			if i < 0 {
				return rep, fmt.Errorf("--to %s: no active subscriber with that address: %w", to, evidence.ErrNotFound)
			}
			only = append(only, subs[i])
		}
		subs = only
	}
	var tr mail.Transport
	var dl mail.DeliveryLog = d.Store
	if req.DryRun != "" {
		tr, dl = &mail.DirTransport{Dir: req.DryRun}, &mail.MemoryLog{}
		rep.Status = "dry-run"
	} else {
		if tr, err = d.Transport(); err != nil {
			return rep, err
		}
		rep.Status = "sent"
	}
	host := "evidence-tracker.invalid"
	if u, err := url.Parse(d.Options.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	now := time.Now
	if d.Options.Now != nil {
		now = d.Options.Now
	}
	byChoice := map[string]*renderedDigest{}
	var choiceMu sync.Mutex
	compose := func(ctx context.Context, sub evidence.Subscriber) (mail.Message, bool, error) {
		ds := digest.Subscriber{Email: sub.Email, Topics: sub.Topics, Sources: sub.Sources}
		var links Links
		if d.Subs != nil {
			links = d.Subs.LinksFor(sub)
			ds.PreferencesURL, ds.UnsubscribeURL = links.Preferences, links.Unsubscribe
		}
		// Subscribers who chose the same topics, sources and format get the
		// same digest but for their links: it is built and rendered once per
		// choice, with stand-in links replaced for each subscriber.
		key := choiceKey(sub.Topics, sub.Sources) + "\x02" + sub.Format
		rd, err := func() (*renderedDigest, error) {
			choiceMu.Lock()
			defer choiceMu.Unlock()
			if rd, ok := byChoice[key]; ok {
				return rd, nil
			}
			generic := ds
			generic.Email, generic.PreferencesURL, generic.UnsubscribeURL = "", standInPrefs, standInUnsub
			dg, err := b.Build(ctx, digest.Request{Week: req.Week, Curation: cur, Subscriber: generic})
			if err != nil {
				return nil, err
			}
			rd := &renderedDigest{subject: subject(dg), title: dg.Title}
			if !dg.Skip && (dg.Counts.Items > 0 || len(dg.Picks) > 0) {
				rd.ok = true
				var text, html bytes.Buffer
				if err := r.Render(&text, dg, digest.Text); err != nil {
					return nil, err
				}
				rd.text = text.String()
				if sub.Format != evidence.FormatText {
					if err := r.Render(&html, dg, digest.HTML); err != nil {
						return nil, err
					}
					rd.html = html.String()
				}
			}
			byChoice[key] = rd
			return rd, nil
		}()
		if err != nil {
			return mail.Message{}, false, err
		}
		if !rd.ok {
			return mail.Message{}, false, nil
		}
		prefs, unsub := links.Preferences, links.Unsubscribe
		if prefs == "" {
			base := strings.TrimRight(d.Options.BaseURL, "/")
			prefs, unsub = base+"/preferences", base+"/unsubscribe"
		}
		personalise := func(s string) string {
			return strings.ReplaceAll(strings.ReplaceAll(s, standInPrefs, prefs), standInUnsub, unsub)
		}
		text, html := personalise(rd.text), ""
		if rd.html != "" {
			html = personalise(rd.html)
		}
		m := mail.Message{
			From: d.From, To: sub.Email, Subject: rd.subject, Text: text, HTML: html,
			MessageID: mail.DigestMessageID(week, sub.ID, host),
			Date:      now(),
			ListID:    rd.title + " <digest." + host + ">",
		}
		if links.Unsubscribe != "" {
			m.ListUnsubscribe = []string{links.Unsubscribe}
			if links.UnsubscribeMailto != "" {
				m.ListUnsubscribe = append(m.ListUnsubscribe, links.UnsubscribeMailto)
			}
			m.OneClick = true
		}
		return m, true, nil
	}
	drep, err := mail.Deliver(ctx, dl, tr, mail.Batch{Week: week, Subscribers: subs, Compose: compose,
		BounceLimit: d.BounceLimit, Progress: req.Progress, Workers: max(d.Workers, 1)}, d.log())
	rep.DeliveryReport = drep
	if err != nil {
		return rep, err
	}
	if req.DryRun == "" && drep.Sent+drep.AlreadySent > 0 {
		if err := d.Store.MarkDigestSent(context.WithoutCancel(ctx), week); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (d *Digests) archive(r *digest.Renderer, dg *digest.Digest) (evidence.ArchivedDigest, error) {
	a := evidence.ArchivedDigest{Week: dg.Week.String(), Title: dg.Title, Dates: dg.Dates, Items: dg.Counts.Items}
	for _, f := range []struct {
		format digest.Format
		dst    *string
	}{{digest.HTML, &a.HTML}, {digest.Text, &a.Text}, {digest.Markdown, &a.Markdown}, {digest.JSON, &a.JSON}} {
		var buf bytes.Buffer
		if err := r.Render(&buf, dg, f.format); err != nil {
			return a, err
		}
		*f.dst = buf.String()
	}
	return a, nil
}

// subject reads like a bulletin's: the title, the week, how much is new.
func subject(dg *digest.Digest) string {
	n := dg.Counts.Items
	what := fmt.Sprintf("%d new items", n)
	if n == 1 {
		what = "1 new item"
	}
	if n == 0 {
		what = "nothing new"
	}
	return fmt.Sprintf("%s, %s: %s", dg.Title, dg.Dates, what)
}

// Archive returns the sent digests, newest first.
func (d *Digests) Archive(ctx context.Context) ([]evidence.ArchivedDigest, error) {
	return d.Store.ArchivedDigests(ctx)
}

// Archived returns one sent week's digest.
func (d *Digests) Archived(ctx context.Context, week string) (evidence.ArchivedDigest, error) {
	a, err := d.Store.ArchivedDigest(ctx, week)
	if err == nil && a.Sent == nil {
		return a, fmt.Errorf("digest %s has not been sent: %w", week, evidence.ErrNotFound)
	}
	return a, err
}

// memoItems remembers the builder's reads for the length of one send, so
// 10,000 personalised builds read the week's items once.
type memoItems struct {
	inner digest.Store
	mu    sync.Mutex
	week  map[[2]time.Time][]evidence.Item
	byIDs map[string][]evidence.Item
}

func newMemoItems(inner digest.Store) *memoItems {
	return &memoItems{inner: inner, week: map[[2]time.Time][]evidence.Item{}, byIDs: map[string][]evidence.Item{}}
}

func (m *memoItems) ItemsFirstSeen(ctx context.Context, from, to time.Time) ([]evidence.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]time.Time{from, to}
	if v, ok := m.week[k]; ok {
		return cloneItems(v), nil
	}
	v, err := m.inner.ItemsFirstSeen(ctx, from, to)
	if err != nil {
		return nil, err
	}
	m.week[k] = v
	return cloneItems(v), nil
}

func (m *memoItems) ItemsByIDs(ctx context.Context, ids []string) ([]evidence.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := strings.Join(ids, "\x00")
	if v, ok := m.byIDs[k]; ok {
		return cloneItems(v), nil
	}
	v, err := m.inner.ItemsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	m.byIDs[k] = v
	return cloneItems(v), nil
}

// cloneItems copies the slice so a caller's reordering does not reach the
// memo (the builder does not change items' fields).
func cloneItems(v []evidence.Item) []evidence.Item { return slices.Clone(v) }

func choiceKey(topics, sources []string) string {
	t, src := slices.Clone(topics), slices.Clone(sources)
	slices.Sort(t)
	slices.Sort(src)
	return strings.Join(t, "\x00") + "\x01" + strings.Join(src, "\x00")
}

// Stand-in links of a digest rendered once for many subscribers: URL-safe
// text that every format prints as it is, replaced per subscriber.
const (
	standInPrefs = "https://stand-in.invalid/preferences-b7c1e2"
	standInUnsub = "https://stand-in.invalid/unsubscribe-b7c1e2"
)

type renderedDigest struct {
	ok                         bool
	subject, title, text, html string
}
