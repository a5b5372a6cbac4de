package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/export"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

// collectionsOptions are the flags every collections command shares.
type collectionsOptions struct {
	as   string // --as EMAIL
	json bool
}

func newCollectionsCommand(a *app) *cobra.Command {
	o := &collectionsOptions{}
	cmd := &cobra.Command{
		Use:   "collections",
		Short: "Curate collections: resource lists in sections, with notes, exported for reference managers",
		Long: `A collection is a librarian's resource list: a name, a slug (its address,
/c/SLUG on the web when public), a description in Markdown, and ordered
sections of entries, each an item with a curator's note. Collections are
private (curators only) until published.

ITEM is an item ID, its URL, an old URL of it (an alias) or its DOI. A URL the
store does not know is refused here ("adding new URLs needs web fetching"):
import it first (evidence import), or add it in the browser.

The CLI acts with full rights (whoever can run it owns the data directory).
Edits are recorded in the collection's history as --as EMAIL (an account, see
'evidence users list'), else as cli:USER, the operating-system user. Each
command is one edit on the collection as it is stored at that moment; two
people editing at once never lose each other's changes.

--json prints one JSON document: the collection after the change (list:
{"collections": [...]} with counts). Exit status 2 for a mistake in the
command line or a refused value, 1 for other failures (not found, a taken
slug, an entry already there).`,
		Args: noArgs,
	}
	cmd.PersistentFlags().StringVar(&o.as, "as", "", "record edits as this account's e-mail address (default cli:USER)")
	cmd.PersistentFlags().BoolVar(&o.json, "json", false, "print one JSON document")
	cmd.AddCommand(
		newCollectionsCreateCommand(a, o),
		newCollectionsListCommand(a, o),
		newCollectionsShowCommand(a, o),
		newCollectionsAddCommand(a, o),
		newCollectionsRemoveCommand(a, o),
		newCollectionsMoveCommand(a, o),
		newCollectionsNoteCommand(a, o),
		newCollectionsExportCommand(a, o),
		newCollectionsDeleteCommand(a, o),
		newCollectionsRenameCommand(a, o),
		newCollectionsDescribeCommand(a, o),
		newCollectionsVisibilityCommand(a, o, "publish", evidence.VisibilityPublic),
		newCollectionsVisibilityCommand(a, o, "unpublish", evidence.VisibilityPrivate),
		newCollectionsSectionCommand(a, o),
	)
	return cmd
}

// collectionsService wires the collections service over an open store.
// Unknown URLs are refused (no URLAdder): the CLI adds items by import.
func (a *app) collectionsService(cfg *config.Config, st *store.Store) *service.Collections {
	return &service.Collections{
		Store: st, Logger: a.logger(),
		Names: func(id string) string {
			if sc, ok := cfg.Sources[id]; ok && sc.Name != "" {
				return sc.Name
			}
			return id
		},
	}
}

// withCollections runs fn with the service and the CLI's principal.
func (a *app) withCollections(ctx context.Context, o *collectionsOptions, fn func(*service.Collections, evidence.Principal) error) error {
	return a.withStore(ctx, func(cfg *config.Config, st *store.Store) error {
		p, err := cliPrincipal(ctx, st, o.as)
		if err != nil {
			return err
		}
		return collectionsError(fn(a.collectionsService(cfg, st), p))
	})
}

// cliPrincipal is who the CLI acts as: an admin named by --as (an
// account's address), else cli:USER.
func cliPrincipal(ctx context.Context, st *store.Store, as string) (evidence.Principal, error) {
	if as = strings.TrimSpace(as); as != "" {
		u, err := st.UserByEmail(ctx, as)
		if errors.Is(err, evidence.ErrNotFound) {
			return evidence.Principal{}, usagef("--as %s: no such account (see 'evidence users list')", as)
		}
		if err != nil {
			return evidence.Principal{}, err
		}
		u.Role = evidence.RoleAdmin
		return evidence.Principal{User: u.User, Via: "cli"}, nil
	}
	name := "cli:" + osUser()
	return evidence.Principal{User: evidence.User{ID: name, Email: name, Role: evidence.RoleAdmin}, Via: "cli"}, nil
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
}

