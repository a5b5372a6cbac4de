package text

import (
	"strings"
	"testing"
	"time"
)

// shortcutInputs hold no '<' and no '&': PlainText does not parse them.
var shortcutInputs = []string{
	"plain", "  lead and trail  ", "a\r\nb\rc\fd\ve", "nul\x00in\x00side", "\x00",
	"\uFEFFbom first", "soft\u00ADhy\u200Bphen\u2060join", "nbsp\u00A0and\u2003em",
	"bad \xff\xfe bytes", "\xff", "\xed\xa0\x80 surrogate", "ctrl\x01\x7f\u0085x",
	"\u2028line\u2029para", " \t\n ", "a > b; c = d", "\u200B", "日本語 テキスト",
	"script\x00>", "/* */ \"quoted\" 'single'",
}

// TestPlainTextShortcut checks that text without markup or entities gives
// the same result through Collapse as through the HTML parser.
func TestPlainTextShortcut(t *testing.T) {
	for _, in := range shortcutInputs {
		v := strings.ToValidUTF8(in, "\uFFFD")
		if got, want := PlainText(in), plainHTML(v); got != want {
			t.Errorf("PlainText(%q) = %q, parsed as HTML %q", in, got, want)
		}
	}
}

func FuzzPlainTextShortcut(f *testing.F) {
	for _, in := range shortcutInputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if in == "" || strings.ContainsAny(in, "<&") {
			return
		}
		v := strings.ToValidUTF8(in, "\uFFFD")
		if got, want := PlainText(in), plainHTML(v); got != want {
			t.Errorf("PlainText(%q) = %q, parsed as HTML %q", in, got, want)
		}
	})
}

func TestCollapse(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"  a \t\n b  ":               "a b",
		"x\u00AD\u200B\u2060\uFEFFy": "xy",
		"a\x00\x01b":                 "ab",
		"\xff\xfe":                   "\uFFFD\uFFFD", // one U+FFFD per invalid byte
		"<b>kept</b> &amp;":          "<b>kept</b> &amp;",
	} {
		if got := Collapse(in); got != want {
			t.Errorf("Collapse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlausibleDate(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		t    time.Time
		want bool
	}{
		{time.Time{}, false},
		{time.Unix(0, 0), false},
		{time.Date(1989, 12, 31, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2024, 5, 1, 9, 0, 0, 0, london), true},
		{time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2100, 1, 1, 0, 30, 0, 0, time.FixedZone("", 3600)), true}, // 2099-12-31 23:30 UTC
	} {
		if got := PlausibleDate(c.t); got != c.want {
			t.Errorf("PlausibleDate(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

func TestDocumentType(t *testing.T) {
	for in, want := range map[string]string{
		"/a/report.pdf": "PDF", "/a/Report.PDF": "PDF", "/x/data.XlSx": "XLSX", "/b.epub": "EPUB",
		"/b.csv": "CSV", "/img.png": "", "/noext": "", "": "", "/dir.pdf/file": "", "/a.": "",
	} {
		if got := DocumentType(in); got != want {
			t.Errorf("DocumentType(%q) = %q, want %q", in, got, want)
		}
	}
}
