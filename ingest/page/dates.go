package page

import (
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London on machines without a zoneinfo database

	"github.com/evidencetracker/evidence/ingest/text"
)

// ukZone is where a date without a time zone is read: all four publishers
// are in the UK.
const ukZone = "Europe/London"

// london is loaded once; time.Location values are immutable.
var london = mustLoadLocation(ukZone)

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// Impossible with time/tzdata embedded.
		panic("page: load " + name + ": " + err.Error())
	}
	return loc
}

// zonedLayouts carry a time zone.
var zonedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -0700 MST",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	time.RFC822Z,
	time.RFC822,
}

// localLayouts have no time zone: they are read in Europe/London. Human
// forms are matched after normalisation (ordinals, weekdays and commas
// removed, "Sept" shortened), see normalizeHumanDate.
var localLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
	"2006/1/2",
	"20060102",
	"2006-01",
	"2006/01",
	"2006",
	"2 January 2006 15:04",
	"2 January 2006",
	"2 Jan 2006",
	"January 2 2006",
	"Jan 2 2006",
	"02/01/2006",
	"2/1/2006",
	"02.01.2006",
	"January 2006",
	"Jan 2006",
}

// ParseDate reads a date as publishers write it in metadata, sitemaps and
// page text: RFC 3339 / W3C Datetime (also partial: "2023", "2023-11"),
// RFC 1123/822, "2006/01/02", UK day-first "02/01/2006", and human forms
// such as "1 November 2023", "1st November 2023", "Wednesday, 1 November
// 2023", "November 1, 2023", "Nov 2023". A value without a time zone is
// Europe/London time. The result is UTC; ok is false for anything
// unreadable or outside 1990–2100.
func ParseDate(s string) (time.Time, bool) {
	return parseDateIn(s, london)
}

func parseDateIn(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return time.Time{}, false
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return checkDate(t)
		}
	}
	h := normalizeHumanDate(s)
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, h, loc); err == nil {
			return checkDate(t)
		}
	}
	return time.Time{}, false
}

func checkDate(t time.Time) (time.Time, bool) {
	t = t.UTC()
	if !text.PlausibleDate(t) {
		return time.Time{}, false
	}
	return t, true
}

var (
	ordinalRE = regexp.MustCompile(`(?i)\b(\d{1,2})(st|nd|rd|th)\b`)
	weekdayRE = regexp.MustCompile(`(?i)^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(day|nesday|rsday|urday)?\.?,?\s+`)
	septRE    = regexp.MustCompile(`(?i)\bsept\b\.?`)
	monthDot  = regexp.MustCompile(`(?i)\b(jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)\.`)
)

// normalizeHumanDate turns "Wednesday, 1st Nov. 2023" into "1 Nov 2023"
// and capitalises month names so Go's layouts match them.
func normalizeHumanDate(s string) string {
	s = weekdayRE.ReplaceAllString(s, "")
	s = ordinalRE.ReplaceAllString(s, "$1")
	s = septRE.ReplaceAllString(s, "Sep")
	s = monthDot.ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, ",", " ")
	s = strings.Join(strings.Fields(s), " ")
	return capitalizeMonths(s)
}

var monthNames = []string{
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
}

// capitalizeMonths rewrites lower- or upper-case month names ("NOVEMBER",
// "nov") as Go's layouts expect them ("November", "Nov").
func capitalizeMonths(s string) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		lw := strings.ToLower(w)
		for _, m := range monthNames {
			if lw == m || (len(lw) == 3 && strings.HasPrefix(m, lw)) {
				words[i] = strings.ToUpper(lw[:1]) + lw[1:]
				break
			}
		}
	}
	return strings.Join(words, " ")
}

// visibleDateRE finds a date written out in page text: "1 November 2023",
// "1st Nov 2023", "November 1, 2023".
const visibleDatePattern = `(?:(\d{1,2})(?:st|nd|rd|th)?\s+(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?,?\s+((?:19|20)\d\d)|(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d))`

var visibleDateRE = regexp.MustCompile(`(?i)\b` + visibleDatePattern + `\b`)

// updatedCueRE marks a visible date as a modification date when the words
// just before it say so ("Last updated: 3 May 2024").
var updatedCueRE = regexp.MustCompile(`(?i)(updated|reviewed|review date|modified|revised)(\s+on)?\W{0,3}$`)

// visibleDates returns the first publication date and the first
// modification date written out in text.
func visibleDates(s string) (published, updated *time.Time) {
	for _, m := range visibleDateRE.FindAllStringIndex(s, 20) {
		t, ok := ParseDate(s[m[0]:m[1]])
		if !ok {
			continue
		}
		before := s[max(0, m[0]-24):m[0]]
		if updatedCueRE.MatchString(strings.TrimSpace(before)) {
			if updated == nil {
				updated = &t
			}
			continue
		}
		if published == nil {
			published = &t
		}
		if published != nil && updated != nil {
			break
		}
	}
	return published, updated
}
