package evidence

import (
	"strconv"
	"time"
)

// SourceManual is the source of an item a curator added by URL (not one of
// the configured publishers).
const SourceManual = "manual"

// Collection visibility.
const (
	VisibilityPublic  = "public"
	VisibilityPrivate = "private"
)

// Collection is a curated list of items in ordered sections, each entry
// with a curator's note: a librarian's resource list, kept in the store.
type Collection struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	// Description is Markdown, rendered safely (digest.Markdown) on pages.
	Description string `json:"description"`
	// Owner is the email of the user who created it.
	Owner string `json:"owner"`
	// Visibility is VisibilityPublic (a page and a feed anyone can read)
	// or VisibilityPrivate (curators only).
	Visibility string    `json:"visibility"`
	Sections   []Section `json:"sections"`
	// Version counts edits: an edit made against an older version is
	// refused with ErrConflict (optimistic versioning).
	Version   int       `json:"version"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	UpdatedBy string    `json:"updated_by"`
}

// Section is a named, ordered part of a collection ("Patient activation").
type Section struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Intro is Markdown shown under the section's heading.
	Intro   string  `json:"intro"`
	Entries []Entry `json:"entries"`
}

// Entry is one item in a section, with why it matters.
type Entry struct {
	ItemID  string    `json:"item_id"`
	Note    string    `json:"note"`
	Added   time.Time `json:"added"`
	AddedBy string    `json:"added_by"`
	// Item is the stored item, filled by readers (nil if it is gone).
	Item *Item `json:"item,omitempty"`
}

// Entries returns every entry of the collection, in order.
func (c Collection) Entries() []Entry {
	var out []Entry
	for _, s := range c.Sections {
		out = append(out, s.Entries...)
	}
	return out
}

// CollectionChange is one edit in a collection's history.
type CollectionChange struct {
	Version int       `json:"version"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	// Action names the edit: create, rename, describe, visibility,
	// add-section, rename-section, move-section, remove-section, add,
	// move, note, remove.
	Action string `json:"action"`
	// Detail says what changed, in words ("added “…” to Self-management").
	Detail string `json:"detail"`
}

// SavedSearch is a search a signed-in user keeps under a name.
type SavedSearch struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	// Query and the filters, as the search page's URL gives them.
	Query   string   `json:"query"`
	Sources []string `json:"sources"`
	Types   []string `json:"types"`
	Topics  []string `json:"topics"`
	Year    string   `json:"year,omitempty"`
	// FeedToken is the unguessable part of the search's feed URL (needed
	// when the instance is not public).
	FeedToken string     `json:"-"`
	Created   time.Time  `json:"created"`
	LastVisit *time.Time `json:"last_visit"`
	// NewSinceVisit counts matching items first seen since LastVisit
	// (filled by readers).
	NewSinceVisit int `json:"new_since_visit"`
}

// CollectionEdit is one change to a collection, made against the version
// the editor saw (Collection.Version).
type CollectionEdit struct {
	// Action is one of the CollectionChange actions but create.
	Action string `json:"action"`
	// Name (rename, add-section, rename-section), Description (describe;
	// the intro for a section), Visibility (visibility).
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Visibility  string `json:"visibility,omitempty"`
	// Section is the section acted on (its ID); ToSection is where an
	// entry moves to (move), empty for the same section.
	Section   string `json:"section,omitempty"`
	ToSection string `json:"to_section,omitempty"`
	// Position is the 1-based place to move to (move, move-section); 0
	// with Delta ±1 moves one up or down.
	Position int `json:"position,omitempty"`
	Delta    int `json:"delta,omitempty"`
	// Refs are what to add (add): item IDs, or URLs (a stored URL, an old
	// alias or a DOI adds the stored item; an unknown URL is fetched and
	// stored as a manual item). Item is the entry acted on (move, note,
	// remove).
	Refs []string `json:"refs,omitempty"`
	Item string   `json:"item,omitempty"`
	// Note is the curator's note (add, note).
	Note string `json:"note,omitempty"`
}

// StaleError is an edit made against an old version: it wraps ErrConflict
// and carries the collection as it is now, so the editor can see what
// changed and try again.
type StaleError struct {
	Current Collection
}

func (e *StaleError) Error() string {
	return "collection " + e.Current.Slug + " was changed by " + e.Current.UpdatedBy + " (now version " + strconv.Itoa(e.Current.Version) + "): " + ErrConflict.Error()
}

func (e *StaleError) Unwrap() error { return ErrConflict }
