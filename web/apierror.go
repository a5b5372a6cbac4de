package web

import "net/http"

// apiError is the body of every /api/v1 error.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeAPIError writes {"error":{"code","message"}} with status.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, message
	writeJSON(w, status, e)
}
