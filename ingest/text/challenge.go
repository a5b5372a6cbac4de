package text

import (
	"bytes"
	"fmt"
)

// Bot-challenge and "blocked" pages, recognised in one place for the
// fetcher (which refuses them as blocks) and the page parsers (which refuse
// to read them as content).

// challengeTitles are <title> texts of bot-challenge and "blocked" pages.
// Only the title is trusted for these phrases: an article may quote them.
var challengeTitles = []string{
	"just a moment...",
	"just a moment…",
	"attention required! | cloudflare",
	"please wait... | cloudflare",
	"access denied | ", // Cloudflare 1020: "Access denied | example.org used Cloudflare to restrict access"
	"ddos-guard",
	"sucuri website firewall",
	"pardon our interruption", // Imperva / Distil
	"verifying you are human",
	"checking your browser",
}

// challengeMarkers are strings found only in challenge pages' markup.
var challengeMarkers = []string{
	"window._cf_chl_opt",
	"cf-browser-verification",
	"cf_chl_prog",
	`id="challenge-form"`,
	"cf-error-details", // Cloudflare block pages (error 1020 …)
	"Enable JavaScript and cookies to continue",
	"Checking if the site connection is secure",
	"Request unsuccessful. Incapsula incident ID",
	"_Incapsula_Resource",
	"/_guard/html.js?js=", // DDoS-Guard
}

// challengeScan bounds how much of a page is searched: challenge pages are
// small and put their markers early.
const challengeScan = 256 << 10

// ChallengeReason returns what marks body as a bot-challenge or "blocked"
// page (Cloudflare's "Just a moment...", "Attention Required!", Sucuri,
// DDoS-Guard, Imperva) rather than the page asked for, or "" if nothing
// does. Phrases an article might quote count only in <title>; script and
// form markers count anywhere in the first 256 KiB.
func ChallengeReason(body []byte) string {
	head := body[:min(len(body), challengeScan)]
	if t := bytes.ToLower(bytes.TrimSpace(titleOf(head))); len(t) > 0 {
		for _, m := range challengeTitles {
			if bytes.Contains(t, []byte(m)) {
				return fmt.Sprintf("title %q", bytes.TrimSpace(titleOf(head)))
			}
		}
	}
	for _, m := range challengeMarkers {
		if bytes.Contains(head, []byte(m)) {
			return fmt.Sprintf("marker %q", m)
		}
	}
	return ""
}

// titleOf returns the raw text of the first <title> element, or nil.
func titleOf(b []byte) []byte {
	lower := bytes.ToLower(b)
	i := bytes.Index(lower, []byte("<title"))
	if i < 0 {
		return nil
	}
	j := bytes.IndexByte(lower[i:], '>')
	if j < 0 {
		return nil
	}
	start := i + j + 1
	end := bytes.Index(lower[start:], []byte("</title"))
	if end < 0 || end > 1024 {
		return nil
	}
	return b[start : start+end]
}
