package urlnorm

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence"
)

func mustParse(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return u
}

func TestNormalize(t *testing.T) {
	elf := Rules{PreferredHost: "www.nationalelfservice.net", TrailingSlash: SlashAdd}
	kf := Rules{PreferredHost: "www.kingsfund.org.uk", TrailingSlash: SlashStrip}
	tests := []struct {
		name string
		raw  string
		base string
		r    Rules
		want string
	}{
		{"already normal", "https://example.org/a/b", "", Rules{}, "https://example.org/a/b"},
		{"http becomes https", "http://example.org/a", "", Rules{}, "https://example.org/a"},
		{"upper-case scheme and host", "HTTP://Example.ORG/Path", "", Rules{}, "https://example.org/Path"},
		{"empty path is root", "https://example.org", "", Rules{}, "https://example.org/"},
		{"default http port", "http://example.org:80/a", "", Rules{}, "https://example.org/a"},
		{"default https port", "https://example.org:443/a", "", Rules{}, "https://example.org/a"},
		{"other port kept", "https://example.org:8443/a", "", Rules{}, "https://example.org:8443/a"},
		{"port leading zeros", "https://example.org:0080/a", "", Rules{}, "https://example.org:80/a"},
		{"user info dropped", "https://user:pw@example.org/a", "", Rules{}, "https://example.org/a"},
		{"trailing dot in host", "https://example.org./a", "", Rules{}, "https://example.org/a"},
		{"fragment dropped", "https://example.org/a#section-2", "", Rules{}, "https://example.org/a"},
		{"empty query dropped", "https://example.org/a?", "", Rules{}, "https://example.org/a"},
		{
			"mental elf feed link",
			"https://www.nationalelfservice.net/treatment/psychotherapy/ct-for-ptsd/?utm_source=rss&utm_medium=rss&utm_campaign=ct-for-ptsd",
			"", Rules{},
			"https://www.nationalelfservice.net/treatment/psychotherapy/ct-for-ptsd/",
		},
		{"tracking params", "https://example.org/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&MC_X=5&_ga=6&ref_src=twsrc&UTM_Source=x", "", Rules{}, "https://example.org/a"},
		{"other params sorted", "https://example.org/a?z=1&b=2&a=3&a=1", "", Rules{}, "https://example.org/a?a=1&a=3&b=2&z=1"},
		{"empty params dropped", "https://example.org/a?&&q=x&", "", Rules{}, "https://example.org/a?q=x"},
		{"extra strip params", "https://example.org/a?sessionid=9&q=1", "", Rules{ExtraStripParams: []string{"SessionID"}}, "https://example.org/a?q=1"},
		{"double slashes", "https://example.org//a///b/", "", Rules{}, "https://example.org/a/b/"},
		{"dot segments", "https://example.org/a/./b/../c", "", Rules{}, "https://example.org/a/c"},
		{"dot segments above root", "https://example.org/../../a", "", Rules{}, "https://example.org/a"},
		{"escaped dot segments", "https://example.org/a/%2e%2E/b", "", Rules{}, "https://example.org/b"},
		{"escapes upper-cased", "https://example.org/a%2fb?q=%c3%a9", "", Rules{}, "https://example.org/a%2Fb?q=%C3%A9"},
		{"unreserved decoded", "https://example.org/%7Euser/%41%2D%5F", "", Rules{}, "https://example.org/~user/A-_"},
		{"space and unicode escaped", "https://example.org/a b/é", "", Rules{}, "https://example.org/a%20b/%C3%A9"},
		{"plus in query kept", "https://example.org/search?q=a+b", "", Rules{}, "https://example.org/search?q=a+b"},
		{"relative to base", "../b/c?utm_medium=x", "https://example.org/a/x/y", Rules{}, "https://example.org/a/b/c"},
		{"root-relative", "/x", "http://example.org/a/", Rules{}, "https://example.org/x"},
		{"scheme-relative", "//cdn.example.org/f.pdf", "http://example.org/", Rules{}, "https://cdn.example.org/f.pdf"},
		{"surrounding space", "  https://example.org/a \n", "", Rules{}, "https://example.org/a"},
		{"ipv6 host", "http://[::1]:8080/a", "", Rules{}, "https://[::1]:8080/a"},
		{"preferred host from bare", "https://nationalelfservice.net/mental-health/x", "", elf, "https://www.nationalelfservice.net/mental-health/x/"},
		{"preferred host from www", "http://WWW.NationalElfService.net/mental-health/x/", "", elf, "https://www.nationalelfservice.net/mental-health/x/"},
		{"preferred host other site untouched", "https://example.org/a", "", elf, "https://example.org/a/"},
		{"preferred bare host", "https://www.example.org/a", "", Rules{PreferredHost: "example.org"}, "https://example.org/a"},
		{"subdomain not preferred", "https://blog.nationalelfservice.net/a/", "", elf, "https://blog.nationalelfservice.net/a/"},
		{"add slash not to file", "https://www.nationalelfservice.net/cms/wp-content/uploads/2020/01/Report.PDF", "", elf, "https://www.nationalelfservice.net/cms/wp-content/uploads/2020/01/Report.PDF"},
		{"add slash not to root", "https://nationalelfservice.net", "", elf, "https://www.nationalelfservice.net/"},
		{"add slash to version-like segment", "https://example.org/v1.2", "", Rules{TrailingSlash: SlashAdd}, "https://example.org/v1.2/"},
		{"strip slash", "https://kingsfund.org.uk/insight-and-analysis/reports/x/", "", kf, "https://www.kingsfund.org.uk/insight-and-analysis/reports/x"},
		{"strip slash not root", "https://www.kingsfund.org.uk/", "", kf, "https://www.kingsfund.org.uk/"},
		{"keep slash", "https://example.org/a/", "", Rules{TrailingSlash: SlashKeep}, "https://example.org/a/"},
		{"slash before query", "https://example.org/a?x=1", "", Rules{TrailingSlash: SlashAdd}, "https://example.org/a/?x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base *url.URL
			if tt.base != "" {
				base = mustParse(t, tt.base)
			}
			got, err := Normalize(tt.raw, base, tt.r)
			if err != nil {
				t.Fatalf("Normalize(%q) error: %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q)\n got %q\nwant %q", tt.raw, got, tt.want)
			}
			again, err := Normalize(got, nil, tt.r)
			if err != nil || again != got {
				t.Errorf("not idempotent: %q → %q, %v", got, again, err)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		base string
		r    Rules
		want string // substring of the message
	}{
		{"empty", "", "", Rules{}, "empty URL"},
		{"relative without base", "/a/b", "", Rules{}, "not absolute"},
		{"mailto", "mailto:x@example.org", "", Rules{}, `scheme "mailto"`},
		{"javascript", "javascript:alert(1)", "https://example.org/", Rules{}, `scheme "javascript"`},
		{"ftp", "ftp://example.org/f", "", Rules{}, `scheme "ftp"`},
		{"no host", "http:///a", "", Rules{}, "no host"},
		{"opaque", "http:example.org", "", Rules{}, "no host"},
		{"bad escape", "https://example.org/%zz", "", Rules{}, "invalid URL escape"},
		{"bad port", "https://example.org:99999/", "", Rules{}, "invalid port"},
		{"bad host char", "https://exa$mple.org/", "", Rules{}, "host"},
		{"unknown slash policy", "https://example.org/", "", Rules{TrailingSlash: "sometimes"}, "trailing-slash policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base *url.URL
			if tt.base != "" {
				base = mustParse(t, tt.base)
			}
			got, err := Normalize(tt.raw, base, tt.r)
			if err == nil {
				t.Fatalf("Normalize(%q) = %q, want error", tt.raw, got)
			}
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Errorf("error %v does not wrap evidence.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if tt.raw != "" && !strings.Contains(err.Error(), tt.raw) {
				t.Errorf("error %q does not name the URL %q", err, tt.raw)
			}
		})
	}
}

func TestIsWordPressNonItem(t *testing.T) {
	tests := []struct {
		u    string
		want bool
	}{
		{"https://www.nationalelfservice.net/mental-health/depression/some-post/", false},
		{"https://www.nationalelfservice.net/mental-health/the-future-of-the-mental-elf/", false},
		{"https://www.nationalelfservice.net/mental-health/depression/some-post/attachment/figure-1/", true},
		{"https://www.nationalelfservice.net/mental-health/feed/", true},
		{"https://www.nationalelfservice.net/mental-health/feed", true},
		{"https://www.nationalelfservice.net/feed/atom/", true},
		{"https://www.nationalelfservice.net/some-post/feed/", true},
		{"https://www.nationalelfservice.net/feedback-on-services/", false},
		{"https://www.nationalelfservice.net/mental-health/page/2/", true},
		{"https://www.nationalelfservice.net/tag/anxiety/page/3", true},
		{"https://www.nationalelfservice.net/page/about/", false},
		{"https://www.centreformentalhealth.org.uk/?p=1580", true},
		{"https://www.centreformentalhealth.org.uk/?page_id=12", true},
		{"https://www.centreformentalhealth.org.uk/?attachment_id=99", true},
		{"https://www.nationalelfservice.net/mental-health/feed/?paged=2", true},
		{"https://www.centreformentalhealth.org.uk/search?p=depression", false},
		{"https://www.centreformentalhealth.org.uk/news/item/x/amp/", true},
		{"https://www.centreformentalhealth.org.uk/news/item/x/amp", true},
		{"https://www.centreformentalhealth.org.uk/news/item/x/?amp=1", true},
		{"https://www.centreformentalhealth.org.uk/news/item/amplifying-voices/", false},
		{"https://www.centreformentalhealth.org.uk/amp/x/", false},
		{"https://www.centreformentalhealth.org.uk/attachment/", false},
		{"not a url %zz", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.u, func(t *testing.T) {
			if got := IsWordPressNonItem(tt.u); got != tt.want {
				t.Errorf("IsWordPressNonItem(%q) = %v, want %v", tt.u, got, tt.want)
			}
		})
	}
}

func TestDOI(t *testing.T) {
	tests := []struct {
		u, want string
	}{
		{"https://doi.org/10.1192/bjp.2020.1", "10.1192/bjp.2020.1"},
		{"http://dx.doi.org/10.1016/S0140-6736(20)30183-5", "10.1016/s0140-6736(20)30183-5"},
		{"https://doi.org/10.1016%2FS2215-0366%2820%2930168-1", "10.1016/s2215-0366(20)30168-1"},
		{"https://onlinelibrary.wiley.com/doi/full/10.1111/acps.13000", "10.1111/acps.13000"},
		{"https://onlinelibrary.wiley.com/doi/10.1111/acps.13000/abstract", "10.1111/acps.13000"},
		{"https://onlinelibrary.wiley.com/doi/epdf/10.1002/wps.20700", "10.1002/wps.20700"},
		{"https://link.springer.com/content/pdf/10.1007/s00127-020-01234-5.pdf", "10.1007/s00127-020-01234-5"},
		{"https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0123456", "10.1371/journal.pone.0123456"},
		{"https://academic.oup.com/ije/article/46/1/10/2617189?doi=10.1093/ije/dyw123&x=1", "10.1093/ije/dyw123"},
		{"https://doi.org/10.1093/ije/dyw123#abstract", "10.1093/ije/dyw123"},
		{"https://doi.org/10.1136/bmj.m1234.", "10.1136/bmj.m1234"},
		{"(https://doi.org/10.1136/bmj.m1234)", "10.1136/bmj.m1234"},
		{"https://www.nationalelfservice.net/mental-health/depression/x/", ""},
		{"https://pubmed.ncbi.nlm.nih.gov/31234567/", ""},
		{"https://example.org/10.12/too-short-prefix", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.u, func(t *testing.T) {
			if got := DOI(tt.u); got != tt.want {
				t.Errorf("DOI(%q) = %q, want %q", tt.u, got, tt.want)
			}
		})
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"https://www.nationalelfservice.net/treatment/x/?utm_source=rss&utm_medium=rss",
		"http://Example.org:80//a/./b/../c?z=1&a=%7e#f",
		"../rel/path?q=a+b",
		"//cdn.example.org/x.pdf",
		"http://[::1]:8080/%zz",
		"https://user@host/a b/é?x=%2f&&y",
		"mailto:x@example.org",
		"http://bücher.de/",
		"http://000..", // trailing dots: once normalised it must stay put
		"http://example.org./a",
	} {
		f.Add(s, "https://nationalelfservice.net/mental-health/", "add")
	}
	f.Add("/a/b/", "", "strip")
	f.Fuzz(func(t *testing.T, raw, baseStr, slash string) {
		var base *url.URL
		if baseStr != "" {
			b, err := url.Parse(baseStr)
			if err != nil {
				return
			}
			base = b
		}
		r := Rules{PreferredHost: "www.nationalelfservice.net", TrailingSlash: slash, ExtraStripParams: []string{"sid"}}
		out, err := Normalize(raw, base, r)
		if err != nil {
			if !errors.Is(err, evidence.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("output %q does not parse: %v", out, err)
		}
		if u.Scheme != "https" || u.Host == "" || !u.IsAbs() || u.Fragment != "" {
			t.Fatalf("output %q is not an absolute https URL", out)
		}
		again, err := Normalize(out, nil, r)
		if err != nil {
			t.Fatalf("output %q does not re-normalise: %v", out, err)
		}
		if again != out {
			t.Fatalf("not idempotent: %q → %q → %q", raw, out, again)
		}
	})
}
