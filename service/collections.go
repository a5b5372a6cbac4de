package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
	"github.com/evidencetracker/evidence/ingest/urlnorm"
	"github.com/evidencetracker/evidence/store"
)

// ErrForbidden means the principal may not do this (a reader creating a
// collection, nobody signed in editing one). The web answers it with 403.
// A private collection a viewer may not see is evidence.ErrNotFound
// instead, so that nobody learns it exists.
var ErrForbidden = errors.New("forbidden")

// Limits on what a collection holds (in characters).
const (
	MaxCollectionName = 200   // a collection's or a section's name
	MaxDescription    = 20000 // a collection's description or a section's intro (Markdown)
	MaxNote           = 2000  // an entry's note (Markdown)
	MaxSlug           = 80
	// MaxRefs is how many items one add may name.
	MaxRefs = 100
	// maxRefBytes bounds one reference (an ID, URL or DOI).
	maxRefBytes = 4000
)

// DefaultSection is the section an entry added without one goes to when
// the collection has no section yet.
const DefaultSection = "Resources"

// The edits a collection takes (evidence.CollectionEdit.Action).
const (
	ActionRename        = "rename"
	ActionDescribe      = "describe"
	ActionVisibility    = "visibility"
	ActionAddSection    = "add-section"
	ActionRenameSection = "rename-section"
	ActionMoveSection   = "move-section"
	ActionRemoveSection = "remove-section"
	ActionAdd           = "add"
	ActionMove          = "move"
	ActionNote          = "note"
	ActionRemove        = "remove"
)

var editActions = []string{ActionRename, ActionDescribe, ActionVisibility, ActionAddSection, ActionRenameSection,
	ActionMoveSection, ActionRemoveSection, ActionAdd, ActionMove, ActionNote, ActionRemove}

// ItemAdder stores the item at a URL the store does not know yet (fetched
// politely, its metadata extracted, saved as a manual item and indexed).
// by is who asked (the curator's address, for the item's provenance).
type ItemAdder interface {
	AddURL(ctx context.Context, rawURL, by string) (evidence.Item, error)
}

// CollectionStore is what collections need of the store.
type CollectionStore interface {
	Collections(ctx context.Context) ([]evidence.Collection, error)
	Collection(ctx context.Context, slug string) (evidence.Collection, error)
	CreateCollection(ctx context.Context, c evidence.Collection) (evidence.Collection, error)
	EditCollection(ctx context.Context, slug string, wantVersion int, by string, edit store.CollectionEditFunc) (evidence.Collection, error)
	DeleteCollection(ctx context.Context, slug string, wantVersion int, by string) error
	CollectionHistory(ctx context.Context, slug string) ([]evidence.CollectionChange, error)
	Item(ctx context.Context, id string) (evidence.Item, error)
	ItemByURL(ctx context.Context, url string) (evidence.Item, error)
	ItemByDOI(ctx context.Context, doi string) (evidence.Item, error)
}

// Collections are the librarians' curated lists: the web's pages and API
// and the CLI's `evidence collections` call the same methods.
//
// Who may do what: anyone may read a public collection; curators (and
// admins) read private ones, see the history and make every change; any
// curator may change or delete any collection (they curate together).
// Changing without the curator role is ErrForbidden. For viewers who are
// not curators, the curators' addresses (Owner, UpdatedBy, AddedBy) are
// left out.
//
// Descriptions, intros and notes are Markdown, stored as given; the pages
// render them safely (digest.Markdown).
type Collections struct {
	Store CollectionStore
	// URLs adds an item for a URL the store does not know; nil refuses
	// unknown URLs (evidence.ErrNotFound).
	URLs ItemAdder
	// Names gives a source's display name for exports ("The King's
	// Fund"); nil writes the source ID.
	Names  func(sourceID string) string
	Logger *slog.Logger
}

func (s *Collections) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// List returns the collections the viewer may see (private ones only for
// curators), by name, with their sections and entries (and the entries'
// items) so a list can show counts.
func (s *Collections) List(ctx context.Context, viewer evidence.Principal) ([]evidence.Collection, error) {
	all, err := s.Store.Collections(ctx)
	if err != nil {
		return nil, err
	}
	out := []evidence.Collection{}
	for _, c := range all {
		if mayRead(c, viewer) {
			out = append(out, forViewer(c, viewer))
		}
	}
	return out, nil
}

// Get returns one collection with its sections and entries in order. A
// private collection the viewer may not see is evidence.ErrNotFound, the
// same error as one that does not exist.
func (s *Collections) Get(ctx context.Context, slug string, viewer evidence.Principal) (evidence.Collection, error) {
	c, err := s.get(ctx, slug)
	if err != nil {
		return evidence.Collection{}, err
	}
	if !mayRead(c, viewer) {
		return evidence.Collection{}, notFound(slug)
	}
	return forViewer(c, viewer), nil
}

