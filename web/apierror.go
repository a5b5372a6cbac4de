package web

import (
	"encoding/json"
	"net/http"
)

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
)

// apiErrorBody is {"error":{"code":…,"message":…}}.
type apiErrorBody struct {
	Error apiErrorDetail `json:"error"`
}

type apiErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeAPIError answers an API request with status and the JSON error
// document; it is never cached.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Del("Last-Modified")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(apiErrorBody{Error: apiErrorDetail{Code: code, Message: message}})
}
