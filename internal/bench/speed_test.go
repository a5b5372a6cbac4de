package bench

import (
	"path/filepath"
	"testing"

	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/internal/eval/fts5"
)

// Go benchmarks of the same work `evidence bench search` times, for
// `make bench` and benchstat. They use the feed-only corpus so they run
// without the shared MED file.

const benchDocs = 2000

func BenchmarkCorpusItem(b *testing.B) {
	c := feedCorpus(b, 1)
	i := 0
	for b.Loop() {
		c.Item(i)
		i++
	}
}

// benchEngines opens both engines on a fresh corpus of n items.
func benchEngines(b *testing.B, n int) map[string]engine {
	b.Helper()
	c := feedCorpus(b, 1)
	items := c.Items(0, n)
	dir := b.TempDir()
	be, err := openBleve(b.Context(), index.Options{Path: filepath.Join(dir, "index.bleve")})
	if err != nil {
		b.Fatal(err)
	}
	fe, err := openFTS5(b.Context(), fts5.Options{Path: filepath.Join(dir, "fts5.db")})
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]engine{"bleve": be, "fts5": fe}
	for name, e := range out {
		if err := e.index(b.Context(), items); err != nil {
			b.Fatal(name, err)
		}
		if err := e.finish(b.Context()); err != nil {
			b.Fatal(name, err)
		}
		if err := e.ready(b.Context()); err != nil {
			b.Fatal(name, err)
		}
		b.Cleanup(func() { e.close() })
	}
	return out
}

func BenchmarkIndex(b *testing.B) {
	items := feedCorpus(b, 1).Items(0, 1000)
	open := map[string]func(dir string) (engine, error){
		"bleve": func(dir string) (engine, error) {
			return openBleve(b.Context(), index.Options{Path: filepath.Join(dir, "index.bleve")})
		},
		"fts5": func(dir string) (engine, error) {
			return openFTS5(b.Context(), fts5.Options{Path: filepath.Join(dir, "fts5.db")})
		},
	}
	for _, name := range []string{"bleve", "fts5"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				e, err := open[name](b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := e.index(b.Context(), items); err != nil {
					b.Fatal(err)
				}
				if err := e.finish(b.Context()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				e.close()
				b.StartTimer()
			}
			b.ReportMetric(float64(len(items))*float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	engines := benchEngines(b, benchDocs)
	queries := Queries()
	for _, k := range Kinds {
		var qs []Query
		for _, q := range queries {
			if q.Kind == k {
				qs = append(qs, q)
			}
		}
		for _, name := range []string{"bleve", "fts5"} {
			e := engines[name]
			b.Run(string(k)+"/"+name, func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, err := e.search(b.Context(), qs[i%len(qs)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}
