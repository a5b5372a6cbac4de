package web_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/internal/smtptest"
	"github.com/evidencetracker/evidence/mail"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
	"github.com/evidencetracker/evidence/web"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	srv   *httptest.Server
	st    *store.Store
	smtp  *smtptest.Server
	clock *clock
	subs  *service.Subscriptions
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "evidence.db"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	smtp, err := smtptest.Start(smtptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	sender, err := mail.NewSender(mail.Options{Host: smtp.Host(), Port: smtp.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	tokens, err := mail.NewTokens([]byte(strings.Repeat("k", 32)), nil, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, smtp: smtp, clock: clk}
	f.subs = &service.Subscriptions{
		Store: st, Tokens: tokens, Mailer: sender, From: "Evidence Tracker <digest@evidence.example.org>",
		Topics:  []string{"recovery", "self-management", "workforce"},
		Sources: []evidence.SourceName{{ID: "mental-elf", Name: "The Mental Elf"}, {ID: "kings-fund", Name: "The King's Fund"}},
		Now:     clk.Now,
	}
	w, err := web.New(web.Options{Subscriptions: f.subs, Now: clk.Now, SignUpRate: 5,
		Health: func(context.Context) (any, bool) { return map[string]string{"store": "ok"}, true }})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(w.Handler())
	t.Cleanup(f.srv.Close)
	f.subs.BaseURL = f.srv.URL
	return f
}

func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfFrom(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in\n%s", body)
	}
	return m[1]
}

// textPart returns a received message's text/plain part.
func textPart(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(p) // multipart decodes quoted-printable
			return string(b)
		}
	}
}

var linkRe = regexp.MustCompile(`https?://\S+`)

