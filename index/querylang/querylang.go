// Package querylang parses Evidence Tracker's search language into a small
// syntax tree. It is pure Go (no bleve), so the index, the topic taxonomy's
// validation in config and anything else can share one grammar.
//
// The language:
//
//	social prescribing          plain words: ranked, items with all of them first
//	"older people"              a phrase: required, words adjacent and in order
//	-housing  -"link workers"   exclusions
//	social NOT care             the same as social -care (NOT in capitals)
//	social AND care             the same as social care (AND in capitals)
//	loneliness OR isolation     alternatives (OR in capitals; binds tighter than the space)
//	(a OR b) c  -(a OR b)       grouping; (a b) OR c is multiplied out to (a OR c) (b OR c)
//	title:dementia  title:"peer support"
//	author:smith  source:kings-fund  type:report  topic:"peer support"
//	published:>=2020-01-01  published:<2021  published:2023  published:2020..2022-06
//	year:2024                   the same as published:2024
//
// Groups are flattened into clauses (conjunctive normal form), so a Query
// is still a list of clauses; a group that cannot be (NOT (a b), or an
// exclusion inside an OR) is refused.
//
// A malformed query (an unclosed quote or parenthesis, a dangling OR or NOT,
// a bad date, an unknown field…) is an error wrapping evidence.ErrInvalid that says what is wrong
// and at which column. Length and size limits keep one query from starving a
// server.
package querylang

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
)

// Limits on one query.
const (
	// MaxLength is the longest query accepted, in characters.
	MaxLength = 500
	// MaxTerms is the most terms (words, phrases, field:value terms,
	// counting every OR alternative) in one query.
	MaxTerms = 64
	// MaxBranches is the most alternatives joined by OR in one group.
	MaxBranches = 8
)

// Field names a term's field. FieldText (empty) searches the text fields.
type Field string

// Fields of the language.
const (
	FieldText      Field = ""
	FieldTitle     Field = "title"
	FieldAuthor    Field = "author"
	FieldSource    Field = "source"
	FieldType      Field = "type"
	FieldTopic     Field = "topic"
	FieldPublished Field = "published"
	FieldYear      Field = "year"
)

// Fields lists the field names a query may use, in the order help text
// gives them.
var fieldNames = []Field{FieldTitle, FieldAuthor, FieldSource, FieldType, FieldTopic, FieldPublished, FieldYear}

// Fields returns the field names a query may use.
func Fields() []string {
	out := make([]string, len(fieldNames))
	for i, f := range fieldNames {
		out[i] = string(f)
	}
	return out
}

func lookupField(name string) (Field, bool) {
	name = strings.ToLower(name)
	if name == "authors" {
		return FieldAuthor, true
	}
	for _, f := range fieldNames {
		if string(f) == name {
			return f, true
		}
	}
	return "", false
}

// IsText reports whether terms of f are matched against analysed text (as
// opposed to exact keywords or dates).
func (f Field) IsText() bool { return f == FieldText || f == FieldTitle || f == FieldAuthor }

// IsDate reports whether f takes a date expression.
func (f Field) IsDate() bool { return f == FieldPublished || f == FieldYear }

// Query is a parsed query: clauses that are all wanted (plain words are
// ranked rather than required; see the package documentation).
type Query struct {
	Clauses []Clause
}

// Clause is one term, or two or more alternatives joined by OR. Only a
// single term can be excluded.
type Clause struct {
	// Not excludes items matching the clause.
	Not bool
	// Terms holds one term, or the OR alternatives.
	Terms []Term
}

// Term is a word, a phrase, or a field:value.
type Term struct {
	Field Field
	// Value is the word, the phrase (without quotes, spaces collapsed), or
	// the field's value as typed (a keyword, or the date expression).
	Value string
	// Phrase is true for a quoted value.
	Phrase bool
	// Dates is the half-open range [From, To) of a published: or year:
	// term; a zero bound is open.
	Dates *DateRange
	// Pos is the byte offset of the term in the query.
	Pos int
}

