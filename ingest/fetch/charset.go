package fetch

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// metaScanLimit bounds how far into an HTML document ToUTF8 looks for a
// <meta charset>. The HTML prescan uses 1024 bytes, but real pages (and the
// miniflux test file) put the meta later, behind long comments or scripts;
// the scan also stops at <body>.
const metaScanLimit = 64 << 10

// ToUTF8 converts a fetched document to UTF-8 and reports the charset it was
// decoded from (a WHATWG name: "utf-8", "windows-1252", "koi8-r", …; note
// that WHATWG maps the label iso-8859-1 to windows-1252).
//
// The charset is taken, in order, from: a byte-order mark; a UTF-16 XML
// prolog without BOM; then the first declaration that fits the bytes among
// the Content-Type charset parameter, the XML prolog's encoding="…", and
// (for HTML) <meta charset> or <meta http-equiv="Content-Type"> anywhere in
// the head; then UTF-8 if the bytes are valid UTF-8; else windows-1252.
//
// A declaration "fits" unless it is plainly wrong: a declared UTF-8 that is
// not valid UTF-8 is skipped, and a declared single- or multi-byte legacy
// charset is overridden by UTF-8 when the body is valid UTF-8 containing
// non-ASCII text (publishers often keep an ISO-8859-1 prolog on UTF-8 feeds;
// legacy text is practically never valid UTF-8). A body with no fitting
// declaration that is mostly UTF-8 with a few bad bytes stays UTF-8, the bad
// bytes becoming U+FFFD.
//
// The output is always valid UTF-8 without a BOM. An XML prolog's encoding
// attribute is rewritten to "utf-8" so a later XML parser does not decode the
// text a second time. err is non-nil only if a decoder failed; out is then
// still a best-effort UTF-8 text.
func ToUTF8(body []byte, contentType string) (out []byte, charsetName string, err error) {
	// 1. Byte-order marks.
	switch {
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		return finish(validUTF8(body[3:]), "utf-8", nil)
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
		return decodeWith(body[2:], unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le")
	case bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		return decodeWith(body[2:], unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be")
	}
	// 2. UTF-16 XML without BOM (XML 1.0 appendix F): "<?" as UTF-16.
	switch {
	case bytes.HasPrefix(body, []byte{'<', 0, '?', 0, 'x', 0}):
		return decodeWith(body, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le")
	case bytes.HasPrefix(body, []byte{0, '<', 0, '?', 0, 'x'}):
		return decodeWith(body, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be")
	}

	valid := utf8.Valid(body)
	ascii := valid && isASCII(body)
	prologEnc, isXML := xmlPrologEncoding(body)
	media := mediaTypeOf(contentType)
	if media == "text/xml" || media == "application/xml" || strings.HasSuffix(media, "+xml") {
		isXML = true
	}

	// 3. Declarations, in order of authority.
	// The meta scan tokenizes up to 64 KiB, so it runs only when needed.
	declarations := []func() string{
		func() string { return charsetParam(contentType) },
		func() string { return prologEnc },
		func() string {
			if isXML {
				return ""
			}
			return metaCharset(body)
		},
	}
	for i, declared := range declarations {
		enc, name := lookupCharset(declared())
		if i == 2 && strings.HasPrefix(name, "utf-16") {
			enc, name = unicode.UTF8, "utf-8" // HTML spec: a meta saying utf-16 means utf-8
		}
		if enc == nil {
			continue // absent, unknown ("invalid") or the WHATWG replacement encoding
		}
		switch {
		case name == "utf-8":
			if valid {
				return finish(body, "utf-8", nil)
			}
			continue // declared UTF-8 but is not: look further
		case strings.HasPrefix(name, "utf-16"):
			if valid && bytes.IndexByte(body, 0) < 0 {
				continue // no NUL byte: this is not UTF-16 text
			}
			return decodeWith(body, enc, name)
		case name == "iso-2022-jp":
			return decodeWith(body, enc, name) // 7-bit: ASCII bytes still need decoding
		case ascii:
			return finish(body, name, nil) // ASCII-compatible charset, ASCII text
		case valid:
			return finish(body, "utf-8", nil) // declared legacy, actually UTF-8
		default:
			return decodeWith(body, enc, name)
		}
	}

	// 4. No usable declaration.
	if valid {
		return finish(body, "utf-8", nil)
	}
	if mostlyUTF8(body) {
		return finish(validUTF8(body), "utf-8", nil)
	}
	return decodeWith(body, charmap.Windows1252, "windows-1252")
}

// decodeWith decodes body from enc and finishes the document.
func decodeWith(body []byte, enc encoding.Encoding, name string) ([]byte, string, error) {
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return finish(validUTF8(body), name, fmt.Errorf("charset: decode %s: %w", name, err))
	}
	return finish(out, name, nil)
}

// finish makes sure out is valid UTF-8 without BOM and rewrites an XML
// prolog's encoding to utf-8.
func finish(out []byte, name string, err error) ([]byte, string, error) {
	out = bytes.TrimPrefix(validUTF8(out), []byte{0xEF, 0xBB, 0xBF})
	return rewritePrologEncoding(out), name, err
}

func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// mostlyUTF8 reports whether b has more well-formed multi-byte UTF-8
// sequences than bytes that are not UTF-8: a UTF-8 page with a stray Latin-1
// byte, rather than a Latin-1 page.
func mostlyUTF8(b []byte) bool {
	multi, bad := 0, 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size <= 1:
			bad++
		case size > 1:
			multi++
		}
		b = b[size:]
	}
	return multi > bad
}

// lookupCharset maps a label to an encoding and its WHATWG name. It returns
// nil for an empty or unknown label and for the "replacement" encoding.
func lookupCharset(label string) (encoding.Encoding, string) {
	label = strings.Trim(strings.TrimSpace(label), `"'`)
	if label == "" {
		return nil, ""
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, ""
	}
	name, err := htmlindex.Name(enc)
	if err != nil || name == "replacement" {
		return nil, ""
	}
	return enc, name
}

func mediaTypeOf(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

// charsetParam returns the charset parameter of a Content-Type value, also
// from values mime.ParseMediaType rejects.
func charsetParam(contentType string) string {
	if contentType == "" {
		return ""
	}
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		return params["charset"]
	}
	return charsetFromContent(contentType)
}

// charsetFromContent extracts the charset from a meta content attribute or a
// malformed Content-Type, as the HTML spec's algorithm does: the first
// "charset", optional spaces, "=", then a quoted or bare value.
func charsetFromContent(s string) string {
	lower := asciiLower(s) // same length as s, unlike strings.ToLower on invalid UTF-8
	for {
		i := strings.Index(lower, "charset")
		if i < 0 {
			return ""
		}
		s, lower = s[i+len("charset"):], lower[i+len("charset"):]
		rest := strings.TrimLeft(s, " \t\n\f\r")
		if !strings.HasPrefix(rest, "=") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\n\f\r")
		if rest == "" {
			return ""
		}
		if q := rest[0]; q == '"' || q == '\'' {
			if j := strings.IndexByte(rest[1:], q); j >= 0 {
				return rest[1 : 1+j]
			}
			return ""
		}
		if j := strings.IndexAny(rest, " \t\n\f\r;"); j >= 0 {
			return rest[:j]
		}
		return rest
	}
}

// asciiLower lower-cases ASCII letters only, keeping byte offsets intact.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

var prologRE = regexp.MustCompile(`^[ \t\r\n]*<\?xml[ \t\r\n][^>]*?\?>`)
var prologEncodingRE = regexp.MustCompile(`([ \t\r\n]encoding[ \t\r\n]*=[ \t\r\n]*)(["'])([^"'<>]*)(["'])`)

// xmlPrologEncoding reports whether body starts with an XML declaration
// and, if so, its encoding attribute ("" when absent).
func xmlPrologEncoding(body []byte) (enc string, isXML bool) {
	head := body[:min(len(body), 1024)]
	prolog := prologRE.Find(head)
	if prolog == nil {
		return "", false
	}
	if m := prologEncodingRE.FindSubmatch(prolog); m != nil {
		return string(m[3]), true
	}
	return "", true
}

// rewritePrologEncoding changes an XML declaration's encoding attribute to
// utf-8 (the document has been converted), leaving everything else alone.
func rewritePrologEncoding(body []byte) []byte {
	head := body[:min(len(body), 1024)]
	loc := prologRE.FindIndex(head)
	if loc == nil {
		return body
	}
	prolog := body[:loc[1]]
	m := prologEncodingRE.FindSubmatchIndex(prolog)
	if m == nil || strings.EqualFold(string(prolog[m[6]:m[7]]), "utf-8") {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, prolog[:m[6]]...)
	out = append(out, "utf-8"...)
	out = append(out, prolog[m[7]:]...)
	return append(out, body[loc[1]:]...)
}

// metaCharset finds the charset declared by an HTML <meta charset> or
// <meta http-equiv="Content-Type" content="…; charset=…"> before <body>,
// within metaScanLimit bytes. It returns "" when there is none.
func metaCharset(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body[:min(len(body), metaScanLimit)]))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "body":
				return ""
			case "meta":
			default:
				continue
			}
			var charset, content string
			var pragma bool
			for hasAttr {
				var key, val []byte
				key, val, hasAttr = z.TagAttr()
				switch string(key) {
				case "charset":
					charset = string(val)
				case "content":
					content = string(val)
				case "http-equiv":
					pragma = strings.EqualFold(string(val), "content-type")
				}
			}
			if charset != "" {
				return charset
			}
			if pragma {
				if cs := charsetFromContent(content); cs != "" {
					return cs
				}
			}
		}
	}
}
