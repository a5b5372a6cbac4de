package main

import (
	"context"
	"fmt"
	"time"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/ingest"
	"github.com/evidencetracker/evidence/ingest/fetch"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

// addURLIndexWait is how long an add by URL inside serve waits for a
// running ingest or reindex to finish with the index before leaving its
// item pending (that run, or the next minute's, indexes it).
const addURLIndexWait = 5 * time.Second

// urlAdder wires "add by URL" (service.URLAdder) over an open store and
// index, for the collections CLI and web: the configured sources' URL
// rules, and a fetcher of its own, like ingest's (fetch.* settings,
// robots.txt kept in the store) but guarded against loopback, private,
// link-local and metadata addresses unless web.allow_private_fetch, and
// not retrying (a curator is waiting: a failure is reported at once).
func (a *app) urlAdder(cfg *config.Config, st *store.Store, ix *index.Index) (*service.URLAdder, error) {
	all, err := compileSources(cfg)
	if err != nil {
		return nil, err
	}
	fc, err := a.newAddURLFetcher(cfg, st)
	if err != nil {
		return nil, err
	}
	return &service.URLAdder{
		Store:   st,
		Fetcher: fc,
		Sites:   ingest.New(ingest.Options{Sources: all, Logger: a.logger()}),
		Index:   a.addURLIndexer(cfg, st, ix),
		Logger:  a.logger(),
	}, nil
}

// newAddURLFetcher is newFetcher's client with the Guard and no retries.
func (a *app) newAddURLFetcher(cfg *config.Config, st *store.Store) (*fetch.Client, error) {
	ct, err := cfg.Fetch.ConnectToMap()
	if err != nil {
		return nil, fmt.Errorf("config fetch.connect_to: %w", err)
	}
	opts := fetch.Options{
		UserAgent:      cfg.Fetch.UserAgent,
		Timeout:        cfg.Fetch.Timeout,
		ConnectTimeout: cfg.Fetch.ConnectTimeout,
		MaxBodyBytes:   cfg.Fetch.MaxBodyBytes,
		MaxRedirects:   cfg.Fetch.MaxRedirects,
		RatePerHost:    cfg.Fetch.RatePerHost,
		Retries:        -1,
		ConnectTo:      ct,
		IgnoreRobots:   cfg.Fetch.IgnoreRobots,
		Logger:         a.logger(),
	}
	if cfg.Fetch.MaxRedirects == 0 {
		opts.MaxRedirects = -1 // config 0 means none
	}
	if st != nil && !st.ReadOnly() {
		opts.RobotsCache = st
	}
	if !cfg.Web.AllowPrivateFetch {
		opts.Guard = &fetch.Guard{Hint: "set web.allow_private_fetch to allow"}
	}
	return fetch.New(opts)
}

// addURLIndexer indexes what an add stored, as ingest does (the store's
// outbox through ingest.SyncIndex). Inside serve it takes the write lock
// that ingest and reindex hold, waiting at most addURLIndexWait.
func (a *app) addURLIndexer(cfg *config.Config, st *store.Store, ix *index.Index) func(context.Context) error {
	if ix == nil {
		return nil
	}
	return func(ctx context.Context) error {
		if a.srv != nil {
			deadline := time.Now().Add(addURLIndexWait)
			for !a.srv.writeMu.TryLock() {
				if time.Now().After(deadline) {
					return fmt.Errorf("index busy with an ingest or reindex; the item is indexed when it finishes")
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
			}
			defer a.srv.writeMu.Unlock()
		}
		_, err := ingest.SyncIndex(ctx, st, ix, cfg.Index.BatchSize, nil)
		return err
	}
}
