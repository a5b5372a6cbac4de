package config

import (
	"errors"
	"testing"
)

// TestUnknownItemTypeMessage pins the whole message for an unknown item
// type, including the order the known types are listed in.
func TestUnknownItemTypeMessage(t *testing.T) {
	const list = "blog, report, briefing, long-read, news, press-release, article, data, podcast, publication"
	tests := []struct {
		name, yaml, key, msg string
	}{
		{"type rule", "sources:\n  kings-fund:\n    types: [{pattern: '/x/', type: essay}]\n",
			"sources.kings-fund.types[0].type", `"essay" is not a known item type (` + list + `)`},
		{"default type", "sources:\n  kings-fund:\n    default_type: Blog\n",
			"sources.kings-fund.default_type", `"Blog" is not a known item type (` + list + `)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, tt.yaml), Environ: []string{}})
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not config.Errors: %v", err, err)
			}
			for _, e := range es {
				if e.Key == tt.key {
					if e.Msg != tt.msg {
						t.Errorf("message for %s = %q, want %q", tt.key, e.Msg, tt.msg)
					}
					return
				}
			}
			t.Errorf("errors %v: none has key %q", es, tt.key)
		})
	}
}
