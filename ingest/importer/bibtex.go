package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// runeSrc hands out the runes of a line reader's lines, each line followed
// by '\n', and counts lines.
type runeSrc struct {
	lr      *lineReader
	line    string
	pos     int
	lineNo  int  // line of the rune next() returns next
	tooLong bool // the current line was cut
	have    bool // line holds a line
	err     error
	atStart bool // only white space so far on the current line
}

func (s *runeSrc) fill() bool {
	for !s.have || s.pos > len(s.line) {
		if s.err != nil {
			return false
		}
		raw, tooLong, err := s.lr.next()
		if err != nil {
			s.err = err
			return false
		}
		s.line, s.pos, s.lineNo, s.tooLong, s.have, s.atStart = decodeLine(raw), 0, s.lr.n, tooLong, true, true
	}
	return true
}

// peek returns the next rune without consuming it.
func (s *runeSrc) peek() (rune, bool) {
	if !s.fill() {
		return 0, false
	}
	if s.pos == len(s.line) {
		return '\n', true
	}
	r, _ := utf8.DecodeRuneInString(s.line[s.pos:])
	return r, true
}

// next consumes a rune and returns it with its size in bytes.
func (s *runeSrc) next() (rune, int, bool) {
	if !s.fill() {
		return 0, 0, false
	}
	if s.pos == len(s.line) {
		s.pos++
		return '\n', 1, true
	}
	r, size := utf8.DecodeRuneInString(s.line[s.pos:])
	s.pos += size
	if r != ' ' && r != '\t' {
		s.atStart = false
	}
	return r, size, true
}

// bibSyntax is a syntax error inside an entry.
type bibSyntax struct {
	line int
	msg  string
	eof  bool // the input ended inside the entry
}

func (e *bibSyntax) Error() string { return e.msg }

// bibEntry is one entry as read: type, key, fields in order (names
// lower-cased) with their raw values (macros expanded, braces kept).
type bibEntry struct {
	typ, key string
	line     int
	fields   []bibField
}

type bibField struct{ name, value string }

// bibParser reads entries from a rune source.
type bibParser struct {
	src    *runeSrc
	macros map[string]string
	size   int // bytes of the current entry
	// afterEntry: only white space since the last entry ended, so an @
	// here starts an entry even in the middle of a line.
	afterEntry bool
	// keyed: the current entry was read up to its key, so it is a BibTeX
	// entry even when a syntax error follows.
	keyed bool
}

// defaultMacros are BibTeX's predefined month strings.
var defaultMacros = map[string]string{
	"jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May", "jun": "June",
	"jul": "July", "aug": "August", "sep": "September", "oct": "October", "nov": "November", "dec": "December",
}

// maxMacros caps @string definitions, so a file cannot grow them without
// bound.
const maxMacros = 10000

