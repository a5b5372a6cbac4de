package digest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/evidencetracker/evidence"
)

// Week is one ISO 8601 week: Monday to Sunday, week 1 being the week with
// the year's first Thursday. Its String form is "2026-W47".
type Week struct {
	Year int // ISO week-numbering year (may differ from the calendar year in late December and early January)
	Num  int // 1 to 52 or 53
}

// ParseWeek reads "2026-W47" (also "2026W47" and a lower-case w). A week
// number the year does not have (W53 of a 52-week year) is an error naming
// the input; errors wrap evidence.ErrInvalid.
func ParseWeek(s string) (Week, error) {
	bad := func(why string) (Week, error) {
		return Week{}, fmt.Errorf("week %q: %s (want YYYY-Www, like 2026-W47): %w", s, why, evidence.ErrInvalid)
	}
	t := strings.TrimSpace(s)
	y, n, ok := strings.Cut(strings.ToUpper(t), "W")
	if !ok {
		return bad("no W")
	}
	y = strings.TrimSuffix(y, "-")
	if len(y) != 4 || len(n) != 2 {
		return bad("want a four-digit year and a two-digit week")
	}
	year, err := strconv.Atoi(y)
	if err != nil || year < 1000 {
		return bad("the year is not a number")
	}
	num, err := strconv.Atoi(n)
	if err != nil {
		return bad("the week is not a number")
	}
	if max := WeeksIn(year); num < 1 || num > max {
		return bad(fmt.Sprintf("%d has weeks 01 to %02d", year, max))
	}
	return Week{Year: year, Num: num}, nil
}

// String formats the week as "2026-W47".
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// MarshalText makes a Week a JSON string.
func (w Week) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// WeeksIn returns 52 or 53: how many ISO weeks year has.
func WeeksIn(year int) int {
	_, n := time.Date(year, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return n
}

// WeekOf returns the ISO week that t falls in, in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	y, n := t.In(loc).ISOWeek()
	return Week{Year: y, Num: n}
}

// Start is the week's Monday 00:00 in loc.
func (w Week) Start(loc *time.Location) time.Time {
	// 4 January is always in week 1.
	jan4 := time.Date(w.Year, time.January, 4, 12, 0, 0, 0, time.UTC)
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return time.Date(w.Year, time.January, 4-back+7*(w.Num-1), 0, 0, 0, 0, loc)
}

// End is the next Monday 00:00 in loc: the window is [Start, End).
func (w Week) End(loc *time.Location) time.Time { return w.Next().Start(loc) }

// Next and Prev are the weeks after and before w.
func (w Week) Next() Week {
	if w.Num < WeeksIn(w.Year) {
		return Week{w.Year, w.Num + 1}
	}
	return Week{w.Year + 1, 1}
}

// Prev is the week before w.
func (w Week) Prev() Week {
	if w.Num > 1 {
		return Week{w.Year, w.Num - 1}
	}
	return Week{w.Year - 1, WeeksIn(w.Year - 1)}
}

// LastComplete is the latest week that has ended by now: what a Monday
// 07:00 send wants (the week that just ended), and still that week on the
// Sunday before the next one ends.
func LastComplete(now time.Time, loc *time.Location) Week { return WeekOf(now, loc).Prev() }
