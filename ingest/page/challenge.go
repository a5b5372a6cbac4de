package page

import (
	"fmt"

	"github.com/evidencetracker/evidence/ingest/text"
)

// IsChallenge reports whether body is a bot-challenge or "blocked" page
// rather than the page asked for (see text.ChallengeReason).
func IsChallenge(body []byte) bool {
	return text.ChallengeReason(body) != ""
}

func challengeError(what string, body []byte) error {
	return fmt.Errorf("page: %s: %s: %w", what, text.ChallengeReason(body), ErrChallenge)
}
