package index

import (
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"

	"github.com/evidencetracker/evidence/index/querylang"
)

// A plan is a parsed query after analysis: every text term turned into the
// index terms to look for, field by field. Search turns a plan into a bleve
// query; the Tagger evaluates it against one item in memory. Both read the
// plan the same way, so a topic's query tags the items a search for it finds
// (but tagging requires every plain word; search only prefers them).
type plan struct {
	// soft are the plain words (and OR groups of plain words): ranked, all
	// preferred, none required when anything else is.
	soft []cond
	// must are required and scored: phrases, title: and author: terms,
	// OR groups holding one of those.
	must []cond
	// filters are required and unscored: source:, type:, topic:,
	// published:, year:, and OR groups of those alone.
	filters []cond
	// mustNot excludes.
	mustNot []cond
	// vanished is true when some positive text term analysed to nothing
	// (only stop words or punctuation).
	vanished bool
}

// scored reports whether the plan ranks by relevance (it has text to
// match).
func (p *plan) scored() bool { return len(p.soft)+len(p.must) > 0 }

// empty reports whether the plan has nothing at all.
func (p *plan) empty() bool {
	return len(p.soft)+len(p.must)+len(p.filters)+len(p.mustNot) == 0
}

type condKind int

const (
	condText condKind = iota
	condKeyword
	condDate
	condOr
)

// cond is one condition of a plan.
type cond struct {
	kind condKind
	// condText: the forms to look for, one per field searched; the
	// condition holds if it holds in any of them. restricted is true for
	// title: and author: terms.
	forms      []fieldForm
	phrase     bool
	restricted bool
	// condKeyword: field and exact value.
	field, value string
	// condDate: the half-open range of published dates.
	from, to time.Time
	// condOr: the alternatives.
	alts []cond
}

// hard reports whether c must hold (as opposed to a ranked plain word).
func (c *cond) hard() bool {
	switch c.kind {
	case condText:
		return c.phrase || c.restricted
	case condOr:
		for i := range c.alts {
			if c.alts[i].hard() {
				return true
			}
		}
		return false
	default:
		return true
	}
}

// filterOnly reports whether c is made of keyword and date conditions only.
func (c *cond) filterOnly() bool {
	switch c.kind {
	case condKeyword, condDate:
		return true
	case condOr:
		for i := range c.alts {
			if !c.alts[i].filterOnly() {
				return false
			}
		}
		return true
	default:
		return false
	}
}

// fieldForm is a text term as one field's analyzer sees it.
type fieldForm struct {
	field string
	boost float64
	// positions is true if the field keeps term positions (phrases work).
	positions bool
	// units: for a word, the terms to find, all of them; each unit is a
	// set of alternatives (a word and the synonym concepts covering it).
	units [][]string
	// phrases: for a phrase, its variants (the phrase itself and the
	// phrase with a synonym swapped in), each as slots of alternative
	// terms; a nil slot is a removed stop word.
	phrases [][][]string
	// anyOf: for a phrase that is wholly a synonym term, its concept
	// token, which matches the phrase anywhere (even in fields without
	// positions).
	anyOf []string
}

// terms returns every distinct term of f, for ranking.
func (f *fieldForm) terms() []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, u := range f.units {
		for _, t := range u {
			add(t)
		}
	}
	for _, ph := range f.phrases {
		for _, slot := range ph {
			for _, t := range slot {
				add(t)
			}
		}
	}
	for _, t := range f.anyOf {
		add(t)
	}
	return out
}

func (f *fieldForm) empty() bool {
	return len(f.units) == 0 && len(f.phrases) == 0 && len(f.anyOf) == 0
}

// planner analyses queries.
type planner struct {
	text analysis.Analyzer // titles, summaries, bodies
	name analysis.Analyzer // authors
	syn  *synMatcher       // nil without synonyms
}

// newPlanner returns a planner for the analysis sp describes.
func newPlanner(sp *spec) *planner {
	pl := &planner{
		text: newTextAnalyzer(sp.text),
		name: &analysis.DefaultAnalyzer{
			Tokenizer:    unicode.NewUnicodeTokenizer(),
			TokenFilters: []analysis.TokenFilter{lowercase.NewLowerCaseFilter(), stop.NewStopTokensFilter(englishStopWords())},
		},
	}
	if len(sp.text.Synonyms) > 0 {
		pl.syn = newSynMatcher(sp.text.Synonyms)
	}
	return pl
}

// maxPhraseVariants bounds the synonym variants of one phrase.
const maxPhraseVariants = 16

