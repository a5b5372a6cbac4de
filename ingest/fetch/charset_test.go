package fetch

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpusDir is the shared miniflux test data, relative to this package.
const corpusDir = "../../../shared/corpora/miniflux-reader-testdata"

// readCorpus returns a file of the shared corpus, skipping the test when the
// shared directory is absent.
func readCorpus(t *testing.T, rel string) []byte {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("../shared not present: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(corpusDir, rel))
	if err != nil {
		t.Fatalf("read corpus file: %v", err)
	}
	return b
}

// assertWellFormedXML parses doc with encoding/xml and no CharsetReader: it
// fails if the prolog still names a non-UTF-8 encoding.
func assertWellFormedXML(t *testing.T, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("converted XML does not parse: %v\n%s", err, doc[:min(len(doc), 300)])
		}
	}
}

func TestToUTF8Corpus(t *testing.T) {
	tests := []struct {
		file        string
		contentType string
		want        []string
		wantCharset string
	}{
		{"encoding/testdata/iso-8859-1.html", "text/html", []string{"Frédéric", "Café"}, "windows-1252"},
		{"encoding/testdata/iso-8859-1-meta-after-1024.html", "text/html", []string{"Frédéric", "Café"}, "windows-1252"},
		{"encoding/testdata/utf8.html", "text/html", []string{"Café"}, "utf-8"},
		{"encoding/testdata/utf8-meta-after-1024.html", "text/html", []string{"Frédéric", "Café"}, "utf-8"},
		{"encoding/testdata/iso-8859-1.html", "text/html; charset=ISO-8859-1", []string{"Frédéric"}, "windows-1252"},
		{"encoding/testdata/iso-8859-1.xml", "application/rss+xml", []string{"Café", "Présentation"}, "windows-1252"},
		{"encoding/testdata/koi8r.xml", "application/rss+xml", []string{"Пример RSS ленты", "Тестовая лента в кодировке KOI8-R"}, "koi8-r"},
		{"encoding/testdata/utf8.xml", "", []string{"테스트 피드", "Café"}, "utf-8"},
		{"encoding/testdata/invalid-prolog.xml", "", []string{"테스트 피드", "Café"}, "utf-8"},
		{"encoding/testdata/utf8-incorrect-prolog.xml", "application/xml", []string{"테스트 피드", "Café"}, "utf-8"},
		{"encoding/testdata/windows-1252.xml", "", []string{"Euro €"}, "windows-1252"},
		{"encoding/testdata/windows-1252-incorrect-prolog.xml", "", []string{"Euro €"}, "utf-8"},
		{"xml/testdata/iso88591.xml", "text/xml", []string{"Anaïs", "Jürgen"}, "windows-1252"},
		{"xml/testdata/iso88591_utf8_mismatch.xml", "text/xml", []string{"Anaïs", "Jürgen"}, "windows-1252"},
		{"xml/testdata/koi8r.xml", "", []string{"Пример RSS ленты"}, "koi8-r"},
		{"parser/testdata/encoding_ISO-8859-1.xml", "application/rss+xml", []string{"Sicherheitslücke", "für"}, "windows-1252"},
		{"parser/testdata/encoding_WINDOWS-1251.xml", "", []string{"Новый цитатник Рунета"}, "windows-1251"},
		{"parser/testdata/no_encoding_ISO-8859-1.xml", "application/rss+xml", []string{"étudiants", "européens"}, "windows-1252"},
		// The header wins over the prolog when it fits the bytes.
		{"parser/testdata/encoding_WINDOWS-1251.xml", "text/xml; charset=windows-1251", []string{"Новый цитатник Рунета"}, "windows-1251"},
		{"parser/testdata/urdu_UTF8.xml", "application/rss+xml; charset=utf-8", []string{"پاکستان کے لیے امریکی امداد"}, "utf-8"},
		{"parser/testdata/rdf_UTF8.xml", "", []string{"Vorsichtsmaßnahmen"}, "utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.contentType, func(t *testing.T) {
			in := readCorpus(t, tt.file)
			out, cs, err := ToUTF8(in, tt.contentType)
			if err != nil {
				t.Fatalf("ToUTF8: %v", err)
			}
			if cs != tt.wantCharset {
				t.Errorf("charset = %q, want %q", cs, tt.wantCharset)
			}
			if !utf8.Valid(out) {
				t.Fatalf("output is not valid UTF-8")
			}
			for _, w := range tt.want {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("output lacks %q", w)
				}
			}
			if strings.HasSuffix(tt.file, ".xml") {
				assertWellFormedXML(t, out)
			}
		})
	}
}

