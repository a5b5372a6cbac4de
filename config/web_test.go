package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWebAccountDefaults(t *testing.T) {
	l, err := Load(LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if w := l.Config.Web; !w.Public || w.SessionTTL != 14*24*time.Hour || w.AllowPrivateFetch {
		t.Errorf("web = %+v, want public, a 336h session and no private fetches", w)
	}
	t.Setenv("EVIDENCE_WEB_PUBLIC", "false")
	t.Setenv("EVIDENCE_WEB_SESSION_TTL", "2d")
	t.Setenv("EVIDENCE_WEB_ALLOW_PRIVATE_FETCH", "true")
	l, err = Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := l.Config.Web; w.Public || w.SessionTTL != 48*time.Hour || !w.AllowPrivateFetch {
		t.Errorf("web from the environment = %+v", w)
	}
}

func TestWebAccountErrorsNameTheKey(t *testing.T) {
	for _, tt := range []struct{ name, yaml, key, msg string }{
		{"public not a bool", "web:\n  public: sometimes\n", "web.public", "want true or false"},
		{"session_ttl not a duration", "web:\n  session_ttl: a fortnight\n", "web.session_ttl", "want a duration"},
		{"session_ttl too short", "web:\n  session_ttl: 30s\n", "web.session_ttl", "between 5m and 366d"},
		{"session_ttl zero", "web:\n  session_ttl: 0s\n", "web.session_ttl", "between 5m and 366d"},
		{"misspelt key", "web:\n  pubic: true\n", "web.pubic", `did you mean "public"`},
		{"allow_private_fetch not a bool", "web:\n  allow_private_fetch: sometimes\n", "web.allow_private_fetch", "want true or false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, tt.yaml), Environ: []string{}})
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v is not config.Errors", err)
			}
			for _, e := range es {
				if e.Key == tt.key && strings.Contains(e.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("errors %v: none has key %q with %q", es, tt.key, tt.msg)
		})
	}
}
