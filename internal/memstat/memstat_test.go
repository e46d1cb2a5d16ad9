package memstat

import (
	"runtime"
	"testing"
)

func TestPeakRSSGrowsWithUse(t *testing.T) {
	if PeakRSS() == 0 {
		t.Skip("no /proc/self/status here")
	}
	before := PeakRSS()
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	runtime.KeepAlive(buf)
	if after := PeakRSS(); after < before+32<<20 {
		t.Errorf("peak grew from %d to %d bytes after touching 64 MiB", before, after)
	}
}
