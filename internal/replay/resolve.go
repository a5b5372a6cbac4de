package replay

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// indexNames are tried, in this order, for a path ending in "/" (or a path
// naming a directory).
var indexNames = []string{"index.html", "index.xml", "index.json", "index.txt"}

// trackingParams are dropped from an unmatched query before a second lookup.
var trackingParams = map[string]bool{"fbclid": true, "gclid": true, "mc_cid": true, "mc_eid": true}

// sidecarExt is the suffix of a headers sidecar.
const sidecarExt = ".headers"

var hostRE = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*$`)

// errBadRequest marks a request path or host that can never name a file.
var errBadRequest = errors.New("bad request")

// target is the file a request resolved to.
type target struct {
	// body is the body file's name inside the host root; "" when only the
	// sidecar exists.
	body string
	// sidecar is the sidecar's name; "" when there is none.
	sidecar string
	// typeName is the name (without "@query") whose extension gives the
	// Content-Type.
	typeName string
}

// hostKey returns the host directory name for a Host header value.
func hostKey(hostport string) (string, error) {
	h := strings.ToLower(hostport)
	if strings.HasPrefix(h, "[") { // IPv6 literal: never a snapshot host
		return "", fmt.Errorf("%w: host %q", errBadRequest, hostport)
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if !hostRE.MatchString(h) {
		return "", fmt.Errorf("%w: host %q", errBadRequest, hostport)
	}
	return h, nil
}

// cleanPath checks a decoded URL path and returns it relative to the host
// root ("" for "/") and whether it ended in "/".
func cleanPath(escaped, decoded string) (rel string, dir bool, err error) {
	low := strings.ToLower(escaped)
	if strings.Contains(low, "%2f") || strings.Contains(low, "%5c") || strings.Contains(low, "%00") {
		return "", false, fmt.Errorf("%w: encoded separator in %q", errBadRequest, escaped)
	}
	if !strings.HasPrefix(decoded, "/") {
		return "", false, fmt.Errorf("%w: path %q not absolute", errBadRequest, decoded)
	}
	if strings.ContainsAny(decoded, "\\\x00") {
		return "", false, fmt.Errorf("%w: path %q", errBadRequest, decoded)
	}
	dir = strings.HasSuffix(decoded, "/")
	trimmed := strings.TrimSuffix(decoded[1:], "/")
	if trimmed == "" {
		if decoded != "/" {
			return "", false, fmt.Errorf("%w: empty segment in %q", errBadRequest, decoded)
		}
		return "", true, nil
	}
	for seg := range strings.SplitSeq(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", false, fmt.Errorf("%w: segment %q in %q", errBadRequest, seg, decoded)
		}
	}
	return trimmed, dir, nil
}

// QueryKey returns the file-name suffix (without the leading "@") for a raw
// query string: percent escapes kept with upper-case hex, every byte outside
// A-Z a-z 0-9 - . _ ~ = & + , written as %XX. Snapshot authors can use it (or
// its rule) to name a file for a URL with a query string.
func QueryKey(rawQuery string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(rawQuery); i++ {
		c := rawQuery[i]
		switch {
		case c == '%' && i+2 < len(rawQuery) && isHex(rawQuery[i+1]) && isHex(rawQuery[i+2]):
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(rawQuery[i+1 : i+3]))
			i += 2
		case keepByte(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func keepByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-._~=&+,", c) >= 0
}

// stripTracking drops utm_* and the other tracking parameters from a raw
// query, keeping the order of the rest.
func stripTracking(rawQuery string) string {
	var kept []string
	for p := range strings.SplitSeq(rawQuery, "&") {
		name, _, _ := strings.Cut(p, "=")
		if p == "" || strings.HasPrefix(strings.ToLower(name), "utm_") || trackingParams[strings.ToLower(name)] {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

// resolve finds the file for a cleaned path and raw query in root. It
// returns fs.ErrNotExist (wrapped) when nothing matches.
func resolve(root *os.Root, rel string, dir bool, rawQuery string) (target, error) {
	if path.Ext(rel) == sidecarExt {
		return target{}, fmt.Errorf("%s: sidecar is not servable: %w", rel, fs.ErrNotExist)
	}
	var bases []string
	if !dir {
		bases = append(bases, rel)
	}
	for _, n := range indexNames {
		bases = append(bases, path.Join(rel, n))
	}
	queries := []string{rawQuery}
	if rawQuery != "" {
		if s := stripTracking(rawQuery); s != rawQuery {
			queries = append(queries, s)
		}
	}
	for _, q := range queries {
		for _, b := range bases {
			name := b
			if q != "" {
				name += "@" + QueryKey(q)
			}
			t := target{typeName: b}
			if isRegular(root, name) {
				t.body = name
			}
			if isRegular(root, name+sidecarExt) {
				t.sidecar = name + sidecarExt
			}
			if t.body != "" || t.sidecar != "" {
				return t, nil
			}
		}
	}
	return target{}, fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
}

// isRegular reports whether name is a regular file inside root. Stat follows
// symlinks only while they stay inside root.
func isRegular(root *os.Root, name string) bool {
	if name == "" {
		return false
	}
	fi, err := root.Stat(filepath.FromSlash(name))
	return err == nil && fi.Mode().IsRegular()
}