// collectionsError makes a refused value a usage error (exit 2).
func collectionsError(err error) error {
	var ue usageError
	if err != nil && errors.Is(err, evidence.ErrInvalid) && !errors.As(err, &ue) {
		return usageError{err}
	}
	return err
}

// editAndReport makes one edit and says what it did: the history's words,
// or "nothing changed"; --json prints the collection.
func (a *app) editAndReport(ctx context.Context, o *collectionsOptions, slug string, e evidence.CollectionEdit) error {
	return a.withCollections(ctx, o, func(svc *service.Collections, p evidence.Principal) error {
		before, err := svc.Get(ctx, slug, p)
		if err != nil {
			return err
		}
		c, err := svc.Edit(ctx, slug, 0, p, e)
		if err != nil {
			return err
		}
		if o.json {
			return a.printJSON(c)
		}
		return a.reportChange(ctx, svc, p, before, c)
	})
}

func (a *app) reportChange(ctx context.Context, svc *service.Collections, p evidence.Principal, before, c evidence.Collection) error {
	if c.Version == before.Version {
		fmt.Fprintf(a.stdout, "%s: nothing changed (version %d)\n", c.Slug, c.Version)
		return nil
	}
	hist, err := svc.History(ctx, c.Slug, p)
	if err != nil {
		return err
	}
	for _, h := range hist {
		if h.Version == c.Version {
			fmt.Fprintf(a.stdout, "%s: %s (version %d)\n", c.Slug, clean(h.Detail), c.Version)
			return nil
		}
	}
	fmt.Fprintf(a.stdout, "%s: changed (version %d)\n", c.Slug, c.Version)
	return nil
}

