package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/service"
	"github.com/evidencetracker/evidence/store"
	"github.com/evidencetracker/evidence/web"
)

var shots = flag.Bool("shots", false, "take screenshots of the collection pages with headless Chromium (into -shots-dir)")
var shotsDir = flag.String("shots-dir", "/work/shots/collweb", "where -shots writes its PNGs")

const collPassword = "a long enough passphrase"

var sourceNames = map[string]string{
	"mental-elf": "The Mental Elf", "centre-for-mental-health": "Centre for Mental Health",
	"kings-fund": "The King's Fund", "national-voices": "National Voices",
}

// Pages not in the store that an add by URL "fetches" (the fake's
// stand-in for the service's fetcher).
var manualPages = map[string]evidence.Item{
	"https://www.england.nhs.uk/personalisedcare/supported-self-management/patient-activation/": {
		ID: "m-nhse-pam", Source: evidence.SourceManual, Type: evidence.TypePublication,
		Title: "Patient activation and PAM", URL: "https://www.england.nhs.uk/personalisedcare/supported-self-management/patient-activation/",
		Authors: []string{"NHS England"}, Summary: "Patient activation describes the knowledge, skills and confidence a person has in managing their own health and care."},
	"https://www.recoverycollege.example.nhs.uk/recovery/personal-stories": {
		ID: "m-stories", Source: evidence.SourceManual, Type: evidence.TypePublication,
		Title: "Personal recovery stories", URL: "https://www.recoverycollege.example.nhs.uk/recovery/personal-stories",
		Authors: []string{"Recovery College"}, Summary: "Stories of recovery in people's own words."},
}

// ssrfRefusal is what the fake's fetcher says of a loopback address (the
// real service's wording may differ: the page shows it as given).
const ssrfRefusal = "refused: 127.0.0.1 is a loopback address (set web.allow_private_fetch to fetch from private networks)"

type collFixture struct {
	*catalogFixture
	coll   *fakeCollections
	acc    *service.Accounts
	tokens map[string]string // email → API token
}

var (
	readerP   = evidence.Principal{User: evidence.User{ID: "u-r", Email: "reader@example.org", Role: evidence.RoleReader}, Via: "token"}
	curatorP  = evidence.Principal{User: evidence.User{ID: "u-c", Email: "curator@example.org", Role: evidence.RoleCurator}, Via: "token"}
	curator2P = evidence.Principal{User: evidence.User{ID: "u-c2", Email: "kim@example.org", Role: evidence.RoleCurator}, Via: "token"}
)

// newCollFixture is the site over the real catalogue and accounts, with
// the fake collections; clock steps a minute at each reading, so every
// change has its own time.
func newCollFixture(t *testing.T, baseURL string) *collFixture {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	tick := fixedNow.Add(-48 * time.Hour)
	step := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		tick = tick.Add(time.Minute)
		return tick
	}
	ust, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "users.db"), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ust.Close() })
	acc := service.NewAccounts(service.AccountsOptions{Store: ust, Now: func() time.Time { return fixedNow }, SessionTTL: 24 * time.Hour,
		Hash: service.HashParams{Memory: 64, Time: 1, Threads: 1}})
	cf := &collFixture{acc: acc, tokens: map[string]string{}}
	for _, p := range []evidence.Principal{readerP, curatorP, curator2P} {
		if _, err := acc.AddUser(ctx, p.User.Email, p.User.Role, collPassword); err != nil {
			t.Fatal(err)
		}
		tok, err := acc.NewToken(ctx, p.User.Email, "test")
		if err != nil {
			t.Fatal(err)
		}
		cf.tokens[p.User.Email] = tok
	}
	cf.coll = newFakeCollections(step)
	cf.catalogFixture = newCatalogFixture(t, web.Options{Accounts: acc, Collections: cf.coll, BaseURL: baseURL})
	cf.coll.source = func(id string) string { return sourceNames[id] }
	st := cf.store
	cf.coll.resolve = func(ctx context.Context, ref string) (evidence.Item, error) {
		if !strings.Contains(ref, "://") {
			it, err := st.Item(ctx, ref)
			if errors.Is(err, evidence.ErrNotFound) {
				return it, fmt.Errorf("no item has the ID %q: %w", ref, evidence.ErrInvalid)
			}
			return it, err
		}
		if it, err := st.ItemByURL(ctx, ref); err == nil {
			return it, nil
		}
		if it, ok := manualPages[ref]; ok {
			return it, nil
		}
		if u, err := url.Parse(ref); err == nil && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost") {
			return evidence.Item{}, fmt.Errorf("add %s: fetch %s", ref, ssrfRefusal)
		}
		return evidence.Item{}, fmt.Errorf("add %s: fetch: the site answered 404 Not Found", ref)
	}
	return cf
}

// signIn returns a browser signed in as email.
func (cf *collFixture) signIn(t *testing.T, email string) *http.Client {
	t.Helper()
	c := browser(t)
	code, body, _ := get(t, c, cf.srv.URL+"/login")
	if code != 200 {
		t.Fatalf("GET /login = %d", code)
	}
	res := send(t, c, "POST", cf.srv.URL+"/login", url.Values{"csrf": {csrfFrom(t, body)}, "email": {email}, "password": {collPassword}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s = %d\n%s", email, res.status, res.body)
	}
	return c
}

// csrf is the browser's form token (the et_csrf cookie).
func (cf *collFixture) csrf(c *http.Client) string {
	u, _ := url.Parse(cf.srv.URL)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == "et_csrf" {
			return k.Value
		}
	}
	return ""
}

type response struct {
	status int
	body   string
	header http.Header
}

// send makes a request: a url.Values body is a form, a string JSON.
func send(t *testing.T, c *http.Client, method, u string, body any, hdr ...string) response {
	t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case url.Values:
		r, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		r, ctype = strings.NewReader(b), "application/json"
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b), resp.Header}
}

func mustEdit(t *testing.T, f *fakeCollections, slug string, by evidence.Principal, e evidence.CollectionEdit) evidence.Collection {
	t.Helper()
	c, err := f.Edit(context.Background(), slug, f.version(slug), by, e)
	if err != nil {
		t.Fatalf("seed %s %+v: %v", slug, e, err)
	}
	return c
}

func sectionID(c evidence.Collection, name string) string {
	for _, s := range c.Sections {
		if s.Name == name {
			return s.ID
		}
	}
	return ""
}

const (
	kfReport   = "https://www.kingsfund.org.uk/insight-and-analysis/reports/supporting-people-manage-their-health"
	nvSelfMgmt = "https://www.nationalvoices.org.uk/publications/what-is-good-supported-self-management/"
	kfLongRead = "https://www.kingsfund.org.uk/insight-and-analysis/long-reads/self-management-evidence"
	elfPeer    = "https://www.nationalelfservice.net/treatment/peer-support/psychosis-review/"
	nvHostile  = "https://www.nationalvoices.org.uk/blog/personal-stories-patient-activation/"
	cmhBrief   = "https://www.centreformentalhealth.org.uk/publications/recovery-public-mental-health-and-wellbeing/"
	elfImroc   = "https://www.nationalelfservice.net/mental-health/recovery/imroc-briefing/"
	nhsePAM    = "https://www.england.nhs.uk/personalisedcare/supported-self-management/patient-activation/"
	stories    = "https://www.recoverycollege.example.nhs.uk/recovery/personal-stories"
)

