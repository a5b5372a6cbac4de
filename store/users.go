package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// UserInput is a new account: its address (as the person writes it; one
// account per address in any case), its role and its password already
// hashed — the store never sees a password.
type UserInput struct {
	Email        string
	Role         string
	PasswordHash string
}

// UserRecord is an account as stored: the user the web and the CLI show,
// and the password hash they never do.
type UserRecord struct {
	evidence.User
	PasswordHash    string
	PasswordChanged time.Time
}

// Session is one signed-in browser. TokenHash is the hex SHA-256 of the
// random token in the browser's cookie; the token itself is not stored.
type Session struct {
	TokenHash string
	UserID    string
	Created   time.Time
	Expires   time.Time
	LastSeen  time.Time
}

// APIToken is a script's credential, stored as the hex SHA-256 of the
// token it sends (the token itself is shown once, when made).
type APIToken struct {
	ID       string     `json:"id"`
	UserID   string     `json:"user_id"`
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used"`
}

func newRowID(prefix string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b), nil
}

const userCols = `u.id, u.email, u.role, u.created, u.last_login, u.password_hash, u.password_changed,
	(SELECT count(*) FROM api_tokens t WHERE t.user_id = u.id)`

// AddUser stores a new account. An address already taken (in any case)
// is evidence.ErrConflict; a bad address, role or empty hash is
// evidence.ErrInvalid.
func (s *Store) AddUser(ctx context.Context, in UserInput) (evidence.User, error) {
	email := strings.TrimSpace(in.Email)
	switch {
	case email == "" || strings.ContainsAny(email, "\r\n"):
		return evidence.User{}, fmt.Errorf("store: add user %q: bad address: %w", in.Email, evidence.ErrInvalid)
	case !evidence.ValidRole(in.Role):
		return evidence.User{}, fmt.Errorf("store: add user %s: role %q (want reader, curator or admin): %w", email, in.Role, evidence.ErrInvalid)
	case in.PasswordHash == "":
		return evidence.User{}, fmt.Errorf("store: add user %s: no password hash: %w", email, evidence.ErrInvalid)
	}
	id, err := newRowID("u")
	if err != nil {
		return evidence.User{}, fmt.Errorf("store: add user %s: %w", email, err)
	}
	var u UserRecord
	now := fmtTime(s.now())
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email_key = ?`, emailKey(email)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("a user with that address already exists: %w", evidence.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, email_key, role, password_hash, created, password_changed)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, email, emailKey(email), in.Role, in.PasswordHash, now, now); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = ?`, id))
		return err
	})
	if err != nil {
		return evidence.User{}, fmt.Errorf("store: add user %s: %w", email, err)
	}
	return u.User, nil
}

// User returns one account by ID.
func (s *Store) User(ctx context.Context, id string) (UserRecord, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = ?`, id))
	if err != nil {
		return u, fmt.Errorf("store: user %s: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the account with that address (any case).
func (s *Store) UserByEmail(ctx context.Context, email string) (UserRecord, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.email_key = ?`, emailKey(email)))
	if err != nil {
		return u, fmt.Errorf("store: user %s: %w", strings.TrimSpace(email), err)
	}
	return u, nil
}

// Users lists every account by address, with how many API tokens each has.
func (s *Store) Users(ctx context.Context) ([]evidence.User, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userCols+` FROM users u ORDER BY u.email_key`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", s.explain(err))
	}
	defer rows.Close()
	var out []evidence.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		out = append(out, u.User)
	}
	return out, rows.Err()
}

// RemoveUser deletes an account with its sessions and API tokens.
func (s *Store) RemoveUser(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: remove user %s: %w", id, s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: remove user %s: %w", id, evidence.ErrNotFound)
	}
	return nil
}

