// Package index is Evidence Tracker's full-text index: a derived copy of the
// store, kept in a bleve index on disk, that can always be thrown away and
// rebuilt. It is the only package that imports bleve; no bleve type appears
// in its exported API.
//
// Analysis (analysis.go): titles, summaries and bodies go through an English
// chain (possessives, lower case, UK→US spelling from data/spelling.txt,
// stop words, Porter stemming) and then get a concept token wherever a term
// of a synonym group (data/synonyms.csv plus Options.SynonymsFile) appears,
// so CBT and "cognitive behavioural therapy" meet at index time, in every
// field, without needing phrase positions. Scoring is BM25; title,
// summary and body are weighted 3, 2, 1. The analysis is fingerprinted: an
// index built with another one is ErrCorrupt and gets rebuilt.
//
// Queries (package querylang, then plan.go) are parsed, analysed into a plan
// and run as bleve queries with facet counts and, when little is found, a
// "did you mean" suggestion from the index's own words (suggest.go). Topics
// (tagger.go) are queries too: the Tagger evaluates each topic's plan
// against an item in memory when Index writes it.
package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	bolt "go.etcd.io/bbolt"

	"github.com/evidencetracker/evidence"
)

// ErrCorrupt means the directory at Options.Path holds something that cannot
// be opened as an index of this version (damaged files, foreign data, or an
// older/newer mapping). Remove it and rebuild from the store.
var ErrCorrupt = errors.New("index: corrupt or incompatible")

// ErrLocked means another process (or another Index in this process) has the
// index open. It is not corruption: do not rebuild, wait or stop the other user.
var ErrLocked = errors.New("index: in use by another process")

// DefaultBatchSize is the number of items written per batch when
// Options.BatchSize is zero.
const DefaultBatchSize = 1000

// lockAttempt is how long one attempt waits for the index's file lock
// before Open reports progress (Options.OnLockWait) and tries again, until
// Options.LockWait has passed.
const lockAttempt = 2 * time.Second

// ownerFile, written in the index directory while an Index is open for
// writing, names the process holding it (pid, command line, start), so a
// command that finds the index locked can say who holds it.
const ownerFile = "evidence_lock_owner"

// metaFile is the file bleve writes at the top of every index directory.
const metaFile = "index_meta.json"

// Options configures an Index.
type Options struct {
	// Path is the index directory. It is created if missing.
	Path string
	// Logger receives debug and info messages; nil discards them.
	Logger *slog.Logger
	// BatchSize is how many items Index writes per batch (default 1000).
	BatchSize int
	// Analysis selects the analysis steps; nil means DefaultAnalysis().
	// An index built with other steps (or other spelling or synonym data)
	// is reported as ErrCorrupt on Open, so the caller rebuilds it.
	Analysis *Analysis
	// SynonymsFile names a CSV file of synonym groups (see ParseSynonyms)
	// used as well as the embedded ones; empty for none.
	SynonymsFile string
	// Synonyms are more synonym groups, as if read from a file.
	Synonyms []SynonymGroup
	// Topics is the taxonomy: Index tags every item with the topics whose
	// query it matches (see Tagger). Empty means no tagging; items keep
	// only their own Topics.
	Topics []Topic
	// ReadOnly opens an existing index for searching only (bleve's
	// read_only): nothing is created or written; a missing index is an
	// error wrapping evidence.ErrNotFound.
	ReadOnly bool
	// LockWait is how long Open waits for an index another process holds
	// before failing with ErrLocked (naming the holder); 0 tries once.
	LockWait time.Duration
	// OnLockWait, if set, is called every few seconds while Open waits,
	// with the time waited so far and the holder ("pid 123: evidence
	// reindex", or "" when unknown), to show progress.
	OnLockWait func(waited time.Duration, holder string)
	// Owner describes this process in the lock-owner file (default: its
	// command line).
	Owner string
	// Now is the clock for the wait (default time.Now).
	Now func() time.Time
}

// spec builds the analysis spec opts describe, reading SynonymsFile.
func (opts Options) spec() (*spec, error) {
	a := DefaultAnalysis()
	if opts.Analysis != nil {
		a = *opts.Analysis
	}
	extra := opts.Synonyms
	if opts.SynonymsFile != "" && a.Synonyms {
		gs, err := ReadSynonymsFile(opts.SynonymsFile)
		if err != nil {
			return nil, err
		}
		extra = append(append([]SynonymGroup(nil), extra...), gs...)
	}
	return newSpec(a, extra)
}