func (s *Collections) get(ctx context.Context, slug string) (evidence.Collection, error) {
	c, err := s.Store.Collection(ctx, strings.TrimSpace(slug))
	if errors.Is(err, evidence.ErrNotFound) {
		return evidence.Collection{}, notFound(slug)
	}
	return c, err
}

func notFound(slug string) error {
	return fmt.Errorf("no collection %q: %w", strings.TrimSpace(slug), evidence.ErrNotFound)
}

// History lists a collection's changes, newest first. It names curators,
// so it is for curators: another viewer gets ErrForbidden for a public
// collection and evidence.ErrNotFound for a private one.
func (s *Collections) History(ctx context.Context, slug string, viewer evidence.Principal) ([]evidence.CollectionChange, error) {
	c, err := s.Get(ctx, slug, viewer)
	if err != nil {
		return nil, err
	}
	if !viewer.Can(evidence.RoleCurator) {
		return nil, fmt.Errorf("the history of collection %s is for curators: %w", c.Slug, ErrForbidden)
	}
	h, err := s.Store.CollectionHistory(ctx, c.Slug)
	if errors.Is(err, evidence.ErrNotFound) {
		return nil, notFound(slug)
	}
	if h == nil {
		h = []evidence.CollectionChange{}
	}
	return h, err
}

// Create stores a new collection owned by the principal (a curator). The
// name is required (one line, at most MaxCollectionName characters); the
// slug, when empty, is made from the name (see Slugify), and one already
// used is evidence.ErrConflict naming the collection that has it;
// visibility defaults to private; the description is Markdown of at most
// MaxDescription characters. Sections may be given (names and intros);
// entries are added with Edit. Bad input wraps evidence.ErrInvalid naming
// the field.
func (s *Collections) Create(ctx context.Context, by evidence.Principal, c evidence.Collection) (evidence.Collection, error) {
	if err := mustCurate(by, "create a collection"); err != nil {
		return evidence.Collection{}, err
	}
	name, err := checkName("name", c.Name)
	if err != nil {
		return evidence.Collection{}, err
	}
	slug := strings.TrimSpace(c.Slug)
	if slug == "" {
		if slug = Slugify(name); slug == "" {
			return evidence.Collection{}, fmt.Errorf("slug: the name %q has no letters or digits to make one from: give a slug: %w", name, evidence.ErrInvalid)
		}
	} else if err := CheckSlug(slug); err != nil {
		return evidence.Collection{}, err
	}
	vis := strings.TrimSpace(c.Visibility)
	if vis == "" {
		vis = evidence.VisibilityPrivate
	}
	if err := checkVisibility(vis); err != nil {
		return evidence.Collection{}, err
	}
	if err := checkText("description", c.Description, MaxDescription); err != nil {
		return evidence.Collection{}, err
	}
	nc := evidence.Collection{Slug: slug, Name: name, Description: c.Description, Visibility: vis, Owner: who(by), UpdatedBy: who(by)}
	seen := map[string]bool{}
	for i, sec := range c.Sections {
		field := "sections[" + strconv.Itoa(i+1) + "]"
		n, err := checkName(field+".name", sec.Name)
		if err != nil {
			return evidence.Collection{}, err
		}
		if seen[strings.ToLower(n)] {
			return evidence.Collection{}, fmt.Errorf("%s: section “%s” is given twice: %w", field, n, evidence.ErrInvalid)
		}
		seen[strings.ToLower(n)] = true
		if err := checkText(field+".intro", sec.Intro, MaxDescription); err != nil {
			return evidence.Collection{}, err
		}
		if len(sec.Entries) > 0 {
			return evidence.Collection{}, fmt.Errorf("%s: entries are added to a collection with an add edit, not when it is created: %w", field, evidence.ErrInvalid)
		}
		nc.Sections = append(nc.Sections, evidence.Section{Name: n, Intro: sec.Intro})
	}
	if other, err := s.Store.Collection(ctx, slug); err == nil {
		return evidence.Collection{}, fmt.Errorf("slug %s is taken by collection “%s”: %w", slug, other.Name, evidence.ErrConflict)
	}
	out, err := s.Store.CreateCollection(ctx, nc)
	if err != nil {
		return evidence.Collection{}, err
	}
	s.log().Info("collection created", "slug", out.Slug, "by", who(by))
	return out, nil
}

