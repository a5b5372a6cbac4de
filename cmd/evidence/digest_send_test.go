package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	evmail "github.com/evidencetracker/evidence/mail"

	"github.com/evidencetracker/evidence/internal/smtptest"
)

// sendHarness is a data dir with picked items and subscribers, and an
// SMTP server on 127.0.0.1 that can kill the sender at a chosen point.
type sendHarness struct {
	t    *testing.T
	bin  string
	data string
	smtp *smtptest.Server
	env  []string

	mu     sync.Mutex
	proc   *os.Process
	killAt map[smtptest.Stage]map[int]bool // stage → counts at which to kill
	kills  int
}

const sendWeek = "2026-W47"

func newSendHarness(t *testing.T, subscribers int, connections int) *sendHarness {
	t.Helper()
	h := &sendHarness{t: t, bin: buildBinary(t), data: t.TempDir(), killAt: map[smtptest.Stage]map[int]bool{}}
	srv, err := smtptest.Start(smtptest.Options{Hook: h.hook})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	h.smtp = srv
	h.env = []string{
		"EVIDENCE_SMTP_HOST=127.0.0.1", "EVIDENCE_SMTP_PORT=" + strconv.Itoa(srv.Port()), "EVIDENCE_SMTP_TLS=none",
		"EVIDENCE_SMTP_FROM=Evidence Tracker <digest@evidence.example.org>", "EVIDENCE_SMTP_RATE=0",
		"EVIDENCE_WEB_BASE_URL=https://evidence.example.org", "EVIDENCE_LOG_LEVEL=warn",
		"EVIDENCE_SMTP_CONNECTIONS=" + strconv.Itoa(connections),
	}
	// Three reports imported and picked: a week's digest for everyone.
	var jsonl strings.Builder
	for i := range 3 {
		fmt.Fprintf(&jsonl, `{"source":"kings-fund","type":"report","title":"Report %d on recovery & <b>peer</b> support","url":"https://www.kingsfund.org.uk/insight-and-analysis/reports/report-%d","published":"2026-11-1%dT09:00:00Z","summary":"What report %d finds. And more."}`+"\n", i, i, i, i)
	}
	items := filepath.Join(t.TempDir(), "items.jsonl")
	if err := os.WriteFile(items, []byte(jsonl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	h.mustRun("import", items)
	var list struct {
		Hits []struct{ ID string } `json:"hits"`
	}
	if err := json.Unmarshal([]byte(h.mustRun("search", "", "--json")), &list); err != nil || len(list.Hits) != 3 {
		t.Fatalf("imported items: %v %+v", err, list)
	}
	for _, hit := range list.Hits {
		h.mustRun("digest", "pick", hit.ID, "--week", sendWeek)
	}
	var csv strings.Builder
	csv.WriteString("email,format\n")
	for i := range subscribers {
		format := "html"
		if i%3 == 0 {
			format = "text"
		}
		fmt.Fprintf(&csv, "reader%02d+digest@example.org,%s\n", i, format)
	}
	subs := filepath.Join(t.TempDir(), "subs.csv")
	os.WriteFile(subs, []byte(csv.String()), 0o644)
	h.mustRun("subscribers", "import", subs)
	return h
}

func (h *sendHarness) hook(stage smtptest.Stage, n int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.killAt[stage][n] && h.proc != nil {
		_ = h.proc.Kill() // SIGKILL: no clean-up at all
		h.kills++
		if stage == smtptest.StageData {
			return nil // the server keeps the message it has read
		}
		return errors.New("sender killed")
	}
	return nil
}

func (h *sendHarness) command(args ...string) *exec.Cmd {
	cmd := exec.Command(h.bin, append([]string{"--data", h.data}, args...)...)
	cmd.Env = append(os.Environ(), h.env...)
	cmd.Dir = h.data
	return cmd
}

func (h *sendHarness) mustRun(args ...string) string {
	h.t.Helper()
	var out, errb bytes.Buffer
	cmd := h.command(args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("%v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// send runs digest send and reports whether it was killed.
func (h *sendHarness) send() (killed bool, out string) {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := h.command("digest", "send", "--week", sendWeek, "--json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.proc = cmd.Process
	h.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		h.t.Fatalf("digest send hung; stderr:\n%s", stderr.String())
	}
	h.mu.Lock()
	h.proc = nil
	h.mu.Unlock()
	var ee *exec.ExitError
	if errors.As(err, &ee) && !ee.Exited() {
		return true, stdout.String()
	}
	if err != nil {
		h.t.Fatalf("digest send: %v\n%s", err, stderr.String())
	}
	return false, stdout.String()
}

// received counts messages per recipient and Message-IDs per recipient.
func (h *sendHarness) received() (map[string]int, map[string]map[string]bool) {
	n := map[string]int{}
	ids := map[string]map[string]bool{}
	for _, m := range h.smtp.Messages() {
		to := m.To[0]
		n[to]++
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			h.t.Fatalf("message to %s: %v", to, err)
		}
		if ids[to] == nil {
			ids[to] = map[string]bool{}
		}
		ids[to][msg.Header.Get("Message-Id")] = true
	}
	return n, ids
}

// TestDigestSendCrash kills digest send (SIGKILL) at ten points spread over
// one week's mailing — before the first message, between messages, in the
// middle — and runs it again each time: every subscriber receives the
// week's digest exactly once and the delivery log says so. One SMTP
// connection: one message in flight, so no kill point falls between a
// server's acceptance and its record (TestDigestSendCrashParallel has two).
func TestDigestSendCrash(t *testing.T) {
	const subscribers = 30
	h := newSendHarness(t, subscribers, 1)
	// MAIL FROM number k (counted over all runs): the k-th message is cut
	// before it leaves; the ones before it were accepted and recorded.
	points := []int{1, 2, 5, 8, 11, 14, 17, 20, 24, 28}
	h.killAt[smtptest.StageMail] = map[int]bool{}
	for _, p := range points {
		h.killAt[smtptest.StageMail][p] = true
	}
	runs := 0
	for {
		runs++
		if runs > len(points)+3 {
			t.Fatalf("still not done after %d runs", runs)
		}
		killed, out := h.send()
		if !killed {
			var rep struct {
				Sent, AlreadySent, Failed int
				Subscribers               int
			}
			json.Unmarshal([]byte(out), &rep)
			if rep.Failed != 0 || rep.Subscribers != subscribers {
				t.Fatalf("final run: %s", out)
			}
			break
		}
	}
	if h.kills != len(points) {
		t.Errorf("killed %d times, want %d", h.kills, len(points))
	}
	n, ids := h.received()
	if len(n) != subscribers {
		t.Errorf("%d subscribers received mail, want %d", len(n), subscribers)
	}
	for to, c := range n {
		if c != 1 || len(ids[to]) != 1 {
			t.Errorf("%s received %d copies (%d Message-IDs), want exactly 1", to, c, len(ids[to]))
		}
	}
	// A further run sends nothing.
	if killed, out := h.send(); killed || !strings.Contains(out, `"already_sent": 30`) {
		t.Errorf("run after completion: %s", out)
	}
	if got := h.smtp.Count(); got != subscribers {
		t.Errorf("server accepted %d messages in all, want %d", got, subscribers)
	}
	list := h.mustRun("digest", "list", "--json")
	if !strings.Contains(list, `"week": "`+sendWeek+`"`) {
		t.Errorf("digest list does not show the sent week:\n%s", list)
	}
	t.Logf("%d kills over %d runs; %d messages, each subscriber once", h.kills, runs, h.smtp.Count())
}

// TestDigestSendKilledAfterServerAccepted is the one window exactly-once
// cannot close: the server has the message but the sender dies before it
// records the reply. The resend carries the same Message-ID, so a mail
// client shows one message.
func TestDigestSendKilledAfterServerAccepted(t *testing.T) {
	h := newSendHarness(t, 4, 1)
	h.killAt[smtptest.StageData] = map[int]bool{2: true}
	if killed, _ := h.send(); !killed {
		t.Fatal("the sender was not killed")
	}
	if killed, out := h.send(); killed {
		t.Fatalf("second run killed: %s", out)
	}
	n, ids := h.received()
	dups := 0
	for to, c := range n {
		if c > 1 {
			dups++
		}
		if len(ids[to]) != 1 {
			t.Errorf("%s: %d different Message-IDs, want 1", to, len(ids[to]))
		}
	}
	if len(n) != 4 || dups != 1 {
		t.Errorf("received = %v, want 4 subscribers and exactly one duplicate", n)
	}
}

func TestDigestSendMessages(t *testing.T) {
	h := newSendHarness(t, 3, 2)
	if killed, out := h.send(); killed || !strings.Contains(out, `"sent": 3`) {
		t.Fatalf("send: %s", out)
	}
	for _, m := range h.smtp.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		hd := msg.Header
		lu := hd.Get("List-Unsubscribe")
		if !strings.HasPrefix(lu, "<https://evidence.example.org/unsubscribe?token=") || !strings.Contains(lu, ", <mailto:digest@evidence.example.org") {
			t.Errorf("%s: List-Unsubscribe = %q", m.To[0], lu)
		}
		if hd.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: no one-click header", m.To[0])
		}
		if !strings.HasPrefix(hd.Get("Message-Id"), "<digest."+sendWeek+".") {
			t.Errorf("%s: Message-ID %q", m.To[0], hd.Get("Message-Id"))
		}
		ct := hd.Get("Content-Type")
		text := strings.HasPrefix(m.To[0], "reader00")
		if text != strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q", m.To[0], ct)
		}
		if strings.Contains(string(m.Data), "<b>peer</b>") {
			t.Errorf("%s: outside markup reached the mail unescaped", m.To[0])
		}
		if !text {
			h.checkLinks(t, m.To[0], msg)
		}
	}
	// --dry-run writes .eml files and records nothing.
	dir := t.TempDir()
	h.mustRun("subscribers", "add", "new@example.org")
	out := h.mustRun("digest", "send", "--week", sendWeek, "--dry-run", dir)
	if !strings.Contains(out, "4 written to") {
		t.Errorf("dry run: %s", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 4 {
		t.Errorf("dry run wrote %d files", len(files))
	}
	if killed, out := h.send(); killed || !strings.Contains(out, `"sent": 1`) {
		t.Errorf("after the dry run, the real send: %s", out)
	}
}

// TestDigestSendCrashParallel is the crash test with two connections (the
// default): a kill while the other connection's message has been accepted
// but not yet recorded resends that one message, with the same Message-ID;
// nobody else gets a second copy and nobody is missed.
func TestDigestSendCrashParallel(t *testing.T) {
	const subscribers = 30
	h := newSendHarness(t, subscribers, 2)
	points := []int{1, 3, 6, 10, 14, 18, 22, 26, 29, 32}
	h.killAt[smtptest.StageMail] = map[int]bool{}
	for _, p := range points {
		h.killAt[smtptest.StageMail][p] = true
	}
	for runs := 1; ; runs++ {
		if runs > len(points)+3 {
			t.Fatalf("still not done after %d runs", runs)
		}
		if killed, _ := h.send(); !killed {
			break
		}
	}
	n, ids := h.received()
	extra := 0
	for to, c := range n {
		if len(ids[to]) != 1 {
			t.Errorf("%s: %d Message-IDs, want 1", to, len(ids[to]))
		}
		extra += c - 1
	}
	if len(n) != subscribers {
		t.Errorf("%d subscribers received mail, want %d", len(n), subscribers)
	}
	if extra > h.kills {
		t.Errorf("%d extra copies over %d kills: more than one in flight per kill", extra, h.kills)
	}
	t.Logf("%d kills, %d resent copies (each the same Message-ID)", h.kills, extra)
}

var hrefRe = regexp.MustCompile(`href="([^"]+)"`)

// checkLinks: every link in a digest's HTML part is a stored item's page
// or PDF, the week's archive page, or a signed page of that subscriber.
func (h *sendHarness) checkLinks(t *testing.T, to string, msg *mail.Message) {
	t.Helper()
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var html string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			b, _ := io.ReadAll(p)
			html = string(b)
		}
	}
	if html == "" {
		t.Fatalf("%s: no HTML part", to)
	}
	known := map[string]bool{"https://evidence.example.org/digests/" + sendWeek: true}
	var res struct {
		Hits []struct {
			URL     string   `json:"url"`
			PDFURLs []string `json:"pdf_urls"`
		} `json:"hits"`
	}
	json.Unmarshal([]byte(h.mustRun("search", "", "--json")), &res)
	for _, hit := range res.Hits {
		known[hit.URL] = true
		for _, p := range hit.PDFURLs {
			known[p] = true
		}
	}
	secret, err := os.ReadFile(filepath.Join(h.data, "digest.secret"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := evmail.NewTokens([]byte(strings.TrimSpace(string(secret))), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	links := hrefRe.FindAllStringSubmatch(html, -1)
	if len(links) < 5 {
		t.Errorf("%s: only %d links", to, len(links))
	}
	for _, l := range links {
		u := strings.ReplaceAll(l[1], "&amp;", "&")
		if known[u] {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Host != "evidence.example.org" {
			t.Errorf("%s: link %q is neither a stored item nor a page of ours", to, u)
			continue
		}
		purpose := map[string]evmail.Purpose{"/preferences": evmail.PurposePreferences, "/unsubscribe": evmail.PurposeUnsubscribe}[pu.Path]
		if purpose == "" {
			t.Errorf("%s: link %q goes nowhere we serve", to, u)
			continue
		}
		if _, err := tokens.Verify(pu.Query().Get("token"), purpose); err != nil {
			t.Errorf("%s: link %q: token: %v", to, u, err)
		}
	}
}