// seedRecovery builds the recovery resource page of the seed
// (/work/shared/seeds/recovery-resource-page.txt) as a public collection.
func (cf *collFixture) seedRecovery(t *testing.T) evidence.Collection {
	t.Helper()
	f := cf.coll
	_, err := f.Create(context.Background(), curatorP, evidence.Collection{Name: "Recovery resources", Slug: "recovery-resources",
		Visibility: evidence.VisibilityPublic, Description: "Recovery is an idea anyone can work on: the key concepts, frameworks such as the " +
			"*five ways to wellbeing*, and tools such as wellbeing plans. This page gathers the tools, models and evidence behind a " +
			"recovery-focused approach in services, for staff and for people who want to learn more.\n\n" +
			"See also the [ImROC programme](https://imroc.org/) (Implementing Recovery through Organisational Change)."})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ name, intro string }{
		{"Patient activation", "The knowledge, skills and confidence a person has in managing their own health and care, and how to measure it."},
		{"Self-management", "Self-management helps people with mental health problems take more control over their lives: the methods, skills and strategies to manage day to day, with as positive an impact as medical treatment."},
		{"Personal stories", "Recovery means different things to each person. These stories, in people's own words, carry messages of hope, self-determination, resilience, inclusion and choice."},
	} {
		mustEdit(t, f, "recovery-resources", curatorP, evidence.CollectionEdit{Action: "add-section", Name: s.name})
		c := f.current("recovery-resources")
		mustEdit(t, f, "recovery-resources", curatorP, evidence.CollectionEdit{Action: "describe", Section: sectionID(c, s.name), Description: s.intro})
	}
	c := f.current("recovery-resources")
	for _, a := range []struct{ section, ref, note string }{
		{"Patient activation", cf.ids[kfReport], "Introduces **patient activation** and the Patient Activation Measure: the best short account of why it matters."},
		{"Patient activation", nhsePAM, "NHS England's pages on the PAM and how it is used in personalised care."},
		{"Self-management", cf.ids[nvSelfMgmt], "National Voices, a coalition of charities, on what good supported self-management looks like to the people who use it."},
		{"Self-management", cf.ids[kfLongRead], "What the evidence says, summarised from systematic reviews."},
		{"Personal stories", stories, "Written in each person's own narrative."},
		{"Personal stories", cf.ids[elfPeer], "Peer support: what people with lived experience bring, appraised."},
	} {
		mustEdit(t, f, "recovery-resources", curator2P, evidence.CollectionEdit{Action: "add", Section: sectionID(c, a.section), Refs: []string{a.ref}, Note: a.note})
	}
	return f.current("recovery-resources")
}

// seedHostile is a collection whose every text tries to run script.
func (cf *collFixture) seedHostile(t *testing.T, visibility string) {
	t.Helper()
	f := cf.coll
	_, err := f.Create(context.Background(), curatorP, evidence.Collection{Name: `<script>alert("name")</script> Hostile`, Slug: "hostile",
		Visibility: visibility, Description: "Hi <script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(2)> " +
			`<a href="javascript:alert(3)" onclick="alert(4)">a</a> [data](data:text/html;base64,PHNjcmlwdD4=)`})
	if err != nil {
		t.Fatal(err)
	}
	mustEdit(t, f, "hostile", curatorP, evidence.CollectionEdit{Action: "add-section", Name: `<img src=x onerror=alert("section")>`})
	c := f.current("hostile")
	sid := c.Sections[0].ID
	mustEdit(t, f, "hostile", curatorP, evidence.CollectionEdit{Action: "describe", Section: sid, Description: `<svg onload=alert(5)> [x](javascript:alert(6))`})
	mustEdit(t, f, "hostile", curatorP, evidence.CollectionEdit{Action: "add", Section: sid, Refs: []string{cf.ids[nvHostile]},
		Note: `<script>alert("note")</script> [open](javascript:alert(7)) <b onmouseover=alert(8)>b</b>`})
}

func TestCollectionsRoles(t *testing.T) {
	cf := newCollFixture(t, "")
	cf.seedRecovery(t)
	anon, reader, curator := browser(t), cf.signIn(t, "reader@example.org"), cf.signIn(t, "curator@example.org")
	// An anonymous browser needs a CSRF cookie to get past the token
	// check to the role check: it gets one from any form page.
	get(t, anon, cf.srv.URL+"/login")
	version := func() string { return fmt.Sprint(cf.coll.version("recovery-resources")) }
	for _, tc := range []struct {
		name     string
		c        *http.Client
		method   string
		path     string
		form     url.Values
		status   int
		location string
	}{
		{"list, anonymous", anon, "GET", "/collections", nil, 200, ""},
		{"list, reader", reader, "GET", "/collections", nil, 200, ""},
		{"edit page, anonymous", anon, "GET", "/collections/recovery-resources/edit", nil, 303, "/login?next=%2Fcollections%2Frecovery-resources%2Fedit"},
		{"edit page, reader", reader, "GET", "/collections/recovery-resources/edit", nil, 403, ""},
		{"edit page, curator", curator, "GET", "/collections/recovery-resources/edit", nil, 200, ""},
		{"edit page, unknown", curator, "GET", "/collections/nope/edit", nil, 404, ""},
		{"create, anonymous", anon, "POST", "/collections", url.Values{"name": {"X"}}, 303, "/login?next=%2Fcollections"},
		{"create, reader", reader, "POST", "/collections", url.Values{"name": {"X"}}, 403, ""},
		{"create, curator", curator, "POST", "/collections", url.Values{"name": {"Dementia care"}}, 303, "/collections/dementia-care/edit?created=1"},
		{"create, slug taken", curator, "POST", "/collections", url.Values{"name": {"Again"}, "slug": {"recovery-resources"}}, 409, ""},
		{"create, bad slug", curator, "POST", "/collections", url.Values{"name": {"Again"}, "slug": {"Not a slug!"}}, 422, ""},
		{"create, no name", curator, "POST", "/collections", url.Values{"name": {"  "}}, 422, ""},
		{"edit, anonymous", anon, "POST", "/collections/recovery-resources/edit", url.Values{"action": {"rename"}, "name": {"X"}}, 303, ""},
		{"edit, reader", reader, "POST", "/collections/recovery-resources/edit", url.Values{"action": {"rename"}, "name": {"X"}}, 403, ""},
		{"add, anonymous", anon, "POST", "/collections/add", url.Values{"collection": {"recovery-resources"}, "item": {cf.ids[cmhBrief]}}, 303, ""},
		{"add, reader", reader, "POST", "/collections/add", url.Values{"collection": {"recovery-resources"}, "item": {cf.ids[cmhBrief]}}, 403, ""},
		{"public page, anonymous", anon, "GET", "/c/recovery-resources", nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.form != nil {
				tc.form.Set("csrf", cf.csrf(tc.c))
				tc.form.Set("version", version())
				body = tc.form
			}
			res := send(t, tc.c, tc.method, cf.srv.URL+tc.path, body)
			if res.status != tc.status {
				t.Fatalf("= %d, want %d\n%s", res.status, tc.status, res.body)
			}
			if tc.location != "" && res.header.Get("Location") != tc.location {
				t.Errorf("Location = %q, want %q", res.header.Get("Location"), tc.location)
			}
			if tc.status == 403 && !strings.Contains(res.body, "curator role") {
				t.Errorf("403 page should say the role needed:\n%s", res.body)
			}
		})
	}
	if got := cf.coll.current("recovery-resources"); got.Name != "Recovery resources" || len(got.Entries()) != 6 {
		t.Errorf("a refused edit changed the collection: %q, %d entries", got.Name, len(got.Entries()))
	}
	// The list: readers see public ones only, curators all, with the form.
	if _, err := cf.coll.Create(context.Background(), curatorP, evidence.Collection{Name: "Secret drafts", Slug: "secret"}); err != nil {
		t.Fatal(err)
	}
	_, body, _ := get(t, reader, cf.srv.URL+"/collections")
	if strings.Contains(body, "Secret drafts") || !strings.Contains(body, `href="/c/recovery-resources"`) || strings.Contains(body, `action="/collections"`) {
		t.Errorf("a reader's list shows a private collection or the create form:\n%s", body)
	}
	_, body, _ = get(t, curator, cf.srv.URL+"/collections")
	for _, w := range []string{"Secret drafts", "Private", "Public", `action="/collections"`, `href="/collections/recovery-resources/edit"`, ">6<"} {
		if !strings.Contains(body, w) {
			t.Errorf("a curator's list lacks %q", w)
		}
	}
}

