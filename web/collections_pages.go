package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/digest"
)

// Limits on what the collection forms take (the service has its own).
const (
	maxRefs      = 50
	maxNameRunes = 200
)

// defaultSection is the section an add goes to when none is named and the
// collection has none yet.
const defaultSection = "Resources"

// Views for the collection templates.
type (
	collectionsView struct {
		Curator bool
		Rows    []collectionRow
		Form    createForm
		Deleted string
	}
	collectionRow struct {
		Slug, Name, PageURL, EditURL string
		Private                      bool
		Entries, Sections            int
		Updated, UpdatedISO          string
		UpdatedBy                    string
		Description                  string
	}
	createForm struct {
		Name, Slug, Description string
		Public                  bool
		Error                   string
	}

	// collectionView is a collection as its pages show it.
	collectionView struct {
		Slug, Name          string
		Description         template.HTML
		DescriptionText     string
		Private             bool
		Visibility          string
		Entries             int
		Updated, UpdatedISO string
		UpdatedBy           string
		Sections            []sectionView
		PageURL, EditURL    string
		FeedURL             string
		Cite                []citeLink
	}
	sectionView struct {
		ID, Name, Anchor string
		Intro            template.HTML
		IntroText        string
		Entries          []entryView
		Position         int
		First, Last      bool
	}
	entryView struct {
		ItemID, Anchor    string
		Title, ItemURL    string
		Publisher         string
		Type, TypeClass   string
		Date, DateISO     string
		URL               string
		PDFs              []string
		Note              template.HTML
		NoteText          string
		Added, AddedISO   string
		AddedBy           string
		Gone              bool
		Position          int
		First, Last       bool
		SectionID         string
		SectionEntryCount int
	}

	editView struct {
		collectionView
		Version  int
		Action   string // the form's action URL
		Options  []sectionOption
		History  []historyRow
		Stale    string // the 409 message
		Error    string
		Saved    string
		Tried    []triedText
		Add      addForm
		Created  bool
		MaxEntry int
	}
	sectionOption struct{ ID, Name string }
	historyRow    struct {
		Version       int
		When, WhenISO string
		By, Action    string
		Detail        string
	}
	triedText struct{ Label, Text string }
	addForm   struct {
		Refs, Note, Section, NewSection string
	}
)

// savedMessages confirm a change after the redirect (?saved=action).
var savedMessages = map[string]string{
	"rename": "The collection was renamed.", "describe": "The description was saved.",
	"visibility": "The visibility was changed.", "add-section": "The section was added.",
	"rename-section": "The section was renamed.", "describe-section": "The section's introduction was saved.",
	"move-section": "The section was moved.", "remove-section": "The section was removed.",
	"add": "Added to the collection.", "move": "The entry was moved.", "note": "The note was saved.",
	"remove": "The entry was removed.",
}

func (s *Server) collectionsPage(w http.ResponseWriter, r *http.Request) {
	s.renderCollections(w, r, http.StatusOK, createForm{})
}

func (s *Server) renderCollections(w http.ResponseWriter, r *http.Request, status int, form createForm) {
	pr := principal(r)
	list, err := s.opts.Collections.List(r.Context(), pr)
	if err != nil {
		s.log.Error("web: collections", "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "Collections are not available", "Please try again in a moment.")
		return
	}
	v := collectionsView{Curator: pr.Can(evidence.RoleCurator), Form: form}
	if d := r.URL.Query().Get("deleted"); validSlug(d) {
		v.Deleted = d
	}
	for _, c := range list {
		if c.Visibility != evidence.VisibilityPublic && !v.Curator {
			continue // the service should not have listed it
		}
		row := collectionRow{Slug: c.Slug, Name: c.Name, PageURL: "/c/" + c.Slug, EditURL: "/collections/" + c.Slug + "/edit",
			Private: c.Visibility != evidence.VisibilityPublic, Entries: len(c.Entries()), Sections: len(c.Sections),
			UpdatedBy: c.UpdatedBy, Description: truncate(plainLine(c.Description), 160)}
		if !c.Updated.IsZero() {
			row.Updated, row.UpdatedISO = c.Updated.UTC().Format("2 Jan 2006"), c.Updated.UTC().Format("2006-01-02")
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, status, "collections", page{Title: "Collections", Section: "collections", Data: v,
		CSRF: s.csrfToken(w, r), NoIndex: v.Curator, Canonical: s.canonical("/collections")})
}

// plainLine is Markdown's first paragraph as one line of text, for a
// list (escaped by the template, never rendered).
func plainLine(md string) string {
	md, _, _ = strings.Cut(strings.TrimSpace(md), "\n\n")
	md = strings.Join(strings.Fields(md), " ")
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("*_`#>[]", r) {
			return -1
		}
		return r
	}, md)
}

