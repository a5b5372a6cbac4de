// Package mail builds and sends the digest e-mails and signs the tokens in
// their confirm, preferences and unsubscribe links. It is the one package
// that uses the mail library (github.com/wneessen/go-mail).
package mail

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Purpose is what a token may be used for; a token signed for one purpose
// is refused for another.
type Purpose string

// Token purposes.
const (
	PurposeConfirm     Purpose = "confirm"
	PurposePreferences Purpose = "preferences"
	PurposeUnsubscribe Purpose = "unsubscribe"
)

// Token lifetimes: a confirmation link lasts a week; preferences and
// unsubscribe links in a sent digest never expire (RFC 8058 wants the
// one-click link to keep working).
const (
	ConfirmTTL = 7 * 24 * time.Hour
	NoExpiry   = time.Duration(0)
)

// Token errors; Verify wraps one of them.
var (
	ErrTokenInvalid = errors.New("the link is not valid (it was changed or cut short)")
	ErrTokenExpired = errors.New("the link has expired")
	ErrTokenPurpose = errors.New("the link is for another action")
)

// MinSecretBytes is the shortest secret Tokens accepts.
const MinSecretBytes = 32

// Tokens signs and verifies HMAC-SHA256 tokens bound to a subject (a
// subscriber), a purpose and an expiry. The first secret signs; every
// secret verifies, so a previous secret keeps old links working while it
// is rotated out.
type Tokens struct {
	secrets [][]byte
	now     func() time.Time
}

// NewTokens returns a signer. now may be nil (time.Now).
func NewTokens(current []byte, previous [][]byte, now func() time.Time) (*Tokens, error) {
	if len(current) < MinSecretBytes {
		return nil, fmt.Errorf("mail: token secret is %d bytes, need at least %d", len(current), MinSecretBytes)
	}
	if now == nil {
		now = time.Now
	}
	t := &Tokens{secrets: [][]byte{current}, now: now}
	for i, p := range previous {
		if len(p) == 0 {
			continue
		}
		if len(p) < MinSecretBytes {
			return nil, fmt.Errorf("mail: previous token secret %d is %d bytes, need at least %d", i+1, len(p), MinSecretBytes)
		}
		t.secrets = append(t.secrets, p)
	}
	return t, nil
}

// NewSecret returns a fresh random secret, hex-encoded (64 characters).
func NewSecret() (string, error) {
	b := make([]byte, MinSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mail: new secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

const tokenVersion = "1"

// Sign returns a URL-safe token for subject and purpose, valid for ttl
// (NoExpiry: forever).
func (t *Tokens) Sign(p Purpose, subject string, ttl time.Duration) string {
	exp := int64(0)
	if ttl > 0 {
		exp = t.now().Add(ttl).Unix()
	}
	payload := strings.Join([]string{tokenVersion, string(p), strconv.FormatInt(exp, 10), subject}, "|")
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(mac(t.secrets[0], payload))
}

// Verify checks a token for purpose p and returns its subject. The error
// wraps ErrTokenInvalid, ErrTokenPurpose or ErrTokenExpired.
func (t *Tokens) Verify(token string, p Purpose) (string, error) {
	enc := base64.RawURLEncoding
	b64payload, b64sig, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok || len(token) > 2048 {
		return "", ErrTokenInvalid
	}
	payloadBytes, err1 := enc.DecodeString(b64payload)
	sig, err2 := enc.DecodeString(b64sig)
	if err1 != nil || err2 != nil {
		return "", ErrTokenInvalid
	}
	payload := string(payloadBytes)
	valid := false
	for _, s := range t.secrets {
		if hmac.Equal(sig, mac(s, payload)) {
			valid = true
			break
		}
	}
	if !valid {
		return "", ErrTokenInvalid
	}
	parts := strings.SplitN(payload, "|", 4)
	if len(parts) != 4 || parts[0] != tokenVersion {
		return "", ErrTokenInvalid
	}
	if Purpose(parts[1]) != p {
		return "", fmt.Errorf("%w (it is a %s link, not %s)", ErrTokenPurpose, parts[1], p)
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", ErrTokenInvalid
	}
	if exp != 0 && !t.now().Before(time.Unix(exp, 0)) {
		return "", fmt.Errorf("%w (on %s)", ErrTokenExpired, time.Unix(exp, 0).UTC().Format("2 January 2006 15:04 MST"))
	}
	return parts[3], nil
}

func mac(secret []byte, payload string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("evidence-tracker token\x00"))
	h.Write([]byte(payload))
	return h.Sum(nil)
}
