package export

import (
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func TestSplitName(t *testing.T) {
	tests := []struct {
		in   string
		want Name
	}{
		{"Helen Gilburt", Name{Family: "Gilburt", Given: "Helen"}},
		{"Dr Jane Smith", Name{Family: "Smith", Given: "Jane"}},
		{"Prof. Sir Simon Wessely", Name{Family: "Wessely", Given: "Simon"}},
		{"Dr Smith", Name{Family: "Smith"}},
		{"J. R. R. Tolkien", Name{Family: "Tolkien", Given: "J. R. R."}},
		{"Ludwig van Beethoven", Name{Family: "van Beethoven", Given: "Ludwig"}},
		{"Maria de la Cruz", Name{Family: "de la Cruz", Given: "Maria"}},
		{"Sarah Van der Berg", Name{Family: "Van der Berg", Given: "Sarah"}},
		{"Van Morrison", Name{Family: "Morrison", Given: "Van"}},
		{"Martin Luther King Jr", Name{Family: "King", Given: "Martin Luther", Suffix: "Jr"}},
		{"Jane Smith OBE", Name{Family: "Smith", Given: "Jane"}},
		{"Jane Smith, PhD", Name{Family: "Smith", Given: "Jane"}},
		{"Smith, Jane", Name{Family: "Smith", Given: "Jane"}},
		{"Smith, Dr Jane", Name{Family: "Smith", Given: "Jane"}},
		{"King, Martin Luther, Jr", Name{Family: "King", Given: "Martin Luther", Suffix: "Jr"}},
		{"Mary-Jane O'Brien", Name{Family: "O'Brien", Given: "Mary-Jane"}},
		{"  André\tTomlin \n", Name{Family: "Tomlin", Given: "André"}},
		// Organisations stay whole.
		{"Centre for Mental Health", Name{Literal: "Centre for Mental Health"}},
		{"The King's Fund", Name{Literal: "The King's Fund"}},
		{"National Voices", Name{Literal: "National Voices"}},
		{"NHS England", Name{Literal: "NHS England"}},
		{"Mental Health Foundation", Name{Literal: "Mental Health Foundation"}},
		{"Department of Health and Social Care", Name{Literal: "Department of Health and Social Care"}},
		{"Royal College of Psychiatrists", Name{Literal: "Royal College of Psychiatrists"}},
		{"Children's Commissioner", Name{Literal: "Children's Commissioner"}},
		{"The Mental Elf", Name{Literal: "The Mental Elf"}},
		{"Mind", Name{Literal: "Mind"}},
		{"Alpha Beta Gamma Delta Epsilon", Name{Literal: "Alpha Beta Gamma Delta Epsilon"}},
		{"Tom and Jerry", Name{Literal: "Tom and Jerry"}},
		{"Team 42", Name{Literal: "Team 42"}},
		{"Smith, Jane, Jr, Extra", Name{Literal: "Smith, Jane, Jr, Extra"}},
		{"", Name{}},
		{"\x00\n", Name{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := SplitName(tt.in); got != tt.want {
				t.Errorf("SplitName(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  a\tb\r\nc  ":             "a b c",
		"a\x00b\x1bc\u2028d\u2029e": "a b c d e",
		"bad \xff byte":             "bad \uFFFD byte",
		"\uFEFFbom":                 "bom",
		"é\u00a0x":                  "é x",
	} {
		if got := clean(in, MaxShort); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := clean(strings.Repeat("ab ", 1<<20), 5); got != "ab ab" {
		t.Errorf("clean of a huge string cut to 5 runes = %q", got)
	}
}

func TestCleanURL(t *testing.T) {
	for in, want := range map[string]string{
		" https://a.org/x?q=1#f ":                           "https://a.org/x?q=1#f",
		"https://a.org/a b":                                 "https://a.org/a%20b",
		"https://a.org/{x}\\\"<>|^`":                        "https://a.org/%7Bx%7D%5C%22%3C%3E%7C%5E%60",
		"https://a.org/\r\nER  - ":                          "https://a.org/%0D%0AER%20%20-",
		"https://a.org/\xff":                                "https://a.org/%FF",
		"https://a.org/é":                                   "https://a.org/é",
		"https://a.org/" + strings.Repeat("x", MaxURLBytes): "",
	} {
		if got := cleanURL(in); got != want {
			t.Errorf("cleanURL(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"10.1000/x": "10.1000/x", "doi:10.1000/X": "10.1000/X", "https://doi.org/10.1000/x": "10.1000/x",
		"HTTPS://DX.DOI.ORG/10.1/y": "10.1/y", "not a doi": "", "10.1000": "",
	} {
		if got := bareDOI(in); got != want {
			t.Errorf("bareDOI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTeXEscape(t *testing.T) {
	for in, want := range map[string]string{
		"R&D 100% $5 #1 a_b":   `R\&D 100\% \$5 \#1 a\_b`,
		"{x} ~ ^ \\":           `\textbraceleft{}x\textbraceright{} \textasciitilde{} \textasciicircum{} \textbackslash{}`,
		"2016--17 ``a'' b---c": "2016-{}-17 `{}`a'{}' b-{}-{}-c",
		"¿Qué? ?` !`":          "¿Qué? ?{}` !{}`",
		"UTF-8 “kept” é ß":     "UTF-8 “kept” é ß",
	} {
		if got := texEscape(in); got != want {
			t.Errorf("texEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCiteKeys(t *testing.T) {
	d := time.Date(2023, 3, 15, 0, 0, 0, 0, time.UTC)
	e := func(title string, authors ...string) Entry {
		return Entry{Publisher: "The King's Fund", Item: evidence.Item{Title: title, Authors: authors, Published: &d}}
	}
	entries := []Entry{
		e("Mental health 360: funding", "Helen Gilburt"),
		e("Mental health 360: workforce", "Helen Gilburt"),
		e("Mental health 360: access", "Helen Gilburt"),
		e("The state of things", "José García Márquez"),
		e("A guide", "Ludwig van Beethoven"),
		e("«»", "Centre for Mental Health"),
		e("Untitled"),
		{Item: evidence.Item{}},
		e("Mental health 360: funding", "Helen Gilburt"),
	}
	want := []string{"gilburt2023mental", "gilburt2023mentala", "gilburt2023mentalb", "marquez2023state",
		"beethoven2023guide", "centre2023", "kings2023untitled", "anonnd", "gilburt2023mentalc"}
	taken := map[string]bool{}
	for i, en := range entries {
		if got := uniqueKey(taken, citeKey(en)); got != want[i] {
			t.Errorf("key %d = %q, want %q", i, got, want[i])
		}
	}
	for n, want := range map[int]string{0: "a", 25: "z", 26: "aa", 27: "ab", 701: "zz", 702: "aaa"} {
		if got := letters(n); got != want {
			t.Errorf("letters(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPublishedPrecision(t *testing.T) {
	d := time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)
	for prov, want := range map[string]datePrecision{
		"":                             dateDay,
		"feed":                         dateDay,
		"import:ris (year only)":       dateYear,
		"import:bibtex (month only)":   dateMonth,
		"import:csl-json (month only)": dateMonth,
	} {
		it := evidence.Item{Published: &d, Provenance: map[string]string{"published": prov}}
		if _, got := published(it); got != want {
			t.Errorf("provenance %q: precision %d, want %d", prov, got, want)
		}
	}
	if _, p := published(evidence.Item{}); p != dateNone {
		t.Errorf("no date: precision %d", p)
	}
}