// Edit makes one change to a collection, against the version the editor
// saw (version <= 0: whatever is stored now, for one-shot commands). A
// stale version is an *evidence.StaleError (wrapping
// evidence.ErrConflict) carrying the current state; nothing is changed.
//
// Actions (evidence.CollectionEdit.Action):
//
//   - rename: Name. describe: Description (with Section set, that
//     section's intro). visibility: Visibility, public or private.
//   - add-section: Name, Description as its intro, at Position (1-based;
//     default the end). rename-section: Section, Name. move-section:
//     Section to Position, or Delta ±1. remove-section: Section, which must
//     be empty (else evidence.ErrConflict saying how many entries it has).
//   - add: Refs (item IDs, URLs, old aliases, DOIs — "10.…" or a doi.org
//     link) to Section (its ID, or its name: a section named for the first
//     time is made at the end), each in order at the end of the section
//     (or from Position on), with Note. Without a section entries go to
//     the first section (DefaultSection when there is none). A URL the
//     store does not know is added through URLs (when nil, it is
//     evidence.ErrNotFound). An item already in the collection is not
//     added again: the history's detail says where it is; when every item
//     named is already there the edit is evidence.ErrConflict naming
//     where.
//   - move: Item (its ID, URL or DOI) to Position (1-based, clamped to
//     the end) or by Delta ±1 (past the top or bottom of its section it
//     goes to the end of the previous or the start of the next section),
//     into ToSection when given (by ID or name; made when new).
//   - note: Item, Note (empty clears it). remove: Item.
//
// A change that changes nothing (the same name, a move to where it is)
// returns the collection as it is, with no new version. Bad input wraps
// evidence.ErrInvalid naming the field; something not in the collection
// is evidence.ErrNotFound.
func (s *Collections) Edit(ctx context.Context, slug string, version int, by evidence.Principal, e evidence.CollectionEdit) (evidence.Collection, error) {
	if err := mustCurate(by, "change a collection"); err != nil {
		return evidence.Collection{}, err
	}
	e.Action = strings.TrimSpace(e.Action)
	if err := checkEdit(&e); err != nil {
		return evidence.Collection{}, err
	}
	if _, err := s.get(ctx, slug); err != nil {
		return evidence.Collection{}, err
	}
	// Items are found (and unknown URLs fetched) before the transaction.
	var items []evidence.Item
	var target string // the item acted on (move, note, remove)
	switch e.Action {
	case ActionAdd:
		for _, ref := range e.Refs {
			it, err := s.resolve(ctx, ref, who(by), true)
			if err != nil {
				return evidence.Collection{}, err
			}
			items = append(items, it)
		}
	case ActionMove, ActionNote, ActionRemove:
		target = strings.TrimSpace(e.Item)
		if it, err := s.resolve(ctx, target, who(by), false); err == nil {
			target = it.ID
		}
	}
	var editErr error
	c, err := s.Store.EditCollection(ctx, strings.TrimSpace(slug), version, who(by), func(c *evidence.Collection) (string, string, error) {
		action, detail, err := applyEdit(c, e, items, target, e.Item)
		editErr = err
		return action, detail, err
	})
	if editErr != nil {
		return evidence.Collection{}, editErr
	}
	if errors.Is(err, evidence.ErrNotFound) {
		return evidence.Collection{}, notFound(slug) // deleted meanwhile
	}
	if err != nil {
		return evidence.Collection{}, err
	}
	return c, nil
}

// Delete deletes a collection with its sections, entries and history (the
// items stay), against the version the curator saw (<= 0: any).
func (s *Collections) Delete(ctx context.Context, slug string, version int, by evidence.Principal) error {
	if err := mustCurate(by, "delete a collection"); err != nil {
		return err
	}
	err := s.Store.DeleteCollection(ctx, strings.TrimSpace(slug), version, who(by))
	if errors.Is(err, evidence.ErrNotFound) {
		return notFound(slug)
	}
	if err != nil {
		return err
	}
	s.log().Info("collection deleted", "slug", slug, "by", who(by))
	return nil
}

// Export writes the collection the viewer may see in a format export.Format
// knows (ris, bibtex, csl-json, csv), each entry with its section's name,
// its note and its publisher's name. An entry whose item is gone from the
// store is left out (and logged).
func (s *Collections) Export(ctx context.Context, slug string, viewer evidence.Principal, format string, w io.Writer) error {
	_, _, write, ok := export.Format(format)
	if !ok {
		return fmt.Errorf("format %q: want %s: %w", format, strings.Join(export.Formats(), ", "), evidence.ErrInvalid)
	}
	c, err := s.Get(ctx, slug, viewer)
	if err != nil {
		return err
	}
	return write(w, s.ExportEntries(c))
}

// ExportEntries are a collection's entries as the export writers take
// them, in order, without those whose item is gone.
func (s *Collections) ExportEntries(c evidence.Collection) []export.Entry {
	entries := []export.Entry{}
	for _, sec := range c.Sections {
		for _, e := range sec.Entries {
			if e.Item == nil {
				s.log().Warn("collection export: an entry's item is no longer stored; left out", "collection", c.Slug, "item", e.ItemID)
				continue
			}
			pub := e.Item.Source
			if s.Names != nil {
				if n := s.Names(e.Item.Source); n != "" {
					pub = n
				}
			}
			entries = append(entries, export.Entry{Item: *e.Item, Publisher: pub, Section: sec.Name, Note: e.Note})
		}
	}
	return entries
}