// DateRange is a half-open UTC interval [From, To); a zero time is an open
// end.
type DateRange struct {
	From, To time.Time
}

// Empty reports whether q has no clauses (it matches everything).
func (q *Query) Empty() bool { return q == nil || len(q.Clauses) == 0 }

// Error is a parse error: Msg says what is wrong, Pos where (a byte offset).
// It wraps evidence.ErrInvalid.
type Error struct {
	Query string
	Pos   int
	Msg   string
}

// Column is the 1-based character column of the error.
func (e *Error) Column() int {
	p := min(max(e.Pos, 0), len(e.Query))
	return utf8.RuneCountInString(e.Query[:p]) + 1
}

func (e *Error) Error() string {
	near := ""
	if e.Pos >= 0 && e.Pos < len(e.Query) {
		rest := []rune(e.Query[e.Pos:])
		if len(rest) > 20 {
			rest = append(rest[:20], '…')
		}
		near = fmt.Sprintf(" (at %q)", string(rest))
	}
	return fmt.Sprintf("query: column %d: %s%s", e.Column(), e.Msg, near)
}

// Unwrap makes errors.Is(err, evidence.ErrInvalid) true.
func (e *Error) Unwrap() error { return evidence.ErrInvalid }

// item is a lexed term, OR, NOT or parenthesis, before clauses are
// assembled.
type item struct {
	or    bool
	notOp bool // the word NOT
	open  bool // '(' (not: "-(")
	close bool // ')'
	not   bool // a leading '-'
	term  Term
	pos   int // position of the item, including any leading '-'
}

// Parse parses s. Blank s gives an empty Query.
func Parse(s string) (*Query, error) {
	if n := utf8.RuneCountInString(s); n > MaxLength {
		return nil, &Error{Query: s, Pos: len(s), Msg: fmt.Sprintf("the query is %d characters long; the limit is %d", n, MaxLength)}
	}
	if !utf8.ValidString(s) {
		return nil, &Error{Query: s, Pos: 0, Msg: "the query is not valid UTF-8"}
	}
	items, err := lex(s)
	if err != nil {
		return nil, err
	}
	return assemble(s, items)
}

// MustParse is Parse for queries known to be valid; it panics on error.
// It is meant for tests and constants.
func MustParse(s string) *Query {
	q, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return q
}

