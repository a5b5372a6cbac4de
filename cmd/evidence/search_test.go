package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runStreams runs the binary and returns stdout, stderr and the exit
// status.
func (h *harness) runStreams(args ...string) (string, string, int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	case err != nil:
		h.t.Fatalf("%v: %v", args, err)
	}
	return stdout.String(), stderr.String(), 0
}

// TestSearchQueryLanguageCLI drives the query-language corners of `search`
// through the real binary: a leading -exclusion, NOT and parentheses, and
// the notice of a query whose words cannot be searched for.
func TestSearchQueryLanguageCLI(t *testing.T) {
	bin := buildBinary(t)
	h := newHarness(t, bin, "127.0.0.1:9") // nothing is fetched
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string // substring of stdout
		wantErr    string // substring of stderr
		wantNotice string // substring of the JSON notice
	}{
		{"leading -term is taken for flags: the error says --", []string{"search", "-care"}, 2, "", "evidence search --json -- -care", ""},
		{"leading -term after --", []string{"search", "--json", "--", "-care"}, 0, `"query": "-care"`, "", ""},
		{"help documents --", []string{"search", "--help"}, 0, "evidence search --json -- -care", "", ""},
		{"help documents NOT", []string{"search", "--help"}, 0, "social NOT care", "", ""},
		{"unbalanced parenthesis", []string{"search", "(social OR care"}, 2, "", "column 1: unclosed parenthesis", ""},
		{"NOT", []string{"search", "--json", "social NOT care"}, 0, `"total": 0`, "", ""},
		{"stop words only", []string{"search", "--json", "the and of"}, 0, "", "", "every word of the query is a stop word (the, and, of)"},
		{"wildcard", []string{"search", "--json", "soc*"}, 0, "", "", "there are no wildcards"},
		{"emoji", []string{"search", "--json", "😀"}, 0, "", "", "has no letters or digits"},
		{"notice printed", []string{"search", "the and of"}, 0, "Why: every word of the query is a stop word", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := h.runStreams(tt.args...)
			if code != tt.wantCode {
				t.Errorf("%v: exit %d, want %d; stderr:\n%s", tt.args, code, tt.wantCode, stderr)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("%v: stdout %q does not contain %q", tt.args, out, tt.wantOut)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("%v: stderr %q does not contain %q", tt.args, stderr, tt.wantErr)
			}
			if tt.wantNotice == "" {
				return
			}
			var doc struct {
				Notice     *string `json:"notice"`
				Suggestion *string `json:"suggestion"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
			}
			if doc.Notice == nil || doc.Suggestion == nil {
				t.Fatalf("JSON lacks notice or suggestion: %s", out)
			}
			if !strings.Contains(*doc.Notice, tt.wantNotice) {
				t.Errorf("notice %q does not contain %q", *doc.Notice, tt.wantNotice)
			}
		})
	}
}
