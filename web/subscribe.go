package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/evidencetracker/evidence"
)

type checkbox struct {
	Value, Label string
	Checked      bool
}

// choiceForm is the sign-up or preferences form.
type choiceForm struct {
	Email   string
	Error   string
	Topics  []checkbox
	Sources []checkbox
	Format  string
}

func (s *Server) choiceForm(p evidence.Preferences) choiceForm {
	topics, sources := s.opts.Subscriptions.Choices()
	f := choiceForm{Format: p.Format}
	for _, t := range topics {
		label := t
		if label != "" {
			label = strings.ToUpper(label[:1]) + label[1:]
		}
		f.Topics = append(f.Topics, checkbox{Value: t, Label: label, Checked: slices.Contains(p.Topics, t)})
	}
	for _, src := range sources {
		f.Sources = append(f.Sources, checkbox{Value: src.ID, Label: src.Name, Checked: slices.Contains(p.Sources, src.ID)})
	}
	return f
}

func formPreferences(r *http.Request) evidence.Preferences {
	return evidence.Preferences{
		Topics:  r.PostForm["topic"],
		Sources: r.PostForm["source"],
		Format:  r.PostFormValue("format"),
	}
}

type subscribeData struct{ Form choiceForm }

func (s *Server) subscribeForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "subscribe", page{
		Title: "Subscribe to the weekly evidence digest", Section: "subscribe",
		CSRF: s.csrfToken(w, r), Data: subscribeData{Form: s.choiceForm(evidence.Preferences{})},
	})
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read", "Please go back and try again.")
		return
	}
	if !s.checkCSRF(r) {
		s.fail(w, r, http.StatusForbidden, "The form has expired",
			"For your security the form must be sent from this site, with cookies allowed. Please reload the sign-up page and try again.")
		return
	}
	if !s.signups.allow(clientAddr(r)) {
		w.Header().Set("Retry-After", "3600")
		s.fail(w, r, http.StatusTooManyRequests, "Too many sign-ups",
			"Too many sign-ups have come from your network in the last hour. Please try again later.")
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	prefs := formPreferences(r)
	err := s.opts.Subscriptions.SignUp(r.Context(), email, prefs)
	if errors.Is(err, evidence.ErrInvalid) {
		form := s.choiceForm(prefs)
		form.Email, form.Error = email, errorText(err)
		if email == "" {
			form.Error = "Enter your e-mail address"
		}
		s.render(w, r, http.StatusUnprocessableEntity, "subscribe", page{
			Title: "Subscribe to the weekly evidence digest", Section: "subscribe",
			CSRF: s.csrfToken(w, r), Data: subscribeData{Form: form},
		})
		return
	}
	if err != nil {
		s.log.Error("web: sign-up", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "We could not sign you up just now",
			"The confirmation e-mail could not be sent. Nothing has been lost: please try again in a few minutes.")
		return
	}
	s.render(w, r, http.StatusOK, "message", page{Title: "Check your inbox", Section: "subscribe", NoIndex: true, Data: message{
		Kind: "ok",
		Paragraphs: []string{
			"We have sent a confirmation link to " + email + ". Follow it within 7 days to start receiving the digest.",
			"If nothing arrives in a few minutes, look in your junk mail folder. If you are already subscribed, nothing changes.",
		},
	}})
}

func (s *Server) linkFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, evidence.ErrInvalid) {
		s.render(w, r, http.StatusBadRequest, "message", page{Title: "This link does not work", NoIndex: true, Data: message{
			Kind:       "error",
			Paragraphs: []string{errorText(err) + ".", "Links in our e-mails must be used exactly as sent. If you copied it, check it was not cut short."},
			LinkURL:    "/subscribe", LinkText: "Sign up again",
		}})
		return
	}
	s.log.Error("web: subscription link", "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusServiceUnavailable, "Something went wrong", "Please try the link again in a few minutes.")
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	sub, err := s.opts.Subscriptions.Confirm(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		s.linkFailed(w, r, err)
		return
	}
	prefs, _ := s.opts.Subscriptions.PersonalLinks(sub)
	s.render(w, r, http.StatusOK, "message", page{Title: "You are subscribed", NoIndex: true, Data: message{
		Kind:       "ok",
		Paragraphs: []string{"The weekly evidence digest will come to " + sub.Email + " every Monday morning."},
		LinkURL:    prefs, LinkText: "Choose your topics and publishers",
	}})
}

