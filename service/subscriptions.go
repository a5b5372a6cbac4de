// Package service holds the operations the CLI, the web and the scheduler
// share, written once over the store, the index, the digest builder and
// the mailer: the web's handlers and cmd's commands call these, never the
// store directly.
package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/mail"
	"github.com/evidencetracker/evidence/store"
)

// SubscriberStore is what subscriptions need of the store.
type SubscriberStore interface {
	AddSubscriber(ctx context.Context, in store.SubscriberInput) (evidence.Subscriber, bool, error)
	Subscriber(ctx context.Context, id string) (evidence.Subscriber, error)
	ConfirmSubscriber(ctx context.Context, id string) (evidence.Subscriber, error)
	Unsubscribe(ctx context.Context, id string) (evidence.Subscriber, error)
	SetSubscriberChoices(ctx context.Context, id string, topics, sources []string, format string) error
	ClaimConfirmation(ctx context.Context, id string, within time.Duration) (bool, error)
}

// Mailer sends one message (mail.Sender; a fake in tests).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) (mail.Result, error)
}

// Choice is a reader's selection.
type Choice = evidence.Preferences

// Subscriptions runs double opt-in sign-up, confirmation, preferences and
// unsubscribing, with signed links.
type Subscriptions struct {
	Store   SubscriberStore
	Tokens  *mail.Tokens
	Mailer  Mailer
	BaseURL string // web.base_url: links in mail point here
	From    string // smtp.from
	Title   string // the digest's name, for the confirmation mail
	// Topics and Sources are what readers may choose.
	Topics  []string
	Sources []evidence.SourceName
	// ResendAfter is the least time between two confirmation mails to one
	// address (default 1 h).
	ResendAfter time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
}

// ErrLink wraps every refused confirm, preferences or unsubscribe link.
var ErrLink = fmt.Errorf("link: %w", evidence.ErrInvalid)

func (s *Subscriptions) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Subscriptions) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Choices are the topics and sources on offer.
func (s *Subscriptions) Choices() ([]string, []evidence.SourceName) { return s.Topics, s.Sources }

// Validate checks a choice against what is on offer, naming what is not.
func (s *Subscriptions) Validate(c Choice) (Choice, error) {
	out := Choice{Format: cmp.Or(c.Format, evidence.FormatHTML)}
	if out.Format != evidence.FormatHTML && out.Format != evidence.FormatText {
		return out, fmt.Errorf("format %q: choose html or text: %w", c.Format, evidence.ErrInvalid)
	}
	for _, t := range c.Topics {
		i := slices.IndexFunc(s.Topics, func(k string) bool { return strings.EqualFold(k, strings.TrimSpace(t)) })
		if i < 0 {
			return out, fmt.Errorf("unknown topic %q: %w", t, evidence.ErrInvalid)
		}
		if !slices.Contains(out.Topics, s.Topics[i]) {
			out.Topics = append(out.Topics, s.Topics[i])
		}
	}
	for _, id := range c.Sources {
		if !slices.ContainsFunc(s.Sources, func(k evidence.SourceName) bool { return k.ID == id }) {
			return out, fmt.Errorf("unknown source %q: %w", id, evidence.ErrInvalid)
		}
		if !slices.Contains(out.Sources, id) {
			out.Sources = append(out.Sources, id)
		}
	}
	return out, nil
}

// SignUp stores a pending subscriber and mails them a confirmation link.
// An address already active is left as it is and sent nothing (the page
// says the same either way, so the form does not reveal who subscribes).
// A second sign-up within ResendAfter sends no second mail.
func (s *Subscriptions) SignUp(ctx context.Context, email string, c Choice) error {
	addr, err := mail.NormalizeAddress(email)
	if err != nil {
		s.log().Info("sign-up refused", "err", err)
		return fmt.Errorf("enter an e-mail address in the form name@example.org: %w", evidence.ErrInvalid)
	}
	c, err = s.Validate(c)
	if err != nil {
		return err
	}
	sub, _, err := s.Store.AddSubscriber(ctx, store.SubscriberInput{
		Email: addr, Status: evidence.SubscriberPending, Topics: c.Topics, Sources: c.Sources, Format: c.Format,
	})
	if err != nil {
		return err
	}
	if sub.Status == evidence.SubscriberActive {
		s.log().Info("sign-up of an active subscriber: nothing sent", "subscriber", sub.ID)
		return nil
	}
	ok, err := s.Store.ClaimConfirmation(ctx, sub.ID, cmp.Or(s.ResendAfter, time.Hour))
	if err != nil {
		return err
	}
	if !ok {
		s.log().Info("confirmation sent recently: not sending another", "subscriber", sub.ID)
		return nil
	}
	link := s.Link("/confirm", mail.PurposeConfirm, sub.ID)
	title := cmp.Or(s.Title, "the weekly evidence digest")
	text := fmt.Sprintf(`Hello,

Someone (we hope you) asked to receive %s at this address.

To confirm, open this link within 7 days:

  %s

If you did not ask for it, ignore this message: nothing will be sent.
`, title, link)
	html := fmt.Sprintf(`<p>Hello,</p><p>Someone (we hope you) asked to receive %s at this address.</p>`+
		`<p><a href="%s">Confirm your subscription</a> (the link works for 7 days).</p>`+
		`<p>If you did not ask for it, ignore this message: nothing will be sent.</p>`,
		html.EscapeString(title), html.EscapeString(link))
	_, err = s.Mailer.Send(ctx, mail.Message{
		From: s.From, To: sub.Email, Subject: "Confirm your subscription to " + title,
		Text: text, HTML: html, Date: s.now(),
		MessageID: fmt.Sprintf("confirm.%s.%d@%s", sub.ID, s.now().Unix(), s.host()),
	})
	if err != nil {
		return fmt.Errorf("send confirmation to %s: %w", sub.Email, err)
	}
	return nil
}

