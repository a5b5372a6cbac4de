package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence/internal/bench"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
)

// topicLabel is one line of testdata/topics/labels.tsv: the topics a
// librarian says truly apply to the item at url.
type topicLabel struct {
	line   int
	url    string
	topics []string
}

// readTopicLabels reads a labels file: url, topics ("; "-separated, empty
// for none), reason; '#' lines are comments. A malformed line fails the
// test naming the file and line.
func readTopicLabels(t *testing.T, path string, known map[string]bool) []topicLabel {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []topicLabel
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 || cols[0] == "" || strings.TrimSpace(cols[2]) == "" {
			t.Fatalf("%s:%d: want url<TAB>topics<TAB>reason, got %d column(s)", path, n, len(cols))
		}
		if prev, dup := seen[cols[0]]; dup {
			t.Fatalf("%s:%d: %s already labelled on line %d", path, n, cols[0], prev)
		}
		seen[cols[0]] = n
		l := topicLabel{line: n, url: cols[0], topics: []string{}}
		for _, tp := range strings.Split(cols[1], ";") {
			if tp = strings.TrimSpace(tp); tp == "" {
				continue
			}
			if !known[tp] {
				t.Fatalf("%s:%d: %q is not a topic of the taxonomy", path, n, tp)
			}
			l.topics = append(l.topics, tp)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// TestTaggerAgainstLabels ingests the four snapshot sites (in-process
// replay, as `bench ingest` does), so every item is tagged by the sync step
// with the default taxonomy, and measures the stored topics against the
// hand labels: micro-averaged precision and recall over (item, topic)
// pairs, and how often the primary topic is one the librarian chose.
func TestTaggerAgainstLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the snapshot sites; skipped with -short")
	}
	l, err := config.Load(config.LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, tp := range l.Config.Topics {
		known[strings.ToLower(tp.Name)] = true
	}
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, loaded: l}
	a.log = newLogger(a.stderr, "error", "text")
	ctx := context.Background()
	opts, err := a.ingestBenchOptions(l.Config, filepath.Join("..", "..", "testdata", "snapshots"), -1)
	if err != nil {
		t.Fatal(err)
	}
	opts.DataDir = t.TempDir()
	ib, err := bench.StartIngest(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ib.Close()
	if _, err := ib.Run(ctx, "first ingest"); err != nil {
		t.Fatal(err)
	}

	for _, file := range []string{"labels.tsv", "labels-heldout.tsv"} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", "topics", file)
			labels := readTopicLabels(t, path, known)
			if file == "labels.tsv" && len(labels) < 60 {
				t.Fatalf("%s: %d labelled items, want at least 60", path, len(labels))
			}
			scoreTopics(t, ib.Store(), labels)
		})
	}
}

// scoreTopics compares the stored topics of the labelled items with the
// labels, logs micro precision and recall and fails below the targets.
func scoreTopics(t *testing.T, st interface {
	ItemByURL(ctx context.Context, url string) (evidence.Item, error)
}, labels []topicLabel) {
	t.Helper()
	ctx := context.Background()
	var tp, fp, fn, primaryOK, withLabels int
	falsePos, falseNeg := map[string]int{}, map[string]int{}
	for _, lb := range labels {
		it, err := st.ItemByURL(ctx, lb.url)
		if err != nil {
			t.Fatalf("line %d: %s: %v", lb.line, lb.url, err)
		}
		for _, got := range it.Topics {
			if slices.Contains(lb.topics, got) {
				tp++
			} else {
				fp++
				falsePos[got]++
				t.Logf("false positive: %s on %s", got, lb.url)
			}
		}
		for _, want := range lb.topics {
			if !slices.Contains(it.Topics, want) {
				fn++
				falseNeg[want]++
				t.Logf("false negative: %s on %s", want, lb.url)
			}
		}
		if len(lb.topics) > 0 {
			withLabels++
			if len(it.Topics) > 0 && slices.Contains(lb.topics, it.Topics[0]) {
				primaryOK++
			}
		}
	}
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	t.Logf("%d items labelled (%d with a topic): %d true positives, %d false positives, %d false negatives", len(labels), withLabels, tp, fp, fn)
	t.Logf("precision %.3f, recall %.3f; primary topic among the labels on %d of %d items", precision, recall, primaryOK, withLabels)
	t.Logf("false positives by topic: %s; false negatives by topic: %s", countsText(falsePos), countsText(falseNeg))
	if precision < 0.85 || recall < 0.75 {
		t.Errorf("precision %.3f, recall %.3f: want at least 0.85 and 0.75", precision, recall)
	}
}

func countsText(m map[string]int) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] || (m[ks[i]] == m[ks[j]] && ks[i] < ks[j]) })
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}
