package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runIn runs the CLI in-process on the data dir data.
func runIn(t *testing.T, data string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), append([]string{"--data", data, "--log-level", "error"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSubscribersCLI(t *testing.T) {
	t.Setenv("EVIDENCE_DATA_DIR", "")
	data := t.TempDir()
	csvFile := filepath.Join(t.TempDir(), "subs.csv")
	if err := os.WriteFile(csvFile, []byte("email,topics,sources,format\n"+
		"team+digest@trust.nhs.uk,Recovery;workforce,kings-fund,text\n"+
		"bad-address,,,\n"+
		"y@example.org,no such topic,,\n"+
		"z@example.org,,,\n"+
		"\"unterminated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"add", []string{"subscribers", "add", "Reader@Example.ORG", "--topics", "recovery"}, 0, "added Reader@example.org (active; topics: recovery", ""},
		{"add again updates", []string{"subscribers", "add", "reader@example.org", "--format", "text"}, 0, "updated reader@example.org", ""},
		{"header injection", []string{"subscribers", "add", "a@b.test\r\nBcc: x@y.test"}, 2, "", "line break"},
		{"unknown topic", []string{"subscribers", "add", "c@example.org", "--topics", "astrology"}, 2, "", `unknown topic "astrology"`},
		{"unknown source", []string{"subscribers", "add", "c@example.org", "--sources", "bbc"}, 2, "", `unknown source "bbc"`},
		{"import with bad rows", []string{"subscribers", "import", csvFile}, 1, "4 rows, 2 added, 0 updated, 0 skipped (not active), 3 bad", "line 3: bad e-mail address"},
		{"bad status filter", []string{"subscribers", "list", "--status", "happy"}, 2, "", "--status"},
		{"remove unknown", []string{"subscribers", "remove", "nobody@example.org"}, 1, "", "no subscriber nobody@example.org"},
		{"remove", []string{"subscribers", "remove", "z@example.org"}, 0, "removed z@example.org", ""},
	}
	for _, s := range steps {
		code, out, errOut := runIn(t, data, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) || !strings.Contains(errOut, s.wantErr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, stdout ~%q, stderr ~%q",
				s.name, code, out, errOut, s.wantCode, s.wantOut, s.wantErr)
		}
	}

	code, out, _ := runIn(t, data, "subscribers", "list", "--json")
	if code != 0 {
		t.Fatalf("list --json: exit %d", code)
	}
	var doc struct {
		Subscribers []struct {
			Email   string   `json:"email"`
			Status  string   `json:"status"`
			Topics  []string `json:"topics"`
			Sources []string `json:"sources"`
			Format  string   `json:"format"`
		} `json:"subscribers"`
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if len(doc.Subscribers) != 2 || doc.Counts["active"] != 2 {
		t.Fatalf("list --json = %+v", doc)
	}
	team := doc.Subscribers[1]
	if team.Email != "team+digest@trust.nhs.uk" || team.Status != "active" || strings.Join(team.Topics, ",") != "recovery,workforce" ||
		strings.Join(team.Sources, ",") != "kings-fund" || team.Format != "text" {
		t.Errorf("imported subscriber = %+v", team)
	}

	// export → import elsewhere gives the same subscribers.
	code, exported, _ := runIn(t, data, "subscribers", "export")
	if code != 0 || !strings.HasPrefix(exported, "email,status,topics,sources,format\n") {
		t.Fatalf("export: exit %d\n%s", code, exported)
	}
	f2 := filepath.Join(t.TempDir(), "export.csv")
	os.WriteFile(f2, []byte(exported), 0o644)
	other := t.TempDir()
	if code, out, errOut := runIn(t, other, "subscribers", "import", f2); code != 0 || !strings.Contains(out, "2 added") {
		t.Errorf("re-import: exit %d %q %q", code, out, errOut)
	}
}
