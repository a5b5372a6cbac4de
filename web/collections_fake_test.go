package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
	"github.com/evidencetracker/evidence/web"
)

var _ web.Collections = (*fakeCollections)(nil)

// fakeCollections is web.Collections in memory, keeping the contract
// the service keeps: versions (a stale edit is an *evidence.StaleError
// with the current collection), visibility (a private collection is
// ErrNotFound to all but curators), roles (only curators change
// anything: an error saying "forbidden"), history and exports written by
// the real export package.
type fakeCollections struct {
	mu      sync.Mutex
	now     func() time.Time
	resolve func(ctx context.Context, ref string) (evidence.Item, error)
	source  func(id string) string
	colls   map[string]*evidence.Collection
	order   []string
	history map[string][]evidence.CollectionChange
	seq     int
	// beforeEdit, when set, runs (unlocked) before each Edit: a test
	// makes another curator's change slip in with it.
	beforeEdit func(slug string)
	edits      int
}

func newFakeCollections(now func() time.Time) *fakeCollections {
	return &fakeCollections{now: now, colls: map[string]*evidence.Collection{}, history: map[string][]evidence.CollectionChange{},
		source: func(id string) string { return id },
		resolve: func(_ context.Context, ref string) (evidence.Item, error) {
			return evidence.Item{}, fmt.Errorf("no item %q: %w", ref, evidence.ErrInvalid)
		}}
}

var fakeSlugRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func forbidden(op string) error {
	return errors.New("collections: " + op + ": forbidden: this needs a curator")
}

func cloneCollection(c *evidence.Collection) evidence.Collection {
	out := *c
	out.Sections = make([]evidence.Section, len(c.Sections))
	for i, s := range c.Sections {
		out.Sections[i] = s
		out.Sections[i].Entries = slices.Clone(s.Entries)
	}
	return out
}

func (f *fakeCollections) get(slug string, viewer evidence.Principal) (*evidence.Collection, error) {
	c, ok := f.colls[slug]
	if !ok || (c.Visibility != evidence.VisibilityPublic && !viewer.Can(evidence.RoleCurator)) {
		return nil, fmt.Errorf("collection %q: %w", slug, evidence.ErrNotFound)
	}
	return c, nil
}

func (f *fakeCollections) List(_ context.Context, viewer evidence.Principal) ([]evidence.Collection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []evidence.Collection{}
	for _, slug := range f.order {
		if c, err := f.get(slug, viewer); err == nil {
			out = append(out, cloneCollection(c))
		}
	}
	return out, nil
}

func (f *fakeCollections) Get(_ context.Context, slug string, viewer evidence.Principal) (evidence.Collection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(slug, viewer)
	if err != nil {
		return evidence.Collection{}, err
	}
	return cloneCollection(c), nil
}

func (f *fakeCollections) History(_ context.Context, slug string, viewer evidence.Principal) ([]evidence.CollectionChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.get(slug, viewer); err != nil {
		return nil, err
	}
	return slices.Clone(f.history[slug]), nil
}

func (f *fakeCollections) Create(_ context.Context, by evidence.Principal, c evidence.Collection) (evidence.Collection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !by.Can(evidence.RoleCurator) {
		return evidence.Collection{}, forbidden("create")
	}
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return evidence.Collection{}, fmt.Errorf("collections: a collection needs a name: %w", evidence.ErrInvalid)
	}
	if c.Slug == "" {
		c.Slug = strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(c.Name), "-"), "-")
	}
	if !fakeSlugRe.MatchString(c.Slug) {
		return evidence.Collection{}, fmt.Errorf("collections: slug %q: use lower-case letters, digits and hyphens: %w", c.Slug, evidence.ErrInvalid)
	}
	switch c.Visibility {
	case "":
		c.Visibility = evidence.VisibilityPrivate
	case evidence.VisibilityPublic, evidence.VisibilityPrivate:
	default:
		return evidence.Collection{}, fmt.Errorf("collections: visibility %q: want public or private: %w", c.Visibility, evidence.ErrInvalid)
	}
	if _, taken := f.colls[c.Slug]; taken {
		return evidence.Collection{}, fmt.Errorf("collections: the address /c/%s is taken by another collection; choose another slug: %w", c.Slug, evidence.ErrConflict)
	}
	f.seq++
	now := f.now()
	c.ID, c.Owner, c.Version, c.Created, c.Updated, c.UpdatedBy = "c"+strconv.Itoa(f.seq), by.User.Email, 1, now, now, by.User.Email
	c.Sections = nil
	f.colls[c.Slug] = &c
	f.order = append(f.order, c.Slug)
	f.history[c.Slug] = []evidence.CollectionChange{{Version: 1, At: now, By: by.User.Email, Action: "create", Detail: "made “" + c.Name + "”"}}
	return cloneCollection(&c), nil
}