// Index is an open full-text index. Its methods are safe for concurrent use.
type Index struct {
	bi        bleve.Index
	path      string
	log       *slog.Logger
	batchSize int
	// hashesPage is how many documents Hashes reads per search.
	hashesPage int

	closeMu sync.Mutex
	closed  bool
	// refs counts Retain calls not yet matched by Close.
	refs int

	readOnly     bool
	ownerWritten bool

	// writeMu serialises batches so each gets the next generation.
	writeMu sync.Mutex
	gen     uint64
	// published is gen as readers may see it (Generation), set after
	// each commit without taking writeMu.
	published atomic.Uint64

	spec        *spec
	planner     *planner
	lengths     lengths
	counter     *tokenCounter
	tagger      *Tagger
	topicsStale bool
}

// Open opens the index at opts.Path, creating it if the directory does not
// exist or is empty. If the directory exists but cannot be opened as an
// index with the current mapping version the error wraps ErrCorrupt; if it
// is held by another process the error wraps ErrLocked.
func Open(ctx context.Context, opts Options) (*Index, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("index: open: %w", err)
	}
	if opts.Path == "" {
		return nil, fmt.Errorf("index: open: empty path: %w", evidence.ErrInvalid)
	}
	if opts.BatchSize < 0 {
		return nil, fmt.Errorf("index: open: batch size %d: %w", opts.BatchSize, evidence.ErrInvalid)
	}
	x := &Index{path: opts.Path, log: opts.Logger, batchSize: opts.BatchSize, hashesPage: 1000, counter: newTokenCounter()}
	_ = x.lengths.load(nil)
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	if x.batchSize == 0 {
		x.batchSize = DefaultBatchSize
	}
	sp, err := opts.spec()
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", opts.Path, err)
	}
	x.spec, x.planner = sp, newPlanner(sp)
	if x.tagger, err = newTagger(opts.Topics, x.planner, sp.fingerprint()); err != nil {
		return nil, err
	}
	for _, w := range x.tagger.Warnings() {
		x.log.Warn(w)
	}

	create, err := needsCreate(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", opts.Path, err)
	}
	x.readOnly = opts.ReadOnly
	if create && opts.ReadOnly {
		return nil, fmt.Errorf("index: open %s read-only: no index there (run `evidence reindex` with write access): %w", opts.Path, evidence.ErrNotFound)
	}
	if create {
		if err := x.create(); err != nil {
			return nil, err
		}
	} else if err := x.openWaiting(ctx, opts); err != nil {
		return nil, err
	}
	if !opts.ReadOnly {
		x.writeOwner(opts.Owner)
	}
	return x, nil
}

// openWaiting opens the existing index, waiting up to opts.LockWait for a
// lock another process holds, in attempts of lockAttempt, reporting each
// wait to opts.OnLockWait. Giving up, it names the holder.
func (x *Index) openWaiting(ctx context.Context, opts Options) error {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("index: open %s: waiting for the lock: %w", x.path, err)
		}
		left := opts.LockWait - now().Sub(start)
		err := x.open(min(max(left, 50*time.Millisecond), lockAttempt))
		if !errors.Is(err, ErrLocked) {
			return err
		}
		holder := lockHolder(x.path)
		waited := now().Sub(start)
		if waited >= opts.LockWait {
			if holder != "" {
				return fmt.Errorf("index: open %s: %w (%s) after waiting %s (index.lock_wait): wait for it to finish or stop it",
					x.path, ErrLocked, holder, waited.Round(time.Second))
			}
			return fmt.Errorf("index: open %s: %w (holder unknown) after waiting %s (index.lock_wait)",
				x.path, ErrLocked, waited.Round(time.Second))
		}
		if opts.OnLockWait != nil {
			opts.OnLockWait(waited, holder)
		} else {
			x.log.Info("index in use by another process; waiting", "path", x.path, "holder", holder,
				"waited", waited.Round(time.Second).String(), "lock_wait", opts.LockWait.String())
		}
	}
}

