package main

import (
	"context"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
)

// catalog wires the catalogue service (search, item pages, topics,
// sources) over an open store and index: the CLI's search and the web use
// the same one.
func (a *app) catalog(cfg *config.Config, st *store.Store, ix *index.Index) *service.Catalog {
	names := map[string]string{}
	for id, sc := range cfg.Sources {
		names[id] = sc.Name
	}
	tax := make([]evidence.TopicCount, 0, len(cfg.Topics))
	for _, t := range cfg.Topics {
		tax = append(tax, evidence.TopicCount{Name: t.Name, Description: t.Description, Query: t.Query})
	}
	return &service.Catalog{
		Store: st, Index: ix, Taxonomy: tax, Names: names, Logger: a.logger(),
		SourceRows: func(ctx context.Context) ([]evidence.SourceRow, error) {
			return sourceRows(ctx, cfg, st, time.Now())
		},
	}
}
