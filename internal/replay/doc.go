// Package replay serves a tree of recorded (or hand-made) publisher pages over
// plain HTTP, so tests and the demo never reach the real publishers. The
// fetcher sends a publisher's requests to the replay address with the
// original Host header (config key fetch.connect_to, HOST=ADDR), and the
// server answers from Dir/<host>/.
//
// # Mapping a request to a file
//
// The host is the request's Host header, port stripped, lower-cased; it must
// look like a DNS name ([a-z0-9.-], no empty label), else 400. Dir/<host>/
// missing → 404 "unknown host". Paths are the decoded URL path: a segment "."
// or "..", an empty segment ("//"), a backslash, a NUL or an encoded slash
// (%2F, %5C) → 400. Files are opened through os.Root, so nothing outside
// Dir/<host>/ is ever read, not even through a symlink (an absolute or
// escaping symlink is 404).
//
//   - "/" or a path ending in "/" ("/a/b/") → the first of a/b/index.html,
//     a/b/index.xml, a/b/index.json, a/b/index.txt that exists.
//   - "/a/b" → the file a/b if it is a regular file, else a/b/index.* as above
//     (no redirect is added: WordPress's slash redirect is not imitated).
//   - A query string → the same candidates with "@" and the query appended:
//     "/feed/?paged=2" → feed/index.xml@paged=2, "/?p=12345" →
//     index.html@p=12345. The query is taken as sent (order kept); a percent
//     escape keeps its "%" (hex upper-cased) and any byte outside
//     A-Z a-z 0-9 - . _ ~ = & + , is written %XX, so "?url=/x" →
//     @url=%2Fx. Every such name is valid on Windows and in a Go module zip.
//     If no file matches, the tracking parameters (utm_*, fbclid, gclid,
//     mc_cid, mc_eid) are dropped and the lookup tried again, as WordPress
//     ignores them; any other unmatched query is 404.
//   - A candidate exists when its body file or its sidecar "<name>.headers"
//     does. A request naming a ".headers" file directly is 404.
//
// # Responses
//
// Content-Type comes from the extension of the name before "@": .html →
// text/html; charset=utf-8; .xml → application/rss+xml (RSS), application/
// atom+xml (Atom) or application/xml, by the document's root element, each
// with charset=utf-8; .json, .txt, .gz (application/gzip), .pdf, .csv and a
// few more; anything else is sniffed. ETag is strong: the quoted first 16 hex
// digits of the body's SHA-256. Last-Modified is DefaultLastModified unless the
// sidecar gives one, so responses never depend on file mtimes. If-None-Match
// (weak comparison; it wins over If-Modified-Since) and If-Modified-Since
// give 304 with no body, only on 200 responses. HEAD sends the headers of GET.
// Other methods → 405. Date comes from Options.Now.
//
// # Sidecars
//
// "<name>.headers" holds lines "Header-Name: value"; blank lines and lines
// starting with "#" are ignored. Each header it names replaces the default
// (repeat a name to send it twice). The pseudo-header "Status: 301" sets the
// status. A sidecar with no body file describes a redirect or an error and
// must have a Status line; the response then has an empty body:
//
//	# SYNTHETIC: old post ID redirect
//	Status: 301
//	Location: https://www.nationalelfservice.net/treatment/…/
//
// # Fault paths
//
// On every host, paths under /__replay/ produce failures for fetcher tests:
// /__replay/status/{code} (429 and 503 carry Retry-After: 1, or ?retry_after=N),
// /__replay/delay/{duration} (waits, at most 30s, or until the client goes),
// /__replay/blocked (403, cf-mitigated: challenge, a "Just a moment..." page),
// /__replay/bytes/{n} (n bytes, at most 64 MiB), /__replay/hangup (closes
// the connection without answering) and /__replay/stats (Stats as JSON).
package replay
