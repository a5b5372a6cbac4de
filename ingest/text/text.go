// Package text turns the HTML found in feeds and pages into the plain text
// Evidence Tracker stores: tags stripped, scripts dropped, entities decoded
// (also when a publisher escaped them twice), white space collapsed. It also
// lists a fragment's links, cuts summaries at sentence boundaries and
// recognises links to PDFs and other documents.
//
// It imports only the standard library and golang.org/x/net/html.
package text

import (
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// dropped elements: their content is never text a reader sees. MathML
// (<math>) is text: a formula's identifiers, numbers and operators are
// kept, each a word, but not its annotations (TeX source and the like,
// which repeat it).
var dropped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Head: true, atom.Iframe: true, atom.Noembed: true, atom.Noframes: true,
	atom.Svg: true, atom.Canvas: true, atom.Object: true,
	atom.Embed: true, atom.Select: true,
}

// mathTokens are the MathML token elements: each is a word of its own.
var mathTokens = map[string]bool{"mi": true, "mn": true, "mo": true, "ms": true, "mtext": true}

// blocks are the elements that break a line: text either side of them never
// runs together ("a</p><p>b" is "a b", "<b>w</b>ord" is "word").
var blocks = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Br: true, atom.Caption: true, atom.Dd: true, atom.Details: true, atom.Dialog: true,
	atom.Div: true, atom.Dl: true, atom.Dt: true, atom.Fieldset: true, atom.Figcaption: true,
	atom.Figure: true, atom.Footer: true, atom.Form: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Header: true,
	atom.Hgroup: true, atom.Hr: true, atom.Li: true, atom.Main: true, atom.Nav: true,
	atom.Ol: true, atom.P: true, atom.Pre: true, atom.Section: true, atom.Summary: true,
	atom.Table: true, atom.Tbody: true, atom.Td: true, atom.Tfoot: true, atom.Th: true,
	atom.Thead: true, atom.Tr: true, atom.Ul: true, atom.Img: true, atom.Button: true,
	atom.Option: true, atom.Textarea: true, atom.Body: true, atom.Html: true,
}

// maxPasses bounds how many times PlainText re-reads text that still looks
// like markup (HTML escaped once more than it should have been).
const maxPasses = 3

// PlainText returns the plain text of an HTML fragment, document or plain
// text: tags stripped; script, style, noscript (and other non-text elements)
// dropped with their content; block elements become breaks; entities decoded;
// white space collapsed to single spaces; trimmed. Text escaped twice
// ("&amp;#8217;", "&amp;amp;", "&lt;p&gt;…") is decoded once more. The result
// is valid UTF-8 and never contains "<script".
func PlainText(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsAny(s, "<&") {
		// No tag and no entity: parsing as HTML would only move white space
		// and drop NULs, which Collapse does too (see TestPlainTextShortcut).
		return Collapse(s)
	}
	return plainHTML(s)
}

// plainHTML is PlainText of valid UTF-8 text, always parsed as HTML.
func plainHTML(s string) string {
	t := extract(s)
	for i := 0; i < maxPasses; i++ {
		// A second layer of escaping: decode the entities left over, and if
		// that reveals markup, read it as HTML again.
		d := decodeEntities(t)
		if !looksLikeMarkup(d) {
			t = d
			break
		}
		t = extract(d)
	}
	return clean(t)
}

// extract parses s as HTML and returns its text with blocks as newlines.
func extract(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		// html.Parse only fails on reader errors; fall back to the input.
		return s
	}
	var b strings.Builder
	writeText(&b, doc)
	return b.String()
}

func writeText(b *strings.Builder, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
		return
	case html.ElementNode:
		if dropped[n.DataAtom] {
			b.WriteByte('\n')
			return
		}
		if n.Namespace == "math" {
			switch {
			case n.DataAtom == atom.Annotation || n.DataAtom == atom.AnnotationXml:
				return
			case mathTokens[n.Data]:
				b.WriteByte(' ') // "x+1" is "x + 1"; "1/ARR," stays "1 ARR,"
			}
		}
		if blocks[n.DataAtom] {
			b.WriteByte('\n')
			defer b.WriteByte('\n')
		}
	case html.CommentNode, html.DoctypeNode:
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		writeText(b, c)
	}
}

