package evidence

import "time"

// SaveOptions tell a store's SaveItem how to save one incoming item: which
// other URLs it has and how a stored duplicate (the same work found by URL,
// alias, DOI, PDF or title and date) is treated. The whole decision runs in
// one write transaction, so two sources saving one work at once store it
// once.
type SaveOptions struct {
	// Aliases are the item's other URLs (redirect origins, rel=canonical,
	// the feed's link…). They are looked up like the URL and, after the
	// save, recorded as aliases of the item saved or merged into.
	Aliases []string
	// ReportLike says which item types the PDF rule joins: only an
	// incoming and a stored item both report-like are the same work by a
	// shared PDF. Nil turns the PDF rule off.
	ReportLike func(typ string) bool
	// Window bounds a title match's distance between published dates;
	// zero means the store's default.
	Window time.Duration
	// Merge, when set, folds the incoming item into the stored duplicate
	// whatever the rule and source (import): the result is saved in the
	// stored item's place. When nil (ingest), a duplicate of another
	// source gains the incoming source as an announcer, an alias or URL
	// match of the same source is updated, and the same work under two
	// URLs of one source (DOI, PDF, title) is kept as two items.
	Merge func(stored, incoming Item) Item
	// Prepare, when set, is called under the lock for an item that has no
	// duplicate, just before it is created (import: choose its source and
	// type). An error aborts the save, writing nothing.
	Prepare func(it *Item) error
	// KeepAliases leaves an alias that already leads to a stored item
	// alone instead of re-pointing it (import: an alias never moves).
	KeepAliases bool
}

// SaveResult says what SaveItem did.
type SaveResult struct {
	// Result is what happened to the item written: Created, Updated or
	// Unchanged. A merge that only added an announcer is Unchanged.
	Result UpsertResult
	// ID and URL are the stored item's.
	ID, URL string
	// Merged is set when the incoming item was folded into another stored
	// item (announcer added, or Options.Merge used).
	Merged bool
	// Rule is the dedupe rule that found the stored item ("url", "alias",
	// "doi", "pdf", "title"), "" when none did.
	Rule string
	// RefusedAliases are aliases not recorded because each is a stored
	// item's own URL.
	RefusedAliases []string
}
