package evidence

import "time"

// Roles, weakest first. A reader may read (anonymous when web.public is
// true); a curator may also curate (collections, the digest draft); an
// admin may also manage users and subscribers.
const (
	RoleReader  = "reader"
	RoleCurator = "curator"
	RoleAdmin   = "admin"
)

// RoleRank orders roles: RoleRank(a) >= RoleRank(b) when a may do all b
// may. An unknown role ranks below a reader.
func RoleRank(role string) int {
	switch role {
	case RoleReader:
		return 1
	case RoleCurator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// ValidRole reports whether role is one of the three.
func ValidRole(role string) bool { return RoleRank(role) > 0 }

// User is an account that signs in to the web or calls the API.
type User struct {
	ID        string     `json:"id"`
	Email     string     `json:"email"`
	Role      string     `json:"role"`
	Created   time.Time  `json:"created"`
	LastLogin *time.Time `json:"last_login"`
	// Tokens is how many API tokens the user has.
	Tokens int `json:"tokens"`
}

// Principal is who is making a request: a signed-in user (Via "session"),
// a script with an API token (Via "token"), or nobody (zero value).
type Principal struct {
	User User
	Via  string
	// SessionExpires is when the session ends (Via "session").
	SessionExpires time.Time
}

// Anonymous reports whether nobody is signed in.
func (p Principal) Anonymous() bool { return p.User.ID == "" }

// Can reports whether the principal has at least role.
func (p Principal) Can(role string) bool {
	return !p.Anonymous() && RoleRank(p.User.Role) >= RoleRank(role)
}