// WaitFree waits up to opts.LockWait (reporting to opts.OnLockWait every
// few seconds) while another process has the index at opts.Path open, then
// returns nil, or an error wrapping ErrLocked that names the holder. A
// rebuild calls it before it marks anything for re-indexing.
func WaitFree(ctx context.Context, opts Options) error {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	for {
		held, err := lockHeld(opts.Path)
		if err != nil {
			return fmt.Errorf("index: %s: %w", opts.Path, err)
		}
		if !held {
			return nil
		}
		holder := lockHolder(opts.Path)
		waited := now().Sub(start)
		if waited >= opts.LockWait {
			if holder == "" {
				holder = "holder unknown"
			}
			return fmt.Errorf("index: %s: %w (%s) after waiting %s (index.lock_wait): wait for it to finish or stop it",
				opts.Path, ErrLocked, holder, waited.Round(time.Second))
		}
		if opts.OnLockWait != nil {
			opts.OnLockWait(waited, holder)
		}
		t := time.NewTimer(min(lockAttempt, opts.LockWait-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("index: %s: waiting for the lock: %w", opts.Path, ctx.Err())
		case <-t.C:
		}
	}
}

// lockHeld reports whether another open file holds the lock of the
// index's root bolt file (bleve's writer lock, shared by readers).
func lockHeld(path string) (bool, error) {
	f, err := os.Open(filepath.Join(path, "store", "root.bolt"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case err == nil:
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, nil
	default:
		return false, fmt.Errorf("test lock: %w", err)
	}
}

// lockOwner is the content of the lock-owner file.
type lockOwner struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
}

// writeOwner records this process as the index's writer. A failure only
// loses the holder's name in another process's message, so it is logged.
func (x *Index) writeOwner(command string) {
	if command == "" {
		command = strings.Join(os.Args, " ")
	}
	b, err := json.Marshal(lockOwner{PID: os.Getpid(), Command: command, Started: time.Now().UTC()})
	if err == nil {
		err = os.WriteFile(filepath.Join(x.path, ownerFile), b, 0o644)
	}
	if err != nil {
		x.log.Warn("index: cannot record the lock owner", "path", x.path, "err", err)
		return
	}
	x.ownerWritten = true
}

// lockHolder describes the process named in the lock-owner file of the
// index at path, "" if there is none or it cannot be read.
func lockHolder(path string) string {
	b, err := os.ReadFile(filepath.Join(path, ownerFile))
	if err != nil {
		return ""
	}
	var o lockOwner
	if err := json.Unmarshal(b, &o); err != nil || o.PID <= 0 {
		return ""
	}
	desc := fmt.Sprintf("pid %d: %s, since %s", o.PID, o.Command, o.Started.Local().Format("2006-01-02 15:04:05"))
	if !processAlive(o.PID) {
		desc += "; that process has ended, so another one holds it"
	}
	return desc
}

// processAlive reports whether a process with pid exists (kill -0).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// needsCreate reports whether path is absent or an empty directory.
func needsCreate(path string) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("not a directory: %w", ErrCorrupt)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return false, err
	}
	return len(entries) == 0, nil
}

func (x *Index) create() error {
	// bleve refuses to create into an existing, even empty, directory.
	if err := os.Remove(x.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("index: create %s: %w", x.path, err)
	}
	m, err := newMapping(x.spec)
	if err != nil {
		return err
	}
	bi, err := bleve.New(x.path, m)
	if err != nil {
		return fmt.Errorf("index: create %s: %w", x.path, err)
	}
	for _, kv := range []struct{ key, val []byte }{
		{internalVersionKey, []byte(MappingVersion)},
		{internalAnalysisKey, []byte(x.spec.fingerprint())},
		{internalTopicsKey, []byte(x.tagger.Fingerprint())},
	} {
		if err := bi.SetInternal(kv.key, kv.val); err != nil {
			_ = bi.Close()
			return fmt.Errorf("index: create %s: write %s: %w", x.path, kv.key, err)
		}
	}
	x.bi = bi
	x.log.Info("index created", "path", x.path, "mapping_version", MappingVersion)
	return nil
}