func TestDoubleOptInEndToEnd(t *testing.T) {
	f := newFixture(t)
	c := browser(t)

	code, body, h := get(t, c, f.srv.URL+"/subscribe")
	if code != 200 || !strings.Contains(body, `<label for="email">E-mail address</label>`) {
		t.Fatalf("GET /subscribe = %d\n%s", code, body)
	}
	for _, hdr := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if h.Get(hdr) == "" {
			t.Errorf("missing header %s", hdr)
		}
	}
	if strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Errorf("CSP allows inline: %s", h.Get("Content-Security-Policy"))
	}
	csrf := csrfFrom(t, body)

	// Without the token (a cross-site post): refused, nothing stored.
	if code, _ := post(t, browser(t), f.srv.URL+"/subscribe", url.Values{"email": {"x@example.org"}}); code != http.StatusForbidden {
		t.Errorf("post without csrf = %d, want 403", code)
	}
	// A bad address: the form again with the message, input escaped.
	code, body = post(t, c, f.srv.URL+"/subscribe", url.Values{"csrf": {csrf}, "email": {`"><script>alert(1)</script>`}})
	if code != http.StatusUnprocessableEntity || strings.Contains(body, "<script>alert") || !strings.Contains(body, "Enter an e-mail address in the form name@example.org") {
		t.Errorf("bad address = %d\n%s", code, body)
	}
	// An unknown topic (a forged form) is refused with its name.
	code, body = post(t, c, f.srv.URL+"/subscribe", url.Values{"csrf": {csrf}, "email": {"reader@example.org"}, "topic": {"astrology"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Unknown topic &#34;astrology&#34;") {
		t.Errorf("unknown topic = %d\n%s", code, body)
	}

	form := url.Values{"csrf": {csrf}, "email": {"Reader+digest@Example.org"}, "topic": {"recovery", "workforce"}, "source": {"kings-fund"}, "format": {"text"}}
	code, body = post(t, c, f.srv.URL+"/subscribe", form)
	if code != 200 || !strings.Contains(body, "Check your inbox") {
		t.Fatalf("sign-up = %d\n%s", code, body)
	}
	// Twice within the hour: one confirmation only.
	post(t, c, f.srv.URL+"/subscribe", form)
	msgs := f.smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "Reader+digest@example.org" {
		t.Fatalf("confirmation mails = %d (%v), want 1", len(msgs), msgs)
	}
	sub, err := f.st.SubscriberByEmail(context.Background(), "reader+digest@example.org")
	if err != nil || sub.Status != evidence.SubscriberPending || strings.Join(sub.Topics, ",") != "recovery,workforce" || sub.Format != "text" {
		t.Fatalf("pending subscriber = %+v, %v", sub, err)
	}
	confirmURL := linkRe.FindString(textPart(t, msgs[0].Data))
	if !strings.HasPrefix(confirmURL, f.srv.URL+"/confirm?token=") {
		t.Fatalf("confirmation link %q", confirmURL)
	}

	// Tampered and wrong-purpose links get a clear page, never a 500.
	u, _ := url.Parse(confirmURL)
	tok := u.Query().Get("token")
	tampered := tok[:10] + string(rune(tok[10]^1)) + tok[11:]
	for _, bad := range []string{
		f.srv.URL + "/confirm?token=" + url.QueryEscape(tampered),
		f.srv.URL + "/confirm?token=",
		f.srv.URL + "/unsubscribe?token=" + url.QueryEscape(tok), // a confirm token
	} {
		code, body, _ := get(t, c, bad)
		if code != http.StatusBadRequest || !strings.Contains(body, "This link does not work") {
			t.Errorf("GET %s = %d\n%s", bad, code, body)
		}
	}

	code, body, _ = get(t, c, confirmURL)
	if code != 200 || !strings.Contains(body, "You are subscribed") {
		t.Fatalf("confirm = %d\n%s", code, body)
	}
	if sub, _ = f.st.Subscriber(context.Background(), sub.ID); sub.Status != evidence.SubscriberActive {
		t.Fatalf("after confirm: %s", sub.Status)
	}

	// Preferences: change topics and format.
	prefsURL, unsubURL := f.subs.PersonalLinks(sub)
	code, body, _ = get(t, c, prefsURL)
	if code != 200 || !strings.Contains(body, `value="recovery" aria-describedby="topics-hint" checked`) {
		t.Fatalf("preferences = %d\n%s", code, body)
	}
	pu, _ := url.Parse(prefsURL)
	code, body = post(t, c, f.srv.URL+"/preferences", url.Values{"csrf": {csrfFrom(t, body)}, "token": {pu.Query().Get("token")}, "topic": {"self-management"}, "format": {"html"}})
	if code != 200 || !strings.Contains(body, "self-management") {
		t.Fatalf("save preferences = %d\n%s", code, body)
	}
	if sub, _ = f.st.Subscriber(context.Background(), sub.ID); strings.Join(sub.Topics, ",") != "self-management" || sub.Format != "html" {
		t.Errorf("after preferences: %+v", sub)
	}

	// GET /unsubscribe only shows the button.
	code, body, _ = get(t, c, unsubURL)
	if code != 200 || !strings.Contains(body, `<button type="submit" class="danger">Unsubscribe</button>`) {
		t.Fatalf("unsubscribe page = %d\n%s", code, body)
	}
	if sub, _ = f.st.Subscriber(context.Background(), sub.ID); sub.Status != evidence.SubscriberActive {
		t.Fatalf("GET unsubscribed: %s", sub.Status)
	}
	// RFC 8058 one-click: a bare POST to the header's URL, no cookies.
	resp, err := http.Post(unsubURL, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click POST = %d", resp.StatusCode)
	}
	if sub, _ = f.st.Subscriber(context.Background(), sub.ID); sub.Status != evidence.SubscriberUnsubscribed {
		t.Fatalf("after one-click: %s", sub.Status)
	}
	// The old confirmation link does not re-subscribe them.
	if code, body, _ := get(t, c, confirmURL); code != http.StatusBadRequest || !strings.Contains(body, "unsubscribed after the link was sent") {
		t.Errorf("old confirm after unsubscribe = %d\n%s", code, body)
	}
}

func TestConfirmationLinkExpires(t *testing.T) {
	f := newFixture(t)
	c := browser(t)
	_, body, _ := get(t, c, f.srv.URL+"/subscribe")
	post(t, c, f.srv.URL+"/subscribe", url.Values{"csrf": {csrfFrom(t, body)}, "email": {"late@example.org"}})
	msgs := f.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails", len(msgs))
	}
	link := linkRe.FindString(textPart(t, msgs[0].Data))
	f.clock.Advance(8 * 24 * time.Hour)
	code, body, _ := get(t, c, link)
	if code != http.StatusBadRequest || !strings.Contains(body, "The link has expired") {
		t.Errorf("expired link = %d\n%s", code, body)
	}
}

func TestSignUpRateLimit(t *testing.T) {
	f := newFixture(t)
	c := browser(t)
	_, body, _ := get(t, c, f.srv.URL+"/subscribe")
	csrf := csrfFrom(t, body)
	var codes []int
	for i := range 7 {
		code, _ := post(t, c, f.srv.URL+"/subscribe", url.Values{"csrf": {csrf}, "email": {"r" + string(rune('a'+i)) + "@example.org"}})
		codes = append(codes, code)
	}
	if codes[4] != 200 || codes[5] != http.StatusTooManyRequests || codes[6] != http.StatusTooManyRequests {
		t.Errorf("codes = %v, want 5×200 then 429", codes)
	}
	f.clock.Advance(61 * time.Minute)
	if code, _ := post(t, c, f.srv.URL+"/subscribe", url.Values{"csrf": {csrf}, "email": {"later@example.org"}}); code != 200 {
		t.Errorf("after an hour = %d", code)
	}
}

func TestPagesAndErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/", 200, "Subscribe to the digest"},
		{"/healthz", 200, `"store": "ok"`},
		{"/static/site.css", 200, "--brand"},
		{"/no/such/page", 404, "Page not found"},
		{"/preferences?token=%00%ff", 400, "This link does not work"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body, _ := get(t, http.DefaultClient, f.srv.URL+tt.path)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Errorf("GET %s = %d, want %d with %q\n%s", tt.path, code, tt.code, tt.want, body)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodDelete, f.srv.URL+"/subscribe", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /subscribe = %d, want 405", resp.StatusCode)
	}
}
