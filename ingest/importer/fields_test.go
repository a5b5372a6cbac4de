package importer

import (
	"strings"
	"testing"
	"time"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ham, Chris", "Chris Ham"},
		{"Gilburt,  Helen ", "Helen Gilburt"},
		{"Smith, J.A.", "J.A. Smith"},
		{"García, José, Jr.", "José García Jr."},
		{"van der Berg, Anna", "Anna van der Berg"},
		{"Chris Ham", "Chris Ham"},
		{"The King's Fund", "The King's Fund"},
		{"Department of Health and Social Care, England", "Department of Health and Social Care, England"},
		{"Ham,", "Ham"},
		{", Chris", ", Chris"},
		{"a, b, c, d", "a, b, c, d"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormalizeName(tt.in); got != tt.want {
				t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
		prec precision
	}{
		{"2023", day(2023, 1, 1), precYear},
		{"2023/05/12/", day(2023, 5, 12), precDay},
		{"2023/05//", day(2023, 5, 1), precMonth},
		{"2023///Spring", day(2023, 1, 1), precYear},
		{"2023/02/30", day(2023, 2, 1), precMonth},
		{"2023-05-12", day(2023, 5, 12), precDay},
		{"2023-11", day(2023, 11, 1), precMonth},
		{"2023-05-12/2023-06-01", day(2023, 5, 12), precDay},
		{"2024-02-20T09:30:00+01:00", time.Date(2024, 2, 20, 8, 30, 0, 0, time.UTC), precDay},
		{"4 November 2020", day(2020, 11, 4), precDay},
		{"4 Nov. 2020", day(2020, 11, 4), precDay},
		{"November 4, 2020", day(2020, 11, 4), precDay},
		{"12/05/2023", day(2023, 5, 12), precDay}, // UK order
		{"May 2023", day(2023, 5, 1), precMonth},
		{"0999", time.Time{}, precNone},
		{"2100", time.Time{}, precNone},
		{"n.d.", time.Time{}, precNone},
		{"last Tuesday", time.Time{}, precNone},
		{"", time.Time{}, precNone},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, p := parseDate(tt.in)
			if p != tt.prec || !got.Equal(tt.want) {
				t.Errorf("parseDate(%q) = %v (precision %d), want %v (precision %d)", tt.in, got, p, tt.want, tt.prec)
			}
		})
	}
}

func TestDateParts(t *testing.T) {
	tests := []struct {
		y, m, d string
		want    string
		prec    precision
	}{
		{"2022", "aug", "", "2022-08-01", precMonth},
		{"2022", "August", "15", "2022-08-15", precDay},
		{"2022", "8", "", "2022-08-01", precMonth},
		{"2022", "Sept.", "", "2022-09-01", precMonth},
		{"2022", "Mayhem", "", "2022-01-01", precYear},
		{"c2022", "", "", "2022-01-01", precYear},
		{"forthcoming", "may", "1", "0001-01-01", precNone},
	}
	for _, tt := range tests {
		t.Run(tt.y+"/"+tt.m+"/"+tt.d, func(t *testing.T) {
			got, p := dateParts(tt.y, tt.m, tt.d)
			if p != tt.prec || got.Format("2006-01-02") != tt.want {
				t.Errorf("dateParts = %s (precision %d), want %s (%d)", got.Format("2006-01-02"), p, tt.want, tt.prec)
			}
		})
	}
}

func TestTypeFromWords(t *testing.T) {
	tests := map[string]string{
		"Briefing paper": "briefing", "Long read": "long-read", "long-read": "long-read",
		"Press release": "press-release", "Blog post": "blog", "Report": "report",
		"Podcast episode": "podcast", "Journal Article": "", "": "",
		"News": "news", "Latest news": "news", "News story": "news", "Newsletter": "", "News report": "report",
	}
	for in, want := range tests {
		if got := typeFromWords(in); got != want {
			t.Errorf("typeFromWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	for name, want := range map[string]Format{
		"refs.jsonl": JSONL, "refs.NDJSON": JSONL, "kf.ris": RIS, "lib.bib": BibTeX,
		`C:\refs\lib.BibTeX`: BibTeX, "refs.txt": "", "-": "", "ris": "",
		"zotero.json": CSLJSON, "item.csl.json": CSLJSON, "ITEMS.JSON": CSLJSON, "json": "",
	} {
		got, ok := FormatOf(name)
		if got != want || ok != (want != "") {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for in, want := range map[string]Format{"jsonl": JSONL, "RIS": RIS, "bibtex": BibTeX, "bib": BibTeX, "ndjson": JSONL,
		"csl-json": CSLJSON, "CSL": CSLJSON, "csljson": CSLJSON, "json": CSLJSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("endnote"); err == nil || !strings.Contains(err.Error(), "jsonl, ris, bibtex, csl-json") {
		t.Errorf("ParseFormat(endnote): %v", err)
	}
}
