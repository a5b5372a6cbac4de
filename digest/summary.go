package digest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SummaryMax is the longest summary an entry shows, in runes.
const SummaryMax = 320

// Summarise cuts a summary to its first one or two sentences: the first,
// and the second too when both fit in SummaryMax runes. A first sentence
// longer than that is cut at a word and ends with "…".
func Summarise(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = trimTeaser(s)
	if s == "" {
		return ""
	}
	ends := sentenceEnds(s, 2)
	switch {
	case len(ends) == 0:
		if utf8.RuneCountInString(s) <= SummaryMax {
			return s
		}
		return cutWords(s, SummaryMax)
	case utf8.RuneCountInString(s[:ends[0]]) > SummaryMax:
		return cutWords(s, SummaryMax)
	case len(ends) > 1 && utf8.RuneCountInString(s[:ends[1]]) <= SummaryMax:
		return s[:ends[1]]
	case len(ends) == 1 && utf8.RuneCountInString(s) <= SummaryMax:
		return s
	}
	return s[:ends[0]]
}

// sentenceEnds returns the byte offsets just after the first n sentence
// ends: . ! or ? (and any closing quote or bracket) followed by a space and
// a capital letter, digit or opening quote, not after a known abbreviation
// or an initial.
func sentenceEnds(s string, n int) []int {
	var out []int
	for i := 0; i < len(s) && len(out) < n; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r != '.' && r != '!' && r != '?' {
			continue
		}
		end := i
		for end < len(s) {
			c, sz := utf8.DecodeRuneInString(s[end:])
			if !strings.ContainsRune(`"')]’”`, c) {
				break
			}
			end += sz
		}
		if end >= len(s) || s[end] != ' ' {
			continue
		}
		next, _ := utf8.DecodeRuneInString(s[end+1:])
		if !unicode.IsUpper(next) && !unicode.IsDigit(next) && !strings.ContainsRune(`"'‘“(`, next) {
			continue
		}
		if r == '.' && isAbbreviation(s[:i-1]) {
			continue
		}
		out = append(out, end)
	}
	return out
}

func isAbbreviation(before string) bool {
	w := before
	if k := strings.LastIndexAny(w, " (\"'"); k >= 0 {
		w = w[k+1:]
	}
	if utf8.RuneCountInString(w) == 1 {
		r, _ := utf8.DecodeRuneInString(w)
		return unicode.IsUpper(r) // an initial: "J. Smith"
	}
	// Abbreviations end with a full stop without ending a sentence.
	switch strings.ToLower(w) {
	case "dr", "mr", "mrs", "ms", "prof", "e.g", "i.e", "etc", "vs", "st", "no", "al", "cf", "approx":
		return true
	}
	return false
}

// cutWords cuts s to at most max runes (the ellipsis included), at a word.
func cutWords(s string, max int) string {
	runes := []rune(s)
	if len(runes) <= max {
		return s
	}
	cut := string(runes[:max-1])
	if k := strings.LastIndexByte(cut, ' '); k > len(cut)/2 {
		cut = cut[:k]
	}
	return strings.TrimRight(cut, " ,;:—–-") + "…"
}

// trimTeaser drops a trailing "Read More" (and the other teasers feeds
// leave at the end of a summary).
func trimTeaser(s string) string {
	teasers := [...]string{"read more", "continue reading", "read the full article", "[…]", "[...]", "…", "..."}
	for changed := true; changed; {
		changed = false
		lower := strings.ToLower(s)
		for _, t := range teasers {
			if strings.HasSuffix(lower, t) && len(s) > len(t) {
				s = strings.TrimRight(s[:len(s)-len(t)], " ")
				lower = strings.ToLower(s)
				changed = true
			}
		}
	}
	return s
}