func lex(s string) ([]item, error) {
	var items []item
	errAt := func(pos int, format string, a ...any) error {
		return &Error{Query: s, Pos: pos, Msg: fmt.Sprintf(format, a...)}
	}
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += w
			continue
		}
		start := i
		not := false
		if r == '-' {
			// A lone dash (followed by a space or the end) is ignored.
			if i+1 == len(s) {
				break
			}
			if r2, _ := utf8.DecodeRuneInString(s[i+1:]); unicode.IsSpace(r2) {
				i++
				continue
			}
			not = true
			i++
		}
		switch s[i] {
		case '(':
			// An empty group, "()" or the ":( )" of a smiley, is nothing.
			if rest := strings.TrimLeftFunc(s[i+1:], unicode.IsSpace); strings.HasPrefix(rest, ")") && !not {
				i = len(s) - len(rest) + 1
				continue
			}
			items = append(items, item{open: true, not: not, pos: start})
			i++
			continue
		case ')':
			if not {
				return nil, errAt(start, "- needs a word, phrase or group after it, not )")
			}
			items = append(items, item{close: true, pos: start})
			i++
			continue
		}
		if s[i] == '"' {
			text, next, err := readPhrase(s, i)
			if err != nil {
				return nil, err
			}
			items = append(items, item{not: not, pos: start, term: Term{Value: text, Phrase: true, Pos: i}})
			i = next
			continue
		}
		j := i
		for j < len(s) {
			r, w := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) || r == '"' || r == '(' || r == ')' {
				break
			}
			j += w
		}
		word := s[i:j]
		if word == "OR" && !not {
			items = append(items, item{or: true, pos: start})
			i = j
			continue
		}
		if word == "AND" && !not {
			// The space already means AND: (a AND b) OR c is (a b) OR c.
			i = j
			continue
		}
		if word == "NOT" && !not {
			items = append(items, item{notOp: true, pos: start})
			i = j
			continue
		}
		name, value, hasColon := strings.Cut(word, ":")
		if !hasColon || !isFieldName(name) {
			items = append(items, item{not: not, pos: start, term: Term{Value: word, Pos: i}})
			i = j
			continue
		}
		f, known := lookupField(name)
		switch {
		case value == "" && !known:
			// "Update:" or "health:" pasted from a title: a plain word.
			items = append(items, item{not: not, pos: start, term: Term{Value: name, Pos: i}})
			i = j
			continue
		case !known && strings.HasPrefix(value, "//"):
			// A URL (https://…) is plain text.
			items = append(items, item{not: not, pos: start, term: Term{Value: word, Pos: i}})
			i = j
			continue
		case !known:
			return nil, errAt(i, "unknown field %q (fields: %s)", name, strings.Join(Fields(), ", "))
		}
		t := Term{Field: f, Pos: i}
		switch {
		case value != "":
			t.Value = value
			i = j
		case j < len(s) && s[j] == '"':
			text, next, err := readPhrase(s, j)
			if err != nil {
				return nil, err
			}
			t.Value, t.Phrase = text, true
			i = next
		default:
			return nil, errAt(i, "%s: needs a value, like %s", name, example(f))
		}
		if f.IsDate() {
			dr, err := ParseDates(t.Value, f == FieldYear)
			if err != nil {
				return nil, errAt(t.Pos, "%s:%s: %v", f, t.Value, err)
			}
			t.Dates = dr
		} else if !f.IsText() {
			t.Value = strings.ToLower(t.Value)
		}
		items = append(items, item{not: not, pos: start, term: t})
	}
	return items, nil
}

func example(f Field) string {
	switch f {
	case FieldTitle:
		return `title:dementia or title:"peer support"`
	case FieldAuthor:
		return `author:smith or author:"jane smith"`
	case FieldSource:
		return "source:kings-fund"
	case FieldType:
		return "type:report"
	case FieldTopic:
		return `topic:housing or topic:"peer support"`
	case FieldYear:
		return "year:2024"
	default:
		return "published:>=2020-01-01"
	}
}

// isFieldName reports whether name could be a field name: ASCII letters.
func isFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// readPhrase reads the quoted phrase whose opening quote is at s[i]. It
// returns the phrase with spaces collapsed and the offset after the closing
// quote.
func readPhrase(s string, i int) (string, int, error) {
	end := strings.IndexByte(s[i+1:], '"')
	if end < 0 {
		return "", 0, &Error{Query: s, Pos: i, Msg: `unclosed quote: add a closing "`}
	}
	text := strings.Join(strings.Fields(s[i+1:i+1+end]), " ")
	if text == "" {
		return "", 0, &Error{Query: s, Pos: i, Msg: "empty phrase"}
	}
	return text, i + 1 + end + 1, nil
}

// node is a parsed query before it is flattened into clauses: a term, or
// a group of nodes all wanted (and) or alternatives (or), maybe negated.
type node struct {
	term  *Term
	or    bool
	kids  []node
	not   bool
	pos   int // where the node starts in the query (for errors)
	orPos int // for an OR group: where its first OR is
}

// parser reads items into nodes: a query is a sequence of units, all
// wanted; a unit is a primary or several joined by OR (which binds
// tighter than the space); a primary is a term or a parenthesised
// sequence, each maybe excluded with a leading - or NOT.
type parser struct {
	s     string
	items []item
	k     int
}

