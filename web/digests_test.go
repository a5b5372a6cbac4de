package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/web"
)

type fakeArchive struct{ list []evidence.ArchivedDigest }

func (f fakeArchive) Archive(context.Context) ([]evidence.ArchivedDigest, error) {
	var out []evidence.ArchivedDigest
	for _, a := range f.list {
		a.HTML, a.Text = "", ""
		out = append(out, a)
	}
	return out, nil
}

func (f fakeArchive) Archived(_ context.Context, week string) (evidence.ArchivedDigest, error) {
	for _, a := range f.list {
		if a.Week == week {
			return a, nil
		}
	}
	return evidence.ArchivedDigest{}, evidence.ErrNotFound
}

func TestDigestArchive(t *testing.T) {
	sent := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	sent2 := sent.AddDate(0, 0, 7)
	arch := fakeArchive{list: []evidence.ArchivedDigest{
		{Week: "2026-W48", Title: "Evidence digest <&>", Dates: "23–29 November 2026", Items: 1, HTML: "<html><body><p>W48</p></body></html>", Text: "W48 text", Sent: &sent2},
		{Week: "2026-W47", Title: "Evidence digest <&>", Dates: "16–22 November 2026", Items: 12, HTML: "<html><body><p>W47</p></body></html>", Text: "W47 text", Sent: &sent},
	}}
	w, err := web.New(web.Options{Digests: arch, BaseURL: "https://evidence.example.org", Public: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()

	code, body, _ := get(t, http.DefaultClient, srv.URL+"/digests")
	if code != 200 || !strings.Contains(body, `<a href="/digests/2026-W47">16–22 November 2026</a>`) || !strings.Contains(body, "12 items") ||
		!strings.Contains(body, `aria-current="page"`) {
		t.Errorf("/digests = %d\n%s", code, body)
	}
	code, body, h := get(t, http.DefaultClient, srv.URL+"/digests/2026-W47")
	if code != 200 || body != arch.list[1].HTML || strings.Contains(h.Get("Content-Security-Policy"), "script-src") ||
		!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("/digests/2026-W47 = %d %q CSP %q", code, body, h.Get("Content-Security-Policy"))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/digests/2026-W47", nil)
	req.Header.Set("If-None-Match", h.Get("ETag"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", resp.StatusCode)
	}
	if code, body, _ := get(t, http.DefaultClient, srv.URL+"/digests/2026-W47.txt"); code != 200 || body != "W47 text" {
		t.Errorf("text copy = %d %q", code, body)
	}
	for _, bad := range []string{"/digests/2026-W01", "/digests/..%2fetc", "/digests/<script>"} {
		if code, body, _ := get(t, http.DefaultClient, srv.URL+bad); code != 404 || strings.Contains(body, "<script>") {
			t.Errorf("GET %s = %d", bad, code)
		}
	}

	code, body, h = get(t, http.DefaultClient, srv.URL+"/digests.atom")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("/digests.atom = %d %s", code, h.Get("Content-Type"))
	}
	feed, err := gofeed.NewParser().ParseString(body)
	if err != nil {
		t.Fatalf("feed reader refuses the feed: %v\n%s", err, body)
	}
	if feed.FeedType != "atom" || len(feed.Items) != 2 || feed.Items[1].Link != "https://evidence.example.org/digests/2026-W47" ||
		feed.Items[0].Title != "Evidence digest <&>, 23–29 November 2026" || feed.UpdatedParsed == nil || !feed.UpdatedParsed.Equal(sent2) {
		t.Errorf("feed = %+v\n%s", feed, body)
	}
}
