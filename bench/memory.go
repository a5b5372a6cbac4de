package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// peakMeter measures the peak memory of a phase. On Linux it resets the
// process's peak resident set size (writing 5 to /proc/self/clear_refs) and
// reads VmHWM from /proc/self/status, which counts memory outside the Go
// heap too (SQLite's allocator). Elsewhere it samples the Go runtime's
// mapped, unreleased memory every few milliseconds.
type peakMeter struct {
	hwm bool

	mu   sync.Mutex
	max  uint64
	stop chan struct{}
	done chan struct{}
}

func newPeakMeter() *peakMeter {
	m := &peakMeter{}
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err == nil {
		if _, ok := readStatusKB("VmHWM"); ok {
			m.hwm = true
		}
	}
	return m
}

func (m *peakMeter) method() string {
	if m.hwm {
		return "peak resident set size (VmHWM, reset before each engine's load)"
	}
	return "sampled Go runtime memory (runtime/metrics, every 5 ms; misses memory allocated outside the Go heap)"
}

// reset starts a new phase after collecting garbage and returning freed
// memory to the system.
func (m *peakMeter) reset() {
	m.stopSampler()
	runtime.GC()
	debug.FreeOSMemory()
	if m.hwm {
		_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
		return
	}
	m.mu.Lock()
	m.max = goMemory()
	m.mu.Unlock()
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	go m.sample(m.stop, m.done)
}

// peak returns the phase's peak in bytes.
func (m *peakMeter) peak() uint64 {
	if m.hwm {
		kb, _ := readStatusKB("VmHWM")
		return kb << 10
	}
	m.stopSampler()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max
}

func (m *peakMeter) stopSampler() {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop, m.done = nil, nil
	}
}

func (m *peakMeter) sample(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			v := goMemory()
			m.mu.Lock()
			m.max = max(m.max, v)
			m.mu.Unlock()
		}
	}
}

// goMemory is the memory the Go runtime has mapped and not released.
func goMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// readStatusKB reads a "Key:   123 kB" line of /proc/self/status.
func readStatusKB(key string) (uint64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		return n, err == nil
	}
	return 0, false
}
