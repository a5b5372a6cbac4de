package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/digest"
	"github.com/evidencetracker/evidence/mail"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

// secretFile holds the generated link-signing secret when digest.secret
// is not configured.
func secretFile(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "digest.secret") }

// tokens returns the link signer: digest.secret, or the data dir's
// generated secret (made on first use, readable by the owner only).
func (a *app) tokens(cfg *config.Config) (*mail.Tokens, error) {
	secret := cfg.Digest.Secret
	if secret == "" {
		b, err := os.ReadFile(secretFile(cfg))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			raw := make([]byte, 32)
			if _, err := rand.Read(raw); err != nil {
				return nil, err
			}
			secret = hex.EncodeToString(raw)
			if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
				return nil, err
			}
			f, err := os.OpenFile(secretFile(cfg), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return a.tokens(cfg) // another process made it first
			}
			if err != nil {
				return nil, fmt.Errorf("digest secret %s: %w", secretFile(cfg), err)
			}
			_, err = f.WriteString(secret + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("digest secret %s: %w", secretFile(cfg), err)
			}
			a.logger().Info("generated the secret that signs links in mail", "file", secretFile(cfg))
		case err != nil:
			return nil, fmt.Errorf("digest secret %s: %w", secretFile(cfg), err)
		default:
			secret = strings.TrimSpace(string(b))
		}
	}
	var prev [][]byte
	if cfg.Digest.PreviousSecret != "" {
		prev = append(prev, []byte(cfg.Digest.PreviousSecret))
	}
	t, err := mail.NewTokens([]byte(secret), prev, nil)
	if err != nil {
		return nil, fmt.Errorf("config digest.secret: %w", err)
	}
	return t, nil
}

// newSender is the SMTP sender from the smtp.* keys.
func (a *app) newSender(cfg *config.Config) (*mail.Sender, error) {
	if cfg.SMTP.Host == "" {
		return nil, errors.New("config smtp.host is not set: say which SMTP server sends the digest (smtp.host, smtp.port, smtp.tls, smtp.from)")
	}
	if cfg.SMTP.From == "" {
		return nil, errors.New("config smtp.from is not set: the digest needs a From address")
	}
	return mail.NewSender(mail.Options{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
		Timeout: cfg.SMTP.Timeout, Rate: cfg.SMTP.Rate, Retries: cfg.SMTP.Retries, Connections: cfg.SMTP.Connections, Logger: a.logger(),
	})
}

// storeResolver finds an item by ID, URL or old alias.
type storeResolver struct{ st *store.Store }

func (r storeResolver) Resolve(ctx context.Context, ref string) (evidence.Item, error) {
	ref = strings.TrimSpace(ref)
	if strings.Contains(ref, "://") {
		return r.st.ItemByURL(ctx, ref)
	}
	return r.st.Item(ctx, ref)
}

// digestServices wires the digest and subscription services over an open
// store and index; close releases the SMTP connection if one was opened.
func (a *app) digestServices(cfg *config.Config, st *store.Store) (*service.Digests, *service.Subscriptions, func(), error) {
	loc, err := time.LoadLocation(cfg.Digest.Timezone)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("config digest.timezone %q: %w", cfg.Digest.Timezone, err)
	}
	tokens, err := a.tokens(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	var sender *mail.Sender
	transport := func() (*mail.Sender, error) {
		if sender == nil {
			s, err := a.newSender(cfg)
			if err != nil {
				return nil, err
			}
			sender = s
		}
		return sender, nil
	}
	var topics []string
	for _, t := range cfg.Topics {
		topics = append(topics, t.Name)
	}
	var sources []evidence.SourceName
	for _, id := range cfg.Sources.IDs() {
		sources = append(sources, evidence.SourceName{ID: id, Name: cfg.Sources[id].Name})
	}
	subs := &service.Subscriptions{
		Store: st, Tokens: tokens, BaseURL: cfg.Web.BaseURL, From: cfg.SMTP.From, Title: cfg.Digest.Title,
		Topics: topics, Sources: sources, Logger: a.logger(),
		Mailer: lazyMailer(func() (service.Mailer, error) { return transport() }),
	}
	d := &service.Digests{
		Store: st, Items: st, Resolver: storeResolver{st},
		Options: digestOptions(cfg, loc), Subs: subs, From: cfg.SMTP.From, BounceLimit: cfg.Digest.BounceLimit,
		Workers:   cfg.SMTP.Connections,
		Transport: func() (mail.Transport, error) { return transport() },
		Logger:    a.logger(),
	}
	if err := d.CheckTemplates(); err != nil {
		return nil, nil, nil, fmt.Errorf("config digest.templates: %w", err)
	}
	return d, subs, func() {
		if sender != nil {
			_ = sender.Close()
		}
	}, nil
}