func (x *Index) open(lockTimeout time.Duration) (err error) {
	// Damaged segment files can make the storage layer panic rather than
	// return an error; treat that as corruption too.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("index: open %s: panic %v: %w", x.path, r, ErrCorrupt)
		}
	}()
	cfg := map[string]any{"bolt_timeout": lockTimeout.String()}
	if x.readOnly {
		cfg["read_only"] = true
	}
	bi, err := bleve.OpenUsing(x.path, cfg)
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return fmt.Errorf("index: open %s: %w", x.path, ErrLocked)
		}
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("index: open %s: %w", x.path, err)
		}
		return fmt.Errorf("index: open %s: %w (%w)", x.path, ErrCorrupt, err)
	}
	v, err := bi.GetInternal(internalVersionKey)
	if err != nil {
		_ = bi.Close()
		return fmt.Errorf("index: open %s: read mapping version: %w (%w)", x.path, ErrCorrupt, err)
	}
	if string(v) != MappingVersion {
		_ = bi.Close()
		return fmt.Errorf("index: open %s: mapping version %q, want %q: %w", x.path, v, MappingVersion, ErrCorrupt)
	}
	if a, err := bi.GetInternal(internalAnalysisKey); err != nil || string(a) != x.spec.fingerprint() {
		_ = bi.Close()
		return fmt.Errorf("index: open %s: built with other analysis (spelling, synonyms or options changed): %w", x.path, ErrCorrupt)
	}
	if err := x.checkTopics(bi); err != nil {
		_ = bi.Close()
		return fmt.Errorf("index: open %s: %w", x.path, err)
	}
	gen, err := x.checkGeneration(bi)
	if err != nil {
		_ = bi.Close()
		return fmt.Errorf("index: open %s: %w", x.path, err)
	}
	raw, err := bi.GetInternal(internalLengthsKey)
	if err == nil {
		err = x.lengths.load(raw)
	}
	if err != nil {
		_ = bi.Close()
		return fmt.Errorf("index: open %s: %w (%w)", x.path, ErrCorrupt, err)
	}
	x.bi = bi
	x.gen = gen
	x.published.Store(gen)
	x.log.Debug("index opened", "path", x.path)
	return nil
}

// checkTopics compares the taxonomy the index was tagged with to the
// current one. An empty index simply takes the new one; otherwise the index
// is marked stale (see TopicsStale) and a warning logged.
func (x *Index) checkTopics(bi bleve.Index) error {
	have, err := bi.GetInternal(internalTopicsKey)
	if err != nil {
		return fmt.Errorf("read topics fingerprint: %w (%w)", ErrCorrupt, err)
	}
	want := x.tagger.Fingerprint()
	if string(have) == want {
		return nil
	}
	n, err := bi.DocCount()
	if err != nil {
		return fmt.Errorf("count documents: %w", err)
	}
	if n == 0 && !x.readOnly {
		return bi.SetInternal(internalTopicsKey, []byte(want))
	}
	x.topicsStale = true
	x.log.Warn("the topic taxonomy has changed since the index was built; run `evidence reindex` to re-tag every item", "path", x.path)
	return nil
}

// TopicsStale reports whether the index was tagged with another taxonomy
// (or analysis) than the one it was opened with: run a rebuild to re-tag.
func (x *Index) TopicsStale() bool { return x.topicsStale }

// Generations detect silent rollback. When the segment files of the newest
// snapshot are damaged, bleve's scorch engine falls back to an older intact
// snapshot (and only logs it), so Open would succeed on an index that has
// lost writes. Every batch therefore stores a generation number inside the
// index and, once the batch is persisted, in a small file beside it; an index
// whose own generation is behind the file's has been rolled back and is
// reported as ErrCorrupt. A file that is behind or missing (a crash between
// the two writes, a restored copy) is accepted.
const generationFile = "evidence_generation"

var internalGenerationKey = []byte("evidence.generation")

// checkGeneration returns bi's generation, or an error wrapping ErrCorrupt if
// it is behind the generation file.
func (x *Index) checkGeneration(bi bleve.Index) (uint64, error) {
	raw, err := bi.GetInternal(internalGenerationKey)
	if err != nil {
		return 0, fmt.Errorf("read generation: %w (%w)", ErrCorrupt, err)
	}
	var gen uint64
	if len(raw) > 0 {
		if gen, err = strconv.ParseUint(string(raw), 10, 64); err != nil {
			return 0, fmt.Errorf("generation %q: %w", raw, ErrCorrupt)
		}
	}
	raw, err = os.ReadFile(filepath.Join(x.path, generationFile))
	if errors.Is(err, fs.ErrNotExist) {
		return gen, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read generation file: %w", err)
	}
	want, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("generation file %q: %w", raw, ErrCorrupt)
	}
	if gen < want {
		return 0, fmt.Errorf("index rolled back to generation %d, last written %d: %w", gen, want, ErrCorrupt)
	}
	return gen, nil
}

