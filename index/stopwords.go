package index

import "strings"

// IsStopWord reports whether the text analysis drops w (after lower-casing)
// as an English stop word: the Snowball list bleve ships, which the index
// also uses.
func IsStopWord(w string) bool {
	_, ok := englishStopWords()[strings.ToLower(w)]
	return ok
}