func (p *parser) errAt(pos int, format string, a ...any) error {
	return &Error{Query: p.s, Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

// seq reads units up to the end or, inside a group, the closing ')'.
func (p *parser) seq(open *item) (node, error) {
	n := node{}
	if open != nil {
		n.pos = open.pos
	}
	for p.k < len(p.items) {
		it := p.items[p.k]
		if it.close {
			if open == nil {
				return node{}, p.errAt(it.pos, ") without an opening (")
			}
			p.k++
			if len(n.kids) == 0 { // "-()": the lexer drops other empty groups
				return node{}, p.errAt(open.pos, "empty group: put words between ( and )")
			}
			return n, nil
		}
		u, err := p.unit()
		if err != nil {
			return node{}, err
		}
		n.kids = append(n.kids, u)
	}
	if open != nil {
		return node{}, p.errAt(open.pos, "unclosed parenthesis: add a closing )")
	}
	return n, nil
}

func (p *parser) unit() (node, error) {
	first, err := p.primary(true)
	if err != nil {
		return node{}, err
	}
	if p.k >= len(p.items) || !p.items[p.k].or {
		return first, nil
	}
	g := node{or: true, kids: []node{first}, pos: first.pos, orPos: p.items[p.k].pos}
	for p.k < len(p.items) && p.items[p.k].or {
		or := p.items[p.k]
		p.k++
		if p.k == len(p.items) || p.items[p.k].or || p.items[p.k].close {
			return node{}, p.errAt(or.pos, "OR needs a term after it")
		}
		next, err := p.primary(false)
		if err != nil {
			return node{}, err
		}
		if first.not || next.not {
			return node{}, p.errAt(or.pos, "an excluded -term cannot be an OR alternative; exclude each one separately")
		}
		g.kids = append(g.kids, next)
		if len(g.kids) > MaxBranches {
			return node{}, p.errAt(g.pos, "too many OR alternatives (the limit is %d)", MaxBranches)
		}
	}
	return g, nil
}

// primary reads a term or a group, with any NOT before it. first is false
// after an OR.
func (p *parser) primary(first bool) (node, error) {
	it := p.items[p.k]
	switch {
	case it.or:
		return node{}, p.errAt(it.pos, "OR needs a term before it")
	case it.notOp:
		p.k++
		if p.k == len(p.items) || p.items[p.k].or || p.items[p.k].close || p.items[p.k].notOp {
			return node{}, p.errAt(it.pos, "NOT needs a word, phrase or group after it")
		}
		if p.items[p.k].not {
			return node{}, p.errAt(it.pos, "NOT and - both exclude: use one of them")
		}
		n, err := p.primary(first)
		if err != nil {
			return node{}, err
		}
		n.not, n.pos = true, it.pos
		return n, nil
	case it.open:
		p.k++
		n, err := p.seq(&p.items[p.k-1])
		if err != nil {
			return node{}, err
		}
		n.not = it.not
		return n, nil
	}
	p.k++
	t := it.term
	return node{term: &t, not: it.not, pos: it.pos}, nil
}

// literal is a term of a clause in conjunctive normal form, maybe negated.
type literal struct {
	term Term
	not  bool
	pos  int // of the node it came from, for errors
}

// cnf rewrites n (negated if neg) as clauses all wanted, each a list of
// alternatives: (a b) OR c is (a OR c) (b OR c), NOT (a OR b) is -a -b.
// It fails once the clauses would hold more than MaxTerms terms.
func (p *parser) cnf(n node, neg bool) ([][]literal, error) {
	neg = neg != n.not
	if n.term != nil {
		return [][]literal{{{term: *n.term, not: neg, pos: n.pos}}}, nil
	}
	if neg && !n.or && len(n.kids) > 1 {
		return nil, p.errAt(n.pos, "NOT (a b) is not supported (it would leave out only items with all of them): -a -b or NOT (a OR b) leaves out items with any")
	}
	// Under negation alternatives become all wanted.
	if n.or == neg {
		var out [][]literal
		for _, k := range n.kids {
			c, err := p.cnf(k, neg)
			if err != nil {
				return nil, err
			}
			out = append(out, c...)
		}
		return out, nil
	}
	out := [][]literal{nil}
	for _, k := range n.kids {
		c, err := p.cnf(k, neg)
		if err != nil {
			return nil, err
		}
		next := make([][]literal, 0, len(out)*len(c))
		for _, a := range out {
			for _, b := range c {
				next = append(next, append(append([]literal(nil), a...), b...))
			}
			if err := p.checkSize(next, n.pos); err != nil {
				return nil, err
			}
		}
		out = next
	}
	return out, nil
}

func (p *parser) checkSize(cs [][]literal, pos int) error {
	terms := 0
	for _, c := range cs {
		terms += len(c)
	}
	if terms > MaxTerms {
		return p.errAt(pos, "too many terms once the groups are multiplied out (the limit is %d): (a b) OR c means (a OR c) (b OR c)", MaxTerms)
	}
	return nil
}

func assemble(s string, items []item) (*Query, error) {
	p := &parser{s: s, items: items}
	root, err := p.seq(nil)
	if err != nil {
		return nil, err
	}
	cs, err := p.cnf(root, false)
	if err != nil {
		return nil, err
	}
	q := &Query{}
	terms := 0
	for _, c := range cs {
		c = dedupeLiterals(c)
		cl := Clause{}
		for _, l := range c {
			if l.not {
				if len(c) > 1 {
					return nil, p.errAt(l.pos, "an excluded term cannot be an alternative to another term once groups are multiplied out; exclude with -word or NOT word outside OR groups")
				}
				cl.Not = true
			}
			cl.Terms = append(cl.Terms, l.term)
		}
		if len(cl.Terms) > MaxBranches {
			return nil, p.errAt(c[0].pos, "too many OR alternatives (the limit is %d)", MaxBranches)
		}
		terms += len(cl.Terms)
		if terms > MaxTerms {
			return nil, p.errAt(cl.Terms[0].Pos, "too many terms (the limit is %d)", MaxTerms)
		}
		q.Clauses = append(q.Clauses, cl)
	}
	return q, nil
}

// dedupeLiterals drops repeated alternatives ((a b) OR a gives a OR a).
func dedupeLiterals(c []literal) []literal {
	out := c[:0:0]
	for _, l := range c {
		dup := false
		for _, o := range out {
			if o.not == l.not && o.term.Field == l.term.Field && o.term.Phrase == l.term.Phrase && o.term.Value == l.term.Value {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, l)
		}
	}
	return out
}

// MinYear and MaxYear bound the years of dates (the index keeps times as
// nanoseconds since 1970 in 64 bits: 1677 to 2262).
const (
	MinYear = 1700
	MaxYear = 2199
)

// ParseDates parses a date expression: DATE, >=DATE, >DATE, <=DATE, <DATE,
// DATE..DATE (inclusive; either end may be left out), where DATE is YYYY,
// YYYY-MM or YYYY-MM-DD and stands for the whole year, month or day. With
// yearOnly, dates must be bare years. It returns the half-open range.
func ParseDates(v string, yearOnly bool) (*DateRange, error) {
	parse := func(d string) (start, end time.Time, err error) {
		return parseDate(d, yearOnly)
	}
	if a, b, ok := strings.Cut(v, ".."); ok {
		var dr DateRange
		if a == "" && b == "" {
			return nil, errors.New("a range needs at least one end, like 2020..2022")
		}
		if a != "" {
			s, _, err := parse(a)
			if err != nil {
				return nil, err
			}
			dr.From = s
		}
		if b != "" {
			_, e, err := parse(b)
			if err != nil {
				return nil, err
			}
			dr.To = e
		}
		if !dr.From.IsZero() && !dr.To.IsZero() && !dr.From.Before(dr.To) {
			return nil, fmt.Errorf("the range %s ends before it starts", v)
		}
		return &dr, nil
	}
	op := ""
	for _, o := range []string{">=", "<=", ">", "<", "="} {
		if strings.HasPrefix(v, o) {
			op, v = o, v[len(o):]
			break
		}
	}
	start, end, err := parse(v)
	if err != nil {
		return nil, err
	}
	switch op {
	case ">=":
		return &DateRange{From: start}, nil
	case ">":
		return &DateRange{From: end}, nil
	case "<=":
		return &DateRange{To: end}, nil
	case "<":
		return &DateRange{To: start}, nil
	default:
		return &DateRange{From: start, To: end}, nil
	}
}

// parseDate parses YYYY, YYYY-MM or YYYY-MM-DD into the half-open period it
// names.
func parseDate(d string, yearOnly bool) (start, end time.Time, err error) {
	want := "want a date like 2024, 2024-03 or 2024-03-31, optionally after >=, >, <=, < or as a range 2020..2022"
	if yearOnly {
		want = "want a year like 2024, optionally after >=, >, <=, < or as a range 2020..2022"
	}
	bad := func() (time.Time, time.Time, error) {
		return time.Time{}, time.Time{}, fmt.Errorf("bad date %q: %s", d, want)
	}
	parts := strings.Split(d, "-")
	if len(parts) > 3 || (yearOnly && len(parts) > 1) {
		return bad()
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		wantLen := 2
		if i == 0 {
			wantLen = 4
		}
		if len(p) != wantLen {
			return bad()
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return bad()
		}
		nums[i] = n
	}
	y := nums[0]
	if y < MinYear || y > MaxYear {
		return time.Time{}, time.Time{}, fmt.Errorf("date %q out of range: years %d to %d", d, MinYear, MaxYear)
	}
	switch len(nums) {
	case 1:
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC), nil
	case 2:
		m := nums[1]
		if m < 1 || m > 12 {
			return bad()
		}
		return time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC), time.Date(y, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC), nil
	default:
		m, dd := nums[1], nums[2]
		t := time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC)
		if m < 1 || m > 12 || t.Day() != dd {
			return bad()
		}
		return t, t.AddDate(0, 0, 1), nil
	}
}

