package evidence

import "time"

// Subscriber statuses.
const (
	// SubscriberPending: signed up on the web, confirmation link not yet followed.
	SubscriberPending = "pending"
	// SubscriberActive receives the digest.
	SubscriberActive = "active"
	// SubscriberUnsubscribed asked to stop; kept so a resend never reaches them.
	SubscriberUnsubscribed = "unsubscribed"
	// SubscriberBouncing: the mail server refused the address too often in a row.
	SubscriberBouncing = "bouncing"
)

// Digest formats a subscriber may choose.
const (
	FormatHTML = "html" // multipart: text and HTML
	FormatText = "text" // plain text only
)

// Subscriber is one reader of the weekly digest. Topics and Sources choose
// what they get; empty means everything.
type Subscriber struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Status       string     `json:"status"`
	Topics       []string   `json:"topics"`
	Sources      []string   `json:"sources"`
	Format       string     `json:"format"`
	Created      time.Time  `json:"created"`
	Confirmed    *time.Time `json:"confirmed"`
	Unsubscribed *time.Time `json:"unsubscribed"`
	// Bounces counts permanent refusals in a row; a delivery resets it.
	Bounces int `json:"bounces"`
	// ConfirmSent is when the last confirmation mail went out.
	ConfirmSent *time.Time `json:"confirm_sent,omitempty"`
}

// Delivery statuses.
const (
	DeliveryClaimed = "claimed" // about to be sent (or a send was cut off)
	DeliverySent    = "sent"
	DeliveryFailed  = "failed" // refused permanently, or retries ran out
)

// Delivery is one week's digest to one subscriber: claimed before it is
// sent and marked sent with the server's reply, so a week reaches each
// subscriber once.
type Delivery struct {
	Week         string     `json:"week"`
	SubscriberID string     `json:"subscriber_id"`
	Email        string     `json:"email"`
	MessageID    string     `json:"message_id"`
	Status       string     `json:"status"`
	Attempts     int        `json:"attempts"`
	ClaimedAt    time.Time  `json:"claimed_at"`
	SentAt       *time.Time `json:"sent_at"`
	Reply        string     `json:"reply,omitempty"`
	Error        string     `json:"error,omitempty"`
}

// Preferences are what a subscriber chooses: topics and sources (empty:
// everything) and a format.
type Preferences struct {
	Topics  []string `json:"topics"`
	Sources []string `json:"sources"`
	Format  string   `json:"format"`
}

// SourceName is a source's ID and display name, for choosing.
type SourceName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DigestDraft is a librarian's curation of one week's digest: picks
// pinned to the top, items dropped, the order of items within sections,
// an editor's note (Markdown), and who approved it. Version counts edits,
// so a stale edit can be refused.
type DigestDraft struct {
	Week  string   `json:"week"`
	Picks []string `json:"picks"`
	Drops []string `json:"drops"`
	// Order maps a section (its topic, as the digest names it) to item IDs
	// an editor placed: they lead the section in this order, the rest
	// follow in the digest's own order. Empty: every section as built.
	Order      map[string][]string `json:"order"`
	Note       string              `json:"note"`
	ApprovedBy string              `json:"approved_by,omitempty"`
	ApprovedAt *time.Time          `json:"approved_at,omitempty"`
	UpdatedBy  string              `json:"updated_by,omitempty"`
	UpdatedAt  time.Time           `json:"updated_at"`
	Version    int                 `json:"version"`
}

// Approved reports whether the draft is approved.
func (d DigestDraft) Approved() bool { return d.ApprovedAt != nil }

// ArchivedDigest is the un-personalised copy of a week's digest as sent.
type ArchivedDigest struct {
	Week     string     `json:"week"`
	Title    string     `json:"title"`
	Dates    string     `json:"dates"`
	Items    int        `json:"items"`
	HTML     string     `json:"-"`
	Text     string     `json:"-"`
	Markdown string     `json:"-"`
	JSON     string     `json:"-"`
	Created  time.Time  `json:"created"`
	Sent     *time.Time `json:"sent"`
}