// lazyMailer opens the SMTP connection on the first message.
type lazyMailer func() (service.Mailer, error)

func (l lazyMailer) Send(ctx context.Context, m mail.Message) (mail.Result, error) {
	s, err := l()
	if err != nil {
		return mail.Result{}, err
	}
	return s.Send(ctx, m)
}

// withDigests opens the data dir and runs fn with the digest service.
func (a *app) withDigests(ctx context.Context, fn func(*config.Config, *service.Digests) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	// Topics are tagged in the index's sync step: bring it up to date.
	st, _, closeAll, err := a.openBoth(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer closeAll()
	d, _, closeMail, err := a.digestServices(cfg, st)
	if err != nil {
		return err
	}
	defer closeMail()
	return fn(cfg, d)
}

func weekFlag(cmd *cobra.Command, week *string) {
	cmd.Flags().StringVar(week, "week", "", "ISO week, like 2026-W47 (default: the last complete week)")
}

// editor is who the CLI records as making an edit.
func editor() string {
	if u := os.Getenv("USER"); u != "" {
		return u + " (cli)"
	}
	return "cli"
}

func newDigestDraftCommands(a *app) []*cobra.Command {
	var week string
	var jsonOut bool
	show := func(cmd *cobra.Command, d *service.Digests, dr evidence.DigestDraft, dg *digest.Digest) error {
		if jsonOut {
			return a.printJSON(map[string]any{"draft": dr, "digest": dg})
		}
		w := a.stdout
		state := "not approved"
		if dr.Approved() {
			state = "approved by " + dr.ApprovedBy + " on " + dr.ApprovedAt.Local().Format("2 Jan 2006 15:04")
		}
		fmt.Fprintf(w, "Draft %s (%s), version %d, %s\n", dg.Week, dg.Dates, dr.Version, state)
		fmt.Fprintf(w, "%d items", dg.Counts.Items)
		if len(dg.Picks) > 0 {
			fmt.Fprintf(w, ", %d picked", len(dg.Picks))
		}
		fmt.Fprintf(w, ", %d left out\n", len(dg.Excluded))
		if dr.Note != "" {
			fmt.Fprintf(w, "\nEditor's note:\n%s\n", indent(dr.Note, "  "))
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if len(dg.Picks) > 0 {
			fmt.Fprintln(tw, "\nEDITOR'S PICKS\t\t")
			for _, e := range dg.Picks {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.ID, e.TypeLabel, clean(e.Title))
			}
		}
		for _, s := range dg.Sections {
			fmt.Fprintf(tw, "\n%s\t\t\n", strings.ToUpper(s.Topic))
			for _, e := range s.Entries {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.ID, e.TypeLabel, clean(e.Title))
			}
		}
		// Items too old to be news are many after a backfill: count them;
		// list the ones an editor decided about.
		tooOld := 0
		var listed []digest.Excluded
		for _, x := range dg.Excluded {
			if x.Reason == "too_old" {
				tooOld++
			} else {
				listed = append(listed, x)
			}
		}
		if len(listed) > 0 {
			fmt.Fprintf(tw, "\nLEFT OUT\t\t\n")
			for _, x := range listed {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", x.ID, x.Reason, clean(x.Title))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if tooOld > 0 {
			fmt.Fprintf(w, "\n%d more first seen this week were published more than %d days before (not news; --json lists them)\n", tooOld, int(cmp.Or(d.Options.MaxAge, digest.DefaultMaxAge).Hours()/24))
		}
		return nil
	}
	run := func(edit func(args []string) service.Edit) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			return a.withDigests(cmd.Context(), func(cfg *config.Config, d *service.Digests) error {
				w, err := d.ParseWeek(week)
				if err != nil {
					return usageError{err}
				}
				if edit != nil {
					e := edit(args)
					if _, err := d.EditDraft(cmd.Context(), w, editor(), e); err != nil {
						if errors.Is(err, evidence.ErrNotFound) {
							return fmt.Errorf("digest %s: %w", w, err)
						}
						return err
					}
				}
				dr, dg, err := d.Draft(cmd.Context(), w)
				if err != nil {
					return err
				}
				return show(cmd, d, dr, dg)
			})
		}
	}
	var noteText, noteFile string
	mk := func(use, short string, args cobra.PositionalArgs, edit func([]string) service.Edit) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: args, RunE: run(edit)}
		weekFlag(c, &week)
		c.Flags().BoolVar(&jsonOut, "json", false, `print {"draft":{…},"digest":{…}} (the digest as 'digest build --json')`)
		return c
	}
	draft := mk("draft", "Make or refresh a week's draft and show it: candidates by section, picks, what is left out and why", noArgs, nil)
	showCmd := mk("show", "Show a week's draft", noArgs, nil)
	pick := mk("pick ITEM", "Pin an item (ID, URL or old alias) to the top of the week's digest — an imported item too", exactArgs(1),
		func(args []string) service.Edit { return service.Edit{Pick: args[0]} })
	unpick := mk("unpick ITEM", "Take an item off the editor's picks", exactArgs(1),
		func(args []string) service.Edit { return service.Edit{Unpick: args[0]} })
	drop := mk("drop ITEM", "Leave an item out of the week's digest", exactArgs(1),
		func(args []string) service.Edit { return service.Edit{Drop: args[0]} })
	undrop := mk("undrop ITEM", "Put a dropped item back", exactArgs(1),
		func(args []string) service.Edit { return service.Edit{Undrop: args[0]} })
	approve := mk("approve", "Approve the week's draft (recorded with who and when); any later edit withdraws the approval", noArgs,
		func([]string) service.Edit { return service.Edit{Approve: true} })
	note := mk("note --text T | --file F", "Set the editor's note (Markdown, rendered safely; an empty --text removes it)", noArgs, nil)
	note.RunE = func(cmd *cobra.Command, args []string) error {
		if cmd.Flags().Changed("text") == (noteFile != "") {
			return usagef("give --text or --file")
		}
		text := noteText
		if noteFile != "" {
			b, err := os.ReadFile(noteFile)
			if err != nil {
				return fmt.Errorf("digest note: %w", err)
			}
			text = string(b)
		}
		return run(func([]string) service.Edit { return service.Edit{Note: &text} })(cmd, args)
	}
	note.Flags().StringVar(&noteText, "text", "", "the note, in Markdown")
	note.Flags().StringVar(&noteFile, "file", "", "read the note (Markdown) from FILE")
	return []*cobra.Command{draft, showCmd, pick, unpick, drop, undrop, note, approve}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n")
}

