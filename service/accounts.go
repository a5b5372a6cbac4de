package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/mail"
	"github.com/evidencetracker/evidence/store"
)

// AccountStore is what accounts need of the store.
type AccountStore interface {
	AddUser(ctx context.Context, in store.UserInput) (evidence.User, error)
	UserByEmail(ctx context.Context, email string) (store.UserRecord, error)
	Users(ctx context.Context) ([]evidence.User, error)
	RemoveUser(ctx context.Context, id string) error
	SetPasswordHash(ctx context.Context, id, hash string) (int, error)
	CreateSession(ctx context.Context, sess store.Session) error
	Session(ctx context.Context, tokenHash string, now time.Time) (store.Session, store.UserRecord, error)
	TouchSession(ctx context.Context, tokenHash string, lastSeen, expires time.Time) error
	DeleteSession(ctx context.Context, tokenHash string) error
	AddAPIToken(ctx context.Context, userID, name, tokenHash string) (store.APIToken, error)
	APITokenByHash(ctx context.Context, tokenHash string) (store.APIToken, store.UserRecord, error)
	TouchAPIToken(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error)
	RevokeAPITokens(ctx context.Context, userID, name string) (int, error)
}

// HashParams are argon2id's costs (RFC 9106): Memory in KiB, Time passes,
// Threads lanes.
type HashParams struct {
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultHashParams are OWASP's argon2id minimum, m=19 MiB, t=2, p=1:
// chosen for a small two-core server shared with ingest and search. One
// hash takes some tens of milliseconds on one core; at most
// AccountsOptions.HashConcurrency (default 2) run at once, so a burst of
// sign-ins costs 38 MiB and queues rather than exhausting memory, and the
// web's per-address login limit keeps guessing slow. Hashes made with
// other parameters keep working: each PHC string names its own.
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	// DefaultSessionTTL is how long a session lasts after its last use.
	DefaultSessionTTL = 14 * 24 * time.Hour
	// MinPasswordLength is the shortest password accepted, in characters.
	MinPasswordLength = 12
	// maxPasswordBytes bounds what is hashed (a megabyte password is a
	// denial of service, not a password).
	maxPasswordBytes = 1024
	// touchEvery is how often a session's last use and an API token's are
	// written at most.
	touchEvery = time.Minute
	// APITokenPrefix starts every API token, so one pasted into the wrong
	// place is recognisable (and secret scanners can find it).
	APITokenPrefix = "et_"
	saltLen        = 16
	keyLen         = 32
)

// AccountsOptions configure NewAccounts.
type AccountsOptions struct {
	Store AccountStore
	// SessionTTL is how long a session lasts after its last use (config
	// web.session_ttl; default 14 days).
	SessionTTL time.Duration
	// Hash are the argon2id costs of new hashes (zero: DefaultHashParams).
	Hash HashParams
	// HashConcurrency is how many password hashes run at once (default 2).
	HashConcurrency int
	Now             func() time.Time
	Logger          *slog.Logger
}

// Accounts signs users in and out, tells who a session cookie or API
// token belongs to (it implements web.Accounts), and manages the accounts
// for the CLI. Passwords are stored as argon2id PHC strings; session and
// API tokens as their SHA-256.
type Accounts struct {
	opts   AccountsOptions
	sem    chan struct{}
	hashes atomic.Int64 // derivations, for tests
}

