package page

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkParseSitemap50k parses a 50,000-URL sitemap (about 6 MB) and
// reports the heap the result and the parse hold at their peak.
func BenchmarkParseSitemap50k(b *testing.B) {
	data := bigSitemap(MaxSitemapEntries)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var peak uint64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		sm, err := ParseSitemap(bytes.NewReader(data))
		if err != nil || len(sm.Entries) != MaxSitemapEntries {
			b.Fatal(err, len(sm.Entries))
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if d := after.HeapInuse - before.HeapInuse; d > peak {
			peak = d
		}
		runtime.KeepAlive(sm)
	}
	b.ReportMetric(float64(peak)/(1<<20), "MiB-held")
	b.ReportMetric(float64(MaxSitemapEntries)*float64(b.N)/b.Elapsed().Seconds(), "urls/s")
}

func BenchmarkExtract(b *testing.B) {
	for _, c := range itemCases {
		b.Run(c.file, func(b *testing.B) {
			data := readFile(b, "item/"+c.file+".html")
			u := mustURL(b, c.url)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Extract(bytes.NewReader(data), u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExtractLarge reads a 2 MB page of 40,000 small paragraphs,
// the worst shape for the per-element passes.
func BenchmarkExtractLarge(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`<html><head><title>Big | The King's Fund</title></head><body><main><h1>Big</h1>`)
	for sb.Len() < 2<<20 {
		sb.WriteString("<p>Padding paragraph text that goes on.</p>\n")
	}
	sb.WriteString(`</main></body></html>`)
	data := []byte(sb.String())
	u := mustURL(b, "https://www.kingsfund.org.uk/big")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Extract(bytes.NewReader(data), u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHarvestLinks(b *testing.B) {
	c := listingCases[0]
	data := readFile(b, "listing/"+c.file+".html")
	u := mustURL(b, c.url)
	inc, exc, pag := res(b, c.include...), res(b, c.exclude...), res(b, c.pagination...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := HarvestLinks(bytes.NewReader(data), u, inc, exc, pag); err != nil {
			b.Fatal(err)
		}
	}
}