// resolve finds the item a reference names: an item ID, a URL (its
// canonical URL, an old alias, the URL as ingest would normalise it, or
// a DOI in it) or a DOI. An unknown URL (or DOI, as its doi.org link) is
// added through s.URLs when fetch is set.
func (s *Collections) resolve(ctx context.Context, ref, by string, fetch bool) (evidence.Item, error) {
	ref = strings.TrimSpace(ref)
	if doi := store.BareDOI(ref); doi != "" {
		it, err := s.Store.ItemByDOI(ctx, doi)
		if !errors.Is(err, evidence.ErrNotFound) {
			return it, err
		}
		return s.addURL(ctx, "https://doi.org/"+doi, ref, by, fetch)
	}
	if !strings.Contains(ref, "://") {
		it, err := s.Store.Item(ctx, ref)
		if !errors.Is(err, evidence.ErrNotFound) {
			return it, err
		}
		if !strings.Contains(ref, ".") || !strings.Contains(ref, "/") || strings.ContainsAny(ref, " \t") {
			return evidence.Item{}, fmt.Errorf("no item %q (give an item ID, a URL or a DOI): %w", ref, evidence.ErrNotFound)
		}
		ref = "https://" + ref // www.kingsfund.org.uk/…
	}
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return evidence.Item{}, fmt.Errorf("refs: %q is not an http or https URL: %w", ref, evidence.ErrInvalid)
	}
	it, err := s.Store.ItemByURL(ctx, ref)
	if !errors.Is(err, evidence.ErrNotFound) {
		return it, err
	}
	if norm, nerr := urlnorm.Normalize(ref, nil, urlnorm.Rules{}); nerr == nil && norm != ref {
		it, err := s.Store.ItemByURL(ctx, norm)
		if !errors.Is(err, evidence.ErrNotFound) {
			return it, err
		}
	}
	if doi := urlnorm.DOI(ref); doi != "" {
		it, err := s.Store.ItemByDOI(ctx, doi)
		if !errors.Is(err, evidence.ErrNotFound) {
			return it, err
		}
	}
	return s.addURL(ctx, ref, ref, by, fetch)
}

func (s *Collections) addURL(ctx context.Context, u, ref, by string, fetch bool) (evidence.Item, error) {
	switch {
	case !fetch:
		return evidence.Item{}, fmt.Errorf("%s is not in the store: %w", ref, evidence.ErrNotFound)
	case s.URLs == nil:
		return evidence.Item{}, fmt.Errorf("%s is not in the store; adding new URLs needs web fetching: %w", ref, evidence.ErrNotFound)
	}
	it, err := s.URLs.AddURL(ctx, u, by)
	if err != nil {
		return evidence.Item{}, fmt.Errorf("add %s: %w", ref, err)
	}
	s.log().Info("collection: added a new item by URL", "url", u, "id", it.ID, "by", by)
	return it, nil
}

