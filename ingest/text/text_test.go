package text

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlainText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain text", "  Just   some\n\ttext. ", "Just some text."},
		{"inline tags join", "<b>w</b>ord and <a href='x'>link</a>", "word and link"},
		{"blocks break", "<p>One</p><p>Two</p><div>Three<br>Four</div><ul><li>a</li><li>b</li></ul>", "One Two Three Four a b"},
		{"headings and tables", "<h2>Title</h2><table><tr><td>a</td><td>b</td></tr></table>", "Title a b"},
		{"script style noscript dropped", "a<script>var x = '<p>no</p>';</script>b<style>p{}</style><noscript>enable JS</noscript>c", "a b c"},
		{"comments dropped", "a<!-- hidden -->b", "ab"},
		{"entities", "Fish &amp; chips &#8217;&#x2019; &eacute;&nbsp;x", "Fish & chips ’’ é x"},
		{"double-escaped numeric", "It&amp;#8217;s here", "It’s here"},
		{"double-escaped named", "Fish &amp;amp; chips", "Fish & chips"},
		{"double-escaped markup", "&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;&lt;p&gt;Again&lt;/p&gt;", "Hello world Again"},
		{"double-escaped script", "&lt;script&gt;alert(1)&lt;/script&gt;ok", "ok"},
		{"ampersand prose untouched", "AT&T and R&D & co; &amp;notation", "AT&T and R&D & co; &notation"},
		{"less-than in statistics", "p<0.05 and p < .01", "p<0.05 and p < .01"},
		{"full document", "<!DOCTYPE html><html><head><title>T</title><script>x</script></head><body><h1>Head</h1><p>Body</p></body></html>", "Head Body"},
		{"unclosed tags", "<p>one<p>two<div>three", "one two three"},
		{"soft hyphen and zero width", "co\u00ADoperate\u200B now", "cooperate now"},
		{"invalid utf-8", "bad \xff byte", "bad \uFFFD byte"},
		{"textarea with script text", "<textarea><script>x</script></textarea>", ""},
		{"wordpress excerpt", `<p>The Mental Elf reports on a trial&#8230; [&hellip;]</p>`, "The Mental Elf reports on a trial… […]"},
		{"MathML text kept, tokens apart", `Cohen's <math><mi>d</mi><mo>=</mo><mn>0.42</mn></math>, a <math display="block"><mfrac><mn>1</mn><mi>ARR</mi></mfrac></math>.`, "Cohen's d = 0.42, a 1 ARR."},
		{"MathML annotations dropped", `<math><semantics><mi>x</mi><annotation encoding="application/x-tex">x^2</annotation><annotation-xml encoding="MathML-Content"><ci>x</ci></annotation-xml></semantics></math>`, "x"},
		{"svg still dropped", `a<svg><text>chart label</text></svg>b`, "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlainText(tt.in); got != tt.want {
				t.Errorf("PlainText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLinks(t *testing.T) {
	base, _ := url.Parse("https://www.nationalelfservice.net/mental-health/depression/post/")
	in := `<p>See <a href="https://doi.org/10.1192/bjp.2020.1">the paper</a>,
<a href="../other-post/?utm_source=rss">a related blog</a>,
<a href="/cms/wp-content/uploads/2020/01/report.pdf">PDF</a>,
<a href="#footnote-1">1</a>, <a href="mailto:elf@example.org">mail</a>,
<a href="javascript:void(0)">js</a>, <a>no href</a>, <a href="">empty</a>,
<a href="https://doi.org/10.1192/bjp.2020.1#abs">again</a>,
<a href=" https://example.org/x
y ">spaced</a>, <a href="HTTP://Example.org/Up"><img alt=""></a></p>`
	want := []Link{
		{"https://doi.org/10.1192/bjp.2020.1", "the paper"},
		{"https://www.nationalelfservice.net/mental-health/depression/other-post/?utm_source=rss", "a related blog"},
		{"https://www.nationalelfservice.net/cms/wp-content/uploads/2020/01/report.pdf", "PDF"},
		{"https://example.org/xy", "spaced"},
		{"http://Example.org/Up", ""},
	}
	got := Links(in, base)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Links:\n got %#v\nwant %#v", got, want)
	}

	t.Run("nil base skips relative", func(t *testing.T) {
		got := Links(`<a href="/rel">r</a><a href="https://example.org/abs">a</a>`, nil)
		want := []Link{{"https://example.org/abs", "a"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v, want %#v", got, want)
		}
	})
	t.Run("first non-empty text wins", func(t *testing.T) {
		got := Links(`<a href="https://e.org/a"><img src=x></a><a href="https://e.org/a">Title</a>`, nil)
		want := []Link{{"https://e.org/a", "Title"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v, want %#v", got, want)
		}
	})
	t.Run("none", func(t *testing.T) {
		if got := Links("plain text", nil); len(got) != 0 {
			t.Errorf("got %#v, want none", got)
		}
	})
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"fits", "Short text.", 100, "Short text."},
		{"fits exactly", "abcde", 5, "abcde"},
		{"white space collapsed", "a  b\n c", 10, "a b c"},
		{"sentence boundary", "First sentence here. Second sentence is long enough to cut.", 30, "First sentence here."},
		{"question boundary", "Does it work? Yes it does, and then some more words follow.", 20, "Does it work?"},
		{"exclamation boundary", "It works! And more words follow here.", 12, "It works!"},
		{"boundary at max", "One two. Three four five.", 8, "One two."},
		{"last boundary wins", "One. Two. Three four five six seven.", 12, "One. Two."},
		{"early boundary ignored", "Dr. Smith and colleagues ran a large randomised trial", 30, "Dr. Smith and colleagues ran…"},
		{"word boundary", "The quick brown fox jumps over the lazy dog", 20, "The quick brown fox…"},
		{"word boundary trims comma", "Alpha, beta, gamma, delta, epsilon", 14, "Alpha, beta…"},
		{"no spaces", "abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"},
		{"runes not bytes", "ééééé ééééé ééééé", 12, "ééééé ééééé…"},
		{"decimal not a boundary", "The effect size was 0.45 in the treatment arm of the trial", 30, "The effect size was 0.45 in…"},
		{"zero max", "anything", 0, ""},
		{"max one", "anything", 1, "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Summarize(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.max && tt.max >= 0 {
				t.Errorf("Summarize(%q, %d) has %d runes", tt.in, tt.max, n)
			}
		})
	}
}

