package weave

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// reportPeakRSS reports the process's peak resident set size (VmHWM) in MB:
// the figure the issues' memory targets are about.
func reportPeakRSS(b *testing.B) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err == nil {
				b.ReportMetric(float64(kb)/1024, "peak_MB")
			}
		}
	}
}
