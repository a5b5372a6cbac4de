package web

import "net/http"

// The error codes of the JSON API: a client branches on the code, a
// person reads the message.
const (
	codeBadRequest       = "bad_request"
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeCSRF             = "csrf"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeConflict         = "conflict"
	codeUnprocessable    = "unprocessable"
	codeTooManyRequests  = "too_many_requests"
	codeInternal         = "internal"
	codeUnavailable      = "unavailable"
)

// apiError is the body of every /api/v1 error.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeAPIError writes {"error":{"code","message"}} with status; an
// error is never cached, nor validated against an earlier ETag.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Del("Last-Modified")
	var e apiError
	e.Error.Code, e.Error.Message = code, message
	writeJSON(w, status, e)
}
