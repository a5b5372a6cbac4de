package digest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	texttemplate "text/template"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Format is an output format of Render.
type Format string

// The formats.
const (
	HTML     Format = "html"
	Text     Format = "text"
	Markdown Format = "markdown"
	JSON     Format = "json"
)

// ParseFormat reads a format name ("html", "text" or "txt", "markdown" or
// "md", "json").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "html":
		return HTML, nil
	case "text", "txt", "plain":
		return Text, nil
	case "markdown", "md":
		return Markdown, nil
	case "json":
		return JSON, nil
	}
	return "", fmt.Errorf("format %q: want one of html, text, markdown, json: %w", s, evidence.ErrInvalid)
}

// TextWidth is the plain-text layout's line width.
const TextWidth = 72

// Renderer renders digests; it holds the parsed templates and is safe for
// concurrent use.
type Renderer struct {
	html *htmltemplate.Template
	text *texttemplate.Template
	md   *texttemplate.Template
}

// NewRenderer parses the embedded templates.
func NewRenderer() (*Renderer, error) { return NewRendererFrom("") }

// TemplateNames are the template files a directory given to
// NewRendererFrom may hold (config digest.templates); a missing one is
// the embedded one.
var TemplateNames = []string{"digest.html.tmpl", "digest.txt.tmpl", "digest.md.tmpl"}

// NewRendererFrom parses the templates, taking each from dir when it holds
// a file of that name. A template that does not parse, or that fails on a
// sample digest, is an error naming its file.
func NewRendererFrom(dir string) (*Renderer, error) {
	src := func(name string) (fs.FS, string) {
		if dir != "" {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return os.DirFS(dir), name
			}
		}
		return templateFS, "templates/" + name
	}
	where := func(name string) string {
		if f, p := src(name); f != fs.FS(templateFS) {
			return filepath.Join(dir, p)
		}
		return "embedded " + name
	}
	hf, hp := src(TemplateNames[0])
	h, err := htmltemplate.New(TemplateNames[0]).Funcs(htmltemplate.FuncMap(funcs())).ParseFS(hf, hp)
	if err != nil {
		return nil, fmt.Errorf("digest: template %s: %w", where(TemplateNames[0]), err)
	}
	tf, tp := src(TemplateNames[1])
	t, err := texttemplate.New(TemplateNames[1]).Funcs(funcs()).ParseFS(tf, tp)
	if err != nil {
		return nil, fmt.Errorf("digest: template %s: %w", where(TemplateNames[1]), err)
	}
	mf, mp := src(TemplateNames[2])
	m, err := texttemplate.New(TemplateNames[2]).Funcs(funcs()).ParseFS(mf, mp)
	if err != nil {
		return nil, fmt.Errorf("digest: template %s: %w", where(TemplateNames[2]), err)
	}
	r := &Renderer{html: h, text: t, md: m}
	if dir != "" {
		// A template can parse and still fail on real data (a field that
		// does not exist): try each on a sample before any digest is sent.
		sample := sampleDigest()
		for i, f := range []Format{HTML, Text, Markdown} {
			if err := r.Render(io.Discard, sample, f); err != nil {
				return nil, fmt.Errorf("digest: template %s: %w", where(TemplateNames[i]), err)
			}
		}
	}
	return r, nil
}

// sampleDigest has one entry of every kind a template may meet.
func sampleDigest() *Digest {
	e := Entry{ID: "sample", Title: "Sample report", URL: "https://example.org/report", Type: evidence.TypeReport,
		TypeLabel: "Report", Publishers: []string{"Centre for Mental Health"}, Date: "1 December 2026",
		Authors: []string{"A Author"}, Summary: "What it finds.", PDFURLs: []string{"https://example.org/r.pdf"},
		Topic: "recovery", Labels: []string{"housing"}, Relations: []Relation{}}
	return &Digest{Title: "Sample digest", Dates: "30 November – 6 December 2026", Note: "A note.",
		Picks: []Entry{e}, Sections: []Section{{Topic: "recovery", Entries: []Entry{e}}}, Excluded: []Excluded{},
		Counts: Counts{Items: 1, BySource: []Count{{Key: "centre-for-mental-health", Label: "Centre for Mental Health", N: 1}}}}
}

