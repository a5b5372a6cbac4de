package evidence_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/evidencetracker/evidence"

// importRules is the package table of ARCHITECTURE.md as code: for each of
// the module's packages (path relative to the module), the import paths
// (prefixes) it may use besides the standard library. A package missing
// from the table fails the test, so a new package states its place here.
// "E" is the module root, whose domain types any package may use; "E/x"
// a package of the module; a trailing "/" admits every path below.
var importRules = map[string][]string{
	".":      {},
	"config": {"E", "E/index/querylang", "github.com/spf13/viper", "github.com/spf13/pflag", "go.yaml.in/yaml/v3"},
	"store":  {"E", "modernc.org/sqlite"},
	"ingest/fetch": {"E", "E/ingest/text", "golang.org/x/net/", "golang.org/x/time/", "golang.org/x/text/",
		"github.com/temoto/robotstxt"},
	"ingest/feed": {"E", "E/ingest/text", "E/ingest/urlnorm", "github.com/mmcdole/gofeed"},
	"ingest/page": {"E", "E/ingest/text", "E/ingest/urlnorm", "github.com/PuerkitoBio/goquery", "golang.org/x/net/"},
	// The importer reads Latin-1 RIS files and normalises Unicode (x/text).
	"ingest/importer": {"E", "E/ingest/text", "E/ingest/urlnorm", "golang.org/x/text/"},
	"ingest/text":     {"golang.org/x/net/"},
	"ingest/urlnorm":  {"E", "golang.org/x/net/"},
	"ingest":          {"E", "E/ingest/"},
	// bbolt: the index's generation record sits in bleve's own store.
	"index":           {"E", "E/index/querylang", "github.com/blevesearch/", "go.etcd.io/bbolt"},
	"index/querylang": {"E"},
	// The editor's note and collection descriptions are Markdown, rendered
	// and sanitised here so the web can reuse the same renderer.
	"digest": {"E", "github.com/yuin/goldmark", "github.com/microcosm-cc/bluemonday"},
	"mail":   {"E", "github.com/wneessen/go-mail", "golang.org/x/time/"},
	// The operations the CLI, the web and the scheduler share, over the
	// concrete parts cmd wires; accounts hash passwords with argon2id.
	"service": {"E", "E/store", "E/mail", "E/index", "E/index/querylang", "E/ingest", "E/ingest/", "E/digest", "E/config",
		"golang.org/x/crypto/argon2",
		// Collections export through the citation writers.
		"E/export"},
	// The web writes citations with export (a leaf over the domain types).
	"web":    {"E", "E/digest", "E/export", "github.com/microcosm-cc/bluemonday"},
	"export": {"E"},
	// The Prometheus client, behind a plain API (web and cmd call it).
	"metrics": {"github.com/prometheus/"},
	// Development tools measure the product's packages.
	"internal/eval":      {"E", "E/index", "E/internal/eval/fts5"},
	"internal/eval/fts5": {"E", "modernc.org/sqlite"},
	"internal/bench": {"E", "E/index", "E/ingest", "E/ingest/", "E/internal/eval", "E/internal/eval/fts5", "E/internal/replay",
		"E/internal/smtptest", "E/store", "E/config", "E/service", "E/mail", "E/digest"},
	"internal/replay":   {},
	"internal/smtptest": {"github.com/emersion/"},
	"cmd/evidence":      {"*"},
}

// exclusive libraries live behind one package each (and cmd, which wires).
var exclusive = map[string][]string{
	"github.com/blevesearch/":        {"index"},
	"github.com/mmcdole/gofeed":      {"ingest/feed"},
	"github.com/PuerkitoBio/goquery": {"ingest/page"},
	"github.com/spf13/viper":         {"config", "cmd/evidence"},
	"github.com/wneessen/go-mail":    {"mail"},
	"modernc.org/sqlite":             {"store", "internal/eval/fts5"},
	"github.com/prometheus/":         {"metrics"},
}

type listedPackage struct {
	ImportPath string
	Imports    []string
}

func goList(t *testing.T) []listedPackage {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(gobin, "list", "-json", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

func isStdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// allowed reports whether rule (from importRules) admits imp.
func allowed(rule, imp string) bool {
	if rule == "*" {
		return true
	}
	if strings.HasPrefix(rule, "E") {
		rule = module + strings.TrimPrefix(rule, "E")
	}
	if strings.HasSuffix(rule, "/") {
		return strings.HasPrefix(imp, rule)
	}
	return imp == rule || strings.HasPrefix(imp, rule+"/") && !strings.HasPrefix(rule, module)
}

// TestImportRules keeps the house's dependency rules (ARCHITECTURE.md):
// arrows point down to the root package, siblings meet through interfaces
// (store, ingest and index never import each other), each third-party
// library stays in its one package.
func TestImportRules(t *testing.T) {
	pkgs := goList(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages: run from the module root", len(pkgs))
	}
	var problems []string
	for _, p := range pkgs {
		name := rel(p.ImportPath)
		rules, ok := importRules[name]
		if !ok {
			problems = append(problems, name+": not in the package table (add it to importRules and say why in ARCHITECTURE.md)")
			continue
		}
		for _, imp := range p.Imports {
			if isStdlib(imp) {
				continue
			}
			if !slices.ContainsFunc(rules, func(r string) bool { return allowed(r, imp) }) {
				problems = append(problems, name+" imports "+imp)
			}
			for lib, owners := range exclusive {
				if strings.HasPrefix(imp, lib) && !slices.Contains(owners, name) {
					problems = append(problems, name+" imports "+imp+", which only "+strings.Join(owners, ", ")+" may use")
				}
			}
		}
	}
	sort.Strings(problems)
	for _, p := range slices.Compact(problems) {
		t.Error(p)
	}
}

// TestAllowedRule pins the matching of the table's entries.
func TestAllowedRule(t *testing.T) {
	tests := []struct {
		rule, imp string
		want      bool
	}{
		{"E", module, true},
		{"E", module + "/store", false},
		{"E/ingest/", module + "/ingest/fetch", true},
		{"E/ingest/text", module + "/ingest/textx", false},
		{"E/index/querylang", module + "/index/querylang", true},
		{"github.com/blevesearch/", "github.com/blevesearch/bleve/v2/mapping", true},
		{"github.com/mmcdole/gofeed", "github.com/mmcdole/gofeed/rss", true},
		{"github.com/mmcdole/gofeed", "github.com/mmcdole/gofeedx", false},
		{"golang.org/x/net/", "golang.org/x/net/html", true},
		{"*", "anything.example/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.rule+"→"+tt.imp, func(t *testing.T) {
			if got := allowed(tt.rule, tt.imp); got != tt.want {
				t.Errorf("allowed(%q, %q) = %v, want %v", tt.rule, tt.imp, got, tt.want)
			}
		})
	}
}