// plan analyses q.
func (pl *planner) plan(q *querylang.Query) *plan {
	p := &plan{}
	words := pl.plainWords(q)
	for ci, c := range q.Clauses {
		var conds []cond
		for ti, t := range c.Terms {
			var cd cond
			var ok bool
			if w, isWord := words[[2]int{ci, ti}]; isWord {
				cd, ok = w, len(w.forms) > 0
			} else {
				cd, ok = pl.term(t)
			}
			if !ok {
				if !c.Not {
					p.vanished = true
				}
				continue
			}
			conds = append(conds, cd)
		}
		if len(conds) == 0 {
			continue
		}
		cd := conds[0]
		if len(conds) > 1 {
			cd = cond{kind: condOr, alts: conds}
		}
		switch {
		case c.Not:
			p.mustNot = append(p.mustNot, cd)
		case cd.filterOnly():
			p.filters = append(p.filters, cd)
		case cd.hard():
			p.must = append(p.must, cd)
		default:
			p.soft = append(p.soft, cd)
		}
	}
	return p
}

// plainWords analyses the plain words of q (text field, not a phrase) run
// by run, so that synonyms of several words ("severe mental illness") are
// found across them. It returns each word's condition by [clause, term].
func (pl *planner) plainWords(q *querylang.Query) map[[2]int]cond {
	out := map[[2]int]cond{}
	type word struct {
		at         [2]int
		start, end int // bytes in the joined run
	}
	var run []word
	var b strings.Builder
	flush := func() {
		if len(run) == 0 {
			return
		}
		text := b.String()
		ranges := make([][2]int, len(run))
		for i, w := range run {
			ranges[i] = [2]int{w.start, w.end}
		}
		forms := make([][]fieldForm, len(run))
		for _, f := range textFields {
			a := pl.text
			if f.name == fieldAuthors {
				a = pl.name
			}
			units := wordUnits(analyse(a, text), ranges)
			for i := range run {
				if len(units[i]) == 0 {
					continue
				}
				forms[i] = append(forms[i], fieldForm{field: f.name, boost: f.boost, positions: f.positions, units: units[i]})
			}
		}
		for i, w := range run {
			out[w.at] = cond{kind: condText, forms: forms[i]}
		}
		run = run[:0]
		b.Reset()
	}
	for ci, c := range q.Clauses {
		for ti, t := range c.Terms {
			isPlain := t.Field == querylang.FieldText && !t.Phrase
			if !isPlain {
				flush()
				continue
			}
			// Excluded words and OR alternatives are analysed alone.
			if c.Not || len(c.Terms) > 1 {
				flush()
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			start := b.Len()
			b.WriteString(t.Value)
			run = append(run, word{at: [2]int{ci, ti}, start: start, end: b.Len()})
			if c.Not || len(c.Terms) > 1 {
				flush()
			}
		}
	}
	flush()
	return out
}

// wordUnits splits an analysed run of words into each word's units: one per
// plain token, holding the token and the concept tokens whose occurrence
// covers it.
func wordUnits(ts analysis.TokenStream, words [][2]int) [][][]string {
	out := make([][][]string, len(words))
	var syns []*analysis.Token
	for _, t := range ts {
		if isSynToken(t.Term) {
			syns = append(syns, t)
		}
	}
	for _, t := range ts {
		if isSynToken(t.Term) {
			continue
		}
		wi := -1
		for i, w := range words {
			if t.Start >= w[0] && t.Start < w[1] {
				wi = i
				break
			}
		}
		if wi < 0 {
			continue
		}
		unit := []string{string(t.Term)}
		for _, s := range syns {
			if t.Start >= s.Start && t.End <= s.End && !slices.Contains(unit, string(s.Term)) {
				unit = append(unit, string(s.Term))
			}
		}
		out[wi] = append(out[wi], unit)
	}
	return out
}

// term analyses one term that is not a plain word of a run. ok is false if
// it analysed to nothing.
func (pl *planner) term(t querylang.Term) (cond, bool) {
	switch t.Field {
	case querylang.FieldSource:
		return cond{kind: condKeyword, field: fieldSource, value: t.Value}, true
	case querylang.FieldType:
		return cond{kind: condKeyword, field: fieldType, value: t.Value}, true
	case querylang.FieldTopic:
		return cond{kind: condKeyword, field: fieldTopics, value: t.Value}, true
	case querylang.FieldPublished, querylang.FieldYear:
		return cond{kind: condDate, from: t.Dates.From, to: t.Dates.To}, true
	}
	var forms []fieldForm
	for _, f := range textFields {
		switch t.Field {
		case querylang.FieldTitle:
			if f.name != fieldTitle {
				continue
			}
		case querylang.FieldAuthor:
			if f.name != fieldAuthors {
				continue
			}
		}
		a := pl.text
		if f.name == fieldAuthors {
			a = pl.name
		}
		ts := analyse(a, t.Value)
		var ff fieldForm
		if t.Phrase {
			ff = pl.phraseForm(ts)
		} else {
			ff = fieldForm{units: wordUnits(ts, [][2]int{{0, len(t.Value)}})[0]}
		}
		// Phrases stay in fields without positions: search skips them
		// there, the in-memory tagger does not.
		ff.field, ff.boost, ff.positions = f.name, f.boost, f.positions
		if ff.empty() {
			continue
		}
		forms = append(forms, ff)
	}
	if len(forms) == 0 {
		return cond{}, false
	}
	restricted := t.Field == querylang.FieldTitle || t.Field == querylang.FieldAuthor
	return cond{kind: condText, forms: forms, phrase: t.Phrase, restricted: restricted}, true
}

// phraseForm analyses a phrase: its own slots, the variants with each
// synonym occurrence replaced by the group's other terms, and the concept
// token if the whole phrase is one synonym term.
func (pl *planner) phraseForm(ts analysis.TokenStream) fieldForm {
	var plain analysis.TokenStream
	var syns []*analysis.Token
	for _, t := range ts {
		if isSynToken(t.Term) {
			syns = append(syns, t)
		} else {
			plain = append(plain, t)
		}
	}
	if len(plain) == 0 {
		return fieldForm{}
	}
	var ff fieldForm
	base := toSlots(plain)
	ff.phrases = [][][]string{base}
	if len(syns) == 0 || pl.syn == nil {
		return ff
	}
	first, last := plain[0], plain[len(plain)-1]
	for _, s := range syns {
		if s.Start <= first.Start && s.End >= last.End {
			ff.anyOf = append(ff.anyOf, string(s.Term))
		}
	}
	// Variants: swap each occurrence (leftmost first, not overlapping)
	// for every other term of its group.
	variants := [][][]string{base}
	spans := pl.syn.find(plain)
	prevEnd := 0
	for _, sp := range spans {
		if sp.from < prevEnd {
			continue
		}
		prevEnd = sp.to
		g := pl.syn.groups[sp.token]
		var next [][][]string
		for _, v := range variants {
			for _, seq := range g.Seqs {
				if len(next) >= maxPhraseVariants {
					break
				}
				next = append(next, substitute(v, plain, sp, seq))
			}
		}
		variants = dedupeSlots(next)
	}
	ff.phrases = variants
	return ff
}

// toSlots turns tokens into phrase slots by position, nil for gaps.
func toSlots(ts analysis.TokenStream) [][]string {
	first, last := ts[0].Position, ts[0].Position
	for _, t := range ts {
		first, last = min(first, t.Position), max(last, t.Position)
	}
	out := make([][]string, last-first+1)
	for _, t := range ts {
		i := t.Position - first
		if !slices.Contains(out[i], string(t.Term)) {
			out[i] = append(out[i], string(t.Term))
		}
	}
	return out
}

// substitute replaces, in variant v of the phrase made of plain, the slots
// of occurrence sp by seq. Variants built earlier only changed slots before
// sp, so sp's slots are found from the end of v.
func substitute(v [][]string, plain analysis.TokenStream, sp span, seq []string) [][]string {
	base := plain[0].Position
	lastPos := plain[len(plain)-1].Position
	fromSlot := plain[sp.from].Position - base
	toSlot := plain[sp.to-1].Position - base + 1 // exclusive
	tail := (lastPos - base + 1) - toSlot        // slots after the occurrence
	head := len(v) - tail - (toSlot - fromSlot)  // slots before it in v
	if head < 0 {
		return v
	}
	out := make([][]string, 0, head+len(seq)+tail)
	out = append(out, v[:head]...)
	for _, t := range seq {
		if t == "" {
			out = append(out, nil)
		} else {
			out = append(out, []string{t})
		}
	}
	out = append(out, v[len(v)-tail:]...)
	return out
}

func dedupeSlots(vs [][][]string) [][][]string {
	seen := map[string]bool{}
	var out [][][]string
	for _, v := range vs {
		var b strings.Builder
		for _, s := range v {
			b.WriteString(strings.Join(s, "|"))
			b.WriteByte(' ')
		}
		if k := b.String(); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}
