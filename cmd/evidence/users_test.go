package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

// runUsers runs the CLI in-process on data with stdin (never a terminal).
func runUsers(t *testing.T, data, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin)}
	code = a.run(t.Context(), append([]string{"--data", data, "--log-level", "error"}, args...))
	return code, out.String(), errb.String()
}

var apiTokenRe = regexp.MustCompile(`^et_[A-Za-z0-9_-]{43}$`)

func TestUsersCLI(t *testing.T) {
	t.Setenv("EVIDENCE_DATA_DIR", "")
	data := t.TempDir()
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("a long enough passphrase\nignored second line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"list, none", "", []string{"users", "list"}, 0, "no users", ""},
		{"add from a file", "", []string{"users", "add", "Librarian@Trust.NHS.uk", "--role", "curator", "--password-file", pwFile}, 0, "added Librarian@trust.nhs.uk (curator)", ""},
		{"add again", "", []string{"users", "add", "librarian@trust.nhs.uk", "--password-file", pwFile}, 1, "", "already a user librarian@trust.nhs.uk"},
		{"bad role", "", []string{"users", "add", "x@example.org", "--role", "owner", "--password-file", pwFile}, 2, "", `--role "owner": want reader, curator or admin`},
		{"bad address", "", []string{"users", "add", "not-an-address", "--password-file", pwFile}, 2, "", "bad e-mail address"},
		{"no terminal, no file", "", []string{"users", "add", "x@example.org"}, 2, "", "no terminal to ask for the password on: give it with --password-file"},
		{"short password on stdin", "short\n", []string{"users", "add", "x@example.org", "--password-file", "-"}, 2, "", "at least 12 characters"},
		{"password is the address", "x.long.address@example.org\n", []string{"users", "add", "x.long.address@example.org", "--password-file", "-"}, 2, "", "must not be the e-mail address"},
		{"empty password file", "\n", []string{"users", "add", "x@example.org", "--password-file", "-"}, 2, "", "is empty"},
		{"missing password file", "", []string{"users", "add", "x@example.org", "--password-file", filepath.Join(data, "nope")}, 2, "", "no such file"},
		{"add from stdin", "another long passphrase\r\n", []string{"users", "add", "reader@example.org", "--password-file", "-"}, 0, "added reader@example.org (reader)", ""},
		{"passwd of nobody", "", []string{"users", "passwd", "nobody@example.org", "--password-file", pwFile}, 1, "", "no user nobody@example.org"},
		{"token of nobody", "", []string{"users", "token", "nobody@example.org"}, 1, "", "no user nobody@example.org"},
		{"revoke a token that is not there", "", []string{"users", "token", "reader@example.org", "--revoke", "--name", "nope"}, 1, "", `no API token named "nope"`},
	}
	for _, s := range steps {
		code, out, errOut := runUsers(t, data, s.stdin, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) || !strings.Contains(errOut, s.wantErr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, stdout ~%q, stderr ~%q",
				s.name, code, out, errOut, s.wantCode, s.wantOut, s.wantErr)
		}
	}

	// A token: alone on stdout, the warning on stderr.
	code, out, errOut := runUsers(t, data, "", "users", "token", "librarian@trust.nhs.uk", "--name", "zotero")
	tok := strings.TrimSpace(out)
	if code != 0 || !apiTokenRe.MatchString(tok) || !strings.Contains(errOut, "cannot be shown again") {
		t.Fatalf("token: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	var made struct{ Email, Role, Name, Token string }
	code, out, _ = runUsers(t, data, "", "users", "token", "librarian@trust.nhs.uk", "--json")
	if err := json.Unmarshal([]byte(out), &made); code != 0 || err != nil || made.Name != "api" || made.Role != "curator" || !apiTokenRe.MatchString(made.Token) {
		t.Fatalf("token --json: exit %d, %v, %+v", code, err, made)
	}

	var list struct {
		Users []evidence.User `json:"users"`
	}
	code, out, _ = runUsers(t, data, "", "users", "list", "--json")
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Users) != 2 {
		t.Fatalf("list --json: exit %d, %v\n%s", code, err, out)
	}
	if u := list.Users[0]; u.Email != "Librarian@trust.nhs.uk" || u.Role != "curator" || u.Tokens != 2 || u.LastLogin != nil {
		t.Errorf("listed %+v", u)
	}
	if code, out, _ = runUsers(t, data, "", "users", "list"); code != 0 || !strings.Contains(out, "EMAIL") || !strings.Contains(out, "never") {
		t.Errorf("list: exit %d\n%s", code, out)
	}

	// What the CLI made works with the service serve uses.
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(data, "evidence.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acc := service.NewAccounts(service.AccountsOptions{Store: st})
	if p, err := acc.Bearer(ctx, tok); err != nil || p.User.Role != evidence.RoleCurator {
		t.Errorf("the CLI's token: %+v, %v", p, err)
	}
	session, _, err := acc.Login(ctx, "librarian@trust.nhs.uk", "a long enough passphrase")
	if err != nil {
		t.Fatalf("sign in with the CLI's password: %v", err)
	}

	code, out, _ = runUsers(t, data, "", "users", "token", "librarian@trust.nhs.uk", "--revoke", "--name", "zotero")
	if code != 0 || !strings.Contains(out, "revoked 1 API token") {
		t.Errorf("revoke zotero: exit %d %q", code, out)
	}
	if _, err := acc.Bearer(ctx, tok); err == nil {
		t.Error("the revoked token still works")
	}
	if _, err := acc.Bearer(ctx, made.Token); err != nil {
		t.Errorf("revoking zotero revoked the other token: %v", err)
	}

	code, out, _ = runUsers(t, data, "the new long passphrase\n", "users", "passwd", "librarian@trust.nhs.uk", "--password-file", "-")
	if code != 0 || !strings.Contains(out, "1 web session(s) signed out") {
		t.Errorf("passwd: exit %d %q", code, out)
	}
	if _, err := acc.Session(ctx, session); err == nil {
		t.Error("the session outlived the password change")
	}
	if _, _, err := acc.Login(ctx, "librarian@trust.nhs.uk", "the new long passphrase"); err != nil {
		t.Errorf("the new password: %v", err)
	}

	code, out, _ = runUsers(t, data, "", "users", "token", "librarian@trust.nhs.uk", "--revoke")
	if code != 0 || !strings.Contains(out, "revoked 1 API token") {
		t.Errorf("revoke all: exit %d %q", code, out)
	}
	code, out, _ = runUsers(t, data, "", "users", "remove", "LIBRARIAN@trust.nhs.uk")
	if code != 0 || !strings.Contains(out, "removed Librarian@trust.nhs.uk (curator)") {
		t.Errorf("remove: exit %d %q", code, out)
	}
	if code, _, errOut = runUsers(t, data, "", "users", "remove", "librarian@trust.nhs.uk"); code != 1 || !strings.Contains(errOut, "no user") {
		t.Errorf("remove twice: exit %d %q", code, errOut)
	}
}

func TestUsersHelp(t *testing.T) {
	for _, sub := range []string{"add", "list", "remove", "passwd", "token"} {
		code, out, _ := runUsers(t, t.TempDir(), "", "users", sub, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "evidence users "+sub) {
			t.Errorf("users %s --help: exit %d\n%s", sub, code, out)
		}
	}
}

// TestUsersBesideServe: with serve running, the users commands work on
// the store beside it (they are not forwarded: they ask for passwords on
// the terminal), and what they do is in force on the web at once.
func TestUsersBesideServe(t *testing.T) {
	bin := buildBinary(t)
	// Nothing to ingest: the publishers' hosts lead to a closed port.
	h := newHarness(t, bin, "127.0.0.1:1")
	h.env = append(h.env, "EVIDENCE_FETCH_RETRIES=0")
	s := startServe(t, h)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("a long enough passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := h.run("users", "add", "editor@example.org", "--role", "curator", "--password-file", pw); code != 0 || !strings.Contains(out, "added editor@example.org") {
		t.Fatalf("users add beside serve: exit %d %q", code, out)
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, header ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.url+path, nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("GET /login = %d\n%s", code, body)
	}
	resp, err := c.PostForm(s.url+"/login", url.Values{"csrf": {m[1]}, "email": {"editor@example.org"}, "password": {"a long enough passphrase"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in = %d", resp.StatusCode)
	}
	if code, body = get("/"); code != 200 || !strings.Contains(body, "editor@example.org") || !strings.Contains(body, `action="/logout"`) {
		t.Fatalf("home signed in = %d\n%s", code, body)
	}

	// An API token from the CLI is accepted by serve; a bad one is refused.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := h.command(ctx, "users", "token", "editor@example.org")
	out, err := cmd.Output()
	tok := strings.TrimSpace(string(out))
	if err != nil || !apiTokenRe.MatchString(tok) {
		t.Fatalf("users token: %v %q", err, out)
	}
	anon := &http.Client{}
	for _, tt := range []struct {
		token string
		want  int
	}{{tok, 200}, {tok + "x", 401}} {
		req, _ := http.NewRequest("GET", s.url+"/healthz", nil)
		req.Header.Set("Authorization", "Bearer "+tt.token)
		resp, err := anon.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("bearer %q… = %d, want %d", tt.token[:8], resp.StatusCode, tt.want)
		}
	}

	// A password changed from the CLI signs the browser out at once.
	if out, code := h.run("users", "passwd", "editor@example.org", "--password-file", pw); code != 0 || !strings.Contains(out, "1 web session(s) signed out") {
		t.Fatalf("users passwd beside serve: exit %d %q", code, out)
	}
	if code, body = get("/"); code != 200 || strings.Contains(body, "editor@example.org") || !strings.Contains(body, `<a href="/login">Sign in</a>`) {
		t.Errorf("home after the password change = %d, still signed in", code)
	}
	s.stop()
}
