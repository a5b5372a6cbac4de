package evidence

import "testing"

func TestTitleKey(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Recovery, Public Mental Health and Wellbeing", "recovery public mental health and wellbeing"},
		{"The King’s Fund annual report | The King's Fund", "kings fund annual report"},
		{"Social prescribing – what works?", "social prescribing what works"},
		{"  A   new   deal for carers!  ", "new deal for carers"},
		{"NHS waiting lists: 2024-25", "nhs waiting lists 2024 25"},
	}
	for _, tt := range tests {
		if got := TitleKey(tt.a); got != tt.b {
			t.Errorf("TitleKey(%q) = %q, want %q", tt.a, got, tt.b)
		}
	}
}

func TestComputeHashChangesWithContent(t *testing.T) {
	a := Item{URL: "https://x.org/a", Title: "T", Authors: []string{"A"}}
	b := a
	if ComputeHash(&a) != ComputeHash(&b) {
		t.Fatal("equal items hash differently")
	}
	b.Authors = []string{"B"}
	if ComputeHash(&a) == ComputeHash(&b) {
		t.Error("changed authors do not change the hash")
	}
	c := a
	c.Provenance = map[string]string{"title": "og"}
	if ComputeHash(&a) == ComputeHash(&c) {
		t.Error("changed provenance does not change the hash")
	}
}
