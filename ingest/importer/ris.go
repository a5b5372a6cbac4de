package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// risField is one tagged line (with its continuation lines) of an RIS
// record.
type risField struct {
	tag, value string
	line       int
}

type risRecord struct {
	start    int
	last     int // line of the record's last field
	fields   []risField
	size     int
	problems []string
}

// ParseRIS reads RIS records ("TY  - " … "ER  - ") and calls fn with each.
// Tags read: TY (type: RPRT report, JOUR article, BLOG blog, NEWS news,
// BOOK/CHAP publication, DATA data, …), TI/T1 (then BT, ST) title, AU/A1
// authors ("Last, First" becomes "First Last"), PY/Y1/DA dates (the most
// precise wins), AB/N2 summary, UR/LK/L2 URL, L1/L4 documents, DO DOI, KW
// keywords (categories), M3 type of work ("Briefing paper" makes a
// briefing), N1 notes (Record.Notes). Lines that do not start with a tag continue the field before
// them. A PY, Y1 or DA without a 4-digit year ("PY  - 20", "n.d.") makes
// its record bad, naming the line; free text with one ("Spring 2019") gives
// the year. Text outside records is reported once per run of
// lines; a record missing its ER ends at the next TY, and one still open at
// the end of the input is reported as truncated. Input without a single TY
// line is a *NoRecordsError.
func ParseRIS(r io.Reader, fn func(Record) error) error {
	in := &textSniffer{r: r}
	lr := newLineReader(in, MaxRecordBytes)
	g := &recognizer{fn: fn, format: RIS}
	var (
		cur   *risRecord
		stray int // first line of text outside any record, 0 if none
	)
	flushStray := func() error {
		if stray == 0 {
			return nil
		}
		n := stray
		stray = 0
		return g.emit(Record{Line: n, Err: bad(`text outside a record (records start with a TY line)`)}, false)
	}
	emit := func() error {
		if cur == nil {
			return nil
		}
		rec := cur.record()
		cur = nil
		return g.emit(rec, true)
	}
	for {
		raw, tooLong, err := lr.next()
		if errors.Is(err, io.EOF) {
			if err := flushStray(); err != nil {
				return err
			}
			if cur != nil {
				cur.problems = append([]string{fmt.Sprintf("record truncated at end of file (no ER line after line %d)", cur.last)}, cur.problems...)
			}
			if err := emit(); err != nil {
				return err
			}
			return g.end(in)
		}
		if err != nil {
			return readError(RIS, lr.n+1, err)
		}
		line := decodeLine(raw)
		if tooLong {
			if cur != nil {
				cur.problem(fmt.Sprintf("line %d is longer than %d bytes", lr.n, MaxRecordBytes))
			} else if stray == 0 {
				stray = lr.n
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		tag, value, ok := risTagLine(line)
		switch {
		case ok && tag == "TY":
			if err := flushStray(); err != nil {
				return err
			}
			if err := emit(); err != nil {
				return err
			}
			cur = &risRecord{start: lr.n}
			cur.add(tag, value, lr.n)
		case ok && tag == "ER":
			if err := emit(); err != nil {
				return err
			}
		case cur == nil:
			if stray == 0 {
				stray = lr.n
			}
		case ok:
			cur.add(tag, value, lr.n)
		case len(cur.fields) > 0:
			// A continuation line (wrapped abstract or title).
			cur.extend(strings.TrimSpace(line))
			cur.last = lr.n
		}
	}
}

// risTagLine splits "TI  - Title" into its tag and value. Exporters differ:
// one or two spaces before the hyphen, none after it on an empty field.
func risTagLine(line string) (tag, value string, ok bool) {
	if len(line) < 4 || !isUpper(line[0]) || !(isUpper(line[1]) || (line[1] >= '0' && line[1] <= '9')) {
		return "", "", false
	}
	i := 2
	for spaces := 0; i < len(line) && line[i] == ' ' && spaces < 2; i++ {
		spaces++
	}
	if i == 2 || i >= len(line) || line[i] != '-' {
		return "", "", false
	}
	rest := line[i+1:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", "", false
	}
	return line[:2], strings.TrimSpace(rest), true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func (r *risRecord) problem(msg string) {
	for _, p := range r.problems {
		if p == msg {
			return
		}
	}
	r.problems = append(r.problems, msg)
}

func (r *risRecord) add(tag, value string, line int) {
	r.last = line
	if r.size+len(value) > MaxRecordBytes {
		r.problem(fmt.Sprintf("record is longer than %d bytes", MaxRecordBytes))
		return
	}
	r.size += len(value)
	r.fields = append(r.fields, risField{tag: tag, value: value, line: line})
}

func (r *risRecord) extend(more string) {
	if more == "" {
		return
	}
	if r.size+len(more) > MaxRecordBytes {
		r.problem(fmt.Sprintf("record is longer than %d bytes", MaxRecordBytes))
		return
	}
	r.size += len(more) + 1
	last := &r.fields[len(r.fields)-1]
	if last.value == "" {
		last.value = more
	} else {
		last.value += " " + more
	}
}

func (r *risRecord) record() Record {
	d := &draft{format: RIS, line: r.start, problems: r.problems}
	first := map[string]string{}
	var workType string
	for _, f := range r.fields {
		v := f.value
		if v == "" {
			continue
		}
		if _, seen := first[f.tag]; !seen {
			first[f.tag] = v
		}
		switch f.tag {
		case "PY", "Y1", "DA":
			if _, p := risDate(v); p == precNone {
				d.problems = append(d.problems, fmt.Sprintf("line %d: %s %q is not a date (want a 4-digit year: YYYY, YYYY/MM/DD/ or YYYY-MM-DD, years %d to %d)",
					f.line, f.tag, clip(v, 100), minYear, maxYear-1))
			}
		case "AU", "A1":
			d.authors = append(d.authors, v)
		case "UR", "LK", "L2":
			d.urls = append(d.urls, splitURLs(v)...)
		case "L1", "L4":
			d.pdfs = append(d.pdfs, splitURLs(v)...)
		case "KW":
			d.categories = append(d.categories, splitKeywords(v, false)...)
		case "N1":
			d.notes = append(d.notes, v)
		}
	}
	d.typ = risTypes[strings.ToUpper(first["TY"])]
	workType = first["M3"]
	if t := typeFromWords(workType); t != "" {
		d.typ = t
	}
	d.title = firstOf(first, "TI", "T1", "BT", "ST")
	d.summary = firstOf(first, "AB", "N2")
	d.doi = first["DO"]
	if d.doi == "" && strings.Contains(workType, "10.") && strings.Contains(workType, "/") {
		d.doi = workType // some exporters put the DOI in M3
	}
	for _, tag := range []string{"PY", "Y1", "DA"} {
		if v := first[tag]; v != "" {
			if t, p := risDate(v); p > d.pubPrec {
				d.published, d.pubPrec = t, p
			}
		}
	}
	return d.record()
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// splitURLs splits a field that may hold several URLs, separated by white
// space or by semicolons. A semicolon splits only where another URL
// (scheme://) follows it or at the end of a URL: "https://a.org/x;y=1"
// is one URL.
func splitURLs(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		for f != "" {
			i := nextURLSep(f)
			if i < 0 {
				out = append(out, f)
				break
			}
			if i > 0 {
				out = append(out, f[:i])
			}
			f = f[i+1:]
		}
	}
	return out
}

// nextURLSep returns the index of the first semicolon in f that separates
// URLs: followed by a scheme and "://", by another semicolon or by nothing;
// -1 if there is none.
func nextURLSep(f string) int {
	for i := 0; i < len(f); i++ {
		if f[i] != ';' {
			continue
		}
		rest := f[i+1:]
		if rest == "" || rest[0] == ';' || i == 0 {
			return i
		}
		j := 0
		for j < len(rest) && (isLetterByte(rest[j]) || (j > 0 && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == '+' || rest[j] == '-' || rest[j] == '.'))) {
			j++
		}
		if j > 0 && strings.HasPrefix(rest[j:], "://") {
			return i
		}
	}
	return -1
}

func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// risDate reads an RIS date field: parseDate's forms, else the year of a
// free text holding one ("Spring 2020"); precNone without a 4-digit year.
func risDate(v string) (time.Time, precision) {
	if t, p := parseDate(v); p != precNone {
		return t, p
	}
	return dateParts(v, "", "")
}
