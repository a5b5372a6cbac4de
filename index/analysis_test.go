package index

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

// terms returns the terms text analyses to, concept tokens included.
func terms(t *testing.T, a Analysis, text string) []string {
	t.Helper()
	sp, err := newSpec(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tok := range analyse(newTextAnalyzer(sp.text), text) {
		out = append(out, string(tok.Term))
	}
	return out
}

func TestSpellingTable(t *testing.T) {
	sp, err := parseSpelling(spellingData)
	if err != nil {
		t.Fatalf("embedded spelling.txt: %v", err)
	}
	tests := []struct{ in, want string }{
		{"behaviour", "behavior"},
		{"behavioural", "behavioral"},
		{"organisation", "organization"},
		{"organisations", "organizations"},
		{"organised", "organized"},
		{"paediatric", "pediatric"},
		{"paediatrician", "pediatrician"},
		{"anaemia", "anemia"},
		{"haematology", "hematology"},
		{"oesophagus", "esophagus"},
		{"oesophageal", "esophageal"},
		{"centre", "center"},
		{"centres", "centers"},
		{"centred", "centered"},
		{"programme", "program"},
		{"programmes", "programs"},
		{"counselling", "counseling"},
		{"randomised", "randomized"},
		{"hospitalisation", "hospitalization"},
		{"analyse", "analyze"},
		{"analysing", "analyzing"},
		{"ageing", "aging"},
		// Left alone.
		{"analysis", "analysis"},
		{"analyses", "analyses"},
		{"exercise", "exercise"},
		{"advise", "advise"},
		{"emphasis", "emphasis"},
		{"programmed", "programmed"},
		{"behavior", "behavior"},
		{"health", "health"},
	}
	for _, tt := range tests {
		if got, _ := sp.normalise(tt.in); got != tt.want {
			t.Errorf("normalise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseSpellingErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"three fields", "a b c", "line 1: want"},
		{"star on one side", "colour* color", "both or neither"},
		{"short prefix", "ae* e*", "too short"},
		{"upper case", "Colour color", "lower-case"},
		{"conflict", "grey gray\ngrey grau", `line 2: "grey" maps to both`},
		{"bad root", "ise: org-an", "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSpelling([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestTextAnalyzerEquivalences(t *testing.T) {
	all := DefaultAnalysis()
	tests := []struct{ a, b string }{
		{"behaviour change", "behavior change"},
		{"Paediatric clinics", "pediatric clinic"},
		{"organisational", "organizational"},
		{"anaemia", "anemia"},
		{"The King's Fund", "king fund"},
		{"A&E", "a & e"},
		{"A & E waits", "A&E wait"},
	}
	for _, tt := range tests {
		if a, b := terms(t, all, tt.a), terms(t, all, tt.b); !slices.Equal(a, b) {
			t.Errorf("%q → %v but %q → %v", tt.a, a, tt.b, b)
		}
	}
}

func TestTextAnalyzerSynonyms(t *testing.T) {
	tests := []struct {
		text string
		want string // concept token that must appear
	}{
		{"CBT", "§cbt"},
		{"cognitive behavioural therapy", "§cbt"},
		{"Cognitive Behavioral Therapies for anxiety", "§cbt"},
		{"NHS Talking Therapies", "§iapt"},
		{"IAPT services", "§iapt"},
		{"improving access to psychological therapies", "§iapt"},
		{"severe mental illness", "§smi"},
		{"child and adolescent mental health services", "§camh"},
		{"A&E", "§a_e"},
		{"accident and emergency", "§a_e"},
		{"emergency departments", "§a_e"},
		{"GPs", "§gp"},
		{"long-term conditions", "§ltc"},
		{"patient activation", "§patient_activ"},
		{"the PAM", "§patient_activ"},
		{"integrated care systems", "§ic"},
		{"ICBs", "§icb"},
	}
	for _, tt := range tests {
		if got := terms(t, DefaultAnalysis(), tt.text); !slices.Contains(got, tt.want) {
			t.Errorf("%q → %v, want %s among them", tt.text, got, tt.want)
		}
	}
	// Words of a multi-word term must be together and in order.
	for _, text := range []string{"mental illness that is severe", "therapy, cognitive and behavioural"} {
		for _, tok := range terms(t, DefaultAnalysis(), text) {
			if strings.HasPrefix(tok, synTokenPrefix) {
				t.Errorf("%q → concept token %s", text, tok)
			}
		}
	}
	// Off means off.
	off := DefaultAnalysis()
	off.Synonyms = false
	if got := terms(t, off, "CBT"); !slices.Equal(got, []string{"cbt"}) {
		t.Errorf("without synonyms CBT → %v", got)
	}
	off.Spelling = false
	if got := terms(t, off, "behaviour"); !slices.Equal(got, []string{"behaviour"}) {
		t.Errorf("without spelling behaviour → %v", got)
	}
	off.Stemming = false
	if got := terms(t, off, "The clinics"); !slices.Equal(got, []string{"clinics"}) {
		t.Errorf("without stemming → %v", got)
	}
}

func TestDefaultSynonyms(t *testing.T) {
	gs := DefaultSynonyms()
	if len(gs) < 50 {
		t.Errorf("only %d default groups", len(gs))
	}
	sp, err := newSpec(DefaultAnalysis(), nil)
	if err != nil {
		t.Fatalf("compile defaults: %v", err)
	}
	if len(sp.text.Synonyms) != len(gs) {
		t.Errorf("%d groups compiled from %d (a group whose terms all analyse alike?)", len(sp.text.Synonyms), len(gs))
	}
}

func TestParseSynonyms(t *testing.T) {
	in := "# comment\n\nCBT, cognitive behavioural therapy\n\"a, b\", c ,, C\n"
	gs, err := ParseSynonyms(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []SynonymGroup{
		{Terms: []string{"CBT", "cognitive behavioural therapy"}, Line: 3},
		{Terms: []string{"a, b", "c"}, Line: 4},
	}
	if len(gs) != len(want) {
		t.Fatalf("got %+v", gs)
	}
	for i := range want {
		if !slices.Equal(gs[i].Terms, want[i].Terms) || gs[i].Line != want[i].Line {
			t.Errorf("group %d = %+v, want %+v", i, gs[i], want[i])
		}
	}
}

func TestParseSynonymsErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"lone term", "CBT, cognitive therapy\nPAM\n", "line 2: group \"PAM\" needs two terms"},
		{"bad quote", "a, b\n\"c, d\n", "line 2"},
		{"long term", "a, " + strings.Repeat("x", 300), "line 1: term"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSynonyms(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("err = %v, want %q wrapping ErrInvalid", err, tt.want)
			}
		})
	}
	// A term of stop words only is caught when compiled.
	_, err := newSpec(DefaultAnalysis(), []SynonymGroup{{Terms: []string{"the", "CBT"}, Line: 7}})
	if err == nil || !strings.Contains(err.Error(), `line 7: "the" has no searchable words`) {
		t.Errorf("stop-word term: err = %v", err)
	}
}

func FuzzParseSynonyms(f *testing.F) {
	f.Add(string(synonymsData))
	f.Add("a, b\n\"c\"\"d\", e\n# x\n")
	f.Add("\"unclosed, x")
	f.Fuzz(func(t *testing.T, s string) {
		gs, err := ParseSynonyms(strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, evidence.ErrInvalid) && !strings.Contains(err.Error(), "line") {
				t.Fatalf("error %v names no line", err)
			}
			return
		}
		for _, g := range gs {
			if len(g.Terms) < 2 || len(g.Terms) > maxTermsPerGroup {
				t.Fatalf("group of %d terms", len(g.Terms))
			}
			for _, term := range g.Terms {
				if term == "" || strings.TrimSpace(term) != term {
					t.Fatalf("bad term %q", term)
				}
			}
		}
		// Whatever parses must compile or fail cleanly.
		if _, err := newSpec(DefaultAnalysis(), gs); err != nil && !errors.Is(err, evidence.ErrInvalid) {
			t.Fatalf("compile: %v", err)
		}
	})
}
