package importer

import (
	"fmt"
	"io"

	"github.com/evidencetracker/evidence"
)

// NoRecordsError is returned by Parse (and Import) when the input holds no
// record of its format at all: an empty file, random or binary bytes, an
// HTML page, a file in another format. It wraps evidence.ErrInvalid.
type NoRecordsError struct {
	Format Format
	// Empty is true when the input held nothing but white space.
	Empty bool
	// First is the first problem found while looking for a record
	// ("line 3: …"), if any.
	First string
}

func (e *NoRecordsError) Error() string {
	msg := fmt.Sprintf("no %s record found (expected %s)", formatName(e.Format), expectedRecord(e.Format))
	switch {
	case e.Empty:
		msg += ": the input is empty"
	case e.First != "":
		msg += "; first problem: " + e.First
	}
	return msg
}

func (e *NoRecordsError) Is(target error) bool { return target == evidence.ErrInvalid }

func formatName(f Format) string {
	switch f {
	case RIS:
		return "RIS"
	case BibTeX:
		return "BibTeX"
	case JSONL:
		return "JSONL"
	case CSLJSON:
		return "CSL-JSON"
	}
	return string(f)
}

func expectedRecord(f Format) string {
	switch f {
	case RIS:
		return `records that start with a "TY  - " line and end with "ER  - "`
	case BibTeX:
		return "@type{key, ...}"
	case JSONL:
		return "one JSON object per line"
	case CSLJSON:
		return `a JSON array of CSL items, [{"type": …, "title": …, "URL": …}]`
	}
	return "records"
}

// maxHeld is how many bad records are held back while no record of the
// format has been recognised yet. Past it they are reported as they come.
const maxHeld = 100

// recognizer stands between a parser and its callback. Bad records read
// before the first record the parser recognises as its format are held
// back: if the input turns out to hold no record at all, the parse fails
// with a NoRecordsError instead of reporting noise line by line.
type recognizer struct {
	fn      func(Record) error
	format  Format
	seen    bool // a record of the format was recognised
	passing bool // held records were flushed: report as they come
	held    []Record
	first   string
}

// emit hands rec on (or holds it back); recognised says whether it is a
// record of the format (good or bad), rather than unreadable text.
func (g *recognizer) emit(rec Record, recognised bool) error {
	if g.first == "" && rec.Err != nil {
		g.first = RecordError{Line: rec.Line, Message: rec.Err.Error()}.Error()
	}
	if recognised && !g.seen {
		g.seen = true
		if err := g.flush(); err != nil {
			return err
		}
	}
	if g.seen || g.passing {
		return g.fn(rec)
	}
	g.held = append(g.held, rec)
	if len(g.held) >= maxHeld {
		g.passing = true
		return g.flush()
	}
	return nil
}

func (g *recognizer) flush() error {
	held := g.held
	g.held = nil
	for _, r := range held {
		if err := g.fn(r); err != nil {
			return err
		}
	}
	return nil
}

// end is called at the end of the input: nil when a record was
// recognised, else a NoRecordsError.
func (g *recognizer) end(in *textSniffer) error {
	if g.seen {
		return nil
	}
	return &NoRecordsError{Format: g.format, Empty: !in.text, First: g.first}
}

// textSniffer notes whether anything but white space was read.
type textSniffer struct {
	r    io.Reader
	text bool
}

func (s *textSniffer) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if !s.text {
		for _, c := range p[:n] {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' {
				s.text = true
				break
			}
		}
	}
	return n, err
}
