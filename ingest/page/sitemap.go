package page

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html/charset"

	"github.com/evidencetracker/evidence"
)

const (
	// MaxSitemapEntries is the most entries read from one sitemap file (the
	// sitemaps.org limit); Sitemap.Truncated reports more.
	MaxSitemapEntries = 50000
	// MaxSitemapBytes caps the uncompressed size of one sitemap (the
	// sitemaps.org limit is 50 MB): it bounds a gzip bomb.
	MaxSitemapBytes = 64 << 20
	// maxLocLen: longer <loc> values are skipped (sitemaps.org: < 2,048).
	maxLocLen = 4096
)

// Sitemap kinds.
const (
	KindURLSet       = "urlset"
	KindSitemapIndex = "sitemapindex"
)

// Sitemap is one parsed sitemap file: a <urlset> of pages or a
// <sitemapindex> of child sitemaps.
type Sitemap struct {
	// Kind is KindURLSet or KindSitemapIndex.
	Kind string `json:"kind"`
	// Entries are the pages (urlset) or child sitemaps (index), in file
	// order, at most MaxSitemapEntries.
	Entries []SitemapEntry `json:"entries"`
	// Truncated: the file holds more than MaxSitemapEntries <url> or
	// <sitemap> elements (kept or skipped); the rest were not read.
	Truncated bool `json:"truncated,omitempty"`
	// Skipped counts entries dropped for a missing, relative, non-http(s)
	// or over-long <loc>.
	Skipped int `json:"skipped,omitempty"`
	// BadLastMod counts <lastmod> values that could not be read (the
	// entry is kept without a date).
	BadLastMod int `json:"bad_lastmod,omitempty"`
}

// SitemapEntry is one <url> or <sitemap> element.
type SitemapEntry struct {
	// Loc is the absolute URL, as given (trimmed; not normalised).
	Loc string `json:"loc"`
	// LastMod is <lastmod> in UTC (a date without a time zone is read as
	// Europe/London); nil when absent or unreadable. It is the publisher's
	// claim: for an item's publication date it is approximate at best.
	LastMod *time.Time `json:"lastmod,omitempty"`
}

// ParseSitemap reads a sitemap (sitemaps.org protocol): a <urlset> of
// <url><loc>…</loc><lastmod>…</lastmod></url> or a <sitemapindex> of
// <sitemap> elements. It streams: memory grows with the entries kept, not
// with the file, and reading stops after MaxSitemapEntries entries
// (Truncated) or MaxSitemapBytes of XML. Gzip input (by its magic bytes)
// is decompressed. Namespaces are not checked; <loc> must be a direct child
// of <url>/<sitemap> (image:loc and the like are ignored).
//
// Errors wrap evidence.ErrInvalid: ErrNotSitemap for an HTML page, a feed,
// another XML document or empty input; malformed XML names the line and
// column; ErrTooLarge for input past MaxSitemapBytes. On a malformed or
// oversized file the returned Sitemap still holds the entries read before
// the fault, so a caller may use them and report the error.
func ParseSitemap(r io.Reader) (Sitemap, error) {
	return parseSitemap(r, MaxSitemapBytes, MaxSitemapEntries)
}

// parseSitemap is ParseSitemap with its limits as parameters.
func parseSitemap(r io.Reader, maxBytes int64, maxEntries int) (Sitemap, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	var in io.Reader = br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Sitemap{}, fmt.Errorf("page: sitemap: read gzip: %v: %w", err, evidence.ErrInvalid)
		}
		defer zr.Close()
		in = zr
	}
	xr := bufio.NewReaderSize(&limitReader{r: in, n: maxBytes}, 64<<10)
	head, _ := xr.Peek(512)
	if len(bytes.TrimSpace(head)) == 0 {
		return Sitemap{}, notSitemap("empty input")
	}
	if sniffHTML(head) {
		return Sitemap{}, notSitemap("an HTML page, not a sitemap")
	}
	return parseSitemapXML(xr, maxBytes, maxEntries)
}

