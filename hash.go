package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"
	"unicode"
)

// NewID derives an item's ID from its canonical URL: 16 hex digits of the
// URL's SHA-256. IDs are assigned once, when the item is first stored.
func NewID(canonicalURL string) string {
	sum := sha256.Sum256([]byte(canonicalURL))
	return hex.EncodeToString(sum[:8])
}

// ComputeHash returns a digest of the fields of it that come from the
// publisher or from enrichment (everything but ID, FirstSeen, the relations
// and ContentHash itself). Two items with the same hash need no rewrite.
func ComputeHash(it *Item) string {
	h := sha256.New()
	w := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	t := func(tp *time.Time) string {
		if tp == nil {
			return ""
		}
		return tp.UTC().Format(time.RFC3339Nano)
	}
	w(it.Source, it.Type, it.Title, it.URL, t(it.Published), t(it.Updated), it.Summary, it.Body, it.DOI)
	w(it.Authors...)
	w(it.Topics...)
	w(it.Categories...)
	w(it.PDFURLs...)
	w(it.Links...)
	for _, c := range it.Cites {
		w(c.URL, c.DOI)
	}
	keys := make([]string, 0, len(it.Provenance))
	for k := range it.Provenance {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w(k, it.Provenance[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// TitleKey reduces a title to the form used to spot one report announced by
// two publishers: lower case, letters and digits only, single spaces, with a
// leading "the", "a" or "an" and a trailing publisher name after " | "
// dropped. Two items with the same key and dates a few days apart are
// taken to be the same work.
func TitleKey(title string) string {
	t := strings.ToLower(title)
	if i := strings.LastIndex(t, " | "); i > 0 {
		t = t[:i]
	}
	var b strings.Builder
	space := false
	for _, r := range t {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '\'' || r == '’':
			// "King's" and "Kings" are the same word.
		default:
			space = true
		}
	}
	k := b.String()
	for _, art := range []string{"the ", "a ", "an "} {
		if strings.HasPrefix(k, art) {
			k = k[len(art):]
			break
		}
	}
	return k
}

// NormalizeSpace collapses runs of Unicode white space to one ASCII space and
// trims both ends.
func NormalizeSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
