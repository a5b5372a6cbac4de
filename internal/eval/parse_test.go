package eval

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

func TestParseDocs(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Doc
		wantErr string // substring; "" means no error
	}{
		{
			name: "MED lines, blank lines and CRLF",
			in:   "{\"id\": \"1\", \"title\": \"\", \"body\": \"correlation between maternal and fetal plasma .\"}\r\n\n  \n{\"id\":\"2\",\"title\":\"T\",\"summary\":\"S\",\"body\":\"B\",\"extra\":[1]}",
			want: []Doc{{ID: "1", Body: "correlation between maternal and fetal plasma ."}, {ID: "2", Title: "T", Summary: "S", Body: "B"}},
		},
		{name: "numeric id", in: `{"id": 42, "body": "x"}`, want: []Doc{{ID: "42", Body: "x"}}},
		{name: "empty input", in: "", want: nil},
		{name: "bad JSON", in: "{\"id\":\"1\"}\n{\"id\":", wantErr: "docs line 2: invalid JSON"},
		{name: "missing id", in: `{"body": "x"}`, wantErr: `docs line 1: missing "id"`},
		{name: "empty id", in: `{"id": " "}`, wantErr: `docs line 1: empty "id"`},
		{name: "fractional id", in: `{"id": 1.5}`, wantErr: `docs line 1: "id" must be a string or a whole number`},
		{name: "object id", in: `{"id": {}}`, wantErr: `docs line 1: "id" must be`},
		{name: "duplicate id", in: "{\"id\":\"1\"}\n{\"id\":\"2\"}\n{\"id\":\"1\"}", wantErr: `docs line 3: duplicate id "1" (first on line 1)`},
		{name: "two values on a line", in: `{"id":"1"} {"id":"2"}`, wantErr: "docs line 1: more than one JSON value"},
		{name: "not an object", in: `["id"]`, wantErr: "docs line 1: invalid JSON"},
		{name: "wrong field type", in: `{"id":"1","body":3}`, wantErr: "docs line 1: invalid JSON"},
		{name: "invalid UTF-8", in: "{\"id\":\"1\",\"body\":\"\xff\"}", wantErr: "docs line 1: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDocs(strings.NewReader(tt.in))
			checkParse(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestParseQueries(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Topic
		wantErr string
	}{
		{
			name: "MED lines, comments, blank lines, CRLF, tabs in text",
			in:   "# dev set\n1\tthe crystalline lens in vertebrates, including humans.\r\n\n 2 \t electron microscopy\tof lung \n",
			want: []Topic{{"1", "the crystalline lens in vertebrates, including humans."}, {"2", "electron microscopy\tof lung"}},
		},
		{name: "empty input", in: "\n\n", want: nil},
		{name: "no tab", in: "1\tok\n2 no tab here", wantErr: "queries line 2: no tab"},
		{name: "empty id", in: "\tsome text", wantErr: "queries line 1: empty query ID"},
		{name: "empty text", in: "7\t  ", wantErr: `queries line 1: query "7" has no text`},
		{name: "duplicate id", in: "1\ta\n1\tb", wantErr: `queries line 2: duplicate query ID "1" (first on line 1)`},
		{name: "invalid UTF-8", in: "1\t\xc3\x28", wantErr: "queries line 1: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQueries(strings.NewReader(tt.in))
			checkParse(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestParseQrels(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Qrels
		wantErr string
	}{
		{
			name: "binary and graded, spaces and tabs",
			in:   "1 0 13 1\n1 0 14 0\n2\tQ0\td7\t3\r\n\n2 0 d8 -1\n",
			want: Qrels{"1": {"13": 1, "14": 0}, "2": {"d7": 3, "d8": -1}},
		},
		{name: "empty input", in: "", want: Qrels{}},
		{name: "three fields", in: "1 0 13 1\n1 0 13", wantErr: "qrels line 2: want 4 fields (query-id iteration doc-id grade), got 3"},
		{name: "five fields", in: "1 0 13 1 x", wantErr: "qrels line 1: want 4 fields"},
		{name: "grade not integer", in: "1 0 13 yes", wantErr: `qrels line 1: grade "yes" is not an integer`},
		{name: "judged twice", in: "1 0 13 1\n2 0 13 1\n1 0 13 0", wantErr: `qrels line 3: query "1" document "13" judged twice (first on line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQrels(strings.NewReader(tt.in))
			checkParse(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestNumRelevant(t *testing.T) {
	q := Qrels{"1": {"a": 1, "b": 0, "c": 2, "d": -1}}
	if got := q.NumRelevant("1"); got != 2 {
		t.Errorf("NumRelevant(1) = %d, want 2", got)
	}
	if got := q.NumRelevant("nope"); got != 0 {
		t.Errorf("NumRelevant(nope) = %d, want 0", got)
	}
}

func TestParseLongLine(t *testing.T) {
	in := "1\tok\n2\t" + strings.Repeat("x", MaxLineBytes+1)
	_, err := ParseQueries(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "queries line 2: line longer than") {
		t.Fatalf("err = %v, want a too-long error on line 2", err)
	}
}

func checkParse[T any](t *testing.T, got T, err error, want T, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil {
			t.Fatalf("no error, want %q", wantErr)
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Errorf("error %q, want it to contain %q", err, wantErr)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, evidence.ErrInvalid) {
			t.Errorf("error %v is not a *ParseError wrapping ErrInvalid", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}
