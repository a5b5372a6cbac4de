package digest

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// RenderMarkdown renders an editor's Markdown (a digest note, later a
// collection's description) as HTML safe to put in a page or an e-mail:
// raw HTML in the source is dropped by the renderer, and the result passes
// a sanitiser that keeps only text formatting, lists, quotes, tables and
// http(s)/mailto links — no scripts, event attributes, styles, images or
// javascript: URLs. The web reuses it.
func RenderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	md := goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.Table))
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark fails only when writing to buf fails, which it cannot;
		// fall back to the escaped source.
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	return template.HTML(notePolicy().SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitised just now
}

// notePolicy is what a note may keep. Made per call: a Policy is not
// documented as safe to share, and notes are rare.
func notePolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "b", "em", "i", "del", "s", "code", "pre", "blockquote",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(false)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	return p
}