func TestCollectionFormsNeedCSRF(t *testing.T) {
	cf := newCollFixture(t, "")
	cf.seedRecovery(t)
	curator := cf.signIn(t, "curator@example.org")
	v := fmt.Sprint(cf.coll.version("recovery-resources"))
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		header []string
	}{
		{"edit without a token", "/collections/recovery-resources/edit", url.Values{"version": {v}, "action": {"rename"}, "name": {"Hijacked"}}, nil},
		{"edit with a forged token", "/collections/recovery-resources/edit", url.Values{"csrf": {strings.Repeat("A", 43)}, "version": {v}, "action": {"rename"}, "name": {"Hijacked"}}, nil},
		{"edit from another site", "/collections/recovery-resources/edit", url.Values{"csrf": {cf.csrf(curator)}, "version": {v}, "action": {"rename"}, "name": {"Hijacked"}}, []string{"Origin", "https://evil.example"}},
		{"delete without a token", "/collections/recovery-resources/edit", url.Values{"version": {v}, "action": {"delete"}, "confirm": {"1"}}, nil},
		{"create without a token", "/collections", url.Values{"name": {"Hijacked"}}, nil},
		{"add without a token", "/collections/add", url.Values{"collection": {"recovery-resources"}, "item": {cf.ids[cmhBrief]}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := send(t, curator, "POST", cf.srv.URL+tc.path, tc.form, tc.header...)
			if res.status != http.StatusForbidden || !strings.Contains(res.body, "The form has expired") {
				t.Errorf("= %d\n%s", res.status, res.body)
			}
		})
	}
	if got := cf.coll.current("recovery-resources"); got.Name != "Recovery resources" || len(got.Entries()) != 6 || fmt.Sprint(got.Version) != v {
		t.Errorf("a forged form changed the collection: %+v", got)
	}
	if _, err := cf.coll.Get(context.Background(), "hijacked", curatorP); !errors.Is(err, evidence.ErrNotFound) {
		t.Errorf("a forged create made a collection")
	}
}

var editFormRe = regexp.MustCompile(`(?s)<form method="post" action="/collections/[a-z0-9-]+/edit"[^>]*>(.*?)</form>`)

// editForm is the first edit form on the page whose hidden fields
// include all of want (name=value), as values to post.
func editForm(t *testing.T, page string, want ...string) url.Values {
	t.Helper()
	field := regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
	for _, m := range editFormRe.FindAllStringSubmatch(page, -1) {
		v := url.Values{}
		for _, f := range field.FindAllStringSubmatch(m[1], -1) {
			v.Set(f[1], strings.ReplaceAll(f[2], "&#43;", "+"))
		}
		ok := true
		for _, w := range want {
			k, val, _ := strings.Cut(w, "=")
			if v.Get(k) != val {
				ok = false
			}
		}
		if ok {
			return v
		}
	}
	t.Fatalf("no edit form with %v on the page", want)
	return nil
}

