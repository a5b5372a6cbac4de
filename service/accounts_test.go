package service

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/store"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cheapHash keeps the tests fast; the format and the checks are the same.
var cheapHash = HashParams{Memory: 64, Time: 1, Threads: 1}

func newAccounts(t *testing.T, p HashParams) (*Accounts, *store.Store, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "evidence.db"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewAccounts(AccountsOptions{Store: st, Hash: p, Now: clk.Now, SessionTTL: 24 * time.Hour}), st, clk
}

const goodPassword = "correct horse battery"

func TestAccountsAddUser(t *testing.T) {
	a, st, _ := newAccounts(t, cheapHash)
	ctx := context.Background()
	u, err := a.AddUser(ctx, "Editor@Trust.NHS.UK", evidence.RoleCurator, goodPassword)
	if err != nil || u.Email != "Editor@trust.nhs.uk" || u.Role != evidence.RoleCurator {
		t.Fatalf("add = %+v, %v", u, err)
	}
	rec, _ := st.UserByEmail(ctx, u.Email)
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(rec.PasswordHash) {
		t.Errorf("stored hash %q is not an argon2id PHC string", rec.PasswordHash)
	}
	for _, tt := range []struct {
		name, email, role, password string
		want                        error
		msg                         string
	}{
		{"short password", "a@example.org", evidence.RoleReader, "eleven char", evidence.ErrInvalid, "at least 12 characters"},
		{"password is the address", "long.address@example.org", evidence.RoleReader, "Long.Address@example.org", evidence.ErrInvalid, "must not be the e-mail address"},
		{"unknown role", "a@example.org", "owner", goodPassword, evidence.ErrInvalid, "choose reader, curator or admin"},
		{"bad address", "not an address", evidence.RoleReader, goodPassword, evidence.ErrInvalid, "bad e-mail address"},
		{"taken address", "editor@trust.nhs.uk", evidence.RoleAdmin, goodPassword, evidence.ErrConflict, "already a user"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.AddUser(ctx, tt.email, tt.role, tt.password)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("AddUser = %v, want %v saying %q", err, tt.want, tt.msg)
			}
		})
	}
	// Twelve characters, counted as characters not bytes.
	if _, err := a.AddUser(ctx, "b@example.org", evidence.RoleReader, "ééééééééééé"); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("11 two-byte characters accepted: %v", err)
	}
	if _, err := a.AddUser(ctx, "b@example.org", evidence.RoleReader, "éééééééééééé"); err != nil {
		t.Errorf("12 characters refused: %v", err)
	}
	list, err := a.Users(ctx)
	if err != nil || len(list) != 2 {
		t.Errorf("users = %+v, %v", list, err)
	}
}

func TestAccountsLoginAndSession(t *testing.T) {
	a, _, clk := newAccounts(t, cheapHash)
	ctx := context.Background()
	if _, err := a.AddUser(ctx, "reader@example.org", evidence.RoleReader, goodPassword); err != nil {
		t.Fatal(err)
	}
	token, p, err := a.Login(ctx, " READER@example.org", goodPassword)
	if err != nil || p.User.Email != "reader@example.org" || p.Via != "session" || !p.SessionExpires.Equal(clk.Now().Add(24*time.Hour)) || p.User.LastLogin == nil {
		t.Fatalf("login = %q, %+v, %v", token, p, err)
	}

	// A wrong password and an unknown address: the same error, the same work.
	for _, tt := range []struct{ name, email, password string }{
		{"wrong password", "reader@example.org", goodPassword + "!"},
		{"unknown address", "nobody@example.org", goodPassword},
		{"empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := a.hashes.Load()
			_, _, err := a.Login(ctx, tt.email, tt.password)
			if !errors.Is(err, evidence.ErrInvalid) || err.Error() != errWrongLogin.Error() {
				t.Errorf("login = %v", err)
			}
			if n := a.hashes.Load() - before; n != 1 {
				t.Errorf("%d password hashes computed, want 1", n)
			}
		})
	}

	got, err := a.Session(ctx, token)
	if err != nil || got.User.ID != p.User.ID || got.Via != "session" {
		t.Fatalf("session = %+v, %v", got, err)
	}
	for _, bad := range []string{"", token + "x", strings.ToUpper(token[:1]) + token[1:], "et_" + token, "../../etc/passwd"} {
		if bad == token {
			continue
		}
		if _, err := a.Session(ctx, bad); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("session(%q) = %v, want ErrNotFound", bad, err)
		}
	}

	// Sliding: used after 20 h, it lasts until 24 h after that use.
	clk.Advance(20 * time.Hour)
	got, err = a.Session(ctx, token)
	if err != nil || !got.SessionExpires.Equal(clk.Now().Add(24*time.Hour)) {
		t.Fatalf("session after 20 h = %+v, %v", got, err)
	}
	clk.Advance(23 * time.Hour)
	if _, err := a.Session(ctx, token); err != nil {
		t.Fatalf("session 23 h after the last use: %v", err)
	}
	// Unused for longer than the TTL: expired.
	clk.Advance(25 * time.Hour)
	if _, err := a.Session(ctx, token); !errors.Is(err, evidence.ErrNotFound) {
		t.Fatalf("expired session = %v", err)
	}

	token, _, err = a.Login(ctx, "reader@example.org", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, token); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("session after logout = %v", err)
	}
	if err := a.Logout(ctx, token); err != nil {
		t.Errorf("logout twice: %v", err)
	}
	if err := a.Logout(ctx, "garbage"); err != nil {
		t.Errorf("logout of garbage: %v", err)
	}
}