// SetPasswordHash replaces an account's password hash and, in the same
// transaction, ends all its sessions (a changed password signs every
// browser out). It reports how many sessions ended.
func (s *Store) SetPasswordHash(ctx context.Context, id, hash string) (ended int, err error) {
	if hash == "" {
		return 0, fmt.Errorf("store: set password of %s: no hash: %w", id, evidence.ErrInvalid)
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed = ? WHERE id = ?`, hash, fmtTime(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return evidence.ErrNotFound
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ended = int(n)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: set password of %s: %w", id, err)
	}
	return ended, nil
}

// CreateSession stores a new session (LastSeen defaults to Created),
// records the user's last login at Created and prunes the sessions that
// had expired by then. An unknown user is evidence.ErrNotFound.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	if sess.TokenHash == "" || sess.UserID == "" || sess.Created.IsZero() || !sess.Expires.After(sess.Created) {
		return fmt.Errorf("store: create session: want a token hash, a user and an expiry after creation: %w", evidence.ErrInvalid)
	}
	if sess.LastSeen.IsZero() {
		sess.LastSeen = sess.Created
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET last_login = ? WHERE id = ?`, fmtTime(sess.Created), sess.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %s: %w", sess.UserID, evidence.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, fmtTime(sess.Created)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created, expires, last_seen) VALUES (?, ?, ?, ?, ?)`,
			sess.TokenHash, sess.UserID, fmtTime(sess.Created), fmtTime(sess.Expires), fmtTime(sess.LastSeen))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create session for %s: %w", sess.UserID, err)
	}
	return nil
}

// Session returns the session with that token hash and its user. One
// unknown, or expired at now, is evidence.ErrNotFound.
func (s *Store) Session(ctx context.Context, tokenHash string, now time.Time) (Session, UserRecord, error) {
	var sess Session
	var created, expires, lastSeen string
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userCols+`, s.token_hash, s.created, s.expires, s.last_seen
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, tokenHash),
		&sess.TokenHash, &created, &expires, &lastSeen)
	if err != nil {
		return sess, u, fmt.Errorf("store: session: %w", err)
	}
	sess.UserID = u.ID
	for _, p := range []struct {
		s string
		t *time.Time
	}{{created, &sess.Created}, {expires, &sess.Expires}, {lastSeen, &sess.LastSeen}} {
		if *p.t, err = parseTime(p.s); err != nil {
			return sess, u, fmt.Errorf("store: session: %w", err)
		}
	}
	if !now.Before(sess.Expires) {
		return sess, u, fmt.Errorf("store: session: expired %s: %w", sess.Expires.Format(time.RFC3339), evidence.ErrNotFound)
	}
	return sess, u, nil
}

// TouchSession records that a session was used at lastSeen and moves its
// expiry (a sliding session). An unknown session is evidence.ErrNotFound.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, lastSeen, expires time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ?, expires = ? WHERE token_hash = ?`,
		fmtTime(lastSeen), fmtTime(expires), tokenHash)
	if err != nil {
		return fmt.Errorf("store: touch session: %w", s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: touch session: %w", evidence.ErrNotFound)
	}
	return nil
}

// DeleteSession ends one session (signing out). An unknown session is
// evidence.ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	if err != nil {
		return fmt.Errorf("store: delete session: %w", s.explain(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete session: %w", evidence.ErrNotFound)
	}
	return nil
}

// EndSessions ends every session of a user and reports how many.
func (s *Store) EndSessions(ctx context.Context, userID string) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, fmt.Errorf("store: end sessions of %s: %w", userID, s.explain(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PruneSessions deletes the sessions expired at now and reports how many.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, fmtTime(now))
	if err != nil {
		return 0, fmt.Errorf("store: prune sessions: %w", s.explain(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CountSessions counts a user's sessions live at now.
func (s *Store) CountSessions(ctx context.Context, userID string, now time.Time) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE user_id = ? AND expires > ?`, userID, fmtTime(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count sessions of %s: %w", userID, s.explain(err))
	}
	return n, nil
}

// AddAPIToken stores an API token of a user by the hash of its secret.
// An unknown user is evidence.ErrNotFound.
func (s *Store) AddAPIToken(ctx context.Context, userID, name, tokenHash string) (APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || tokenHash == "" || strings.ContainsAny(name, "\r\n") {
		return APIToken{}, fmt.Errorf("store: add API token %q: want a one-line name and a hash: %w", name, evidence.ErrInvalid)
	}
	id, err := newRowID("t")
	if err != nil {
		return APIToken{}, fmt.Errorf("store: add API token: %w", err)
	}
	now := s.now().UTC()
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %s: %w", userID, evidence.ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, created) VALUES (?, ?, ?, ?, ?)`,
			id, userID, name, tokenHash, fmtTime(now))
		return err
	})
	if err != nil {
		return APIToken{}, fmt.Errorf("store: add API token %q: %w", name, err)
	}
	return APIToken{ID: id, UserID: userID, Name: name, Created: now}, nil
}

