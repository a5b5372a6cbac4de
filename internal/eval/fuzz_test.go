package eval

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

// The fuzz targets check that the parsers never panic, that every error is
// a *ParseError wrapping ErrInvalid, and that what they accept round-trips.

func FuzzParseDocs(f *testing.F) {
	for _, s := range []string{
		`{"id": "1", "title": "", "body": "correlation between maternal and fetal plasma ."}`,
		"{\"id\":2,\"summary\":\"s\"}\n\n{\"id\":\"3\"}\r\n",
		`{"id": 1.5}`, `{"id":"1"} {}`, "{\"id\":\"\xff\"}", `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		docs, err := ParseDocs(bytes.NewReader(in))
		if err != nil {
			checkParseError(t, err)
			return
		}
		seen := make(map[string]bool)
		for _, d := range docs {
			if strings.TrimSpace(d.ID) == "" || seen[d.ID] {
				t.Fatalf("accepted empty or duplicate id %q", d.ID)
			}
			seen[d.ID] = true
		}
	})
}

func FuzzParseQueries(f *testing.F) {
	for _, s := range []string{
		"1\tthe crystalline lens in vertebrates, including humans.\n",
		"# c\n\n2\ta\tb\r\n", "x", "\t", "1\t\n", "1\ta\n1\tb",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		topics, err := ParseQueries(bytes.NewReader(in))
		if err != nil {
			checkParseError(t, err)
			return
		}
		var b strings.Builder
		for _, q := range topics {
			if q.ID == "" || q.Text == "" || strings.ContainsAny(q.ID, "\t\n") {
				t.Fatalf("accepted bad topic %+v", q)
			}
			fmt.Fprintf(&b, "%s\t%s\n", q.ID, q.Text)
		}
		again, err := ParseQueries(strings.NewReader(b.String()))
		if err != nil || len(again) != len(topics) {
			t.Fatalf("round trip: %d topics, err %v; want %d", len(again), err, len(topics))
		}
	})
}

func FuzzParseQrels(f *testing.F) {
	for _, s := range []string{
		"1 0 13 1\n1 0 14 1\n", "2\tQ0\td7\t3\r\n", "1 0 13", "1 0 13 x", "1 0 1 1\n1 0 1 0", "1 0 1 99999999999999999999",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		q, err := ParseQrels(bytes.NewReader(in))
		if err != nil {
			checkParseError(t, err)
			return
		}
		var b strings.Builder
		for qid, docs := range q {
			for doc, g := range docs {
				fmt.Fprintf(&b, "%s 0 %s %d\n", qid, doc, g)
			}
		}
		again, err := ParseQrels(strings.NewReader(b.String()))
		if err != nil || len(again) != len(q) {
			t.Fatalf("round trip: %d queries, err %v; want %d", len(again), err, len(q))
		}
	})
}

func checkParseError(t *testing.T, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, evidence.ErrInvalid) {
		t.Fatalf("error %v is not a *ParseError wrapping ErrInvalid", err)
	}
	if pe.Line < 1 {
		t.Fatalf("error %v has line %d", err, pe.Line)
	}
}
