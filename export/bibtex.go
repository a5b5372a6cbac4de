package export

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// BibTeX writes the entries as BibTeX entries that biblatex and classic
// BibTeX both read: @techreport, @online, @article, @dataset or @misc (see
// the package's table), one field per line. Citation keys are
// author-year-word ("gilburt2023mental", an organisation's first word,
// "nd" without a date), ASCII letters and digits only, unique within the
// output: a repeated key gets a, b, c… Fields: title (in double braces, so
// no style changes its capitals), author (joined with " and "; "Family,
// Given"; an organisation in braces), year, month (a macro: mar), date
// (ISO, as known), url, doi, institution (@techreport), organization
// (@online) or publisher, type (the kind of work), abstract, keywords (the
// topics), note ("Section: X." and the curator's note), urldate (first
// seen) and pdf (the PDF URLs, separated by spaces). Text is UTF-8 with the
// TeX specials escaped (\& \% \$ \# \_ \textbraceleft{} \textbraceright{}
// \textasciitilde{} \textasciicircum{} \textbackslash{}), and ligatures
// (--, “, ”) broken so the text reads back as written; URLs and DOIs are
// written raw, as biblatex's verbatim fields want them, with braces and
// backslashes percent-encoded.
func BibTeX(w io.Writer, entries []Entry) error {
	ew := &errWriter{w: w}
	keys := map[string]bool{}
	for i, e := range entries {
		if i > 0 {
			ew.WriteString("\n")
		}
		writeBibTeX(ew, e, uniqueKey(keys, citeKey(e)))
	}
	return ew.result("BibTeX")
}

var monthMacros = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func writeBibTeX(ew *errWriter, e Entry, key string) {
	it := e.Item
	k := kindOf(it)
	ew.WriteString("@" + k.bib + "{" + key + ",\n")
	field := func(name, value string) {
		if value != "" {
			ew.WriteString("  " + name + " = " + value + ",\n")
		}
	}
	text := func(name, s string) {
		if s != "" {
			field(name, "{"+texEscape(s)+"}")
		}
	}
	raw := func(name, s string) {
		if s != "" {
			field(name, "{"+s+"}")
		}
	}
	if t := clean(it.Title, MaxShort); t != "" {
		field("title", "{{"+texEscape(t)+"}}")
	}
	var authors []string
	for _, n := range names(it.Authors) {
		authors = append(authors, bibName(n))
	}
	field("author", braced(strings.Join(authors, " and ")))
	if t, p := published(it); p != dateNone {
		field("year", fmt.Sprintf("{%04d}", t.Year()))
		switch p {
		case dateYear:
			raw("date", fmt.Sprintf("%04d", t.Year()))
		case dateMonth:
			field("month", monthMacros[t.Month()-1])
			raw("date", t.Format("2006-01"))
		default:
			field("month", monthMacros[t.Month()-1])
			raw("date", t.Format("2006-01-02"))
		}
	}
	raw("url", cleanURL(it.URL))
	raw("doi", bareDOI(it.DOI))
	pub := clean(e.Publisher, MaxShort)
	switch k.bib {
	case "techreport":
		text("institution", pub)
	case "online":
		text("organization", pub)
	default:
		text("publisher", pub)
	}
	text("type", k.bibType)
	text("abstract", clean(it.Summary, MaxLong))
	var kw []string
	for _, t := range texts(it.Topics, MaxTerm) {
		// Keywords are separated by commas.
		kw = append(kw, strings.Join(strings.Fields(strings.ReplaceAll(t, ",", " ")), " "))
	}
	text("keywords", strings.Join(kw, ", "))
	text("note", sentences(noteParts(e)))
	if t := accessed(it); !t.IsZero() {
		raw("urldate", t.Format("2006-01-02"))
	}
	raw("pdf", strings.Join(urls(it.PDFURLs), " "))
	ew.WriteString("}\n")
}

func braced(s string) string {
	if s == "" {
		return ""
	}
	return "{" + s + "}"
}

// bibName writes a name for an author field: "Family, Given" or "Family,
// Suffix, Given" (BibTeX's forms), an organisation in braces so that
// BibTeX neither splits it at "and" nor inverts it. A part holding a comma
// or the word "and" is braced too.
func bibName(n Name) string {
	if n.IsLiteral() {
		return "{" + texEscape(n.Literal) + "}"
	}
	part := func(s string) string {
		s = texEscape(s)
		for _, w := range strings.Fields(s) {
			if strings.EqualFold(w, "and") {
				return "{" + s + "}"
			}
		}
		if strings.Contains(s, ",") {
			return "{" + s + "}"
		}
		return s
	}
	out := part(n.Family)
	if n.Suffix != "" {
		out += ", " + part(n.Suffix)
	}
	if n.Given != "" || n.Suffix != "" {
		out += ", " + part(n.Given)
	}
	return out
}

