package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the runs side by side, a column per run.
func (r *HTTPReport) WriteTable(w io.Writer) error {
	how := "built"
	if r.Reused {
		how = "reused"
	}
	fmt.Fprintf(w, "%d items (data dir %s, %s", r.Items, r.DataDir, how)
	if !r.Reused && r.BuildS > 0 {
		fmt.Fprintf(w, " in %.0fs", r.BuildS)
	}
	fmt.Fprintf(w, "), %d clients, %gs a run\n", r.Clients, r.DurationS)
	if r.WarmRequests > 0 {
		fmt.Fprintf(w, "warm-up: %d requests one at a time in %.1fs (%.0f ms each, cold)\n", r.WarmRequests, r.WarmS, 1000*r.WarmS/float64(r.WarmRequests))
	}
	fmt.Fprintf(w, "memory: %s\n\n", r.MemoryMethod)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := fmt.Sprintf("%-18s\t%-18s\t", "", "")
	for _, run := range r.Runs {
		head += run.Name + "\t"
	}
	fmt.Fprintln(tw, head)
	row := func(label, unit string, cell func(HTTPRun) string) {
		line := fmt.Sprintf("%-18s\t%-18s\t", label, unit) // left-aligned in a right-aligned table
		for _, run := range r.Runs {
			line += cell(run) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	if len(r.Runs) > 0 {
		for i, ep := range r.Runs[0].Endpoints {
			at := func(run HTTPRun) EndpointResult {
				if i < len(run.Endpoints) {
					return run.Endpoints[i]
				}
				return EndpointResult{}
			}
			row(ep.Endpoint, "requests/s", func(run HTTPRun) string { return num(at(run).RequestsPerS) })
			for _, p := range []struct {
				unit string
				v    func(EndpointResult) float64
			}{{"p50 ms", func(e EndpointResult) float64 { return e.P50MS }}, {"p95 ms", func(e EndpointResult) float64 { return e.P95MS }},
				{"p99 ms", func(e EndpointResult) float64 { return e.P99MS }}, {"max ms", func(e EndpointResult) float64 { return e.MaxMS }}} {
				row("", p.unit, func(run HTTPRun) string { return num(p.v(at(run))) })
			}
			row("", "errors", func(run HTTPRun) string { return errorCell(at(run)) })
		}
	}
	ingest := func(f func(*IngestLoad) string) func(HTTPRun) string {
		return func(run HTTPRun) string {
			if run.Ingest == nil {
				return "-"
			}
			return f(run.Ingest)
		}
	}
	if len(r.Runs) > 1 {
		row("ingest", "items/s", ingest(func(l *IngestLoad) string { return num(l.ItemsPerS) }))
		row("", "new/updated/merged", ingest(func(l *IngestLoad) string { return fmt.Sprintf("%d/%d/%d", l.New, l.Updated, l.Merged) }))
		row("", "indexed", ingest(func(l *IngestLoad) string { return fmt.Sprint(l.Indexed) }))
		row("", "errors", ingest(func(l *IngestLoad) string { return fmt.Sprint(l.Errors) }))
	}
	row("peak RSS", "MiB", func(run HTTPRun) string { return mib(run.PeakRSSBytes) })
	row("RSS at end", "MiB", func(run HTTPRun) string { return mib(run.RSSBytes) })
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, run := range r.Runs {
		for _, ep := range run.Endpoints {
			if ep.FirstError != "" {
				fmt.Fprintf(w, "%s, %s: first transport error: %s\n", run.Name, ep.Endpoint, ep.FirstError)
			}
		}
		if run.Ingest != nil && run.Ingest.FirstError != "" {
			fmt.Fprintf(w, "%s: first ingest error: %s\n", run.Name, run.Ingest.FirstError)
		}
	}
	return nil
}

func errorCell(e EndpointResult) string {
	if e.Errors == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(e.ErrorsBy)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, e.ErrorsBy[k]))
	}
	return fmt.Sprintf("%d (%s)", e.Errors, strings.Join(parts, ", "))
}

func mib(b uint64) string {
	if b == 0 {
		return "-"
	}
	return num(float64(b) / (1 << 20))
}