// ParseBibTeX reads BibTeX (and biblatex) entries and calls fn with each.
// Text between entries is a comment, as in BibTeX; @comment and @preamble
// are skipped and @string defines macros (month names are predefined).
// Values may be {braced} (nested braces kept for the LaTeX reader),
// "quoted", numbers or macros, joined with #. Fields read: title, author
// ("A and B", "Last, First", "{Corporate Name}"), date or year/month/day,
// abstract, url (or \url{…} in howpublished or note), doi, keywords, type
// ("Briefing"), pdf (URLs separated by spaces), note and annote
// (Record.Notes). Entry types map to item types (@techreport and @report →
// report, @article → article, @book → publication, …; @misc and @online are
// left to the owning source's rules). LaTeX accents and escapes become
// Unicode: {\'e} → é, \"{o} → ö, {\ss} → ß, \& → &, -- → –.
//
// A syntax error is reported at the entry's line, and reading resumes at
// the next line that starts with @; an entry the input ends inside (braces
// not balanced at the end of the file) is reported as truncated. Input
// without a single @type{key, …} entry is a *NoRecordsError.
func ParseBibTeX(r io.Reader, fn func(Record) error) error {
	in := &textSniffer{r: r}
	p := &bibParser{src: &runeSrc{lr: newLineReader(in, MaxRecordBytes)}, macros: map[string]string{}, afterEntry: true}
	for k, v := range defaultMacros {
		p.macros[k] = v
	}
	g := &recognizer{fn: fn, format: BibTeX}
	for {
		if !p.skipToAt() {
			if err := p.end(); err != nil {
				return err
			}
			return g.end(in)
		}
		line := p.src.lineNo
		e, err := p.entry(line)
		p.afterEntry = err == nil
		var syn *bibSyntax
		switch {
		case errors.As(err, &syn):
			msg := syn.msg
			switch {
			case syn.eof:
				msg = fmt.Sprintf("record truncated at end of file (%s; the file ends at line %d)", msg, syn.line)
			case syn.line != line:
				msg += fmt.Sprintf(" (on line %d)", syn.line)
			}
			if err := g.emit(Record{Line: line, Err: bad("%s", msg)}, p.keyed); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		case e == nil: // @comment, @preamble, @string
			continue
		}
		if err := g.emit(e.record(), true); err != nil {
			return err
		}
	}
}

// end returns nil at the end of input, or the read error.
func (p *bibParser) end() error {
	if p.src.err == nil || errors.Is(p.src.err, io.EOF) {
		return nil
	}
	return readError(BibTeX, p.src.lineNo+1, p.src.err)
}

// truncated is the syntax error of an entry the input ends inside (a read
// error is no truncation: end reports it).
func (p *bibParser) truncated(format string, a ...any) error {
	return &bibSyntax{line: p.src.lineNo, msg: fmt.Sprintf(format, a...), eof: errors.Is(p.src.err, io.EOF)}
}

// skipToAt consumes up to the next @ that starts an entry (leaving it
// unread): one that starts a line (after white space) or follows an entry.
// Any other text, an e-mail address in a comment among it, is skipped, as
// after a syntax error. It reports false at the end of input.
func (p *bibParser) skipToAt() bool {
	for {
		r, ok := p.src.peek()
		if !ok {
			return false
		}
		if r == '@' && (p.src.atStart || p.afterEntry) {
			return true
		}
		if !isSpaceByte(byte(min(r, 0x7f))) {
			p.afterEntry = false
		}
		p.src.next()
	}
}

func (p *bibParser) syntax(format string, a ...any) error {
	return &bibSyntax{line: p.src.lineNo, msg: fmt.Sprintf(format, a...)}
}

// read consumes one rune, counting the entry's size.
func (p *bibParser) read() (rune, bool, error) {
	r, size, ok := p.src.next()
	if !ok {
		if p.src.err != nil && !errors.Is(p.src.err, io.EOF) {
			return 0, false, readError(BibTeX, p.src.lineNo+1, p.src.err)
		}
		return 0, false, nil
	}
	if p.src.tooLong {
		return 0, false, p.syntax("line %d is longer than %d bytes", p.src.lineNo, MaxRecordBytes)
	}
	p.size += size
	if p.size > MaxRecordBytes {
		return 0, false, p.syntax("entry is longer than %d bytes", MaxRecordBytes)
	}
	return r, true, nil
}

// mustRead reads a rune where the end of input is a syntax error.
func (p *bibParser) mustRead(what string) (rune, error) {
	r, ok, err := p.read()
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, p.truncated("%s is not closed", what)
	}
	return r, nil
}

func (p *bibParser) skipSpace() error {
	for {
		r, ok := p.src.peek()
		if !ok {
			return nil
		}
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' && r != '\f' && r != '\v' {
			// BibTeX allows % comments only outside entries; inside they
			// are text. Nothing else to skip.
			return nil
		}
		if _, _, err := p.read(); err != nil {
			return err
		}
	}
}