// formText is a form field trimmed, refused when it holds control
// characters (other than line breaks and tabs where multiline).
func formText(r *http.Request, key string, multiline bool) (string, error) {
	v := strings.TrimSpace(r.PostFormValue(key))
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("the %s is not valid UTF-8 text", key)
	}
	bad := strings.IndexFunc(v, func(c rune) bool {
		return unicode.IsControl(c) && !(multiline && (c == '\n' || c == '\r' || c == '\t'))
	})
	if bad >= 0 {
		return "", fmt.Errorf("the %s contains a control character; type it again without it", key)
	}
	return strings.ReplaceAll(v, "\r\n", "\n"), nil
}

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) {
	var form createForm
	var err error
	for _, f := range []struct {
		key   string
		dst   *string
		multi bool
	}{{"name", &form.Name, false}, {"slug", &form.Slug, false}, {"description", &form.Description, true}} {
		if *f.dst, err = formText(r, f.key, f.multi); err != nil {
			form.Error = capitalise(err.Error()) + "."
			s.renderCollections(w, r, http.StatusUnprocessableEntity, form)
			return
		}
	}
	form.Public = r.PostFormValue("public") != ""
	if form.Name == "" {
		form.Error = "Give the collection a name, such as “Recovery resources”."
		s.renderCollections(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	vis := evidence.VisibilityPrivate
	if form.Public {
		vis = evidence.VisibilityPublic
	}
	c, err := s.opts.Collections.Create(r.Context(), principal(r), evidence.Collection{Name: form.Name, Slug: strings.ToLower(form.Slug), Description: form.Description, Visibility: vis})
	if err != nil {
		status, _ := collectionStatus(err)
		if status == 0 {
			s.log.Error("web: create collection", "err", err)
			s.fail(w, r, http.StatusServiceUnavailable, "The collection could not be made", "Please try again in a moment.")
			return
		}
		form.Error = errorText(err)
		s.renderCollections(w, r, status, form)
		return
	}
	s.log.Info("web: collection created", "slug", c.Slug, "by", principal(r).User.Email)
	http.Redirect(w, r, "/collections/"+c.Slug+"/edit?created=1", http.StatusSeeOther)
}

// publisherName is who published it: the source's name, or for an item
// added by URL the site it came from.
func (s *Server) publisherName(it *evidence.Item) string {
	if it.Source == evidence.SourceManual {
		if u, err := url.Parse(it.URL); err == nil && u.Host != "" {
			return strings.TrimPrefix(u.Hostname(), "www.")
		}
		return "Added by URL"
	}
	return s.opts.Catalog.SourceName(it.Source)
}

// view is c as its pages show it: Markdown rendered safely, links
// checked, dates formatted.
func (s *Server) collectionView(c evidence.Collection) collectionView {
	v := collectionView{Slug: c.Slug, Name: c.Name, DescriptionText: c.Description, Description: digest.RenderMarkdown(c.Description),
		Private: c.Visibility != evidence.VisibilityPublic, Visibility: c.Visibility, Entries: len(c.Entries()), UpdatedBy: c.UpdatedBy,
		PageURL: "/c/" + c.Slug, EditURL: "/collections/" + c.Slug + "/edit", FeedURL: "/c/" + c.Slug + ".atom"}
	if strings.TrimSpace(c.Description) == "" {
		v.Description = ""
	}
	if !c.Updated.IsZero() {
		v.Updated, v.UpdatedISO = c.Updated.UTC().Format("2 January 2006"), c.Updated.UTC().Format("2006-01-02")
	}
	for _, f := range collectionFormats {
		v.Cite = append(v.Cite, citeLink{Class: f.class, Label: f.label, URL: "/c/" + c.Slug + f.ext, Format: f.hint})
	}
	for i, sec := range c.Sections {
		sv := sectionView{ID: sec.ID, Name: sec.Name, Anchor: "section-" + anchorID(sec.ID), IntroText: sec.Intro,
			Position: i + 1, First: i == 0, Last: i == len(c.Sections)-1}
		if strings.TrimSpace(sec.Intro) != "" {
			sv.Intro = digest.RenderMarkdown(sec.Intro)
		}
		for j, e := range sec.Entries {
			sv.Entries = append(sv.Entries, s.entryView(e, sec.ID, j, len(sec.Entries)))
		}
		v.Sections = append(v.Sections, sv)
	}
	return v
}

func (s *Server) entryView(e evidence.Entry, section string, i, n int) entryView {
	ev := entryView{ItemID: e.ItemID, Anchor: "entry-" + anchorID(e.ItemID), ItemURL: "/items/" + url.PathEscape(e.ItemID),
		NoteText: e.Note, AddedBy: e.AddedBy, Position: i + 1, First: i == 0, Last: i == n-1, SectionID: section, SectionEntryCount: n}
	if strings.TrimSpace(e.Note) != "" {
		ev.Note = digest.RenderMarkdown(e.Note)
	}
	if !e.Added.IsZero() {
		ev.Added, ev.AddedISO = e.Added.UTC().Format("2 Jan 2006"), e.Added.UTC().Format(time3339)
	}
	it := e.Item
	if it == nil {
		ev.Gone, ev.Title = true, "An item no longer in the catalogue ("+truncate(e.ItemID, 40)+")"
		return ev
	}
	ev.Title = it.Title
	if strings.TrimSpace(ev.Title) == "" {
		ev.Title = displayURL(it.URL)
	}
	ev.Publisher, ev.Type, ev.URL = s.publisherName(it), typeLabel(it.Type), safeURL(it.URL)
	ev.TypeClass = strings.ReplaceAll(ev.Type, " ", "-")
	if it.Published != nil {
		ev.Date, ev.DateISO = it.Published.Format("2 January 2006"), it.Published.Format("2006-01-02")
	}
	for _, u := range firstN(it.PDFURLs, 3) {
		if su := safeURL(u); su != "" {
			ev.PDFs = append(ev.PDFs, su)
		}
	}
	return ev
}

const time3339 = "2006-01-02T15:04:05Z07:00"

// anchorID is id as the tail of an HTML id (letters, digits, - and _).
func anchorID(id string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return r
		}
		return '-'
	}, id)
}