// Render writes d in format f. The output depends only on d.
func (r *Renderer) Render(w io.Writer, d *Digest, f Format) error {
	var buf bytes.Buffer
	var err error
	switch f {
	case HTML:
		err = r.html.Execute(&buf, d)
	case Text:
		err = r.text.Execute(&buf, d)
		if err == nil {
			buf = *bytes.NewBuffer(tidyText(buf.Bytes()))
		}
	case Markdown:
		err = r.md.Execute(&buf, d)
		if err == nil {
			buf = *bytes.NewBuffer(tidyText(buf.Bytes()))
		}
	case JSON:
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(d)
	default:
		_, err = ParseFormat(string(f))
	}
	if err != nil {
		return fmt.Errorf("digest %s: render %s: %w", d.Week, f, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("digest %s: write %s: %w", d.Week, f, err)
	}
	return nil
}

func funcs() texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"join":    strings.Join,
		"heading": heading,
		"wrap":    wrap,
		"mdtext":  mdText,
		"mdurl":   mdURL,
		"mdnote":  func(s string) string { return strings.ReplaceAll(s, "<", "&lt;") },
		"upper":   strings.ToUpper,
		"repeat":  strings.Repeat,
		"add":     func(a, b int) int { return a + b },
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		"byline":  byline,
		"andlist": andList,
		"publine": publine,
		"counts":  countLine,
		"note":    func(s string) string { return noteText(s, TextWidth) },
		// by is " (Publisher)" after a related item, except under
		// "Appraised by The Mental Elf", which names it already.
		"by": func(kind, publisher string) string {
			if kind == RelAppraisedBy || publisher == "" {
				return ""
			}
			return " (" + publisher + ")"
		},
	}
}

// heading capitalises a topic name for a section heading.
func heading(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// publine is "Report · Centre for Mental Health, National Voices · 14 October 2026".
func publine(e Entry) string {
	parts := []string{e.TypeLabel}
	if len(e.Publishers) > 0 {
		parts = append(parts, strings.Join(e.Publishers, ", "))
	}
	if e.Date != "" {
		parts = append(parts, e.Date)
	} else {
		parts = append(parts, "undated")
	}
	return strings.Join(parts, " · ")
}

// byline is "By A, B and C", or "".
func byline(authors []string) string {
	if len(authors) == 0 {
		return ""
	}
	return "By " + andList(authors)
}

// andList is "A, B and C".
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// countLine is "8 The Mental Elf · 5 Centre for Mental Health".
func countLine(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", c.Label, c.N)
	}
	return strings.Join(parts, " · ")
}

// wrap fills s into lines of at most width runes, each after indent (the
// first after first instead, when given). Words longer than a line (URLs)
// stand alone on theirs.
func wrap(width int, indent, first, s string) string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	lead := first
	if lead == "" {
		lead = indent
	}
	line := lead
	n := utf8.RuneCountInString(line)
	empty := true
	for _, w := range words {
		wl := utf8.RuneCountInString(w)
		if !empty && n+1+wl > width {
			b.WriteString(line)
			b.WriteByte('\n')
			line, n, empty = indent, utf8.RuneCountInString(indent), true
		}
		if !empty {
			line += " "
			n++
		}
		line += w
		n += wl
		empty = false
	}
	b.WriteString(line)
	return b.String()
}

// mdText escapes outside text for Markdown: the characters that would make
// emphasis, links, code or HTML.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
			continue
		case '>':
			b.WriteString("&gt;")
			continue
		case '\\', '`', '*', '_', '[', ']', '#', '|':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdURL makes a URL safe inside Markdown's (…).
func mdURL(s string) string {
	r := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E")
	return r.Replace(s)
}

// tidyText trims trailing spaces and squeezes runs of blank lines to one.
func tidyText(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	s := strings.Trim(strings.Join(out, "\n"), "\n")
	return []byte(s + "\n")
}

// noteText lays out a Markdown note as plain text at width: paragraphs
// filled, list items and quotes kept one per line with a hanging indent.
func noteText(src string, width int) string {
	src = mdLink.ReplaceAllString(src, "$1 <$2>")
	src = strings.NewReplacer("**", "", "__", "").Replace(src)
	var out []string
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, wrap(width, "", "", strings.Join(para, " ")))
			para = nil
		}
	}
	for _, l := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(l)
		switch {
		case t == "":
			flush()
			out = append(out, "")
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "+ "):
			flush()
			out = append(out, wrap(width, "   ", " - ", t[2:]))
		case strings.HasPrefix(t, ">"):
			flush()
			out = append(out, wrap(width, "  | ", "  | ", strings.TrimSpace(t[1:])))
		case strings.HasPrefix(t, "#"):
			flush()
			out = append(out, wrap(width, "", "", strings.TrimSpace(strings.TrimLeft(t, "#"))))
		default:
			if i := strings.IndexAny(t, ".)"); i > 0 && i < 4 && strings.Trim(t[:i], "0123456789") == "" && len(t) > i+1 && t[i+1] == ' ' {
				flush()
				out = append(out, wrap(width, "    ", " "+t[:i+1]+" ", t[i+2:]))
				continue
			}
			para = append(para, t)
		}
	}
	flush()
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// mdLink is a Markdown link [text](url), shown in text as "text <url>".
var mdLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