// NewAccounts returns Accounts over the store.
func NewAccounts(opts AccountsOptions) *Accounts {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Hash == (HashParams{}) {
		opts.Hash = DefaultHashParams
	}
	if opts.HashConcurrency <= 0 {
		opts.HashConcurrency = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Accounts{opts: opts, sem: make(chan struct{}, opts.HashConcurrency)}
}

// SessionTTL is how long a session lasts after its last use.
func (a *Accounts) SessionTTL() time.Duration { return a.opts.SessionTTL }

// errWrongLogin never says whether the address or the password was wrong.
var errWrongLogin = fmt.Errorf("wrong e-mail address or password: %w", evidence.ErrInvalid)

// Login checks the password and starts a session, returning its token
// (for the cookie). A wrong address or password is evidence.ErrInvalid,
// the same error after the same work either way: an unknown address is
// checked against a made-up hash with the current costs.
func (a *Accounts) Login(ctx context.Context, email, password string) (string, evidence.Principal, error) {
	if len(password) > maxPasswordBytes {
		return "", evidence.Principal{}, errWrongLogin
	}
	u, err := a.opts.Store.UserByEmail(ctx, strings.TrimSpace(email))
	phc := u.PasswordHash
	switch {
	case errors.Is(err, evidence.ErrNotFound):
		phc = a.decoyHash()
	case err != nil:
		return "", evidence.Principal{}, fmt.Errorf("accounts: login: %w", err)
	}
	ok, err := a.verify(ctx, phc, password)
	if err != nil {
		if ctx.Err() != nil {
			return "", evidence.Principal{}, fmt.Errorf("accounts: login: %w", ctx.Err())
		}
		a.opts.Logger.Error("accounts: stored password hash is unreadable", "user", u.ID, "err", err)
		return "", evidence.Principal{}, errWrongLogin
	}
	if !ok || u.ID == "" {
		a.opts.Logger.Info("accounts: sign-in refused", "known_user", u.ID != "")
		return "", evidence.Principal{}, errWrongLogin
	}
	token, hash, err := newSecret("")
	if err != nil {
		return "", evidence.Principal{}, fmt.Errorf("accounts: login: %w", err)
	}
	now := a.opts.Now().UTC()
	sess := store.Session{TokenHash: hash, UserID: u.ID, Created: now, Expires: now.Add(a.opts.SessionTTL)}
	if err := a.opts.Store.CreateSession(ctx, sess); err != nil {
		return "", evidence.Principal{}, fmt.Errorf("accounts: login: %w", err)
	}
	a.opts.Logger.Info("accounts: signed in", "user", u.ID)
	u.LastLogin = &now
	return token, evidence.Principal{User: u.User, Via: "session", SessionExpires: sess.Expires}, nil
}

// Session is the principal of a session token. An unknown, malformed or
// expired token is evidence.ErrNotFound. A session used more than a
// minute after it was last seen slides: it then lasts SessionTTL from now.
func (a *Accounts) Session(ctx context.Context, token string) (evidence.Principal, error) {
	if !wellFormed(token, "") {
		return evidence.Principal{}, fmt.Errorf("accounts: session: malformed token: %w", evidence.ErrNotFound)
	}
	hash := hashToken(token)
	now := a.opts.Now().UTC()
	sess, u, err := a.opts.Store.Session(ctx, hash, now)
	if errors.Is(err, evidence.ErrNotFound) && sess.TokenHash != "" {
		// Expired: prune it now rather than at the next sign-in.
		if err := a.opts.Store.DeleteSession(ctx, hash); err != nil && !errors.Is(err, evidence.ErrNotFound) {
			a.opts.Logger.Warn("accounts: prune expired session", "err", err)
		}
	}
	if err != nil {
		return evidence.Principal{}, fmt.Errorf("accounts: session: %w", err)
	}
	if now.Sub(sess.LastSeen) >= touchEvery {
		expires := now.Add(a.opts.SessionTTL)
		if err := a.opts.Store.TouchSession(ctx, hash, now, expires); err != nil {
			a.opts.Logger.Warn("accounts: session last use not recorded", "user", u.ID, "err", err)
		} else {
			sess.Expires = expires
		}
	}
	return evidence.Principal{User: u.User, Via: "session", SessionExpires: sess.Expires}, nil
}

// Logout ends the session of a token (an unknown one is no error).
func (a *Accounts) Logout(ctx context.Context, token string) error {
	if !wellFormed(token, "") {
		return nil
	}
	if err := a.opts.Store.DeleteSession(ctx, hashToken(token)); err != nil && !errors.Is(err, evidence.ErrNotFound) {
		return fmt.Errorf("accounts: logout: %w", err)
	}
	return nil
}

// Bearer is the principal of an API token (evidence.ErrNotFound when
// unknown, revoked or malformed). Its last use is recorded at most once
// a minute.
func (a *Accounts) Bearer(ctx context.Context, token string) (evidence.Principal, error) {
	if !wellFormed(token, APITokenPrefix) {
		return evidence.Principal{}, fmt.Errorf("accounts: API token: malformed: %w", evidence.ErrNotFound)
	}
	tok, u, err := a.opts.Store.APITokenByHash(ctx, hashToken(token))
	if err != nil {
		return evidence.Principal{}, fmt.Errorf("accounts: API token: %w", err)
	}
	if _, err := a.opts.Store.TouchAPIToken(ctx, tok.ID, a.opts.Now().UTC(), touchEvery); err != nil {
		a.opts.Logger.Warn("accounts: API token last use not recorded", "token", tok.ID, "err", err)
	}
	return evidence.Principal{User: u.User, Via: "token"}, nil
}

// AddUser makes an account. The address must be an e-mail address, the
// role reader, curator or admin, and the password at least
// MinPasswordLength characters and not the address. An address already
// used is evidence.ErrConflict.
func (a *Accounts) AddUser(ctx context.Context, email, role, password string) (evidence.User, error) {
	addr, err := mail.NormalizeAddress(email)
	if err != nil {
		return evidence.User{}, fmt.Errorf("%v: %w", err, evidence.ErrInvalid)
	}
	if !evidence.ValidRole(role) {
		return evidence.User{}, fmt.Errorf("role %q: choose reader, curator or admin: %w", role, evidence.ErrInvalid)
	}
	if err := CheckPassword(addr, password); err != nil {
		return evidence.User{}, err
	}
	phc, err := a.hash(ctx, password)
	if err != nil {
		return evidence.User{}, err
	}
	u, err := a.opts.Store.AddUser(ctx, store.UserInput{Email: addr, Role: role, PasswordHash: phc})
	if errors.Is(err, evidence.ErrConflict) {
		return u, fmt.Errorf("there is already a user %s: %w", addr, evidence.ErrConflict)
	}
	return u, err
}

// Users lists the accounts by address.
func (a *Accounts) Users(ctx context.Context) ([]evidence.User, error) {
	us, err := a.opts.Store.Users(ctx)
	if us == nil {
		us = []evidence.User{}
	}
	return us, err
}

// RemoveUser deletes an account, its sessions and its API tokens.
func (a *Accounts) RemoveUser(ctx context.Context, email string) error {
	u, err := a.user(ctx, email)
	if err != nil {
		return err
	}
	return a.opts.Store.RemoveUser(ctx, u.ID)
}

// SetPassword replaces a user's password (same rules as AddUser) and ends
// all their sessions, reporting how many.
func (a *Accounts) SetPassword(ctx context.Context, email, password string) (ended int, err error) {
	u, err := a.user(ctx, email)
	if err != nil {
		return 0, err
	}
	if err := CheckPassword(u.Email, password); err != nil {
		return 0, err
	}
	phc, err := a.hash(ctx, password)
	if err != nil {
		return 0, err
	}
	return a.opts.Store.SetPasswordHash(ctx, u.ID, phc)
}

// NewToken makes an API token for a user and returns it: it is stored
// hashed, so this is the only time anyone sees it. name labels it (for
// revoking); empty means "api".
func (a *Accounts) NewToken(ctx context.Context, email, name string) (string, error) {
	u, err := a.user(ctx, email)
	if err != nil {
		return "", err
	}
	if name = strings.TrimSpace(name); name == "" {
		name = "api"
	}
	token, hash, err := newSecret(APITokenPrefix)
	if err != nil {
		return "", fmt.Errorf("accounts: new token: %w", err)
	}
	if _, err := a.opts.Store.AddAPIToken(ctx, u.ID, name, hash); err != nil {
		return "", err
	}
	return token, nil
}

// RevokeTokens deletes a user's API tokens called name, or all of them
// when name is empty, and reports how many.
func (a *Accounts) RevokeTokens(ctx context.Context, email, name string) (int, error) {
	u, err := a.user(ctx, email)
	if err != nil {
		return 0, err
	}
	return a.opts.Store.RevokeAPITokens(ctx, u.ID, name)
}

func (a *Accounts) user(ctx context.Context, email string) (store.UserRecord, error) {
	u, err := a.opts.Store.UserByEmail(ctx, email)
	if errors.Is(err, evidence.ErrNotFound) {
		return u, fmt.Errorf("no user %s: %w", strings.TrimSpace(email), evidence.ErrNotFound)
	}
	return u, err
}

// CheckPassword applies the password rules: at least MinPasswordLength
// characters, at most 1024 bytes, and not the account's address.
func CheckPassword(email, password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return fmt.Errorf("the password must be at least %d characters long (this one has %d): a few unrelated words make a good one: %w",
			MinPasswordLength, n, evidence.ErrInvalid)
	}
	if len(password) > maxPasswordBytes {
		return fmt.Errorf("the password must be at most %d bytes long: %w", maxPasswordBytes, evidence.ErrInvalid)
	}
	p := strings.TrimSpace(password)
	local, _, _ := strings.Cut(email, "@")
	if strings.EqualFold(p, strings.TrimSpace(email)) || strings.EqualFold(p, local) {
		return fmt.Errorf("the password must not be the e-mail address: %w", evidence.ErrInvalid)
	}
	return nil
}

