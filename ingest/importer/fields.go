package importer

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/evidencetracker/evidence"
)

// NormalizeName turns a personal name written "Last, First" (RIS, most
// reference managers) into "First Last", and "Last, First, Suffix" into
// "First Last Suffix". Names without a comma, and corporate names (more
// than three words before the comma: "Department of Health and Social
// Care, England"), are kept as written. White space is collapsed.
func NormalizeName(s string) string {
	s = evidence.NormalizeSpace(s)
	if !strings.Contains(s, ",") {
		return s
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	last := parts[0]
	if last == "" || len(strings.Fields(last)) > 3 || len(parts) > 3 {
		return s
	}
	switch len(parts) {
	case 2:
		if parts[1] == "" {
			return last
		}
		return parts[1] + " " + last
	default: // 3: Last, First, Suffix
		name := last
		if parts[1] != "" {
			name = parts[1] + " " + last
		}
		if parts[2] != "" {
			name += " " + parts[2]
		}
		return name
	}
}

// Trustworthy years for a reference's date.
const (
	minYear = 1000
	maxYear = 2100
)

var monthNames = map[string]time.Month{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}

// parseMonth reads "5", "05", "May", "may", "September", "Sept".
func parseMonth(s string) (time.Month, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 1 && n <= 12 {
			return time.Month(n), true
		}
		return 0, false
	}
	if len(s) < 3 {
		return 0, false
	}
	m, ok := monthNames[strings.ToLower(s[:3])]
	if !ok {
		return 0, false
	}
	// "Mayhem" is not May: the rest must spell the month.
	full := strings.ToLower(time.Month(m).String())
	if l := strings.ToLower(s); !strings.HasPrefix(full, l) && l != "sept" {
		return 0, false
	}
	return m, true
}

// parseYear reads the first run of four digits ("2023", "c2023", "2023a").
func parseYear(s string) (int, bool) {
	run := 0
	for i, r := range s {
		if r >= '0' && r <= '9' {
			run++
			if run == 4 && (i+1 >= len(s) || s[i+1] < '0' || s[i+1] > '9') {
				y, _ := strconv.Atoi(s[i-3 : i+1])
				return y, y >= minYear && y < maxYear
			}
			continue
		}
		run = 0
	}
	return 0, false
}

// dateParts builds a date from a year, month and day given separately; the
// precision is that of the last part that reads. An unreadable year gives
// precNone.
func dateParts(year, month, day string) (time.Time, precision) {
	y, ok := parseYear(year)
	if !ok {
		return time.Time{}, precNone
	}
	m, ok := parseMonth(month)
	if !ok {
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), precYear
	}
	d, err := strconv.Atoi(strings.TrimSpace(day))
	if err != nil || d < 1 || d > daysIn(y, m) {
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), precMonth
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), precDay
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// freeLayouts are the written-out dates reference managers produce.
var freeLayouts = []string{
	"2 January 2006", "2 Jan 2006", "January 2, 2006", "Jan 2, 2006", "January 2 2006",
	"Monday, 2 January 2006", "Monday 2 January 2006", "02/01/2006",
}

var monthLayouts = []string{"January 2006", "Jan 2006", "January, 2006"}

// parseDate reads the dates found in reference files: RFC 3339; ISO
// "2023-05-12", "2023-05", "2023" (a biblatex range "2023-05-12/2023-06-01"
// gives its start); RIS "2023/05/12/", "2023///Spring"; written dates such
// as "12 May 2023" and "May 2023" (UK order for numeric "12/05/2023").
func parseDate(s string) (time.Time, precision) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 100 {
		return time.Time{}, precNone
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return inRange(t.UTC(), precDay)
	}
	for _, l := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			return inRange(t, precDay)
		}
	}
	// RIS: YYYY/MM/DD/other, each part optional but the year.
	if strings.Count(s, "/") >= 1 && len(s) >= 4 && isDigits(s[:4]) && (len(s) == 4 || s[4] == '/') {
		parts := strings.SplitN(s, "/", 4)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		return dateParts(parts[0], parts[1], parts[2])
	}
	// ISO, possibly a range.
	if i := strings.Index(s, "/"); i > 4 && isDigits(s[:4]) && s[4] == '-' {
		s = s[:i]
	}
	if len(s) >= 4 && isDigits(s[:4]) && (len(s) == 4 || s[4] == '-') {
		parts := strings.SplitN(s, "-", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		if len(parts[0]) == 4 && (parts[1] == "" || isDigits(parts[1])) && (parts[2] == "" || isDigits(parts[2])) {
			return dateParts(parts[0], parts[1], parts[2])
		}
	}
	norm := evidence.NormalizeSpace(strings.ReplaceAll(s, ".", ""))
	norm = strings.Replace(norm, "Sept ", "Sep ", 1)
	for _, l := range freeLayouts {
		if t, err := time.Parse(l, norm); err == nil {
			return inRange(t, precDay)
		}
	}
	for _, l := range monthLayouts {
		if t, err := time.Parse(l, norm); err == nil {
			return inRange(t, precMonth)
		}
	}
	if isDigits(s) && len(s) == 4 {
		return dateParts(s, "", "")
	}
	return time.Time{}, precNone
}