func TestToUTF8(t *testing.T) {
	pad := strings.Repeat("<!-- padding to push the meta past the prescan window -->\n", 30)
	tests := []struct {
		name        string
		in          []byte
		contentType string
		want        string
		wantCharset string
	}{
		{"empty", nil, "", "", "utf-8"},
		{"ascii", []byte("hello"), "text/plain", "hello", "utf-8"},
		{"utf-8 bom stripped", []byte("\xEF\xBB\xBFcafé"), "text/plain; charset=iso-8859-1", "café", "utf-8"},
		{"utf-16le bom", []byte("\xFF\xFEc\x00a\x00f\x00\xE9\x00"), "", "café", "utf-16le"},
		{"utf-16be bom", []byte("\xFE\xFF\x00c\x00a\x00f\x00\xE9"), "text/html; charset=iso-8859-1", "café", "utf-16be"},
		{"utf-16le xml without bom", []byte("<\x00?\x00x\x00m\x00l\x00 \x00?\x00>\x00\xE9\x00"), "", "<?xml ?>é", "utf-16le"},
		{"header windows-1252", []byte("\x80 caf\xE9"), "text/html; charset=windows-1252", "€ café", "windows-1252"},
		{"header iso-8859-1 is windows-1252", []byte("\x93quoted\x94"), "text/plain; charset=\"ISO-8859-1\"", "\u201cquoted\u201d", "windows-1252"},
		{"header ascii-compatible, ascii text", []byte("plain"), "text/plain; charset=koi8-r", "plain", "koi8-r"},
		{"header legacy but body utf-8", []byte("café"), "text/plain; charset=iso-8859-1", "café", "utf-8"},
		{"header utf-8 but body latin-1, meta says so", []byte(`<meta charset="iso-8859-1"><p>caf` + "\xE9"), "text/html; charset=utf-8", "<meta charset=\"iso-8859-1\"><p>café", "windows-1252"},
		{"malformed header still read", []byte("caf\xE9"), "text/plain; charset=latin1; ;", "café", "windows-1252"},
		{"unknown header charset ignored", []byte("café"), "text/plain; charset=klingon", "café", "utf-8"},
		{"meta charset", []byte(`<html><head><meta charset=koi8-r></head><body>` + "\xF0\xD2\xC9\xCD\xC5\xD2"), "text/html", "<html><head><meta charset=koi8-r></head><body>Пример", "koi8-r"},
		{"meta http-equiv", []byte(`<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">` + "\xcd\xee\xe2\xfb\xe9"), "", `<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">Новый`, "windows-1251"},
		{"meta after 1024 bytes", []byte("<html>" + pad + `<meta charset="iso-8859-1"><p>caf` + "\xE9"), "text/html", "<html>" + pad + `<meta charset="iso-8859-1"><p>café`, "windows-1252"},
		{"meta after body ignored", []byte(`<body><meta charset="koi8-r">` + "caf\xE9"), "text/html", `<body><meta charset="koi8-r">café`, "windows-1252"},
		{"meta utf-16 means utf-8", []byte(`<meta charset="utf-16">café`), "text/html", `<meta charset="utf-16">café`, "utf-8"},
		{"meta not read in xml", []byte(`<?xml version="1.0"?><rss><![CDATA[<meta charset="koi8-r">]]>café</rss>`), "", `<?xml version="1.0"?><rss><![CDATA[<meta charset="koi8-r">]]>café</rss>`, "utf-8"},
		{"xml prolog rewritten", []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><a>caf` + "\xE9</a>"), "", `<?xml version="1.0" encoding="utf-8"?><a>café</a>`, "windows-1252"},
		{"xml prolog single quotes", []byte(`<?xml version='1.0' encoding='koi8-r' standalone='yes'?><a>` + "\xF0</a>"), "", `<?xml version='1.0' encoding='utf-8' standalone='yes'?><a>П</a>`, "koi8-r"},
		{"xml unknown encoding, utf-8 body", []byte(`<?xml version="1.0" encoding="invalid"?><a>é</a>`), "", `<?xml version="1.0" encoding="utf-8"?><a>é</a>`, "utf-8"},
		{"no declaration, latin-1", []byte("na\xEFve caf\xE9"), "", "naïve café", "windows-1252"},
		{"mostly utf-8 with a stray byte", []byte("café, crème brûlée \xFF"), "", "café, crème brûlée \uFFFD", "utf-8"},
		{"utf-16 header without nul bytes ignored", []byte("plain café"), "text/plain; charset=utf-16", "plain café", "utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, cs, err := ToUTF8(tt.in, tt.contentType)
			if err != nil {
				t.Fatalf("ToUTF8: %v", err)
			}
			if string(out) != tt.want {
				t.Errorf("out = %q, want %q", out, tt.want)
			}
			if cs != tt.wantCharset {
				t.Errorf("charset = %q, want %q", cs, tt.wantCharset)
			}
		})
	}
}

func TestCharsetFromContent(t *testing.T) {
	tests := map[string]string{
		"text/html; charset=utf-8":         "utf-8",
		"text/html;charset = 'koi8-r'":     "koi8-r",
		`text/html; charset="windows-1252`: "",
		"text/html; charsetx; charset=x1":  "x1",
		"text/html":                        "",
		"charset=":                         "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := charsetFromContent(in); got != want {
				t.Errorf("charsetFromContent(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func FuzzToUTF8(f *testing.F) {
	seeds := [][]byte{
		[]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><a>caf` + "\xE9</a>"),
		[]byte(`<html><head><meta charset="koi8-r"></head><body>` + "\xF0\xD2"),
		[]byte("\xFF\xFEa\x00"),
		[]byte("\xEF\xBB\xBF<?xml version='1.0' encoding='utf-16'?>"),
		[]byte(`<meta http-equiv="content-type" content="text/html; charset=shift_jis">` + "\x82\xa0"),
		[]byte("\x1b$B$\"\x1b(B"),
	}
	for _, s := range seeds {
		f.Add(s, "")
		f.Add(s, "text/html; charset=iso-2022-jp")
	}
	if entries, err := os.ReadDir(filepath.Join(corpusDir, "encoding/testdata")); err == nil {
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(corpusDir, "encoding/testdata", e.Name())); err == nil {
				f.Add(b, "")
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, contentType string) {
		out, cs, _ := ToUTF8(in, contentType)
		if !utf8.Valid(out) {
			t.Fatalf("output is not valid UTF-8: %q", out)
		}
		if cs == "" {
			t.Fatalf("no charset name")
		}
		if bytes.HasPrefix(out, []byte{0xEF, 0xBB, 0xBF}) {
			t.Fatalf("output starts with a BOM")
		}
		if utf8.Valid(in) && !bytes.HasPrefix(in, []byte{0xEF, 0xBB, 0xBF}) && contentType == "" &&
			bytes.IndexByte(in, 0) < 0 && bytes.IndexByte(in, 0x1b) < 0 {
			// Valid UTF-8 with no declaration able to override it comes
			// back unchanged, apart from the XML prolog.
			if _, isXML := xmlPrologEncoding(in); !isXML && !bytes.Equal(out, in) {
				t.Fatalf("valid UTF-8 changed: %q → %q", in, out)
			}
		}
	})
}
