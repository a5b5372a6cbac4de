package urlnorm

import (
	"net/url"
	"regexp"
	"strings"
)

// IsWordPressNonItem reports whether u is a WordPress URL that is never an
// item (publishers.md, rule 5): an attachment page (/…/attachment/<media>/),
// a feed (a path ending in /feed, /feed/ or /feed/rss2|atom|rdf|rss/),
// a pagination page (/page/N/, ?paged=N), a post-ID link (?p=N,
// ?page_id=N, ?attachment_id=N: follow its redirect instead) or an AMP page
// (/amp, /amp/, ?amp, ?amp=1). Unparseable input is not an item either way
// and reports false.
func IsWordPressNonItem(u string) bool {
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return false
	}
	segs := strings.Split(strings.Trim(strings.ToLower(pu.Path), "/"), "/")
	for i, s := range segs {
		switch s {
		case "attachment":
			if i < len(segs)-1 {
				return true
			}
		case "page":
			if i < len(segs)-1 && isDigits(segs[i+1]) {
				return true
			}
		case "feed":
			if i == len(segs)-1 {
				return true
			}
			if i == len(segs)-2 {
				switch segs[i+1] {
				case "rss", "rss2", "atom", "rdf":
					return true
				}
			}
		case "amp":
			if i == len(segs)-1 {
				return true
			}
		}
	}
	q, err := url.ParseQuery(pu.RawQuery)
	if err != nil {
		// url.ParseQuery keeps the pairs it could parse.
		if q == nil {
			return false
		}
	}
	for _, k := range []string{"p", "page_id", "attachment_id", "paged"} {
		if v := q.Get(k); isDigits(v) {
			return true
		}
	}
	if _, ok := q["amp"]; ok {
		return true
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// doiRE matches a DOI: "10.", a registrant code of 4–9 digits (with optional
// ".sub" parts), "/", and a suffix up to white space or a character that
// cannot end a link's DOI.
var doiRE = regexp.MustCompile(`10\.[0-9]{4,9}(?:\.[0-9]+)*/[^\s"'<>?#&]+`)

// doiTrailers are path tails publishers append to a DOI in article URLs.
var doiTrailers = []string{
	"/full", "/abstract", "/epdf", "/pdf", "/pdfdirect", "/fulltext", "/full-text",
	"/summary", "/meta", "/references", "/figures", "/epub", "/html", ".pdf", ".full", ".abstract",
}

// DOI returns the DOI in u, lower-cased ("10.1192/bjp.2020.1"), or "" when
// there is none. It reads doi.org / dx.doi.org links and any URL carrying a
// DOI in its path or query (publisher article pages, ?doi=…, ?id=…).
// Percent-escapes are decoded first; trailing punctuation and publisher
// suffixes such as /full, /abstract, /pdf are removed.
func DOI(u string) string {
	s := strings.TrimSpace(u)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if dec, err := url.PathUnescape(s); err == nil {
		s = dec
	}
	m := doiRE.FindString(s)
	if m == "" {
		return ""
	}
	m = strings.ToLower(m)
	for changed := true; changed; {
		changed = false
		if n := len(m); n > 0 {
			switch c := m[n-1]; {
			case strings.IndexByte(".,;:!]}/", c) >= 0,
				c == ')' && strings.Count(m, ")") > strings.Count(m, "("):
				// Sentence punctuation, or a ")" that closes nothing in
				// the DOI: "(see doi.org/10.1/x)".
				m = m[:n-1]
				changed = true
				continue
			}
		}
		for _, t := range doiTrailers {
			if strings.HasSuffix(m, t) && strings.Contains(m[:len(m)-len(t)], "/") {
				m = strings.TrimSuffix(m, t)
				changed = true
			}
		}
	}
	if !strings.Contains(m, "/") || strings.HasSuffix(m, "/") {
		return ""
	}
	return m
}
