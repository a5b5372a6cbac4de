package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidencetracker/evidence/index"
)

// cli runs the CLI in this process (no binary build) on a data directory.
type cli struct {
	t      *testing.T
	data   string
	config string
	// readOnly makes reading commands open the data directory read-only,
	// as they do when it is not writable (root ignores permission bits,
	// so tests cannot make it so).
	readOnly bool
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	c := &cli{t: t, data: filepath.Join(dir, "data"), config: filepath.Join(dir, "evidence.yaml")}
	// Nothing listens on port 9: an ingest fails at once, no retries.
	cfg := "fetch:\n  retries: 0\n  connect_to: ['www.kingsfund.org.uk=127.0.0.1:9']\nindex:\n  lock_wait: 0s\n"
	if err := os.WriteFile(c.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, readOnly: c.readOnly}
	code = a.run(context.Background(), append([]string{"--config", c.config, "--data", c.data, "--log-level", "error"}, args...))
	return out.String(), errb.String(), code
}

// fill imports n King's Fund items with bodies through the CLI.
func (c *cli) fill(n int) {
	c.t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"title":"Social care funding report number %d","url":"https://www.kingsfund.org.uk/insight-and-analysis/reports/funding-%03d","summary":"About funding.","body":%q}`+"\n",
			i, i, strings.Repeat(fmt.Sprintf("Body of report %d on social care funding. ", i), 30))
	}
	file := filepath.Join(c.t.TempDir(), "items.jsonl")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		c.t.Fatal(err)
	}
	if _, stderr, code := c.run("import", file, "--json"); code != 0 {
		c.t.Fatalf("import exited %d: %s", code, stderr)
	}
}

// TestDamagedStoreIsNamed: every command that meets a damaged evidence.db
// names the file and says what to do; nothing replaces it.
func TestDamagedStoreIsNamed(t *testing.T) {
	every := [][]string{
		{"search", "funding"},
		{"show", "https://www.kingsfund.org.uk/insight-and-analysis/reports/funding-001"},
		{"sources"},
		{"topics"},
		{"check"},
		{"reindex"},
		{"ingest", "--source", "kings-fund"},
		{"import", "/dev/null", "--format", "jsonl"},
	}
	// Damage is met by the commands that read the damaged pages; those
	// below read every item. (Damage that a command does not read, say a
	// page of other items under `show ID`, is not looked for: a full
	// integrity check on every open would cost a scan of the file.)
	readAll := [][]string{{"search", "funding"}, {"show", "https://www.kingsfund.org.uk/insight-and-analysis/reports/funding-001"},
		{"sources"}, {"check"}, {"reindex"}}
	damages := []struct {
		name     string
		damage   func(t *testing.T, path string)
		want     string
		commands [][]string
		same     bool // the file must stay byte for byte as damaged
	}{
		{"0-byte file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is not an SQLite database (0 bytes)", every, true},
		{"damaged after its first page", func(t *testing.T, path string) {
			// Page 1 (header, schema) is intact, so the file opens as
			// SQLite; the tables' pages are garbage, so SQLite itself
			// reports "database disk image is malformed" when they are
			// read.
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, int(fi.Size())-4096), 4096); err != nil {
				t.Fatal(err)
			}
		}, "is damaged", readAll, false},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			c := newCLI(t)
			c.fill(300)
			path := filepath.Join(c.data, "evidence.db")
			if _, err := os.Stat(path + "-wal"); err == nil {
				t.Fatal("WAL left after the import: the damage would not be seen")
			}
			d.damage(t, path)
			before, _ := os.ReadFile(path)
			for _, args := range d.commands {
				t.Run(strings.Join(args, " "), func(t *testing.T) {
					_, stderr, code := c.run(args...)
					if code != 1 || !strings.Contains(stderr, path) || !strings.Contains(stderr, d.want) ||
						!strings.Contains(stderr, "evidence ingest --backfill") {
						t.Errorf("exit %d, stderr %q: want exit 1 naming %s, %q and what to do", code, stderr, path, d.want)
					}
				})
			}
			after, _ := os.ReadFile(path)
			if d.same && !bytes.Equal(before, after) {
				t.Errorf("the damaged file was changed (%d → %d bytes)", len(before), len(after))
			}
			if len(after) < len(before) || !bytes.HasPrefix(after, before[:min(len(before), 16)]) {
				t.Errorf("the damaged file was replaced or truncated (%d → %d bytes)", len(before), len(after))
			}
		})
	}
}

// TestReadOnlyDataDir: with the data directory read-only, search, show,
// sources and topics open the store (mode=ro, no migration) and the index
// (read_only) and work, changing nothing.
func TestReadOnlyDataDir(t *testing.T) {
	c := newCLI(t)
	c.fill(5)
	path := filepath.Join(c.data, "evidence.db")
	before, _ := os.ReadFile(path)
	c.readOnly = true
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "funding", "--json"}, `"total": 5`},
		{[]string{"show", "https://www.kingsfund.org.uk/insight-and-analysis/reports/funding-002"}, "Social care funding report number 2"},
		{[]string{"sources", "--json"}, `"kings-fund"`},
		{[]string{"topics", "--json"}, `"name"`},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			out, stderr, code := c.run(tc.args...)
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, stdout %.300q, stderr %q: want %q", code, out, stderr, tc.want)
			}
		})
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a read-only command changed the store file")
	}
	// (SQLite may create empty -wal and -shm files for a mode=ro reader
	// in a writable directory; in a read-only one it cannot, and does not
	// need to.)
	for _, f := range []string{"index.bleve/evidence_lock_owner"} {
		if _, err := os.Stat(filepath.Join(c.data, f)); err == nil {
			t.Errorf("%s written by a read-only command", f)
		}
	}
}

// TestLockedIndex: with the index held by another process (here a second
// open file, which bolt locks the same way), commands give up after
// index.lock_wait naming the holder, and ingest still prints its table.
func TestLockedIndex(t *testing.T) {
	c := newCLI(t)
	c.fill(3)
	holder, err := index.Open(context.Background(), index.Options{Path: filepath.Join(c.data, "index.bleve"), Owner: "evidence reindex (holder)"})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	pid := fmt.Sprintf("pid %d", os.Getpid())
	for _, args := range [][]string{{"search", "funding"}, {"reindex"}, {"ingest", "--source", "kings-fund"}} {
		t.Run(args[0], func(t *testing.T) {
			out, stderr, code := c.run(args...)
			if code != 1 || !strings.Contains(stderr, "in use by another process") || !strings.Contains(stderr, pid) ||
				!strings.Contains(stderr, "evidence reindex (holder)") {
				t.Errorf("exit %d, stderr %q: want exit 1 naming %s", code, stderr, pid)
			}
			if args[0] == "ingest" && !strings.Contains(out, "SOURCE") {
				t.Errorf("ingest printed no per-source table: stdout %q", out)
			}
		})
	}
}