// collectionFormats are the "cite all" downloads at /c/{slug}{ext}.
var collectionFormats = []struct {
	name, ext, class, label, hint string
}{
	{"ris", ".ris", "cite-ris", "RIS", "Zotero, EndNote, Mendeley, RefWorks"},
	{"bibtex", ".bib", "cite-bib", "BibTeX", "LaTeX, JabRef, Zotero"},
	{"csl-json", ".csl.json", "cite-csl", "CSL-JSON", "Zotero, Pandoc, citation.js"},
	{"csv", ".csv", "cite-csv", "CSV", "a spreadsheet"},
}

func (s *Server) collectionEditPage(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	c, ok := s.loadCollection(w, r, slug)
	if !ok {
		return
	}
	v := editView{Saved: savedMessages[r.URL.Query().Get("saved")], Created: r.URL.Query().Get("created") != ""}
	s.renderEdit(w, r, http.StatusOK, c, v)
}

// loadCollection gets the collection for a page, answering 404 or 503
// itself when it cannot.
func (s *Server) loadCollection(w http.ResponseWriter, r *http.Request, slug string) (evidence.Collection, bool) {
	if !validSlug(slug) {
		s.collectionNotFound(w, r)
		return evidence.Collection{}, false
	}
	c, err := s.opts.Collections.Get(r.Context(), slug, principal(r))
	if errors.Is(err, evidence.ErrNotFound) {
		s.collectionNotFound(w, r)
		return c, false
	}
	if err != nil {
		s.log.Error("web: collection", "slug", slug, "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "The collection is not available", "Please try again in a moment.")
		return c, false
	}
	return c, true
}

func (s *Server) collectionNotFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusNotFound, "message", page{Title: "No such collection", NoIndex: true, Data: message{Kind: "error",
		Paragraphs: []string{"There is no collection at this address. It may have been renamed or deleted, or the link may be mistyped."},
		LinkURL:    "/collections", LinkText: "See the collections"}})
}