func TestAccountsSetPasswordEndsSessions(t *testing.T) {
	a, _, _ := newAccounts(t, cheapHash)
	ctx := context.Background()
	if _, err := a.AddUser(ctx, "admin@example.org", evidence.RoleAdmin, goodPassword); err != nil {
		t.Fatal(err)
	}
	t1, _, _ := a.Login(ctx, "admin@example.org", goodPassword)
	t2, _, _ := a.Login(ctx, "admin@example.org", goodPassword)
	if _, err := a.SetPassword(ctx, "admin@example.org", "short"); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("short new password: %v", err)
	}
	if _, err := a.SetPassword(ctx, "nobody@example.org", goodPassword); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	n, err := a.SetPassword(ctx, "ADMIN@example.org", "a new long passphrase")
	if err != nil || n != 2 {
		t.Fatalf("set password ended %d sessions, %v", n, err)
	}
	for _, tok := range []string{t1, t2} {
		if _, err := a.Session(ctx, tok); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("session after password change = %v", err)
		}
	}
	if _, _, err := a.Login(ctx, "admin@example.org", goodPassword); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("old password: %v", err)
	}
	if _, _, err := a.Login(ctx, "admin@example.org", "a new long passphrase"); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func TestAccountsTokens(t *testing.T) {
	a, st, clk := newAccounts(t, cheapHash)
	ctx := context.Background()
	u, err := a.AddUser(ctx, "bot@example.org", evidence.RoleCurator, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.NewToken(ctx, "nobody@example.org", ""); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("token for nobody: %v", err)
	}
	tok, err := a.NewToken(ctx, "bot@example.org", "")
	if err != nil || !regexp.MustCompile(`^et_[A-Za-z0-9_-]{43}$`).MatchString(tok) {
		t.Fatalf("new token = %q, %v", tok, err)
	}
	p, err := a.Bearer(ctx, tok)
	if err != nil || p.User.ID != u.ID || p.Via != "token" || !p.Can(evidence.RoleCurator) || p.Can(evidence.RoleAdmin) {
		t.Fatalf("bearer = %+v, %v", p, err)
	}
	for _, bad := range []string{"", tok[:len(tok)-1] + "A", tok[3:], "et_", "Bearer " + tok} {
		if bad == tok {
			continue
		}
		if _, err := a.Bearer(ctx, bad); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("bearer(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	// A session token is no API token, nor the reverse.
	sess, _, _ := a.Login(ctx, "bot@example.org", goodPassword)
	if _, err := a.Bearer(ctx, sess); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("session token as bearer = %v", err)
	}
	if _, err := a.Session(ctx, tok); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("API token as session = %v", err)
	}

	// last_used: written at the first use, then at most once a minute.
	first := clk.Now()
	clk.Advance(30 * time.Second)
	_, _ = a.Bearer(ctx, tok)
	toks, _ := st.APITokens(ctx, u.ID)
	if len(toks) != 1 || toks[0].Name != "api" || toks[0].LastUsed == nil || !toks[0].LastUsed.Equal(first) {
		t.Errorf("tokens = %+v", toks)
	}
	clk.Advance(31 * time.Second)
	_, _ = a.Bearer(ctx, tok)
	toks, _ = st.APITokens(ctx, u.ID)
	if !toks[0].LastUsed.Equal(clk.Now()) {
		t.Errorf("last used %v, want %v", toks[0].LastUsed, clk.Now())
	}

	ci, _ := a.NewToken(ctx, "bot@example.org", "ci")
	if n, err := a.RevokeTokens(ctx, "bot@example.org", "ci"); err != nil || n != 1 {
		t.Errorf("revoke ci = %d, %v", n, err)
	}
	if _, err := a.Bearer(ctx, ci); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("revoked token = %v", err)
	}
	if _, err := a.Bearer(ctx, tok); err != nil {
		t.Errorf("the other token stopped working: %v", err)
	}
	if n, err := a.RevokeTokens(ctx, "bot@example.org", ""); err != nil || n != 1 {
		t.Errorf("revoke all = %d, %v", n, err)
	}

	// Removing the user ends everything.
	tok, _ = a.NewToken(ctx, "bot@example.org", "x")
	if err := a.RemoveUser(ctx, "bot@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Bearer(ctx, tok); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("token of a removed user = %v", err)
	}
	if _, err := a.Session(ctx, sess); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("session of a removed user = %v", err)
	}
	if err := a.RemoveUser(ctx, "bot@example.org"); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("remove twice = %v", err)
	}
}

func TestAccountsDefaultHash(t *testing.T) {
	a, st, _ := newAccounts(t, HashParams{})
	ctx := context.Background()
	if _, err := a.AddUser(ctx, "a@example.org", evidence.RoleReader, goodPassword); err != nil {
		t.Fatal(err)
	}
	rec, _ := st.UserByEmail(ctx, "a@example.org")
	if !strings.HasPrefix(rec.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q", rec.PasswordHash)
	}
	// A hash made with other costs (before a change of defaults) still works.
	cheap := NewAccounts(AccountsOptions{Store: st, Hash: cheapHash})
	if _, err := cheap.SetPassword(ctx, "a@example.org", goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Login(ctx, "a@example.org", goodPassword); err != nil {
		t.Errorf("login with an older hash: %v", err)
	}
}

func TestParsePHC(t *testing.T) {
	ok := "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43)
	if _, _, _, err := parsePHC(ok); err != nil {
		t.Fatalf("parse %q: %v", ok, err)
	}
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$AAAA",
	} {
		if _, _, _, err := parsePHC(bad); err == nil {
			t.Errorf("parsePHC(%q) accepted", bad)
		}
	}
}
