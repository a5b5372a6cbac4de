package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// jsonRecord is one JSONL line: the item JSON of the contract (id,
// first_seen and the relations announced_by, discusses, discussed_by are
// derived on import and ignored, except that first_seen is kept for a new
// item) plus the optional body.
type jsonRecord struct {
	Source     string          `json:"source"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	URL        string          `json:"url"`
	Published  *string         `json:"published"`
	Updated    *string         `json:"updated"`
	FirstSeen  *string         `json:"first_seen"`
	Authors    []string        `json:"authors"`
	Summary    string          `json:"summary"`
	Topics     []string        `json:"topics"`
	Categories []string        `json:"categories"`
	PDFURLs    []string        `json:"pdf_urls"`
	Cites      []evidence.Cite `json:"cites"`
	DOI        string          `json:"doi"`
	Body       string          `json:"body"`
}

// ParseJSONL reads one item JSON object per line (blank lines are skipped)
// and calls fn with each. Names are the contract's, and doi (the item's
// own DOI, as `show --json` prints it). title is required, and url, or
// failing that a doi or a cite with a doi: the record then stands for
// https://doi.org/<doi>. type must be one of the item types. published and updated
// take RFC 3339, or a date alone ("2024-03-05", "2024-03", "2024"; the
// provenance then notes the precision). topics and categories both become
// the item's categories: topics proper are the taxonomy's, assigned on
// indexing. A last line cut off in the middle of its object is reported as
// truncated; input without a single JSON object line is a *NoRecordsError.
func ParseJSONL(r io.Reader, fn func(Record) error) error {
	in := &textSniffer{r: r}
	lr := newLineReader(in, MaxRecordBytes)
	g := &recognizer{fn: fn, format: JSONL}
	// A line whose JSON ends too early is held until the next line shows
	// whether it was the last one.
	var cut *Record
	flushCut := func(atEOF bool) error {
		if cut == nil {
			return nil
		}
		rec := *cut
		cut = nil
		if atEOF {
			rec.Err = bad("record truncated at end of file (the line ends before its JSON object is closed)")
			return g.emit(rec, true)
		}
		return g.emit(rec, false)
	}
	for {
		line, tooLong, err := lr.next()
		if errors.Is(err, io.EOF) {
			if err := flushCut(true); err != nil {
				return err
			}
			return g.end(in)
		}
		if err != nil {
			return readError(JSONL, lr.n+1, err)
		}
		if tooLong {
			if err := flushCut(false); err != nil {
				return err
			}
			if err := g.emit(Record{Line: lr.n, Err: bad("line is longer than %d bytes", MaxRecordBytes)}, bytes.HasPrefix(bytes.TrimSpace(line), []byte("{"))); err != nil {
				return err
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := flushCut(false); err != nil {
			return err
		}
		rec, object, truncated := parseJSONLine(line, lr.n)
		if truncated {
			cut = &rec
			continue
		}
		if err := g.emit(rec, object); err != nil {
			return err
		}
	}
}

// parseJSONLine reads one line. object reports a JSON object (the record
// may still be bad); truncated, JSON that ends before its object closes.
func parseJSONLine(line []byte, n int) (rec Record, object, truncated bool) {
	var jr jsonRecord
	if err := json.Unmarshal(line, &jr); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		object = errors.As(err, &te) && te.Field != ""
		truncated = errors.As(err, &se) && se.Error() == "unexpected end of JSON input" &&
			bytes.HasPrefix(bytes.TrimSpace(bytes.TrimPrefix(line, bom)), []byte("{"))
		return Record{Line: n, Err: bad("%s", jsonProblem(err))}, object, truncated
	}
	d := &draft{
		format: JSONL, line: n, title: jr.Title, summary: jr.Summary, body: jr.Body,
		urls: []string{jr.URL}, pdfs: jr.PDFURLs, authors: jr.Authors,
		cites: jr.Cites, source: strings.TrimSpace(jr.Source),
	}
	d.categories = append(slices.Clone(jr.Categories), jr.Topics...)
	d.doi = strings.TrimSpace(jr.DOI)
	if strings.TrimSpace(jr.URL) == "" && d.doi == "" {
		// A record without a URL stands for its DOI, if it cites one.
		for _, c := range jr.Cites {
			if c.DOI != "" {
				d.doi = c.DOI
				break
			}
		}
	}
	if t := strings.ToLower(strings.TrimSpace(jr.Type)); t != "" {
		if !evidence.IsItemType(t) {
			d.problems = append(d.problems, fmt.Sprintf("type %q is not one of %s", clip(jr.Type, 100), strings.Join(evidence.ItemTypes(), ", ")))
		}
		d.typ = t
	}
	if jr.Published != nil && strings.TrimSpace(*jr.Published) != "" {
		t, p := parseDate(*jr.Published)
		if p == precNone {
			d.problems = append(d.problems, fmt.Sprintf("published %q is not an RFC 3339 date (or YYYY-MM-DD) between %d and %d", clip(*jr.Published, 100), minYear, maxYear-1))
		}
		d.published, d.pubPrec = t, p
	}
	if jr.Updated != nil && strings.TrimSpace(*jr.Updated) != "" {
		t, p := parseDate(*jr.Updated)
		if p == precNone {
			d.problems = append(d.problems, fmt.Sprintf("updated %q is not an RFC 3339 date", clip(*jr.Updated, 100)))
		} else {
			d.updated = &t
		}
	}
	if jr.FirstSeen != nil {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*jr.FirstSeen)); err == nil {
			d.firstSeen = t.UTC()
		}
	}
	return d.record(), true, false
}

// jsonProblem says what is wrong with a JSON line in a librarian's terms.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("want one JSON object per line, got a JSON %s", te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: want %s, got a JSON %s", te.Field, jsonKind(te.Type.String()), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "string", goType == "*string":
		return "a string"
	case strings.Contains(goType, "Cite"):
		return `an object {"url", "doi"}`
	}
	return goType
}