func TestCollectionEditPage(t *testing.T) {
	cf := newCollFixture(t, "")
	c := cf.seedRecovery(t)
	curator := cf.signIn(t, "curator@example.org")
	edit := cf.srv.URL + "/collections/recovery-resources/edit"
	pa, sm, ps := sectionID(c, "Patient activation"), sectionID(c, "Self-management"), sectionID(c, "Personal stories")
	kf, nv, lr := cf.ids[kfReport], cf.ids[nvSelfMgmt], cf.ids[kfLongRead]

	code, page, _ := get(t, curator, edit)
	if code != 200 {
		t.Fatalf("edit page = %d", code)
	}
	for _, w := range []string{
		`name="version" value="` + fmt.Sprint(c.Version) + `"`, `<h2 id="history-h">History</h2>`, "kim@example.org",
		`href="/items/` + kf + `"`, `name="to_section"`, `name="position"`, `name="refs"`, `value="add-section"`,
		`id="entry-` + kf + `"`, `id="section-` + pa + `"`, "Patient activation and PAM", "added “Personal recovery stories” to Personal stories",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("edit page lacks %q", w)
		}
	}
	if m := unsafeMarkup(page); m != "" {
		t.Errorf("edit page: %s", m)
	}
	// Every form on the page carries the CSRF token and the version.
	forms := editFormRe.FindAllStringSubmatch(page, -1)
	if len(forms) < 20 {
		t.Fatalf("only %d edit forms", len(forms))
	}
	for _, f := range forms {
		if !strings.Contains(f[1], `name="csrf" value="`+cf.csrf(curator)+`"`) || !strings.Contains(f[1], `name="version" value="`) {
			t.Errorf("a form lacks the CSRF token or the version:\n%s", f[1])
		}
	}

	type check func(c evidence.Collection) string
	entriesOf := func(c evidence.Collection, section string) []string {
		var ids []string
		for _, s := range c.Sections {
			if s.ID == section {
				for _, e := range s.Entries {
					ids = append(ids, e.ItemID)
				}
			}
		}
		return ids
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		anchor string
		check  check
	}{
		{"rename", url.Values{"action": {"rename"}, "name": {"Recovery: resources for staff"}}, "#details",
			func(c evidence.Collection) string { return c.Name }},
		{"describe", url.Values{"action": {"describe"}, "description": {"New *words*."}}, "#details",
			func(c evidence.Collection) string { return c.Description }},
		{"visibility", url.Values{"action": {"visibility"}, "visibility": {"private"}}, "#details",
			func(c evidence.Collection) string { return c.Visibility }},
		{"section intro", url.Values{"action": {"describe-section"}, "section": {sm}, "description": {"Intro"}}, "#section-" + sm,
			func(c evidence.Collection) string { return c.Sections[1].Intro }},
		{"rename section", url.Values{"action": {"rename-section"}, "section": {sm}, "name": {"Supported self-management"}}, "#section-" + sm,
			func(c evidence.Collection) string { return c.Sections[1].Name }},
		{"move section up", url.Values{"action": {"move-section"}, "section": {ps}, "delta": {"-1"}}, "#section-" + ps,
			func(c evidence.Collection) string { return c.Sections[1].Name }},
		{"entry down", url.Values{"action": {"move"}, "section": {pa}, "item": {kf}, "delta": {"1"}}, "#entry-" + kf,
			func(c evidence.Collection) string { return strings.Join(entriesOf(c, pa), ",") }},
		{"entry to position 1", url.Values{"action": {"move"}, "section": {pa}, "item": {kf}, "position": {"1"}}, "#entry-" + kf,
			func(c evidence.Collection) string { return strings.Join(entriesOf(c, pa), ",") }},
		{"entry to a section", url.Values{"action": {"move"}, "section": {sm}, "item": {lr}, "to_section": {pa}}, "#entry-" + lr,
			func(c evidence.Collection) string { return strings.Join(entriesOf(c, pa), ",") }},
		{"note", url.Values{"action": {"note"}, "section": {sm}, "item": {nv}, "note": {"Line one.\r\nLine two."}}, "#entry-" + nv,
			func(c evidence.Collection) string { return c.Sections[2].Entries[0].Note }},
		{"remove entry", url.Values{"action": {"remove"}, "section": {sm}, "item": {nv}}, "#section-" + sm,
			func(c evidence.Collection) string { return fmt.Sprint(len(entriesOf(c, sm))) }},
		{"add section", url.Values{"action": {"add-section"}, "name": {"Further reading"}}, "#section-",
			func(c evidence.Collection) string { return c.Sections[3].Name }},
		{"remove empty section", url.Values{"action": {"remove-section"}, "section": {sm}}, "#sections",
			func(c evidence.Collection) string { return fmt.Sprint(len(c.Sections)) }},
		{"add by ID", url.Values{"action": {"add"}, "refs": {cf.ids[cmhBrief]}, "section": {pa}, "note": {"ImROC"}}, "#entry-" + cf.ids[cmhBrief],
			func(c evidence.Collection) string { return entriesOf(c, pa)[3] }},
		{"add by URL to a new section", url.Values{"action": {"add"}, "refs": {elfPeer + "\n" + cf.ids[nvHostile]}, "new_section": {"Peer support"}}, "#entry-",
			func(c evidence.Collection) string {
				return c.Sections[3].Name + ":" + fmt.Sprint(len(c.Sections[3].Entries))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := cf.coll.version("recovery-resources")
			tc.form.Set("csrf", cf.csrf(curator))
			tc.form.Set("version", fmt.Sprint(before))
			if tc.name == "add by URL to a new section" {
				// peer support is in Personal stories: move it out first
				c := cf.coll.current("recovery-resources")
				mustEdit(t, cf.coll, "recovery-resources", curatorP, evidence.CollectionEdit{Action: "remove", Section: sectionID(c, "Personal stories"), Item: cf.ids[elfPeer]})
				tc.form.Set("version", fmt.Sprint(cf.coll.version("recovery-resources")))
			}
			res := send(t, curator, "POST", edit, tc.form)
			if res.status != http.StatusSeeOther {
				t.Fatalf("= %d\n%s", res.status, res.body)
			}
			loc := res.header.Get("Location")
			if !strings.HasPrefix(loc, "/collections/recovery-resources/edit?saved=") || !strings.Contains(loc, tc.anchor) {
				t.Errorf("Location = %q, want the edit page at %s", loc, tc.anchor)
			}
			t.Logf("%s → %q", tc.name, tc.check(cf.coll.current("recovery-resources")))
			_, page, _ := get(t, curator, cf.srv.URL+loc)
			if !strings.Contains(page, `class="panel notice ok coll-flash" role="status"`) {
				t.Errorf("no confirmation after %s", tc.name)
			}
		})
	}
	got := cf.coll.current("recovery-resources")
	if got.Name != "Recovery: resources for staff" || got.Description != "New *words*." || got.Visibility != "private" ||
		got.Sections[0].Name != "Patient activation" || got.Sections[1].Name != "Personal stories" {
		t.Errorf("after the edits: %+v", got)
	}
	if ids := entriesOf(got, pa); len(ids) != 4 || ids[0] != kf || ids[2] != lr || ids[3] != cf.ids[cmhBrief] {
		t.Errorf("Patient activation = %v", ids)
	}
	if n := got.Sections[len(got.Sections)-1]; n.Name != "Peer support" || len(n.Entries) != 2 {
		t.Errorf("the new section = %+v", n)
	}

	// Refusals: the page again, with the service's message.
	v := fmt.Sprint(cf.coll.version("recovery-resources"))
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"remove a section with entries", url.Values{"action": {"remove-section"}, "section": {pa}}, 422, "still has 4 entries"},
		{"add twice", url.Values{"action": {"add"}, "refs": {kf}, "section": {pa}}, 409, "is in this collection already"},
		{"add a loopback URL", url.Values{"action": {"add"}, "refs": {"http://127.0.0.1:8080/admin"}, "section": {pa}, "note": {"kept"}}, 502, ssrfRefusal},
		{"add an unknown ID", url.Values{"action": {"add"}, "refs": {"nosuchitem"}, "section": {pa}}, 422, "no item has the ID"},
		{"add nothing", url.Values{"action": {"add"}, "refs": {"  "}, "section": {pa}}, 422, "ive an item"},
		{"empty name", url.Values{"action": {"rename"}, "name": {""}}, 422, "The name cannot be empty"},
		{"NUL in a name", url.Values{"action": {"rename"}, "name": {"a\x00b"}}, 422, "control character"},
		{"bad position", url.Values{"action": {"move"}, "section": {pa}, "item": {kf}, "position": {"x"}}, 422, "is not a position"},
		{"position too far", url.Values{"action": {"move"}, "section": {pa}, "item": {kf}, "position": {"9"}}, 422, "outside 1 to 4"},
		{"unknown action", url.Values{"action": {"explode"}}, 422, "is not something this form can do"},
		{"no version", url.Values{"action": {"rename"}, "name": {"x"}, "version": {""}}, 422, "lacks the collection&#39;s version"},
		{"delete unconfirmed", url.Values{"action": {"delete"}}, 422, "Yes, delete this collection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", cf.csrf(curator))
			if _, ok := tc.form["version"]; !ok {
				tc.form.Set("version", v)
			}
			res := send(t, curator, "POST", edit, tc.form)
			if res.status != tc.status || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, `role="alert"`) {
				t.Errorf("= %d, want %d with %q\n%s", res.status, tc.status, tc.want, res.body)
			}
			if tc.name == "add a loopback URL" && (!strings.Contains(res.body, ">http://127.0.0.1:8080/admin</textarea>") || !strings.Contains(res.body, ">kept</textarea>")) {
				t.Errorf("the add form should keep what was typed")
			}
		})
	}
	if fmt.Sprint(cf.coll.version("recovery-resources")) != v {
		t.Errorf("a refused edit changed the version")
	}

	// Delete, confirmed.
	res := send(t, curator, "POST", edit, url.Values{"csrf": {cf.csrf(curator)}, "version": {v}, "action": {"delete"}, "confirm": {"1"}})
	if res.status != 303 || res.header.Get("Location") != "/collections?deleted=recovery-resources" {
		t.Fatalf("delete = %d %q", res.status, res.header.Get("Location"))
	}
	_, body, _ := get(t, curator, cf.srv.URL+"/collections?deleted=recovery-resources")
	if !strings.Contains(body, "<code>recovery-resources</code> was deleted") {
		t.Errorf("no confirmation of the delete")
	}
	if code, _, _ := get(t, curator, edit); code != 404 {
		t.Errorf("the deleted collection's edit page = %d", code)
	}
}

