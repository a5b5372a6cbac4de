package digest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evidencetracker/evidence"
)

func TestRenderMarkdown(t *testing.T) {
	tests := []struct {
		name, in   string
		want, lack []string
	}{
		{"emphasis and links", "**Bold** and [a link](https://example.org/x).",
			[]string{"<strong>Bold</strong>", `<a href="https://example.org/x">a link</a>`}, nil},
		{"lists", "- one\n- two\n", []string{"<ul>", "<li>one</li>"}, nil},
		{"raw script dropped", "hi <script>alert(1)</script>", []string{"hi"}, []string{"<script", "alert(1)</script"}},
		{"javascript link neutralised", "[x](javascript:alert(1))", nil, []string{"javascript:"}},
		{"event attribute dropped", `<a href="https://x.org" onclick="evil()">x</a>`, nil, []string{"onclick"}},
		{"image dropped", "![pic](https://x.org/a.png)", nil, []string{"<img"}},
		{"bare URL linked", "see https://example.org/a", []string{`href="https://example.org/a"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(RenderMarkdown(tt.in))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("RenderMarkdown(%q) = %q, want %q in it", tt.in, got, w)
				}
			}
			for _, l := range tt.lack {
				if strings.Contains(strings.ToLower(got), l) {
					t.Errorf("RenderMarkdown(%q) = %q, must not contain %q", tt.in, got, l)
				}
			}
		})
	}
}

// unsafeHTML finds script tags, event-handler attributes and script URLs
// in markup (text that merely reads "onload=" or "javascript:" is harmless).
var unsafeHTML = regexp.MustCompile(`(?i)<script|<iframe|<style|<[a-z][^>]*\son[a-z]+\s*=|(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):`)

func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range []string{
		"**hi** [x](https://x.org)", "<script>alert(1)</script>", "[a](javascript:alert(1))",
		`<img src=x onerror=alert(1)>`, "<a href=\"JaVaScRiPt:alert(1)\">x</a>", "[a](jav&#x09;ascript:x)",
		"<svg onload=alert(1)>", "```\n<script>\n```", "<<script>script>", "[x](<javascript:alert(1)>)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(RenderMarkdown(s))
		if m := unsafeHTML.FindString(got); m != "" {
			t.Fatalf("RenderMarkdown(%q) = %q: contains %q", s, got, m)
		}
	})
}

func TestSummarise(t *testing.T) {
	long := strings.Repeat("word ", 100)
	tests := []struct{ name, in, want string }{
		{"two short sentences", "First one. Second one. Third one.", "First one. Second one."},
		{"second too long", "First one. X" + strings.Repeat("x", 330) + ".", "First one."},
		{"abbreviation is no end", "Dr. Smith et al. reviewed it. Then more. And more.", "Dr. Smith et al. reviewed it. Then more."},
		{"initials", "J. K. Rowling wrote. Done.", "J. K. Rowling wrote. Done."},
		{"question", "Does it work? We look. Then.", "Does it work? We look."},
		{"no end", "no full stop here", "no full stop here"},
		{"too long without end", long, strings.TrimSpace(cutWords(strings.TrimSpace(long), SummaryMax))},
		{"read more trimmed", "Today we publish a report. Read More", "Today we publish a report."},
		{"spaces collapsed", "  a \n b.  ", "a b."},
		{"decimal is no end", "It rose 2.5 per cent. Then fell.", "It rose 2.5 per cent. Then fell."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarise(tt.in); got != tt.want {
				t.Errorf("Summarise(%q)\n = %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzSummarise(f *testing.F) {
	for _, s := range []string{"A. B. C.", "Dr. X. Y", strings.Repeat("é ", 400), "x?\u00a0Y", "…"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Summarise(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Summarise(%q) = %q: invalid UTF-8", s, got)
		}
		if n := utf8.RuneCountInString(got); n > SummaryMax {
			t.Fatalf("Summarise(%q) has %d runes, more than %d", s, n, SummaryMax)
		}
	})
}

// hostile is an item whose every outside field tries to break out.
func hostile() evidence.Item {
	p := time.Date(2026, 10, 14, 9, 0, 0, 0, time.UTC)
	return evidence.Item{
		ID: "evil", Source: evidence.SourceKingsFund, Type: evidence.TypeReport,
		Title:   `<script>alert("t")</script> & <b>bold</b>`,
		URL:     "javascript:alert(1)",
		Summary: `<img src=x onerror=alert(1)> "quoted" *stars* [link](https://x.org)`,
		Authors: []string{"<i>Mallory</i>"}, Topics: []string{"<b>topic</b>", "x\" onmouseover=\"y"},
		PDFURLs:   []string{"https://x.org/a.pdf\" onclick=\"z"},
		Published: &p, FirstSeen: p.Add(time.Hour), AnnouncedBy: []string{evidence.SourceKingsFund},
	}
}

func TestOutsideTextIsEscaped(t *testing.T) {
	st := &memStore{items: []evidence.Item{hostile()}}
	d, err := New(st, testOptions(t)).Build(context.Background(), Request{Week: mustWeek(t, "2026-W42"),
		Curation: Curation{Note: "<script>alert(2)</script> [x](javascript:alert(3))"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("html", func(t *testing.T) {
		var b bytes.Buffer
		if err := r.Render(&b, d, HTML); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, bad := range []string{"<script", "<img", "<b>", "<i>", "javascript:", `" onclick`, `" onmouseover`} {
			if strings.Contains(out, bad) {
				t.Errorf("HTML digest contains %q", bad)
			}
		}
		if !strings.Contains(out, "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;") {
			t.Error("the hostile title is not shown escaped")
		}
	})
	t.Run("markdown", func(t *testing.T) {
		var b bytes.Buffer
		if err := r.Render(&b, d, Markdown); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, bad := range []string{"<script", "<img", "<b>", "[link](https"} {
			if strings.Contains(out, bad) {
				t.Errorf("Markdown digest contains %q", bad)
			}
		}
	})
}

func TestTextLayout(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	d := build(t, "2026-W42", editorCuration, Subscriber{}, nil)
	var b bytes.Buffer
	if err := r.Render(&b, d, Text); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(b.String(), "\n") {
		if utf8.RuneCountInString(line) <= TextWidth {
			continue
		}
		// Only a link may run past the width, alone on its line.
		f := strings.Fields(line)
		if last := f[len(f)-1]; !strings.Contains(last, "://") || len(f) > 2 {
			t.Errorf("line %d is %d columns: %q", i+1, utf8.RuneCountInString(line), line)
		}
	}
	if strings.Contains(b.String(), "<") && strings.Contains(b.String(), "<p>") {
		t.Error("text digest contains HTML")
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"html": HTML, "TEXT": Text, "txt": Text, "md": Markdown, "markdown": Markdown, "json": JSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil || !strings.Contains(err.Error(), `"pdf"`) {
		t.Errorf("ParseFormat(pdf) = %v", err)
	}
}

// TestMarkdownOutputRenders: the Markdown digest is valid Markdown whose
// links and line breaks survive a renderer.
func TestMarkdownOutputRenders(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	d := build(t, "2026-W42", editorCuration, Subscriber{}, nil)
	var b bytes.Buffer
	if err := r.Render(&b, d, Markdown); err != nil {
		t.Fatal(err)
	}
	html := string(RenderMarkdown(b.String()))
	for _, want := range []string{
		`s picks</h2>`, `<h2>Other new evidence</h2>`,
		`<strong><a href="https://www.centreformentalhealth.org.uk/publications/living-well-with-long-term-conditions-and-mental-health/">Living well with long-term conditions and mental health</a></strong><br>`,
		`Appraised by The Mental Elf: <a href="https://www.nationalelfservice.net/`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered Markdown digest lacks %q", want)
		}
	}
}

func TestTemplatesFromDir(t *testing.T) {
	tests := []struct {
		name, file, body, wantErr string
	}{
		{"own text template", "digest.txt.tmpl", "Digest {{.Dates}}\n", ""},
		{"does not parse", "digest.html.tmpl", "<p>{{.Title</p>", "digest.html.tmpl"},
		{"fails on data", "digest.md.tmpl", "{{.NoSuchField}}", "digest.md.tmpl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := NewRendererFrom(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tt.wantErr)) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := r.Render(&b, sampleDigest(), Text); err != nil || b.String() != "Digest 30 November – 6 December 2026\n" {
				t.Errorf("own template rendered %q, %v", b.String(), err)
			}
			b.Reset()
			if err := r.Render(&b, sampleDigest(), HTML); err != nil || !strings.Contains(b.String(), "Sample report") {
				t.Errorf("built-in HTML template not used: %v", err)
			}
		})
	}
}
