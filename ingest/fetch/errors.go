package fetch

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. Every error returned by Get names the URL and the cause;
// test for the kind with errors.Is.
var (
	// ErrTooLarge: the body (on the wire or after gzip decoding) exceeds
	// Options.MaxBodyBytes. Never retried.
	ErrTooLarge = errors.New("body too large")
	// ErrDisallowed: robots.txt forbids the URL for our user agent. Never retried.
	ErrDisallowed = errors.New("disallowed by robots.txt")
	// ErrRobotsUnavailable: robots.txt answered 5xx or could not be fetched, so
	// (RFC 9309 §2.3.1.4) the whole host is treated as disallowed for the life
	// of the client. Usually transient: try again on a later run.
	ErrRobotsUnavailable = errors.New("robots.txt unavailable")
	// ErrBlocked: the site refused us (HTTP 403, a cf-mitigated header, or a
	// bot-challenge page). Never retried: report it and back off.
	ErrBlocked = errors.New("blocked by the site")
	// ErrTooManyRedirects: more than Options.MaxRedirects redirects, or a loop.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrTimeout: a request (including reading its body) took longer than
	// Options.Timeout, or the connection could not be made in ConnectTimeout.
	ErrTimeout = errors.New("timed out")
)

// StatusError is returned for a non-2xx final status that is not covered by a
// sentinel (404, 410, 500 after retries…). Use errors.As to get the status.
type StatusError struct {
	URL    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch %s: %s", e.URL, statusText(e.Status))
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("HTTP %d %s", code, t)
	}
	return fmt.Sprintf("HTTP %d", code)
}

// fetchError is the error type behind every failure of Get: "fetch URL: msg".
// It unwraps to its kind (a sentinel above, may be nil) and to the underlying
// error (may be nil), so errors.Is and errors.As see both.
type fetchError struct {
	url  string
	msg  string
	kind error
	err  error
}

func (e *fetchError) Error() string { return "fetch " + e.url + ": " + e.msg }

func (e *fetchError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

func newError(url string, kind, err error, format string, args ...any) *fetchError {
	return &fetchError{url: url, msg: fmt.Sprintf(format, args...), kind: kind, err: err}
}

// causeError is an attempt-level failure before it is tied to a URL: its
// message is the cause only ("body exceeds 15 MiB limit").
type causeError struct {
	msg  string
	kind error
	err  error
}

func (e *causeError) Error() string { return e.msg }

func (e *causeError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

// withURL turns an attempt-level error into a fetchError naming url, keeping
// the message and everything it wraps.
func withURL(url string, err error) error {
	if ae, ok := asAddressError(err); ok {
		if ae.URL == "" {
			ae.URL = url
		}
		return ae
	}
	var fe *fetchError
	var se *StatusError
	if errors.As(err, &fe) || errors.As(err, &se) {
		return err
	}
	return &fetchError{url: url, msg: err.Error(), err: err}
}

// formatSize renders a byte count as "15 MiB" when it is a whole number of
// MiB or KiB, else as "1234 bytes".
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