// limitReader fails with ErrTooLarge once more than n bytes are read.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func parseSitemapXML(r io.Reader, maxBytes int64, maxEntries int) (Sitemap, error) {
	var sm Sitemap
	d := xml.NewDecoder(r)
	d.Strict = true
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(strings.TrimSpace(label)) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return in, nil
		}
		return charset.NewReaderLabel(label, in)
	}

	const (
		none = iota
		inEntry
		inLoc
		inLastMod
	)
	var (
		depth   int    // element depth: root is 1
		state   = none // where the parser is
		entry   string // element name of an entry: url or sitemap
		loc     strings.Builder
		lastmod strings.Builder
		tooLong bool
		space   string // the root element's name space: entries share it
	)
	fail := func(err error) (Sitemap, error) {
		if errors.Is(err, ErrTooLarge) {
			return sm, fmt.Errorf("page: sitemap: larger than %s uncompressed: %w (%w)", sizeString(maxBytes), ErrTooLarge, evidence.ErrInvalid)
		}
		line, col := d.InputPos()
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			line = se.Line
			return sm, fmt.Errorf("page: sitemap: malformed XML at line %d, column %d: %s: %w", line, col, se.Msg, evidence.ErrInvalid)
		}
		return sm, fmt.Errorf("page: sitemap: read XML at line %d, column %d: %v: %w", line, col, err, evidence.ErrInvalid)
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			name := strings.ToLower(t.Name.Local)
			if depth == 1 {
				switch name {
				case KindURLSet:
					sm.Kind = KindURLSet
					entry = "url"
				case KindSitemapIndex:
					sm.Kind = KindSitemapIndex
					entry = "sitemap"
				case "html":
					return sm, notSitemap("an HTML page, not a sitemap")
				case "rss", "feed", "rdf":
					return sm, notSitemap(fmt.Sprintf("a feed (<%s>), not a sitemap", t.Name.Local))
				default:
					return sm, notSitemap(fmt.Sprintf("root element <%s>, not <urlset> or <sitemapindex>", t.Name.Local))
				}
				space = t.Name.Space
				sm.Entries = make([]SitemapEntry, 0, 64)
				continue
			}
			switch {
			case depth == 2 && name == entry && t.Name.Space == space:
				if len(sm.Entries)+sm.Skipped >= maxEntries {
					sm.Truncated = true
					return sm, nil
				}
				state = inEntry
				loc.Reset()
				lastmod.Reset()
				tooLong = false
			case depth == 3 && state == inEntry && t.Name.Space == space:
				// Only the sitemap's own elements: <image:loc> is not <loc>.
				switch name {
				case "loc":
					state = inLoc
				case "lastmod":
					state = inLastMod
				}
			}
		case xml.EndElement:
			switch {
			case depth == 3 && (state == inLoc || state == inLastMod):
				state = inEntry
			case depth == 2 && state == inEntry:
				state = none
				sm.addEntry(loc.String(), lastmod.String(), tooLong)
			}
			depth--
		case xml.CharData:
			switch state {
			case inLoc:
				if loc.Len()+len(t) > maxLocLen {
					tooLong = true
				} else {
					loc.Write(t)
				}
			case inLastMod:
				if lastmod.Len()+len(t) <= 64 {
					lastmod.Write(t)
				}
			}
		}
	}
	if sm.Kind == "" {
		return sm, notSitemap("no XML element found")
	}
	if depth != 0 {
		line, col := d.InputPos()
		return sm, fmt.Errorf("page: sitemap: malformed XML at line %d, column %d: unexpected end of input: %w", line, col, evidence.ErrInvalid)
	}
	return sm, nil
}

func notSitemap(why string) error {
	return fmt.Errorf("page: sitemap: %s: %w (%w)", why, ErrNotSitemap, evidence.ErrInvalid)
}

func (sm *Sitemap) addEntry(loc, lastmod string, tooLong bool) {
	loc = strings.TrimSpace(loc)
	u, err := url.Parse(loc)
	if tooLong || loc == "" || err != nil || !u.IsAbs() || u.Host == "" ||
		(!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
		sm.Skipped++
		return
	}
	e := SitemapEntry{Loc: loc}
	if lm := strings.TrimSpace(lastmod); lm != "" {
		if t, ok := ParseDate(lm); ok {
			e.LastMod = &t
		} else {
			sm.BadLastMod++
		}
	}
	sm.Entries = append(sm.Entries, e)
}

// sniffHTML reports whether data starts like an HTML document.
func sniffHTML(data []byte) bool {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	head := bytes.ToLower(data[:min(len(data), 64)])
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

// sizeString writes a byte count for people: "64 MiB", "1000 bytes".
func sizeString(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
