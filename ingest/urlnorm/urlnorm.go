// Package urlnorm turns the many spellings of a publisher's URL into one key:
// https, lower-case host, one preferred host per site, no fragment, no
// tracking parameters, sorted query, clean path, normalised percent-encoding
// and one trailing-slash policy per site (publishers.md, rule 5).
//
// It also recognises WordPress URLs that are never items (attachments, feeds,
// pagination, ?p=N, AMP) and extracts DOIs from links.
//
// The package imports only the standard library and the domain package.
package urlnorm

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
)

// Trailing-slash policies for Rules.TrailingSlash.
const (
	SlashKeep  = "keep"
	SlashAdd   = "add"
	SlashStrip = "strip"
)

// Rules are the per-site parts of normalisation. The zero value applies the
// generic rules only.
type Rules struct {
	// PreferredHost, e.g. "www.nationalelfservice.net": the bare and www.
	// forms of this site are both rewritten to it. Empty: hosts are kept.
	PreferredHost string
	// TrailingSlash is "keep" (or ""), "add" or "strip". It is applied to the
	// path, never to "/" and ("add") never to a last segment with a file
	// extension such as report.pdf.
	TrailingSlash string
	// ExtraStripParams are query parameters to drop besides the tracking
	// ones (compared case-insensitively).
	ExtraStripParams []string
}

// trackingParams are dropped from every URL (compared lower-cased). Any
// parameter starting with "utm_" or "mc_" is dropped as well.
var trackingParams = map[string]bool{
	"fbclid":  true,
	"gclid":   true,
	"_ga":     true,
	"ref_src": true,
}

// Normalize resolves raw against base (which may be nil when raw is
// absolute) and returns its normal form. A URL that is not http(s) or has no
// host is an error wrapping evidence.ErrInvalid; so is an unknown
// TrailingSlash policy.
func Normalize(raw string, base *url.URL, r Rules) (string, error) {
	invalid := func(why string) error {
		return fmt.Errorf("urlnorm: normalize %q: %s: %w", raw, why, evidence.ErrInvalid)
	}
	switch r.TrailingSlash {
	case "", SlashKeep, SlashAdd, SlashStrip:
	default:
		return "", invalid(fmt.Sprintf("unknown trailing-slash policy %q", r.TrailingSlash))
	}

	s := strings.TrimSpace(raw)
	// Browsers drop tabs and newlines anywhere in a URL (WHATWG URL).
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	if s == "" {
		return "", invalid("empty URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", invalid(unwrapURLError(err))
	}
	if base != nil && !u.IsAbs() {
		u = base.ResolveReference(u)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		if scheme == "" {
			return "", invalid("not absolute and no base URL")
		}
		return "", invalid(fmt.Sprintf("scheme %q is not http or https", scheme))
	}
	if u.Opaque != "" {
		return "", invalid("no host")
	}

	host, err := normalizeHost(u, scheme, r.PreferredHost)
	if err != nil {
		return "", invalid(err.Error())
	}

	path := cleanPath(normalizeEscapes(u.EscapedPath(), encodePath))
	path = applySlash(path, r.TrailingSlash)

	query := normalizeQuery(u.RawQuery, r.ExtraStripParams)

	out := "https://" + host + path
	if query != "" {
		out += "?" + query
	}
	return out, nil
}

// unwrapURLError drops the "parse \"…\": " prefix url.Parse puts on errors:
// the caller names the URL already.
func unwrapURLError(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// normalizeHost lower-cases the host, drops a trailing dot, the user info
// and a default port, and applies the preferred host.
func normalizeHost(u *url.URL, scheme, preferred string) (string, error) {
	// Every trailing dot goes ("example.org.." is example.org), so the
	// result normalises to itself; an empty label inside is an error.
	name := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if name == "" {
		return "", fmt.Errorf("no host")
	}
	if strings.Contains(name, "..") {
		return "", fmt.Errorf("empty label in host %q", name)
	}
	ipv6 := strings.Contains(name, ":")
	for _, c := range name {
		switch {
		case c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'):
		case ipv6 && (c == ':' || c == '%'):
		case c >= utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsMark(c)) && unicode.ToLower(c) == c:
		default:
			return "", fmt.Errorf("invalid character %q in host", c)
		}
	}
	if ipv6 {
		if strings.Contains(name, "%") {
			return "", fmt.Errorf("zone in IPv6 host")
		}
		name = "[" + name + "]"
	}
	if p := strings.ToLower(strings.TrimSuffix(preferred, ".")); p != "" && !ipv6 {
		if strings.TrimPrefix(name, "www.") == strings.TrimPrefix(p, "www.") {
			name = p
		}
	}
	port := u.Port()
	if port == "" {
		return name, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n > 65535 {
		return "", fmt.Errorf("invalid port %q", port)
	}
	if n == 443 || (n == 80 && scheme == "http") {
		return name, nil
	}
	return name + ":" + strconv.Itoa(n), nil
}

type encodeMode int

const (
	encodePath encodeMode = iota
	encodeQuery
)

// normalizeEscapes rewrites s so every percent-escape is upper-case hex,
// escapes of unreserved characters are decoded, a stray "%" becomes "%25"
// and bytes that may not appear raw (space, controls, non-ASCII, quotes…)
// are escaped.
func normalizeEscapes(s string, mode encodeMode) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				v := unhex(s[i+1])<<4 | unhex(s[i+2])
				if isUnreserved(v) {
					b.WriteByte(v)
				} else {
					b.WriteByte('%')
					b.WriteByte(hex[v>>4])
					b.WriteByte(hex[v&15])
				}
				i += 2
				continue
			}
			b.WriteString("%25")
			continue
		}
		if allowedRaw(c, mode) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// isUnreserved reports RFC 3986 unreserved characters.
