package index

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/evidencetracker/evidence"
)

// SynonymGroup is a set of terms that mean the same thing (an acronym and
// its expansions, a UK and a US name). Any term finds the others; a term of
// several words matches only as a phrase.
type SynonymGroup struct {
	Terms []string
	// Line is the line of the file the group came from (0 if none).
	Line int
}

// Limits on synonym files, so a mistaken file cannot make every token
// expensive.
const (
	maxSynonymGroups    = 5000
	maxTermsPerGroup    = 32
	maxWordsPerSynonym  = 12
	maxSynonymTermBytes = 200
)

// ParseSynonyms reads synonym groups in CSV: one group per line, terms
// separated by commas (quote a term that holds a comma), blank lines and
// lines starting with # ignored. A group needs two terms at least. Errors
// wrap evidence.ErrInvalid and name the line.
func ParseSynonyms(r io.Reader) ([]SynonymGroup, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	var out []SynonymGroup
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("line %d: %v: %w", pe.Line, pe.Err, evidence.ErrInvalid)
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		g := SynonymGroup{Line: line}
		seen := map[string]bool{}
		for _, f := range rec {
			f = strings.Join(strings.Fields(f), " ")
			if f == "" || seen[strings.ToLower(f)] {
				continue
			}
			if !utf8.ValidString(f) {
				return nil, fmt.Errorf("line %d: term is not valid UTF-8: %w", line, evidence.ErrInvalid)
			}
			if len(f) > maxSynonymTermBytes {
				return nil, fmt.Errorf("line %d: term %.40q… is longer than %d bytes: %w", line, f, maxSynonymTermBytes, evidence.ErrInvalid)
			}
			seen[strings.ToLower(f)] = true
			g.Terms = append(g.Terms, f)
		}
		if len(g.Terms) == 0 {
			continue
		}
		if len(g.Terms) < 2 {
			return nil, fmt.Errorf("line %d: group %q needs two terms at least: %w", line, g.Terms[0], evidence.ErrInvalid)
		}
		if len(g.Terms) > maxTermsPerGroup {
			return nil, fmt.Errorf("line %d: group has %d terms, the limit is %d: %w", line, len(g.Terms), maxTermsPerGroup, evidence.ErrInvalid)
		}
		out = append(out, g)
		if len(out) > maxSynonymGroups {
			return nil, fmt.Errorf("line %d: more than %d groups: %w", line, maxSynonymGroups, evidence.ErrInvalid)
		}
	}
}

// ReadSynonymsFile reads a synonyms file (see ParseSynonyms).
func ReadSynonymsFile(path string) ([]SynonymGroup, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("index: synonyms file: %w", err)
	}
	defer f.Close()
	gs, err := ParseSynonyms(f)
	if err != nil {
		return nil, fmt.Errorf("index: synonyms file %s: %w", path, err)
	}
	return gs, nil
}

// synGroup is a compiled synonym group: the concept token added wherever
// one of its term sequences appears. Seqs are the analysed terms; "" marks a
// removed stop word inside a term ("child and adolescent…").
type synGroup struct {
	Token string     `json:"token"`
	Seqs  [][]string `json:"seqs"`
}

// synTokenPrefix starts every concept token. The tokenizer never produces
// it, so a user cannot type a concept token.
const synTokenPrefix = "§"

func isSynToken(term []byte) bool {
	return len(term) >= len(synTokenPrefix) && string(term[:len(synTokenPrefix)]) == synTokenPrefix
}

// compileSynonyms analyses every term of every group with pre (the text
// chain without synonyms).
func compileSynonyms(groups []SynonymGroup, pre analysis.Analyzer) ([]synGroup, error) {
	out := make([]synGroup, 0, len(groups))
	used := map[string]int{}
	for _, g := range groups {
		sg := synGroup{}
		seen := map[string]bool{}
		for _, term := range g.Terms {
			seq := slots(analyse(pre, term))
			if len(seq) == 0 {
				return nil, fmt.Errorf("index: synonyms line %d: %q has no searchable words (only stop words?): %w", g.Line, term, evidence.ErrInvalid)
			}
			if len(seq) > maxWordsPerSynonym {
				return nil, fmt.Errorf("index: synonyms line %d: %q has more than %d words: %w", g.Line, term, maxWordsPerSynonym, evidence.ErrInvalid)
			}
			key := strings.Join(seq, " ")
			if seen[key] {
				continue
			}
			seen[key] = true
			sg.Seqs = append(sg.Seqs, seq)
		}
		if len(sg.Seqs) < 2 {
			continue // every term analysed the same: nothing to add
		}
		base := synTokenPrefix + strings.Join(nonEmpty(sg.Seqs[0]), "_")
		used[base]++
		sg.Token = base
		if n := used[base]; n > 1 {
			sg.Token = fmt.Sprintf("%s~%d", base, n)
		}
		out = append(out, sg)
	}
	return out, nil
}

