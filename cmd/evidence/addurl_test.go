package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/config"
	"github.com/evidencetracker/evidence/index"
	"github.com/evidencetracker/evidence/ingest/fetch"
)

// The wiring: with web.allow_private_fetch a loopback page is added,
// stored as a manual item and searchable; without it, refused with the
// key named, nothing stored.
func TestURLAdderWiring(t *testing.T) {
	var hits int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path != "/guide" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>What is good supported self-management?</title>
<meta property="og:title" content="What is good supported self-management?">
<meta property="og:description" content="A guide for services on supporting people to manage their own health."></head>
<body><main><p>Supported self-management helps people with long-term conditions.</p></main></body></html>`)
	}))
	defer ts.Close()

	for _, allow := range []bool{true, false} {
		t.Run(fmt.Sprintf("allow_private_fetch=%v", allow), func(t *testing.T) {
			l, err := config.Load(config.LoadOptions{Environ: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			cfg := l.Config
			cfg.DataDir = t.TempDir()
			cfg.Web.AllowPrivateFetch = allow
			cfg.Fetch.RatePerHost = -1
			a := &app{stdout: io.Discard, stderr: &bytes.Buffer{}, log: slog.New(slog.DiscardHandler)}
			ctx := context.Background()
			st, ix, closeAll, err := a.openBoth(ctx, cfg, true)
			if err != nil {
				t.Fatal(err)
			}
			defer closeAll()
			adder, err := a.urlAdder(cfg, st, ix)
			if err != nil {
				t.Fatal(err)
			}
			before := hits
			it, err := adder.AddURL(ctx, ts.URL+"/guide", "curator@example.org")
			if !allow {
				if !errors.Is(err, fetch.ErrRefusedAddress) || !strings.Contains(err.Error(), "a loopback address (set web.allow_private_fetch to allow)") {
					t.Fatalf("err = %v; want the guard's refusal naming the key", err)
				}
				if hits != before {
					t.Errorf("the server got %d requests; want none", hits-before)
				}
				if n, _ := st.CountItems(ctx); n != 0 {
					t.Errorf("%d items stored", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddURL: %v", err)
			}
			if it.Source != evidence.SourceManual || it.Title != "What is good supported self-management?" {
				t.Errorf("item = %s %q", it.Source, it.Title)
			}
			res, err := ix.Search(ctx, index.Query{Text: "supported self-management"})
			if err != nil || len(res.Hits) != 1 || res.Hits[0].ID != it.ID {
				t.Errorf("search = %+v, %v; want the added item", res, err)
			}
		})
	}
}
