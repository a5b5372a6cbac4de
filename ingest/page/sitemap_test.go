package page

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

// sitemapGolden is what the golden files show: the result and the error.
type sitemapGolden struct {
	Error   string  `json:"error,omitempty"`
	Sitemap Sitemap `json:"sitemap"`
}

func TestParseSitemapGolden(t *testing.T) {
	for _, name := range []string{"urlset", "index"} {
		t.Run(name, func(t *testing.T) {
			sm, err := ParseSitemap(bytes.NewReader(readFile(t, "sitemap/"+name+".xml")))
			g := sitemapGolden{Sitemap: sm}
			if err != nil {
				g.Error = err.Error()
			}
			checkGolden(t, "sitemap/"+name+".golden.json", g)
		})
	}
}

func TestParseSitemap(t *testing.T) {
	sm, err := ParseSitemap(bytes.NewReader(readFile(t, "sitemap/urlset.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if sm.Kind != KindURLSet {
		t.Errorf("kind %q", sm.Kind)
	}
	want := []string{
		"https://www.nationalvoices.org.uk/publication/person-centred-care-2020/",
		"https://www.nationalvoices.org.uk/blogpost/what-good-supported-self-management/",
		"https://www.nationalvoices.org.uk/newsitem/waiting-lists-summer-2024/?utm_source=x&lang=en",
		"https://www.nationalvoices.org.uk/project/i-statements/",
		"https://www.nationalvoices.org.uk/about-us/our-members/",
	}
	if len(sm.Entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(sm.Entries), len(want), sm.Entries)
	}
	for i, w := range want {
		if sm.Entries[i].Loc != w {
			t.Errorf("entry %d: %q, want %q", i, sm.Entries[i].Loc, w)
		}
	}
	if sm.Skipped != 2 || sm.BadLastMod != 1 || sm.Truncated {
		t.Errorf("skipped %d, bad lastmod %d, truncated %v; want 2, 1, false", sm.Skipped, sm.BadLastMod, sm.Truncated)
	}
	if lm := sm.Entries[2].LastMod; lm == nil || lm.Format("2006-01-02T15:04Z07:00") != "2024-08-01T08:00Z" {
		t.Errorf("lastmod without zone: %v, want 08:00 UTC (09:00 BST)", lm)
	}
	if sm.Entries[3].LastMod != nil {
		t.Errorf("bad lastmod read as %v", sm.Entries[3].LastMod)
	}

	idx, err := ParseSitemap(bytes.NewReader(readFile(t, "sitemap/index.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if idx.Kind != KindSitemapIndex || len(idx.Entries) != 4 {
		t.Fatalf("index: kind %q, %d entries", idx.Kind, len(idx.Entries))
	}
	if idx.Entries[2].LastMod != nil || idx.Entries[3].LastMod == nil {
		t.Errorf("index lastmods: %+v", idx.Entries)
	}
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseSitemapGzip(t *testing.T) {
	plain := readFile(t, "sitemap/index.xml")
	want, err := ParseSitemap(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSitemap(bytes.NewReader(gz(t, plain)))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gzip: %+v\nplain: %+v", got, want)
	}
}

// bigSitemap writes a urlset of n URLs.
func bigSitemap(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "<url><loc>https://www.kingsfund.org.uk/insight-and-analysis/blogs/post-%d</loc><lastmod>2023-%02d-%02dT10:00:00+00:00</lastmod></url>\n", i, i%12+1, i%28+1)
	}
	b.WriteString("</urlset>\n")
	return b.Bytes()
}

func TestParseSitemap50k(t *testing.T) {
	// 50,001 URLs: the first 50,000 are read, the file is reported cut.
	sm, err := ParseSitemap(bytes.NewReader(bigSitemap(MaxSitemapEntries + 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(sm.Entries) != MaxSitemapEntries || !sm.Truncated {
		t.Errorf("%d entries, truncated %v; want %d, true", len(sm.Entries), sm.Truncated, MaxSitemapEntries)
	}
	last := sm.Entries[len(sm.Entries)-1]
	if !strings.HasSuffix(last.Loc, fmt.Sprintf("post-%d", MaxSitemapEntries-1)) || last.LastMod == nil {
		t.Errorf("last entry %+v", last)
	}
	// Exactly at the cap is not truncated (the cap at test scale).
	sm, err = parseSitemap(bytes.NewReader(bigSitemap(5)), MaxSitemapBytes, 5)
	if err != nil || len(sm.Entries) != 5 || sm.Truncated {
		t.Errorf("at the cap: %d entries, truncated %v, error %v", len(sm.Entries), sm.Truncated, err)
	}
}

func TestParseSitemapErrors(t *testing.T) {
	tests := []struct {
		name        string
		in          []byte
		notSitemap  bool
		tooLarge    bool
		wantMsg     string
		wantEntries int
	}{
		{name: "empty", in: nil, notSitemap: true, wantMsg: "empty input"},
		{name: "blank", in: []byte("  \n\t"), notSitemap: true, wantMsg: "empty input"},
		{name: "html page", in: []byte("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>Page not found</title>"), notSitemap: true, wantMsg: "an HTML page, not a sitemap"},
		{name: "html without doctype", in: []byte("\n<html><body><p>Hello</p></body></html>"), notSitemap: true, wantMsg: "HTML page"},
		{name: "rss feed", in: []byte(`<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>`), notSitemap: true, wantMsg: "a feed (<rss>)"},
		{name: "atom feed", in: []byte(`<feed xmlns="http://www.w3.org/2005/Atom"></feed>`), notSitemap: true, wantMsg: "a feed"},
		{name: "other xml", in: []byte(`<?xml version="1.0"?><catalog><book/></catalog>`), notSitemap: true, wantMsg: "root element <catalog>"},
		{name: "text", in: []byte("User-agent: *\nDisallow: /\n"), notSitemap: true, wantMsg: "no XML element"},
		{name: "binary garbage", in: []byte("\x00\x01\x02\x03garbage"), wantMsg: "malformed XML at line 1"},
		{name: "malformed with line", in: []byte("<urlset>\n<url><loc>https://a.example/1</loc></url>\n<url><loc>https://a.example/2</loc></lastmod></url>\n</urlset>"),
			wantMsg: "malformed XML at line 3", wantEntries: 1},
		{name: "cut short", in: []byte("<urlset><url><loc>https://a.example/1</loc></url><url><loc>https://a.ex"), wantMsg: "malformed XML", wantEntries: 1},
		{name: "bad gzip", in: []byte("\x1f\x8bnot really gzip"), wantMsg: "gzip"},
		{name: "truncated gzip", in: gz(t, bigSitemap(10))[:60], wantMsg: "sitemap"},
		{name: "unknown charset", in: []byte(`<?xml version="1.0" encoding="x-no-such-charset"?><urlset></urlset>`), wantMsg: "charset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm, err := ParseSitemap(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatalf("no error; got %+v", sm)
			}
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("error %v is not evidence.ErrInvalid", err)
			}
			if got := errors.Is(err, ErrNotSitemap); got != tt.notSitemap {
				t.Errorf("errors.Is(ErrNotSitemap) = %v, want %v (%v)", got, tt.notSitemap, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if len(sm.Entries) != tt.wantEntries {
				t.Errorf("%d entries kept, want %d", len(sm.Entries), tt.wantEntries)
			}
		})
	}
}

func TestParseSitemapLimits(t *testing.T) {
	t.Run("gzip bomb", func(t *testing.T) {
		// 8 MiB of white space inside a urlset, compressed to a few KiB,
		// read with a 1 MiB cap.
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = io.WriteString(zw, "<urlset><url><loc>https://a.example/1</loc></url>")
		pad := bytes.Repeat([]byte(" "), 64<<10)
		for i := 0; i < 128; i++ {
			_, _ = zw.Write(pad)
		}
		_, _ = io.WriteString(zw, "</urlset>")
		_ = zw.Close()
		sm, err := parseSitemap(&buf, 1<<20, MaxSitemapEntries)
		if !errors.Is(err, ErrTooLarge) || !errors.Is(err, evidence.ErrInvalid) {
			t.Fatalf("error %v, want ErrTooLarge", err)
		}
		if !strings.Contains(err.Error(), "larger than 1 MiB uncompressed") {
			t.Errorf("message %q", err)
		}
		if len(sm.Entries) != 1 {
			t.Errorf("%d entries read before the cap, want 1", len(sm.Entries))
		}
	})
	t.Run("skipped entries count toward the cap", func(t *testing.T) {
		in := "<urlset>" + strings.Repeat("<url><loc>relative</loc></url>", 20) + "</urlset>"
		sm, err := parseSitemap(strings.NewReader(in), 1<<20, 5)
		if err != nil {
			t.Fatal(err)
		}
		if !sm.Truncated || sm.Skipped != 5 {
			t.Errorf("truncated %v, skipped %d; want true, 5", sm.Truncated, sm.Skipped)
		}
	})
	t.Run("over-long loc", func(t *testing.T) {
		in := "<urlset><url><loc>https://a.example/" + strings.Repeat("x", maxLocLen) + "</loc></url></urlset>"
		sm, err := ParseSitemap(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(sm.Entries) != 0 || sm.Skipped != 1 {
			t.Errorf("entries %d, skipped %d", len(sm.Entries), sm.Skipped)
		}
	})
}

func TestParseSitemapNamespaces(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"no namespace", `<urlset><url><loc>https://a.example/1</loc></url></urlset>`, []string{"https://a.example/1"}},
		{"prefixed sitemap namespace", `<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9"><sm:url><sm:loc>https://a.example/1</sm:loc></sm:url></sm:urlset>`, []string{"https://a.example/1"}},
		{"image loc is not loc", `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"><url><image:image><image:loc>https://a.example/i.png</image:loc></image:image><loc>https://a.example/2</loc></url></urlset>`, []string{"https://a.example/2"}},
		{"nested url is not an entry", `<urlset><url><loc>https://a.example/1</loc><extra><url><loc>https://a.example/x</loc></url></extra></url></urlset>`, []string{"https://a.example/1"}},
		{"latin-1 declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><urlset><url><loc>https://a.example/caf\xe9</loc></url></urlset>", []string{"https://a.example/café"}},
		{"BOM", "\xEF\xBB\xBF<urlset><url><loc>https://a.example/1</loc></url></urlset>", []string{"https://a.example/1"}},
		{"HTML entity", `<urlset><url><loc>https://a.example/?a=1&amp;b=2&nbsp;</loc></url></urlset>`, []string{"https://a.example/?a=1&b=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm, err := ParseSitemap(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range sm.Entries {
				got = append(got, e.Loc)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