func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// allowedRaw reports the bytes kept unescaped: unreserved characters,
// sub-delims, ":" and "@", "/" (and in queries "?"; "&" and "=" are handled
// by the query splitter and are kept as given).
func allowedRaw(c byte, mode encodeMode) bool {
	if isUnreserved(c) {
		return true
	}
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/':
		return true
	case '?':
		return mode == encodeQuery
	}
	return false
}

// cleanPath collapses repeated slashes and removes "." and ".." segments,
// keeping a trailing slash. The result always starts with "/".
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "", ".":
			trailing = last
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			trailing = last
		default:
			out = append(out, s)
			trailing = false
		}
	}
	if len(out) == 0 {
		return "/"
	}
	res := "/" + strings.Join(out, "/")
	if trailing {
		res += "/"
	}
	return res
}

// applySlash applies a trailing-slash policy to a clean path.
func applySlash(p, policy string) string {
	if p == "/" {
		return p
	}
	switch policy {
	case SlashAdd:
		if !strings.HasSuffix(p, "/") && !hasExtension(p[strings.LastIndex(p, "/")+1:]) {
			return p + "/"
		}
	case SlashStrip:
		if strings.HasSuffix(p, "/") {
			return strings.TrimSuffix(p, "/")
		}
	}
	return p
}

// hasExtension reports whether a path segment ends in a file extension: a
// dot then one to five letters or digits, starting with a letter (".pdf",
// ".docx", ".mp3"; not "v1.2").
func hasExtension(seg string) bool {
	i := strings.LastIndexByte(seg, '.')
	if i <= 0 || len(seg)-i-1 < 1 || len(seg)-i-1 > 5 {
		return false
	}
	ext := seg[i+1:]
	if !(ext[0] >= 'a' && ext[0] <= 'z' || ext[0] >= 'A' && ext[0] <= 'Z') {
		return false
	}
	for j := 1; j < len(ext); j++ {
		c := ext[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// normalizeQuery drops empty and tracking parameters, normalises escapes
// and sorts what is left (by key, then value; stable for equal pairs).
func normalizeQuery(raw string, extra []string) string {
	if raw == "" {
		return ""
	}
	drop := make(map[string]bool, len(extra))
	for _, e := range extra {
		drop[strings.ToLower(e)] = true
	}
	type param struct{ key, value, text string }
	var params []param
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		part = normalizeEscapes(part, encodeQuery)
		key, value, _ := strings.Cut(part, "=")
		name := strings.ToLower(key)
		if dk, err := url.QueryUnescape(key); err == nil {
			name = strings.ToLower(dk)
		}
		if strings.HasPrefix(name, "utm_") || strings.HasPrefix(name, "mc_") || trackingParams[name] || drop[name] {
			continue
		}
		params = append(params, param{key, value, part})
	}
	sort.SliceStable(params, func(i, j int) bool {
		if params[i].key != params[j].key {
			return params[i].key < params[j].key
		}
		return params[i].value < params[j].value
	})
	texts := make([]string, len(params))
	for i, p := range params {
		texts[i] = p.text
	}
	return strings.Join(texts, "&")
}
