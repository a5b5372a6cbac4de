package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/internal/bench"
)

// BenchmarkIngestSnapshots ingests the four snapshot sites from an
// in-process replay server, as `evidence bench ingest` does: "first" is a
// full first ingest with backfill into a new data directory, "unchanged" a
// re-ingest over the unchanged snapshots. Besides ns/op it reports the
// requests and the bytes read from the wire per ingest, and items/s.
//
//	go test -run '^$' -bench IngestSnapshots -benchtime 3x ./cmd/evidence/
func BenchmarkIngestSnapshots(b *testing.B) {
	l, err := config.Load(config.LoadOptions{Environ: []string{}})
	if err != nil {
		b.Fatal(err)
	}
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, loaded: l}
	a.log = newLogger(a.stderr, "error", "text")
	dir := filepath.Join("..", "..", "testdata", "snapshots")
	ctx := context.Background()
	opts, err := a.ingestBenchOptions(l.Config, dir, bench.DefaultIngestRate)
	if err != nil {
		b.Fatal(err)
	}
	start := func(b *testing.B) *bench.IngestBench {
		b.Helper()
		o := opts
		o.DataDir = b.TempDir()
		ib, err := bench.StartIngest(ctx, o)
		if err != nil {
			b.Fatal(err)
		}
		return ib
	}
	report := func(b *testing.B, runs []bench.IngestRun) {
		b.Helper()
		var req, bytesRead, items int64
		var secs float64
		for _, r := range runs {
			if len(r.Errors) > 0 {
				b.Logf("%s: errors %v", r.Name, r.Errors)
			}
			req += r.Requests
			bytesRead += r.BytesRead
			items += int64(r.New + r.Updated + r.Unchanged + r.Merged)
			secs += r.WallMS / 1000
		}
		n := float64(len(runs))
		b.ReportMetric(float64(req)/n, "requests/op")
		b.ReportMetric(float64(bytesRead)/n, "bytes/op")
		if secs > 0 {
			b.ReportMetric(float64(items)/secs, "items/s")
		}
	}

	b.Run("first", func(b *testing.B) {
		var runs []bench.IngestRun
		for b.Loop() {
			b.StopTimer()
			ib := start(b)
			b.StartTimer()
			r, err := ib.Run(ctx, "first ingest")
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if err := ib.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			runs = append(runs, r)
		}
		report(b, runs)
	})
	b.Run("unchanged", func(b *testing.B) {
		ib := start(b)
		defer ib.Close()
		if _, err := ib.Run(ctx, "first ingest"); err != nil {
			b.Fatal(err)
		}
		var runs []bench.IngestRun
		for b.Loop() {
			r, err := ib.Run(ctx, "unchanged re-ingest")
			if err != nil {
				b.Fatal(err)
			}
			if flags := bench.ReingestFlags(r); len(flags) > 0 {
				b.Logf("re-ingest: %v", flags)
			}
			runs = append(runs, r)
		}
		report(b, runs)
	})
}

// TestBenchIngestCommand runs `bench ingest --json` over the snapshot tree
// and checks the memory figures it reports (bench.ResetPeakRSS, PeakRSS,
// StartHeapSampler).
func TestBenchIngestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the snapshot sites twice; skipped with -short")
	}
	dir := filepath.Join("..", "..", "testdata", "snapshots")
	out, errs, code := runCLI(t, "bench", "ingest", "--dir", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep bench.IngestReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs, want 2: %s", len(rep.Runs), out)
	}
	if rep.Runs[0].New == 0 {
		t.Errorf("first ingest: no new items: %+v", rep.Runs[0])
	}
	for _, r := range rep.Runs {
		if r.PeakHeapBytes == 0 {
			t.Errorf("%s: peak_heap_bytes = 0", r.Name)
		}
		if runtime.GOOS == "linux" && r.PeakRSSBytes <= 0 {
			t.Errorf("%s: peak_rss_bytes = %d on Linux, want VmHWM", r.Name, r.PeakRSSBytes)
		}
		if r.RSSReset && r.PeakRSSBytes <= 0 {
			t.Errorf("%s: peak RSS was reset but peak_rss_bytes = %d", r.Name, r.PeakRSSBytes)
		}
	}
}