// renderEdit shows the edit page for c, with v's messages.
func (s *Server) renderEdit(w http.ResponseWriter, r *http.Request, status int, c evidence.Collection, v editView) {
	v.collectionView = s.collectionView(c)
	v.Version = c.Version
	v.Action = "/collections/" + c.Slug + "/edit"
	for _, sec := range c.Sections {
		v.Options = append(v.Options, sectionOption{ID: sec.ID, Name: sec.Name})
		v.MaxEntry = max(v.MaxEntry, len(sec.Entries))
	}
	hist, err := s.opts.Collections.History(r.Context(), c.Slug, principal(r))
	if err != nil {
		s.log.Error("web: collection history", "slug", c.Slug, "err", err)
	}
	slices.SortStableFunc(hist, func(a, b evidence.CollectionChange) int { return b.Version - a.Version })
	for _, h := range hist {
		v.History = append(v.History, historyRow{Version: h.Version, When: h.At.UTC().Format("2 Jan 2006, 15:04"), WhenISO: h.At.UTC().Format(time3339),
			By: h.By, Action: h.Action, Detail: h.Detail})
	}
	s.render(w, r, status, "collection-edit", page{Title: "Edit “" + truncate(c.Name, 60) + "”", Section: "collections", NoIndex: true,
		CSRF: s.csrfToken(w, r), Data: v})
}

// staleMessage is what an editor reads after a change made against an
// older version.
func staleMessage(cur evidence.Collection) string {
	by := cur.UpdatedBy
	if by == "" {
		by = "another curator"
	}
	return fmt.Sprintf("Someone else changed this collection (now version %d, by %s): your change was not saved; here it is as it is now.", cur.Version, by)
}

// editRequest is a posted edit form read into the service's terms.
type editRequest struct {
	version int
	edit    evidence.CollectionEdit
	// form is the action as the form named it (describe-section is the
	// service's describe of a section).
	form       string
	newSection string
	confirm    bool
}

