package importer

import (
	"slices"
	"testing"

	"github.com/evidencetracker/evidence"
)

// A stored item read back carries the tagger's topics; merging an import
// into it must not save them as the item's own (they could then never be
// re-tagged away).
func TestMergeKeepsOnlyGivenTopics(t *testing.T) {
	stored := evidence.Item{
		URL:    "https://www.kingsfund.org.uk/insight-and-analysis/reports/x",
		Topics: []string{"housing", "editor pick"},
		TopicTags: []evidence.TopicTag{
			{Name: "housing", Strength: 10, Where: evidence.TopicTitle},
			{Name: "editor pick", Strength: 1000, Where: evidence.TopicGiven},
		},
	}
	out := merge(stored, evidence.Item{Title: "X"})
	if !slices.Equal(out.Topics, []string{"editor pick"}) || out.TopicTags != nil {
		t.Errorf("merged topics = %v, tags %v; want only the given [editor pick]", out.Topics, out.TopicTags)
	}
}
