package importer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// lineReader reads lines of at most max bytes, however long the input's
// lines are: the rest of a longer line is read and dropped, and the line is
// flagged.
type lineReader struct {
	br  *bufio.Reader
	n   int // number of the line last returned (1-based)
	max int
	err error
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

var bom = []byte("\xEF\xBB\xBF")

// next returns the next line without its line ending (\n or \r\n), whether
// it was longer than max (only its first max bytes are returned then), and
// io.EOF after the last line. The returned slice is the caller's.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	if l.err != nil {
		return nil, false, l.err
	}
	var buf []byte
	for {
		chunk, err := l.br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > l.max+2 {
				tooLong = true
				buf = append(buf, chunk[:max(0, l.max-len(buf))]...)
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			l.err = io.EOF
			if len(buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
		default:
			l.err = err
			return nil, false, err
		}
		l.n++
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		if l.n == 1 {
			buf = bytes.TrimPrefix(buf, bom)
		}
		if len(buf) > l.max {
			tooLong = true
			buf = buf[:l.max]
		}
		return buf, tooLong, nil
	}
}

// decodeLine returns a line as UTF-8: as it is when it is valid UTF-8, else
// read as Windows-1252 (old EndNote and BibTeX files are often Latin-1 or
// Windows-1252; Windows-1252 is a superset of Latin-1's printable range).
func decodeLine(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	}
	return string(out)
}
