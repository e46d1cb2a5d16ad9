// Package memstat reads a process's peak memory for benchmarks: the issues'
// memory targets are about peak resident memory, which the Go runtime's
// heap statistics do not show (they miss the manifest bytes, cgo and the
// runtime's own overhead).
package memstat

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// PeakRSS returns this process's peak resident set size in bytes (Linux's
// VmHWM), or 0 where /proc is not available.
func PeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// ResetPeak resets the peak to the current resident size where Linux
// allows it, so that a benchmark reports its own peak rather than that of
// an earlier one in the same process.
func ResetPeak() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// Report reports PeakRSS as the benchmark metric "peak-RSS-MB".
func Report(b *testing.B) {
	if p := PeakRSS(); p > 0 {
		b.ReportMetric(float64(p)/(1<<20), "peak-RSS-MB")
	}
}
