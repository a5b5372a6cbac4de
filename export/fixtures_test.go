package export_test

import (
	"time"

	"github.com/evidencetracker/evidence"
	"github.com/evidencetracker/evidence/export"
)

func day(y int, m time.Month, d int) *time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &t
}

func item(it evidence.Item) evidence.Item {
	if it.ID == "" {
		it.ID = evidence.NewID(it.URL)
	}
	return it
}

// The golden items: a King's Fund report with a DOI and a PDF, a Mental Elf
// blog post by two authors, a National Voices press release by the
// organisation, and a Centre for Mental Health briefing with no date and
// no author.
var (
	kingsFundReport = export.Entry{
		Publisher: "The King's Fund",
		Item: item(evidence.Item{
			Source: evidence.SourceKingsFund, Type: evidence.TypeReport,
			Title:     "Mental health 360: funding and costs",
			URL:       "https://www.kingsfund.org.uk/insight-and-analysis/reports/mental-health-360-funding-costs",
			Published: day(2023, time.March, 15), FirstSeen: time.Date(2024, 1, 2, 9, 30, 0, 0, time.UTC),
			Authors: []string{"Helen Gilburt", "Dr Jane Smith"},
			Summary: "How much England spends on mental health services & whether funding has kept pace with demand: " +
				"100% of the NHS_budget data, 2016/17–2021/22.",
			Topics:  []string{"funding", "mental health services"},
			PDFURLs: []string{"https://assets.kingsfund.org.uk/f/256914/x/mental_health_360_funding_2023.pdf"},
			DOI:     "10.31365/KF.2023.MH360",
		}),
	}
	mentalElfBlog = export.Entry{
		Publisher: "The Mental Elf",
		Item: item(evidence.Item{
			Source: evidence.SourceMentalElf, Type: evidence.TypeBlog,
			Title:     "Social prescribing for older people – does it reduce loneliness?",
			URL:       "https://www.nationalelfservice.net/mental-health/social-prescribing/social-prescribing-older-people-loneliness-wellbeing/",
			Published: day(2024, time.February, 20), FirstSeen: time.Date(2024, 2, 21, 6, 0, 0, 0, time.UTC),
			Authors: []string{"André Tomlin", "Maria de la Cruz"},
			Summary: "A {systematic} review of “social prescribing” for people over 60 finds small effects on loneliness.",
			Topics:  []string{"loneliness", "social prescribing", "older people"},
		}),
	}
	nationalVoicesRelease = export.Entry{
		Publisher: "National Voices",
		Item: item(evidence.Item{
			Source: evidence.SourceNationalVoices, Type: evidence.TypePressRelease,
			Title:     "National Voices responds to the NHS 10 Year Health Plan",
			URL:       "https://www.nationalvoices.org.uk/news/national-voices-responds-to-the-10-year-health-plan/",
			Published: day(2025, time.July, 3), FirstSeen: time.Date(2025, 7, 3, 12, 0, 0, 0, time.UTC),
			Authors: []string{"National Voices"},
			Summary: "People who use services must be partners in the plan's delivery.",
			Topics:  []string{"patient experience"},
		}),
	}
	cmhBriefing = export.Entry{
		Publisher: "Centre for Mental Health",
		Item: item(evidence.Item{
			Source: evidence.SourceCentreForMH, Type: evidence.TypeBriefing,
			Title:     "Briefing 58: Social prescribing for children and young people",
			URL:       "https://www.centreformentalhealth.org.uk/publications/briefing-58-social-prescribing-children-young-people/",
			FirstSeen: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC),
			Summary:   "What social prescribing can offer children and young people's mental health.",
			Topics:    []string{"children and young people", "social prescribing"},
			PDFURLs: []string{
				"https://www.centreformentalhealth.org.uk/wp-content/uploads/2023/05/CentreforMH_Briefing58.pdf",
				"https://www.centreformentalhealth.org.uk/wp-content/uploads/2023/05/CentreforMH_Briefing58_EasyRead.pdf",
			},
		}),
	}
)

// withContext returns e in a collection section with a curator's note.
func withContext(e export.Entry, section, note string) export.Entry {
	e.Section, e.Note = section, note
	return e
}

// goldenSets are the entry lists written to the golden files.
var goldenSets = []struct {
	name    string
	entries []export.Entry
}{
	{"items", []export.Entry{kingsFundReport, mentalElfBlog, nationalVoicesRelease, cmhBriefing}},
	{"collection", []export.Entry{
		withContext(kingsFundReport, "Money", "Figures for 2021/22; see table 3 for the per-head spend."),
		withContext(mentalElfBlog, "Loneliness", "A careful appraisal: read it before the review itself."),
		withContext(cmhBriefing, "Loneliness", ""),
		withContext(nationalVoicesRelease, "", "The people's view of the 10 Year Plan."),
	}},
	{"hostile", []export.Entry{hostile}},
}

// hostile is an item whose text came from a hostile page: TeX and CSV
// specials, control characters, NUL, line breaks that try to start a new
// RIS record or BibTeX entry, a formula, unbalanced braces.
var hostile = export.Entry{
	Publisher: "=HYPERLINK(\"https://evil.example/\",\"Fund\")",
	Section:   "@SUM(A1:A9)",
	Note:      "line one\r\nER  - \r\nTY  - JOUR\r\nTI  - Injected\n}\n@misc{evil,\n\u2028next\x00",
	Item: evidence.Item{
		ID: "0123456789abcdef", Source: "kings-fund", Type: "article",
		Title:     "{Unbalanced & 100% $cost #1 under_score ~tilde ^caret \\backslash -- ``quoted'' \x00NUL\x1b[31m\nnewline",
		URL:       "https://www.kingsfund.org.uk/a b{c}\\d\"e\"\x7f",
		Published: day(2022, time.December, 1), FirstSeen: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
		Authors:    []string{"Tom and Jerry", "Smith, Jane, Jr", "+cmd|' /C calc'!A0", "Centre for {Evil}, Inc", "", "Tom and Jerry"},
		Summary:    "-2+3 first\tline\n\nsecond line\u2029third\x00",
		Topics:     []string{"a, b", "=1+1", ""},
		PDFURLs:    []string{"https://example.org/x.pdf\r\nER  - ", "https://example.org/x.pdf\r\nER  - "},
		DOI:        "doi:10.1000/evil}\n@misc{",
		Provenance: map[string]string{"published": "import:ris (month only)"},
	},
}