func (f *fakeCollections) Edit(ctx context.Context, slug string, version int, by evidence.Principal, e evidence.CollectionEdit) (evidence.Collection, error) {
	if hook := f.beforeEdit; hook != nil {
		hook(slug)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.edits++
	if !by.Can(evidence.RoleCurator) {
		return evidence.Collection{}, forbidden("edit")
	}
	c, err := f.get(slug, by)
	if err != nil {
		return evidence.Collection{}, err
	}
	if version != c.Version {
		return evidence.Collection{}, &evidence.StaleError{Current: cloneCollection(c)}
	}
	next := cloneCollection(c)
	detail, err := f.apply(ctx, &next, by, e)
	if err != nil {
		return evidence.Collection{}, fmt.Errorf("collections: %s: %w", e.Action, err)
	}
	now := f.now()
	next.Version++
	next.Updated, next.UpdatedBy = now, by.User.Email
	*c = next
	f.history[slug] = append(f.history[slug], evidence.CollectionChange{Version: next.Version, At: now, By: by.User.Email, Action: e.Action, Detail: detail})
	return cloneCollection(c), nil
}

func section(c *evidence.Collection, id string) (int, error) {
	for i, s := range c.Sections {
		if s.ID == id {
			return i, nil
		}
	}
	return -1, fmt.Errorf("no section %q in this collection: %w", id, evidence.ErrInvalid)
}

// moveTo is where delta or position puts index i of n (1-based position).
func moveTo(i, n, delta, position int) (int, error) {
	to := i + delta
	if delta == 0 {
		to = position - 1
	}
	if to < 0 || to >= n {
		return 0, fmt.Errorf("position %d is outside 1 to %d: %w", to+1, n, evidence.ErrInvalid)
	}
	return to, nil
}

func move[T any](list []T, from, to int) []T {
	x := list[from]
	list = slices.Delete(list, from, from+1)
	return slices.Insert(list, to, x)
}

func (f *fakeCollections) apply(ctx context.Context, c *evidence.Collection, by evidence.Principal, e evidence.CollectionEdit) (string, error) {
	entry := func() (int, int, error) {
		si, err := section(c, e.Section)
		if err != nil {
			return 0, 0, err
		}
		for j, en := range c.Sections[si].Entries {
			if en.ItemID == e.Item {
				return si, j, nil
			}
		}
		return 0, 0, fmt.Errorf("no entry %q in section %q: %w", e.Item, c.Sections[si].Name, evidence.ErrInvalid)
	}
	title := func(en evidence.Entry) string {
		if en.Item != nil {
			return "“" + en.Item.Title + "”"
		}
		return en.ItemID
	}
	switch e.Action {
	case "rename":
		if strings.TrimSpace(e.Name) == "" {
			return "", fmt.Errorf("the name cannot be empty: %w", evidence.ErrInvalid)
		}
		old := c.Name
		c.Name = e.Name
		return "renamed “" + old + "” to “" + e.Name + "”", nil
	case "describe":
		if e.Section != "" {
			si, err := section(c, e.Section)
			if err != nil {
				return "", err
			}
			c.Sections[si].Intro = e.Description
			return "wrote the introduction to " + c.Sections[si].Name, nil
		}
		c.Description = e.Description
		return "wrote the description", nil
	case "visibility":
		if e.Visibility != evidence.VisibilityPublic && e.Visibility != evidence.VisibilityPrivate {
			return "", fmt.Errorf("visibility %q: want public or private: %w", e.Visibility, evidence.ErrInvalid)
		}
		c.Visibility = e.Visibility
		return "made it " + e.Visibility, nil
	case "add-section":
		if strings.TrimSpace(e.Name) == "" {
			return "", fmt.Errorf("a section needs a name: %w", evidence.ErrInvalid)
		}
		for _, s := range c.Sections {
			if strings.EqualFold(s.Name, e.Name) {
				return "", fmt.Errorf("there is a section %q already: %w", s.Name, evidence.ErrConflict)
			}
		}
		f.seq++
		c.Sections = append(c.Sections, evidence.Section{ID: "s" + strconv.Itoa(f.seq), Name: e.Name, Intro: e.Description})
		return "added the section " + e.Name, nil
	case "rename-section":
		si, err := section(c, e.Section)
		if err != nil {
			return "", err
		}
		old := c.Sections[si].Name
		c.Sections[si].Name = e.Name
		return "renamed the section " + old + " to " + e.Name, nil
	case "move-section":
		si, err := section(c, e.Section)
		if err != nil {
			return "", err
		}
		to, err := moveTo(si, len(c.Sections), e.Delta, e.Position)
		if err != nil {
			return "", err
		}
		c.Sections = move(c.Sections, si, to)
		return fmt.Sprintf("moved the section %s to position %d", c.Sections[to].Name, to+1), nil
	case "remove-section":
		si, err := section(c, e.Section)
		if err != nil {
			return "", err
		}
		if n := len(c.Sections[si].Entries); n > 0 {
			return "", fmt.Errorf("the section %s still has %d entries: move or remove them first: %w", c.Sections[si].Name, n, evidence.ErrInvalid)
		}
		name := c.Sections[si].Name
		c.Sections = slices.Delete(c.Sections, si, si+1)
		return "removed the section " + name, nil
	case "add":
		si, err := section(c, e.Section)
		if err != nil {
			return "", err
		}
		if len(e.Refs) == 0 {
			return "", fmt.Errorf("nothing to add: %w", evidence.ErrInvalid)
		}
		var added []string
		for _, ref := range e.Refs {
			it, err := f.resolve(ctx, ref)
			if err != nil {
				return "", err
			}
			for _, s := range c.Sections {
				for _, en := range s.Entries {
					if en.ItemID == it.ID {
						return "", fmt.Errorf("“%s” is in this collection already (in %s): %w", it.Title, s.Name, evidence.ErrConflict)
					}
				}
			}
			item := it
			c.Sections[si].Entries = append(c.Sections[si].Entries, evidence.Entry{ItemID: it.ID, Note: e.Note, Added: f.now(), AddedBy: by.User.Email, Item: &item})
			added = append(added, "“"+it.Title+"”")
		}
		return "added " + strings.Join(added, ", ") + " to " + c.Sections[si].Name, nil
	case "move":
		si, j, err := entry()
		if err != nil {
			return "", err
		}
		en := c.Sections[si].Entries[j]
		if e.ToSection != "" && e.ToSection != e.Section {
			ti, err := section(c, e.ToSection)
			if err != nil {
				return "", err
			}
			c.Sections[si].Entries = slices.Delete(c.Sections[si].Entries, j, j+1)
			pos := len(c.Sections[ti].Entries)
			if e.Position > 0 && e.Position-1 < pos {
				pos = e.Position - 1
			}
			c.Sections[ti].Entries = slices.Insert(c.Sections[ti].Entries, pos, en)
			return "moved " + title(en) + " to " + c.Sections[ti].Name, nil
		}
		to, err := moveTo(j, len(c.Sections[si].Entries), e.Delta, e.Position)
		if err != nil {
			return "", err
		}
		c.Sections[si].Entries = move(c.Sections[si].Entries, j, to)
		return fmt.Sprintf("moved %s to position %d in %s", title(en), to+1, c.Sections[si].Name), nil
	case "note":
		si, j, err := entry()
		if err != nil {
			return "", err
		}
		c.Sections[si].Entries[j].Note = e.Note
		return "wrote the note on " + title(c.Sections[si].Entries[j]), nil
	case "remove":
		si, j, err := entry()
		if err != nil {
			return "", err
		}
		en := c.Sections[si].Entries[j]
		c.Sections[si].Entries = slices.Delete(c.Sections[si].Entries, j, j+1)
		return "removed " + title(en) + " from " + c.Sections[si].Name, nil
	}
	return "", fmt.Errorf("%q is not an edit: %w", e.Action, evidence.ErrInvalid)
}

func (f *fakeCollections) Delete(_ context.Context, slug string, version int, by evidence.Principal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !by.Can(evidence.RoleCurator) {
		return forbidden("delete")
	}
	c, err := f.get(slug, by)
	if err != nil {
		return err
	}
	if version != c.Version {
		return &evidence.StaleError{Current: cloneCollection(c)}
	}
	delete(f.colls, slug)
	delete(f.history, slug)
	f.order = slices.DeleteFunc(f.order, func(s string) bool { return s == slug })
	return nil
}

func (f *fakeCollections) Export(_ context.Context, slug string, viewer evidence.Principal, format string, w io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(slug, viewer)
	if err != nil {
		return err
	}
	_, _, write, ok := export.Format(format)
	if !ok {
		return fmt.Errorf("format %q: %w", format, evidence.ErrInvalid)
	}
	var entries []export.Entry
	for _, s := range c.Sections {
		for _, e := range s.Entries {
			if e.Item != nil {
				entries = append(entries, export.Entry{Item: *e.Item, Publisher: f.source(e.Item.Source), Section: s.Name, Note: e.Note})
			}
		}
	}
	return write(w, entries)
}

// version is a collection's current version (for tests).
func (f *fakeCollections) version(slug string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.colls[slug]; ok {
		return c.Version
	}
	return -1
}

func (f *fakeCollections) current(slug string) evidence.Collection {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.colls[slug]; ok {
		return cloneCollection(c)
	}
	return evidence.Collection{}
}
