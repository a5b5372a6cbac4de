package importer

import (
	"slices"
	"strings"
	"testing"
)

func TestLaTeXToUnicode(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Caf{\'e}`, "Café"},
		{`Caf\'{e}`, "Café"},
		{`Caf\'e`, "Café"},
		{`M{\"u}ller`, "Müller"},
		{`M\"{u}ller`, "Müller"},
		{`J{\"{u}}rgen`, "Jürgen"},
		{`Garc{\'\i}a`, "García"},
		{`Garc\'{\i}a`, "García"},
		{`Fran\c{c}ois`, "François"},
		{`Fran\c cois`, "François"},
		{`\v{S}koda`, "Škoda"},
		{`Erd\H{o}s`, "Erdős"},
		{`{\O}rsted`, "Ørsted"},
		{`{\o}rsted`, "ørsted"},
		{`Stra{\ss}e`, "Straße"},
		{`Stra\ss e`, "Straße"},
		{`\AA{}ngstr\"om`, "Ångström"},
		{`Ma{\l}gorzata`, "Małgorzata"},
		{`Na\~{n}o`, "Naño"},
		{`Health {\&} care`, "Health & care"},
		{`50\% of {NHS} trusts`, "50% of NHS trusts"},
		{`{{Nested {braces}}} stay text`, "Nested braces stay text"},
		{`2019--2020`, "2019–2020"},
		{`outcomes --- a trial`, "outcomes — a trial"},
		{"``Quoted''", "“Quoted”"},
		{`The King's Fund`, "The King's Fund"},
		{`\emph{Emphasised} and \textbf{bold}`, "Emphasised and bold"},
		{`Mental~health`, "Mental health"},
		{`$\alpha$-synuclein`, "α-synuclein"},
		{`\unknowncommand{kept}`, "kept"},
		{`\'{}`, ""},
		{`trailing \`, "trailing"},
		{`\'`, ""},
		{`\'\'\'\'\'\'\'\'\'\'\'\'e`, "é"},
		{"plain text", "plain text"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := LaTeXToUnicode(tt.in)
			// The accent chain gives é plus combining marks; compare the
			// first letter only there.
			if strings.HasPrefix(tt.in, `\'\'`) {
				if !strings.HasPrefix(got, "é") {
					t.Errorf("LaTeXToUnicode(%q) = %q, want it to start with é", tt.in, got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("LaTeXToUnicode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitBibNames(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Charles, Anna", []string{"Anna Charles"}},
		{"Anna Charles and Chris Ham", []string{"Anna Charles", "Chris Ham"}},
		{"Ham, Chris and Alderwick, Hugh and others", []string{"Chris Ham", "Hugh Alderwick"}},
		{`{The King's Fund}`, []string{"The King's Fund"}},
		{`{Department of Health, UK} and Smith, J.`, []string{"Department of Health, UK", "J. Smith"}},
		{`{Marks and Spencer} AND Jones, Ann`, []string{"Marks and Spencer", "Ann Jones"}},
		{"van der Berg, Jr, Anna", []string{"Anna van der Berg Jr"}},
		{`Garc{\'\i}a-L{\'o}pez, Jos{\'e}`, []string{"José García-López"}},
		{"Sandra Anderson", []string{"Sandra Anderson"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := splitBibNames(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("splitBibNames(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseBibTeX(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, recs []Record)
	}{
		{
			name: "macros, concatenation, parentheses and quotes",
			in: `@STRING(org = "Centre for " # "Mental Health")
@Report(cmh-2023, TITLE = "Briefing: {"}Hope{"} " # org, Author = org,
  year = "2023", month = 5, url = "https://www.centreformentalhealth.org.uk/publications/hope")`,
			check: func(t *testing.T, recs []Record) {
				it := only(t, recs).Item
				if it.Title != `Briefing: "Hope" Centre for Mental Health` || !slices.Equal(it.Authors, []string{"Centre for Mental Health"}) {
					t.Errorf("title %q authors %q", it.Title, it.Authors)
				}
				if it.Type != "report" || it.Published.Format("2006-01") != "2023-05" || it.Provenance["published"] != "import:bibtex (month only)" {
					t.Errorf("type %q published %v (%s)", it.Type, it.Published, it.Provenance["published"])
				}
			},
		},
		{
			name: "URLs keep their characters; doi becomes a cite and the fallback URL",
			in: `@misc{a, title = {A}, howpublished = {\url{https://www.kingsfund.org.uk/a\_b?x=1\&y=2}}}
@article{b, title = {B}, doi = {https://doi.org/10.1192/BJP.2020.1}}`,
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Err != nil || recs[1].Err != nil {
					t.Fatalf("records %+v", recs)
				}
				if recs[0].Item.URL != "https://www.kingsfund.org.uk/a_b?x=1&y=2" {
					t.Errorf("url %q", recs[0].Item.URL)
				}
				b := recs[1]
				if b.Item.URL != "https://doi.org/10.1192/BJP.2020.1" || b.DOI != "10.1192/bjp.2020.1" ||
					len(b.Item.Cites) != 1 || b.Item.Cites[0].DOI != "10.1192/bjp.2020.1" || len(b.Item.Links) != 0 {
					t.Errorf("doi record %+v links %v", b.Item, b.Item.Links)
				}
			},
		},
		{
			name: "a syntax error skips to the next entry; comment text with @ is ignored",
			in: `Contact library@example.nhs.uk for help.
@article{bad, title = {Unclosed, year = 2020,
@article{good, title = {Good}, url = {https://example.org/good}}
@article{bad2, title {No equals}}
@article{good2, title = {Good 2}, url = {https://example.org/good2},}`,
			check: func(t *testing.T, recs []Record) {
				var got []string
				for _, r := range recs {
					if r.Err != nil {
						got = append(got, r.Err.Error())
					} else {
						got = append(got, r.Item.Title)
					}
				}
				want := []string{
					`@article{bad}: field "title": missing closing } (on line 3)`,
					"Good",
					`@article{bad2}: want = after field "title", got '{'`,
					"Good 2",
				}
				if !slices.Equal(got, want) {
					t.Errorf("records:\n got %q\nwant %q", got, want)
				}
				if recs[0].Line != 2 || recs[1].Line != 3 || recs[2].Line != 4 || recs[3].Line != 5 {
					t.Errorf("lines %d %d %d %d", recs[0].Line, recs[1].Line, recs[2].Line, recs[3].Line)
				}
			},
		},
		{
			name: "unterminated entry at end of file",
			in:   "@article{x, title = {T}, url = {https://example.org/x}",
			check: func(t *testing.T, recs []Record) {
				if r := only(t, recs); r.Err == nil || r.Err.Error() != "record truncated at end of file (@article{x}: missing }; the file ends at line 1)" {
					t.Errorf("err %v", r.Err)
				}
			},
		},
		{
			name: "entries on one line; Latin-1 bytes",
			in:   "@misc{a,title={Caf\xe9},url={https://example.org/a}}@misc{b,title={B},url={https://example.org/b}}",
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Item.Title != "Café" || recs[1].Item.Title != "B" {
					t.Errorf("records %+v", recs)
				}
			},
		},
		{
			name: "an entry over the size cap is a bad record and the next is read",
			in:   "@misc{big, title = {" + strings.Repeat("x ", MaxRecordBytes/2+10) + "}}\n@misc{small, title = {S}, url = {https://example.org/s}}",
			check: func(t *testing.T, recs []Record) {
				if len(recs) != 2 || recs[0].Err == nil || !strings.Contains(recs[0].Err.Error(), "longer than") || recs[1].Item.Title != "S" {
					t.Errorf("records %+v", recs)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, parseAll(t, BibTeX, []byte(tt.in)))
		})
	}
}

func only(t *testing.T, recs []Record) Record {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1: %+v", len(recs), recs)
	}
	return recs[0]
}
