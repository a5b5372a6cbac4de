package index

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
)

// spelling maps UK spellings to US ones (see data/spelling.txt).
type spelling struct {
	words map[string]string
	// prefixes holds the prefix rules by their first three bytes, longest
	// prefix first.
	prefixes map[string][]prefixRule
}

type prefixRule struct{ uk, us string }

var (
	iseSuffixes = []string{"ise", "ised", "ises", "ising", "isation", "isations", "isational", "iser", "isers", "isable"}
	yseSuffixes = []string{"yse", "ysed", "ysing", "yser", "ysers"}
)

// mustSpelling returns the embedded spelling table, parsed once. The data is
// part of the binary and checked by a test, so a parse error is a bug.
var mustSpelling = sync.OnceValue(func() *spelling {
	sp, err := parseSpelling(spellingData)
	if err != nil {
		panic(fmt.Sprintf("index: embedded spelling table: %v", err))
	}
	return sp
})

// parseSpelling reads the format described at the top of data/spelling.txt.
func parseSpelling(data []byte) (*spelling, error) {
	sp := &spelling{words: map[string]string{}, prefixes: map[string][]prefixRule{}}
	add := func(line int, uk, us string) error {
		if prev, ok := sp.words[uk]; ok && prev != us {
			return fmt.Errorf("line %d: %q maps to both %q and %q", line, uk, prev, us)
		}
		sp.words[uk] = us
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "ise:" || fields[0] == "yse:" {
			suffixes := iseSuffixes
			if fields[0] == "yse:" {
				suffixes = yseSuffixes
			}
			for _, root := range fields[1:] {
				if !isLowerWord(root) {
					return nil, fmt.Errorf("line %d: root %q: want lower-case letters", n, root)
				}
				for _, suf := range suffixes {
					us := strings.Replace(suf, "s", "z", 1)
					if err := add(n, root+suf, root+us); err != nil {
						return nil, err
					}
				}
			}
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("line %d: want \"uk us\", \"uk* us*\" or \"ise: roots…\", got %q", n, line)
		}
		uk, us := fields[0], fields[1]
		if strings.HasSuffix(uk, "*") != strings.HasSuffix(us, "*") {
			return nil, fmt.Errorf("line %d: both or neither of %q and %q must end in *", n, uk, us)
		}
		uk, us = strings.TrimSuffix(uk, "*"), strings.TrimSuffix(us, "*")
		if !isLowerWord(uk) || !isLowerWord(us) {
			return nil, fmt.Errorf("line %d: want lower-case letters, got %q %q", n, uk, us)
		}
		if strings.HasSuffix(fields[0], "*") {
			if len(uk) < 3 {
				return nil, fmt.Errorf("line %d: prefix %q is too short (3 letters at least)", n, uk)
			}
			sp.prefixes[uk[:3]] = append(sp.prefixes[uk[:3]], prefixRule{uk, us})
			continue
		}
		if err := add(n, uk, us); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for k, rules := range sp.prefixes {
		sort.Slice(rules, func(i, j int) bool { return len(rules[i].uk) > len(rules[j].uk) })
		sp.prefixes[k] = rules
	}
	return sp, nil
}

func isLowerWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// normalise returns the US spelling of the lower-case word w, and whether
// it changed.
func (sp *spelling) normalise(w string) (string, bool) {
	if us, ok := sp.words[w]; ok {
		return us, true
	}
	if len(w) < 3 {
		return w, false
	}
	for _, r := range sp.prefixes[w[:3]] {
		if strings.HasPrefix(w, r.uk) {
			return r.us + w[len(r.uk):], true
		}
	}
	return w, false
}

// spellingFilter rewrites UK spellings to US ones.
type spellingFilter struct{ table *spelling }

func (f spellingFilter) Filter(ts analysis.TokenStream) analysis.TokenStream {
	for _, t := range ts {
		if us, ok := f.table.normalise(string(t.Term)); ok {
			t.Term = []byte(us)
		}
	}
	return ts
}
