package importer

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/evidencetracker/evidence"
)

// accents maps LaTeX accent commands to Unicode combining marks.
var accents = map[string]rune{
	"'": '\u0301', "`": '\u0300', "^": '\u0302', `"`: '\u0308', "~": '\u0303',
	"=": '\u0304', ".": '\u0307', "u": '\u0306', "v": '\u030C', "H": '\u030B',
	"c": '\u0327', "k": '\u0328', "r": '\u030A', "d": '\u0323', "b": '\u0331',
	"t": '\u0361',
}

// symbols maps LaTeX commands that stand for one character (or a short
// string).
var symbols = map[string]string{
	"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
	"aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð",
	"th": "þ", "TH": "Þ", "ng": "ŋ", "NG": "Ŋ", "dj": "đ", "DJ": "Đ",
	"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}",
	" ": " ", ",": " ", ";": " ", ":": " ", "!": "", "/": "", "-": "", "@": "",
	"\\":         " ",
	"textendash": "–", "textemdash": "—", "ldots": "…", "dots": "…", "textellipsis": "…",
	"textquoteleft": "‘", "textquoteright": "’", "textquotedblleft": "“", "textquotedblright": "”",
	"textasciitilde": "~", "textasciicircum": "^", "textbackslash": "\\", "textbar": "|",
	"textbraceleft": "{", "textbraceright": "}",
	"textless": "<", "textgreater": ">", "textregistered": "®", "texttrademark": "™",
	"copyright": "©", "textcopyright": "©", "pounds": "£", "textsterling": "£", "euro": "€",
	"texteuro": "€", "S": "§", "P": "¶", "dag": "†", "textdagger": "†", "textdegree": "°",
	"textbullet": "•", "textperiodcentered": "·", "guillemotleft": "«", "guillemotright": "»",
	"textexclamdown": "¡", "textquestiondown": "¿", "textpm": "±", "pm": "±", "times": "×",
	"texttimes": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "alpha": "α", "beta": "β",
	"gamma": "γ", "delta": "δ", "mu": "μ", "chi": "χ", "kappa": "κ", "textmu": "µ",
	"LaTeX": "LaTeX", "TeX": "TeX", "and": "and", "relax": "", "protect": "",
}

// maxLatexDepth bounds nested accent arguments read recursively.
const maxLatexDepth = 8

// LaTeXToUnicode turns the LaTeX of a BibTeX value into plain Unicode
// text: accents become precomposed letters ({\'e}, \'{e}, \'e → é; \"{o}
// → ö; \c{c} → ç; \'{\i} → í), letter commands their letters ({\ss} → ß,
// {\o} → ø), escapes their characters (\& → &, \% → %), -- and --- dashes,
// doubled backquotes and apostrophes curly quotes, ~ a space; formatting commands (\emph, \textit, \textbf,
// …) give their argument; unknown commands are dropped; braces and $ go.
// The result is NFC with white space collapsed.
func LaTeXToUnicode(s string) string {
	if s == "" {
		return ""
	}
	if !strings.ContainsAny(s, "\\{}~$`'-") {
		return evidence.NormalizeSpace(s)
	}
	var b strings.Builder
	latex(&b, s, 0)
	return evidence.NormalizeSpace(norm.NFC.String(b.String()))
}

func latex(b *strings.Builder, s string, depth int) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			i = command(b, s, i+1, depth)
		case c == '{' || c == '}' || c == '$':
			i++
		case c == '~':
			b.WriteByte(' ')
			i++
		case strings.HasPrefix(s[i:], "---"):
			b.WriteString("—")
			i += 3
		case strings.HasPrefix(s[i:], "--"):
			b.WriteString("–")
			i += 2
		case strings.HasPrefix(s[i:], "``"):
			b.WriteString("“")
			i += 2
		case strings.HasPrefix(s[i:], "''"):
			b.WriteString("”")
			i += 2
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r)
			i += size
		}
	}
}

// command reads the command whose name starts at s[i] (just after the
// backslash), writes what it stands for and returns the index after it.
func command(b *strings.Builder, s string, i, depth int) int {
	if i >= len(s) {
		return i
	}
	var name string
	if isLetter(s[i]) {
		j := i
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		name = s[i:j]
		i = j
	} else {
		_, size := utf8.DecodeRuneInString(s[i:])
		name = s[i : i+size]
		i += size
	}
	if mark, ok := accents[name]; ok && (len(name) == 1 && !isLetter(name[0]) || nextIsArg(s, i)) {
		base, next := accentArg(s, i, name, depth)
		// A dotless i or j under an accent is an i or j: \'{\i} is í.
		base = strings.Replace(strings.Replace(base, "ı", "i", 1), "ȷ", "j", 1)
		if base == "" {
			return next // an accent on nothing: \'{}
		}
		r, size := utf8.DecodeRuneInString(base)
		b.WriteRune(r)
		b.WriteRune(mark)
		b.WriteString(base[size:])
		return next
	}
	if sym, ok := symbols[name]; ok {
		b.WriteString(sym)
		if isLetter(name[0]) {
			// A control word swallows the spaces after it ({\o}rsted,
			// \ss e → ße) and an empty group: \ss{}.
			i = skipSpaces(s, i)
			if strings.HasPrefix(s[i:], "{}") {
				i += 2
			}
		}
		return i
	}
	// Formatting and unknown commands: drop the name, keep the argument
	// (read by the caller as ordinary text, braces dropped). A starred
	// form (\section*) loses its star.
	if i < len(s) && s[i] == '*' {
		i++
	}
	if isLetter(name[0]) {
		i = skipSpaces(s, i)
	}
	return i
}

// nextIsArg reports whether a letter accent command (\c, \v, \u …) has an
// argument: "{", or a space then a letter (\c c). \u alone in "\url" is
// never reached: the whole word is the name.
func nextIsArg(s string, i int) bool {
	return i < len(s) && (s[i] == '{' || s[i] == ' ' || s[i] == '\\')
}

// accentArg reads an accent's argument at s[i]: a braced group, a command
// (\i) or one character, after optional spaces (for letter commands). It
// returns the argument as text and the index after it.
func accentArg(s string, i int, name string, depth int) (string, int) {
	if isLetter(name[0]) {
		i = skipSpaces(s, i)
	}
	if i >= len(s) {
		return "", i
	}
	switch s[i] {
	case '{':
		end := matchingBrace(s, i)
		inner := s[i+1 : end]
		next := min(end+1, len(s))
		if depth >= maxLatexDepth {
			return strings.NewReplacer("{", "", "}", "", `\`, "").Replace(inner), next
		}
		var ib strings.Builder
		latex(&ib, inner, depth+1)
		return strings.TrimSpace(ib.String()), next
	case '\\':
		if depth >= maxLatexDepth {
			return "", i // the caller reads the rest as text
		}
		var ib strings.Builder
		next := command(&ib, s, i+1, depth+1)
		return ib.String(), next
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return s[i : i+size], i + size
}

// matchingBrace returns the index of the } closing the { at s[i], or
// len(s) when it is missing.
func matchingBrace(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j
			}
		case '\\':
			j++ // an escaped brace does not count
		}
	}
	return len(s)
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
		i++
	}
	return i
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