func parseEditForm(r *http.Request) (editRequest, error) {
	var er editRequest
	v, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("version")))
	if err != nil || v < 0 {
		return er, errors.New("the form lacks the collection's version; reload the page and try again")
	}
	er.version = v
	er.form = r.PostFormValue("action")
	e := evidence.CollectionEdit{Action: er.form, Section: r.PostFormValue("section"), Item: r.PostFormValue("item"),
		ToSection: r.PostFormValue("to_section")}
	text := func(key string, multi bool) string {
		if err != nil {
			return ""
		}
		var t string
		t, err = formText(r, key, multi)
		return t
	}
	switch er.form {
	case "rename", "add-section", "rename-section":
		e.Name = text("name", false)
		if err == nil && e.Name == "" {
			err = errors.New("the name cannot be empty")
		}
		if utf8.RuneCountInString(e.Name) > maxNameRunes {
			err = fmt.Errorf("the name is %d characters long; at most %d are allowed", utf8.RuneCountInString(e.Name), maxNameRunes)
		}
	case "describe":
		e.Description = text("description", true)
	case "describe-section":
		e.Action, e.Description = "describe", text("description", true)
		if e.Section == "" {
			err = errors.New("the form does not say which section")
		}
	case "visibility":
		e.Visibility = r.PostFormValue("visibility")
		if e.Visibility != evidence.VisibilityPublic && e.Visibility != evidence.VisibilityPrivate {
			err = errors.New("choose public or private")
		}
	case "move-section", "move":
		if e.ToSection == e.Section {
			e.ToSection = ""
		}
		if d := r.PostFormValue("delta"); d != "" {
			e.Delta, err = strconv.Atoi(d)
			if err != nil || (e.Delta != 1 && e.Delta != -1) {
				err = errors.New("an entry moves one place up or down at a time")
			}
		} else if p := strings.TrimSpace(r.PostFormValue("position")); p != "" {
			e.Position, err = strconv.Atoi(p)
			if err != nil || e.Position < 1 {
				err = fmt.Errorf("%q is not a position: give a number from 1", truncate(p, 20))
			}
		} else if e.ToSection == "" {
			err = errors.New("say where to move it: up, down, a position or another section")
		}
	case "note":
		e.Note = text("note", true)
	case "add":
		refs := strings.Fields(text("refs", true))
		e.Note = text("note", true)
		er.newSection = text("new_section", false)
		if err == nil && len(refs) == 0 {
			err = errors.New("give an item's ID or a web address to add")
		}
		if len(refs) > maxRefs {
			err = fmt.Errorf("%d items at once is too many; add at most %d at a time", len(refs), maxRefs)
		}
		e.Refs = refs
	case "remove-section", "remove":
	case "delete":
		er.confirm = r.PostFormValue("confirm") != ""
	default:
		err = fmt.Errorf("%q is not something this form can do", truncate(er.form, 30))
	}
	if err == nil && (er.form == "move" || er.form == "note" || er.form == "remove") && e.Item == "" {
		err = errors.New("the form does not say which entry")
	}
	er.edit = e
	return er, err
}

func (s *Server) editCollection(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !validSlug(slug) {
		s.collectionNotFound(w, r)
		return
	}
	pr := principal(r)
	er, perr := parseEditForm(r)
	// fail re-renders the page as it is now, with a message and what the
	// editor typed.
	fail := func(status int, msg string, cur *evidence.Collection) {
		c := evidence.Collection{}
		if cur != nil {
			c = *cur
		} else {
			var ok bool
			if c, ok = s.loadCollection(w, r, slug); !ok {
				return
			}
		}
		v := editView{Tried: tried(er)}
		if status == http.StatusConflict && cur != nil {
			v.Stale = msg
		} else {
			v.Error = msg
		}
		if er.form == "add" {
			v.Add = addForm{Refs: strings.Join(er.edit.Refs, "\n"), Note: er.edit.Note, Section: er.edit.Section, NewSection: er.newSection}
			v.Tried = nil
		}
		s.renderEdit(w, r, status, c, v)
	}
	if perr != nil {
		fail(http.StatusUnprocessableEntity, capitalise(perr.Error())+".", nil)
		return
	}
	if er.form == "delete" {
		if !er.confirm {
			fail(http.StatusUnprocessableEntity, "Tick “Yes, delete this collection” to delete it.", nil)
			return
		}
		err := s.opts.Collections.Delete(r.Context(), slug, er.version, pr)
		var stale *evidence.StaleError
		switch {
		case errors.As(err, &stale):
			fail(http.StatusConflict, staleMessage(stale.Current), &stale.Current)
		case err != nil:
			s.editFailed(w, r, err, er, fail)
		default:
			s.log.Info("web: collection deleted", "slug", slug, "by", pr.User.Email)
			http.Redirect(w, r, "/collections?deleted="+url.QueryEscape(slug), http.StatusSeeOther)
		}
		return
	}
	var out evidence.Collection
	var err error
	if er.form == "add" {
		var c evidence.Collection
		c, err = s.opts.Collections.Get(r.Context(), slug, pr)
		if err == nil {
			c.Version = er.version // the version the editor saw
			out, err = s.addEntries(r.Context(), pr, c, er.edit.Section, er.newSection, er.edit.Refs, er.edit.Note)
		}
	} else {
		out, err = s.opts.Collections.Edit(r.Context(), slug, er.version, pr, er.edit)
	}
	var stale *evidence.StaleError
	if errors.As(err, &stale) {
		fail(http.StatusConflict, staleMessage(stale.Current), &stale.Current)
		return
	}
	if err != nil {
		s.editFailed(w, r, err, er, fail)
		return
	}
	http.Redirect(w, r, "/collections/"+out.Slug+"/edit?saved="+url.QueryEscape(er.form)+"#"+editAnchor(out, er), http.StatusSeeOther)
}