// ident reads a name: letters, digits and the punctuation BibTeX allows in
// entry types, field names, keys and macros.
func (p *bibParser) ident() (string, error) {
	var b strings.Builder
	for {
		r, ok := p.src.peek()
		if !ok || !isIdentRune(r) {
			return b.String(), nil
		}
		if _, _, err := p.read(); err != nil {
			return "", err
		}
		b.WriteRune(r)
	}
}

func isIdentRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r > 127:
		return r != utf8.RuneError && r != '\u00a0'
	}
	return strings.ContainsRune("_-:./+'!?*&;<>[]`|", r)
}

// entry reads one @… construct. It returns nil for @comment, @preamble and
// @string.
func (p *bibParser) entry(line int) (*bibEntry, error) {
	p.size, p.keyed = 0, false
	if _, _, err := p.read(); err != nil { // the @
		return nil, err
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	typ, err := p.ident()
	if err != nil {
		return nil, err
	}
	typ = strings.ToLower(typ)
	if typ == "" {
		return nil, p.syntax("@ is not followed by an entry type")
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	open, err := p.mustRead("@" + typ)
	if err != nil {
		return nil, err
	}
	var closing rune
	switch open {
	case '{':
		closing = '}'
	case '(':
		closing = ')'
	default:
		if typ == "comment" {
			return nil, nil // "@comment text": BibTeX skips it
		}
		return nil, p.syntax("@%s: want { or ( after the entry type, got %q", typ, open)
	}
	switch typ {
	case "comment", "preamble":
		return nil, p.skipBalanced(open, closing, "@"+typ)
	case "string":
		fields, err := p.fields(closing, "@string")
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			if len(p.macros) < maxMacros {
				p.macros[f.name] = f.value
			}
		}
		return nil, nil
	}
	e := &bibEntry{typ: typ, line: line}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	// The key runs to the first comma (or the end of an empty entry).
	var key strings.Builder
	for {
		r, ok := p.src.peek()
		if !ok {
			return nil, p.truncated("@%s: the key is not closed", typ)
		}
		if r == ',' || r == closing {
			break
		}
		if r == '\n' || r == '=' || r == '{' || r == '}' {
			return nil, p.syntax("@%s: missing comma after the key %q", typ, clip(strings.TrimSpace(key.String()), 80))
		}
		if _, _, err := p.read(); err != nil {
			return nil, err
		}
		key.WriteRune(r)
	}
	e.key = strings.TrimSpace(key.String())
	if strings.ContainsAny(e.key, " \t") {
		// Not a key: CSS ("@font-face { font-family: X; }") or a missing
		// comma.
		return nil, p.syntax("@%s: the key %q contains white space (a comma missing after the key?)", typ, clip(e.key, 80))
	}
	p.keyed = true
	where := "@" + typ
	if e.key != "" {
		where += "{" + clip(e.key, 80) + "}"
	}
	if r, _ := p.src.peek(); r == closing {
		p.read()
		return e, nil
	}
	p.read() // the comma
	if e.fields, err = p.fields(closing, where); err != nil {
		return nil, err
	}
	return e, nil
}

// skipBalanced consumes up to the closing delimiter that matches an opened
// one.
func (p *bibParser) skipBalanced(open, closing rune, what string) error {
	depth := 1
	for {
		r, err := p.mustRead(what)
		if err != nil {
			return err
		}
		switch r {
		case open:
			depth++
		case closing:
			depth--
			if depth == 0 {
				return nil
			}
		}
	}
}

// fields reads "name = value" pairs separated by commas, up to closing.
func (p *bibParser) fields(closing rune, where string) ([]bibField, error) {
	var out []bibField
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		r, ok := p.src.peek()
		if !ok {
			return nil, p.truncated("%s: missing %c", where, closing)
		}
		if r == closing {
			p.read()
			return out, nil
		}
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		if name == "" {
			return nil, p.syntax("%s: want a field name, got %q", where, r)
		}
		name = strings.ToLower(name)
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		eq, err := p.mustRead(where)
		if err != nil {
			return nil, err
		}
		if eq != '=' {
			return nil, p.syntax("%s: want = after field %q, got %q", where, name, eq)
		}
		value, err := p.value(where, name)
		if err != nil {
			return nil, err
		}
		out = append(out, bibField{name: name, value: value})
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		sep, ok := p.src.peek()
		switch {
		case !ok:
			return nil, p.truncated("%s: missing %c", where, closing)
		case sep == ',':
			p.read()
		case sep == closing:
			p.read()
			return out, nil
		default: // left unread: it may start the next entry
			return nil, p.syntax("%s: want , or %c after field %q, got %q", where, closing, name, sep)
		}
	}
}

