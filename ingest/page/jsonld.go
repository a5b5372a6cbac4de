package page

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/evidencetracker/evidence/ingest/text"
)

// ldNode is one JSON-LD object.
type ldNode = map[string]any

// ldData is what an item page's JSON-LD blocks say.
type ldData struct {
	// articles are Article-family nodes (Article, BlogPosting, NewsArticle,
	// Report, ScholarlyArticle…), pages WebPage-family nodes, each in
	// document order. Fields are looked up in articles first.
	articles, pages []ldNode
	byID            map[string]ldNode
	siteNames       []string // WebSite and Organization names
	breadcrumb      []string
	warnings        []string
}

const (
	maxLDNodes = 5000 // objects visited per page
	maxLDDepth = 32
)

// articleTypes are the JSON-LD types of an item; any type ending in
// "Article" counts too (TechArticle, MedicalScholarlyArticle…).
var articleTypes = map[string]bool{
	"article": true, "blogposting": true, "liveblogposting": true, "newsarticle": true,
	"report": true, "scholarlyarticle": true, "podcastepisode": true,
}

// parseJSONLD reads the text of <script type="application/ld+json">
// blocks. A block that is not valid JSON is skipped with a warning; a
// block holding several JSON values keeps those before the fault.
func parseJSONLD(blocks []string) ldData {
	ld := ldData{byID: map[string]ldNode{}}
	count := 0
	var crumbs []ldNode
	for i, raw := range blocks {
		raw = trimScriptWrapping(raw)
		if raw == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		for {
			var v any
			err := dec.Decode(&v)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				ld.warnings = append(ld.warnings, fmt.Sprintf("JSON-LD block %d skipped: %v", i+1, err))
				break
			}
			ld.collect(v, 0, &count, &crumbs)
		}
	}
	if len(crumbs) > 0 {
		ld.breadcrumb = breadcrumbNames(crumbs[0])
	}
	return ld
}

// trimScriptWrapping removes the HTML comment and CDATA markers some CMSs
// wrap around a script's JSON.
func trimScriptWrapping(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{"<!--", "//<![CDATA[", "/*<![CDATA[*/", "<![CDATA["} {
		s = strings.TrimSpace(strings.TrimPrefix(s, p))
	}
	for _, p := range []string{"-->", "//]]>", "/*]]>*/", "]]>"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, p))
	}
	return s
}

// collect walks a JSON value, registering every object with an @id and
// classifying typed objects.
func (ld *ldData) collect(v any, depth int, count *int, crumbs *[]ldNode) {
	if depth > maxLDDepth || *count >= maxLDNodes {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			ld.collect(e, depth+1, count, crumbs)
		}
	case map[string]any:
		*count++
		if id, ok := x["@id"].(string); ok && id != "" {
			// A bare {"@id": …} is a reference: keep the fullest object.
			if old, ok := ld.byID[id]; !ok || len(x) > len(old) {
				ld.byID[id] = x
			}
		}
		for _, t := range ldTypes(x) {
			switch {
			case articleTypes[t] || strings.HasSuffix(t, "article"):
				ld.articles = append(ld.articles, x)
			case strings.HasSuffix(t, "page"):
				ld.pages = append(ld.pages, x)
			case t == "website" || t == "organization" || t == "newsmediaorganization" ||
				t == "ngo" || t == "researchorganization" || t == "corporation":
				ld.siteNames = append(ld.siteNames, ldString(x["name"]), ldString(x["alternateName"]))
			case t == "breadcrumblist":
				*crumbs = append(*crumbs, x)
			default:
				continue
			}
			break
		}
		// Visit values in a fixed order: Go maps are unordered.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if i := sort.SearchStrings(keys, "@graph"); i < len(keys) && keys[i] == "@graph" {
			// The graph first: its order is the document's.
			keys = append([]string{"@graph"}, append(keys[:i:i], keys[i+1:]...)...)
		}
		for _, k := range keys {
			switch x[k].(type) {
			case map[string]any, []any:
				ld.collect(x[k], depth+1, count, crumbs)
			}
		}
	}
}

