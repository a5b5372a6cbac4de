package web

import (
	"context"
	"net/http"
	"time"

	"github.com/evidencetracker/evidence"
)

// Catalog is the evidence as readers see it: search, items, topics and
// sources (service.Catalog implements it over the store and the index).
type Catalog interface {
	// Search runs a query; a malformed one is an *evidence.QueryError.
	Search(ctx context.Context, q evidence.SearchRequest) (evidence.SearchResults, error)
	// Item finds an item by its ID, or by its URL or an old URL
	// (evidence.ErrNotFound when none).
	Item(ctx context.Context, ref string) (evidence.ItemPage, error)
	Topics(ctx context.Context) ([]evidence.TopicCount, error)
	Sources(ctx context.Context) ([]evidence.SourceRow, error)
	// SourceName is a source's display name ("The King's Fund").
	SourceName(id string) string
}

// Accounts signs users in and out and tells who a request is from
// (service.Accounts implements it over the store).
type Accounts interface {
	// Login checks the password and starts a session; a wrong email or
	// password is evidence.ErrInvalid (never saying which).
	Login(ctx context.Context, email, password string) (token string, p evidence.Principal, err error)
	// Session is the principal of a session cookie's token;
	// evidence.ErrNotFound when unknown, tampered with or expired.
	Session(ctx context.Context, token string) (evidence.Principal, error)
	Logout(ctx context.Context, token string) error
	// Bearer is the principal of an API token (evidence.ErrNotFound).
	Bearer(ctx context.Context, token string) (evidence.Principal, error)
	// SessionTTL is how long a session lasts.
	SessionTTL() time.Duration
}

// Metrics records what the server does and serves /metrics.
type Metrics interface {
	// ObserveRequest counts one request by its route pattern and status.
	ObserveRequest(route string, status int, took time.Duration)
	Handler() http.Handler
}