// applyEdit makes e's change to c. items are the resolved Refs (add);
// target is the resolved Item (move, note, remove) and raw as given.
func applyEdit(c *evidence.Collection, e evidence.CollectionEdit, items []evidence.Item, target, raw string) (action, detail string, err error) {
	switch e.Action {
	case ActionRename:
		name, _ := checkName("name", e.Name)
		if name == c.Name {
			return "", "", nil
		}
		detail = "renamed “" + c.Name + "” to “" + name + "”"
		c.Name = name
		return e.Action, detail, nil
	case ActionDescribe:
		if e.Section != "" {
			i, err := findSection(c, e.Section)
			if err != nil {
				return "", "", err
			}
			if c.Sections[i].Intro == e.Description {
				return "", "", nil
			}
			c.Sections[i].Intro = e.Description
			return e.Action, "changed the introduction to " + c.Sections[i].Name, nil
		}
		if c.Description == e.Description {
			return "", "", nil
		}
		c.Description = e.Description
		return e.Action, "changed the description", nil
	case ActionVisibility:
		vis := strings.TrimSpace(e.Visibility)
		if vis == c.Visibility {
			return "", "", nil
		}
		c.Visibility = vis
		return e.Action, "made it " + vis, nil
	case ActionAddSection:
		name, _ := checkName("name", e.Name)
		if i := sectionByName(c, name); i >= 0 {
			return "", "", fmt.Errorf("name: there is already a section “%s”: %w", c.Sections[i].Name, evidence.ErrConflict)
		}
		at := len(c.Sections)
		if e.Position > 0 {
			at = min(e.Position-1, len(c.Sections))
		}
		c.Sections = insertAt(c.Sections, at, evidence.Section{Name: name, Intro: e.Description, Entries: []evidence.Entry{}})
		return e.Action, "added section " + name, nil
	case ActionRenameSection:
		i, err := findSection(c, e.Section)
		if err != nil {
			return "", "", err
		}
		name, _ := checkName("name", e.Name)
		if name == c.Sections[i].Name {
			return "", "", nil
		}
		if j := sectionByName(c, name); j >= 0 && j != i {
			return "", "", fmt.Errorf("name: there is already a section “%s”: %w", c.Sections[j].Name, evidence.ErrConflict)
		}
		detail = "renamed section " + c.Sections[i].Name + " to " + name
		c.Sections[i].Name = name
		return e.Action, detail, nil
	case ActionMoveSection:
		i, err := findSection(c, e.Section)
		if err != nil {
			return "", "", err
		}
		to, err := newPlace(i, len(c.Sections), e.Position, e.Delta, "section "+c.Sections[i].Name)
		if err != nil {
			return "", "", err
		}
		if to == i {
			return "", "", nil
		}
		sec := c.Sections[i]
		c.Sections = insertAt(removeAt(c.Sections, i), to, sec)
		return e.Action, fmt.Sprintf("moved section %s to position %d", sec.Name, to+1), nil
	case ActionRemoveSection:
		i, err := findSection(c, e.Section)
		if err != nil {
			return "", "", err
		}
		if n := len(c.Sections[i].Entries); n > 0 {
			return "", "", fmt.Errorf("section %s has %s: move or remove them first: %w", c.Sections[i].Name, plural(n, "entry", "entries"), evidence.ErrConflict)
		}
		name := c.Sections[i].Name
		c.Sections = removeAt(c.Sections, i)
		return e.Action, "removed section " + name, nil
	case ActionAdd:
		return addEntries(c, e, items)
	case ActionMove:
		return moveEntry(c, e, target, raw)
	case ActionNote:
		si, ei, err := findEntry(c, target, raw)
		if err != nil {
			return "", "", err
		}
		en := &c.Sections[si].Entries[ei]
		if en.Note == e.Note {
			return "", "", nil
		}
		en.Note = e.Note
		if e.Note == "" {
			return e.Action, "removed the note on " + quoted(*en), nil
		}
		return e.Action, "changed the note on " + quoted(*en), nil
	case ActionRemove:
		si, ei, err := findEntry(c, target, raw)
		if err != nil {
			return "", "", err
		}
		en := c.Sections[si].Entries[ei]
		c.Sections[si].Entries = removeAt(c.Sections[si].Entries, ei)
		return e.Action, "removed " + quoted(en) + " from " + c.Sections[si].Name, nil
	}
	return "", "", fmt.Errorf("action %q: want one of %s: %w", e.Action, strings.Join(editActions, ", "), evidence.ErrInvalid)
}

func addEntries(c *evidence.Collection, e evidence.CollectionEdit, items []evidence.Item) (string, string, error) {
	where := map[string]string{}
	for _, sec := range c.Sections {
		for _, en := range sec.Entries {
			where[en.ItemID] = sec.Name
		}
	}
	var fresh []evidence.Entry
	var already []string
	for _, it := range items {
		if sec, ok := where[it.ID]; ok {
			if sec != "" { // "" marks one named twice in this add
				already = append(already, "“"+short(it.Title, it.ID)+"” is already in "+sec)
			}
			where[it.ID] = ""
			continue
		}
		where[it.ID] = ""
		it := it
		fresh = append(fresh, evidence.Entry{ItemID: it.ID, Note: e.Note, Item: &it})
	}
	if len(fresh) == 0 {
		return "", "", fmt.Errorf("%s: nothing to add: %w", strings.Join(already, "; "), evidence.ErrConflict)
	}
	si, made, err := sectionFor(c, e.Section)
	if err != nil {
		return "", "", err
	}
	sec := &c.Sections[si]
	at := len(sec.Entries)
	if e.Position > 0 {
		at = min(e.Position-1, at)
	}
	sec.Entries = append(sec.Entries[:at:at], append(fresh, sec.Entries[at:]...)...)
	var titles []string
	for _, en := range fresh {
		titles = append(titles, quoted(en))
	}
	detail := "added " + strings.Join(titles, ", ") + " to " + sec.Name
	if made {
		detail += " (a new section)"
	}
	if len(already) > 0 {
		detail += "; " + strings.Join(already, "; ")
	}
	return e.Action, detail, nil
}

