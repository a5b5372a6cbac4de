package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/digest"
	"github.com/evidencetracker/evidence/mail"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

type subscriberFlags struct {
	topics  []string
	sources []string
	format  string
	status  []string
	out     string
	json    bool
}

func newSubscribersCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "subscribers",
		Short: "Manage the people who receive the weekly digest",
		Long: `Subscribers receive the weekly evidence digest by e-mail. Each chooses topics
and sources (none: everything) and a format (html: HTML with a text part;
text: plain text only). Subscribers added here are active at once; people who
sign up on the web (evidence serve, /subscribe) confirm by e-mail first.`,
		Args: noArgs,
	}
	cmd.AddCommand(newSubscribersAddCommand(a), newSubscribersListCommand(a), newSubscribersRemoveCommand(a),
		newSubscribersImportCommand(a), newSubscribersExportCommand(a))
	return cmd
}

func choiceFlags(cmd *cobra.Command, f *subscriberFlags) {
	cmd.Flags().StringSliceVar(&f.topics, "topics", nil, "topics to receive, comma-separated (see 'evidence topics'); default all")
	cmd.Flags().StringSliceVar(&f.sources, "sources", nil, "source IDs to receive, comma-separated; default all")
	cmd.Flags().StringVar(&f.format, "format", evidence.FormatHTML, "html or text")
}

func newSubscribersAddCommand(a *app) *cobra.Command {
	f := &subscriberFlags{}
	cmd := &cobra.Command{
		Use:   "add EMAIL",
		Short: "Add (or update) an active subscriber",
		Example: `  evidence subscribers add reader@example.org
  evidence subscribers add team+digest@trust.nhs.uk --topics recovery,workforce --format text`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd.Context(), func(cfg *config.Config, st *store.Store) error {
				in, err := subscriberInput(cfg, args[0], f.topics, f.sources, f.format)
				if err != nil {
					return usageError{err}
				}
				sub, created, err := st.AddSubscriber(cmd.Context(), in)
				if err != nil {
					return err
				}
				if f.json {
					return a.printJSON(map[string]any{"subscriber": sub, "created": created})
				}
				verb := "updated"
				if created {
					verb = "added"
				}
				fmt.Fprintf(a.stdout, "%s %s (%s; topics: %s; sources: %s; %s)\n", verb, sub.Email, sub.Status,
					allIfEmpty(sub.Topics), allIfEmpty(sub.Sources), sub.Format)
				return nil
			})
		},
	}
	choiceFlags(cmd, f)
	cmd.Flags().BoolVar(&f.json, "json", false, "print the subscriber as JSON")
	return cmd
}

func newSubscribersListCommand(a *app) *cobra.Command {
	f := &subscriberFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List subscribers with their status and choices",
		Long: `List subscribers by address. --json prints {"subscribers":[…],"counts":{status: n}},
each subscriber with id, email, status (pending, active, unsubscribed,
bouncing), topics, sources, format, created, confirmed, unsubscribed, bounces.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range f.status {
				if !slices.Contains(subscriberStatuses, s) {
					return usagef("--status %q: want one of %s", s, strings.Join(subscriberStatuses, ", "))
				}
			}
			return a.withStore(cmd.Context(), func(_ *config.Config, st *store.Store) error {
				subs, err := st.Subscribers(cmd.Context(), f.status...)
				if err != nil {
					return err
				}
				counts, err := st.CountSubscribers(cmd.Context())
				if err != nil {
					return err
				}
				if f.json {
					return a.printJSON(map[string]any{"subscribers": nonNilSubs(subs), "counts": counts})
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EMAIL\tSTATUS\tFORMAT\tTOPICS\tSOURCES\tSINCE")
				for _, s := range subs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", clean(s.Email), s.Status, s.Format,
						allIfEmpty(s.Topics), allIfEmpty(s.Sources), s.Created.Local().Format("2006-01-02"))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				var parts []string
				for _, st := range subscriberStatuses {
					if n := counts[st]; n > 0 {
						parts = append(parts, fmt.Sprintf("%d %s", n, st))
					}
				}
				if len(parts) == 0 {
					parts = []string{"no subscribers"}
				}
				fmt.Fprintln(a.stdout, strings.Join(parts, ", "))
				return nil
			})
		},
	}
	cmd.Flags().StringSliceVar(&f.status, "status", nil, "only these statuses (pending, active, unsubscribed, bouncing)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON document")
	return cmd
}

var subscriberStatuses = []string{evidence.SubscriberActive, evidence.SubscriberPending, evidence.SubscriberBouncing, evidence.SubscriberUnsubscribed}

func newSubscribersRemoveCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "remove EMAIL",
		Short: "Delete a subscriber and their delivery log",
		Long: `Delete a subscriber and their delivery log. To stop mail but keep the record
(so a re-import cannot quietly subscribe them again), prefer the unsubscribe
link, which marks them unsubscribed.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd.Context(), func(_ *config.Config, st *store.Store) error {
				sub, err := st.SubscriberByEmail(cmd.Context(), args[0])
				if errors.Is(err, evidence.ErrNotFound) {
					return fmt.Errorf("no subscriber %s", args[0])
				}
				if err != nil {
					return err
				}
				if err := st.RemoveSubscriber(cmd.Context(), sub.ID); err != nil {
					return err
				}
				if jsonOut {
					return a.printJSON(map[string]any{"removed": sub.Email})
				}
				fmt.Fprintf(a.stdout, "removed %s\n", sub.Email)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document")
	return cmd
}

func newSubscribersImportCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Add subscribers from a CSV file (as active)",
		Long: `Add subscribers from a CSV file ('-' reads stdin). The first row names the
columns: email (required), topics and sources (separated by ';' or '|'),
format (html or text). A status column is read as written by 'export', but
only active rows are added: unsubscribed, bouncing and pending rows are
skipped, so an export re-imported never re-subscribes anyone. Bad rows are
reported as 'line N: reason' and the good rows still go in; exit 1 if any.`,
		Example: `  evidence subscribers import team.csv
  evidence subscribers export | evidence --data other subscribers import -`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd.Context(), func(cfg *config.Config, st *store.Store) error {
				return a.importSubscribers(cmd.Context(), cfg, st, args[0], cmd.InOrStdin(), jsonOut)
			})
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, `print {"file","rows","added","updated","skipped","errors":[{"line","error"}]}`)
	return cmd
}

