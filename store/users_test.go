package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestUsers(t *testing.T) {
	s, clk, _ := newStore(t)
	ctx := context.Background()

	u, err := s.AddUser(ctx, UserInput{Email: " Librarian@Trust.NHS.uk ", Role: evidence.RoleCurator, PasswordHash: "$argon2id$x"})
	if err != nil || u.ID == "" || u.Email != "Librarian@Trust.NHS.uk" || u.Role != evidence.RoleCurator || !u.Created.Equal(clk.Now()) || u.LastLogin != nil {
		t.Fatalf("add = %+v, %v", u, err)
	}
	for _, tt := range []struct {
		name string
		in   UserInput
		want error
	}{
		{"same address in another case", UserInput{Email: "librarian@trust.nhs.UK", Role: evidence.RoleAdmin, PasswordHash: "h"}, evidence.ErrConflict},
		{"unknown role", UserInput{Email: "x@example.org", Role: "owner", PasswordHash: "h"}, evidence.ErrInvalid},
		{"no hash", UserInput{Email: "x@example.org", Role: evidence.RoleReader}, evidence.ErrInvalid},
		{"no address", UserInput{Email: " ", Role: evidence.RoleReader, PasswordHash: "h"}, evidence.ErrInvalid},
		{"line break", UserInput{Email: "x@example.org\r\nBcc: y", Role: evidence.RoleReader, PasswordHash: "h"}, evidence.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.AddUser(ctx, tt.in); !errors.Is(err, tt.want) {
				t.Errorf("AddUser(%+v) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
	got, err := s.UserByEmail(ctx, "LIBRARIAN@trust.nhs.uk")
	if err != nil || got.ID != u.ID || got.PasswordHash != "$argon2id$x" || !got.PasswordChanged.Equal(clk.Now()) {
		t.Fatalf("by email = %+v, %v", got, err)
	}
	if _, err := s.UserByEmail(ctx, "nobody@example.org"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("unknown address: %v", err)
	}
	if _, err := s.AddUser(ctx, UserInput{Email: "admin@example.org", Role: evidence.RoleAdmin, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Users(ctx)
	if err != nil || len(list) != 2 || list[0].Email != "admin@example.org" || list[1].ID != u.ID {
		t.Fatalf("users = %+v, %v", list, err)
	}

	clk.Advance(time.Hour)
	if _, err := s.SetPasswordHash(ctx, u.ID, ""); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("empty hash: %v", err)
	}
	if _, err := s.SetPasswordHash(ctx, "unone", "h2"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := s.SetPasswordHash(ctx, u.ID, "h2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, u.ID); got.PasswordHash != "h2" || !got.PasswordChanged.Equal(clk.Now()) {
		t.Errorf("after set password = %+v", got)
	}

	if err := s.RemoveUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUser(ctx, u.ID); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	if _, err := s.User(ctx, u.ID); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("removed user: %v", err)
	}
}

func TestSessions(t *testing.T) {
	s, clk, _ := newStore(t)
	ctx := context.Background()
	u, err := s.AddUser(ctx, UserInput{Email: "a@example.org", Role: evidence.RoleReader, PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	day := 24 * time.Hour
	if err := s.CreateSession(ctx, Session{TokenHash: "s1", UserID: u.ID, Created: now, Expires: now.Add(day)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, Session{TokenHash: "s2", UserID: "unone", Created: now, Expires: now.Add(day)}); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("session of an unknown user: %v", err)
	}
	if err := s.CreateSession(ctx, Session{TokenHash: "s3", UserID: u.ID, Created: now, Expires: now}); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("session expiring at once: %v", err)
	}
	if got, _ := s.User(ctx, u.ID); got.LastLogin == nil || !got.LastLogin.Equal(now) {
		t.Errorf("last login = %v", got.LastLogin)
	}

	sess, su, err := s.Session(ctx, "s1", now.Add(time.Minute))
	if err != nil || su.ID != u.ID || su.Email != "a@example.org" || !sess.Expires.Equal(now.Add(day)) || !sess.LastSeen.Equal(now) {
		t.Fatalf("session = %+v, %+v, %v", sess, su, err)
	}
	if _, _, err := s.Session(ctx, "nope", now); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("unknown session: %v", err)
	}
	if _, _, err := s.Session(ctx, "s1", now.Add(day)); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}

	// Sliding: a touch moves the expiry.
	if err := s.TouchSession(ctx, "s1", now.Add(20*time.Hour), now.Add(44*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if sess, _, err := s.Session(ctx, "s1", now.Add(30*time.Hour)); err != nil || !sess.LastSeen.Equal(now.Add(20*time.Hour)) {
		t.Errorf("after touch = %+v, %v", sess, err)
	}
	if err := s.TouchSession(ctx, "nope", now, now.Add(day)); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("touch unknown: %v", err)
	}

	// A new login prunes the sessions expired by then.
	if err := s.CreateSession(ctx, Session{TokenHash: "old", UserID: u.ID, Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	later := now.Add(2 * time.Hour)
	if n, _ := s.CountSessions(ctx, u.ID, now); n != 2 {
		t.Errorf("sessions before prune = %d", n)
	}
	if err := s.CreateSession(ctx, Session{TokenHash: "s4", UserID: u.ID, Created: later, Expires: later.Add(day)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, "old", now); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("expired session not pruned at login: %v", err)
	}
	if n, err := s.PruneSessions(ctx, later.Add(2*day)); err != nil || n != 2 {
		t.Errorf("prune = %d, %v", n, err)
	}

	// Sign out; a password change ends all; removing the user ends all.
	for _, h := range []string{"a", "b", "c"} {
		if err := s.CreateSession(ctx, Session{TokenHash: h, UserID: u.ID, Created: later, Expires: later.Add(day)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteSession(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "a"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if n, err := s.SetPasswordHash(ctx, u.ID, "h2"); err != nil || n != 2 {
		t.Errorf("set password ended %d sessions, %v; want 2", n, err)
	}
	if err := s.CreateSession(ctx, Session{TokenHash: "d", UserID: u.ID, Created: later, Expires: later.Add(day)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EndSessions(ctx, u.ID); err != nil || n != 1 {
		t.Errorf("end sessions = %d, %v", n, err)
	}
	if err := s.CreateSession(ctx, Session{TokenHash: "e", UserID: u.ID, Created: later, Expires: later.Add(day)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("sessions left after removing the user: %d, %v", n, err)
	}
}

func TestAPITokens(t *testing.T) {
	s, clk, _ := newStore(t)
	ctx := context.Background()
	u, err := s.AddUser(ctx, UserInput{Email: "bot@example.org", Role: evidence.RoleCurator, PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.AddAPIToken(ctx, u.ID, " zotero ", "hash1")
	if err != nil || tok.Name != "zotero" || tok.LastUsed != nil || tok.ID == "" {
		t.Fatalf("add = %+v, %v", tok, err)
	}
	if _, err := s.AddAPIToken(ctx, "unone", "x", "hash2"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("token of an unknown user: %v", err)
	}
	if _, err := s.AddAPIToken(ctx, u.ID, "", "hash2"); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("token with no name: %v", err)
	}
	if _, err := s.AddAPIToken(ctx, u.ID, "ci", "hash1"); err == nil {
		t.Error("a second token with the same hash was stored")
	}
	if _, err := s.AddAPIToken(ctx, u.ID, "ci", "hash3"); err != nil {
		t.Fatal(err)
	}
	got, gu, err := s.APITokenByHash(ctx, "hash1")
	if err != nil || got.ID != tok.ID || gu.ID != u.ID || gu.Role != evidence.RoleCurator || gu.Tokens != 2 {
		t.Fatalf("by hash = %+v, %+v, %v", got, gu, err)
	}
	if _, _, err := s.APITokenByHash(ctx, "nope"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}

	// last_used is written at most once per interval.
	now := clk.Now()
	for i, tt := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {30 * time.Second, false}, {61 * time.Second, true}, {62 * time.Second, false}} {
		wrote, err := s.TouchAPIToken(ctx, tok.ID, now.Add(tt.at), time.Minute)
		if err != nil || wrote != tt.want {
			t.Errorf("touch %d = %v, %v; want %v", i, wrote, err, tt.want)
		}
	}
	if got, _, _ := s.APITokenByHash(ctx, "hash1"); got.LastUsed == nil || !got.LastUsed.Equal(now.Add(61*time.Second)) {
		t.Errorf("last used = %v", got.LastUsed)
	}

	list, err := s.APITokens(ctx, u.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("tokens = %+v, %v", list, err)
	}
	if n, err := s.RevokeAPITokens(ctx, u.ID, "ci"); err != nil || n != 1 {
		t.Errorf("revoke by name = %d, %v", n, err)
	}
	if _, err := s.AddAPIToken(ctx, u.ID, "ci", "hash4"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RevokeAPITokens(ctx, u.ID, ""); err != nil || n != 2 {
		t.Errorf("revoke all = %d, %v", n, err)
	}
	if _, _, err := s.APITokenByHash(ctx, "hash1"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("revoked token still found: %v", err)
	}
	// Removing a user removes their tokens.
	if _, err := s.AddAPIToken(ctx, u.ID, "x", "hash5"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.APITokenByHash(ctx, "hash5"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("token of a removed user: %v", err)
	}
}