type preferencesData struct {
	Email, Token, UnsubscribeURL string
	Form                         choiceForm
}

func (s *Server) preferencesPage(w http.ResponseWriter, r *http.Request, status int, sub evidence.Subscriber, token string, form choiceForm) {
	_, unsub := s.opts.Subscriptions.PersonalLinks(sub)
	s.render(w, r, status, "preferences", page{
		Title: "Your digest preferences", NoIndex: true, CSRF: s.csrfToken(w, r),
		Data: preferencesData{Email: sub.Email, Token: token, UnsubscribeURL: unsub, Form: form},
	})
}

func (s *Server) preferencesForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	sub, err := s.opts.Subscriptions.ForPreferences(r.Context(), token)
	if err != nil {
		s.linkFailed(w, r, err)
		return
	}
	s.preferencesPage(w, r, http.StatusOK, sub, token, s.choiceForm(evidence.Preferences{Topics: sub.Topics, Sources: sub.Sources, Format: sub.Format}))
}

func (s *Server) preferences(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read", "Please go back and try again.")
		return
	}
	if !s.checkCSRF(r) {
		s.fail(w, r, http.StatusForbidden, "The form has expired", "Please open the link from your e-mail again.")
		return
	}
	token := r.PostFormValue("token")
	prefs := formPreferences(r)
	sub, err := s.opts.Subscriptions.UpdatePreferences(r.Context(), token, prefs)
	if err != nil {
		if sub.ID != "" && errors.Is(err, evidence.ErrInvalid) {
			form := s.choiceForm(prefs)
			form.Error = errorText(err)
			s.preferencesPage(w, r, http.StatusUnprocessableEntity, sub, token, form)
			return
		}
		s.linkFailed(w, r, err)
		return
	}
	what := "every topic"
	if len(sub.Topics) > 0 {
		what = strings.Join(sub.Topics, ", ")
	}
	s.render(w, r, http.StatusOK, "message", page{Title: "Your choices are saved", NoIndex: true, Data: message{
		Kind:       "ok",
		Paragraphs: []string{"From the next digest, " + sub.Email + " receives " + what + "."},
		LinkURL:    "/preferences?token=" + url.QueryEscape(token), LinkText: "Change them again",
	}})
}

type unsubscribeData struct{ Email, Token, PreferencesURL string }

// unsubscribeForm shows a one-button page: a GET never unsubscribes (mail
// scanners follow links).
func (s *Server) unsubscribeForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	sub, err := s.opts.Subscriptions.ForUnsubscribe(r.Context(), token)
	if err != nil {
		s.linkFailed(w, r, err)
		return
	}
	if sub.Status == evidence.SubscriberUnsubscribed {
		s.unsubscribed(w, r, sub)
		return
	}
	prefs, _ := s.opts.Subscriptions.PersonalLinks(sub)
	s.render(w, r, http.StatusOK, "unsubscribe", page{Title: "Unsubscribe", NoIndex: true,
		Data: unsubscribeData{Email: sub.Email, Token: token, PreferencesURL: prefs}})
}

// unsubscribe handles the page's button and RFC 8058 one-click posts
// (body List-Unsubscribe=One-Click, token in the URL): at once, with no
// login, cookie or CSRF token — the signed token is the authority.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The request could not be read", "Please open the link from your e-mail again.")
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	sub, err := s.opts.Subscriptions.Unsubscribe(r.Context(), token)
	if err != nil {
		s.linkFailed(w, r, err)
		return
	}
	s.log.Info("web: unsubscribed", "subscriber", sub.ID, "one_click", r.PostForm.Get("List-Unsubscribe") == "One-Click")
	s.unsubscribed(w, r, sub)
}

func (s *Server) unsubscribed(w http.ResponseWriter, r *http.Request, sub evidence.Subscriber) {
	s.render(w, r, http.StatusOK, "message", page{Title: "You are unsubscribed", NoIndex: true, Data: message{
		Kind:       "ok",
		Paragraphs: []string{"No more digests will be sent to " + sub.Email + "."},
		LinkURL:    "/subscribe", LinkText: "Changed your mind? Subscribe again",
	}})
}