// Generation is the number of the index's last committed batch: it changes
// whenever a document is added, changed or deleted, so a cache of search
// results can tell whether it is out of date.
func (x *Index) Generation() uint64 { return x.published.Load() }

// commit writes b as the next generation, with the length statistics of
// its documents (nil for none).
func (x *Index) commit(b *bleve.Batch, delta *lengthStats) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	next := x.gen + 1
	b.SetInternal(internalGenerationKey, []byte(strconv.FormatUint(next, 10)))
	done := func() {}
	if delta != nil {
		var raw []byte
		raw, done = x.lengths.merged(*delta)
		b.SetInternal(internalLengthsKey, raw)
	}
	if err := x.bi.Batch(b); err != nil {
		return err
	}
	done()
	x.gen = next
	x.published.Store(next)
	tmp := filepath.Join(x.path, generationFile+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(next, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("record generation: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(x.path, generationFile)); err != nil {
		return fmt.Errorf("record generation: %w", err)
	}
	return nil
}

// Remove deletes the index directory at path, so it can be rebuilt. A missing
// path is not an error. To avoid deleting the wrong thing, a non-empty
// directory is removed only if it looks like a bleve index. An index
// another process has open is not removed under it: the error wraps
// ErrLocked and names the holder (WaitFree waits for it).
func Remove(path string) error {
	if path == "" {
		return fmt.Errorf("index: remove: empty path: %w", evidence.ErrInvalid)
	}
	if held, err := lockHeld(path); err != nil {
		return fmt.Errorf("index: remove %s: %w", path, err)
	} else if held {
		if h := lockHolder(path); h != "" {
			return fmt.Errorf("index: remove %s: %w (%s)", path, ErrLocked, h)
		}
		return fmt.Errorf("index: remove %s: %w (holder unknown)", path, ErrLocked)
	}
	entries, err := os.ReadDir(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("index: remove %s: %w", path, err)
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(path, metaFile)); err != nil {
			return fmt.Errorf("index: remove %s: no %s, not an index: %w", path, metaFile, evidence.ErrInvalid)
		}
	}
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("index: remove %s: %w", path, err)
	}
	return nil
}

// Close releases the index. Closing twice is harmless; other methods fail
// after Close.
func (x *Index) Close() error {
	x.closeMu.Lock()
	defer x.closeMu.Unlock()
	if x.closed {
		return nil
	}
	if x.refs > 0 {
		x.refs--
		return nil
	}
	x.closed = true
	if x.ownerWritten {
		_ = os.Remove(filepath.Join(x.path, ownerFile))
	}
	if err := x.bi.Close(); err != nil {
		return fmt.Errorf("index: close %s: %w", x.path, err)
	}
	return nil
}

// Retain lets one more user Close the index: it is closed by the Close
// that matches Open once every Retain has had its Close. A server shares
// its open index with the commands it runs this way.
func (x *Index) Retain() *Index {
	x.closeMu.Lock()
	defer x.closeMu.Unlock()
	x.refs++
	return x
}

// Index adds or replaces the documents for items, keyed by Item.ID, writing
// BatchSize items per batch. Each document's topics are the item's own
// Topics and the topics the Tagger finds; items themselves are not changed. The context is checked between batches; items
// in batches already written stay indexed.
func (x *Index) Index(ctx context.Context, items []evidence.Item) error {
	for start := 0; start < len(items); start += x.batchSize {
		if err := x.indexBatch(ctx, items[start:min(start+x.batchSize, len(items))]); err != nil {
			return err
		}
	}
	return nil
}

// indexBatch writes one batch of items.
func (x *Index) indexBatch(ctx context.Context, items []evidence.Item) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("index: index items: %w", err)
	}
	for i := range items {
		if items[i].ID == "" {
			return fmt.Errorf("index: index item %q: empty ID: %w", items[i].URL, evidence.ErrInvalid)
		}
	}
	topics, toks := x.tagger.tagAll(items)
	b := x.bi.NewBatch()
	delta := newLengthStats()
	for i := range items {
		it := &items[i]
		nfb, err := x.add(b, it, topics[i], toks[i])
		if err != nil {
			return fmt.Errorf("index: index item %s: %w", it.ID, err)
		}
		x.counter.itemLengths(&delta, it.Title, it.Summary, it.Body, it.Authors)
		if nfb > 0 {
			delta.Docs[fieldFeedback]++
			delta.Tokens[fieldFeedback] += uint64(nfb)
		}
	}
	if err := x.commit(b, &delta); err != nil {
		return fmt.Errorf("index: index items: %w", err)
	}
	x.log.Debug("indexed batch", "items", len(items))
	return nil
}

