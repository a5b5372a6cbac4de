package feed

import (
	"strings"
	"testing"
)

// TestParseBlankContent: when the content is blank, the body comes from
// the description and a summary emptied by cleanSummary stays empty (it is
// not refilled from the description).
func TestParseBlankContent(t *testing.T) {
	in := `<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>T</title><link>https://example.org/</link>
<item><title>A</title><link>https://example.org/a</link>
<description>The post A appeared first on Example.</description>
<content:encoded><![CDATA[   ]]></content:encoded></item>
<item><title>B</title><link>https://example.org/b</link>
<description>Short &lt;b&gt;note&lt;/b&gt;.</description>
<content:encoded><![CDATA[<p>Long <i>body</i> text.</p>]]></content:encoded></item>
</channel></rss>`
	items, err := Parse(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("got %d items, want 2", len(items))
	}
	if a := items[0]; a.Summary != "" || a.Body != "The post A appeared first on Example." {
		t.Errorf("A: summary %q, body %q", a.Summary, a.Body)
	}
	if b := items[1]; b.Summary != "Short note." || b.Body != "Long body text." {
		t.Errorf("B: summary %q, body %q", b.Summary, b.Body)
	}
}