// slots turns a token stream into terms by position, "" where the stream
// skips a position (a stop word). Tokens sharing a position keep the first.
func slots(ts analysis.TokenStream) []string {
	var out []string
	first := 0
	for _, t := range ts {
		if isSynToken(t.Term) {
			continue
		}
		if first == 0 {
			first = t.Position
		}
		i := t.Position - first
		if i < len(out) {
			continue
		}
		for len(out) < i {
			out = append(out, "")
		}
		out = append(out, string(t.Term))
	}
	return out
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// synMatcher finds where synonym terms occur in a token stream.
type synMatcher struct {
	// byFirst maps a term's first word to the (words, token) pairs that
	// start with it, longest first.
	byFirst map[string][]synEntry
	groups  map[string]*synGroup // by token
}

type synEntry struct {
	words []string // analysed words, stop-word gaps removed
	token string
}

func newSynMatcher(groups []synGroup) *synMatcher {
	m := &synMatcher{byFirst: map[string][]synEntry{}, groups: map[string]*synGroup{}}
	for i := range groups {
		g := &groups[i]
		m.groups[g.Token] = g
		for _, seq := range g.Seqs {
			w := nonEmpty(seq)
			m.byFirst[w[0]] = append(m.byFirst[w[0]], synEntry{words: w, token: g.Token})
		}
	}
	for k, es := range m.byFirst {
		for i := 1; i < len(es); i++ { // insertion sort: lists are short
			for j := i; j > 0 && len(es[j].words) > len(es[j-1].words); j-- {
				es[j], es[j-1] = es[j-1], es[j]
			}
		}
		m.byFirst[k] = es
	}
	return m
}

// span is one synonym occurrence: tokens [from, to) of a stream.
type span struct {
	from, to int
	token    string
}

// find returns every synonym occurrence in ts (concept tokens in ts are
// skipped), at most one per group and start.
func (m *synMatcher) find(ts analysis.TokenStream) []span {
	var out []span
	for i, t := range ts {
		es := m.byFirst[string(t.Term)]
		if len(es) == 0 {
			continue
		}
		var seen []string
	entries:
		for _, e := range es {
			for _, s := range seen {
				if s == e.token {
					continue entries
				}
			}
			j, k := i, 0
			for ; j < len(ts) && k < len(e.words); j++ {
				if isSynToken(ts[j].Term) {
					continue
				}
				if string(ts[j].Term) != e.words[k] {
					break
				}
				k++
			}
			if k == len(e.words) {
				out = append(out, span{from: i, to: j, token: e.token})
				seen = append(seen, e.token)
			}
		}
	}
	return out
}

// synonymFilter adds a concept token after the first token of every
// synonym occurrence, at that token's position and spanning the whole
// occurrence (so a highlight marks the phrase).
type synonymFilter struct{ m *synMatcher }

func newSynonymFilter(groups []synGroup) synonymFilter {
	return synonymFilter{m: newSynMatcher(groups)}
}

func (f synonymFilter) Filter(ts analysis.TokenStream) analysis.TokenStream {
	spans := f.m.find(ts)
	if len(spans) == 0 {
		return ts
	}
	out := make(analysis.TokenStream, 0, len(ts)+len(spans))
	k := 0
	for i, t := range ts {
		out = append(out, t)
		for ; k < len(spans) && spans[k].from == i; k++ {
			last := ts[spans[k].to-1]
			out = append(out, &analysis.Token{
				Term:     []byte(spans[k].token),
				Start:    t.Start,
				End:      last.End,
				Position: t.Position,
				Type:     analysis.AlphaNumeric,
			})
		}
	}
	return out
}