// String renders q in the query language; parsing the result gives q again
// (apart from positions).
func (q *Query) String() string {
	if q == nil {
		return ""
	}
	parts := make([]string, 0, len(q.Clauses))
	for _, c := range q.Clauses {
		ts := make([]string, len(c.Terms))
		for i, t := range c.Terms {
			ts[i] = t.String()
		}
		s := strings.Join(ts, " OR ")
		if c.Not {
			s = "-" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// String renders t in the query language.
func (t Term) String() string {
	v := t.Value
	if t.Phrase {
		v = `"` + v + `"`
	}
	if t.Field != FieldText {
		return string(t.Field) + ":" + v
	}
	return v
}

// Terms calls fn for every term of q, with whether its clause is excluded.
func (q *Query) Terms(fn func(t Term, not bool)) {
	if q == nil {
		return
	}
	for _, c := range q.Clauses {
		for _, t := range c.Terms {
			fn(t, c.Not)
		}
	}
}

// CheckTopicName says what is wrong with a topic's name ("" if nothing):
// it must be non-empty, without spaces at either end and at most 64 bytes.
// (Names are compared without regard to case: see TopicKey.)
func CheckTopicName(name string) string {
	trimmed := strings.TrimSpace(name)
	switch {
	case trimmed == "":
		return "must not be empty"
	case trimmed != name:
		return fmt.Sprintf("%q has spaces at an end", name)
	case len(trimmed) > 64:
		return fmt.Sprintf("%q is longer than 64 bytes", trimmed)
	}
	return ""
}

// TopicKey is the form under which two topic names are the same topic.
func TopicKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// CheckTopicQuery parses s as the query of a topic in the taxonomy: it must
// want something (not only -exclusions) and cannot use topic:. The error
// wraps evidence.ErrInvalid.
func CheckTopicQuery(s string) error {
	q, err := Parse(s)
	if err != nil {
		return err
	}
	if q.Empty() {
		return fmt.Errorf("query: must not be empty: %w", evidence.ErrInvalid)
	}
	positive := false
	for _, c := range q.Clauses {
		if !c.Not {
			positive = true
		}
		for _, t := range c.Terms {
			if t.Field == FieldTopic {
				return &Error{Query: s, Pos: t.Pos, Msg: "topic: cannot be used in a topic's own query"}
			}
		}
	}
	if !positive {
		return fmt.Errorf("query: needs a word, phrase or field:value to match, not only -exclusions: %w", evidence.ErrInvalid)
	}
	return nil
}
