package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/store"
)

// tagIndex is an Indexer whose tagger tags an item with each word of its
// title found in topics, and which remembers the topics it indexed. fail,
// when set, fails the next Index call (a crash between storing topics and
// indexing).
type tagIndex struct {
	topics  []string
	fail    error
	indexed map[string][]string
}

func (x *tagIndex) Tag(_ context.Context, items []evidence.Item) ([][]evidence.TopicTag, error) {
	out := make([][]evidence.TopicTag, len(items))
	for i, it := range items {
		for j, tp := range x.topics {
			if strings.Contains(strings.ToLower(it.Title), tp) {
				out[i] = append(out[i], evidence.TopicTag{Name: tp, Strength: float64(len(x.topics) - j), Where: evidence.TopicTitle, Hits: 1})
			}
		}
	}
	return out, nil
}

func (x *tagIndex) Index(ctx context.Context, items []evidence.Item) error {
	if err := x.fail; err != nil {
		x.fail = nil
		return err
	}
	tags, _ := x.Tag(ctx, items)
	for i, it := range items {
		var names []string
		for _, t := range tags[i] {
			names = append(names, t.Name)
		}
		x.indexed[it.ID] = names
	}
	return nil
}

// failTopics is a store whose SetTopics fails.
type failTopics struct{ *store.Store }

func (failTopics) SetTopics(context.Context, map[string][]evidence.TopicTag) error {
	return errors.New("disk full")
}

func TestSyncIndexStoresTopics(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "evidence.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids []string
	for _, title := range []string{"Housing and carers", "Dementia care", "Nothing to see"} {
		it := &evidence.Item{Source: evidence.SourceKingsFund, Type: evidence.TypeBlog, Title: title,
			URL: "https://www.kingsfund.org.uk/blog/" + strings.ReplaceAll(strings.ToLower(title), " ", "-")}
		if _, err := st.UpsertItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	want := map[string][]string{ids[0]: {"carers", "housing"}, ids[1]: {"dementia"}, ids[2]: {}}
	check := func(t *testing.T, ix *tagIndex) {
		t.Helper()
		for id, w := range want {
			it, err := st.Item(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(it.Topics, w) {
				t.Errorf("stored topics of %q = %v, want %v", it.Title, it.Topics, w)
			}
			if got := ix.indexed[id]; !slices.Equal(it.Topics, append([]string{}, got...)) {
				t.Errorf("%q: store has %v, index has %v", it.Title, it.Topics, got)
			}
		}
	}
	ix := &tagIndex{topics: []string{"carers", "housing", "dementia"}, indexed: map[string][]string{}}

	t.Run("a failed topic write indexes nothing", func(t *testing.T) {
		if _, err := SyncIndex(ctx, failTopics{st}, ix, 10, nil); err == nil || !strings.Contains(err.Error(), "store topics") {
			t.Fatalf("SyncIndex = %v, want the store's error", err)
		}
		if len(ix.indexed) != 0 {
			t.Errorf("indexed %v before the topics were stored", ix.indexed)
		}
	})
	t.Run("a crash after storing topics converges on the next run", func(t *testing.T) {
		ix.fail = errors.New("killed")
		if _, err := SyncIndex(ctx, st, ix, 10, nil); err == nil {
			t.Fatal("SyncIndex succeeded with a failing index")
		}
		if n, _ := st.CountPending(ctx); n != 3 {
			t.Fatalf("%d pending after the crash, want 3", n)
		}
		n, err := SyncIndex(ctx, st, ix, 2, nil)
		if err != nil || n != 3 {
			t.Fatalf("SyncIndex = %d, %v; want 3 items", n, err)
		}
		check(t, ix)
	})
	t.Run("a taxonomy change re-tags the store when items are synced again", func(t *testing.T) {
		ix.topics = []string{"dementia", "care"}
		want = map[string][]string{ids[0]: {"care"}, ids[1]: {"dementia", "care"}, ids[2]: {}}
		if err := st.ResetIndexed(ctx); err != nil { // what evidence reindex does
			t.Fatal(err)
		}
		if _, err := SyncIndex(ctx, st, ix, 10, nil); err != nil {
			t.Fatal(err)
		}
		check(t, ix)
	})
}
