package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/web"
)

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
}

type apiErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Column  int    `json:"column"`
	} `json:"error"`
}

func TestAPISearch(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{})
	code, body, h := fx.get(t, "/api/v1/search?q=support&limit=2")
	var res evidence.SearchResults
	decode(t, body, &res)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || res.Total < 3 || len(res.Hits) != 2 ||
		res.Limit != 2 || res.Offset != 0 || res.Query != "support" || res.Facets["source"] == nil {
		t.Fatalf("search = %d %+v", code, res)
	}
	if res.Hits[0].ID == "" || res.Hits[0].URL == "" || res.Hits[0].Snippet == "" || res.Hits[0].Body != "" {
		t.Errorf("hit = %+v", res.Hits[0])
	}
	_, body, _ = fx.get(t, "/api/v1/search?q=support&limit=2&offset=2")
	var page2 evidence.SearchResults
	decode(t, body, &page2)
	if page2.Offset != 2 || len(page2.Hits) == 0 || page2.Hits[0].ID == res.Hits[0].ID {
		t.Errorf("page 2 = %+v", page2)
	}
	for _, tc := range []struct {
		name, query string
		status      int
		code        string
		column      int
	}{
		{"unclosed quote", "q=" + url.QueryEscape(`"peer support`), 400, "bad_request", 1},
		{"bad date", "q=" + url.QueryEscape("care published:>=notadate"), 400, "bad_request", 6},
		{"NUL", "q=care%00", 400, "bad_request", 0},
		{"too long", "q=" + strings.Repeat("a", 1001), 400, "bad_request", 0},
		{"limit", "q=care&limit=0", 400, "bad_request", 0},
		{"limit too big", "q=care&limit=5000", 400, "bad_request", 0},
		{"offset", "q=care&offset=-1", 400, "bad_request", 0},
		{"offset too far", "q=care&offset=999999", 400, "bad_request", 0},
		{"sort", "q=care&sort=sideways", 400, "bad_request", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, h := fx.get(t, "/api/v1/search?"+tc.query)
			var e apiErr
			decode(t, body, &e)
			if code != tc.status || e.Error.Code != tc.code || e.Error.Message == "" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				t.Errorf("= %d %+v", code, e)
			}
			if tc.column != 0 && e.Error.Column != tc.column {
				t.Errorf("column = %d, want %d (%s)", e.Error.Column, tc.column, e.Error.Message)
			}
		})
	}
}

func TestAPIItemsTopicsSources(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{})
	brief := fx.ids["https://www.centreformentalhealth.org.uk/publications/recovery-public-mental-health-and-wellbeing/"]
	code, body, _ := fx.get(t, "/api/v1/items/"+brief)
	var doc struct {
		evidence.Item
		Links       map[string]string            `json:"links"`
		DiscussedBy []struct{ ID, Title string } `json:"discussed_by_items"`
	}
	decode(t, body, &doc)
	if code != 200 || doc.ID != brief || doc.Links["ris"] == "" || len(doc.DiscussedBy) != 1 || doc.DiscussedBy[0].Title == "" {
		t.Errorf("item = %d %+v", code, doc)
	}
	code, body, _ = fx.get(t, "/api/v1/items/nope")
	var e apiErr
	decode(t, body, &e)
	if code != 404 || e.Error.Code != "not_found" {
		t.Errorf("unknown item = %d %+v", code, e)
	}
	code, body, _ = fx.get(t, "/api/v1/topics")
	var topics struct {
		Topics []evidence.TopicCount `json:"topics"`
		Total  int                   `json:"total"`
	}
	decode(t, body, &topics)
	if code != 200 || topics.Total != len(taxonomy) || topics.Topics[1].Name != "patient activation" || topics.Topics[1].Items < 3 {
		t.Errorf("topics = %d %+v", code, topics)
	}
	code, body, _ = fx.get(t, "/api/v1/sources")
	if code != 200 || !strings.Contains(body, `"sources"`) {
		t.Errorf("sources = %d %s", code, body)
	}
}

func TestAPIErrorsAndMethods(t *testing.T) {
	fx := newCatalogFixture(t, web.Options{})
	for _, tc := range []struct {
		method, path string
		body         string
		status       int
		code         string
	}{
		{"POST", "/api/v1/search", "", 401, "unauthorized"},
		{"DELETE", "/api/v1/items/x", "", 401, "unauthorized"},
		{"POST", "/api/v1/collections", `{"name":"x"}`, 401, "unauthorized"},
		{"PUT", "/api/v1/collections/x", `{bad json`, 401, "unauthorized"},
		{"POST", "/api/v1/collections", strings.Repeat("x", 200<<10), 401, "unauthorized"},
		{"GET", "/api/v1/nothing", "", 404, "not_found"},
		{"GET", "/api/v2/search", "", 404, "not_found"},
		{"GET", "/api/v1/me", "", 401, "unauthorized"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, fx.srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e apiErr
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("%d: not a JSON error: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tc.status || e.Error.Code != tc.code {
				t.Errorf("= %d %+v, want %d %s", resp.StatusCode, e, tc.status, tc.code)
			}
		})
	}
	// A wrong method on a page is 405 with Allow.
	req, _ := http.NewRequest("DELETE", fx.srv.URL+"/search?q=x", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || !strings.Contains(resp.Header.Get("Allow"), "GET") {
		t.Errorf("DELETE /search = %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestOpenAPIMatchesRoutes: every route is documented, every documented
// route answers, and the document is OpenAPI 3.1.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	colls := newFakeCollections(func() time.Time { return fixedNow })
	if _, err := colls.Create(context.Background(), curatorP, evidence.Collection{Name: "Demo", Visibility: evidence.VisibilityPublic}); err != nil {
		t.Fatal(err)
	}
	fx := newCatalogFixture(t, web.Options{Collections: colls})
	code, body, _ := fx.get(t, "/api/v1/openapi.json")
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	decode(t, body, &doc)
	if code != 200 || doc.OpenAPI != "3.1.0" || len(doc.Paths) == 0 {
		t.Fatalf("openapi.json = %d, openapi %q, %d paths", code, doc.OpenAPI, len(doc.Paths))
	}
	documented := []string{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	routes := web.APIRoutes()
	slices.Sort(documented)
	slices.Sort(routes)
	if !slices.Equal(documented, routes) {
		t.Errorf("documented routes %v\nserved routes %v", documented, routes)
	}
	brief := fx.ids["https://www.centreformentalhealth.org.uk/publications/recovery-public-mental-health-and-wellbeing/"]
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		path = strings.ReplaceAll(strings.ReplaceAll(path, "{id}", brief), "{slug}", "demo")
		req, _ := http.NewRequest(method, fx.srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// /me answers 401 to nobody: documented, not missing.
		if resp.StatusCode == 404 || resp.StatusCode == 405 || resp.StatusCode >= 500 {
			t.Errorf("%s = %d", rt, resp.StatusCode)
		}
	}
	// The file served is the one in the repository.
	b, err := os.ReadFile("openapi.json")
	if err != nil || string(b) != body {
		t.Errorf("served document differs from web/openapi.json (%v)", err)
	}
}