// texEscape escapes the TeX specials of one line of text, keeping UTF-8.
// Braces become \textbraceleft{} and \textbraceright{} (BibTeX counts
// braces, escaped or not, so \{ would unbalance the entry); the ligatures
// --, “, ” and the Spanish ?` !` are broken with {}.
func texEscape(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		switch r {
		case '&', '%', '$', '#', '_':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '{':
			b.WriteString(`\textbraceleft{}`)
		case '}':
			b.WriteString(`\textbraceright{}`)
		case '~':
			b.WriteString(`\textasciitilde{}`)
		case '^':
			b.WriteString(`\textasciicircum{}`)
		case '\\':
			b.WriteString(`\textbackslash{}`)
		case '-', '`', '\'':
			if prev == r || (r == '`' && (prev == '?' || prev == '!')) {
				b.WriteString("{}")
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// citeKey is an entry's key before it is made unique: the first author's
// family name (an organisation's first word that is not "the"), else the
// publisher's; the year or "nd"; the title's first word that is not a
// short common one. ASCII letters and digits only.
func citeKey(e Entry) string {
	it := e.Item
	who := ""
	if ns := names(it.Authors); len(ns) > 0 {
		if ns[0].IsLiteral() {
			who = firstWord(ns[0].Literal, nil)
		} else {
			fam := strings.Fields(ns[0].Family)
			if len(fam) > 0 {
				who = keyPart(fam[len(fam)-1])
			}
		}
	}
	if who == "" {
		who = firstWord(clean(e.Publisher, MaxShort), nil)
	}
	if who == "" {
		who = "anon"
	}
	year := "nd"
	if t, p := published(it); p != dateNone {
		year = fmt.Sprintf("%04d", t.Year())
	}
	word := firstWord(clean(it.Title, MaxShort), stopWords)
	return clip(who, 30) + year + clip(word, 30)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] // ASCII only
	}
	return s
}

var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "on": true, "in": true, "for": true,
	"and": true, "to": true, "is": true, "at": true, "by": true, "with": true, "from": true,
	"how": true, "what": true, "why": true, "we": true, "our": true, "it": true, "its": true,
}

// firstWord returns the first word of s, as a key part, that is not "the"
// nor in skip.
func firstWord(s string, skip map[string]bool) string {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '’'
	}) {
		k := keyPart(w)
		if k == "" || k == "the" || skip[k] {
			continue
		}
		return k
	}
	return ""
}

// uniqueKey returns key, or key with a, b, c… (then aa, ab…) when it is
// taken, and marks it taken.
func uniqueKey(taken map[string]bool, key string) string {
	k := key
	for n := 0; taken[k]; n++ {
		k = key + letters(n)
	}
	taken[k] = true
	return k
}

// letters is n written a, b, … z, aa, ab, …
func letters(n int) string {
	s := ""
	for {
		s = string(rune('a'+n%26)) + s
		n = n/26 - 1
		if n < 0 {
			return s
		}
	}
}

// keyPart folds a word to lower-case ASCII letters and digits: accents
// dropped (é → e, ß → ss), anything else left out.
func keyPart(w string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(w) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r > 127:
			b.WriteString(asciiFold[r])
		}
	}
	return b.String()
}

// asciiFold spells the Latin letters with diacritics (lower case) in ASCII.
var asciiFold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ð': "d", 'þ': "th", 'ł': "l", 'đ': "d", 'ı': "i", 'ŋ': "n"}
	for base, rs := range map[string]string{
		"a": "àáâãäåāăąǎ", "c": "çćĉċč", "d": "ď", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
		"i": "ìíîïĩīĭįǐ", "j": "ĵ", "k": "ķ", "l": "ĺļľŀ", "n": "ñńņňŉ", "o": "òóôõöōŏőǒ",
		"r": "ŕŗř", "s": "śŝşšș", "t": "ţťŧț", "u": "ùúûüũūŭůűųǔ", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range rs {
			m[r] = base
		}
	}
	return m
}()
