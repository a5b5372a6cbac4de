package evidence

import (
	"slices"
	"testing"
)

func TestItemTypes(t *testing.T) {
	want := []string{"blog", "report", "briefing", "long-read", "news", "press-release", "article", "data", "podcast", "publication"}
	got := ItemTypes()
	if !slices.Equal(got, want) {
		t.Fatalf("ItemTypes() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if again := ItemTypes(); again[0] != TypeBlog {
		t.Fatalf("ItemTypes shares its slice between calls: got %q after changing an earlier result", again[0])
	}
	for _, typ := range want {
		if !IsItemType(typ) {
			t.Errorf("IsItemType(%q) = false, want true", typ)
		}
	}
}

func TestIsItemType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"blog", true},
		{"long-read", true},
		{"publication", true},
		{"", false},
		{"Blog", false},
		{" blog", false},
		{"longread", false},
		{"podcasts", false},
		{"thesis", false},
	} {
		if got := IsItemType(tc.in); got != tc.want {
			t.Errorf("IsItemType(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