// editFailed answers an edit the service refused: its message, as it
// gives it, on the page. An add's unknown cause is most likely the
// fetch of a new URL (which names it), so it is shown too, as 502.
func (s *Server) editFailed(w http.ResponseWriter, r *http.Request, err error, er editRequest, fail func(int, string, *evidence.Collection)) {
	status, _ := collectionStatus(err)
	if status == http.StatusNotFound && er.form != "add" {
		s.collectionNotFound(w, r)
		return
	}
	if status == 0 {
		s.log.Error("web: edit collection", "slug", r.PathValue("slug"), "action", er.form, "err", err)
		if er.form != "add" {
			s.fail(w, r, http.StatusServiceUnavailable, "The change could not be saved", "Please try again in a moment.")
			return
		}
		status = http.StatusBadGateway
	}
	fail(status, errorText(err), nil)
}

// tried is the text an editor typed into a change that was not saved, to
// copy back.
func tried(er editRequest) []triedText {
	var out []triedText
	add := func(label, t string) {
		if strings.TrimSpace(t) != "" {
			out = append(out, triedText{label, t})
		}
	}
	switch er.form {
	case "rename", "rename-section", "add-section":
		add("The name you gave", er.edit.Name)
	case "describe", "describe-section":
		add("The text you wrote", er.edit.Description)
	case "note":
		add("The note you wrote", er.edit.Note)
	}
	return out
}

// editAnchor is where on the edit page a change shows.
func editAnchor(c evidence.Collection, er editRequest) string {
	e := er.edit
	switch er.form {
	case "move", "note":
		return "entry-" + anchorID(e.Item)
	case "remove":
		return "section-" + anchorID(e.Section)
	case "rename-section", "describe-section", "move-section":
		return "section-" + anchorID(e.Section)
	case "add-section":
		if n := len(c.Sections); n > 0 {
			return "section-" + anchorID(c.Sections[n-1].ID)
		}
	case "add":
		if id := newestEntry(c); id != "" {
			return "entry-" + anchorID(id)
		}
	case "remove-section":
		return "sections"
	}
	return "details"
}

// newestEntry is the ID of the entry added last.
func newestEntry(c evidence.Collection) string {
	var id string
	var at int64 = -1 << 62
	for _, e := range c.Entries() {
		if t := e.Added.UnixNano(); t >= at {
			at, id = t, e.ItemID
		}
	}
	return id
}

