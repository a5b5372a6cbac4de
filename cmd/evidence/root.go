package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit statuses (a contract: see ARCHITECTURE.md).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// silentError is a failure the command has already reported (exit 1).
type silentError struct{ err error }

func (e silentError) Error() string { return e.err.Error() }
func (e silentError) Unwrap() error { return e.err }

// app is what every command shares: global options, output streams and the
// configuration once loaded. One is made per invocation; nothing is global.
type app struct {
	stdout, stderr io.Writer
	configFile     string
	flags          *pflag.FlagSet // persistent flags, bound to config keys

	loaded *config.Loaded
	log    *slog.Logger
	// readOnly opens the store and index read-only: set when a reading
	// command finds the data directory unwritable (openStoreForReading).
	readOnly bool
	// stdin is the commands' standard input (nil: the process's).
	stdin io.Reader
	// args is the command line being run (for forwarding to a server).
	args []string
	// srv is set for commands running inside `evidence serve`: they use
	// its open store and index.
	srv *serverState
}

// run executes the CLI and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return (&app{stdout: stdout, stderr: stderr}).run(ctx, args)
}

// run executes the CLI with a's streams and returns the exit status.
func (a *app) run(ctx context.Context, args []string) int {
	stdout, stderr := a.stdout, a.stderr
	root := newRootCommand(a)
	a.args = args
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if a.stdin != nil {
		root.SetIn(a.stdin)
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var fw forwarded
	if errors.As(err, &fw) {
		return fw.code
	}
	if a.loaded != nil {
		// A damaged store is named whichever way its error came.
		err = store.Explain(err, storePath(a.loaded.Config))
	}
	var ue usageError
	var se silentError
	if msg := err.Error(); strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") {
		err = usageError{err}
	}
	switch {
	case errors.As(err, &se):
		return exitFailure
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "evidence: %v\nRun 'evidence --help' for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "evidence: %v\n", err)
		return exitFailure
	}
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "evidence",
		Short: "Track UK mental health and health policy evidence",
		Long: `Evidence Tracker ingests the feeds and pages of The Mental Elf, Centre for
Mental Health, The King's Fund and National Voices, stores every item once in
SQLite, indexes it with bleve and lets professionals search it.

Configuration comes from built-in defaults, one YAML file (--config, or
./evidence.yaml), EVIDENCE_* environment variables and flags, in that order.

A command that finds the index in use by another process (a long reindex)
waits up to index.lock_wait (default 60s), then names the holder. A damaged
evidence.db is named and never replaced. In a read-only data directory,
search, show, sources and topics still work (read-only store and index).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// While `evidence serve` holds the data dir, commands that need its
	// index run inside it (see control.go).
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if a.srv != nil || !forwardable(cmd) {
			return nil
		}
		cfg, err := a.loadConfig()
		if err != nil {
			return nil // the command itself reports the configuration
		}
		conn := dialServer(cfg.DataDir)
		if conn == nil {
			return nil
		}
		a.logger().Debug("running inside evidence serve", "socket", socketPath(cfg.DataDir))
		code, err := a.forward(cmd.Context(), conn, cmd, a.args, cmd.InOrStdin())
		if err != nil {
			return err
		}
		return forwarded{code}
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "YAML configuration file (default ./evidence.yaml if present)")
	pf.String("data", "./data", "data directory: SQLite store and bleve index (config data_dir)")
	pf.String("log-level", "info", "log level: debug, info, warn, error (config log.level)")
	pf.String("log-format", "text", "log format: text or json (config log.format)")
	a.flags = pf

	root.AddCommand(
		newRunCommand(a),
		newIngestCommand(a),
		newSearchCommand(a),
		newShowCommand(a),
		newSourcesCommand(a),
		newReindexCommand(a),
		newImportCommand(a),
		newCheckCommand(a),
		newConfigCommand(a),
		newReplayCommand(a),
		newEvalCommand(a),
		newBenchCommand(a),
		newTopicsCommand(a),
		newAliasesCommand(a),
		newSubscribersCommand(a),
		newUsersCommand(a),
		newServeCommand(a),
		newDigestCommand(a),
		newCollectionsCommand(a),
		newVersionCommand(a),
	)
	return root
}

// loadConfig loads and validates the configuration once, and sets up the
// logger from it.
func (a *app) loadConfig() (*config.Config, error) {
	if a.loaded != nil {
		return a.loaded.Config, nil
	}
	l, err := config.Load(a.loadOptions())
	if err != nil {
		return nil, err
	}
	a.loaded = l
	a.log = newLogger(a.stderr, l.Config.Log.Level, l.Config.Log.Format)
	for _, w := range l.Warnings {
		a.log.Warn(w)
	}
	return l.Config, nil
}

func (a *app) loadOptions() config.LoadOptions {
	return config.LoadOptions{
		File: a.configFile,
		Flags: map[string]*pflag.Flag{
			"data_dir":   a.flags.Lookup("data"),
			"log.level":  a.flags.Lookup("log-level"),
			"log.format": a.flags.Lookup("log-format"),
		},
	}
}

// logger returns the configured logger, or a default one before config is
// loaded.
func (a *app) logger() *slog.Logger {
	if a.log == nil {
		lvl, _ := a.flags.GetString("log-level")
		format, _ := a.flags.GetString("log-format")
		a.log = newLogger(a.stderr, lvl, format)
	}
	return a.log
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lvl slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lvl = slog.LevelDebug
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// printJSON writes v as one indented JSON document.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// stderrIsTerminal reports whether progress bars make sense.
func (a *app) stderrIsTerminal() bool {
	f, ok := a.stderr.(*os.File)
	return ok && isTerminal(f)
}

// stdoutIsTerminal reports whether output is read by a person.
func (a *app) stdoutIsTerminal() bool {
	f, ok := a.stdout.(*os.File)
	return ok && isTerminal(f)
}

// noArgs and maxArgs are cobra argument checks that fail as usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes at most %d argument(s), got %d (quote a query with spaces)", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