type subscriberImportReport struct {
	File    string            `json:"file"`
	Rows    int               `json:"rows"`
	Added   int               `json:"added"`
	Updated int               `json:"updated"`
	Skipped int               `json:"skipped"`
	Errors  []importLineError `json:"errors"`
}

type importLineError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

func (a *app) importSubscribers(ctx context.Context, cfg *config.Config, st *store.Store, file string, stdin io.Reader, jsonOut bool) error {
	var r io.Reader = stdin
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("subscribers import: %w", err)
		}
		defer fh.Close()
		r = fh
	}
	rep := subscriberImportReport{File: file, Errors: []importLineError{}}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("subscribers import %s: read header: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["email"]; !ok {
		return fmt.Errorf("subscribers import %s: line 1: no 'email' column (columns: %s)", file, strings.Join(header, ", "))
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return digest.UndefuseCSV(strings.TrimSpace(rec[i]))
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("subscribers import %s: %w", file, err)
			}
			rep.Errors = append(rep.Errors, importLineError{Line: pe.StartLine, Error: pe.Err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		rep.Rows++
		if s := get(rec, "status"); s != "" && s != evidence.SubscriberActive {
			rep.Skipped++
			continue
		}
		in, err := subscriberInput(cfg, get(rec, "email"), splitList(get(rec, "topics")), splitList(get(rec, "sources")), cmp.Or(get(rec, "format"), evidence.FormatHTML))
		if err != nil {
			rep.Errors = append(rep.Errors, importLineError{Line: line, Error: err.Error()})
			continue
		}
		_, created, err := st.AddSubscriber(ctx, in)
		if err != nil {
			rep.Errors = append(rep.Errors, importLineError{Line: line, Error: err.Error()})
			continue
		}
		if created {
			rep.Added++
		} else {
			rep.Updated++
		}
	}
	if jsonOut {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "%s: %d rows, %d added, %d updated, %d skipped (not active), %d bad\n",
			file, rep.Rows, rep.Added, rep.Updated, rep.Skipped, len(rep.Errors))
		for _, e := range rep.Errors {
			fmt.Fprintf(a.stderr, "%s: line %d: %s\n", file, e.Line, e.Error)
		}
	}
	if len(rep.Errors) > 0 {
		return silentError{fmt.Errorf("%d bad rows", len(rep.Errors))}
	}
	return nil
}

func newSubscribersExportCommand(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every subscriber as CSV (email, status, topics, sources, format)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(_ *config.Config, st *store.Store) error {
				w := a.stdout
				if out != "" && out != "-" {
					fh, err := os.Create(out)
					if err != nil {
						return fmt.Errorf("subscribers export: %w", err)
					}
					defer fh.Close()
					w = fh
				}
				// The same export as the admins' /admin/subscribers.csv.
				return (&service.SubscriberAdmin{Store: st}).ExportSubscribers(cmd.Context(), w)
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write to FILE instead of stdout")
	return cmd
}

// subscriberInput validates an address and choices against the
// configuration, naming what is wrong.
func subscriberInput(cfg *config.Config, email string, topics, sources []string, format string) (store.SubscriberInput, error) {
	addr, err := mail.NormalizeAddress(email)
	if err != nil {
		return store.SubscriberInput{}, err
	}
	known := map[string]string{}
	var names []string
	for _, t := range cfg.Topics {
		known[strings.ToLower(t.Name)] = t.Name
		names = append(names, t.Name)
	}
	var ts []string
	for _, t := range topics {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		name, ok := known[strings.ToLower(t)]
		if !ok {
			return store.SubscriberInput{}, fmt.Errorf("unknown topic %q (topics: %s)", t, strings.Join(names, ", "))
		}
		if !slices.Contains(ts, name) {
			ts = append(ts, name)
		}
	}
	var ss []string
	for _, s := range sources {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, ok := cfg.Sources[s]; !ok {
			return store.SubscriberInput{}, fmt.Errorf("unknown source %q (sources: %s)", s, strings.Join(cfg.Sources.IDs(), ", "))
		}
		if !slices.Contains(ss, s) {
			ss = append(ss, s)
		}
	}
	if format != evidence.FormatHTML && format != evidence.FormatText {
		return store.SubscriberInput{}, fmt.Errorf("format %q: want html or text", format)
	}
	return store.SubscriberInput{Email: addr, Status: evidence.SubscriberActive, Topics: ts, Sources: ss, Format: format}, nil
}

// withStore opens the store and runs fn with it.
func (a *app) withStore(ctx context.Context, fn func(*config.Config, *store.Store) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(cfg, st)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' })
}

func allIfEmpty(list []string) string {
	if len(list) == 0 {
		return "all"
	}
	return strings.Join(list, ",")
}

func nonNilSubs(s []evidence.Subscriber) []evidence.Subscriber {
	if s == nil {
		return []evidence.Subscriber{}
	}
	for i := range s {
		if s[i].Topics == nil {
			s[i].Topics = []string{}
		}
		if s[i].Sources == nil {
			s[i].Sources = []string{}
		}
	}
	return s
}
