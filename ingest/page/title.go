package page

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence/ingest/text"
)

// DefaultSiteNames returns the site names removed from the end of page
// titles (" | The King's Fund", " - Centre for Mental Health"…). Names the
// page itself gives (og:site_name, JSON-LD WebSite and Organization names)
// and names matching the page's host are removed too; Options.SiteNames
// adds more.
func DefaultSiteNames() []string {
	return []string{
		"The King's Fund",
		"Centre for Mental Health",
		"National Elf Service",
		"The Mental Elf",
		"Mental Elf",
		"National Voices",
	}
}

// orgWords make a " - X" / " – X" suffix look like an organisation's name:
// a dash suffix is removed only when it names the site or one of these.
var orgWords = map[string]bool{
	"fund": true, "centre": true, "center": true, "service": true, "services": true,
	"trust": true, "foundation": true, "institute": true, "network": true,
	"charity": true, "council": true, "association": true, "society": true,
	"university": true, "college": true, "voices": true, "elf": true, "nhs": true,
	"alliance": true, "partnership": true, "commission": true, "collaborative": true,
	"observatory": true, "blog": true, "news": true, "online": true, "website": true,
}

// titleSeps separate a title from a site name; strong ones (pipes,
// bullets) are almost never part of a real title, dashes often are.
var titleSeps = []struct {
	sep    string
	strong bool
}{
	{" | ", true}, {" || ", true}, {" · ", true}, {" • ", true}, {" :: ", true},
	{" » ", true}, {" ~ ", true}, {" - ", false}, {" – ", false}, {" — ", false},
	{" -- ", false},
}

var domainRE = regexp.MustCompile(`(?i)^[a-z0-9-]+(\.[a-z0-9-]+)*\.(org|com|net|uk|co\.uk|org\.uk|ac\.uk|gov\.uk|nhs\.uk|info|io)$`)

// titleCleaner removes site-name suffixes from titles.
type titleCleaner struct {
	names map[string]bool // normalised site names
	host  string          // squeezed host without "www."
}

func newTitleCleaner(names []string, page *url.URL) titleCleaner {
	c := titleCleaner{names: map[string]bool{}}
	for _, n := range names {
		if k := normName(n); k != "" {
			c.names[k] = true
		}
	}
	if page != nil {
		c.host = strings.TrimPrefix(strings.ToLower(page.Hostname()), "www.")
	}
	return c
}

// clean returns t without site-name suffixes, or "" when t is only a site
// name.
func (c titleCleaner) clean(t string) string {
	t = text.Collapse(t)
	if t == "" || c.isSite(t) {
		return ""
	}
	for range 4 {
		i, sep, strong := lastSep(t)
		if i < 0 {
			break
		}
		head := strings.TrimSpace(t[:i])
		tail := strings.TrimSpace(t[i+len(sep):])
		if head == "" || tail == "" {
			break
		}
		if c.isSite(tail) || (strong && looksLikeSiteName(tail)) || (!strong && looksLikeOrg(tail)) {
			t = head
			continue
		}
		break
	}
	return t
}

func lastSep(t string) (int, string, bool) {
	best, bestSep, bestStrong := -1, "", false
	for _, s := range titleSeps {
		if i := strings.LastIndex(t, s.sep); i > best {
			best, bestSep, bestStrong = i, s.sep, s.strong
		}
	}
	return best, bestSep, bestStrong
}

// isSite reports whether x names the site: a known name, or the page's
// host spelt out ("National Voices" on nationalvoices.org.uk).
func (c titleCleaner) isSite(x string) bool {
	if c.names[normName(x)] {
		return true
	}
	if domainRE.MatchString(x) {
		return true
	}
	sq := squeeze(x)
	return len(sq) >= 5 && c.host != "" && strings.Contains(squeeze(c.host), sq)
}

// normName lower-cases a name, unifies apostrophes and "&", drops a
// leading "the" and collapses spaces.
func normName(s string) string {
	s = strings.ToLower(text.Collapse(s))
	s = strings.NewReplacer("’", "'", "‘", "'", "&", "and").Replace(s)
	s = strings.TrimPrefix(s, "the ")
	return strings.Join(strings.Fields(s), " ")
}

// squeeze keeps letters and digits, lower-cased, after dropping a leading
// "the".
func squeeze(s string) string {
	s = normName(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// looksLikeSiteName: one to five words, at most 40 characters, starting
// with a capital or digit, no sentence punctuation, most longer words
// capitalised ("Blogs", "NHS England", "The Health Foundation").
func looksLikeSiteName(x string) bool {
	if domainRE.MatchString(x) {
		return true
	}
	if utf8.RuneCountInString(x) > 40 || strings.ContainsAny(x, "?!:;,") {
		return false
	}
	words := strings.Fields(x)
	if len(words) == 0 || len(words) > 5 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(x)
	if !unicode.IsUpper(r) && !unicode.IsDigit(r) {
		return false
	}
	long, capital := 0, 0
	for _, w := range words {
		if utf8.RuneCountInString(w) <= 3 {
			continue
		}
		long++
		if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) {
			capital++
		}
	}
	return capital*2 >= long
}

// looksLikeOrg: a site-name-like suffix naming an organisation.
func looksLikeOrg(x string) bool {
	if domainRE.MatchString(x) {
		return true
	}
	if !looksLikeSiteName(x) {
		return false
	}
	for _, w := range strings.Fields(strings.ToLower(x)) {
		if orgWords[strings.Trim(w, "'’.")] {
			return true
		}
	}
	return false
}
