package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDigestDefaults(t *testing.T) {
	l, err := Load(LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatalf("built-in defaults do not load: %v", err)
	}
	want := Digest{
		Title: "Evidence Tracker weekly digest", Timezone: "Europe/London", MaxAge: 14 * 24 * time.Hour,
		SendEmpty: false, Schedule: "0 7 * * MON", RequireApproval: false, BounceLimit: 3,
	}
	if got := l.Config.Digest; got != want {
		t.Errorf("digest defaults = %+v, want %+v", got, want)
	}
}

func TestDigestEnvOverride(t *testing.T) {
	env := []string{"EVIDENCE_DIGEST_MAX_AGE=7d", "EVIDENCE_DIGEST_SEND_EMPTY=true", "EVIDENCE_DIGEST_TIMEZONE=UTC"}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	l, err := Load(LoadOptions{Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Warnings) > 0 {
		t.Errorf("digest variables warned as unknown: %v", l.Warnings)
	}
	d := l.Config.Digest
	if d.MaxAge != 7*24*time.Hour || !d.SendEmpty || d.Timezone != "UTC" {
		t.Errorf("digest after env = %+v", d)
	}
}

func TestDigestErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, key, msg string
	}{
		{"unknown zone", "digest:\n  timezone: Europe/Londres\n", "digest.timezone", "not a known time zone"},
		{"empty zone", "digest:\n  timezone: ''\n", "digest.timezone", "must not be empty"},
		{"zero max age", "digest:\n  max_age: 0s\n", "digest.max_age", "more than 0"},
		{"bad max age", "digest:\n  max_age: fortnight\n", "digest.max_age", "want a duration"},
		{"four-field schedule", "digest:\n  schedule: '0 7 * *'\n", "digest.schedule", "want 5 fields"},
		{"hour out of range", "digest:\n  schedule: '0 25 * * MON'\n", "digest.schedule", "hour field"},
		{"bad day name", "digest:\n  schedule: '0 7 * * MONDAY'\n", "digest.schedule", "day of week"},
		{"backwards range", "digest:\n  schedule: '0 7 * * 5-1'\n", "digest.schedule", "runs backwards"},
		{"bad step", "digest:\n  schedule: '*/0 7 * * *'\n", "digest.schedule", "step"},
		{"no bounces", "digest:\n  bounce_limit: 0\n", "digest.bounce_limit", "at least 1"},
		{"empty title", "digest:\n  title: ' '\n", "digest.title", "must not be empty"},
		{"unknown key", "digest:\n  timezon: UTC\n", "digest.timezon", `did you mean "timezone"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeFile(t, tt.yaml), Environ: []string{}})
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not config.Errors: %v", err, err)
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

func TestCheckCronAccepts(t *testing.T) {
	for _, spec := range []string{"0 7 * * MON", "*/15 * * * *", "0 7 1-7 * mon-fri", "30 6,18 * JAN,jul 0", "0 0 * * 7"} {
		t.Run(spec, func(t *testing.T) {
			if err := CheckCron(spec); err != nil {
				t.Errorf("CheckCron(%q) = %v", spec, err)
			}
		})
	}
}