func newCollectionsCreateCommand(a *app, o *collectionsOptions) *cobra.Command {
	var slug, description string
	var public bool
	cmd := &cobra.Command{
		Use:   "create NAME [--slug SLUG] [--public] [--description TEXT]",
		Short: "Create a collection (private unless --public)",
		Long: `Create a collection. The slug, its address, is made from the name when not
given (lower-case letters, digits and hyphens: "Recovery resources" is
recovery-resources) and stays when the collection is renamed; one already
taken is refused, naming the collection that has it. The description is
Markdown.`,
		Example: `  evidence collections create "Recovery resources" --description "For staff supporting recovery."
  evidence collections create "Patient activation reading" --slug activation --public`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			desc := description
			return a.withCollections(cmd.Context(), o, func(svc *service.Collections, p evidence.Principal) error {
				c := evidence.Collection{Name: args[0], Slug: slug, Description: desc}
				if public {
					c.Visibility = evidence.VisibilityPublic
				}
				c, err := svc.Create(cmd.Context(), p, c)
				if err != nil {
					return err
				}
				if o.json {
					return a.printJSON(c)
				}
				fmt.Fprintf(a.stdout, "created %s: “%s” (%s)\n", c.Slug, clean(c.Name), c.Visibility)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&slug, "slug", "", "the collection's address (default: made from the name)")
	cmd.Flags().BoolVar(&public, "public", false, "publish it at once (a page and a feed anyone can read)")
	cmd.Flags().StringVar(&description, "description", "", "description in Markdown")
	return cmd
}

// collectionSummary is one collection in `collections list --json`.
type collectionSummary struct {
	Slug       string    `json:"slug"`
	Name       string    `json:"name"`
	Visibility string    `json:"visibility"`
	Owner      string    `json:"owner"`
	Version    int       `json:"version"`
	Sections   int       `json:"sections"`
	Entries    int       `json:"entries"`
	Updated    time.Time `json:"updated"`
	UpdatedBy  string    `json:"updated_by"`
}

func newCollectionsListCommand(a *app, o *collectionsOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the collections with their counts",
		Long: `List the collections by name. --json prints {"collections": [...]}, each with
slug, name, visibility, owner, version, sections, entries, updated and
updated_by.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCollections(cmd.Context(), o, func(svc *service.Collections, p evidence.Principal) error {
				list, err := svc.List(cmd.Context(), p)
				if err != nil {
					return err
				}
				out := []collectionSummary{}
				for _, c := range list {
					out = append(out, collectionSummary{Slug: c.Slug, Name: c.Name, Visibility: c.Visibility, Owner: c.Owner,
						Version: c.Version, Sections: len(c.Sections), Entries: len(c.Entries()), Updated: c.Updated, UpdatedBy: c.UpdatedBy})
				}
				if o.json {
					return a.printJSON(map[string]any{"collections": out})
				}
				if len(out) == 0 {
					fmt.Fprintln(a.stdout, "no collections yet (evidence collections create NAME)")
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SLUG\tNAME\tVISIBILITY\tSECTIONS\tENTRIES\tUPDATED")
				for _, s := range out {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", s.Slug, clean(s.Name), s.Visibility, s.Sections, s.Entries,
						s.Updated.Local().Format("2006-01-02 15:04"))
				}
				return tw.Flush()
			})
		},
	}
}

// collectionShow is `collections show --json`: the collection, and its
// history with --history.
type collectionShow struct {
	evidence.Collection
	History []evidence.CollectionChange `json:"history,omitempty"`
}

func newCollectionsShowCommand(a *app, o *collectionsOptions) *cobra.Command {
	var history bool
	cmd := &cobra.Command{
		Use:   "show SLUG [--history]",
		Short: "Show a collection: its sections, entries and notes",
		Long: `Show a collection: its description, then each section with its entries in
order (title, ID, URL, note). --history adds the changes, newest first.
--json prints the collection (entries with their items), with "history"
when asked.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withCollections(cmd.Context(), o, func(svc *service.Collections, p evidence.Principal) error {
				c, err := svc.Get(cmd.Context(), args[0], p)
				if err != nil {
					return err
				}
				var hist []evidence.CollectionChange
				if history {
					if hist, err = svc.History(cmd.Context(), c.Slug, p); err != nil {
						return err
					}
				}
				if o.json {
					return a.printJSON(collectionShow{Collection: c, History: hist})
				}
				a.printCollection(c, hist, history)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&history, "history", false, "show the changes, newest first")
	return cmd
}

func (a *app) printCollection(c evidence.Collection, hist []evidence.CollectionChange, history bool) {
	w := a.stdout
	fmt.Fprintf(w, "%s (%s)\n", clean(c.Name), c.Slug)
	fmt.Fprintf(w, "%s · version %d · updated %s by %s · %s\n", c.Visibility, c.Version,
		c.Updated.Local().Format("2006-01-02 15:04"), clean(c.UpdatedBy), plural(len(c.Entries()), "entry", "entries"))
	if d := strings.TrimSpace(c.Description); d != "" {
		fmt.Fprintln(w)
		for _, line := range strings.Split(d, "\n") {
			fmt.Fprintln(w, "  "+strings.TrimRight(cleanLine(line), " "))
		}
	}
	for _, sec := range c.Sections {
		fmt.Fprintf(w, "\n%s\n", clean(sec.Name))
		if in := strings.TrimSpace(sec.Intro); in != "" {
			fmt.Fprintf(w, "  %s\n", clean(in))
		}
		if len(sec.Entries) == 0 {
			fmt.Fprintln(w, "  (no entries)")
		}
		for i, e := range sec.Entries {
			if e.Item == nil {
				fmt.Fprintf(w, "  %d. (item %s is no longer stored)\n", i+1, e.ItemID)
			} else {
				fmt.Fprintf(w, "  %d. %s [%s]\n     %s\n", i+1, clean(e.Item.Title), e.ItemID, clean(e.Item.URL))
			}
			if n := strings.TrimSpace(e.Note); n != "" {
				fmt.Fprintf(w, "     Note: %s\n", clean(n))
			}
		}
	}
	if history {
		fmt.Fprintln(w, "\nHistory")
		for _, h := range hist {
			fmt.Fprintf(w, "  v%d  %s  %s  %s\n", h.Version, h.At.Local().Format("2006-01-02 15:04"), clean(h.By), clean(h.Detail))
		}
	}
}

// cleanLine keeps a line of Markdown readable on a terminal: control
// characters (escape sequences) become spaces.
func cleanLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r >= 0x7f && r < 0xa0 {
			return ' '
		}
		return r
	}, s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func newCollectionsAddCommand(a *app, o *collectionsOptions) *cobra.Command {
	var section, note string
	cmd := &cobra.Command{
		Use:   "add SLUG ITEM... [--section NAME] [--note TEXT]",
		Short: "Add items to a collection (to a section, with a note)",
		Long: `Add one or more items, in the order given, at the end of a section. ITEM is an
item ID, URL, old URL or DOI. A section named for the first time is made, at
the end: sections keep the order they were made in. Without --section the
items go to the first section ("Resources" when there is none). --note is
the curator's note (Markdown) for each item added.

An item already in the collection is not added twice: the command says
where it is, and fails when every item named is already there.`,
		Example: `  evidence collections add recovery-resources 5f2c0e6d1a2b3c4d --section "Patient activation" \
      --note "Introduces patient activation and how to measure it."
  evidence collections add recovery-resources https://www.nationalvoices.org.uk/publication/what-is-good-supported-self-management --section Self-management`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("%s takes a collection's slug and at least one item, got %d argument(s)", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{
				Action: service.ActionAdd, Refs: args[1:], Section: section, Note: note})
		},
	}
	cmd.Flags().StringVar(&section, "section", "", "the section's name (made when new)")
	cmd.Flags().StringVar(&note, "note", "", "the curator's note in Markdown")
	return cmd
}

func newCollectionsRemoveCommand(a *app, o *collectionsOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "remove SLUG ITEM",
		Short:   "Remove an entry from a collection (the item stays in the store)",
		Example: `  evidence collections remove recovery-resources 5f2c0e6d1a2b3c4d`,
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{Action: service.ActionRemove, Item: args[1]})
		},
	}
}

