package feed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	ext "github.com/mmcdole/gofeed/extensions"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/ingest/text"
)

// PartialError is what Parse returns, beside the items it could read, for
// an XML feed cut off before its end: the items are those of the entries
// that end before the damage. Log it as a warning. It wraps the parse
// error of the whole document (which wraps evidence.ErrInvalid).
type PartialError struct {
	// Kept is the number of entries read before the damage.
	Kept int
	// Line is the line the document breaks off on.
	Line int
	// Cause is the parse error of the whole document.
	Cause error
}

func (e *PartialError) Error() string {
	entries := "entries"
	if e.Kept == 1 {
		entries = "entry"
	}
	return fmt.Sprintf("feed: parse: truncated feed: read the %d %s before the document breaks off on line %d (%s)",
		e.Kept, entries, e.Line, strings.TrimPrefix(e.Cause.Error(), "feed: parse: "))
}

func (e *PartialError) Unwrap() error { return e.Cause }

// recoverTruncated handles a document gofeed failed on: when it is XML cut
// off before its end, it re-parses the document cut back to its last
// complete entry (the elements still open closed) and returns those items
// with a *PartialError. Otherwise it returns perr.
func recoverTruncated(doc []byte, base *url.URL, perr error) ([]evidence.Item, error) {
	var se *xml.SyntaxError
	if len(doc) == 0 || doc[0] != '<' || !errors.As(perr, &se) {
		return nil, perr
	}
	fixed, kept, truncated := cutAfterLastEntry(doc)
	if !truncated {
		return nil, perr
	}
	line := bytes.Count(doc, []byte("\n")) + 1
	if kept == 0 {
		return nil, invalid(perr, "truncated feed: the document breaks off on line %d before its first entry ends (%s)",
			line, strings.TrimPrefix(perr.Error(), "feed: parse: "))
	}
	f, fdoc, err := parseBytes(fixed)
	if err != nil {
		return nil, perr
	}
	items, err := convertDoc(f, fdoc, base)
	if err != nil || len(items) == 0 {
		return nil, perr
	}
	return items, &PartialError{Kept: kept, Line: line, Cause: perr}
}

// cutAfterLastEntry reads doc's elements and, when it ends with elements
// still open (or inside a tag), returns doc cut after the last complete
// item or entry with end tags for the elements around it, and how many
// entries ended before the cut. truncated is false for a document that is
// not cut off (its error lies elsewhere).
func cutAfterLastEntry(doc []byte) (fixed []byte, kept int, truncated bool) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	var (
		open  []xml.Name
		cut   = -1
		outer []xml.Name // elements open around the last complete entry
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			truncated = len(open) > 0
			break
		}
		var se *xml.SyntaxError
		if err != nil {
			truncated = errors.As(err, &se) && strings.HasPrefix(se.Msg, "unexpected EOF")
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			open = append(open, t.Name)
		case xml.EndElement:
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] != t.Name {
					continue
				}
				open = open[:i]
				// An entry is a child of <feed>, <rdf:RDF> or an RSS
				// <channel>: at most two elements around it.
				if local := strings.ToLower(t.Name.Local); (local == "item" || local == "entry") && len(open) <= 2 {
					cut, kept = int(d.InputOffset()), kept+1
					outer = append(outer[:0], open...)
				}
				break
			}
		}
	}
	if !truncated || cut < 0 {
		return nil, 0, truncated
	}
	var b bytes.Buffer
	b.Grow(cut + 64)
	b.Write(doc[:cut])
	for i := len(outer) - 1; i >= 0; i-- {
		b.WriteString("</")
		if outer[i].Space != "" {
			b.WriteString(outer[i].Space + ":")
		}
		b.WriteString(outer[i].Local + ">")
	}
	return b.Bytes(), kept, true
}

// entryTypes are the declared types of an Atom entry's text constructs
// ("text", "html", "xhtml"; "" when not declared), lower-cased.
type entryTypes struct{ title, summary, content string }

// atomTextTypes lists, per <entry> of an Atom document in order, the type
// attributes of its <title>, <summary> and <content>. gofeed decodes these
// constructs but does not say how they were declared.
func atomTextTypes(doc []byte) []entryTypes {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	var out []entryTypes
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 2 && strings.EqualFold(t.Name.Local, "entry"):
				out = append(out, entryTypes{})
			case depth == 3 && len(out) > 0:
				typ := ""
				for _, a := range t.Attr {
					if a.Name.Local == "type" && a.Name.Space == "" {
						typ = strings.ToLower(strings.TrimSpace(a.Value))
					}
				}
				switch e := &out[len(out)-1]; strings.ToLower(t.Name.Local) {
				case "title":
					e.title = typ
				case "summary":
					e.summary = typ
				case "content":
					e.content = typ
				}
			}
		case xml.EndElement:
			depth--
		}
	}
}

// declaresText reports whether doc has a type="text…" attribute (any
// quotes, any case) anywhere: only then is atomTextTypes worth its pass.
func declaresText(doc []byte) bool {
	for rest := doc; ; {
		i := bytes.Index(rest, []byte("type="))
		if i < 0 {
			return false
		}
		rest = rest[i+len("type="):]
		if len(rest) > 5 && (rest[0] == '"' || rest[0] == '\'') && bytes.EqualFold(rest[1:5], []byte("text")) {
			return true
		}
	}
}

// isText reports a construct declared as plain text: its characters are
// the text, markup included ("Use <blink> sparingly").
func isText(typ string) bool { return typ == "text" || typ == "text/plain" }

// plain is the stored text of a construct of the given declared type:
// literal text for type="text", else the text of its HTML (RSS, JSON Feed,
// Atom html/xhtml or undeclared, as feeds in the wild use it).
func plain(s, typ string) string {
	if isText(typ) {
		return text.Literal(s)
	}
	return text.PlainText(s)
}

// dcTermsLayouts are the W3C-DTF dates of dcterms:issued and friends, and
// the RFC 822 ones some feeds use there.
var dcTermsLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05",
	"2006-01-02", "2006-01", "2006",
	time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST", "2 Jan 2006",
}

// dcTermsDate returns the first plausible date among an entry's
// dcterms:<name> elements (or dc:<name>, as some feeds write them), names
// in order of preference; nil if none.
func dcTermsDate(exts ext.Extensions, names ...string) *time.Time {
	for _, name := range names {
		for _, prefix := range []string{"dcterms", "dc"} {
			for _, x := range exts[prefix][name] {
				v := strings.TrimSpace(x.Value)
				for _, l := range dcTermsLayouts {
					if t, err := time.Parse(l, v); err == nil {
						if d := goodDate(&t); d != nil {
							return d
						}
						break
					}
				}
			}
		}
	}
	return nil
}
