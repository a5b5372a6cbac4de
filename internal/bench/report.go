package bench

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteTable prints r as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%d items (%.0f words on average); %d timed queries per kind and engine, %d hits a page\n",
		r.Docs, r.AvgWords, r.Samples, PageSize)
	fmt.Fprintf(w, "memory: %s\n\n", r.MemoryMethod)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-26s\tunit\tbleve\tfts5\tbleve/fts5\t\n", "metric")
	for _, row := range r.Rows {
		ratio := "-"
		if row.FTS5 != 0 {
			ratio = strconv.FormatFloat(row.Ratio, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "%-26s\t%s\t%s\t%s\t%s\t\n", row.Metric, row.Unit, num(row.Bleve), num(row.FTS5), ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.PhraseMatches) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nphrase matches per query\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-26s\tbleve\tfts5\tdifference\t\n", "query")
	for _, m := range r.PhraseMatches {
		fmt.Fprintf(tw, "%-26s\t%d\t%d\t%+d\t\n", m.Query, m.Bleve, m.FTS5, m.Bleve-m.FTS5)
	}
	return tw.Flush()
}

// num formats with three significant digits or more.
func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
