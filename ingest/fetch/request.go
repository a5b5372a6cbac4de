package fetch

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/evidencetracker/evidence/ingest/text"
)

const (
	// errorBodyLimit bounds what is read of a non-2xx body (enough to
	// recognise a bot-challenge page); it is truncated, not an error.
	errorBodyLimit = 256 << 10
	// redirectBodyLimit bounds what is drained of a redirect's body.
	redirectBodyLimit = 64 << 10
)

// rawResponse is one HTTP exchange, body read and Content-Encoding decoded.
type rawResponse struct {
	url    *url.URL // the URL asked for (original scheme and host)
	status int
	header http.Header
	body   []byte
	wire   int64 // body bytes read from the wire
}

// fetchRetrying performs one hop: attempts u until it succeeds, fails for
// good, or the retries are used up. Blocks are detected here so they are
// never retried.
func (c *Client) fetchRetrying(ctx context.Context, u *url.URL, validators http.Header) (*rawResponse, error) {
	for attempt := 0; ; attempt++ {
		raw, err := c.attempt(ctx, u, validators)
		var cause error
		var wait time.Duration
		var blocked string
		if err == nil {
			blocked = blockedReason(raw)
		}
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, newError(u.String(), nil, err, "%v", err)
			}
			if !retryable(err) {
				return nil, withURL(u.String(), err)
			}
			cause = err
		case blocked != "":
			// A plain 403 also unwraps to its *StatusError; a challenge does
			// not (robots.txt treats the first as "unavailable", RFC 9309).
			var se error
			if raw.status == http.StatusForbidden && raw.header.Get("Cf-Mitigated") == "" && challengeMarker(raw) == "" {
				se = &StatusError{URL: u.String(), Status: raw.status}
			}
			return nil, newError(u.String(), ErrBlocked, se, "%v (%s)", ErrBlocked, blocked)
		case raw.status != http.StatusTooManyRequests && raw.status < 500:
			return raw, nil
		default:
			cause = &StatusError{URL: u.String(), Status: raw.status}
			ra, ok := retryAfter(raw.header, c.now())
			if ok && (raw.status == http.StatusTooManyRequests || raw.status == http.StatusServiceUnavailable) {
				if ra > c.opts.MaxRetryWait && attempt < c.opts.Retries {
					return nil, newError(u.String(), nil, cause,
						"%s with Retry-After %v, beyond the %v retry-wait cap: giving up",
						statusText(raw.status), ra, c.opts.MaxRetryWait)
				}
				wait = ra
			}
		}
		if attempt >= c.opts.Retries {
			if attempt == 0 {
				return nil, withURL(u.String(), cause)
			}
			return nil, newError(u.String(), nil, cause, "giving up after %d retries: %s", attempt, causeText(cause))
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		c.stats.retries.Add(1)
		c.log.Info("fetch: retrying", "url", u.String(), "retry", attempt+1, "of", c.opts.Retries,
			"wait", wait, "cause", causeText(cause))
		if err := c.sleep(ctx, wait); err != nil {
			return nil, newError(u.String(), nil, err, "waiting to retry after %s: %v", causeText(cause), err)
		}
	}
}

func causeText(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return statusText(se.Status)
	}
	return err.Error()
}

// retryable reports whether an attempt error may succeed if tried again:
// timeouts and connection failures, not the caps, unknown hosts or
// certificate problems.
func retryable(err error) bool {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, ErrTimeout):
		return true
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrBlocked), errors.Is(err, ErrDisallowed),
		errors.Is(err, ErrTooManyRedirects), errors.Is(err, errNotRetryable), errors.Is(err, ErrRefusedAddress),
		errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return false
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalid):
		return false
	}
	return true
}

// errNotRetryable marks failures (bad encodings…) that repeat on retry.
var errNotRetryable = errors.New("not retryable")

