package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// Message is one e-mail. HTML may be empty (a text-only message).
type Message struct {
	From    string // "Name <addr>" or addr
	To      string // one recipient
	Subject string
	Text    string
	HTML    string
	// MessageID without angle brackets; derive it from what the message is
	// (see DigestMessageID) so a resend carries the same one.
	MessageID string
	Date      time.Time
	// ListUnsubscribe holds the one-click https URL and a mailto; with
	// OneClick the List-Unsubscribe-Post header of RFC 8058 is added.
	ListUnsubscribe []string
	OneClick        bool
	// ListID names the list (RFC 2919), e.g. "Evidence digest <digest.example.org>".
	ListID string
}

// ErrAddress marks an address that cannot be used (malformed, or carrying
// line breaks that would inject headers).
var ErrAddress = errors.New("bad e-mail address")

// NormalizeAddress checks a subscriber's address and returns it in the
// stored form: the bare address, domain lower-cased, local part kept as
// given (it may be case-sensitive); Unicode and +tags are allowed. Line
// breaks, display names, several addresses and addresses without a dot in
// the domain are refused.
func NormalizeAddress(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrAddress)
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		return "", fmt.Errorf("%w %q: contains a line break", ErrAddress, raw)
	}
	if !utf8.ValidString(s) || len(s) > 254 {
		return "", fmt.Errorf("%w %q: not valid UTF-8 or too long", ErrAddress, raw)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("%w %q: %v", ErrAddress, raw, err)
	}
	if a.Name != "" || strings.ContainsAny(s, "<>,;") {
		return "", fmt.Errorf("%w %q: give the address alone, without a name", ErrAddress, raw)
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", fmt.Errorf("%w %q: the domain needs a dot", ErrAddress, raw)
	}
	return local + "@" + strings.ToLower(domain), nil
}

// DigestMessageID is the Message-ID of one week's digest for one
// subscriber: the same every time it is built, so a resend after a crash
// is recognisably the same message.
func DigestMessageID(week, subscriberID, domain string) string {
	if domain == "" {
		domain = "evidence-tracker.invalid"
	}
	return fmt.Sprintf("digest.%s.%s@%s", sanitizeIDPart(week), sanitizeIDPart(subscriberID), domain)
}

func sanitizeIDPart(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func headerSafe(name, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("mail: %s contains a line break", name)
	}
	return nil
}

// msg builds the go-mail message.
func (m Message) msg() (*gomail.Msg, error) {
	if _, err := NormalizeAddress(m.To); err != nil {
		return nil, fmt.Errorf("mail: to: %w", err)
	}
	for name, v := range map[string]string{"from": m.From, "subject": m.Subject, "message-id": m.MessageID, "list-id": m.ListID} {
		if err := headerSafe(name, v); err != nil {
			return nil, err
		}
	}
	for _, u := range m.ListUnsubscribe {
		if err := headerSafe("list-unsubscribe", u); err != nil {
			return nil, err
		}
		if strings.ContainsAny(u, "<>, ") {
			return nil, fmt.Errorf("mail: list-unsubscribe URL %q has characters that need escaping", u)
		}
	}
	if m.Text == "" {
		return nil, errors.New("mail: a message needs a text part")
	}
	g := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := g.From(m.From); err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", m.From, err)
	}
	if err := g.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: to %q: %w", m.To, err)
	}
	g.Subject(m.Subject)
	if m.MessageID != "" {
		g.SetMessageIDWithValue(m.MessageID)
	} else {
		g.SetMessageID()
	}
	if m.Date.IsZero() {
		return nil, errors.New("mail: a message needs a date")
	}
	g.SetDateWithValue(m.Date)
	if len(m.ListUnsubscribe) > 0 {
		vals := make([]string, len(m.ListUnsubscribe))
		for i, u := range m.ListUnsubscribe {
			vals[i] = "<" + u + ">"
		}
		g.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, strings.Join(vals, ", "))
		if m.OneClick {
			g.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
		}
	}
	if m.ListID != "" {
		g.SetGenHeader(gomail.Header("List-Id"), m.ListID)
	}
	g.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	g.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		g.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return g, nil
}

// WriteTo writes the message as it would be sent (an .eml file).
func (m Message) WriteTo(w io.Writer) (int64, error) {
	g, err := m.msg()
	if err != nil {
		return 0, err
	}
	return g.WriteTo(w)
}

// Bytes is the message as it would be sent.
func (m Message) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
