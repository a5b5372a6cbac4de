package index

import (
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"

	"github.com/evidencetracker/evidence/index/querylang"
)

// notice says why the words of q found nothing, or what the language did
// with a word it does not read as the user meant (a wildcard): "" when
// there is nothing to say. total is how many items q matched.
func (pl *planner) notice(q *querylang.Query, total uint64) string {
	var stops, empty, wild []string
	positive := 0
	tok := unicode.NewUnicodeTokenizer()
	q.Terms(func(t querylang.Term, not bool) {
		if not || !t.Field.IsText() {
			return
		}
		positive++
		shown := t.String()
		if strings.Contains(t.Value, "*") {
			wild = append(wild, shown)
		}
		a := pl.text
		if t.Field == querylang.FieldAuthor {
			a = pl.name
		}
		if len(analyse(a, t.Value)) > 0 {
			return
		}
		if len(tok.Tokenize([]byte(t.Value))) == 0 {
			empty = append(empty, shown)
		} else {
			stops = append(stops, shown)
		}
	})
	var out []string
	if len(wild) > 0 {
		out = append(out, fmt.Sprintf("there are no wildcards: * is ignored, so %s looked for the word as typed; words are matched by their stem (prescribing finds prescribe, prescribed), so type the whole word, or join words with OR",
			strings.Join(wild, ", ")))
	}
	if total > 0 {
		return strings.Join(out, "; ")
	}
	switch {
	case positive > 0 && len(stops) == positive:
		out = append(out, fmt.Sprintf("every word of the query is a stop word (%s), which the index leaves out: add a word that says what you are looking for", strings.Join(stops, ", ")))
	case len(stops) > 0 && len(stops)+len(empty) == positive:
		out = append(out, fmt.Sprintf("only stop words (%s) are left to search for, and the index leaves them out", strings.Join(stops, ", ")))
	}
	if len(empty) > 0 {
		out = append(out, fmt.Sprintf("%s has no letters or digits to search for (emoji and punctuation are not indexed)", strings.Join(empty, ", ")))
	}
	return strings.Join(out, "; ")
}