func moveEntry(c *evidence.Collection, e evidence.CollectionEdit, target, raw string) (string, string, error) {
	si, ei, err := findEntry(c, target, raw)
	if err != nil {
		return "", "", err
	}
	en := c.Sections[si].Entries[ei]
	if e.ToSection != "" {
		ti, made, err := sectionFor(c, e.ToSection)
		if err != nil {
			return "", "", err
		}
		if ti == si && !made && e.Position == 0 && e.Delta == 0 {
			return "", "", nil // already there
		}
		if ti != si || made {
			c.Sections[si].Entries = removeAt(c.Sections[si].Entries, ei)
			dst := &c.Sections[ti]
			at := len(dst.Entries)
			if e.Position > 0 {
				at = min(e.Position-1, at)
			}
			dst.Entries = insertAt(dst.Entries, at, en)
			return e.Action, fmt.Sprintf("moved %s to %s (position %d)", quoted(en), dst.Name, at+1), nil
		}
	}
	sec := &c.Sections[si]
	if e.Delta != 0 && e.Position == 0 {
		switch {
		case e.Delta < 0 && ei == 0:
			if si == 0 {
				return "", "", fmt.Errorf("delta: %s is already first: %w", quoted(en), evidence.ErrInvalid)
			}
			sec.Entries = removeAt(sec.Entries, ei)
			prev := &c.Sections[si-1]
			prev.Entries = append(prev.Entries, en)
			return e.Action, "moved " + quoted(en) + " up to the end of " + prev.Name, nil
		case e.Delta > 0 && ei == len(sec.Entries)-1:
			if si == len(c.Sections)-1 {
				return "", "", fmt.Errorf("delta: %s is already last: %w", quoted(en), evidence.ErrInvalid)
			}
			sec.Entries = removeAt(sec.Entries, ei)
			next := &c.Sections[si+1]
			next.Entries = insertAt(next.Entries, 0, en)
			return e.Action, "moved " + quoted(en) + " down to the start of " + next.Name, nil
		}
	}
	to, err := newPlace(ei, len(sec.Entries), e.Position, e.Delta, quoted(en))
	if err != nil {
		return "", "", err
	}
	if to == ei {
		return "", "", nil
	}
	sec.Entries = insertAt(removeAt(sec.Entries, ei), to, en)
	switch {
	case e.Position == 0 && e.Delta < 0:
		return e.Action, "moved " + quoted(en) + " up in " + sec.Name, nil
	case e.Position == 0:
		return e.Action, "moved " + quoted(en) + " down in " + sec.Name, nil
	}
	return e.Action, fmt.Sprintf("moved %s to position %d in %s", quoted(en), to+1, sec.Name), nil
}

// newPlace is where a thing at index i of n goes: to a 1-based position
// (clamped to the end) or one up or down.
func newPlace(i, n, position, delta int, what string) (int, error) {
	switch {
	case position > 0:
		return min(position, n) - 1, nil
	case delta < 0:
		if i == 0 {
			return 0, fmt.Errorf("delta: %s is already first: %w", what, evidence.ErrInvalid)
		}
		return i - 1, nil
	case delta > 0:
		if i == n-1 {
			return 0, fmt.Errorf("delta: %s is already last: %w", what, evidence.ErrInvalid)
		}
		return i + 1, nil
	}
	return 0, fmt.Errorf("position: give a position (1, 2, …) or a delta of -1 or 1: %w", evidence.ErrInvalid)
}

// sectionIDPattern is how the store names sections.
var sectionIDPattern = regexp.MustCompile(`^s[0-9a-f]{16}$`)

// findSection finds a section by ID, else by name (any case).
func findSection(c *evidence.Collection, ref string) (int, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return 0, fmt.Errorf("section: say which section: %w", evidence.ErrInvalid)
	}
	for i, sec := range c.Sections {
		if sec.ID == ref {
			return i, nil
		}
	}
	if i := sectionByName(c, ref); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("section %q is not in collection %s: %w", ref, c.Slug, evidence.ErrNotFound)
}

func sectionByName(c *evidence.Collection, name string) int {
	for i, sec := range c.Sections {
		if strings.EqualFold(strings.TrimSpace(sec.Name), strings.TrimSpace(name)) {
			return i
		}
	}
	return -1
}

// sectionFor finds the section entries go to: ref by ID or name, made at
// the end when it is a new name; with no ref the first section (made as
// DefaultSection when there is none). made reports a new section.
func sectionFor(c *evidence.Collection, ref string) (i int, made bool, err error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		if len(c.Sections) > 0 {
			return 0, false, nil
		}
		ref = DefaultSection
	}
	i, err = findSection(c, ref)
	if err == nil {
		return i, false, nil
	}
	if sectionIDPattern.MatchString(ref) {
		return 0, false, fmt.Errorf("section %s is no longer in collection %s: %w", ref, c.Slug, evidence.ErrNotFound)
	}
	name, err := checkName("section", ref)
	if err != nil {
		return 0, false, err
	}
	c.Sections = append(c.Sections, evidence.Section{Name: name, Entries: []evidence.Entry{}})
	return len(c.Sections) - 1, true, nil
}

