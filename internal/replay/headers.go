package replay

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// sidecar is a parsed "<file>.headers".
type sidecar struct {
	status int // 0 when not given
	header http.Header
}

// parseSidecar reads "Name: value" lines; "#" lines and blank lines are
// skipped; "Status: NNN [text]" sets the status.
func parseSidecar(b []byte) (sidecar, error) {
	sc := sidecar{header: http.Header{}}
	s := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return sidecar{}, fmt.Errorf("line %d: want \"Header-Name: value\", got %q", n, line)
		}
		if strings.EqualFold(name, "Status") {
			code, _, _ := strings.Cut(value, " ")
			st, err := strconv.Atoi(code)
			if err != nil || st < 100 || st > 599 {
				return sidecar{}, fmt.Errorf("line %d: bad status %q", n, value)
			}
			sc.status = st
			continue
		}
		if strings.EqualFold(name, "Last-Modified") {
			if _, err := http.ParseTime(value); err != nil {
				return sidecar{}, fmt.Errorf("line %d: Last-Modified %q is not an HTTP date: %w", n, value, err)
			}
		}
		sc.header.Add(name, value)
	}
	if err := s.Err(); err != nil {
		return sidecar{}, err
	}
	return sc, nil
}

// contentType picks the Content-Type from the file name's extension, looking
// at the body only to tell RSS and Atom from other XML, and sniffing when the
// extension is unknown.
func contentType(name string, body []byte) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".xml":
		switch xmlRoot(body) {
		case "rss", "rdf:RDF":
			return "application/rss+xml; charset=utf-8"
		case "feed":
			return "application/atom+xml; charset=utf-8"
		}
		return "application/xml; charset=utf-8"
	case ".rss":
		return "application/rss+xml; charset=utf-8"
	case ".atom":
		return "application/atom+xml; charset=utf-8"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".gz":
		return "application/gzip"
	case ".pdf":
		return "application/pdf"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".svg":
		return "image/svg+xml"
	case ".webp":
		return "image/webp"
	}
	return http.DetectContentType(body)
}

// xmlRoot returns the name of the first element in an XML document (prefix
// kept), skipping a BOM, the declaration, comments, processing instructions
// and a DOCTYPE. It looks at the first 4 KiB only.
func xmlRoot(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		switch {
		case bytes.HasPrefix(b, []byte("<?")):
			i := bytes.Index(b, []byte("?>"))
			if i < 0 {
				return ""
			}
			b = b[i+2:]
		case bytes.HasPrefix(b, []byte("<!--")):
			i := bytes.Index(b, []byte("-->"))
			if i < 0 {
				return ""
			}
			b = b[i+3:]
		case bytes.HasPrefix(b, []byte("<!")):
			i := bytes.IndexByte(b, '>')
			if i < 0 {
				return ""
			}
			b = b[i+1:]
		case bytes.HasPrefix(b, []byte("<")):
			end := bytes.IndexAny(b[1:], " \t\r\n/>")
			if end < 0 {
				return ""
			}
			return string(b[1 : 1+end])
		default:
			return ""
		}
	}
}
