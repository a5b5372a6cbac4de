package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// ResetPeakRSS returns freed memory to the OS and resets the kernel's peak
// resident set size of this process (Linux: "5" to /proc/self/clear_refs),
// so that PeakRSS measures from here; false when it cannot.
func ResetPeakRSS() bool {
	debug.FreeOSMemory() // so the reset starts from what is live, not what a past run left mapped
	return clearRefs()
}

// PeakRSS is the process's peak resident set size (VmHWM from
// /proc/self/status) in bytes; 0 when unknown.
func PeakRSS() uint64 {
	kb, ok := readStatusKB("VmHWM")
	if !ok {
		return 0
	}
	return kb << 10
}

// StartHeapSampler samples the Go heap (runtime/metrics, live and unswept
// objects) every 10 ms until the returned function is called, once, which
// stops the sampling and gives the peak in bytes.
func StartHeapSampler() (stop func() uint64) {
	stopSampler := startSampler(10*time.Millisecond, heapObjects)
	return func() uint64 {
		return max(stopSampler(), heapObjects())
	}
}

// clearRefs resets the kernel's peak resident set size of this process.
func clearRefs() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// startSampler calls read now and then every interval until the returned
// function is called, once, which stops the sampling and gives the largest
// value read.
func startSampler(every time.Duration, read func() uint64) (stop func() uint64) {
	peak := read()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				peak = max(peak, read())
			}
		}
	}()
	return func() uint64 {
		close(quit)
		<-done
		return peak
	}
}

// peakMeter measures the peak memory of a phase. On Linux it resets the
// process's peak resident set size (writing 5 to /proc/self/clear_refs) and
// reads VmHWM from /proc/self/status, which counts memory outside the Go
// heap too (SQLite's allocator). Elsewhere it samples the Go runtime's
// mapped, unreleased memory every few milliseconds.
type peakMeter struct {
	hwm bool

	max  uint64
	stop func() uint64 // the running sampler's; nil when none runs
}

func newPeakMeter() *peakMeter {
	m := &peakMeter{}
	if clearRefs() {
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
	if m.hwm {
		ResetPeakRSS()
		return
	}
	debug.FreeOSMemory()
	m.stop = startSampler(5*time.Millisecond, goMemory)
}

// peak returns the phase's peak in bytes.
func (m *peakMeter) peak() uint64 {
	if m.hwm {
		return PeakRSS()
	}
	m.stopSampler()
	return m.max
}

func (m *peakMeter) stopSampler() {
	if m.stop != nil {
		m.max = m.stop()
		m.stop = nil
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

// heapObjects is the memory of live and unswept heap objects.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
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

// CurrentRSS is the process's resident set size now (VmRSS from
// /proc/self/status) in bytes; 0 when unknown.
func CurrentRSS() uint64 {
	kb, ok := readStatusKB("VmRSS")
	if !ok {
		return 0
	}
	return kb << 10
}

// rssMethod says how the HTTP benchmark's memory figures were read; reset
// is whether ResetPeakRSS worked.
func rssMethod(reset bool) string {
	switch {
	case reset:
		return "resident set of this process, which runs the server and the clients: peak VmHWM (reset before each run) and VmRSS at its end"
	case CurrentRSS() > 0:
		return "resident set of this process, which runs the server and the clients: VmHWM since the start (could not be reset) and VmRSS at the end of each run"
	default:
		return "unknown (no /proc/self/status)"
	}
}
