package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence/internal/smtptest"
)

func startSMTP(t *testing.T, opts smtptest.Options) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testSender(t *testing.T, srv *smtptest.Server, mod func(*Options)) *Sender {
	t.Helper()
	o := Options{
		Host: srv.Host(), Port: srv.Port(), TLS: TLSNone, Retries: 2, Backoff: time.Millisecond,
		Timeout: 5 * time.Second,
		Sleep:   func(context.Context, time.Duration) error { return nil },
	}
	if mod != nil {
		mod(&o)
	}
	s, err := NewSender(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testMessage(to string) Message {
	return Message{
		From:            "Evidence Tracker <digest@evidence.example.org>",
		To:              to,
		Subject:         "Evidence digest, week 47: café, “quotes” and 12 new items",
		Text:            "Hello.\n\nThis week's evidence.\n",
		HTML:            "<p>Hello.</p><p>This week&#39;s evidence.</p>",
		MessageID:       DigestMessageID("2026-W47", "sub-1", "evidence.example.org"),
		Date:            time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC),
		ListUnsubscribe: []string{"https://evidence.example.org/unsubscribe?token=abc.def", "mailto:unsubscribe@evidence.example.org?subject=unsubscribe"},
		OneClick:        true,
		ListID:          "Evidence digest <digest.evidence.example.org>",
	}
}

func TestSendReusesOneConnectionAndParsesBack(t *testing.T) {
	srv := startSMTP(t, smtptest.Options{})
	s := testSender(t, srv, nil)
	ctx := context.Background()
	for _, to := range []string{"a@example.org", "b+digest@example.org", "c@example.org"} {
		if _, err := s.Send(ctx, testMessage(to)); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
	}
	if got := srv.Connections(); got != 1 {
		t.Errorf("connections = %d, want 1 (reused)", got)
	}
	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("received %d messages, want 3", len(msgs))
	}
	if msgs[1].To[0] != "b+digest@example.org" {
		t.Errorf("envelope to = %v", msgs[1].To)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Header
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subj != testMessage("").Subject {
		t.Errorf("subject = %q (%v)", subj, err)
	}
	if got := h.Get("Message-Id"); got != "<digest.2026-W47.sub-1@evidence.example.org>" {
		t.Errorf("Message-ID = %q", got)
	}
	if got := h.Get("List-Unsubscribe"); got != "<https://evidence.example.org/unsubscribe?token=abc.def>, <mailto:unsubscribe@evidence.example.org?subject=unsubscribe>" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if d, err := h.Date(); err != nil || !d.Equal(testMessage("").Date) {
		t.Errorf("Date = %v, %v", d, err)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		if cp["charset"] != "UTF-8" {
			t.Errorf("part %s charset = %q", ct, cp["charset"])
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts = %v, want text/plain then text/html", types)
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name      string
		faults    []smtptest.Fault
		wantErr   bool
		permanent bool
		attempts  int
		received  int
	}{
		{"421 on connect once, then ok", []smtptest.Fault{{Stage: smtptest.StageConnect, Code: 421, Times: 1}}, false, false, 2, 1},
		{"451 on RCPT once, then ok", []smtptest.Fault{{Stage: smtptest.StageRcpt, Code: 451, Times: 1}}, false, false, 2, 1},
		{"451 on RCPT always", []smtptest.Fault{{Stage: smtptest.StageRcpt, Code: 451}}, true, false, 3, 0},
		{"550 on RCPT: permanent, no retry", []smtptest.Fault{{Stage: smtptest.StageRcpt, Code: 550, Message: "no such user"}}, true, true, 1, 0},
		{"554 after DATA", []smtptest.Fault{{Stage: smtptest.StageData, Code: 554}}, true, true, 1, 0},
		{"dropped mid-DATA once", []smtptest.Fault{{Stage: smtptest.StageData, Action: smtptest.Drop, Times: 1}}, false, false, 2, 1},
		{"dropped on MAIL always", []smtptest.Fault{{Stage: smtptest.StageMail, Action: smtptest.Drop}}, true, false, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, smtptest.Options{})
			for _, f := range tt.faults {
				srv.AddFault(f)
			}
			s := testSender(t, srv, nil)
			res, err := s.Send(context.Background(), testMessage("reader@example.org"))
			if got := srv.Count(); got != tt.received {
				t.Errorf("server received %d, want %d", got, tt.received)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if res.Attempts != tt.attempts {
					t.Errorf("attempts = %d, want %d", res.Attempts, tt.attempts)
				}
				return
			}
			var de *DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("Send error = %v, want *DeliveryError", err)
			}
			if de.Permanent != tt.permanent || de.Attempts != tt.attempts {
				t.Errorf("DeliveryError permanent=%v attempts=%d, want %v %d (%v)", de.Permanent, de.Attempts, tt.permanent, tt.attempts, de)
			}
			if !strings.Contains(de.Error(), "reader@example.org") {
				t.Errorf("error %q does not name the recipient", de)
			}
		})
	}
}