// findEntry finds the entry for an item: by its resolved ID, else as
// given (an item no longer stored is named by its ID).
func findEntry(c *evidence.Collection, id, raw string) (int, int, error) {
	for si, sec := range c.Sections {
		for ei, en := range sec.Entries {
			if en.ItemID == id || en.ItemID == strings.TrimSpace(raw) {
				return si, ei, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("item %q is not in collection %s: %w", strings.TrimSpace(raw), c.Slug, evidence.ErrNotFound)
}

// checkEdit checks an edit's fields before anything is looked up.
func checkEdit(e *evidence.CollectionEdit) error {
	if !slices.Contains(editActions, e.Action) {
		return fmt.Errorf("action %q: want one of %s: %w", e.Action, strings.Join(editActions, ", "), evidence.ErrInvalid)
	}
	switch e.Action {
	case ActionRename, ActionAddSection, ActionRenameSection:
		if _, err := checkName("name", e.Name); err != nil {
			return err
		}
	case ActionVisibility:
		if err := checkVisibility(strings.TrimSpace(e.Visibility)); err != nil {
			return err
		}
	case ActionAdd:
		if len(e.Refs) == 0 {
			return fmt.Errorf("refs: name at least one item (an ID, URL or DOI): %w", evidence.ErrInvalid)
		}
		if len(e.Refs) > MaxRefs {
			return fmt.Errorf("refs: %d items at once; at most %d: %w", len(e.Refs), MaxRefs, evidence.ErrInvalid)
		}
		for i, r := range e.Refs {
			r = strings.TrimSpace(r)
			switch {
			case r == "":
				return fmt.Errorf("refs[%d]: empty: %w", i+1, evidence.ErrInvalid)
			case len(r) > maxRefBytes || !utf8.ValidString(r) || strings.ContainsFunc(r, unicode.IsControl):
				return fmt.Errorf("refs[%d]: not an item ID, URL or DOI: %w", i+1, evidence.ErrInvalid)
			}
		}
	case ActionMove, ActionNote, ActionRemove:
		if strings.TrimSpace(e.Item) == "" {
			return fmt.Errorf("item: say which entry (its item's ID or URL): %w", evidence.ErrInvalid)
		}
	}
	if e.Action == ActionMove || e.Action == ActionMoveSection {
		if e.Position < 0 {
			return fmt.Errorf("position %d: positions start at 1: %w", e.Position, evidence.ErrInvalid)
		}
		if e.Delta < -1 || e.Delta > 1 {
			return fmt.Errorf("delta %d: want -1 (up) or 1 (down): %w", e.Delta, evidence.ErrInvalid)
		}
		if e.Position > 0 && e.Delta != 0 {
			return fmt.Errorf("position: give a position or a delta, not both: %w", evidence.ErrInvalid)
		}
		if e.Action == ActionMoveSection && e.Position == 0 && e.Delta == 0 {
			return fmt.Errorf("position: give a position (1, 2, …) or a delta of -1 or 1: %w", evidence.ErrInvalid)
		}
		if e.Action == ActionMove && e.Position == 0 && e.Delta == 0 && strings.TrimSpace(e.ToSection) == "" {
			return fmt.Errorf("position: give a position (1, 2, …), a delta of -1 or 1, or a section to move to: %w", evidence.ErrInvalid)
		}
	}
	if e.Position < 0 {
		return fmt.Errorf("position %d: positions start at 1: %w", e.Position, evidence.ErrInvalid)
	}
	if err := checkText("description", e.Description, MaxDescription); err != nil {
		return err
	}
	if err := checkText("note", e.Note, MaxNote); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"section", e.Section}, {"to_section", e.ToSection}} {
		if utf8.RuneCountInString(f.v) > MaxCollectionName || strings.ContainsFunc(f.v, unicode.IsControl) {
			return fmt.Errorf("%s: not a section's ID or name: %w", f.name, evidence.ErrInvalid)
		}
	}
	return nil
}

// checkName checks a one-line name: not empty, no control characters, at
// most MaxCollectionName characters. It returns it trimmed.
func checkName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%s: empty: %w", field, evidence.ErrInvalid)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%s: not valid UTF-8: %w", field, evidence.ErrInvalid)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }):
		return "", fmt.Errorf("%s: one line, without control characters: %w", field, evidence.ErrInvalid)
	case utf8.RuneCountInString(s) > MaxCollectionName:
		return "", fmt.Errorf("%s: %d characters; at most %d: %w", field, utf8.RuneCountInString(s), MaxCollectionName, evidence.ErrInvalid)
	}
	return s, nil
}

// checkText checks Markdown text: valid UTF-8, no NUL, at most max
// characters.
func checkText(field, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%s: not valid UTF-8: %w", field, evidence.ErrInvalid)
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("%s: contains a NUL character: %w", field, evidence.ErrInvalid)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("%s: %d characters; at most %d: %w", field, utf8.RuneCountInString(s), max, evidence.ErrInvalid)
	}
	return nil
}