// hash makes the PHC string of a password with the current costs:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash (unpadded standard base64).
func (a *Accounts) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("accounts: hash password: %w", err)
	}
	p := a.opts.Hash
	key, err := a.derive(ctx, password, salt, p, keyLen)
	if err != nil {
		return "", fmt.Errorf("accounts: hash password: %w", err)
	}
	return formatPHC(p, salt, key), nil
}

func formatPHC(p HashParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decoyHash is a well-formed hash with the current costs that no password
// matches: checking a password against it costs what a real check does.
func (a *Accounts) decoyHash() string {
	b := make([]byte, saltLen+keyLen)
	_, _ = rand.Read(b)
	return formatPHC(a.opts.Hash, b[:saltLen], b[saltLen:])
}

// verify checks a password against a PHC string in constant time.
func (a *Accounts) verify(ctx context.Context, phc, password string) (bool, error) {
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	got, err := a.derive(ctx, password, salt, p, uint32(len(key)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// derive runs argon2id, at most HashConcurrency at once.
func (a *Accounts) derive(ctx context.Context, password string, salt []byte, p HashParams, n uint32) ([]byte, error) {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-a.sem }()
	a.hashes.Add(1)
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, n), nil
}

// parsePHC reads $argon2id$v=19$m=M,t=T,p=P$salt$hash, refusing costs
// no sane configuration has (a damaged row must not stall the server).
func parsePHC(s string) (HashParams, []byte, []byte, error) {
	var p HashParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id PHC string")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("argon2 version %q, want v=%d", parts[2], argon2.Version)
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, fmt.Errorf("parameter %q: %v", kv, err)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, fmt.Errorf("parameter %q out of range", kv)
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, fmt.Errorf("unknown parameter %q", kv)
		}
	}
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 16 {
		return p, nil, nil, fmt.Errorf("costs m=%d,t=%d,p=%d out of range", p.Memory, p.Time, p.Threads)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("bad salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errors.New("bad hash")
	}
	return p, salt, key, nil
}

// newSecret makes a random token (256 bits, base64url, after prefix) and
// the hash it is stored by.
func newSecret(prefix string) (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

// hashToken is what a session or API token is stored by: its hex SHA-256
// (the token is random, so no salt or stretching is needed).
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether token looks like one newSecret made with
// prefix: anything else is refused before the store is asked.
func wellFormed(token, prefix string) bool {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok || len(rest) != 43 {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
