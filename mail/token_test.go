package mail

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func testSecret(b byte) []byte { return []byte(strings.Repeat(string(rune('a'+b)), MinSecretBytes)) }

func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cur, err := NewTokens(testSecret(1), nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	confirm := cur.Sign(PurposeConfirm, "sub-42", ConfirmTTL)
	unsub := cur.Sign(PurposeUnsubscribe, "sub-42", NoExpiry)

	// After a rotation the old secret still verifies; a third does not.
	rotated, err := NewTokens(testSecret(2), [][]byte{testSecret(1)}, clock)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewTokens(testSecret(3), nil, clock)

	later := func(d time.Duration) *Tokens {
		tk, _ := NewTokens(testSecret(1), nil, func() time.Time { return now.Add(d) })
		return tk
	}
	tamper := func(tok string) string {
		p, s, _ := strings.Cut(tok, ".")
		b := []byte(p)
		b[len(b)/2] ^= 1
		return string(b) + "." + s
	}

	tests := []struct {
		name    string
		tk      *Tokens
		token   string
		purpose Purpose
		want    string
		wantErr error
	}{
		{"confirm ok", cur, confirm, PurposeConfirm, "sub-42", nil},
		{"unsubscribe ok", cur, unsub, PurposeUnsubscribe, "sub-42", nil},
		{"wrong purpose", cur, confirm, PurposeUnsubscribe, "", ErrTokenPurpose},
		{"tampered payload", cur, tamper(confirm), PurposeConfirm, "", ErrTokenInvalid},
		{"cut short", cur, confirm[:len(confirm)-3], PurposeConfirm, "", ErrTokenInvalid},
		{"no dot", cur, "abc", PurposeConfirm, "", ErrTokenInvalid},
		{"empty", cur, "", PurposeConfirm, "", ErrTokenInvalid},
		{"confirm after 6 days", later(6 * 24 * time.Hour), confirm, PurposeConfirm, "sub-42", nil},
		{"confirm after 7 days", later(ConfirmTTL), confirm, PurposeConfirm, "", ErrTokenExpired},
		{"unsubscribe years later", later(5 * 365 * 24 * time.Hour), unsub, PurposeUnsubscribe, "sub-42", nil},
		{"rotated: old token", rotated, confirm, PurposeConfirm, "sub-42", nil},
		{"rotated: new token", rotated, rotated.Sign(PurposeConfirm, "s", ConfirmTTL), PurposeConfirm, "s", nil},
		{"other secret", other, confirm, PurposeConfirm, "", ErrTokenInvalid},
		{"old secret does not verify new", cur, rotated.Sign(PurposeConfirm, "s", ConfirmTTL), PurposeConfirm, "", ErrTokenInvalid},
		{"subject with separator", cur, cur.Sign(PurposePreferences, "a|b", NoExpiry), PurposePreferences, "a|b", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.tk.Verify(tt.token, tt.purpose)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify = %q, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Verify = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestNewTokensRefusesShortSecrets(t *testing.T) {
	if _, err := NewTokens([]byte("short"), nil, nil); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	if _, err := NewTokens(testSecret(1), [][]byte{[]byte("short")}, nil); err == nil {
		t.Error("a 5-byte previous secret was accepted")
	}
	s, err := NewSecret()
	if err != nil || len(s) != 2*MinSecretBytes {
		t.Fatalf("NewSecret = %q, %v", s, err)
	}
}

// FuzzVerify: a token from a URL is outside input; Verify never panics and
// accepts nothing it did not sign.
func FuzzVerify(f *testing.F) {
	tk, _ := NewTokens(testSecret(1), nil, func() time.Time { return time.Unix(1e9, 0) })
	good := tk.Sign(PurposeUnsubscribe, "sub-1", NoExpiry)
	f.Add(good)
	f.Add("")
	f.Add(".")
	f.Add("MXx1bnN1YnNjcmliZXwwfHN1Yi0x.")
	f.Fuzz(func(t *testing.T, token string) {
		subj, err := tk.Verify(token, PurposeUnsubscribe)
		if err == nil && token != good && strings.TrimSpace(token) != good {
			// Another encoding of the same bytes could verify only if it
			// decodes to the signed payload and MAC.
			if subj != "sub-1" {
				t.Fatalf("forged token %q verified as %q", token, subj)
			}
		}
	})
}