func newCollectionsMoveCommand(a *app, o *collectionsOptions) *cobra.Command {
	var up, down bool
	var to int
	var section string
	cmd := &cobra.Command{
		Use:   "move SLUG ITEM (--up|--down|--to N) [--section NAME]",
		Short: "Reorder an entry, or move it to another section",
		Long: `Move an entry one place up or down (past the top or bottom of its section it
goes to the end of the previous section or the start of the next), to
position N (1 is the top; past the end is the end), or with --section into
another section (at position N, or at its end).`,
		Example: `  evidence collections move recovery-resources 5f2c0e6d1a2b3c4d --up
  evidence collections move recovery-resources 5f2c0e6d1a2b3c4d --to 1 --section "Personal stories"`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e := evidence.CollectionEdit{Action: service.ActionMove, Item: args[1], ToSection: section}
			given := 0
			for _, b := range []bool{up, down, cmd.Flags().Changed("to")} {
				if b {
					given++
				}
			}
			switch {
			case given > 1:
				return usagef("give one of --up, --down or --to N")
			case given == 0 && section == "":
				return usagef("say where to: --up, --down, --to N or --section NAME")
			case cmd.Flags().Changed("to") && to < 1:
				return usagef("--to %d: positions start at 1", to)
			case up:
				e.Delta = -1
			case down:
				e.Delta = 1
			default:
				e.Position = to
			}
			if section != "" && e.Delta != 0 {
				return usagef("--section moves to a position (--to N) or the end, not --up or --down")
			}
			return a.editAndReport(cmd.Context(), o, args[0], e)
		},
	}
	cmd.Flags().BoolVar(&up, "up", false, "one place up")
	cmd.Flags().BoolVar(&down, "down", false, "one place down")
	cmd.Flags().IntVar(&to, "to", 0, "to position N (1 is the top)")
	cmd.Flags().StringVar(&section, "section", "", "into this section (made when new)")
	return cmd
}

