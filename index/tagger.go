package index

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/index/querylang"
)

// Topic is one topic of the taxonomy: items that match Query are tagged
// with Name.
type Topic struct {
	Name        string
	Description string
	// Query is in the search language (see package querylang). For
	// tagging, every plain word is required (search only prefers them);
	// phrases match anywhere in the text, the body included. Write topics
	// as alternatives: "peer support" OR "peer worker" OR "lived experience".
	Query string
}

// Tagger tags items with the topics whose query they match, evaluating each
// topic's query against the item's analysed text in memory (with the
// index's spelling and synonyms, so "behaviour" finds "behavior"). Index
// uses it on every item it indexes, so after the taxonomy changes a rebuild
// (evidence reindex) re-tags everything. It is safe for concurrent use.
type Tagger struct {
	topics   []taggerTopic
	pl       *planner
	fp       string
	warnings []string
}

type taggerTopic struct {
	name string
	plan *plan
}

// NewTagger compiles topics with the analysis opts describe (Analysis,
// Synonyms, SynonymsFile). An invalid topic is an error wrapping
// evidence.ErrInvalid that names it: "topics[3].query: …".
func NewTagger(topics []Topic, opts Options) (*Tagger, error) {
	sp, err := opts.spec()
	if err != nil {
		return nil, err
	}
	return newTagger(topics, newPlanner(sp), sp.fingerprint())
}

func newTagger(topics []Topic, pl *planner, analysisFP string) (*Tagger, error) {
	t := &Tagger{pl: pl}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", analysisFP)
	seen := map[string]int{}
	for i, tp := range topics {
		if err := CheckTopic(tp); err != nil {
			return nil, fmt.Errorf("index: topics[%d].%w", i, err)
		}
		name := querylang.TopicKey(tp.Name)
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("index: topics[%d].name: %q repeats topics[%d]: %w", i, tp.Name, j, evidence.ErrInvalid)
		}
		seen[name] = i
		q := querylang.MustParse(tp.Query) // CheckTopic parsed it
		t.topics = append(t.topics, taggerTopic{name: name, plan: pl.plan(q)})
		for _, w := range stopWordTrouble(q) {
			t.warnings = append(t.warnings, fmt.Sprintf("topics[%d].query: %s", i, w))
		}
		fmt.Fprintf(h, "%s\x00%s\n", name, q.String())
	}
	t.fp = hex.EncodeToString(h.Sum(nil))[:16]
	return t, nil
}

// CheckTopic reports what is wrong with a topic, as "name: …" or
// "query: …", wrapping evidence.ErrInvalid; nil if it is usable. (config
// checks the query with querylang.CheckTopicQuery, the same rule.)
func CheckTopic(tp Topic) error {
	if msg := querylang.CheckTopicName(tp.Name); msg != "" {
		return fmt.Errorf("name: %s: %w", msg, evidence.ErrInvalid)
	}
	if err := querylang.CheckTopicQuery(tp.Query); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return nil
}

// Warnings lists topic queries that may not mean what they say: a phrase
// that starts or ends with a stop word (which the index ignores, so
// "out of work" matches every "work"), or a word that is one.
func (t *Tagger) Warnings() []string { return t.warnings }

// stopWordTrouble returns a warning for each text term of q that starts
// or ends with a stop word.
func stopWordTrouble(q *querylang.Query) []string {
	stops := englishStopWords()
	var out []string
	q.Terms(func(tm querylang.Term, _ bool) {
		if !tm.Field.IsText() {
			return
		}
		words := strings.FieldsFunc(strings.ToLower(tm.Value), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
		})
		if len(words) == 0 {
			return
		}
		first, last := words[0], words[len(words)-1]
		switch {
		case len(words) == 1 && stops[first]:
			out = append(out, fmt.Sprintf("%q is a stop word, ignored by the index", tm.Value))
		case stops[first] || stops[last]:
			w := first
			if !stops[first] {
				w = last
			}
			out = append(out, fmt.Sprintf("%q starts or ends with the stop word %q, which the index ignores, so it matches more than the phrase", tm.Value, w))
		}
	})
	return out
}

// Fingerprint identifies the taxonomy and analysis; it changes when
// re-tagging is needed.
func (t *Tagger) Fingerprint() string { return t.fp }

// Tags returns the names of the topics it matches, in taxonomy order.
func (t *Tagger) Tags(it *evidence.Item) []string {
	if len(t.topics) == 0 {
		return nil
	}
	return t.tagsOf(t.pl.memDoc(it))
}

func (t *Tagger) tagsOf(d *memDoc) []string {
	var out []string
	for _, tp := range t.topics {
		if d.matches(tp.plan) {
			out = append(out, tp.name)
		}
	}
	return out
}

// tagAll analyses items (title, summary and body, for the index to reuse)
// and returns, for each, its indexed topics: its own Topics (lower case)
// and its tags, sorted and without repeats. Items are analysed and tagged
// in parallel.
func (t *Tagger) tagAll(items []evidence.Item) ([][]string, []*itemTokens) {
	out := make([][]string, len(items))
	toks := make([]*itemTokens, len(items))
	tagging := len(t.topics) > 0
	one := func(i int) {
		toks[i] = t.pl.analyseItem(&items[i])
		var tags []string
		if tagging {
			tags = t.tagsOf(t.pl.memDocFrom(&items[i], toks[i]))
		}
		out[i] = mergeTopics(&items[i], tags)
	}
	workers := min(runtime.GOMAXPROCS(0), len(items))
	if workers <= 1 {
		for i := range items {
			one(i)
		}
		return out, toks
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				one(i)
			}
		})
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, toks
}