func TestIsPDF(t *testing.T) {
	tests := []struct {
		u    string
		want bool
	}{
		{"https://www.centreformentalhealth.org.uk/wp-content/uploads/2020/10/CentreforMH_Report.pdf", true},
		{"https://www.nationalelfservice.net/cms/wp-content/uploads/2021/03/protocol.PDF", true},
		{"https://example.org/files/paper.pdf?download=1", true},
		{"https://example.org/files/paper.pdf#page=3", true},
		{"https://www.kingsfund.org.uk/sites/default/files/field/field_publication_file/report.pdf", true},
		{"https://www.kingsfund.org.uk/sites/default/files/2019-01/data-tables.xlsx", true},
		{"https://www.centreformentalhealth.org.uk/wp-content/uploads/2022/01/briefing.docx", true},
		{"https://www.centreformentalhealth.org.uk/wp-content/uploads/2022/01/photo.jpg", false},
		{"https://example.org/downloads/briefing.docx", false},
		{"https://example.org/pdf/landing-page", false},
		{"https://example.org/report.pdf.html", false},
		{"/relative/report.pdf", true},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.u, func(t *testing.T) {
			if got := IsPDF(tt.u); got != tt.want {
				t.Errorf("IsPDF(%q) = %v, want %v", tt.u, got, tt.want)
			}
		})
	}
}

func FuzzPlainText(f *testing.F) {
	for _, s := range []string{
		"<p>Hello &amp;amp; <b>world</b></p><script>alert(1)</script>",
		"&lt;script&gt;x&lt;/script&gt;",
		"<textarea><script>x</script></textarea>",
		"<plaintext><script>",
		"<xmp>&lt;script</xmp>",
		"It&amp;#8217;s",
		"plain text",
		"\xff\xfe<p>",
		"<math><mi>x</mi><mo>+</mo><mn>1</mn><annotation>x+1</annotation></math>",
		"<math><mi>&lt;script&gt;</mi><mtext><script>x</script></mtext><annotation-xml><p>y</p></annotation-xml></math>",
	} {
		f.Add(s)
	}
	// Seed with the feed package's test inputs when they are there.
	if files, _ := filepath.Glob("../feed/testdata/*.xml"); len(files) > 0 {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := PlainText(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 output %q", out)
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("output contains <script: %q", out)
		}
		if out != strings.TrimSpace(out) || strings.Contains(out, "  ") {
			t.Fatalf("white space not collapsed: %q", out)
		}
		// Literal keeps markup as text, with the same guarantees.
		lit := Literal(in)
		if !utf8.ValidString(lit) || strings.Contains(strings.ToLower(lit), "<script") || lit != strings.TrimSpace(lit) || strings.Contains(lit, "  ") {
			t.Fatalf("Literal(%q) = %q", in, lit)
		}
		// A script element with a marker inside never leaks its content,
		// whatever comes before it, when the prefix leaves the parser in
		// normal content.
		if !strings.ContainsAny(in, "<&") {
			marked := PlainText(in + "<script>SECRETMARKER</script>")
			if strings.Contains(marked, "SECRETMARKER") {
				t.Fatalf("script content survived: %q", marked)
			}
		}
	})
}

func TestLiteral(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"markup is text", "Why the <blink> tag had to go", "Why the <blink> tag had to go"},
		{"entities are text", "Line one<br />line &amp; two", "Line one<br />line &amp; two"},
		{"white space collapsed", "  a \n\t b\u200B ", "a b"},
		{"script defused", "x <SCRIPT>alert(1)</script>", "x SCRIPT>alert(1)</script>"},
		{"script defused after a <", "a <<sCript>", "a sCript>"},
		{"invalid utf-8", "bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Literal(tt.in); got != tt.want {
				t.Errorf("Literal(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