// entityRE matches a complete character reference, with its semicolon, so
// that "AT&T" or "&notation" are never touched.
var entityRE = regexp.MustCompile(`&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)

// decodeEntities decodes the character references left in text.
func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entityRE.ReplaceAllStringFunc(s, html.UnescapeString)
}

// markupRE matches what is markup rather than prose: a known tag, a
// comment, a doctype.
var markupRE = regexp.MustCompile(`(?i)<(?:!--|!doctype|/?(?:a|abbr|article|aside|b|blockquote|body|br|code|dd|div|dl|dt|em|figure|figcaption|footer|h[1-6]|head|header|hr|html|i|iframe|img|li|link|meta|nav|noscript|ol|p|pre|section|small|span|strong|style|sub|sup|script|table|tbody|td|th|thead|tr|u|ul)(?:\s[^<>]*)?/?>|/?(?:script|style|noscript|iframe)\b)`)

func looksLikeMarkup(s string) bool {
	return strings.Contains(s, "<") && markupRE.MatchString(s)
}

// clean is Collapse that also defuses any "<script" left in text that came
// from raw text elements (<plaintext>, <xmp>, <textarea>).
func clean(s string) string {
	out := Collapse(s)
	if indexFold(out, "<script") < 0 {
		return out
	}
	// Drop the "<" of every "<script", in one pass, and any "<" just
	// before it ("<<script" must not become "<script").
	var d strings.Builder
	d.Grow(len(out))
	for {
		i := indexFold(out, "<script")
		if i < 0 {
			d.WriteString(out)
			return d.String()
		}
		d.WriteString(strings.TrimRight(out[:i], "<"))
		out = out[i+1:]
	}
}

// Collapse joins runs of white space (unicode.IsSpace) into one space,
// drops control characters and invisible format characters (soft hyphen,
// zero-width space, word joiner, BOM) and trims. It reads s as it is, markup
// and entities included; each byte of invalid UTF-8 becomes one U+FFFD, so
// the result is valid UTF-8.
func Collapse(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == '\u00AD' || r == '\u200B' || r == '\u2060' || r == '\uFEFF':
			continue // soft hyphen, zero-width space, word joiner, BOM
		case unicode.IsControl(r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}

// Link is one anchor: its absolute URL and its plain text.
type Link struct {
	URL  string
	Text string
}

// Links returns every <a href> of an HTML fragment, resolved against base
// (may be nil: then relative links are skipped), in document order. Only
// http and https links are kept; fragment-only links ("#notes") are skipped
// and fragments are removed; a URL seen twice is listed once, with the first
// non-empty anchor text.
func Links(s string, base *url.URL) []Link {
	doc, err := html.Parse(strings.NewReader(strings.ToValidUTF8(s, "\uFFFD")))
	if err != nil {
		return nil
	}
	var links []Link
	index := map[string]int{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.A {
			if u := resolve(attr(n, "href"), base); u != "" {
				txt := clean(extractNode(n))
				if i, ok := index[u]; ok {
					if links[i].Text == "" {
						links[i].Text = txt
					}
				} else {
					index[u] = len(links)
					links = append(links, Link{URL: u, Text: txt})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return links
}

func extractNode(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		writeText(&b, c)
	}
	return b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// resolve is ResolveLink without a length limit, as a string ("" for nil).
func resolve(href string, base *url.URL) string {
	u := ResolveLink(href, base, 0)
	if u == nil {
		return ""
	}
	return u.String()
}

// ResolveLink returns href as an absolute http(s) URL without fragment, or
// nil when it is empty, fragment-only, longer than maxLen bytes (0: no
// limit), not http(s), without a host or relative without an absolute base.
// Surrounding white space is trimmed and tabs and line breaks removed first
// (as browsers do); maxLen counts what is left.
func ResolveLink(href string, base *url.URL, maxLen int) *url.URL {
	href = strings.TrimSpace(href)
	if strings.ContainsAny(href, "\t\n\r") {
		href = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(href)
	}
	if href == "" || href[0] == '#' || (maxLen > 0 && len(href) > maxLen) {
		return nil
	}
	u, err := url.Parse(href)
	if err != nil {
		return nil
	}
	if !u.IsAbs() {
		// A relative base would leave u relative: rejected below anyway.
		if base == nil || !base.IsAbs() {
			return nil
		}
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	// url.Parse and ResolveReference leave Host empty whenever Opaque is
	// set, so the Opaque test only spells out what the Host test implies.
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil
	}
	u.Fragment, u.RawFragment = "", ""
	return u
}

// Summarize cuts plain text to at most max runes: at the last sentence end
// (". ", "? ", "! ") that leaves at least a third of max, else at the last
// word boundary with "…" appended (counted in max). White space is collapsed
// first; text that fits is returned whole.
func Summarize(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	// Sentence end: punctuation at index i < max followed by a space (the
	// space may be rune max itself, which is dropped).
	for i := max - 1; i >= max/3 && i > 0; i-- {
		switch runes[i] {
		case '.', '?', '!':
			if runes[i+1] == ' ' {
				return string(runes[:i+1])
			}
		}
	}
	if max == 1 {
		return "…"
	}
	cut := runes[:max-1] // leave room for "…"
	end := len(cut)
	if runes[max-1] != ' ' {
		// Back up to the last space, unless the text has none.
		for j := len(cut) - 1; j > 0; j-- {
			if cut[j] == ' ' {
				end = j
				break
			}
		}
	}
	out := strings.TrimRight(string(cut[:end]), " ,;:-–—")
	return out + "…"
}

// documentExts are the file types worth keeping as downloads.
var documentExts = map[string]bool{
	".pdf": true, ".doc": true, ".docx": true, ".odt": true, ".rtf": true,
	".xls": true, ".xlsx": true, ".ods": true, ".csv": true,
	".ppt": true, ".pptx": true, ".odp": true, ".epub": true,
}

// DocumentType names the document type of a URL path from its extension,
// in capitals ("PDF", "DOCX", "XLSX", "EPUB"…), or "" when the extension
// (any case) is not one of documentExts.
func DocumentType(p string) string {
	ext := strings.ToLower(path.Ext(p))
	if !documentExts[ext] {
		return ""
	}
	return strings.ToUpper(ext[1:])
}

// uploadDirs are where publishers' CMSs keep files (publishers.md, rule 4).
var uploadDirs = []string{"/wp-content/uploads/", "/cms/wp-content/uploads/", "/sites/default/files/"}

// IsPDF reports whether u links to a PDF (a path ending in .pdf, any case)
// or to a document (.docx, .xlsx, .pptx, .odt…) under a publisher's upload
// directory: /wp-content/uploads/, /cms/wp-content/uploads/,
// /sites/default/files/. Images under those directories are not documents.
func IsPDF(u string) bool {
	p := u
	if pu, err := url.Parse(strings.TrimSpace(u)); err == nil {
		p = pu.Path
	} else if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = strings.ToLower(p)
	switch DocumentType(p) {
	case "PDF":
		return true
	case "":
		return false
	}
	for _, d := range uploadDirs {
		if strings.Contains(p, d) {
			return true
		}
	}
	return false
}

// Trustworthy dates lie in [minDate, maxDate): feeds and pages are full of
// 1970-01-01 and 0001-01-01 placeholders.
var (
	minDate = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDate = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// PlausibleDate reports whether t is a date a publisher could mean: from
// 1990-01-01 (inclusive) to 2100-01-01 (exclusive), UTC.
func PlausibleDate(t time.Time) bool {
	return !t.Before(minDate) && t.Before(maxDate)
}

// Literal returns text that is already plain — an Atom title declared
// type="text" — as it is stored: like Collapse, and like PlainText never
// containing "<script", but markup and entities are kept as the characters
// they are ("Use <blink> sparingly" stays so).
func Literal(s string) string {
	return clean(strings.ToValidUTF8(s, "\uFFFD"))
}