// Link is an absolute URL on the site carrying a signed token.
func (s *Subscriptions) Link(path string, p mail.Purpose, subscriberID string) string {
	ttl := mail.NoExpiry
	if p == mail.PurposeConfirm {
		ttl = mail.ConfirmTTL
	}
	return strings.TrimRight(s.BaseURL, "/") + path + "?token=" + url.QueryEscape(s.Tokens.Sign(p, subscriberID, ttl))
}

func (s *Subscriptions) host() string {
	if u, err := url.Parse(s.BaseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "evidence-tracker.invalid"
}

func (s *Subscriptions) resolve(ctx context.Context, token string, p mail.Purpose) (evidence.Subscriber, error) {
	id, err := s.Tokens.Verify(token, p)
	if err != nil {
		return evidence.Subscriber{}, fmt.Errorf("%w: %w", ErrLink, err)
	}
	sub, err := s.Store.Subscriber(ctx, id)
	if errors.Is(err, evidence.ErrNotFound) {
		return sub, fmt.Errorf("%w: this subscription no longer exists", ErrLink)
	}
	return sub, err
}

// Confirm activates the subscriber a confirmation link names.
func (s *Subscriptions) Confirm(ctx context.Context, token string) (evidence.Subscriber, error) {
	sub, err := s.resolve(ctx, token, mail.PurposeConfirm)
	if err != nil {
		return sub, err
	}
	out, err := s.Store.ConfirmSubscriber(ctx, sub.ID)
	if errors.Is(err, evidence.ErrConflict) {
		return out, fmt.Errorf("%w: this address unsubscribed after the link was sent; sign up again to restart", ErrLink)
	}
	return out, err
}

// ForPreferences returns the subscriber a preferences link names.
func (s *Subscriptions) ForPreferences(ctx context.Context, token string) (evidence.Subscriber, error) {
	return s.resolve(ctx, token, mail.PurposePreferences)
}

// UpdatePreferences replaces the choices of the subscriber a preferences
// link names.
func (s *Subscriptions) UpdatePreferences(ctx context.Context, token string, c Choice) (evidence.Subscriber, error) {
	sub, err := s.resolve(ctx, token, mail.PurposePreferences)
	if err != nil {
		return sub, err
	}
	c, err = s.Validate(c)
	if err != nil {
		return sub, err
	}
	if err := s.Store.SetSubscriberChoices(ctx, sub.ID, c.Topics, c.Sources, c.Format); err != nil {
		return sub, err
	}
	return s.Store.Subscriber(ctx, sub.ID)
}

// ForUnsubscribe returns the subscriber an unsubscribe link names.
func (s *Subscriptions) ForUnsubscribe(ctx context.Context, token string) (evidence.Subscriber, error) {
	return s.resolve(ctx, token, mail.PurposeUnsubscribe)
}

// Unsubscribe marks the subscriber an unsubscribe link names as
// unsubscribed (at once: RFC 8058 one-click needs no other step).
func (s *Subscriptions) Unsubscribe(ctx context.Context, token string) (evidence.Subscriber, error) {
	sub, err := s.resolve(ctx, token, mail.PurposeUnsubscribe)
	if err != nil {
		return sub, err
	}
	return s.Store.Unsubscribe(ctx, sub.ID)
}

// Links are a subscriber's personal links for the digest footer and the
// List-Unsubscribe header.
type Links struct {
	Preferences, Unsubscribe, UnsubscribeMailto string
}

// LinksFor signs a subscriber's preferences and unsubscribe links.
func (s *Subscriptions) LinksFor(sub evidence.Subscriber) Links {
	l := Links{
		Preferences: s.Link("/preferences", mail.PurposePreferences, sub.ID),
		Unsubscribe: s.Link("/unsubscribe", mail.PurposeUnsubscribe, sub.ID),
	}
	if from, err := mail.NormalizeAddress(fromAddress(s.From)); err == nil {
		l.UnsubscribeMailto = "mailto:" + from + "?subject=unsubscribe%20" + url.QueryEscape(sub.ID)
	}
	return l
}

// PersonalLinks are LinksFor's preferences and unsubscribe URLs.
func (s *Subscriptions) PersonalLinks(sub evidence.Subscriber) (preferences, unsubscribe string) {
	l := s.LinksFor(sub)
	return l.Preferences, l.Unsubscribe
}

// fromAddress takes the address out of "Name <addr>".
func fromAddress(from string) string {
	if i := strings.LastIndex(from, "<"); i >= 0 {
		return strings.TrimSuffix(strings.TrimSpace(from[i+1:]), ">")
	}
	return from
}