func newCollectionsNoteCommand(a *app, o *collectionsOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "note SLUG ITEM TEXT",
		Short: "Write an entry's note (Markdown; \"\" clears it, \"-\" reads standard input)",
		Example: `  evidence collections note recovery-resources 5f2c0e6d1a2b3c4d "Why it matters: a short, practical guide."
  evidence collections note recovery-resources 5f2c0e6d1a2b3c4d - < note.md`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			text, err := textArg(cmd, args[2])
			if err != nil {
				return err
			}
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{Action: service.ActionNote, Item: args[1], Note: text})
		},
	}
}

func newCollectionsRenameCommand(a *app, o *collectionsOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rename SLUG NAME",
		Short: "Rename a collection (its slug stays)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{Action: service.ActionRename, Name: args[1]})
		},
	}
}

func newCollectionsDescribeCommand(a *app, o *collectionsOptions) *cobra.Command {
	var section string
	cmd := &cobra.Command{
		Use:   "describe SLUG TEXT [--section NAME]",
		Short: "Write a collection's description, or a section's introduction (Markdown; \"-\" reads standard input)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			text, err := textArg(cmd, args[1])
			if err != nil {
				return err
			}
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{Action: service.ActionDescribe, Description: text, Section: section})
		},
	}
	cmd.Flags().StringVar(&section, "section", "", "write this section's introduction instead")
	return cmd
}

func newCollectionsVisibilityCommand(a *app, o *collectionsOptions, name, visibility string) *cobra.Command {
	short := "Publish a collection: a page at /c/SLUG and a feed anyone can read"
	if visibility == evidence.VisibilityPrivate {
		short = "Make a collection private again (curators only)"
	}
	return &cobra.Command{
		Use:   name + " SLUG",
		Short: short,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{Action: service.ActionVisibility, Visibility: visibility})
		},
	}
}

func newCollectionsSectionCommand(a *app, o *collectionsOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "section",
		Short: "Add, rename, move or remove a collection's sections",
		Args:  noArgs,
	}
	var intro string
	var position int
	add := &cobra.Command{
		Use:   "add SLUG NAME [--intro TEXT] [--position N]",
		Short: "Add a section (at the end, or at position N)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if position < 0 {
				return usagef("--position %d: positions start at 1", position)
			}
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{Action: service.ActionAddSection, Name: args[1], Description: intro, Position: position})
		},
	}
	add.Flags().StringVar(&intro, "intro", "", "the section's introduction in Markdown")
	add.Flags().IntVar(&position, "position", 0, "where it goes (1 is the top; default the end)")
	rename := &cobra.Command{
		Use:   "rename SLUG SECTION NAME",
		Short: "Rename a section",
		Args:  exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{Action: service.ActionRenameSection, Section: args[1], Name: args[2]})
		},
	}
	var up, down bool
	var to int
	move := &cobra.Command{
		Use:   "move SLUG SECTION (--up|--down|--to N)",
		Short: "Reorder a section",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e := evidence.CollectionEdit{Action: service.ActionMoveSection, Section: args[1]}
			switch {
			case up && !down && !cmd.Flags().Changed("to"):
				e.Delta = -1
			case down && !up && !cmd.Flags().Changed("to"):
				e.Delta = 1
			case cmd.Flags().Changed("to") && !up && !down && to >= 1:
				e.Position = to
			default:
				return usagef("give one of --up, --down or --to N (N from 1)")
			}
			return a.editAndReport(cmd.Context(), o, args[0], e)
		},
	}
	move.Flags().BoolVar(&up, "up", false, "one place up")
	move.Flags().BoolVar(&down, "down", false, "one place down")
	move.Flags().IntVar(&to, "to", 0, "to position N (1 is the top)")
	remove := &cobra.Command{
		Use:   "remove SLUG SECTION",
		Short: "Remove an empty section",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.editAndReport(cmd.Context(), o, args[0], evidence.CollectionEdit{Action: service.ActionRemoveSection, Section: args[1]})
		},
	}
	cmd.AddCommand(add, rename, move, remove)
	return cmd
}