// backoff is the wait before retry n+1: BackoffBase·2ⁿ, jittered to between
// half and all of it, capped at MaxRetryWait.
func (c *Client) backoff(n int) time.Duration {
	d := c.opts.BackoffBase
	for i := 0; i < n && d < c.opts.MaxRetryWait; i++ {
		d *= 2
	}
	d = min(d, c.opts.MaxRetryWait)
	return d/2 + rand.N(d/2+1)
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		const maxSecs = 100 * 365 * 24 * 3600 // avoid Duration overflow
		return time.Duration(min(max(secs, 0), maxSecs)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// attempt sends one GET for u in its host's turn, after the rate limiter,
// and reads the body under the caps.
func (c *Client) attempt(ctx context.Context, u *url.URL, validators http.Header) (*rawResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hs := c.host(u)
	select {
	case hs.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hs.turn }()
	if err := c.waitRate(ctx, hs); err != nil {
		return nil, err
	}

	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &causeError{msg: fmt.Sprintf("build request: %v", err), kind: errNotRetryable, err: err}
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Accept-Encoding", "gzip")
	for k, v := range validators {
		req.Header[k] = v
	}
	c.stats.requests.Add(1)
	if validators != nil {
		c.stats.conditional.Add(1)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, actx, err)
	}
	defer resp.Body.Close()
	raw := &rawResponse{url: u, status: resp.StatusCode, header: resp.Header}

	limit, strict := c.opts.MaxBodyBytes, true
	switch {
	case isRedirect(resp.StatusCode):
		limit, strict = redirectBodyLimit, false
	case resp.StatusCode >= 300:
		limit, strict = min(limit, errorBodyLimit), false
	}
	if strict && resp.ContentLength > limit {
		return nil, &causeError{kind: ErrTooLarge,
			msg: fmt.Sprintf("body exceeds %s limit (Content-Length %d)", formatSize(limit), resp.ContentLength)}
	}
	cr := &countingReader{r: resp.Body, stats: &c.stats.bytesRead}
	data, err := io.ReadAll(io.LimitReader(cr, limit+1))
	raw.wire = cr.n
	if err != nil {
		return nil, c.transportError(ctx, actx, err)
	}
	if int64(len(data)) > limit {
		if strict {
			return nil, &causeError{kind: ErrTooLarge, msg: fmt.Sprintf("body exceeds %s limit", formatSize(limit))}
		}
		data = data[:limit]
	}
	if !isRedirect(resp.StatusCode) {
		data, err = decodeContentEncoding(data, resp.Header.Get("Content-Encoding"), c.opts.MaxBodyBytes, strict)
		if err != nil {
			return nil, err
		}
		raw.body = data
	}
	c.log.Debug("fetch", "url", u.String(), "status", resp.StatusCode, "bytes", raw.wire,
		"conditional", validators != nil, "elapsed", time.Since(start))
	return raw, nil
}

// waitRate waits for the host's next slot under the rate limit.
func (c *Client) waitRate(ctx context.Context, hs *hostState) error {
	now := c.now()
	d, cancel := hs.limiter.reserve(now)
	if d <= 0 {
		return nil
	}
	c.stats.throttled.Add(1)
	if err := c.sleep(ctx, d); err != nil {
		cancel(c.now())
		return err
	}
	return nil
}

// transportError explains a failed exchange without the connect-to address
// that url.Error would print.
func (c *Client) transportError(ctx, actx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ae, ok := asAddressError(err); ok {
		return ae // the Guard's refusal says it all
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return &causeError{msg: fmt.Sprintf("timed out after %v", c.opts.Timeout), kind: ErrTimeout, err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &causeError{msg: fmt.Sprintf("timed out: %v", err), kind: ErrTimeout, err: err}
	}
	return &causeError{msg: err.Error(), err: err}
}

// decodeContentEncoding undoes gzip or deflate, capping the decoded size.
// When lenient (error bodies), a truncated or broken stream yields what
// could be decoded.
func decodeContentEncoding(data []byte, ce string, limit int64, strict bool) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(ce)) {
	case "", "identity":
		return data, nil
	case "gzip", "x-gzip":
		out, err := gunzip(data, limit)
		if err != nil && strict {
			return nil, err
		}
		return out, nil
	case "deflate":
		out, err := inflate(data, limit)
		if err != nil && strict {
			return nil, err
		}
		return out, nil
	default:
		if !strict {
			return nil, nil
		}
		return nil, &causeError{kind: errNotRetryable, msg: fmt.Sprintf("unsupported Content-Encoding %q", ce)}
	}
}

