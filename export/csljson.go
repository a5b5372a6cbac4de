package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// cslItem is one CSL-JSON item (CSL 1.0.2 variables).
type cslItem struct {
	ID             string     `json:"id"`
	Type           string     `json:"type"`
	Title          string     `json:"title,omitempty"`
	Author         []cslName  `json:"author,omitempty"`
	Issued         *cslDate   `json:"issued,omitempty"`
	Accessed       *cslDate   `json:"accessed,omitempty"`
	ContainerTitle string     `json:"container-title,omitempty"`
	Publisher      string     `json:"publisher,omitempty"`
	Genre          string     `json:"genre,omitempty"`
	URL            string     `json:"URL,omitempty"`
	DOI            string     `json:"DOI,omitempty"`
	Abstract       string     `json:"abstract,omitempty"`
	Keyword        string     `json:"keyword,omitempty"`
	Note           string     `json:"note,omitempty"`
	Custom         *cslCustom `json:"custom,omitempty"`
}

type cslName struct {
	Family  string `json:"family,omitempty"`
	Given   string `json:"given,omitempty"`
	Suffix  string `json:"suffix,omitempty"`
	Literal string `json:"literal,omitempty"`
}

type cslDate struct {
	DateParts [][]int `json:"date-parts"`
}

// cslCustom keeps what CSL has no variable for (CSL-JSON's "custom"
// object, which processors pass through).
type cslCustom struct {
	Section string   `json:"section,omitempty"`
	Note    string   `json:"collection_note,omitempty"`
	Source  string   `json:"source,omitempty"`
	PDFURLs []string `json:"pdf_urls,omitempty"`
}

// CSLJSON writes the entries as one CSL-JSON array (indented, UTF-8),
// the input of citeproc processors, Zotero and citation.js. Each item has
// id (the item ID, else "item-N"; "-2", "-3"… added to an ID already
// written, as when an item is in two sections), type (see the package's table), title,
// author ([{family, given, suffix}] or [{literal}] for an organisation),
// issued and accessed ({"date-parts": [[y, m, d]]}, as much as is known),
// container-title (the blog or site of blogs, news and web pages),
// publisher, genre (the kind of work: "Briefing"…), URL, DOI, abstract,
// keyword (the topics, comma-separated), note ("Section: X" and the
// curator's note, one per line) and custom {section, collection_note,
// source, pdf_urls}.
func CSLJSON(w io.Writer, entries []Entry) error {
	items := make([]cslItem, 0, len(entries))
	ids := map[string]bool{}
	for i, e := range entries {
		c := cslOf(e, i)
		// An item may be in two sections of a collection; processors
		// want each id once.
		id := c.ID
		for n := 2; ids[id]; n++ {
			id = fmt.Sprintf("%s-%d", c.ID, n)
		}
		ids[id], c.ID = true, id
		items = append(items, c)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(items); err != nil {
		return fmt.Errorf("export: write CSL-JSON: %w", err)
	}
	return nil
}

func cslOf(e Entry, i int) cslItem {
	it := e.Item
	k := kindOf(it)
	c := cslItem{
		ID:        clean(it.ID, MaxShort),
		Type:      k.csl,
		Title:     clean(it.Title, MaxShort),
		Publisher: clean(e.Publisher, MaxShort),
		Genre:     k.words,
		URL:       cleanURL(it.URL),
		DOI:       bareDOI(it.DOI),
		Abstract:  clean(it.Summary, MaxLong),
		Note:      strings.Join(noteParts(e), "\n"),
	}
	if c.ID == "" {
		c.ID = fmt.Sprintf("item-%d", i+1)
	}
	switch c.Type {
	case "post-weblog", "article-newspaper", "webpage":
		c.ContainerTitle = c.Publisher
	}
	for _, n := range names(it.Authors) {
		if n.IsLiteral() {
			c.Author = append(c.Author, cslName{Literal: n.Literal})
		} else {
			c.Author = append(c.Author, cslName{Family: n.Family, Given: n.Given, Suffix: n.Suffix})
		}
	}
	if t, p := published(it); p != dateNone {
		parts := []int{t.Year(), int(t.Month()), t.Day()}[:p]
		c.Issued = &cslDate{DateParts: [][]int{parts}}
	}
	if t := accessed(it); !t.IsZero() {
		c.Accessed = &cslDate{DateParts: [][]int{{t.Year(), int(t.Month()), t.Day()}}}
	}
	var kw []string
	for _, t := range texts(it.Topics, MaxTerm) {
		kw = append(kw, strings.Join(strings.Fields(strings.ReplaceAll(t, ",", " ")), " "))
	}
	c.Keyword = strings.Join(kw, ", ")
	custom := cslCustom{
		Section: clean(e.Section, MaxShort),
		Note:    clean(e.Note, MaxLong),
		Source:  clean(it.Source, MaxShort),
		PDFURLs: urls(it.PDFURLs),
	}
	if custom.Section != "" || custom.Note != "" || custom.Source != "" || len(custom.PDFURLs) > 0 {
		c.Custom = &custom
	}
	return c
}