// ldTypes returns a node's @type values, lower-cased, without a schema.org
// prefix ("http://schema.org/Article" and "schema:Article" are "article").
func ldTypes(n ldNode) []string {
	var raw []string
	switch t := n["@type"].(type) {
	case string:
		raw = []string{t}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				raw = append(raw, s)
			}
		}
	}
	out := make([]string, 0, len(raw))
	for _, s := range raw {
		if i := strings.LastIndexAny(s, "/:#"); i >= 0 {
			s = s[i+1:]
		}
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ldTypeName returns a node's first @type as written (prefix removed).
func ldTypeName(n ldNode) string {
	var s string
	switch t := n["@type"].(type) {
	case string:
		s = t
	case []any:
		for _, e := range t {
			if str, ok := e.(string); ok {
				s = str
				break
			}
		}
	}
	if i := strings.LastIndexAny(s, "/:#"); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// ldString returns a string value: a string, {"@value": …}, or the first
// string of an array.
func ldString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case map[string]any:
		return ldString(x["@value"])
	case []any:
		for _, e := range x {
			if s := ldString(e); s != "" {
				return s
			}
		}
	}
	return ""
}

// ldStrings returns every string of a value (a string, or an array of
// strings or {"@value"} objects).
func ldStrings(v any) []string {
	switch x := v.(type) {
	case string:
		if s := strings.TrimSpace(x); s != "" {
			return []string{s}
		}
	case map[string]any:
		return ldStrings(x["@value"])
	case []any:
		var out []string
		for _, e := range x {
			if _, ok := e.([]any); ok {
				continue
			}
			out = append(out, ldStrings(e)...)
		}
		return out
	}
	return nil
}

// resolveRef returns the object a {"@id": …} reference names, or v.
func (ld *ldData) resolveRef(v any) any {
	if m, ok := v.(map[string]any); ok {
		if id, ok := m["@id"].(string); ok {
			if _, has := m["name"]; !has {
				if full, ok := ld.byID[id]; ok {
					return full
				}
			}
		}
	}
	return v
}

// names returns the names of an author/creator value: a string, an object
// (Person or Organization, or a reference to one), or an array of them.
func (ld *ldData) names(v any) []string {
	var out []string
	var add func(v any, depth int)
	add = func(v any, depth int) {
		if depth > 3 {
			return
		}
		v = ld.resolveRef(v)
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			if n := ldString(x["name"]); n != "" {
				out = append(out, n)
			} else if g, f := ldString(x["givenName"]), ldString(x["familyName"]); g != "" || f != "" {
				out = append(out, strings.TrimSpace(g+" "+f))
			}
		case []any:
			for _, e := range x {
				add(e, depth+1)
			}
		}
	}
	add(v, 0)
	return out
}

// nodes returns the article nodes then the page nodes.
func (ld *ldData) nodes() []ldNode {
	out := make([]ldNode, 0, len(ld.articles)+len(ld.pages))
	out = append(out, ld.articles...)
	return append(out, ld.pages...)
}

// first returns the first non-empty result of get over the nodes.
func (ld *ldData) first(get func(ldNode) string) string {
	for _, n := range ld.nodes() {
		if s := get(n); s != "" {
			return s
		}
	}
	return ""
}

// urlOf returns a URL-valued property: a string or {"@id": …}.
func urlOf(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case map[string]any:
		if s, ok := x["@id"].(string); ok {
			return strings.TrimSpace(s)
		}
		return ldString(x["url"])
	}
	return ""
}

// breadcrumbNames lists a BreadcrumbList's names by position.
func breadcrumbNames(list ldNode) []string {
	items, _ := list["itemListElement"].([]any)
	type crumb struct {
		pos  float64
		i    int
		name string
	}
	var cs []crumb
	for i, e := range items {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		name := ldString(m["name"])
		if name == "" {
			if it, ok := m["item"].(map[string]any); ok {
				name = ldString(it["name"])
			}
		}
		if name == "" {
			continue
		}
		pos, _ := m["position"].(float64)
		cs = append(cs, crumb{pos, i, text.Collapse(name)})
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].pos < cs[b].pos })
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.name)
	}
	return out
}