// Two curators open the same version; the second to save gets a 409 with
// the collection as it is now, and nothing of the first's is lost.
func TestCollectionStaleEdit(t *testing.T) {
	cf := newCollFixture(t, "")
	c := cf.seedRecovery(t)
	alex, kim := cf.signIn(t, "curator@example.org"), cf.signIn(t, "kim@example.org")
	edit := cf.srv.URL + "/collections/recovery-resources/edit"
	_, pageA, _ := get(t, alex, edit)
	_, pageK, _ := get(t, kim, edit)
	kf := cf.ids[kfReport]
	renameA := editForm(t, pageA, "action=rename")
	renameA.Set("name", "Recovery: a resource list")
	if res := send(t, alex, "POST", edit, renameA); res.status != 303 {
		t.Fatalf("first edit = %d", res.status)
	}
	noteK := editForm(t, pageK, "action=note", "item="+kf)
	noteK.Set("note", "Kim's careful note on activation")
	res := send(t, kim, "POST", edit, noteK)
	now := c.Version + 1
	want := fmt.Sprintf("Someone else changed this collection (now version %d, by curator@example.org): your change was not saved; here it is as it is now", now)
	if res.status != http.StatusConflict || !strings.Contains(res.body, want) {
		t.Fatalf("stale edit = %d, want 409 with %q\n%s", res.status, want, res.body)
	}
	for _, w := range []string{"Edit “Recovery: a resource list”", fmt.Sprintf(`name="version" value="%d"`, now), ">Kim&#39;s careful note on activation</textarea>"} {
		if !strings.Contains(res.body, w) {
			t.Errorf("the 409 page lacks %q", w)
		}
	}
	if got := cf.coll.current("recovery-resources"); got.Name != "Recovery: a resource list" || got.Version != now || strings.Contains(got.Sections[0].Entries[0].Note, "Kim") {
		t.Errorf("after the stale edit: %q v%d %q", got.Name, got.Version, got.Sections[0].Entries[0].Note)
	}
	// Sent again from the 409 page, it is saved.
	again := editForm(t, res.body, "action=note", "item="+kf)
	again.Set("note", "Kim's careful note on activation")
	if res := send(t, kim, "POST", edit, again); res.status != 303 {
		t.Fatalf("retry = %d\n%s", res.status, res.body)
	}
	if got := cf.coll.current("recovery-resources"); got.Name != "Recovery: a resource list" || got.Sections[0].Entries[0].Note != "Kim's careful note on activation" {
		t.Errorf("both changes should be kept: %+v", got)
	}
	// A stale delete is refused the same way.
	res = send(t, alex, "POST", edit, url.Values{"csrf": {cf.csrf(alex)}, "version": {fmt.Sprint(now)}, "action": {"delete"}, "confirm": {"1"}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "by kim@example.org") {
		t.Errorf("stale delete = %d\n%s", res.status, res.body)
	}
	if cf.coll.version("recovery-resources") < 0 {
		t.Errorf("a stale delete deleted")
	}
}

func TestAddToCollectionFromItemAndSearch(t *testing.T) {
	cf := newCollFixture(t, "")
	cf.seedRecovery(t)
	anon, reader, curator := browser(t), cf.signIn(t, "reader@example.org"), cf.signIn(t, "curator@example.org")
	brief := cf.ids[cmhBrief]
	item := cf.srv.URL + "/items/" + brief
	for name, c := range map[string]*http.Client{"anonymous": anon, "reader": reader} {
		_, body, _ := get(t, c, item)
		if strings.Contains(body, "/collections/add") {
			t.Errorf("%s: the item page offers to add to a collection", name)
		}
		_, body, _ = get(t, c, cf.srv.URL+"/search?q=self-management")
		if strings.Contains(body, `name="item"`) || strings.Contains(body, "/collections/add") {
			t.Errorf("%s: search results offer selection", name)
		}
	}
	_, body, _ := get(t, curator, item)
	for _, w := range []string{`action="/collections/add"`, `<option value="recovery-resources">Recovery resources</option>`,
		`<option value="Patient activation">`, `name="item" value="` + brief + `"`, `name="next" value="/items/` + brief + `"`} {
		if !strings.Contains(body, w) {
			t.Errorf("the curator's item page lacks %q", w)
		}
	}
	res := send(t, curator, "POST", cf.srv.URL+"/collections/add", url.Values{"csrf": {cf.csrf(curator)}, "collection": {"recovery-resources"},
		"item": {brief}, "section": {"Recovery"}, "note": {"The ImROC briefing."}, "next": {"/items/" + brief}})
	if res.status != 303 || res.header.Get("Location") != "/items/"+brief+"?added=recovery-resources&n=1" {
		t.Fatalf("add from the item page = %d %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	_, body, _ = get(t, curator, cf.srv.URL+res.header.Get("Location"))
	if !strings.Contains(body, `Added to <a href="/c/recovery-resources">Recovery resources</a>`) {
		t.Errorf("no confirmation on the item page")
	}
	c := cf.coll.current("recovery-resources")
	if last := c.Sections[len(c.Sections)-1]; last.Name != "Recovery" || len(last.Entries) != 1 || last.Entries[0].Note != "The ImROC briefing." {
		t.Errorf("the new section = %+v", last)
	}
	// A flash for a collection that does not exist shows nothing.
	_, body, _ = get(t, curator, item+"?added=%3Cscript%3E")
	if strings.Contains(body, "Added to") || strings.Contains(body, "<script>") {
		t.Errorf("a bogus ?added= is shown")
	}

	// Search results: a checkbox each, bound to the form after them.
	_, body, _ = get(t, curator, cf.srv.URL+"/search?q=peer+OR+patient")
	for _, w := range []string{`<ol class="results"`, `<li class="result">`, `<h2 class="result-title"><a href="/items/`,
		`name="item" value="` + cf.ids[elfPeer] + `" id="pick-` + cf.ids[elfPeer] + `" form="add-selected"`,
		`<label for="pick-` + cf.ids[elfPeer] + `">Select<span class="visually-hidden"> “Peer support for people with psychosis: a systematic review”`,
		`<form method="post" action="/collections/add" id="add-selected"`, `name="next" value="/search?q=peer&#43;OR&#43;patient"`} {
		if !strings.Contains(body, w) {
			t.Errorf("the curator's search page lacks %q", w)
		}
	}
	mustEdit(t, cf.coll, "recovery-resources", curatorP, evidence.CollectionEdit{Action: "remove", Section: sectionID(c, "Personal stories"), Item: cf.ids[elfPeer]})
	// Another curator's edit slips in between the read and the write: the
	// add is retried once on the new version.
	var once sync.Once
	cf.coll.beforeEdit = func(slug string) {
		once.Do(func() {
			cf.coll.beforeEdit = nil
			mustEdit(t, cf.coll, slug, curator2P, evidence.CollectionEdit{Action: "describe", Description: "Kim's description."})
		})
	}
	res = send(t, curator, "POST", cf.srv.URL+"/collections/add", url.Values{"csrf": {cf.csrf(curator)}, "collection": {"recovery-resources"},
		"item": {cf.ids[elfPeer], cf.ids[nvHostile]}, "section": {"Personal stories"}, "next": {"/search?q=peer+OR+patient"}})
	if res.status != 303 || res.header.Get("Location") != "/search?added=recovery-resources&n=2&q=peer+OR+patient#add-selected" {
		t.Fatalf("add selected = %d %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	c = cf.coll.current("recovery-resources")
	if ps := c.Sections[2]; ps.Name != "Personal stories" || len(ps.Entries) != 3 || c.Description != "Kim's description." {
		t.Errorf("after the add with a race: %q %d entries, description %q", ps.Name, len(ps.Entries), c.Description)
	}
	_, body, _ = get(t, curator, cf.srv.URL+res.header.Get("Location"))
	if !strings.Contains(body, `Added 2 items to <a href="/c/recovery-resources">Recovery resources</a>`) {
		t.Errorf("no confirmation on the search page")
	}
	for _, tc := range []struct {
		name string
		form url.Values
		code int
		want string
	}{
		{"nothing selected", url.Values{"collection": {"recovery-resources"}}, 422, "Select at least one item"},
		{"no collection", url.Values{"item": {brief}}, 422, "Choose the collection"},
		{"unknown collection", url.Values{"collection": {"nope"}, "item": {brief}}, 404, "There is no collection at /c/nope"},
		{"twice", url.Values{"collection": {"recovery-resources"}, "item": {brief}, "section": {"Recovery"}}, 409, "is in this collection already"},
		{"open redirect", url.Values{"collection": {"recovery-resources"}, "item": {cf.ids[elfImroc]}, "next": {"//evil.example/x"}}, 303, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", cf.csrf(curator))
			res := send(t, curator, "POST", cf.srv.URL+"/collections/add", tc.form)
			if res.status != tc.code || !strings.Contains(res.body, tc.want) {
				t.Errorf("= %d, want %d %q\n%s", res.status, tc.code, tc.want, res.body)
			}
			if tc.code == 303 && !strings.HasPrefix(res.header.Get("Location"), "/?added=") {
				t.Errorf("Location = %q", res.header.Get("Location"))
			}
		})
	}
}

func TestPublicCollectionPage(t *testing.T) {
	cf := newCollFixture(t, "https://evidence.example.org")
	cf.seedRecovery(t)
	code, body, h := cf.get(t, "/c/recovery-resources")
	if code != 200 {
		t.Fatalf("/c/recovery-resources = %d\n%s", code, body)
	}
	for _, w := range []string{
		`<h1 id="coll-title">Recovery resources</h1>`, "<em>five ways to wellbeing</em>", `<a href="https://imroc.org/">ImROC programme</a>`,
		`<h2 id="section-s2-h">Patient activation</h2>`, `href="/items/` + cf.ids[kfReport] + `"`, "The King&#39;s Fund", "13 May 2014",
		"<strong>patient activation</strong>", `href="` + nhsePAM + `"`, "england.nhs.uk", `href="/c/recovery-resources.ris" download`,
		`href="/c/recovery-resources.bib"`, `href="/c/recovery-resources.csl.json"`, `href="/c/recovery-resources.csv"`,
		`href="/c/recovery-resources.atom"`, `rel="alternate" type="application/atom+xml"`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if strings.Contains(body, "curator@example.org") || strings.Contains(body, "kim@example.org") {
		t.Errorf("the public page shows a curator's address")
	}
	if strings.Contains(body, "Edit this collection") || h.Get("Cache-Control") == "private, no-store" {
		t.Errorf("an anonymous reader is offered editing, or the page is marked private")
	}
	golden(t, "collection.html", assetVersion.ReplaceAllString(body, "site.css?v=HASH"))
}

func TestPrivateCollectionIsNotFound(t *testing.T) {
	cf := newCollFixture(t, "")
	cf.seedRecovery(t)
	mustEdit(t, cf.coll, "recovery-resources", curatorP, evidence.CollectionEdit{Action: "visibility", Visibility: evidence.VisibilityPrivate})
	anon, reader, curator := browser(t), cf.signIn(t, "reader@example.org"), cf.signIn(t, "curator@example.org")
	for _, suffix := range []string{"", ".atom", ".ris", ".bib", ".csl.json", ".csv"} {
		for name, c := range map[string]*http.Client{"anonymous": anon, "reader": reader} {
			code, body, _ := get(t, c, cf.srv.URL+"/c/recovery-resources"+suffix)
			_, unknown, _ := get(t, c, cf.srv.URL+"/c/no-such-thing"+suffix)
			if code != 404 || strings.Contains(body, "Recovery") || body != strings.ReplaceAll(unknown, "no-such-thing", "recovery-resources") {
				t.Errorf("%s: /c/recovery-resources%s = %d: a private collection must look like none\n%s", name, suffix, code, body)
			}
		}
		code, body, h := get(t, curator, cf.srv.URL+"/c/recovery-resources"+suffix)
		if code != 200 || !strings.Contains(h.Get("Cache-Control"), "private") {
			t.Errorf("curator: /c/recovery-resources%s = %d, Cache-Control %q", suffix, code, h.Get("Cache-Control"))
		}
		if suffix == "" && (!strings.Contains(body, "Private: only curators can see this page") || !strings.Contains(body, "Edit this collection")) {
			t.Errorf("the curator's view of a private page should say so")
		}
	}
	for name, c := range map[string]*http.Client{"anonymous": anon, "reader": reader} {
		_, body, _ := get(t, c, cf.srv.URL+"/collections")
		if strings.Contains(body, "Recovery resources") {
			t.Errorf("%s: /collections lists a private collection", name)
		}
		code, body, _ := get(t, c, cf.srv.URL+"/api/v1/collections/recovery-resources")
		if code != 404 || strings.Contains(body, "Recovery") {
			t.Errorf("%s: the API shows a private collection: %d %s", name, code, body)
		}
	}
}

func TestCollectionFeed(t *testing.T) {
	cf := newCollFixture(t, "")
	c := cf.seedRecovery(t)
	code, body, h := cf.get(t, "/c/recovery-resources.atom")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed = %d %s", code, h.Get("Content-Type"))
	}
	feed, err := gofeed.NewParser().ParseString(body)
	if err != nil {
		t.Fatalf("not a feed: %v\n%s", err, body)
	}
	if feed.Title != "Recovery resources · Evidence Tracker" || len(feed.Items) != 6 || feed.Link != cf.srv.URL+"/c/recovery-resources" {
		t.Fatalf("feed = %q, %d entries, link %q", feed.Title, len(feed.Items), feed.Link)
	}
	entries := c.Entries()
	newest := entries[len(entries)-1] // the last added
	first := feed.Items[0]
	if first.Title != newest.Item.Title || first.Description != newest.Note || first.Link != cf.srv.URL+"/items/"+newest.ItemID ||
		first.UpdatedParsed == nil || !first.UpdatedParsed.Equal(newest.Added) {
		t.Errorf("first entry = %q %q %q %v, want the newest added (%q)", first.Title, first.Description, first.Link, first.UpdatedParsed, newest.Item.Title)
	}
	for i := 1; i < len(feed.Items); i++ {
		if feed.Items[i].UpdatedParsed.After(*feed.Items[i-1].UpdatedParsed) {
			t.Errorf("entries are not newest first at %d", i)
		}
	}
	seen := map[string]bool{}
	for _, it := range feed.Items {
		if seen[it.GUID] || !strings.HasPrefix(it.GUID, cf.srv.URL+"/c/recovery-resources#entry-") {
			t.Errorf("entry id %q repeated or not the page's", it.GUID)
		}
		seen[it.GUID] = true
	}
	if code, _, _ := cf.get(t, "/c/nope.atom"); code != 404 {
		t.Errorf("unknown feed = %d", code)
	}
}

func TestCollectionExports(t *testing.T) {
	cf := newCollFixture(t, "")
	cf.seedRecovery(t)
	for _, tc := range []struct{ ext, ctype, want string }{
		{".ris", "application/x-research-info-systems", "N1  - "},
		{".bib", "application/x-bibtex", "note = "},
		{".csl.json", "application/vnd.citationstyles.csl+json", `"note"`},
		{".csv", "text/csv", "Patient activation"},
	} {
		code, body, h := cf.get(t, "/c/recovery-resources"+tc.ext)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), tc.ctype) ||
			h.Get("Content-Disposition") != `attachment; filename="recovery-resources`+tc.ext+`"` || !strings.Contains(body, tc.want) ||
			!strings.Contains(body, "Supporting people to manage their health") {
			t.Errorf("%s = %d %q %q\n%s", tc.ext, code, h.Get("Content-Type"), h.Get("Content-Disposition"), body)
		}
	}
	var csl []map[string]any
	_, body, _ := cf.get(t, "/c/recovery-resources.csl.json")
	if err := json.Unmarshal([]byte(body), &csl); err != nil || len(csl) != 6 {
		t.Errorf("CSL-JSON: %v, %d items", err, len(csl))
	}
	for _, p := range []string{"/c/nope.ris", "/c/recovery-resources.docx", "/c/Recovery-Resources.ris"} {
		if code, _, _ := cf.get(t, p); code != 404 {
			t.Errorf("GET %s = %d, want 404", p, code)
		}
	}
}

func TestCollectionHostileTextIsInert(t *testing.T) {
	cf := newCollFixture(t, "")
	cf.seedHostile(t, evidence.VisibilityPublic)
	curator := cf.signIn(t, "curator@example.org")
	for _, p := range []string{"/c/hostile", "/collections", "/collections/hostile/edit", "/items/" + cf.ids[nvHostile], "/search?q=personal"} {
		code, body, h := get(t, curator, cf.srv.URL+p)
		if code != 200 {
			t.Errorf("GET %s = %d", p, code)
		}
		if m := unsafeMarkup(body); m != "" {
			t.Errorf("GET %s: %s in the page", p, m)
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("GET %s: CSP %q", p, h.Get("Content-Security-Policy"))
		}
	}
	_, body, _ := cf.get(t, "/c/hostile")
	for _, w := range []string{"&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt; Hostile", "&lt;img src=x onerror=alert(&#34;section&#34;)&gt;", "open"} {
		if !strings.Contains(body, w) {
			t.Errorf("/c/hostile lacks %q (escaped text)", w)
		}
	}
	if m := unsafeMarkup(body); m != "" {
		t.Errorf("/c/hostile signed out: %s", m)
	}
	code, feed, _ := cf.get(t, "/c/hostile.atom")
	if code != 200 || strings.Contains(feed, "<script") || strings.Contains(feed, `type="html"`) || strings.Contains(feed, `href="javascript:`) {
		t.Errorf("the feed carries markup:\n%s", feed)
	}
	parsed, err := gofeed.NewParser().ParseString(feed)
	if err != nil || len(parsed.Items) != 1 {
		t.Fatalf("hostile feed: %v", err)
	}
	if !strings.Contains(parsed.Items[0].Description, `<script>alert("note")</script>`) {
		t.Errorf("the note should reach a feed reader as text: %q", parsed.Items[0].Description)
	}
}

func TestCollectionAPI(t *testing.T) {
	cf := newCollFixture(t, "")
	cf.seedRecovery(t)
	anon := browser(t)
	bearer := func(email string) []string { return []string{"Authorization", "Bearer " + cf.tokens[email]} }
	api := cf.srv.URL + "/api/v1/collections"
	var errBody struct {
		Error struct {
			Code, Message, Field string
		} `json:"error"`
		Current *evidence.Collection `json:"current"`
	}
	check := func(t *testing.T, res response, status int, code, msg string) {
		t.Helper()
		errBody.Current = nil
		if res.status != status {
			t.Fatalf("= %d, want %d\n%s", res.status, status, res.body)
		}
		if code == "" {
			return
		}
		if err := json.Unmarshal([]byte(res.body), &errBody); err != nil || errBody.Error.Code != code || !strings.Contains(errBody.Error.Message, msg) {
			t.Errorf("body = %s, want %s with %q", res.body, code, msg)
		}
	}
	// Reading.
	res := send(t, anon, "GET", api, nil)
	var list struct {
		Collections []struct {
			evidence.Collection
			Links map[string]string `json:"links"`
		} `json:"collections"`
		Total int `json:"total"`
	}
	check(t, res, 200, "", "")
	decode(t, res.body, &list)
	if list.Total != 1 || list.Collections[0].Slug != "recovery-resources" || list.Collections[0].Links["ris"] == "" ||
		list.Collections[0].Sections[0].Entries[0].Item == nil || list.Collections[0].Sections[0].Entries[0].Item.Body != "" {
		t.Errorf("list = %+v", list)
	}
	res = send(t, anon, "GET", api+"/recovery-resources", nil)
	check(t, res, 200, "", "")
	check(t, send(t, anon, "GET", api+"/nope", nil), 404, "not_found", "")
	check(t, send(t, anon, "GET", api+"/recovery-resources/export?format=ris", nil), 200, "", "")
	check(t, send(t, anon, "GET", api+"/recovery-resources/export?format=docx", nil), 400, "bad_request", "not an export format")

	// Creating: roles and CSRF.
	curatorBrowser := cf.signIn(t, "curator@example.org")
	readerBrowser := cf.signIn(t, "reader@example.org")
	body := `{"name":"Dementia care","description":"For *carers*.","visibility":"public"}`
	check(t, send(t, anon, "POST", api, body), 401, "unauthorized", "")
	check(t, send(t, anon, "POST", api, body, bearer("reader@example.org")...), 403, "forbidden", "curator")
	check(t, send(t, readerBrowser, "POST", api, body, "X-CSRF-Token", cf.csrf(readerBrowser)), 403, "forbidden", "curator")
	check(t, send(t, curatorBrowser, "POST", api, body), 403, "csrf", "X-CSRF-Token")
	res = send(t, curatorBrowser, "POST", api, body, "X-CSRF-Token", cf.csrf(curatorBrowser))
	check(t, res, 201, "", "")
	var made evidence.Collection
	decode(t, res.body, &made)
	if made.Slug != "dementia-care" || made.Version != 1 || made.Owner != "curator@example.org" || res.header.Get("Location") != "/api/v1/collections/dementia-care" {
		t.Errorf("created = %+v, Location %q", made, res.header.Get("Location"))
	}
	check(t, send(t, anon, "POST", api, `{"name":"Again","slug":"dementia-care"}`, bearer("curator@example.org")...), 409, "conflict", "taken")
	check(t, send(t, anon, "POST", api, `{"name":"Bad","visibility":"secret"}`, bearer("curator@example.org")...), 422, "unprocessable", "visibility")
	check(t, send(t, anon, "POST", api, `{"description":"no name"}`, bearer("curator@example.org")...), 422, "unprocessable", `"name" is required`)

	// Bad bodies.
	cur := bearer("curator@example.org")
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"syntax", `{"name": "x",}`, 400, "not valid JSON at byte 14"},
		{"truncated", `{"name": "x"`, 400, "ends early"},
		{"empty", ``, 400, "empty"},
		{"unknown field", `{"name":"x","colour":"red"}`, 400, `unknown field "colour"`},
		{"wrong type", `{"name": 7}`, 400, `"name" must be a string, not a JSON number`},
		{"two documents", `{"name":"x"} {"name":"y"}`, 400, "more than one JSON document"},
		{"trailing garbage", `{"name":"x"} garbage`, 400, "more than one JSON document"},
		{"array", `[1]`, 400, "must be an object"},
		{"too big", `{"name":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "over 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := send(t, anon, "POST", api, tc.body, cur...)
			code := "bad_request"
			check(t, res, tc.status, code, tc.msg)
		})
	}
	check(t, send(t, anon, "POST", api, "name=x", append(cur, "Content-Type", "application/x-www-form-urlencoded")...), 415, "bad_request", "JSON")

	// Editing with versions.
	c := cf.coll.current("recovery-resources")
	pa := sectionID(c, "Patient activation")
	edit := func(version int, e string) response {
		return send(t, anon, "POST", api+"/recovery-resources/edits", fmt.Sprintf(`{"version": %d, "edit": %s}`, version, e), cur...)
	}
	res = edit(c.Version, `{"action":"rename","name":"Recovery: resources"}`)
	check(t, res, 200, "", "")
	var after evidence.Collection
	decode(t, res.body, &after)
	if after.Name != "Recovery: resources" || after.Version != c.Version+1 {
		t.Errorf("after rename = %q v%d", after.Name, after.Version)
	}
	res = edit(c.Version, `{"action":"note","section":"`+pa+`","item":"`+cf.ids[kfReport]+`","note":"stale"}`)
	check(t, res, 409, "conflict", fmt.Sprintf("now version %d, by curator@example.org", after.Version))
	if errBody.Current == nil || errBody.Current.Name != "Recovery: resources" || errBody.Current.Version != after.Version {
		t.Errorf("the 409 should carry the current collection: %s", res.body)
	}
	check(t, edit(after.Version, `{"action":"move","section":"`+pa+`","item":"`+cf.ids[kfReport]+`","position":9}`), 422, "unprocessable", "outside")
	check(t, edit(after.Version, `{"action":"explode"}`), 422, "unprocessable", "not an edit")
	check(t, edit(after.Version, `{"action":"rename","name":"x","colour":1}`), 400, "bad_request", `unknown field "colour"`)
	check(t, send(t, anon, "POST", api+"/recovery-resources/edits", `{"edit":{"action":"rename","name":"x"}}`, cur...), 422, "unprocessable", `"version" is required`)
	check(t, send(t, anon, "POST", api+"/recovery-resources/edits", `{"version":1}`, cur...), 422, "unprocessable", `"edit" is required`)
	check(t, send(t, anon, "POST", api+"/recovery-resources/edits", `{"version":"1","edit":{}}`, cur...), 400, "bad_request", `"version" must be a number`)
	check(t, send(t, anon, "POST", api+"/nope/edits", `{"version":1,"edit":{"action":"rename","name":"x"}}`, cur...), 404, "not_found", "")
	check(t, send(t, anon, "POST", api+"/recovery-resources/edits", `{"version":1,"edit":{"action":"rename","name":"x"}}`, bearer("reader@example.org")...), 403, "forbidden", "")
	check(t, send(t, anon, "POST", api+"/recovery-resources/edits", `{"version":1,"edit":{"action":"rename","name":"x"}}`), 401, "unauthorized", "")

	// Deleting.
	check(t, send(t, anon, "DELETE", api+"/dementia-care", nil, cur...), 400, "bad_request", "version")
	check(t, send(t, anon, "DELETE", api+"/dementia-care?version=7", nil, cur...), 409, "conflict", "now version 1")
	check(t, send(t, anon, "DELETE", api+"/dementia-care?version=1", nil, bearer("reader@example.org")...), 403, "forbidden", "")
	check(t, send(t, anon, "DELETE", api+"/dementia-care?version=1", nil, cur...), 204, "", "")
	check(t, send(t, anon, "GET", api+"/dementia-care", nil), 404, "not_found", "")
}

// TestCollectionShots saves screenshots of the published page and the
// edit page at 1280 and 320 px (go test ./web -run Shots -shots).
func TestCollectionShots(t *testing.T) {
	if !*shots {
		t.Skip("run with -shots to take screenshots")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium")
	}
	cf := newCollFixture(t, "")
	cf.seedRecovery(t)
	mustEdit(t, cf.coll, "recovery-resources", curatorP, evidence.CollectionEdit{Action: "add", Section: cf.coll.current("recovery-resources").Sections[0].ID,
		Refs: []string{cf.ids[cmhBrief]}, Note: "The ImROC briefing: recovery as the purpose of services, and what that asks of them."})
	token, _, err := cf.acc.Login(context.Background(), "curator@example.org", collPassword)
	if err != nil {
		t.Fatal(err)
	}
	// ?as=curator signs the screenshot's requests in.
	inner := cf.srv.Config.Handler
	cf.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("as") == "curator" {
			r.AddCookie(&http.Cookie{Name: "et_session", Value: token})
		}
		inner.ServeHTTP(w, r)
	})
	if err := os.MkdirAll(*shotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{
		{"collection", "/c/recovery-resources"},
		{"collection-edit", "/collections/recovery-resources/edit?as=curator"},
		{"collections", "/collections?as=curator"},
		{"item-add", "/items/" + cf.ids[kfLongRead] + "?as=curator"},
		{"search-select", "/search?q=self-management&as=curator"},
	} {
		for _, width := range []int{1280, 320} {
			out := filepath.Join(*shotsDir, fmt.Sprintf("%s-%d.png", p.name, width))
			height := 2200
			if width == 320 {
				height = 4200
			}
			if p.name == "collection-edit" {
				height *= 3
			}
			cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
				"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--user-data-dir="+t.TempDir(),
				fmt.Sprintf("--window-size=%d,%d", width, height), "--screenshot="+out, cf.srv.URL+p.path)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("chromium %s: %v\n%s", out, err, b)
			}
			t.Logf("wrote %s", out)
		}
	}
}