// mergeTopics returns it's own Topics (lower case) and tags, sorted and
// without repeats.
func mergeTopics(it *evidence.Item, tags []string) []string {
	var all []string
	for _, s := range it.Topics {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			all = append(all, s)
		}
	}
	all = append(all, tags...)
	sort.Strings(all)
	out := all[:0]
	for i, s := range all {
		if i == 0 || s != all[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// memDoc is an item analysed for in-memory matching: per field, each term's
// positions in ascending order.
type memDoc struct {
	item   *evidence.Item
	fields map[string]map[string][]int
}

// authorGap separates authors' positions, so a phrase cannot run from one
// author's name into the next.
const authorGap = 100

// itemTokens is an item's title, summary and body analysed with the text
// analyzer.
type itemTokens [3]analysis.TokenStream

func (pl *planner) analyseItem(it *evidence.Item) *itemTokens {
	return &itemTokens{analyse(pl.text, it.Title), analyse(pl.text, it.Summary), analyse(pl.text, it.Body)}
}

func (pl *planner) memDoc(it *evidence.Item) *memDoc {
	return pl.memDocFrom(it, pl.analyseItem(it))
}

// memDocFrom builds it's memDoc from its analysed text fields.
func (pl *planner) memDocFrom(it *evidence.Item, toks *itemTokens) *memDoc {
	d := &memDoc{item: it, fields: map[string]map[string][]int{}}
	add := func(field string, ts analysis.TokenStream, offset int) {
		m := d.fields[field]
		if m == nil {
			m = map[string][]int{}
			d.fields[field] = m
		}
		for _, t := range ts {
			k := string(t.Term)
			m[k] = append(m[k], t.Position+offset)
		}
	}
	add(fieldTitle, toks[0], 0)
	add(fieldSummary, toks[1], 0)
	add(fieldBody, toks[2], 0)
	for i, a := range it.Authors {
		add(fieldAuthors, analyse(pl.name, a), i*authorGap)
	}
	for _, m := range d.fields {
		for _, ps := range m {
			sort.Ints(ps)
		}
	}
	return d
}

// matches reports whether the item matches p with every condition
// required.
func (d *memDoc) matches(p *plan) bool {
	if len(p.soft)+len(p.must)+len(p.filters) == 0 {
		return false
	}
	for _, list := range [][]cond{p.soft, p.must, p.filters} {
		for i := range list {
			if !d.holds(&list[i]) {
				return false
			}
		}
	}
	for i := range p.mustNot {
		if d.holds(&p.mustNot[i]) {
			return false
		}
	}
	return true
}

func (d *memDoc) holds(c *cond) bool {
	switch c.kind {
	case condKeyword:
		switch c.field {
		case fieldSource:
			return strings.EqualFold(d.item.Source, c.value)
		case fieldType:
			return strings.EqualFold(d.item.Type, c.value)
		case fieldTopics:
			for _, t := range d.item.Topics {
				if strings.EqualFold(t, c.value) {
					return true
				}
			}
		}
		return false
	case condDate:
		p := d.item.Published
		if p == nil {
			return false
		}
		return (c.from.IsZero() || !p.Before(c.from)) && (c.to.IsZero() || p.Before(c.to))
	case condOr:
		for i := range c.alts {
			if d.holds(&c.alts[i]) {
				return true
			}
		}
		return false
	}
	for i := range c.forms {
		if d.formHolds(&c.forms[i]) {
			return true
		}
	}
	return false
}

func (d *memDoc) formHolds(f *fieldForm) bool {
	terms := d.fields[f.field]
	if len(terms) == 0 {
		return false
	}
	if len(f.units) > 0 {
		for _, u := range f.units {
			found := false
			for _, t := range u {
				if len(terms[t]) > 0 {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	for _, t := range f.anyOf {
		if len(terms[t]) > 0 {
			return true
		}
	}
	for _, ph := range f.phrases {
		if phraseAt(terms, ph) {
			return true
		}
	}
	return false
}

// phraseAt reports whether slots occur at consecutive positions (nil slots
// match any position).
func phraseAt(terms map[string][]int, slots [][]string) bool {
	k0 := -1
	for k, s := range slots {
		if len(s) > 0 {
			k0 = k
			break
		}
	}
	if k0 < 0 {
		return false
	}
	has := func(t string, pos int) bool {
		ps := terms[t]
		i := sort.SearchInts(ps, pos)
		return i < len(ps) && ps[i] == pos
	}
	for _, first := range slots[k0] {
		for _, p := range terms[first] {
			base := p - k0
			ok := true
			for k := k0 + 1; k < len(slots) && ok; k++ {
				if len(slots[k]) == 0 {
					continue
				}
				found := false
				for _, t := range slots[k] {
					if has(t, base+k) {
						found = true
						break
					}
				}
				ok = found
			}
			if ok {
				return true
			}
		}
	}
	return false
}
