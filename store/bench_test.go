package store

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weftdata/weft/graph"
)

var (
	benchEdges = flag.Int("store.edges", 1_000_000, "edges BenchmarkCommit merges into the store")
	benchBatch = flag.Int("store.batch", 20_000, "edges per commit in BenchmarkCommit")
)

// benchBatch fills g with edges [lo, hi) of a synthetic query log: 10
// outgoing edges per table over n/10 tables, one evidence each, from 5,000
// query shapes.
func syntheticBatch(g *graph.Graph, lo, hi, n int) {
	tables := max(n/10, 11)
	name := func(i int) graph.DatasetID {
		return graph.DatasetID{Namespace: sf, Name: "ANALYTICS.SCHEMA_" + strconv.Itoa(i%97) + ".T" + strconv.Itoa(i)}
	}
	for i := lo; i < hi; i++ {
		from := (i / 10) % tables
		to := (from + 1 + (i%10)*(tables/11)) % tables
		shape := i % 5000
		g.AddEdge(name(from), name(to), graph.Evidence{
			Extractor: "snowflake",
			Origin:    "snowflake query 01b2c3d4-0000-" + strconv.Itoa(i),
			Method:    "parsed",
			Job:       graph.JobID{Namespace: sf, Name: "shape " + strconv.Itoa(shape)},
			FirstSeen: t0.Add(time.Duration(i) * time.Second),
			LastSeen:  t0.Add(time.Duration(i+shape) * time.Second),
			Count:     int64(1 + i%17),
		})
	}
}

// BenchmarkCommit merges *benchEdges table edges into an empty store, in
// commits of *benchBatch edges, and reports edges/s and the process's peak
// resident memory (Go heap plus SQLite's page cache, which lives outside
// it).
func BenchmarkCommit(b *testing.B) {
	ctx := b.Context()
	n, batch := *benchEdges, *benchBatch
	resetPeakRSS()
	var total time.Duration
	b.StopTimer()
	for range b.N {
		s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		for lo := 0; lo < n; lo += batch {
			hi := min(lo+batch, n)
			g := graph.New()
			syntheticBatch(g, lo, hi, n)
			start := time.Now()
			b.StartTimer()
			_, err := s.Commit(ctx, "snowflake", g, t0.Add(time.Duration(hi)*time.Second), CommitOptions{Now: t0})
			b.StopTimer()
			total += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
		}
		c, err := s.Counts(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if c.Edges != int64(n) || c.EdgeEvidence != int64(n) {
			b.Fatalf("store has %d edges and %d evidence rows, want %d", c.Edges, c.EdgeEvidence, n)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "edges/s")
	if peak := peakRSS(); peak > 0 {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
}

// resetPeakRSS resets the kernel's high-water mark of this process's
// resident memory, where Linux allows it.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns this process's peak resident memory in bytes (VmHWM), or 0
// where /proc is not available.
func peakRSS() int64 {
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
