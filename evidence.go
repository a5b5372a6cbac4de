// Package evidence holds the domain types of Evidence Tracker: the items
// ingested from publishers, the sources they come from, and the sentinel
// errors shared by every layer. It imports only the standard library, so
// every other package may depend on it and it depends on none of them.
package evidence

import (
	"errors"
	"time"
)

// Sentinel errors. Wrap them with context (fmt.Errorf("…: %w", ErrNotFound))
// and test with errors.Is.
var (
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change clashes with what is already stored.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the input is malformed or breaks a rule.
	ErrInvalid = errors.New("invalid")
)

// The source IDs of the four publishers. Config may add others.
const (
	SourceMentalElf      = "mental-elf"
	SourceCentreForMH    = "centre-for-mental-health"
	SourceKingsFund      = "kings-fund"
	SourceNationalVoices = "national-voices"
)

// Item types. A source's type rules map URL patterns to one of these.
const (
	TypeBlog         = "blog"
	TypeReport       = "report"
	TypeBriefing     = "briefing"
	TypeLongRead     = "long-read"
	TypeNews         = "news"
	TypePressRelease = "press-release"
	TypeArticle      = "article"
	TypeData         = "data"
	TypePodcast      = "podcast"
	TypePublication  = "publication"
)

// Item is one piece of evidence: a blog post, report, briefing, news item…
// It is stored once (keyed by canonical URL) whichever publishers announced it.
// The JSON names are a contract (see ARCHITECTURE.md): search hits, the API,
// exports and JSONL import all use them.
type Item struct {
	// ID is stable for the life of the item: derived from the canonical URL
	// when the item is first stored (see NewID) and never changed after.
	ID     string `json:"id"`
	Source string `json:"source"`
	Type   string `json:"type"`
	Title  string `json:"title"`
	// URL is the canonical URL (see ingest/urlnorm).
	URL string `json:"url"`
	// Published is when the publisher says the item appeared (UTC); nil when
	// no trustworthy date was found.
	Published *time.Time `json:"published"`
	// Updated is the publisher's modification date, if given.
	Updated   *time.Time `json:"updated,omitempty"`
	FirstSeen time.Time  `json:"first_seen"`
	Authors   []string   `json:"authors"`
	// Summary is plain text (HTML stripped, entities decoded, spaces collapsed).
	Summary string `json:"summary"`
	// Topics are the taxonomy topics the item is tagged with. As read from
	// the store they are ordered by strength, strongest first: Topics[0] is
	// the item's primary topic (see TopicTags). On an item being saved they
	// are the item's own (given) topics, kept beside the tagger's.
	Topics []string `json:"topics"`
	// TopicTags are the stored topics with their strength, strongest first
	// (the same names as Topics). Filled by the store's readers; not part
	// of the JSON contract.
	TopicTags []TopicTag `json:"-"`
	// Categories are the publisher's own categories/tags, as given.
	Categories  []string `json:"categories,omitempty"`
	PDFURLs     []string `json:"pdf_urls"`
	AnnouncedBy []string `json:"announced_by"`
	Discusses   []string `json:"discusses"`
	DiscussedBy []string `json:"discussed_by"`
	Cites       []Cite   `json:"cites"`
	// DOI is the item's own DOI, when it has one (reports often do).
	DOI string `json:"doi,omitempty"`

	// Body is the full text as plain text. Only `show --json` prints it.
	Body string `json:"body,omitempty"`
	// Links are the absolute outbound links found in the body (used to build
	// "discusses" and "cites" relations). Not part of the JSON contract.
	Links []string `json:"-"`
	// Provenance maps a metadata field name ("title", "published", …) to the
	// layer that supplied it ("feed", "json-ld", "og", …).
	Provenance map[string]string `json:"provenance,omitempty"`
	// ContentHash summarises every stored field the publisher controls; an
	// unchanged hash means the item need not be rewritten or re-indexed.
	ContentHash string `json:"-"`
}