func TestSendAfterPermanentRefusalGoesOn(t *testing.T) {
	srv := startSMTP(t, smtptest.Options{})
	srv.AddFault(smtptest.Fault{Stage: smtptest.StageRcpt, To: "gone@example.org", Code: 550})
	s := testSender(t, srv, nil)
	ctx := context.Background()
	if _, err := s.Send(ctx, testMessage("gone@example.org")); err == nil {
		t.Fatal("550 was not an error")
	}
	if _, err := s.Send(ctx, testMessage("here@example.org")); err != nil {
		t.Fatalf("next recipient: %v", err)
	}
	if srv.Count() != 1 || srv.Connections() != 1 {
		t.Errorf("received %d over %d connections, want 1 over 1", srv.Count(), srv.Connections())
	}
}

func TestSendStalledServerTimesOut(t *testing.T) {
	srv := startSMTP(t, smtptest.Options{})
	srv.AddFault(smtptest.Fault{Stage: smtptest.StageData, Action: smtptest.Stall})
	s := testSender(t, srv, func(o *Options) { o.Timeout = 300 * time.Millisecond; o.Retries = 0 })
	_, err := s.Send(context.Background(), testMessage("reader@example.org"))
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent {
		t.Fatalf("stalled server: %v, want a temporary DeliveryError", err)
	}
}

func TestSendRefusedConnection(t *testing.T) {
	srv := startSMTP(t, smtptest.Options{})
	port := srv.Port()
	_ = srv.Close()
	s, err := NewSender(Options{Host: "127.0.0.1", Port: port, TLS: TLSNone, Retries: 1, Timeout: 2 * time.Second,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), testMessage("reader@example.org"))
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.Attempts != 2 {
		t.Fatalf("refused connection: %v, want temporary after 2 attempts", err)
	}
	if !strings.Contains(err.Error(), "connect to 127.0.0.1") {
		t.Errorf("error %q does not say where it tried to connect", err)
	}
}

func TestSendWithAuth(t *testing.T) {
	srv := startSMTP(t, smtptest.Options{Username: "digest", Password: "s3cret"})
	good := testSender(t, srv, func(o *Options) { o.Username, o.Password = "digest", "s3cret" })
	if _, err := good.Send(context.Background(), testMessage("reader@example.org")); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	bad := testSender(t, srv, func(o *Options) { o.Username, o.Password = "digest", "wrong"; o.Retries = 0 })
	if _, err := bad.Send(context.Background(), testMessage("reader@example.org")); err == nil {
		t.Fatal("wrong password accepted")
	}
	if srv.Count() != 1 {
		t.Errorf("received %d, want 1", srv.Count())
	}
}

func TestSendRefusesHeaderInjection(t *testing.T) {
	srv := startSMTP(t, smtptest.Options{})
	s := testSender(t, srv, nil)
	for _, m := range []Message{
		testMessage("a@b.test\r\nBcc: x@y.test"),
		func() Message { m := testMessage("a@b.test"); m.Subject = "hi\r\nBcc: x@y.test"; return m }(),
		func() Message {
			m := testMessage("a@b.test")
			m.ListUnsubscribe = []string{"https://x.test/u>, <https://evil.test"}
			return m
		}(),
	} {
		_, err := s.Send(context.Background(), m)
		var de *DeliveryError
		if !errors.As(err, &de) || !de.Permanent {
			t.Errorf("message to %q subject %q: %v, want a permanent refusal", m.To, m.Subject, err)
		}
	}
	if srv.Count() != 0 {
		t.Errorf("server received %d messages", srv.Count())
	}
}

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Reader@Example.ORG", "Reader@example.org", true},
		{"  reader+digest@example.org ", "reader+digest@example.org", true},
		{"josé@exemple.fr", "josé@exemple.fr", true},
		{"a@b.test\r\nBcc: x@y.test", "", false},
		{"Jane <jane@example.org>", "", false},
		{"a@b.test, c@d.test", "", false},
		{"no-at-sign", "", false},
		{"a@localhost", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeAddress(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("NormalizeAddress(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrAddress) {
				t.Errorf("error %v does not wrap ErrAddress", err)
			}
		})
	}
}

func TestTextOnlyMessage(t *testing.T) {
	m := testMessage("reader@example.org")
	m.HTML = ""
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pm, err := netmail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, _ := mime.ParseMediaType(pm.Header.Get("Content-Type")); mt != "text/plain" {
		t.Errorf("text-only Content-Type = %q", pm.Header.Get("Content-Type"))
	}
}
