package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/internal/replay"
)

func newShowCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "show ID|URL",
		Short: "Show one item in full: metadata, relations, full text and provenance",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runShow(cmd.Context(), args[0], jsonOut)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the item JSON (with body and provenance) on stdout")
	return cmd
}

func (a *app) runShow(ctx context.Context, ref string, jsonOut bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.openStoreForReading(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var it evidence.Item
	if strings.Contains(ref, "://") {
		it, err = st.ItemByURL(ctx, ref)
	} else {
		it, err = st.Item(ctx, ref)
	}
	if errors.Is(err, evidence.ErrNotFound) {
		return fmt.Errorf("show %s: no such item", ref)
	}
	if err != nil {
		return err
	}
	if it.Provenance == nil {
		it.Provenance = map[string]string{}
	}
	if jsonOut {
		return a.printJSON(it)
	}
	w := a.stdout
	fmt.Fprintf(w, "%s\n%s\n\n", clean(it.Title), clean(it.URL))
	date := "undated"
	if it.Published != nil {
		date = it.Published.Format("2 January 2006")
	}
	fmt.Fprintf(w, "id:        %s\nsource:    %s\ntype:      %s\npublished: %s\n", it.ID, it.Source, it.Type, date)
	for _, f := range []struct {
		name string
		vals []string
	}{{"authors", it.Authors}, {"topics", it.Topics}, {"announced", it.AnnouncedBy}, {"pdfs", it.PDFURLs}} {
		if len(f.vals) > 0 {
			fmt.Fprintf(w, "%-10s %s\n", f.name+":", clean(strings.Join(f.vals, "; ")))
		}
	}
	// Relations by title, so a reader can follow them.
	for _, rel := range []struct {
		name string
		ids  []string
	}{{"discusses", it.Discusses}, {"discussed by", it.DiscussedBy}} {
		if len(rel.ids) == 0 {
			continue
		}
		others, err := st.ItemsByIDs(ctx, rel.ids)
		if err != nil {
			return err
		}
		for _, o := range others {
			fmt.Fprintf(w, "%-10s %s (%s, %s)\n", rel.name+":", clean(o.Title), o.Source, o.ID)
		}
	}
	for _, c := range it.Cites {
		fmt.Fprintf(w, "cites:     %s\n", clean(c.URL))
	}
	fmt.Fprintf(w, "\n%s\n", clean(it.Summary))
	return nil
}

func newConfigCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check or show the configuration",
	}
	var jsonOut bool
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration; every mistake is named by its key (exit 1 if any)",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return a.runConfigCheck(jsonOut)
		},
	}
	check.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document on stdout")
	var showJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration (defaults, file, environment, flags), secrets redacted",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if showJSON {
				return a.printJSON(cfg.Redacted())
			}
			enc := yaml.NewEncoder(a.stdout)
			enc.SetIndent(2)
			if err := enc.Encode(cfg.Redacted()); err != nil {
				return fmt.Errorf("config show: %w", err)
			}
			return enc.Close()
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON instead of YAML")
	cmd.AddCommand(check, show)
	return cmd
}

func (a *app) runConfigCheck(jsonOut bool) error {
	l, err := config.Load(a.loadOptions())
	type keyErr struct {
		Key     string `json:"key"`
		Message string `json:"message"`
	}
	rep := struct {
		OK       bool     `json:"ok"`
		File     string   `json:"file"`
		Sources  []string `json:"sources"`
		Errors   []keyErr `json:"errors"`
		Warnings []string `json:"warnings"`
	}{Errors: []keyErr{}, Warnings: []string{}, Sources: []string{}}
	var fes config.Errors
	switch {
	case err == nil:
		rep.OK, rep.File = true, l.File
		rep.Sources = l.Config.Sources.IDs()
		rep.Warnings = append(rep.Warnings, l.Warnings...)
	case errors.As(err, &fes):
		for _, e := range fes {
			rep.Errors = append(rep.Errors, keyErr{e.Key, e.Msg})
		}
	default:
		rep.Errors = append(rep.Errors, keyErr{"", err.Error()})
	}
	if jsonOut {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		for _, e := range rep.Errors {
			if e.Key == "" {
				fmt.Fprintf(a.stdout, "error: %s\n", e.Message)
			} else {
				fmt.Fprintf(a.stdout, "error: %s: %s\n", e.Key, e.Message)
			}
		}
		for _, w := range rep.Warnings {
			fmt.Fprintf(a.stdout, "warning: %s\n", w)
		}
		if rep.OK {
			file := rep.File
			if file == "" {
				file = "built-in defaults only"
			}
			fmt.Fprintf(a.stdout, "ok: configuration is valid (%s; sources: %s)\n", file, strings.Join(rep.Sources, ", "))
		}
	}
	if !rep.OK {
		return silentError{fmt.Errorf("config check: %d error(s)", len(rep.Errors))}
	}
	return nil
}

func newReplayCommand(a *app) *cobra.Command {
	var dir, addr string
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Serve recorded publisher snapshots over HTTP, for tests and the demo",
		Long: `Serve a snapshot tree (testdata/snapshots/<host>/…, see its README) over
plain HTTP, routing by Host header, with ETag, Last-Modified and 304s. Point the
fetcher at it with fetch.connect_to (EVIDENCE_FETCH_CONNECT_TO), for example
www.nationalelfservice.net=127.0.0.1:8089. The address it listens on is printed
on stdout (use port 0 for any free port). Runs until interrupted.`,
		Example: `  evidence replay --dir testdata/snapshots --addr 127.0.0.1:8089`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return usagef("--dir %q is not a directory", dir)
			}
			h, err := replay.New(replay.Options{Dir: dir, Logger: a.logger()})
			if err != nil {
				return err
			}
			return replay.ListenAndServe(cmd.Context(), addr, h, func(ad net.Addr) {
				fmt.Fprintf(a.stdout, "%s\n", ad)
				a.logger().Info("replay serving", "dir", dir, "addr", ad.String())
			})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "testdata/snapshots", "snapshot directory")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8089", "address to listen on (loopback)")
	return cmd
}

func newVersionCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		Run: func(*cobra.Command, []string) {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintf(a.stdout, "evidence %s (%s, %s/%s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	}
}