// TopicTag is one topic an item is tagged with and how strongly.
type TopicTag struct {
	// Name is the topic's name as the tagger keys it (lower case).
	Name string
	// Strength orders an item's topics: the strongest is its primary
	// topic. It grows with the field the topic's terms matched in (title
	// over summary over body) and with how often they occur.
	Strength float64
	// Where is the best field the topic matched in: TopicTitle,
	// TopicSummary, TopicBody, or TopicGiven for a topic the item came
	// with (an editor's or an import's).
	Where string
	// Hits counts the occurrences of the topic's terms in the title,
	// summary and body together.
	Hits int
}

// Where a topic matched (TopicTag.Where).
const (
	TopicGiven   = "given"
	TopicTitle   = "title"
	TopicSummary = "summary"
	TopicBody    = "body"
	TopicOther   = "other"
)

// GivenTopics returns the topics it came with, leaving out those the
// tagger found: the topics to save again when a stored item is changed and
// saved back (the tagger's are recomputed when it is indexed).
func (it *Item) GivenTopics() []string {
	tagged := map[string]bool{}
	for _, t := range it.TopicTags {
		if t.Where != TopicGiven {
			tagged[t.Name] = true
		}
	}
	out := []string{}
	for _, t := range it.Topics {
		if !tagged[t] {
			out = append(out, t)
		}
	}
	return out
}

// Cite is an external evidence link (a DOI, PubMed, NICE…) found in an item.
type Cite struct {
	URL string `json:"url"`
	DOI string `json:"doi,omitempty"`
}

// DupQuery describes an incoming item when looking for a stored item that
// is the same work (see store.FindDuplicate).
type DupQuery struct {
	// URL is the item's canonical URL; Aliases are its other URLs
	// (redirect origins, rel=canonical, the feed's link…).
	URL     string
	Aliases []string
	DOI     string
	PDFURLs []string
	Title   string
	// Published is required for a title match.
	Published *time.Time
	// Window bounds the distance between published dates for a title
	// match; zero or negative means the store's default (7 days).
	Window time.Duration
}

// AliasPair is an old URL (Alias) and the canonical URL it stands for.
type AliasPair struct{ Alias, URL string }

// SourceStatus is what `evidence sources` reports for one source.
type SourceStatus struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	Strategy            string     `json:"strategy"`
	Status              string     `json:"status"` // ok, failing, blocked, interrupted, paused, never
	LastRun             *time.Time `json:"last_run"`
	LastSuccess         *time.Time `json:"last_success"`
	LastError           string     `json:"last_error"`
	LastErrorAt         *time.Time `json:"last_error_at"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	Items               int        `json:"items"`
	NextPoll            *time.Time `json:"next_poll"`
}

// Source status values.
const (
	StatusNever   = "never"
	StatusOK      = "ok"
	StatusFailing = "failing"
	StatusBlocked = "blocked"
	StatusPaused  = "paused"
	// StatusInterrupted is a run cut short by Ctrl-C or SIGTERM: no
	// failure, it neither counts towards a pause nor resets the count.
	StatusInterrupted = "interrupted"
)

// SourceRun is the outcome of one poll of a source, as the store records
// it (see store.RecordSourceRun).
type SourceRun struct {
	Start, End time.Time
	Strategy   string
	// Err is nil on success.
	Err error
	// Blocked means the publisher refused us (robots.txt, 403, 429…).
	Blocked bool
	// Interrupted means the run was cut short (Ctrl-C, SIGTERM): no
	// failure, whatever Err says. Blocked wins over it.
	Interrupted bool
	NextPoll    time.Time
	// Counters for the run's history row.
	Fetched, NotModified, New, Updated int
}

// FetchState is the conditional-GET state remembered for one URL.
type FetchState struct {
	URL          string
	ETag         string
	LastModified string
	// ContentHash of the last body seen, to skip work when a server ignores
	// validators but sends the same bytes.
	ContentHash string
	FetchedAt   time.Time
}

// UpsertResult says what saving an item did.
type UpsertResult int

const (
	// Unchanged: the stored item already had this content; nothing written.
	Unchanged UpsertResult = iota
	// Created: a new item was stored.
	Created
	// Updated: an existing item's content changed and was rewritten.
	Updated
)

func (r UpsertResult) String() string {
	switch r {
	case Created:
		return "created"
	case Updated:
		return "updated"
	default:
		return "unchanged"
	}
}
