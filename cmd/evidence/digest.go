package main

import (
	"bytes"
	"context"
	"errors"

	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/digest"
	"github.com/evidencetracker/evidence/service"
)

func newDigestCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Build the weekly evidence digest",
		Long: `The weekly digest: every item first seen in one ISO week (Monday to Sunday
in digest.timezone) that is new evidence — published at most digest.max_age
before it was first seen, or undated — grouped by primary topic. Items a
librarian imported count only when picked.`,
		Args: noArgs,
	}
	cmd.AddCommand(newDigestBuildCommand(a), newDigestSendCommand(a), newDigestListCommand(a))
	cmd.AddCommand(newDigestDraftCommands(a)...)
	return cmd
}

type digestBuildFlags struct {
	week, format, out string
	subscriber        string
	topics, sources   []string
	picks, drops      []string
	note, noteFile    string
	jsonOut           bool
}

func newDigestBuildCommand(a *app) *cobra.Command {
	var f digestBuildFlags
	cmd := &cobra.Command{
		Use:   "build [--week 2026-W47] [--format html|text|markdown|json] [--out FILE]",
		Short: "Render one week's digest as HTML e-mail, plain text, Markdown or JSON",
		Long: `Render one week's digest. The default week is the last complete one (on a
Monday morning, the week that just ended), in digest.timezone.

The header gives the week and counts per publisher and type, then the
editor's note and picks, then one section per primary topic (items with no
topic under "Other new evidence"): reports and briefings first, then long
reads, blogs and news, newest first. The footer links to the archive copy
(web.base_url/digests/WEEK), preferences and unsubscribe.

The week's stored draft (digest pick, drop, note, approve) is used;
--pick/--drop/--note add one-off changes that are not stored. --subscriber
builds the digest as that subscriber gets it (their topics, sources and
personal links); --topic/--source narrow it further, or alone preview an
ad-hoc filter.

An empty week makes a short "nothing new this week" digest when
digest.send_empty is true; otherwise nothing is written (exit 0). With
digest.require_approval, a digest not approved is built but marked held
("held": true in --json) and a warning says not to send it yet.
--json prints the structured digest (week, counts, sections, and
"excluded": every candidate left out, with its reason: too_old, imported,
dropped, no_topic_match, no_source_match) on stdout; with --out the
--format output is written to the file as well.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDigestBuild(cmd.Context(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.week, "week", "", "ISO week, like 2026-W47 (default: the last complete week)")
	fl.StringVar(&f.format, "format", "html", "output format: html, text, markdown or json")
	fl.StringVar(&f.out, "out", "", "write the digest to FILE instead of stdout")
	fl.StringVar(&f.subscriber, "subscriber", "", "build it as this subscriber gets it (their topics, sources and links)")
	fl.StringArrayVar(&f.topics, "topic", nil, "only items with this topic (repeatable; picks are always shown)")
	fl.StringArrayVar(&f.sources, "source", nil, "only items announced by this source ID (repeatable)")
	fl.StringArrayVar(&f.picks, "pick", nil, "pin this item ID to the top, in the order given (repeatable; an imported item too)")
	fl.StringArrayVar(&f.drops, "drop", nil, "leave this item ID out (repeatable)")
	fl.StringVar(&f.note, "note", "", "the editor's note, in Markdown")
	fl.StringVar(&f.noteFile, "note-file", "", "read the editor's note (Markdown) from FILE")
	fl.BoolVar(&f.jsonOut, "json", false, "print the structured digest, with the reason for each item left out, on stdout")
	return cmd
}

func (a *app) runDigestBuild(ctx context.Context, f *digestBuildFlags) error {
	format, err := digest.ParseFormat(f.format)
	if err != nil {
		return usagef("--format: %v", err)
	}
	if f.note != "" && f.noteFile != "" {
		return usagef("give --note or --note-file, not both")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	var note *string
	if f.noteFile != "" {
		b, err := os.ReadFile(f.noteFile)
		if err != nil {
			return fmt.Errorf("digest build: note: %w", err)
		}
		s := string(b)
		note = &s
	} else if f.note != "" {
		note = &f.note
	}
	for _, s := range f.sources {
		if _, ok := cfg.Sources[s]; !ok {
			return usagef("--source %q: no such source (%s)", s, strings.Join(cfg.Sources.IDs(), ", "))
		}
	}
	// Topics are tagged in the index's sync step: bring it up to date.
	st, _, closeAll, err := a.openBoth(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer closeAll()
	svc, _, closeMail, err := a.digestServices(cfg, st)
	if err != nil {
		return err
	}
	defer closeMail()
	week, err := svc.ParseWeek(f.week)
	if err != nil {
		return usagef("--week: %v", err)
	}
	p := service.Preview{Week: week, Topics: f.topics, Sources: f.sources, Picks: f.picks, Drops: f.drops, Note: note}
	if f.subscriber != "" {
		sub, err := st.SubscriberByEmail(ctx, f.subscriber)
		if errors.Is(err, evidence.ErrNotFound) {
			return usagef("--subscriber %s: no such subscriber (see 'evidence subscribers list')", f.subscriber)
		}
		if err != nil {
			return err
		}
		p.Subscriber = &sub
	}
	d, err := svc.Build(ctx, p)
	if errors.Is(err, evidence.ErrNotFound) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	a.logger().Info("digest built", "week", d.Week.String(), "items", d.Counts.Items, "excluded", len(d.Excluded), "skip", d.Skip)

	if d.Held {
		a.logger().Warn("digest.require_approval is set and this digest is not approved: do not send it yet", "week", d.Week.String())
	}
	if d.Skip {
		a.logger().Info("nothing new this week and digest.send_empty is false: no digest written", "week", d.Week.String())
	} else if !f.jsonOut || f.out != "" {
		var buf bytes.Buffer
		if err := svc.Render(&buf, d, format); err != nil {
			return err
		}
		if f.out != "" {
			if err := writeFileAtomic(f.out, buf.Bytes()); err != nil {
				return fmt.Errorf("digest %s: %w", d.Week, err)
			}
		} else if _, err := a.stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("digest %s: write: %w", d.Week, err)
		}
	}
	if f.jsonOut {
		return a.printJSON(d)
	}
	return nil
}

// digestOptions fills the digest's options from config.
func digestOptions(cfg *config.Config, loc *time.Location) digest.Options {
	names := map[string]string{}
	for id, s := range cfg.Sources {
		names[id] = s.Name
	}
	return digest.Options{
		Title: cfg.Digest.Title, Location: loc, MaxAge: cfg.Digest.MaxAge, SendEmpty: cfg.Digest.SendEmpty,
		RequireApproval: cfg.Digest.RequireApproval,
		BaseURL:         cfg.Web.BaseURL, SourceNames: names,
	}
}

// writeFileAtomic writes a file through a temporary one, so a failed
// write leaves no half digest behind.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
