package page

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 UTC, "" for not ok
	}{
		{"2023-11-01T16:20:45+00:00", "2023-11-01T16:20:45Z"},
		{"2023-11-01T16:20:45.123Z", "2023-11-01T16:20:45.123Z"},
		{"2023-10-30T09:12:00+01:00", "2023-10-30T08:12:00Z"},
		{"2023-10-30T09:12+01:00", "2023-10-30T08:12:00Z"},
		{"2023-10-30T09:12:00+0100", "2023-10-30T08:12:00Z"},
		{"Wed, 01 Nov 2023 16:20:45 GMT", "2023-11-01T16:20:45Z"},
		{"Wed, 1 Nov 2023 16:20:45 +0000", "2023-11-01T16:20:45Z"},
		// No time zone: Europe/London (GMT in winter, BST in summer).
		{"2023-11-01", "2023-11-01T00:00:00Z"},
		{"2023-07-01", "2023-06-30T23:00:00Z"},
		{"2024-03-14T09:15:00", "2024-03-14T09:15:00Z"},
		{"2024-08-01 09:00:00", "2024-08-01T08:00:00Z"},
		{"2012/03/01", "2012-03-01T00:00:00Z"},
		{"2012", "2012-01-01T00:00:00Z"},
		{"2023-10", "2023-09-30T23:00:00Z"},
		{"1 November 2023", "2023-11-01T00:00:00Z"},
		{"1st November 2023", "2023-11-01T00:00:00Z"},
		{"22nd Feb 2021", "2021-02-22T00:00:00Z"},
		{"Wednesday, 1 November 2023", "2023-11-01T00:00:00Z"},
		{"November 1, 2023", "2023-11-01T00:00:00Z"},
		{"1 Sept. 2023", "2023-08-31T23:00:00Z"},
		{"1 NOVEMBER 2023", "2023-11-01T00:00:00Z"},
		{"05/03/2024", "2024-03-05T00:00:00Z"}, // UK: 5 March
		{"Nov 2023", "2023-11-01T00:00:00Z"},
		{"  2023-11-01  ", "2023-11-01T00:00:00Z"},
		{"", ""},
		{"not a date", ""},
		{"1970-01-01T00:00:00Z", ""}, // placeholder
		{"0001-01-01", ""},
		{"2200-01-01", ""},
		{"31 February 2023", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseDate(tt.in)
			if tt.want == "" {
				if ok {
					t.Fatalf("ParseDate(%q) = %v, want not ok", tt.in, got)
				}
				return
			}
			if !ok {
				t.Fatalf("ParseDate(%q) not ok, want %s", tt.in, tt.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("location %v, want UTC", got.Location())
			}
			if s := got.Format(time.RFC3339Nano); s != tt.want {
				t.Errorf("ParseDate(%q) = %s, want %s", tt.in, s, tt.want)
			}
		})
	}
}

func TestVisibleDates(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		pub, upd string
	}{
		{"plain", "By Andy Bell | 1 November 2023", "2023-11-01", ""},
		{"ordinal", "Posted on the 1st November 2023 by X", "2023-11-01", ""},
		{"updated first", "Last updated: 3 May 2024. Published 12 March 2013", "2013-03-12", "2024-05-03"},
		{"review date", "Published: 14 May 2013 Review date: 5 September 2023", "2013-05-14", "2023-09-05"},
		{"US order", "November 1, 2023", "2023-11-01", ""},
		{"none", "Published in the spring", "", ""},
		{"impossible date skipped", "31 February 2023 then 2 March 2023", "2023-03-02", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, upd := visibleDates(tt.in)
			if got := day(pub); got != tt.pub {
				t.Errorf("published %q, want %q", got, tt.pub)
			}
			if got := day(upd); got != tt.upd {
				t.Errorf("updated %q, want %q", got, tt.upd)
			}
		})
	}
}

// day formats a date-only London time back as its calendar day.
func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(london).Format("2006-01-02")
}
