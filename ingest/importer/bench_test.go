package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse reads each fixture repeated to about 4 MiB.
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct {
		file   string
		format Format
	}{{"references.ris", RIS}, {"references.bib", BibTeX}, {"items.jsonl", JSONL}, {"references.csl.json", CSLJSON}} {
		b.Run(string(c.format), func(b *testing.B) {
			one, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				b.Fatal(err)
			}
			in := bytes.Repeat(append(one, '\n'), 4<<20/len(one))
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				records = 0
				if err := Parse(bytes.NewReader(in), c.format, func(Record) error { records++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