func checkVisibility(v string) error {
	if v != evidence.VisibilityPublic && v != evidence.VisibilityPrivate {
		return fmt.Errorf("visibility %q: want public or private: %w", v, evidence.ErrInvalid)
	}
	return nil
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// reservedSlugs would clash with the web's collection pages.
var reservedSlugs = map[string]bool{"new": true}

// CheckSlug checks a slug as given: lower-case ASCII letters and digits
// in words joined by single hyphens, at most MaxSlug characters.
func CheckSlug(slug string) error {
	switch {
	case len(slug) > MaxSlug:
		return fmt.Errorf("slug: %d characters; at most %d: %w", len(slug), MaxSlug, evidence.ErrInvalid)
	case !slugPattern.MatchString(slug):
		suggest := ""
		if s := Slugify(slug); s != "" {
			suggest = fmt.Sprintf(" (for example %q)", s)
		}
		return fmt.Errorf("slug %q: use lower-case letters, digits and single hyphens%s: %w", slug, suggest, evidence.ErrInvalid)
	case reservedSlugs[slug]:
		return fmt.Errorf("slug %q is reserved for the web's pages: %w", slug, evidence.ErrInvalid)
	}
	return nil
}

// Slugify makes a slug from a name: lower-case ASCII letters and digits,
// words joined by hyphens ("The King's Fund & me" is "the-kings-fund-and-me"),
// accents dropped from Latin letters, other characters left out, cut at a
// word to at most MaxSlug characters. It is "" when the name has no
// letters or digits it can use.
func Slugify(name string) string {
	var b strings.Builder
	gap := false
	word := func(s string) {
		if gap && b.Len() > 0 {
			b.WriteByte('-')
		}
		gap = false
		b.WriteString(s)
	}
	for _, r := range strings.ToLower(name) {
		switch {
		case r == '\'' || r == '’' || r == '‘' || r == 'ʼ':
			continue // King's: kings
		case r == '&':
			gap = true
			word("and")
			gap = true
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			word(string(r))
		default:
			if f, ok := latinFold[r]; ok {
				word(f)
			} else {
				gap = true
			}
		}
	}
	s := b.String()
	if reservedSlugs[s] {
		s += "-collection"
	}
	for len(s) > MaxSlug {
		i := strings.LastIndexByte(s[:MaxSlug+1], '-')
		if i <= 0 {
			s = s[:MaxSlug]
			break
		}
		s = s[:i]
	}
	return strings.Trim(s, "-")
}

// latinFold spells accented Latin letters (lower case) in ASCII.
var latinFold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th", 'ł': "l", 'ı': "i"}
	for base, letters := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "d": "ď", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
		"i": "ìíîïĩīĭįǐ", "j": "ĵ", "k": "ķ", "l": "ĺļľŀ", "n": "ñńņňŉ", "o": "òóôõöōŏőǒ",
		"r": "ŕŗř", "s": "śŝşšș", "t": "ţťŧț", "u": "ùúûüũūŭůűųǔ", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()

// mustCurate refuses a principal without the curator role.
func mustCurate(p evidence.Principal, what string) error {
	if p.Can(evidence.RoleCurator) {
		return nil
	}
	if p.Anonymous() {
		return fmt.Errorf("to %s, sign in as a curator: %w", what, ErrForbidden)
	}
	return fmt.Errorf("to %s needs the curator role (%s is a %s): %w", what, who(p), p.User.Role, ErrForbidden)
}

// who names a principal in the history and as an owner.
func who(p evidence.Principal) string {
	if p.User.Email != "" {
		return p.User.Email
	}
	return p.User.ID
}

func mayRead(c evidence.Collection, viewer evidence.Principal) bool {
	return c.Visibility == evidence.VisibilityPublic || viewer.Can(evidence.RoleCurator)
}

// forViewer leaves the curators' addresses out for viewers who are not
// curators.
func forViewer(c evidence.Collection, viewer evidence.Principal) evidence.Collection {
	if viewer.Can(evidence.RoleCurator) {
		return c
	}
	c.Owner, c.UpdatedBy = "", ""
	secs := make([]evidence.Section, len(c.Sections))
	for i, sec := range c.Sections {
		es := make([]evidence.Entry, len(sec.Entries))
		for j, e := range sec.Entries {
			e.AddedBy = ""
			es[j] = e
		}
		sec.Entries = es
		secs[i] = sec
	}
	c.Sections = secs
	return c
}

// quoted names an entry in the history: its item's title in quotes, or
// its ID when the item is gone.
func quoted(e evidence.Entry) string {
	if e.Item == nil {
		return "item " + e.ItemID
	}
	return "“" + short(e.Item.Title, e.ItemID) + "”"
}

// short is a title on one line, cut to 80 characters ("" is the id).
func short(title, id string) string {
	t := strings.Join(strings.Fields(title), " ")
	if t == "" {
		return id
	}
	if r := []rune(t); len(r) > 80 {
		t = strings.TrimSpace(string(r[:79])) + "…"
	}
	return t
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func insertAt[T any](s []T, i int, v T) []T {
	s = append(s, v)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

func removeAt[T any](s []T, i int) []T {
	return append(s[:i:i], s[i+1:]...)
}
