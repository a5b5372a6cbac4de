package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
)

// MaxLineBytes is the longest line the parsers accept.
const MaxLineBytes = 16 << 20

// Doc is one document of a test collection (a line of docs.jsonl).
type Doc struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
	Body    string `json:"body"`
}

// Topic is one query of a test collection (a line of queries.tsv). It is
// called Topic, as in TREC, so as not to clash with index.Query.
type Topic struct {
	ID   string
	Text string
}

// Qrels are relevance judgements: query ID → document ID → grade. A grade
// above zero means relevant; higher grades are more relevant (nDCG uses the
// grade as the gain).
type Qrels map[string]map[string]int

// NumRelevant returns how many documents are judged relevant to query qid.
func (q Qrels) NumRelevant(qid string) int { return numRelevant(q[qid]) }

// ParseError is a malformed line in a collection file. It wraps
// evidence.ErrInvalid.
type ParseError struct {
	File string // "docs", "queries" or "qrels"
	Line int    // 1-based
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("eval: %s line %d: %s", e.File, e.Line, e.Msg)
}

func (e *ParseError) Unwrap() error { return evidence.ErrInvalid }

// lines calls fn with each line of r (without its line ending) and its
// 1-based number. Lines longer than MaxLineBytes and bytes that are not
// UTF-8 are errors.
func lines(file string, r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if !utf8.Valid(b) {
			return &ParseError{file, n, "not valid UTF-8"}
		}
		if err := fn(n, string(b)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &ParseError{file, n + 1, fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
		}
		return fmt.Errorf("eval: read %s: %w", file, err)
	}
	return nil
}

// ParseDocs reads docs.jsonl: one JSON object a line with "id" (required,
// unique), "title", "summary" and "body" (other fields are ignored). Blank
// lines are skipped.
func ParseDocs(r io.Reader) ([]Doc, error) {
	var docs []Doc
	seen := make(map[string]int)
	err := lines("docs", r, func(n int, line string) error {
		if strings.TrimSpace(line) == "" {
			return nil
		}
		var raw struct {
			ID      json.RawMessage `json:"id"`
			Title   string          `json:"title"`
			Summary string          `json:"summary"`
			Body    string          `json:"body"`
		}
		dec := json.NewDecoder(strings.NewReader(line))
		if err := dec.Decode(&raw); err != nil {
			return &ParseError{"docs", n, "invalid JSON: " + err.Error()}
		}
		if dec.More() {
			return &ParseError{"docs", n, "more than one JSON value on the line"}
		}
		id, err := docID(raw.ID)
		if err != nil {
			return &ParseError{"docs", n, err.Error()}
		}
		if prev, ok := seen[id]; ok {
			return &ParseError{"docs", n, fmt.Sprintf("duplicate id %q (first on line %d)", id, prev)}
		}
		seen[id] = n
		docs = append(docs, Doc{ID: id, Title: raw.Title, Summary: raw.Summary, Body: raw.Body})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return docs, nil
}

// docID accepts an ID given as a JSON string or a whole number.
func docID(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New(`missing "id"`)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		s = strings.TrimSpace(s)
		if s == "" {
			return "", errors.New(`empty "id"`)
		}
		return s, nil
	}
	var num json.Number
	if err := json.Unmarshal(raw, &num); err == nil {
		if _, err := strconv.ParseInt(num.String(), 10, 64); err == nil {
			return num.String(), nil
		}
	}
	return "", fmt.Errorf(`"id" must be a string or a whole number, got %s`, raw)
}

// ParseQueries reads queries.tsv: query ID, a tab, the query text. Blank
// lines and lines starting with "#" are skipped; IDs must be unique and the
// text non-empty.
func ParseQueries(r io.Reader) ([]Topic, error) {
	var out []Topic
	seen := make(map[string]int)
	err := lines("queries", r, func(n int, line string) error {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			return nil
		}
		id, text, ok := strings.Cut(line, "\t")
		if !ok {
			return &ParseError{"queries", n, "no tab between query ID and text"}
		}
		id, text = strings.TrimSpace(id), strings.TrimSpace(text)
		switch {
		case id == "":
			return &ParseError{"queries", n, "empty query ID"}
		case text == "":
			return &ParseError{"queries", n, fmt.Sprintf("query %q has no text", id)}
		}
		if prev, ok := seen[id]; ok {
			return &ParseError{"queries", n, fmt.Sprintf("duplicate query ID %q (first on line %d)", id, prev)}
		}
		seen[id] = n
		out = append(out, Topic{ID: id, Text: text})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ParseQrels reads TREC relevance judgements: "query-id iteration doc-id
// grade", separated by spaces or tabs. The iteration is ignored; the grade
// is an integer (0 or below: not relevant). Blank lines are skipped; a
// (query, document) pair judged twice is an error.
func ParseQrels(r io.Reader) (Qrels, error) {
	out := make(Qrels)
	seen := make(map[[2]string]int)
	err := lines("qrels", r, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) == 0 {
			return nil
		}
		if len(f) != 4 {
			return &ParseError{"qrels", n, fmt.Sprintf("want 4 fields (query-id iteration doc-id grade), got %d", len(f))}
		}
		grade, err := strconv.Atoi(f[3])
		if err != nil {
			return &ParseError{"qrels", n, fmt.Sprintf("grade %q is not an integer", f[3])}
		}
		key := [2]string{f[0], f[2]}
		if prev, ok := seen[key]; ok {
			return &ParseError{"qrels", n, fmt.Sprintf("query %q document %q judged twice (first on line %d)", f[0], f[2], prev)}
		}
		seen[key] = n
		if out[f[0]] == nil {
			out[f[0]] = make(map[string]int)
		}
		out[f[0]][f[2]] = grade
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
