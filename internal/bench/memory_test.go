package bench

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestStartSamplerKeepsTheLargest(t *testing.T) {
	var calls atomic.Int64
	values := []uint64{3, 9, 4, 1}
	stop := startSampler(time.Millisecond, func() uint64 {
		n := calls.Add(1) - 1
		if n < int64(len(values)) {
			return values[n]
		}
		return 2
	})
	for calls.Load() < int64(len(values)+1) {
		time.Sleep(time.Millisecond)
	}
	if got := stop(); got != 9 {
		t.Errorf("peak = %d, want 9", got)
	}
}

func TestStartHeapSampler(t *testing.T) {
	stop := StartHeapSampler()
	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	peak := stop()
	runtime.KeepAlive(buf)
	if peak < 8<<20 {
		t.Errorf("peak heap = %d bytes, want at least the 8 MiB still live", peak)
	}
}

func TestPeakRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux only")
	}
	if !ResetPeakRSS() {
		t.Skip("cannot reset the peak RSS here (/proc/self/clear_refs)")
	}
	if got := PeakRSS(); got == 0 {
		t.Error("PeakRSS = 0 on Linux, want VmHWM in bytes")
	}
	m := newPeakMeter()
	if !m.hwm {
		t.Fatal("peakMeter does not use VmHWM on Linux")
	}
	m.reset()
	if got := m.peak(); got == 0 {
		t.Error("peakMeter.peak = 0, want VmHWM in bytes")
	}
}

func TestPeakMeterSampling(t *testing.T) {
	m := &peakMeter{} // the non-Linux path: sampled Go memory
	m.reset()
	p := m.peak()
	if p == 0 {
		t.Error("sampled peak = 0, want the Go runtime's memory")
	}
	if again := m.peak(); again != p {
		t.Errorf("second peak() = %d, want the first, %d", again, p)
	}
	m.reset()
	m.reset() // a reset stops the running sampler
	_ = m.peak()
}
