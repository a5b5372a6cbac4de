package index

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/evidencetracker/evidence/index/querylang"
)

// minSuggestLen is the shortest word respelt by suggestions: short words
// have too many neighbours.
const minSuggestLen = 4

// suggest returns q's text with misspelt words replaced by the most common
// close word of titles and summaries, if that finds more than total items;
// otherwise "". When the query finds enough (total ≥ suggestBelow) only
// words the index does not know at all are respelt.
func (x *Index) suggest(ctx context.Context, q Query, parsed *querylang.Query, total uint64) (string, error) {
	idx, err := x.bi.Advanced()
	if err != nil {
		return "", fmt.Errorf("index: suggest: %w", err)
	}
	r, err := idx.Reader()
	if err != nil {
		return "", fmt.Errorf("index: suggest: %w", err)
	}
	defer r.Close()
	fr, ok := r.(bindex.IndexReaderFuzzy)
	if !ok {
		return "", nil
	}
	onlyUnknown := total >= suggestBelow
	cache := map[string]string{}
	changed := false
	var lookupErr error // the first failed look-up: no suggestion then
	respell := func(v string) string {
		return mapLetterRuns(v, func(w string) string {
			lw := strings.ToLower(w)
			if utf8.RuneCountInString(lw) < minSuggestLen {
				return w
			}
			if onlyUnknown && x.known(ctx, r, lw) {
				return w
			}
			s, seen := cache[lw]
			if !seen {
				var err error
				if s, err = closestTerm(fr, lw); err != nil {
					lookupErr = cmp.Or(lookupErr, err)
					return w
				}
				cache[lw] = s
			}
			if s == "" {
				return w
			}
			changed = true
			return matchCase(s, w)
		})
	}
	out := &querylang.Query{}
	for _, c := range parsed.Clauses {
		nc := querylang.Clause{Not: c.Not}
		for _, t := range c.Terms {
			if t.Field.IsText() && !c.Not {
				t.Value = respell(t.Value)
			}
			nc.Terms = append(nc.Terms, t)
		}
		out.Clauses = append(out.Clauses, nc)
	}
	if lookupErr != nil {
		// The search itself worked; a suggestion is optional.
		x.log.Debug("suggest: look-up failed", "text", q.Text, "err", lookupErr)
		return "", nil
	}
	if !changed {
		return "", nil
	}
	text := out.String()
	sq := q
	sq.Text = text
	n, err := x.count(ctx, sq)
	if err != nil || n <= total {
		return "", nil // a suggestion is optional
	}
	return text, nil
}

// known reports whether the index has w (as analysed for text) in any
// title, summary or body.
func (x *Index) known(ctx context.Context, r bindex.IndexReader, w string) bool {
	for _, t := range analyse(x.planner.text, w) {
		if isSynToken(t.Term) {
			continue
		}
		for _, f := range []string{fieldTitle, fieldSummary, fieldBody} {
			tfr, err := r.TermFieldReader(ctx, t.Term, f, false, false, false)
			if err != nil {
				return true // unsure: do not respell
			}
			n := tfr.Count()
			_ = tfr.Close()
			if n > 0 {
				return true
			}
		}
		return false
	}
	return true // a stop word
}

// closestTerm returns the most frequent term of the spell field within
// edit distance 1 (2 for words of 6 letters or more) of w, if it is more
// frequent than w itself (by a factor of three when w is a real word).
func closestTerm(fr bindex.IndexReaderFuzzy, w string) (string, error) {
	fuzz := 1
	if utf8.RuneCountInString(w) >= 6 {
		fuzz = 2
	}
	d, err := fr.FieldDictFuzzy(fieldSpell, w, fuzz, "")
	if err != nil {
		return "", err
	}
	defer d.Close()
	var own uint64
	var best *bindex.DictEntry
	for {
		e, err := d.Next()
		if err != nil {
			return "", err
		}
		if e == nil {
			break
		}
		if e.Term == w {
			own = e.Count
			continue
		}
		if !isWord(e.Term) {
			continue
		}
		if best == nil || e.Count > best.Count ||
			(e.Count == best.Count && (e.EditDistance < best.EditDistance ||
				(e.EditDistance == best.EditDistance && e.Term < best.Term))) {
			c := *e
			best = &c
		}
	}
	if best == nil {
		return "", nil
	}
	if own == 0 || best.Count >= 3*own {
		return best.Term, nil
	}
	return "", nil
}

func isWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}

// mapLetterRuns replaces each run of letters in s by fn(run).
func mapLetterRuns(s string, fn func(string) string) string {
	var b strings.Builder
	start := -1
	for i, r := range s {
		if unicode.IsLetter(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			b.WriteString(fn(s[start:i]))
			start = -1
		}
		b.WriteRune(r)
	}
	if start >= 0 {
		b.WriteString(fn(s[start:]))
	}
	return b.String()
}

// matchCase gives s the capitalisation of like: all capitals or a capital
// first letter.
func matchCase(s, like string) string {
	if like == strings.ToUpper(like) && utf8.RuneCountInString(like) > 1 {
		return strings.ToUpper(s)
	}
	r, _ := utf8.DecodeRuneInString(like)
	if unicode.IsUpper(r) {
		f, n := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(f)) + s[n:]
	}
	return s
}