func newCollectionsExportCommand(a *app, o *collectionsOptions) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export SLUG --format ris|bibtex|csl-json|csv [--out FILE]",
		Short: "Export a collection for reference managers (Zotero, EndNote, Mendeley) or a spreadsheet",
		Long: `Write a collection's entries, in order, as RIS, BibTeX, CSL-JSON or CSV, to
standard output or --out FILE. Each entry keeps its section and note (RIS
N1, BibTeX note, CSL-JSON note, CSV columns). 'evidence import' reads the
RIS, BibTeX and CSL-JSON back without making duplicates.`,
		Example: `  evidence collections export recovery-resources --format ris --out recovery.ris
  evidence collections export recovery-resources --format csl-json | jq length`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				return usagef("--format is required: one of %s", strings.Join(export.Formats(), ", "))
			}
			if _, _, _, ok := export.Format(format); !ok {
				return usagef("--format %q: want one of %s", format, strings.Join(export.Formats(), ", "))
			}
			if o.json {
				return usagef("export writes the format asked for; --json does not apply")
			}
			return a.withCollections(cmd.Context(), o, func(svc *service.Collections, p evidence.Principal) error {
				var buf bytes.Buffer
				if err := svc.Export(cmd.Context(), args[0], p, format, &buf); err != nil {
					return err
				}
				if out == "" || out == "-" {
					_, err := io.Copy(a.stdout, &buf)
					return err
				}
				if err := writeFileAtomic(out, buf.Bytes()); err != nil {
					return fmt.Errorf("export %s: %w", args[0], err)
				}
				a.logger().Info("collection exported", "slug", args[0], "format", format, "file", out, "bytes", buf.Len())
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "ris, bibtex, csl-json or csv")
	cmd.Flags().StringVar(&out, "out", "", "write to FILE instead of standard output")
	return cmd
}

func newCollectionsDeleteCommand(a *app, o *collectionsOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete SLUG --yes",
		Short: "Delete a collection with its sections, notes and history (the items stay)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withCollections(cmd.Context(), o, func(svc *service.Collections, p evidence.Principal) error {
				c, err := svc.Get(cmd.Context(), args[0], p)
				if err != nil {
					return err
				}
				if !yes {
					return usagef("deleting %s (“%s”, %s) cannot be undone: run again with --yes", c.Slug, clean(c.Name), plural(len(c.Entries()), "entry", "entries"))
				}
				if err := svc.Delete(cmd.Context(), c.Slug, c.Version, p); err != nil {
					return err
				}
				if o.json {
					return a.printJSON(map[string]any{"deleted": c.Slug, "entries": len(c.Entries())})
				}
				fmt.Fprintf(a.stdout, "deleted %s (“%s”, %s)\n", c.Slug, clean(c.Name), plural(len(c.Entries()), "entry", "entries"))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "really delete it")
	return cmd
}

// textArg reads a text argument: "-" is standard input.
func textArg(cmd *cobra.Command, s string) (string, error) {
	if s != "-" {
		return s, nil
	}
	b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), service.MaxDescription*4+1))
	if err != nil {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	return strings.TrimRight(string(b), "\n"), nil
}