// value reads a field value: parts joined by #, each {braced}, "quoted",
// a number or a macro name.
func (p *bibParser) value(where, field string) (string, error) {
	var b strings.Builder
	for {
		if err := p.skipSpace(); err != nil {
			return "", err
		}
		r, ok := p.src.peek()
		if !ok {
			return "", p.truncated("%s: field %q has no value", where, field)
		}
		switch {
		case r == '{':
			p.read()
			if err := p.delimited(&b, '}', where, field); err != nil {
				return "", err
			}
		case r == '"':
			p.read()
			if err := p.delimited(&b, '"', where, field); err != nil {
				return "", err
			}
		case isIdentRune(r):
			name, err := p.ident()
			if err != nil {
				return "", err
			}
			if isDigits(name) {
				b.WriteString(name)
			} else if v, ok := p.macros[strings.ToLower(name)]; ok {
				if b.Len()+len(v) > MaxRecordBytes {
					return "", p.syntax("%s: field %q is longer than %d bytes", where, field, MaxRecordBytes)
				}
				b.WriteString(v)
			}
			// An undefined macro is empty, as BibTeX has it (with a warning).
		default:
			return "", p.syntax("%s: field %q: want {, \" or a name, got %q", where, field, r)
		}
		if err := p.skipSpace(); err != nil {
			return "", err
		}
		if r, ok := p.src.peek(); ok && r == '#' {
			p.read()
			continue
		}
		return b.String(), nil
	}
}

// delimited reads up to the unbraced end delimiter, keeping inner braces.
func (p *bibParser) delimited(b *strings.Builder, end rune, where, field string) error {
	depth := 0
	for {
		if r, ok := p.src.peek(); ok && r == '@' && p.src.atStart {
			// A value running into the next entry: its end is missing.
			// The @ is left for the next entry.
			return p.syntax("%s: field %q: missing closing %c", where, field, end)
		}
		r, ok, err := p.read()
		if err != nil {
			return err
		}
		if !ok {
			return p.truncated("%s: field %q is not closed (missing %c)", where, field, end)
		}
		switch {
		case r == '{':
			depth++
		case r == '}' && depth == 0:
			if end == '}' {
				return nil
			}
			return p.syntax("%s: field %q has an unmatched }", where, field)
		case r == '}':
			depth--
		case r == end && depth == 0:
			return nil
		}
		b.WriteRune(r)
	}
}

