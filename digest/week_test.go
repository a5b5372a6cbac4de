package digest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidencetracker/evidence"
)

func splitLines(s string) []string { return strings.Split(s, "\n") }
func itoa(n int) string            { return strconv.Itoa(n) }

func TestParseWeek(t *testing.T) {
	tests := []struct {
		in      string
		want    Week
		wantErr string
	}{
		{"2026-W47", Week{2026, 47}, ""},
		{"2026W47", Week{2026, 47}, ""},
		{" 2026-w01 ", Week{2026, 1}, ""},
		{"2026-W53", Week{2026, 53}, ""}, // 2026 ends on a Thursday: 53 weeks
		{"2020-W53", Week{2020, 53}, ""},
		{"2025-W53", Week{}, "2025 has weeks 01 to 52"},
		{"2026-W00", Week{}, "2026 has weeks 01 to 53"},
		{"2026-W7", Week{}, "two-digit week"},
		{"26-W07", Week{}, "four-digit year"},
		{"2026-11-16", Week{}, "no W"},
		{"", Week{}, "no W"},
		{"20x6-W07", Week{}, "year is not a number"},
		{"2026-Wxx", Week{}, "week is not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWeek(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `"`+tt.in+`"`) {
					t.Fatalf("ParseWeek(%q) error = %v, want one naming the input and saying %q", tt.in, err, tt.wantErr)
				}
				if !errors.Is(err, evidence.ErrInvalid) {
					t.Errorf("error %v is not ErrInvalid", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseWeek(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if back, _ := ParseWeek(got.String()); back != got {
				t.Errorf("String %q does not parse back", got.String())
			}
		})
	}
}

func TestWeekWindow(t *testing.T) {
	loc := london(t)
	tests := []struct {
		week       string
		start, end string // local wall-clock dates of the Mondays
		hours      float64
	}{
		{"2026-W47", "2026-11-16", "2026-11-23", 168},
		{"2026-W01", "2025-12-29", "2026-01-05", 168}, // starts in the previous calendar year
		{"2026-W53", "2026-12-28", "2027-01-04", 168},
		{"2020-W53", "2020-12-28", "2021-01-04", 168},
		{"2026-W13", "2026-03-23", "2026-03-30", 167}, // clocks go forward on Sunday 29 March
		{"2026-W43", "2026-10-19", "2026-10-26", 169}, // and back on Sunday 25 October
	}
	for _, tt := range tests {
		t.Run(tt.week, func(t *testing.T) {
			w := mustWeek(t, tt.week)
			s, e := w.Start(loc), w.End(loc)
			if s.Format("2006-01-02 15:04 Mon") != tt.start+" 00:00 Mon" || e.Format("2006-01-02 15:04 Mon") != tt.end+" 00:00 Mon" {
				t.Errorf("window = %s .. %s, want Monday %s .. Monday %s", s, e, tt.start, tt.end)
			}
			if got := e.Sub(s).Hours(); got != tt.hours {
				t.Errorf("window is %v hours, want %v", got, tt.hours)
			}
			if WeekOf(s, loc) != w || WeekOf(e.Add(-time.Nanosecond), loc) != w || WeekOf(e, loc) != w.Next() {
				t.Errorf("WeekOf disagrees with the window of %s", w)
			}
			if w.Next().Prev() != w {
				t.Errorf("Next().Prev() of %s = %s", w, w.Next().Prev())
			}
		})
	}
}

func TestLastComplete(t *testing.T) {
	loc := london(t)
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"Monday 07:00 send: the week that just ended", time.Date(2026, 10, 19, 7, 0, 0, 0, loc), "2026-W42"},
		{"Sunday night: the week before, not the unfinished one", time.Date(2026, 10, 18, 23, 59, 0, 0, loc), "2026-W41"},
		{"00:30 Monday in London is Sunday in UTC (BST)", time.Date(2026, 10, 18, 23, 30, 0, 0, time.UTC), "2026-W42"},
		{"first Monday of the year", time.Date(2027, 1, 4, 7, 0, 0, 0, loc), "2026-W53"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(&memStore{}, Options{Location: loc, Now: func() time.Time { return tt.now }})
			if got := b.DefaultWeek().String(); got != tt.want {
				t.Errorf("DefaultWeek at %s = %s, want %s", tt.now, got, tt.want)
			}
		})
	}
}

func FuzzParseWeek(f *testing.F) {
	for _, s := range []string{"2026-W47", "2020W53", "2025-W53", "x", "9999-W52", "1000-W01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeek(s)
		if err != nil {
			if !strings.Contains(err.Error(), "week ") {
				t.Fatalf("error %q does not say it is about a week", err)
			}
			return
		}
		if w.Num < 1 || w.Num > WeeksIn(w.Year) {
			t.Fatalf("ParseWeek(%q) = %v: no such week", s, w)
		}
		if back, err := ParseWeek(w.String()); err != nil || back != w {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
		loc := time.UTC
		if got := WeekOf(w.Start(loc), loc); got != w {
			t.Fatalf("WeekOf(Start(%v)) = %v", w, got)
		}
	})
}
