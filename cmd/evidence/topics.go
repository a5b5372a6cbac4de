package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/index"
)

// topicsOutput is the JSON document `topics --json` prints.
type topicsOutput struct {
	Topics []topicCount `json:"topics"`
	// Other lists tags on items that are not in the taxonomy (items' own
	// topics, or topics since removed).
	Other []topicCount `json:"other"`
	// Stale is true when the index was tagged with another taxonomy: run
	// `evidence reindex`.
	Stale bool `json:"stale"`
}

type topicCount struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Query       string `json:"query,omitempty"`
	// Items is how many stored items are tagged with the topic; Primary
	// how many of them have it as their primary (strongest) topic.
	Items   int `json:"items"`
	Primary int `json:"primary"`
}

func newTopicsCommand(a *app) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "List the topic taxonomy with the number of items tagged with each topic",
		Long: `List the topics of the taxonomy (config key topics) with how many stored
items each one tags and how many have it as their primary (strongest) topic.
Items are tagged as they are indexed, and their topics stored with them, so
show, search and exports agree; after editing the taxonomy run
'evidence reindex' to re-tag every item in the store and the index.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runTopics(cmd.Context(), jsonOut)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON document on stdout")
	return cmd
}

func (a *app) runTopics(ctx context.Context, jsonOut bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, ix, closeAll, err := a.openBothForReading(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	counts, err := st.TopicCounts(ctx, false)
	if err != nil {
		return err
	}
	primary, err := st.TopicCounts(ctx, true)
	if err != nil {
		return err
	}
	out := topicsOutput{Topics: []topicCount{}, Other: []topicCount{}, Stale: ix.TopicsStale()}
	known := map[string]bool{}
	for _, t := range cfg.Topics {
		key := strings.ToLower(t.Name)
		known[key] = true
		out.Topics = append(out.Topics, topicCount{Name: t.Name, Description: t.Description, Query: t.Query, Items: counts[key], Primary: primary[key]})
	}
	for name, n := range counts {
		if !known[name] {
			out.Other = append(out.Other, topicCount{Name: name, Items: n, Primary: primary[name]})
		}
	}
	sort.Slice(out.Other, func(i, j int) bool { return out.Other[i].Name < out.Other[j].Name })
	if jsonOut {
		return a.printJSON(out)
	}
	w := a.stdout
	width := 0
	for _, t := range out.Topics {
		width = max(width, len(t.Name))
	}
	if len(out.Topics) > 0 {
		fmt.Fprintf(w, "%-*s %6s %8s  %s\n", width, "topic", "items", "primary", "description")
	}
	for _, t := range out.Topics {
		fmt.Fprintf(w, "%-*s %6d %8d  %s\n", width, t.Name, t.Items, t.Primary, clean(t.Description))
	}
	if len(out.Topics) == 0 {
		fmt.Fprintln(w, "No topics are configured (config key topics).")
	}
	for i, t := range out.Other {
		if i == 0 {
			fmt.Fprintln(w, "\nOther tags on items:")
		}
		fmt.Fprintf(w, "%-*s %6d %8d\n", width, clean(t.Name), t.Items, t.Primary)
	}
	if out.Stale {
		fmt.Fprintln(w, "\nThe taxonomy has changed since the index was built: run `evidence reindex` to re-tag every item (store and index).")
	}
	return nil
}

// indexOptions is the index configuration cfg describes: batch size,
// synonyms file and topic taxonomy. openIndex (wire.go) should build its
// index.Options with it, so indexing tags topics and uses the synonyms file.
func (a *app) indexOptions(cfg *config.Config) index.Options {
	opts := index.Options{
		Path:         indexPath(cfg),
		Logger:       a.logger(),
		BatchSize:    cfg.Index.BatchSize,
		SynonymsFile: cfg.Index.SynonymsFile,
	}
	for _, t := range cfg.Topics {
		opts.Topics = append(opts.Topics, index.Topic{Name: t.Name, Description: t.Description, Query: t.Query})
	}
	return opts
}