const tokenCols = `t.id, t.user_id, t.name, t.created, t.last_used`

// APITokenByHash returns the API token with that hash and its user
// (evidence.ErrNotFound when none).
func (s *Store) APITokenByHash(ctx context.Context, tokenHash string) (APIToken, UserRecord, error) {
	var tok APIToken
	var created string
	var lastUsed sql.NullString
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userCols+`, `+tokenCols+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, tokenHash),
		&tok.ID, &tok.UserID, &tok.Name, &created, &lastUsed)
	if err != nil {
		return tok, u, fmt.Errorf("store: API token: %w", err)
	}
	if tok.Created, err = parseTime(created); err != nil {
		return tok, u, fmt.Errorf("store: API token: %w", err)
	}
	if tok.LastUsed, err = parseNullTime(lastUsed); err != nil {
		return tok, u, fmt.Errorf("store: API token: %w", err)
	}
	return tok, u, nil
}

// TouchAPIToken records that a token was used at `at`, unless its last
// use was recorded less than `every` before (so a busy script writes once
// a minute, not per request). It reports whether it wrote.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used <= ?)`,
		fmtTime(at), id, fmtTime(at.Add(-every)))
	if err != nil {
		return false, fmt.Errorf("store: touch API token %s: %w", id, s.explain(err))
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// APITokens lists a user's API tokens, oldest first.
func (s *Store) APITokens(ctx context.Context, userID string) ([]APIToken, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens t WHERE t.user_id = ? ORDER BY t.created, t.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: API tokens of %s: %w", userID, s.explain(err))
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var tok APIToken
		var created string
		var lastUsed sql.NullString
		if err := rows.Scan(&tok.ID, &tok.UserID, &tok.Name, &created, &lastUsed); err != nil {
			return nil, fmt.Errorf("store: API tokens of %s: %w", userID, err)
		}
		if tok.Created, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: API tokens of %s: %w", userID, err)
		}
		if tok.LastUsed, err = parseNullTime(lastUsed); err != nil {
			return nil, fmt.Errorf("store: API tokens of %s: %w", userID, err)
		}
		out = append(out, tok)
	}
	return out, rows.Err()
}

// RevokeAPITokens deletes a user's API tokens named name, or all of them
// when name is empty, and reports how many.
func (s *Store) RevokeAPITokens(ctx context.Context, userID, name string) (int, error) {
	q, args := `DELETE FROM api_tokens WHERE user_id = ?`, []any{userID}
	if name = strings.TrimSpace(name); name != "" {
		q, args = q+` AND name = ?`, append(args, name)
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("store: revoke API tokens of %s: %w", userID, s.explain(err))
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// scanUser reads userCols and then into extra.
func scanUser(sc interface{ Scan(...any) error }, extra ...any) (UserRecord, error) {
	var u UserRecord
	var created, changed string
	var lastLogin sql.NullString
	err := sc.Scan(append([]any{&u.ID, &u.Email, &u.Role, &created, &lastLogin, &u.PasswordHash, &changed, &u.Tokens}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return u, evidence.ErrNotFound
	}
	if err != nil {
		return u, err
	}
	if u.Created, err = parseTime(created); err != nil {
		return u, err
	}
	if u.PasswordChanged, err = parseTime(changed); err != nil {
		return u, err
	}
	if u.LastLogin, err = parseNullTime(lastLogin); err != nil {
		return u, err
	}
	return u, nil
}
