package querylang

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// stripPos zeroes positions so trees can be compared.
func stripPos(q *Query) *Query {
	out := &Query{}
	for _, c := range q.Clauses {
		nc := Clause{Not: c.Not}
		for _, t := range c.Terms {
			t.Pos = 0
			nc.Terms = append(nc.Terms, t)
		}
		out.Clauses = append(out.Clauses, nc)
	}
	return out
}

func word(v string) Term           { return Term{Value: v} }
func phrase(v string) Term         { return Term{Value: v, Phrase: true} }
func field(f Field, v string) Term { return Term{Field: f, Value: v} }
func one(t Term) Clause            { return Clause{Terms: []Term{t}} }
func not(t Term) Clause            { return Clause{Not: true, Terms: []Term{t}} }
func or(ts ...Term) Clause         { return Clause{Terms: ts} }

func dates(f Field, v, from, to string) Term {
	dr := &DateRange{}
	if from != "" {
		dr.From = utc(from)
	}
	if to != "" {
		dr.To = utc(to)
	}
	return Term{Field: f, Value: v, Dates: dr}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Clause
	}{
		{"empty", "", nil},
		{"blank", " \t ", nil},
		{"words", "social prescribing", []Clause{one(word("social")), one(word("prescribing"))}},
		{"phrase", `"older  people"`, []Clause{one(phrase("older people"))}},
		{"word and phrase", `loneliness "older people"`, []Clause{one(word("loneliness")), one(phrase("older people"))}},
		{"exclude word", "prescribing -link", []Clause{one(word("prescribing")), not(word("link"))}},
		{"exclude phrase", `-"link workers"`, []Clause{not(phrase("link workers"))}},
		{"lone dash ignored", "- prescribing -", []Clause{one(word("prescribing"))}},
		{"hyphenated word", "self-management", []Clause{one(word("self-management"))}},
		{"or", "loneliness OR isolation", []Clause{or(word("loneliness"), word("isolation"))}},
		{"or binds tighter than space", "a b OR c d", []Clause{one(word("a")), or(word("b"), word("c")), one(word("d"))}},
		{"or chain", `a OR "b c" OR title:d`, []Clause{or(word("a"), phrase("b c"), field(FieldTitle, "d"))}},
		{"lowercase or is a word", "a or b", []Clause{one(word("a")), one(word("or")), one(word("b"))}},
		{"title word", "title:dementia", []Clause{one(field(FieldTitle, "dementia"))}},
		{"title phrase", `title:"peer support"`, []Clause{one(Term{Field: FieldTitle, Value: "peer support", Phrase: true})}},
		{"author", "author:Smith", []Clause{one(field(FieldAuthor, "Smith"))}},
		{"authors alias", "authors:smith", []Clause{one(field(FieldAuthor, "smith"))}},
		{"source lowercased", "source:Kings-Fund", []Clause{one(field(FieldSource, "kings-fund"))}},
		{"type", "type:report", []Clause{one(field(FieldType, "report"))}},
		{"topic phrase", `topic:"Peer Support"`, []Clause{one(Term{Field: FieldTopic, Value: "peer support", Phrase: true})}},
		{"field name case", "TITLE:x", []Clause{one(field(FieldTitle, "x"))}},
		{"exclude field", "-source:kings-fund", []Clause{not(field(FieldSource, "kings-fund"))}},
		{"published from", "published:>=2020-01-01", []Clause{one(dates(FieldPublished, ">=2020-01-01", "2020-01-01", ""))}},
		{"published after", "published:>2020", []Clause{one(dates(FieldPublished, ">2020", "2021-01-01", ""))}},
		{"published before year", "published:<2021", []Clause{one(dates(FieldPublished, "<2021", "", "2021-01-01"))}},
		{"published up to month", "published:<=2021-02", []Clause{one(dates(FieldPublished, "<=2021-02", "", "2021-03-01"))}},
		{"published day", "published:2024-02-29", []Clause{one(dates(FieldPublished, "2024-02-29", "2024-02-29", "2024-03-01"))}},
		{"published range", "published:2020..2021-06", []Clause{one(dates(FieldPublished, "2020..2021-06", "2020-01-01", "2021-07-01"))}},
		{"open range", "published:2022..", []Clause{one(dates(FieldPublished, "2022..", "2022-01-01", ""))}},
		{"year", "year:2023", []Clause{one(dates(FieldYear, "2023", "2023-01-01", "2024-01-01"))}},
		{"trailing colon is text", "Update: housing", []Clause{one(word("Update")), one(word("housing"))}},
		{"url is text", "https://example.org/x", []Clause{one(word("https://example.org/x"))}},
		{"non-letter prefix is text", "10:30 covid-19:", []Clause{one(word("10:30")), one(word("covid-19:"))}},
		{"group", "(a OR b)", []Clause{or(word("a"), word("b"))}},
		{"group of words", "(a b) c", []Clause{one(word("a")), one(word("b")), one(word("c"))}},
		{"group joins ORs", "(a OR b) OR c", []Clause{or(word("a"), word("b"), word("c"))}},
		{"OR of groups multiplies out", "(a b) OR c", []Clause{or(word("a"), word("c")), or(word("b"), word("c"))}},
		{"groups both sides", "(a b) OR (c d)", []Clause{or(word("a"), word("c")), or(word("a"), word("d")), or(word("b"), word("c")), or(word("b"), word("d"))}},
		{"nested groups", "((a OR b))", []Clause{or(word("a"), word("b"))}},
		{"repeated alternative", "(a b) OR a", []Clause{one(word("a")), or(word("b"), word("a"))}},
		{"parenthesis ends a word", "child(ren)", []Clause{one(word("child")), one(word("ren"))}},
		{"NOT", "social NOT care", []Clause{one(word("social")), not(word("care"))}},
		{"NOT phrase", `a NOT "b c"`, []Clause{one(word("a")), not(phrase("b c"))}},
		{"NOT field", "a NOT source:kings-fund", []Clause{one(word("a")), not(field(FieldSource, "kings-fund"))}},
		{"NOT group", "a NOT (b OR c)", []Clause{one(word("a")), not(word("b")), not(word("c"))}},
		{"minus group", "a -(b OR c)", []Clause{one(word("a")), not(word("b")), not(word("c"))}},
		{"exclusion in group", "(a -b)", []Clause{one(word("a")), not(word("b"))}},
		{"NOT of one", "NOT (a)", []Clause{not(word("a"))}},
		{"AND is the space", "(a AND b) OR c AND d", []Clause{or(word("a"), word("c")), or(word("b"), word("c")), one(word("d"))}},
		{"negated AND word", "-AND", []Clause{not(word("AND"))}},
		{"lowercase not is a word", "a not b", []Clause{one(word("a")), one(word("not")), one(word("b"))}},
		{"negated NOT word", "-NOT", []Clause{not(word("NOT"))}},
		{"empty group is nothing", "a () b :( )", []Clause{one(word("a")), one(word("b")), one(word(":"))}},
		{"phrase keeps brackets", `"a (b)"`, []Clause{one(phrase("a (b)"))}},
		{"quote ends a word", `foo"bar baz"`, []Clause{one(word("foo")), one(phrase("bar baz"))}},
		{"negated OR word", "-OR", []Clause{not(word("OR"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			got := stripPos(q)
			want := &Query{Clauses: tt.want}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, want)
			}
			// Round trip.
			q2, err := Parse(q.String())
			if err != nil {
				t.Fatalf("Parse(String() = %q): %v", q.String(), err)
			}
			if !reflect.DeepEqual(stripPos(q2), got) {
				t.Errorf("round trip of %q via %q changed the tree", tt.in, q.String())
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	q := MustParse(`é -"b c" title:x`)
	var got []int
	q.Terms(func(t Term, _ bool) { got = append(got, t.Pos) })
	if want := []int{0, 4, 10}; !reflect.DeepEqual(got, want) {
		t.Errorf("positions = %v, want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a ", MaxLength/2) + "b"
	many := strings.TrimSpace(strings.Repeat("w ", MaxTerms+1))
	tests := []struct {
		name   string
		in     string
		column int
		msg    string // substring
	}{
		{"unclosed quote", `social "older people`, 8, "unclosed quote"},
		{"unclosed field phrase", `title:"peer`, 7, "unclosed quote"},
		{"empty phrase", `a ""`, 3, "empty phrase"},
		{"leading OR", "OR housing", 1, "OR needs a term before it"},
		{"trailing OR", "housing OR", 9, "OR needs a term after it"},
		{"double OR", "housing OR OR care", 9, "OR needs a term after it"},
		{"excluded alternative", "a OR -b", 3, "cannot be an OR alternative"},
		{"excluded before OR", "-a OR b", 4, "cannot be an OR alternative"},
		{"unknown field", "colour:red", 1, `unknown field "colour"`},
		{"field without value", "title: dementia", 1, "title: needs a value"},
		{"bad date", "published:2020-13-01", 1, `bad date "2020-13-01"`},
		{"bad day", "published:>=2021-02-29", 1, `bad date "2021-02-29"`},
		{"bad operator", "published:=>2020", 1, "bad date"},
		{"short year", "published:<21", 1, "bad date"},
		{"year too late", "year:9999", 1, `date "9999" out of range: years 1700 to 2199`},
		{"year too early", "published:<1066", 1, `date "1066" out of range`},
		{"year with month", "year:2020-01", 1, "want a year"},
		{"backwards range", "published:2022..2020", 1, "ends before it starts"},
		{"empty range", "published:..", 1, "at least one end"},
		{"date after words", "dementia published:soon", 10, `bad date "soon"`},
		{"too long", long, MaxLength + 2, "limit is 500"},
		{"too many terms", many, 2*MaxTerms + 1, "too many terms"},
		{"too many alternatives", "x " + strings.TrimSpace(strings.Repeat("a OR ", MaxBranches)) + " a", 3, "too many OR alternatives"},
		{"invalid utf-8", "a\xffb", 1, "not valid UTF-8"},
		{"unclosed group", "(social OR care", 1, "unclosed parenthesis: add a closing )"},
		{"unclosed inner group", "a (b (c) d", 3, "unclosed parenthesis"},
		{"stray close", "social OR care)", 15, ") without an opening ("},
		{"empty excluded group", "a -( )", 3, "empty group"},
		{"OR before close", "(a OR)", 4, "OR needs a term after it"},
		{"OR after open", "(OR a)", 2, "OR needs a term before it"},
		{"trailing NOT", "social NOT", 8, "NOT needs a word, phrase or group after it"},
		{"NOT NOT", "a NOT NOT b", 3, "NOT needs a word"},
		{"NOT minus", "a NOT -b", 3, "NOT and - both exclude"},
		{"NOT alternative", "a OR NOT b", 3, "cannot be an OR alternative"},
		{"minus close", "(a -)", 4, "- needs a word"},
		{"NOT of words", "NOT (a b)", 1, "NOT (a b) is not supported"},
		{"NOT of a NOT", "NOT (a NOT b)", 1, "NOT (a b) is not supported"},
		{"exclusion in OR group", "(a -b) OR c", 4, "exclude with -word or NOT word outside OR groups"},
		{"groups multiply too far", strings.Repeat("(a b c d) OR ", 3) + "(e f g h)", 1, "too many terms once the groups are multiplied out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.in)
			}
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if pe.Column() != tt.column {
				t.Errorf("column = %d, want %d (%v)", pe.Column(), tt.column, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "social prescribing", `"older people" -housing`, "a OR b OR c", `title:"x y" author:smith`,
		"published:>=2020-01-01 year:2021", "published:2020..2022-06", `-"a" OR b`, "OR", `"`, "x:y",
		"https://x.org", "-", "--x", `a"b"c`, "source:KINGS-fund type:report topic:\"peer support\"",
		"(a OR b) c", "(a b) OR (c d)", "social NOT care", "NOT (a OR b)", "-(a", "((a)", "a)", "NOT", "(a -b) OR c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrInvalid", s, err)
			}
			_ = err.Error()
			return
		}
		terms := 0
		for _, c := range q.Clauses {
			if len(c.Terms) == 0 || len(c.Terms) > MaxBranches {
				t.Fatalf("Parse(%q): clause with %d terms", s, len(c.Terms))
			}
			if c.Not && len(c.Terms) > 1 {
				t.Fatalf("Parse(%q): excluded OR group", s)
			}
			for _, tm := range c.Terms {
				terms++
				if tm.Value == "" {
					t.Fatalf("Parse(%q): empty term", s)
				}
				if tm.Field.IsDate() != (tm.Dates != nil) {
					t.Fatalf("Parse(%q): date field without dates or the reverse", s)
				}
			}
		}
		if terms > MaxTerms {
			t.Fatalf("Parse(%q): %d terms", s, terms)
		}
		rendered := q.String()
		q2, err := Parse(rendered)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its rendering %q fails: %v", s, rendered, err)
		}
		if !reflect.DeepEqual(stripPos(q), stripPos(q2)) {
			t.Fatalf("round trip %q → %q changed the tree", s, rendered)
		}
	})
}

func TestCheckTopicName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Recovery", ""},
		{"", "must not be empty"},
		{"   ", "must not be empty"},
		{" Recovery", `" Recovery" has spaces at an end`},
		{strings.Repeat("x", 65), `"` + strings.Repeat("x", 65) + `" is longer than 64 bytes`},
		{strings.Repeat("x", 64), ""},
	}
	for _, tt := range tests {
		if got := CheckTopicName(tt.name); got != tt.want {
			t.Errorf("CheckTopicName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if TopicKey(" Peer Support ") != TopicKey("peer support") {
		t.Error("TopicKey should ignore case and outer spaces")
	}
}
