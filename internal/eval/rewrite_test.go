package eval

import (
	"strings"
	"testing"
)

func TestWithoutStopWords(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"The effect of Lithium on (mood)", "effect Lithium mood"},
		{"title: what IS it? A&E waits", "title E waits"},
		// Words on the index's full list, beyond the 74 eval once copied.
		{"about all depression against", "depression"},
	}
	for _, tt := range tests {
		if got := withoutStopWords(tt.in); got != tt.want {
			t.Errorf("withoutStopWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFirstWords(t *testing.T) {
	var in []string
	for range 2 * fallbackTerms {
		in = append(in, "the", "word")
	}
	got := strings.Fields(firstWords(strings.Join(in, " ")))
	if len(got) != fallbackTerms {
		t.Fatalf("firstWords kept %d words, want %d", len(got), fallbackTerms)
	}
	for _, w := range got {
		if w != "word" {
			t.Fatalf("firstWords kept %q", w)
		}
	}
}
