package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/store"
)

// Paths inside the data directory.
func storePath(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "evidence.db") }
func indexPath(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "index.bleve") }

func (a *app) openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	if a.srv != nil {
		return a.srv.st.Retain(), nil
	}
	st, err := store.Open(ctx, store.Options{Path: storePath(cfg), Logger: a.logger(), ReadOnly: a.readOnly})
	if err != nil {
		return nil, err
	}
	if st.ReadOnly() {
		return st, nil
	}
	for _, id := range cfg.Sources.IDs() {
		if err := st.EnsureSource(ctx, id, cfg.Sources[id].Name); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}

// openStoreForReading opens the store for a command that only reads
// (search, show, sources, topics): as usual when the data directory can be
// written (so migrations and index catch-up still happen), else read-only
// (mode=ro, no migration), and the index read-only after it.
func (a *app) openStoreForReading(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	st, err := a.openStore(ctx, cfg)
	if errors.Is(err, store.ErrReadOnly) && !a.readOnly {
		a.logger().Warn("data directory is not writable; opening the store and index read-only", "dir", cfg.DataDir, "reason", err)
		a.readOnly = true
		st, err = a.openStore(ctx, cfg)
	}
	return st, err
}

// openBothForReading is openBoth for a command that only reads.
func (a *app) openBothForReading(ctx context.Context, cfg *config.Config) (st *store.Store, ix *index.Index, close func(), err error) {
	st, err = a.openStoreForReading(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	ix, err = a.openIndex(ctx, cfg, st, !st.ReadOnly())
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, ix, func() { ix.Close(); st.Close() }, nil
}

// lockProgress tells the person waiting who holds the index.
func (a *app) lockProgress(cfg *config.Config) func(time.Duration, string) {
	return func(waited time.Duration, holder string) {
		if holder == "" {
			holder = "another process"
		}
		fmt.Fprintf(a.stderr, "evidence: the index is in use by %s; waiting (%s of index.lock_wait %s)…\n",
			holder, waited.Round(time.Second), cfg.Index.LockWait)
	}
}

// waitIndexFree waits up to index.lock_wait while another process has the
// index open (a rebuild must not remove it under them), naming the holder
// when giving up.
func (a *app) waitIndexFree(ctx context.Context, cfg *config.Config) error {
	return index.WaitFree(ctx, index.Options{Path: indexPath(cfg), LockWait: cfg.Index.LockWait, OnLockWait: a.lockProgress(cfg)})
}

// openIndex opens the bleve index. An index that cannot be opened is
// derived data: it is rebuilt from the store, with a warning. With sync, the
// items the store holds but the index has not seen yet (a crash between the
// two) are indexed before it is returned.
func (a *app) openIndex(ctx context.Context, cfg *config.Config, st *store.Store, sync bool) (*index.Index, error) {
	if a.srv != nil {
		// Inside serve: its index, caught up unless an ingest or a reindex
		// is writing it right now (that one catches up as it finishes).
		ix := a.srv.ix.Retain()
		if sync && a.srv.writeMu.TryLock() {
			defer a.srv.writeMu.Unlock()
			if _, err := a.syncIndex(ctx, cfg, st, ix, false); err != nil {
				ix.Close()
				return nil, err
			}
		}
		return ix, nil
	}
	opts := a.indexOptions(cfg)
	opts.LockWait, opts.OnLockWait = cfg.Index.LockWait, a.lockProgress(cfg)
	opts.Owner = strings.Join(os.Args, " ")
	if st.ReadOnly() {
		opts.ReadOnly, sync = true, false
	}
	ix, err := index.Open(ctx, opts)
	if errors.Is(err, index.ErrCorrupt) && !opts.ReadOnly {
		a.logger().Warn("index cannot be opened; rebuilding it from the store", "path", opts.Path, "err", err)
		if err := index.Remove(opts.Path); err != nil {
			return nil, fmt.Errorf("remove broken index %s: %w", opts.Path, err)
		}
		if err := st.ResetIndexed(ctx); err != nil {
			return nil, err
		}
		ix, err = index.Open(ctx, opts)
	}
	if err != nil {
		return nil, err
	}
	if sync {
		if _, err := a.syncIndex(ctx, cfg, st, ix, false); err != nil {
			ix.Close()
			return nil, err
		}
	}
	return ix, nil
}

// openBoth opens the store and the index (syncing the index first when
// sync is set); close releases both.
func (a *app) openBoth(ctx context.Context, cfg *config.Config, sync bool) (st *store.Store, ix *index.Index, close func(), err error) {
	st, err = a.openStore(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	ix, err = a.openIndex(ctx, cfg, st, sync)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, ix, func() { ix.Close(); st.Close() }, nil
}

// syncIndex indexes pending items, with a progress bar when asked and on a
// terminal.
func (a *app) syncIndex(ctx context.Context, cfg *config.Config, st *store.Store, ix *index.Index, showProgress bool) (int, error) {
	var bar *progressbar.ProgressBar
	if showProgress && a.stderrIsTerminal() {
		total, err := st.CountPending(ctx)
		if err == nil && total > 0 {
			bar = a.newBar(int64(total), "indexing")
			defer bar.Finish()
		}
	}
	return ingest.SyncIndex(ctx, st, ix, cfg.Index.BatchSize, func(done int) {
		if bar != nil {
			bar.Set(done)
		}
	})
}

// newFetcher builds the HTTP client; robots, if not nil, keeps robots.txt
// between runs.
func (a *app) newFetcher(cfg *config.Config, robots fetch.RobotsCache) (*fetch.Client, error) {
	ct, err := cfg.Fetch.ConnectToMap()
	if err != nil {
		return nil, fmt.Errorf("config fetch.connect_to: %w", err)
	}
	// In config 0 means none; in fetch.Options 0 means "the default".
	none := func(n int) int {
		if n == 0 {
			return -1
		}
		return n
	}
	return fetch.New(fetch.Options{
		UserAgent:      cfg.Fetch.UserAgent,
		Timeout:        cfg.Fetch.Timeout,
		ConnectTimeout: cfg.Fetch.ConnectTimeout,
		MaxBodyBytes:   cfg.Fetch.MaxBodyBytes,
		MaxRedirects:   none(cfg.Fetch.MaxRedirects),
		RatePerHost:    cfg.Fetch.RatePerHost,
		Retries:        none(cfg.Fetch.Retries),
		BackoffBase:    cfg.Fetch.BackoffBase,
		MaxRetryWait:   cfg.Fetch.MaxRetryWait,
		ConnectTo:      ct,
		IgnoreRobots:   cfg.Fetch.IgnoreRobots,
		RobotsCache:    robots,
		Logger:         a.logger(),
	})
}

// compileSources turns every configured source into a pipeline source.
func compileSources(cfg *config.Config) ([]ingest.Source, error) {
	var out []ingest.Source
	for _, id := range cfg.Sources.IDs() {
		s := cfg.Sources[id]
		spec := ingest.SourceSpec{
			ID: id, Name: s.Name, Home: s.Home,
			Feeds: s.Feeds, Sitemaps: s.Sitemaps, Listings: s.Listings,
			PreferredHost: s.PreferredHost, TrailingSlash: s.TrailingSlash,
			Include: s.Include, Exclude: s.Exclude, Pagination: s.Pagination,
			DefaultType: s.DefaultType,
		}
		for _, r := range s.Types {
			spec.Types = append(spec.Types, ingest.TypeRuleSpec{Pattern: r.Pattern, Type: r.Type})
		}
		for _, r := range s.AliasRules {
			spec.AliasRules = append(spec.AliasRules, ingest.AliasRuleSpec{Pattern: r.Pattern, Target: r.Target, Lowercase: r.Lowercase})
		}
		src, err := ingest.Compile(spec)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, nil
}

func (a *app) newBar(total int64, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