// add adds it to b with topics and returns the number of terms in its
// feedback field. toks is the item's analysis (Tagger.tagAll): the
// document's title, summary and body reuse it rather than being analysed
// again.
func (x *Index) add(b *bleve.Batch, it *evidence.Item, topics []string, toks *itemTokens) (int, error) {
	data := itemDoc(it, topics)
	fb, n := feedbackText(toks, it.Body)
	if n > 0 {
		data[fieldFeedback] = fb
	}
	doc := document.NewDocument(it.ID)
	if err := x.bi.Mapping().MapDocument(doc, data); err != nil {
		return 0, err
	}
	reuseTokens(doc, toks)
	return n, b.IndexAdvanced(doc)
}

// reuseTokens makes doc's title, summary and body fields take their tokens
// from toks instead of analysing their text.
func reuseTokens(doc *document.Document, toks *itemTokens) {
	for i, f := range doc.Fields {
		tf, ok := f.(*document.TextField)
		if !ok {
			continue
		}
		a := &analysedText{}
		switch tf.Name() {
		case fieldTitle:
			a.ts = toks[0]
		case fieldSummary:
			a.ts = toks[1]
		case fieldBody:
			a.ts, a.noOffsets = toks[2], true
		default:
			continue
		}
		doc.Fields[i] = document.NewTextFieldCustom(tf.Name(), tf.ArrayPositions(), tf.Value(), tf.Options(), a)
	}
}

// analysedText is an analyzer that returns tokens already made. bleve
// analyses each field once, so it lets go of them then, to keep a batch's
// memory down.
type analysedText struct {
	mu sync.Mutex
	ts analysis.TokenStream
	// noOffsets zeroes the tokens' byte offsets: a body's term vectors
	// serve phrases, which need positions only (bodies are never
	// highlighted), and offsets of 0 take a byte each in the index
	// instead of two or three per location.
	noOffsets bool
}

func (a *analysedText) Analyze([]byte) analysis.TokenStream {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.ts
	a.ts = nil
	if a.noOffsets {
		for _, t := range ts {
			t.Start, t.End = 0, 0
		}
	}
	return ts
}

// Delete removes the documents with the given IDs. Unknown IDs are ignored.
func (x *Index) Delete(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += x.batchSize {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("index: delete: %w", err)
		}
		end := min(start+x.batchSize, len(ids))
		b := x.bi.NewBatch()
		for _, id := range ids[start:end] {
			b.Delete(id)
		}
		if err := x.commit(b, nil); err != nil {
			return fmt.Errorf("index: delete: %w", err)
		}
		x.log.Debug("deleted batch", "ids", end-start)
	}
	return nil
}

// Count returns the number of documents in the index.
func (x *Index) Count() (uint64, error) {
	n, err := x.bi.DocCount()
	if err != nil {
		return 0, fmt.Errorf("index: count: %w", err)
	}
	return n, nil
}

// Hashes returns the stored content hash of every document, keyed by ID, so
// a caller can find items that are missing from the index or stale in it.
func (x *Index) Hashes(ctx context.Context) (map[string]string, error) {
	out := make(map[string]string)
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), x.hashesPage, 0, false)
		req.Fields = []string{fieldHash}
		req.SortBy([]string{"_id"})
		if after != nil {
			req.SearchAfter = after
		}
		res, err := x.bi.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("index: hashes: %w", err)
		}
		for _, h := range res.Hits {
			s, _ := h.Fields[fieldHash].(string)
			out[h.ID] = s
		}
		if len(res.Hits) < x.hashesPage {
			return out, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

// SizeBytes returns the total size of the files in the index directory.
func (x *Index) SizeBytes() (int64, error) {
	var n int64
	err := filepath.WalkDir(x.path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			// Segments may be merged away while we walk.
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("index: size %s: %w", x.path, err)
	}
	return n, nil
}