// addEntries adds refs to c (at c.Version) in the section with ID
// section, or else the one named newSection (made if there is none), or
// else the first section (or a new "Resources" when there is none).
func (s *Server) addEntries(ctx context.Context, pr evidence.Principal, c evidence.Collection, section, newSection string, refs []string, note string) (evidence.Collection, error) {
	if section != "" && newSection == "" && !slices.ContainsFunc(c.Sections, func(x evidence.Section) bool { return x.ID == section }) {
		return c, fmt.Errorf("the section chosen is no longer in the collection: %w", evidence.ErrInvalid)
	}
	if newSection == "" && section == "" {
		if len(c.Sections) > 0 {
			section = c.Sections[0].ID
		} else {
			newSection = defaultSection
		}
	}
	if newSection != "" {
		section = ""
		for _, x := range c.Sections {
			if strings.EqualFold(strings.TrimSpace(x.Name), newSection) {
				section = x.ID
			}
		}
		if section == "" {
			var err error
			c, err = s.opts.Collections.Edit(ctx, c.Slug, c.Version, pr, evidence.CollectionEdit{Action: "add-section", Name: newSection})
			if err != nil {
				return c, err
			}
			for _, x := range c.Sections {
				if x.Name == newSection {
					section = x.ID
				}
			}
			if section == "" && len(c.Sections) > 0 {
				section = c.Sections[len(c.Sections)-1].ID
			}
		}
	}
	return s.opts.Collections.Edit(ctx, c.Slug, c.Version, pr, evidence.CollectionEdit{Action: "add", Section: section, Refs: refs, Note: note})
}

// addToCollection is "add to collection" from an item page or from search
// results: one or more items, to a section by name, against the version
// current when the form arrives (retried once if another edit slips in
// between), then back where the curator came from.
func (s *Server) addToCollection(w http.ResponseWriter, r *http.Request) {
	pr := principal(r)
	back := localPath(r.PostFormValue("next"))
	slug := r.PostFormValue("collection")
	items := clean(r.PostForm["item"])
	section, err1 := formText(r, "section", false)
	note, err2 := formText(r, "note", true)
	failAdd := func(status int, msg string) {
		s.render(w, r, status, "message", page{Title: "Nothing was added", NoIndex: true, Data: message{Kind: "error",
			Paragraphs: []string{msg}, LinkURL: back, LinkText: "Go back"}})
	}
	switch {
	case err1 != nil || err2 != nil:
		failAdd(http.StatusUnprocessableEntity, capitalise(errors.Join(err1, err2).Error())+".")
		return
	case !validSlug(slug):
		failAdd(http.StatusUnprocessableEntity, "Choose the collection to add to.")
		return
	case len(items) == 0:
		failAdd(http.StatusUnprocessableEntity, "Select at least one item to add.")
		return
	case len(items) > maxRefs:
		failAdd(http.StatusUnprocessableEntity, fmt.Sprintf("%d items at once is too many; add at most %d at a time.", len(items), maxRefs))
		return
	case utf8.RuneCountInString(section) > maxNameRunes:
		failAdd(http.StatusUnprocessableEntity, fmt.Sprintf("The section name is too long; at most %d characters are allowed.", maxNameRunes))
		return
	}
	c, err := s.opts.Collections.Get(r.Context(), slug, pr)
	for try := 0; err == nil; try++ {
		_, err = s.addEntries(r.Context(), pr, c, "", section, items, note)
		var stale *evidence.StaleError
		if try == 0 && errors.As(err, &stale) {
			c, err = stale.Current, nil
			continue
		}
		break
	}
	if err != nil {
		status, _ := collectionStatus(err)
		if status == http.StatusNotFound && c.Slug == "" {
			failAdd(status, "There is no collection at /c/"+slug+": it may have been deleted. Reload the page to see the collections there are now.")
			return
		}
		if status == 0 {
			s.log.Error("web: add to collection", "slug", slug, "err", err)
			failAdd(http.StatusServiceUnavailable, "The collection could not be changed just now. Please try again in a moment.")
			return
		}
		failAdd(status, errorText(err))
		return
	}
	dest := withQuery(back, "added", slug, "n", strconv.Itoa(len(items)))
	if strings.HasPrefix(back, "/search") || back == "/" {
		dest += "#add-selected"
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}