func newDigestSendCommand(a *app) *cobra.Command {
	var week, dryRun string
	var to []string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "send [--week 2026-W47] [--dry-run DIR] [--to EMAIL]",
		Short: "Mail the week's digest to every active subscriber, exactly once each",
		Long: `Mail one week's digest to every active subscriber: only their topics and
sources (nobody gets an empty one), HTML with a text part or text only as
they chose, with List-Unsubscribe (one-click, RFC 8058) and a Message-ID
derived from the week and the subscriber.

Each delivery is claimed in the store before it is sent and marked sent
with the server's reply, so running send twice, or after a crash, gives
everyone that week's digest once; a temporary failure (4xx, a dropped
connection) is retried with backoff and again at the next send, a
permanent one (5xx) counts as a bounce (digest.bounce_limit in a row:
the subscriber is marked bouncing). The un-personalised copy is archived
(digest list).

With digest.require_approval an unapproved draft is not sent (exit 1).
--dry-run DIR writes one .eml file per subscriber and records nothing;
--to sends only to the subscribers named.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withDigests(cmd.Context(), func(cfg *config.Config, d *service.Digests) error {
				w, err := d.ParseWeek(week)
				if err != nil {
					return usageError{err}
				}
				var progress func(done, total int)
				if !jsonOut && a.stderrIsTerminal() {
					bar := a.newBar(0, "sending "+w.String())
					progress = func(done, total int) {
						bar.ChangeMax(total)
						_ = bar.Set(done)
					}
					defer bar.Finish()
				}
				rep, err := d.Send(cmd.Context(), service.SendRequest{Week: w, DryRun: dryRun, To: to, Progress: progress})
				if jsonOut {
					if perr := a.printJSON(rep); perr != nil {
						return perr
					}
				} else {
					a.printSendReport(rep, dryRun)
				}
				if err != nil {
					return err
				}
				if rep.Failed > 0 {
					return silentError{fmt.Errorf("%d deliveries failed", rep.Failed)}
				}
				return nil
			})
		},
	}
	weekFlag(cmd, &week)
	cmd.Flags().StringVar(&dryRun, "dry-run", "", "write .eml files into DIR instead of sending; record nothing")
	cmd.Flags().StringSliceVar(&to, "to", nil, "send only to these subscribers (repeatable or comma-separated)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, `print {"week","status","items","subscribers","sent","already_sent","refused_before","empty","failed","now_bouncing","failures":[…]}`)
	return cmd
}

func (a *app) printSendReport(rep service.SendReport, dryRun string) {
	w := a.stdout
	switch rep.Status {
	case "empty":
		fmt.Fprintf(w, "%s: nothing new this week; no digest sent (digest.send_empty is false)\n", rep.Week)
		return
	case "held":
		fmt.Fprintf(w, "%s: waiting for approval; nothing sent\n", rep.Week)
		return
	}
	verb := "sent"
	if dryRun != "" {
		verb = "written to " + dryRun
	}
	fmt.Fprintf(w, "%s: %d items; %d subscribers: %d %s, %d already had it, %d with nothing in their topics, %d failed",
		rep.Week, rep.Items, rep.Subscribers, rep.Sent, verb, rep.AlreadySent, rep.Empty, rep.Failed)
	if rep.RefusedBefore > 0 {
		fmt.Fprintf(w, ", %d refused earlier", rep.RefusedBefore)
	}
	fmt.Fprintln(w)
	for _, f := range rep.Failures {
		kind := "temporary: will retry at the next send"
		if f.Permanent {
			kind = "permanent"
		}
		fmt.Fprintf(a.stderr, "  %s (%s): %s\n", f.Email, kind, f.Error)
	}
	if rep.NowBouncing > 0 {
		fmt.Fprintf(w, "%d subscribers are now marked bouncing and get no more digests\n", rep.NowBouncing)
	}
}

func newDigestListCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the sent digests (the archive) and the drafts waiting",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(cfg *config.Config, st *store.Store) error {
				sent, err := st.ArchivedDigests(cmd.Context())
				if err != nil {
					return err
				}
				drafts, err := st.Drafts(cmd.Context())
				if err != nil {
					return err
				}
				sentWeeks := map[string]bool{}
				for _, s := range sent {
					sentWeeks[s.Week] = true
				}
				var waiting []evidence.DigestDraft
				for _, d := range drafts {
					if !sentWeeks[d.Week] {
						waiting = append(waiting, d)
					}
				}
				if jsonOut {
					if sent == nil {
						sent = []evidence.ArchivedDigest{}
					}
					if waiting == nil {
						waiting = []evidence.DigestDraft{}
					}
					return a.printJSON(map[string]any{"sent": sent, "drafts": waiting, "require_approval": cfg.Digest.RequireApproval})
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "WEEK\tDATES\tITEMS\tSTATUS")
				for _, d := range waiting {
					status := "draft, not approved"
					if d.Approved() {
						status = "draft, approved by " + d.ApprovedBy
					} else if cfg.Digest.RequireApproval {
						status = "draft, waiting for approval"
					}
					fmt.Fprintf(tw, "%s\t\t\t%s\n", d.Week, status)
				}
				for _, s := range sent {
					fmt.Fprintf(tw, "%s\t%s\t%d\tsent %s\n", s.Week, s.Dates, s.Items, s.Sent.Local().Format("2 Jan 2006 15:04"))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, `print {"sent":[{week,title,dates,items,created,sent}],"drafts":[…],"require_approval"}`)
	return cmd
}
