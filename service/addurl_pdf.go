package service

import (
	"bytes"
	"html"
	"mime"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/fetch"
)

// fromPDF is the item a PDF makes on its own: a report (grey literature
// is mostly reports) titled, in order, from the PDF's XMP metadata, its
// Info dictionary, the file name the server gives (Content-Disposition)
// or the URL's last segment, each recorded as the title's provenance.
func (a *URLAdder) fromPDF(itemURL string, resp *fetch.Response) evidence.Item {
	it := evidence.Item{
		URL: itemURL, Source: evidence.SourceManual, Type: evidence.TypeReport,
		PDFURLs: []string{itemURL}, Authors: []string{}, Links: []string{},
		Provenance: map[string]string{"type": "pdf"},
	}
	meta := readPDFMeta(resp.Body)
	switch {
	case meta.title != "":
		it.Title = meta.title
		it.Provenance["title"] = meta.titleLayer
	default:
		name, layer := pdfFileName(resp)
		it.Title = titleFromFileName(name)
		it.Provenance["title"] = layer
	}
	if len(meta.authors) > 0 {
		it.Authors = meta.authors
		it.Provenance["authors"] = meta.authorsLayer
	}
	a.finishLinks(&it)
	return it
}

// pdfFileName is the PDF's file name: Content-Disposition's, else the
// final URL's last path segment.
func pdfFileName(resp *fetch.Response) (name, layer string) {
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		if n := strings.TrimSpace(path.Base(strings.ReplaceAll(params["filename"], `\`, "/"))); n != "" && n != "." && n != "/" {
			return n, addLayerDisposited
		}
	}
	if u, err := url.Parse(resp.URL); err == nil {
		if n := path.Base(u.Path); n != "" && n != "." && n != "/" {
			return n, addLayerURL
		}
		return u.Hostname(), addLayerURL
	}
	return "Untitled PDF", addLayerURL
}

// titleFromFileName turns "patient-activation_report-2024.pdf" into
// "Patient activation report 2024".
func titleFromFileName(name string) string {
	if dec, err := url.PathUnescape(name); err == nil {
		name = dec
	}
	name = strings.TrimSuffix(name, path.Ext(name))
	name = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '+' || r == '.' || unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, name)
	name = evidence.NormalizeSpace(name)
	if name == "" {
		return "Untitled PDF"
	}
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(r)) + name[n:]
}

type pdfMeta struct {
	title, titleLayer string
	authors           []string
	authorsLayer      string
}

var (
	xmpTitle   = regexp.MustCompile(`(?s)<dc:title>.*?<rdf:li[^>]*>(.*?)</rdf:li>`)
	xmpCreator = regexp.MustCompile(`(?s)<dc:creator>(.*?)</dc:creator>`)
	xmpLi      = regexp.MustCompile(`(?s)<rdf:li[^>]*>(.*?)</rdf:li>`)
	infoKey    = regexp.MustCompile(`/(Title|Author)\s*(\(|<)`)
)

// pdfScan bounds how much of a PDF is searched for metadata: its start
// and its end (where an updated Info dictionary goes).
const pdfScan = 4 << 20

// readPDFMeta finds a title and authors in a PDF's uncompressed XMP
// packet or Info dictionary (compressed object streams are not opened:
// the file name stands in then). Titles that are only a file name
// ("Microsoft Word - draft.docx") are ignored.
func readPDFMeta(body []byte) pdfMeta {
	var m pdfMeta
	scan := body
	if len(body) > 2*pdfScan {
		scan = append(append([]byte{}, body[:pdfScan]...), body[len(body)-pdfScan:]...)
	}
	if sm := xmpTitle.FindSubmatch(scan); sm != nil {
		if t := cleanPDFTitle(html.UnescapeString(string(sm[1]))); t != "" {
			m.title, m.titleLayer = t, "pdf:xmp"
		}
	}
	if sm := xmpCreator.FindSubmatch(scan); sm != nil {
		for _, li := range xmpLi.FindAllSubmatch(sm[1], 20) {
			if n := evidence.NormalizeSpace(html.UnescapeString(string(li[1]))); n != "" {
				m.authors = append(m.authors, n)
			}
		}
		if len(m.authors) > 0 {
			m.authorsLayer = "pdf:xmp"
		}
	}
	for _, loc := range infoKey.FindAllSubmatchIndex(scan, 50) {
		key := string(scan[loc[2]:loc[3]])
		v, ok := pdfString(scan[loc[4]:])
		if !ok {
			continue
		}
		switch key {
		case "Title":
			if m.title == "" {
				if t := cleanPDFTitle(v); t != "" {
					m.title, m.titleLayer = t, "pdf:info"
				}
			}
		case "Author":
			if len(m.authors) == 0 {
				for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' }) {
					if n = evidence.NormalizeSpace(n); n != "" {
						m.authors = append(m.authors, n)
					}
				}
				if len(m.authors) > 0 {
					m.authorsLayer = "pdf:info"
				}
			}
		}
	}
	return m
}

// cleanPDFTitle drops titles that say nothing: empty, "untitled", a file
// name, a word processor's "Microsoft Word - x.docx".
func cleanPDFTitle(t string) string {
	t = evidence.NormalizeSpace(strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, t))
	lower := strings.ToLower(t)
	switch {
	case len([]rune(t)) < 4, lower == "untitled", strings.HasPrefix(lower, "microsoft word -"),
		strings.HasPrefix(lower, "microsoft powerpoint -"):
		return ""
	}
	for _, ext := range []string{".doc", ".docx", ".pdf", ".indd", ".ppt", ".pptx", ".rtf", ".odt", ".qxd", ".tmp"} {
		if strings.HasSuffix(lower, ext) {
			return ""
		}
	}
	return t
}

// pdfString decodes the PDF string object at the start of b: a literal
// "(…)" with its escapes and balanced parentheses, or a hex "<…>"; either
// may be UTF-16BE with a byte-order mark, else PDFDocEncoding (read as
// Latin-1).
func pdfString(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", false
	}
	var raw []byte
	switch b[0] {
	case '(':
		depth := 0
	loop:
		for i := 1; i < len(b) && i < 64<<10; i++ {
			c := b[i]
			switch c {
			case '\\':
				i++
				if i >= len(b) {
					return "", false
				}
				switch e := b[i]; e {
				case 'n':
					raw = append(raw, '\n')
				case 'r':
					raw = append(raw, '\r')
				case 't':
					raw = append(raw, '\t')
				case 'b':
					raw = append(raw, '\b')
				case 'f':
					raw = append(raw, '\f')
				case '\r', '\n': // a line continuation
				default:
					if e >= '0' && e <= '7' {
						v, n := 0, 0
						for n < 3 && i < len(b) && b[i] >= '0' && b[i] <= '7' {
							v = v*8 + int(b[i]-'0')
							i++
							n++
						}
						i--
						raw = append(raw, byte(v))
					} else {
						raw = append(raw, e)
					}
				}
			case '(':
				depth++
				raw = append(raw, c)
			case ')':
				if depth == 0 {
					break loop
				}
				depth--
				raw = append(raw, c)
			default:
				raw = append(raw, c)
			}
		}
	case '<':
		end := bytes.IndexByte(b, '>')
		if end < 0 || end > 64<<10 {
			return "", false
		}
		var hexDigits []byte
		for _, c := range b[1:end] {
			if isHexDigit(c) {
				hexDigits = append(hexDigits, c)
			}
		}
		if len(hexDigits)%2 == 1 {
			hexDigits = append(hexDigits, '0')
		}
		for i := 0; i+1 < len(hexDigits); i += 2 {
			raw = append(raw, unhexDigit(hexDigits[i])<<4|unhexDigit(hexDigits[i+1]))
		}
	default:
		return "", false
	}
	if bytes.HasPrefix(raw, []byte{0xFE, 0xFF}) {
		u := make([]uint16, 0, len(raw)/2)
		for i := 2; i+1 < len(raw); i += 2 {
			u = append(u, uint16(raw[i])<<8|uint16(raw[i+1]))
		}
		return string(utf16.Decode(u)), true
	}
	if utf8.Valid(raw) && bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}) {
		return string(raw[3:]), true
	}
	r := make([]rune, len(raw))
	for i, c := range raw {
		r[i] = rune(c)
	}
	return string(r), true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhexDigit(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