// record turns an entry into a record.
func (e *bibEntry) record() Record {
	d := &draft{format: BibTeX, line: e.line}
	first := map[string]string{}
	for _, f := range e.fields {
		if _, ok := first[f.name]; !ok && strings.TrimSpace(f.value) != "" {
			first[f.name] = f.value
		}
	}
	d.typ = bibTypes[e.typ]
	if t := typeFromWords(LaTeXToUnicode(first["type"])); t != "" {
		d.typ = t
	}
	d.title = LaTeXToUnicode(first["title"])
	d.summary = LaTeXToUnicode(first["abstract"])
	d.authors = splitBibNames(first["author"])
	if len(d.authors) == 0 {
		for _, k := range []string{"institution", "organization"} {
			if v := LaTeXToUnicode(first[k]); v != "" {
				d.authors = append(d.authors, v)
				break
			}
		}
	}
	if u := bibURL(first["url"]); u != "" {
		d.urls = append(d.urls, u)
	}
	for _, k := range []string{"howpublished", "note", "urldate"} {
		if u := urlCommand(first[k]); u != "" {
			d.urls = append(d.urls, u)
		}
	}
	d.pdfs = append(d.pdfs, splitURLs(bibURL(first["pdf"]))...)
	for _, k := range []string{"note", "annote"} {
		if v := LaTeXToUnicode(first[k]); v != "" {
			d.notes = append(d.notes, v)
		}
	}
	d.doi = bibURL(first["doi"])
	if v := first["keywords"]; v != "" {
		d.categories = splitKeywords(LaTeXToUnicode(v), true)
	}
	if v := first["date"]; v != "" {
		d.published, d.pubPrec = parseDate(LaTeXToUnicode(v))
	}
	if d.pubPrec == precNone {
		d.published, d.pubPrec = dateParts(LaTeXToUnicode(first["year"]), LaTeXToUnicode(first["month"]), LaTeXToUnicode(first["day"]))
	}
	rec := d.record()
	if rec.Err != nil && e.key != "" {
		rec.Err = bad("@%s{%s}: %s", e.typ, clip(e.key, 80), rec.Err.Error())
	}
	return rec
}

// splitBibNames splits an author field on " and " outside braces, drops
// "others" (et al.), and writes each name "First von Last Jr": a name in
// braces ({The King's Fund}) is kept whole.
func splitBibNames(raw string) []string {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var names []string
	depth, start := 0, 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{':
			depth++
		case '}':
			depth--
		case 'a', 'A':
			if depth == 0 && i > 0 && isSpaceByte(raw[i-1]) && i+3 < len(raw) &&
				strings.EqualFold(raw[i:i+3], "and") && isSpaceByte(raw[i+3]) {
				names = append(names, raw[start:i])
				start = i + 3
				i += 2
			}
		}
	}
	names = append(names, raw[start:])
	var out []string
	for _, n := range names {
		if strings.TrimSpace(n) == "" || strings.EqualFold(strings.TrimSpace(n), "others") {
			continue
		}
		if name := bibName(n); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// bibName writes one BibTeX name "First von Last Jr": the forms are
// "First von Last", "von Last, First" and "von Last, Jr, First"; commas
// inside braces do not count.
func bibName(raw string) string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, raw[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, raw[start:])
	for i := range parts {
		parts[i] = LaTeXToUnicode(parts[i])
	}
	join := func(ss ...string) string {
		var keep []string
		for _, s := range ss {
			if s != "" {
				keep = append(keep, s)
			}
		}
		return strings.Join(keep, " ")
	}
	switch len(parts) {
	case 1:
		return parts[0]
	case 2:
		return join(parts[1], parts[0])
	default:
		return join(parts[2], parts[0], parts[1])
	}
}

// bibURL reads a URL or DOI field: braces dropped, \url{…} unwrapped, TeX
// escapes of URL characters (\_ \% \& \# \~ \$) undone. No other LaTeX is
// read: a URL is not text.
func bibURL(raw string) string {
	s := strings.TrimSpace(raw)
	if u := urlCommand(s); u != "" {
		s = u
	}
	s = strings.NewReplacer(`\_`, "_", `\%`, "%", `\&`, "&", `\#`, "#", `\~`, "~", `\$`, "$",
		`{\textasciitilde}`, "~", `\textasciitilde{}`, "~", `\textasciitilde`, "~", "{", "", "}", "").Replace(s)
	return strings.TrimSpace(s)
}

// urlCommand returns the argument of the first \url{…} or \href{…} in s.
func urlCommand(s string) string {
	for _, cmd := range []string{`\url{`, `\href{`} {
		if i := strings.Index(s, cmd); i >= 0 {
			rest := s[i+len(cmd):]
			if j := strings.IndexByte(rest, '}'); j >= 0 {
				return bibURL(rest[:j])
			}
		}
	}
	return ""
}
