package page

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/evidencetracker/evidence/ingest/text"
)

// skipped elements never hold text a reader sees.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Head: true, atom.Iframe: true, atom.Svg: true, atom.Math: true,
	atom.Canvas: true, atom.Object: true, atom.Embed: true, atom.Select: true,
	atom.Textarea: true, atom.Title: true,
}

// inline elements do not break words apart; every other element does
// ("a</p><p>b" is "a b", "<b>w</b>ord" is "word").
var inline = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true,
	atom.Cite: true, atom.Code: true, atom.Data: true, atom.Dfn: true, atom.Em: true,
	atom.I: true, atom.Kbd: true, atom.Mark: true, atom.Q: true, atom.S: true,
	atom.Samp: true, atom.Small: true, atom.Span: true, atom.Strong: true,
	atom.Sub: true, atom.Sup: true, atom.Time: true, atom.U: true, atom.Var: true,
	atom.Font: true, atom.Del: true, atom.Ins: true, atom.Label: true,
	atom.Strike: true, atom.Big: true, atom.Tt: true, atom.Wbr: true,
}

// nodeText returns the visible text of n: skipped elements dropped, block
// elements separated by a space, white space collapsed, trimmed. It stops
// collecting after limit bytes (0: no limit).
func nodeText(n *html.Node, limit int) string {
	t, _ := nodeTextCut(n, limit)
	return t
}

// nodeTextCut is nodeText that also reports whether the limit stopped it.
func nodeTextCut(n *html.Node, limit int) (string, bool) {
	var b strings.Builder
	writeNodeText(&b, n, limit)
	return text.Collapse(b.String()), limit > 0 && b.Len() > limit
}

func writeNodeText(b *strings.Builder, n *html.Node, limit int) {
	if limit > 0 && b.Len() > limit {
		return
	}
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
		return
	case html.ElementNode:
		if skipped[n.DataAtom] {
			return
		}
		if n.DataAtom == atom.Br || n.DataAtom == atom.Hr {
			b.WriteByte(' ')
			return
		}
		if !inline[n.DataAtom] {
			b.WriteByte(' ')
			defer b.WriteByte(' ')
		}
	case html.CommentNode, html.DoctypeNode:
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if limit > 0 && b.Len() > limit {
			return
		}
		writeNodeText(b, c, limit)
	}
}

// classTokens returns the lower-cased id and class tokens of an element.
func classTokens(n *html.Node) []string {
	var out []string
	for _, a := range n.Attr {
		if a.Namespace != "" || (a.Key != "class" && a.Key != "id") {
			continue
		}
		for _, f := range strings.Fields(a.Val) {
			out = append(out, strings.ToLower(f))
		}
	}
	return out
}

// classContains reports whether an id or class token of n contains any of
// subs.
func classContains(n *html.Node, subs ...string) bool {
	for _, t := range classTokens(n) {
		for _, s := range subs {
			if strings.Contains(t, s) {
				return true
			}
		}
	}
	return false
}

// classIs reports whether an id or class token of n equals any of names.
func classIs(n *html.Node, names ...string) bool {
	for _, t := range classTokens(n) {
		for _, s := range names {
			if t == s {
				return true
			}
		}
	}
	return false
}

// ancestor returns the nearest ancestor of n (not n) for which match is
// true, or nil.
func ancestor(n *html.Node, match func(*html.Node) bool) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && match(p) {
			return p
		}
	}
	return nil
}

// contains reports whether n is a or an ancestor of a.
func contains(n, a *html.Node) bool {
	for ; a != nil; a = a.Parent {
		if a == n {
			return true
		}
	}
	return false
}

// removeNode detaches n from the tree.
func removeNode(n *html.Node) {
	if n.Parent != nil {
		n.Parent.RemoveChild(n)
	}
}

// elements returns the element descendants of n (n included) for which
// match is true, in document order, not descending into matches when
// outermost is set.
func elements(n *html.Node, outermost bool, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(n, func(c *html.Node) bool {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
			return !outermost
		}
		return true
	})
	return out
}

// firstElement returns the first element of n's subtree matching, or nil.
func firstElement(n *html.Node, match func(*html.Node) bool) *html.Node {
	var found *html.Node
	walk(n, func(c *html.Node) bool {
		if found != nil {
			return false
		}
		if c.Type == html.ElementNode && match(c) {
			found = c
			return false
		}
		return true
	})
	return found
}

func isAtom(a atom.Atom) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.DataAtom == a }
}
