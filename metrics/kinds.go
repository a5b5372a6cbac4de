package metrics

import (
	"regexp"
	"strings"
)

// Fetch error kinds, the values of evidence_fetch_errors_total's kind label.
const (
	KindTimeout = "timeout"
	KindHTTP4xx = "http_4xx"
	KindHTTP5xx = "http_5xx"
	KindRobots  = "robots"
	KindBlocked = "blocked"
	KindParse   = "parse"
	KindOther   = "other"
)

// httpStatus finds the status the fetcher names: "HTTP 404 Not Found".
var httpStatus = regexp.MustCompile(`\bHTTP ([1-5])\d\d\b`)

// FetchErrorKind classifies one line of an ingest run's errors (the
// "errors" of `ingest --json`, each naming its URL and cause, as the fetch
// client and the pipeline word them). It returns "" for a line that is no
// error: the note that new items were left for the next run, and a run cut
// short by shutdown.
//
// The order matters: a block is often a 403 ("blocked by the site (HTTP
// 403 Forbidden)"), and robots.txt can be unavailable because it answered
// 5xx; both are reported as what they mean, not by their status.
func FetchErrorKind(msg string) string {
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "left for the next run"),
		strings.HasSuffix(lower, "context canceled"):
		return ""
	case strings.Contains(lower, "blocked by the site"), strings.Contains(lower, "bot challenge"),
		strings.Contains(lower, "cf-mitigated"):
		return KindBlocked
	case strings.Contains(lower, "robots.txt"):
		return KindRobots
	case strings.Contains(lower, "timed out"), strings.Contains(lower, "deadline exceeded"),
		strings.Contains(lower, "i/o timeout"):
		return KindTimeout
	}
	if m := httpStatus.FindStringSubmatch(msg); m != nil {
		switch m[1] {
		case "4":
			return KindHTTP4xx
		case "5":
			return KindHTTP5xx
		}
	}
	for _, p := range []string{"feed: parse", "page: sitemap", "page: listing", "page: extract",
		"parse html", "malformed", "not a feed", "no title in any layer", "0 items from layer", "has a valid date"} {
		if strings.Contains(lower, p) {
			return KindParse
		}
	}
	return KindOther
}