func inRange(t time.Time, p precision) (time.Time, precision) {
	if t.Year() < minYear || t.Year() >= maxYear {
		return time.Time{}, precNone
	}
	return t, p
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// risTypes maps RIS TY codes to item types. Codes not listed (ELEC, WEB,
// GEN, …) leave the type to the owning source's rules.
var risTypes = map[string]string{
	"JOUR": evidence.TypeArticle, "JFULL": evidence.TypeArticle, "EJOUR": evidence.TypeArticle,
	"MGZN": evidence.TypeArticle, "ABST": evidence.TypeArticle, "INPR": evidence.TypeArticle,
	"CPAPER": evidence.TypeArticle, "CONF": evidence.TypeArticle,
	"RPRT": evidence.TypeReport, "GOVDOC": evidence.TypeReport, "STAND": evidence.TypeReport,
	"BLOG": evidence.TypeBlog,
	"NEWS": evidence.TypeNews,
	"BOOK": evidence.TypePublication, "EBOOK": evidence.TypePublication, "CHAP": evidence.TypePublication,
	"ECHAP": evidence.TypePublication, "EDBOOK": evidence.TypePublication, "PAMP": evidence.TypePublication,
	"THES": evidence.TypePublication, "SER": evidence.TypePublication,
	"DATA": evidence.TypeData, "DBASE": evidence.TypeData, "AGGR": evidence.TypeData,
	"SOUND": evidence.TypePodcast,
}

// bibTypes maps BibTeX/biblatex entry types to item types. Types not
// listed (misc, online, electronic, www, unpublished, …) leave the type to
// the owning source's rules.
var bibTypes = map[string]string{
	"article":        evidence.TypeArticle,
	"periodical":     evidence.TypeArticle,
	"suppperiodical": evidence.TypeArticle,
	"inproceedings":  evidence.TypeArticle,
	"conference":     evidence.TypeArticle,
	"techreport":     evidence.TypeReport,
	"report":         evidence.TypeReport,
	"book":           evidence.TypePublication,
	"mvbook":         evidence.TypePublication,
	"booklet":        evidence.TypePublication,
	"inbook":         evidence.TypePublication,
	"incollection":   evidence.TypePublication,
	"collection":     evidence.TypePublication,
	"proceedings":    evidence.TypePublication,
	"manual":         evidence.TypePublication,
	"phdthesis":      evidence.TypePublication,
	"mastersthesis":  evidence.TypePublication,
	"thesis":         evidence.TypePublication,
	"dataset":        evidence.TypeData,
	"data":           evidence.TypeData,
	"audio":          evidence.TypePodcast,
}

// typeFromWords reads an item type from the free "type of work" a record
// may carry (RIS M3, BibTeX type = {Briefing}, CSL genre): "Briefing
// paper" is a briefing, "Long read" a long-read, "News" news (not
// "Newsletter"). "" when nothing matches.
func typeFromWords(s string) string {
	s = strings.ToLower(evidence.NormalizeSpace(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return ' '
	}, s)))
	switch {
	case s == "":
		return ""
	case strings.Contains(s, "briefing"):
		return evidence.TypeBriefing
	case strings.Contains(s, "long read"):
		return evidence.TypeLongRead
	case strings.Contains(s, "press release"):
		return evidence.TypePressRelease
	case strings.Contains(s, "blog"):
		return evidence.TypeBlog
	case strings.Contains(s, "podcast"):
		return evidence.TypePodcast
	case strings.Contains(s, "report"):
		return evidence.TypeReport
	case s == "news" || strings.HasPrefix(s, "news ") || strings.Contains(s, " news"):
		return evidence.TypeNews
	}
	return ""
}

// splitKeywords splits a keyword field on semicolons (and, when asked, on
// commas: BibTeX's convention).
func splitKeywords(s string, commas bool) []string {
	f := func(r rune) bool { return r == ';' || (commas && r == ',') || r == '\n' }
	var out []string
	for _, k := range strings.FieldsFunc(s, f) {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}
