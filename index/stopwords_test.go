package index

import (
	"strings"
	"testing"
)

func TestIsStopWord(t *testing.T) {
	// The 74 words eval used to keep its own copy of: all on the list.
	for _, w := range strings.Fields(`a an and are as at be been being by for from had has have having he her his
		i if in into is it its itself of on once only or other our out over own same so some such than that
		the their them then there these they this those through to too under until up very was we were what
		when where which while who whom why with would you your`) {
		if !IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = false, want true", w)
		}
		if !IsStopWord(strings.ToUpper(w)) {
			t.Errorf("IsStopWord(%q) = false, want true", strings.ToUpper(w))
		}
	}
	for _, w := range []string{"", "depression", "nhs", "care", "|", "stop"} {
		if IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = true, want false", w)
		}
	}
}

func TestIsStopWordMatchesAnalysis(t *testing.T) {
	stops := englishStopWords()
	if len(stops) < 100 {
		t.Fatalf("englishStopWords has %d words; expected the full Snowball list", len(stops))
	}
	for w := range stops {
		if !IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = false for a word on the analysis's list", w)
		}
	}
}