// gunzip decompresses data, failing with ErrTooLarge past limit bytes
// (a gzip bomb).
func gunzip(data []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, &causeError{kind: errNotRetryable, msg: fmt.Sprintf("decode gzip body: %v", err), err: err}
	}
	return readDecoded(zr, limit, "gzip")
}

// inflate decodes a "deflate" body: zlib as the RFC says, or the raw
// DEFLATE some servers send.
func inflate(data []byte, limit int64) ([]byte, error) {
	if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
		return readDecoded(zr, limit, "deflate")
	}
	return readDecoded(flate.NewReader(bytes.NewReader(data)), limit, "deflate")
}

func readDecoded(r io.ReadCloser, limit int64, name string) ([]byte, error) {
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(out)) > limit {
		return out[:limit], &causeError{kind: ErrTooLarge,
			msg: fmt.Sprintf("decompressed body exceeds %s limit", formatSize(limit))}
	}
	if err != nil {
		return out, &causeError{kind: errNotRetryable, msg: fmt.Sprintf("decode %s body: %v", name, err), err: err}
	}
	return out, nil
}

// decodeBody decompresses a gzip file (sitemap.xml.gz) and works out the
// media type of what is left.
func (c *Client) decodeBody(raw *rawResponse) (body []byte, mediaType string, gunzipped bool, err error) {
	body = raw.body
	mediaType = mediaTypeOf(raw.header.Get("Content-Type"))
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) &&
		(mediaType == "" || mediaType == "application/x-gzip" || mediaType == "application/gzip" ||
			mediaType == "application/octet-stream" || strings.HasSuffix(raw.url.Path, ".gz") || isText(mediaType)) {
		out, err := gunzip(body, c.opts.MaxBodyBytes)
		if err != nil {
			return nil, "", false, err
		}
		body, mediaType, gunzipped = out, "", true
	}
	if mediaType == "" {
		mediaType = mediaTypeOf(http.DetectContentType(body))
	}
	return body, mediaType, gunzipped, nil
}

// isText reports whether a media type is text to convert to UTF-8.
func isText(mediaType string) bool {
	switch {
	case strings.HasPrefix(mediaType, "text/"),
		strings.HasSuffix(mediaType, "+xml"), strings.HasSuffix(mediaType, "+json"):
		return true
	}
	switch mediaType {
	case "application/xml", "application/json", "application/javascript", "application/x-javascript",
		"application/ecmascript":
		return true
	}
	return false
}

// blockedReason says why a response means we are blocked, or "".
func blockedReason(raw *rawResponse) string {
	if v := raw.header.Get("Cf-Mitigated"); v != "" {
		return fmt.Sprintf("%s, cf-mitigated: %s", statusText(raw.status), v)
	}
	if m := challengeMarker(raw); m != "" {
		return fmt.Sprintf("%s, bot challenge page %s", statusText(raw.status), m)
	}
	if raw.status == http.StatusForbidden {
		return statusText(raw.status)
	}
	return ""
}

// challengeMarker says what marks the body as a bot-challenge or "blocked"
// page, or "": Cloudflare's phrases anywhere in an error body but only in
// the <title> of a 2xx page (an article may quote them), and whatever
// text.ChallengeReason recognises (the page parsers' rule: Sucuri,
// DDoS-Guard, Imperva titles and challenge-script markers).
func challengeMarker(raw *rawResponse) string {
	if isRedirect(raw.status) {
		return ""
	}
	body := raw.body
	if raw.status < 300 {
		body = htmlTitle(raw.body)
	}
	for _, m := range [...]string{"Just a moment...", "Just a moment…", "Attention Required"} {
		if bytes.Contains(body, []byte(m)) {
			return strconv.Quote(m)
		}
	}
	return text.ChallengeReason(raw.body)
}

// htmlTitle returns the text of the first <title> element in the first
// 64 KiB of body, or nil.
func htmlTitle(body []byte) []byte {
	head := body[:min(len(body), 64<<10)]
	lower := bytes.ToLower(head)
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
	if end < 0 {
		return nil
	}
	return head[start : start+end]
}
