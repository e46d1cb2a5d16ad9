package store

import (
	"flag"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/internal/memstat"
)

var (
	benchEdges = flag.Int("store.edges", 1_000_000, "edges BenchmarkCommit merges into the store")
	benchBatch = flag.Int("store.batch", 20_000, "edges per commit in BenchmarkCommit")
)

// syntheticBatch fills g with edges [lo, hi) of a synthetic query log: 10
// outgoing edges per table over n/10 tables, one evidence each, from 5,000
// query shapes.
func syntheticBatch(g *graph.Graph, lo, hi, n int) { syntheticEdges(g, lo, hi, n, false) }

// syntheticEdges is syntheticBatch, with column edges (from column C<i%20>
// to column C<i%7>) instead of table edges if columns is set.
func syntheticEdges(g *graph.Graph, lo, hi, n int, columns bool) {
	tables := max(n/10, 11)
	name := func(i int) graph.DatasetID {
		return graph.DatasetID{Namespace: sf, Name: "ANALYTICS.SCHEMA_" + strconv.Itoa(i%97) + ".T" + strconv.Itoa(i)}
	}
	for i := lo; i < hi; i++ {
		from := (i / 10) % tables
		to := (from + 1 + (i%10)*(tables/11)) % tables
		shape := i % 5000
		ev := graph.Evidence{
			Extractor: "snowflake",
			Origin:    "snowflake query 01b2c3d4-0000-" + strconv.Itoa(i),
			Method:    "parsed",
			Job:       graph.JobID{Namespace: sf, Name: "shape " + strconv.Itoa(shape)},
			FirstSeen: t0.Add(time.Duration(i) * time.Second),
			LastSeen:  t0.Add(time.Duration(i+shape) * time.Second),
			Count:     int64(1 + i%17),
		}
		if columns {
			g.AddColumnEdge(graph.ColumnEdgeID{
				From: graph.ColumnID{Dataset: name(from), Column: "C" + strconv.Itoa(i%20)},
				To:   graph.ColumnID{Dataset: name(to), Column: "C" + strconv.Itoa(i%7)},
				Type: graph.Direct, Subtype: graph.SubtypeTransformation,
			}, ev)
			continue
		}
		g.AddEdge(name(from), name(to), ev)
	}
}

// BenchmarkCommit merges *benchEdges table edges into an empty store, in
// commits of *benchBatch edges, and reports edges/s and the process's peak
// resident memory (Go heap plus SQLite's page cache, which lives outside
// it).
func BenchmarkCommit(b *testing.B) { benchmarkCommit(b, false) }

// BenchmarkCommitColumnEdges is BenchmarkCommit with column edges.
func BenchmarkCommitColumnEdges(b *testing.B) { benchmarkCommit(b, true) }

func benchmarkCommit(b *testing.B, columns bool) {
	ctx := b.Context()
	n, batch := *benchEdges, *benchBatch
	memstat.ResetPeak()
	var total, totalCPU time.Duration
	b.StopTimer()
	for range b.N {
		s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		for lo := 0; lo < n; lo += batch {
			hi := min(lo+batch, n)
			g := graph.New()
			syntheticEdges(g, lo, hi, n, columns)
			start, startCPU := time.Now(), cpuTime()
			b.StartTimer()
			_, err := s.Commit(ctx, "snowflake", g, t0.Add(time.Duration(hi)*time.Second), CommitOptions{Now: t0})
			b.StopTimer()
			total += time.Since(start)
			totalCPU += cpuTime() - startCPU
			if err != nil {
				b.Fatal(err)
			}
		}
		c, err := s.Counts(ctx)
		if err != nil {
			b.Fatal(err)
		}
		edges, evidence := c.Edges, c.EdgeEvidence
		if columns {
			edges, evidence = c.ColumnEdges, c.ColumnEdgeEvidence
		}
		if edges != int64(n) || evidence != int64(n) {
			b.Fatalf("store has %d edges and %d evidence rows, want %d", edges, evidence, n)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "edges/s")
	// On a shared machine the wall clock also counts other processes' turns;
	// edges per CPU-second (all threads, user and system) does not.
	if totalCPU > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/totalCPU.Seconds(), "edges/cpu-s")
	}
	if peak := memstat.PeakRSS(); peak > 0 {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
}

// BenchmarkGraph reads the current graph of a store holding *benchEdges
// table edges (what `weft snapshot --from-store` does) and reports edges
// read per second and the peak resident memory, graph included.
func BenchmarkGraph(b *testing.B) {
	ctx := b.Context()
	n, batch := *benchEdges, *benchBatch
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for lo := 0; lo < n; lo += batch {
		g := graph.New()
		syntheticBatch(g, lo, min(lo+batch, n), n)
		if _, err := s.Commit(ctx, "snowflake", g, time.Time{}, CommitOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
	memstat.ResetPeak()
	b.ResetTimer()
	for b.Loop() {
		g, err := s.Graph(ctx, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if len(g.Edges) != n {
			b.Fatalf("read %d edges, want %d", len(g.Edges), n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "edges/s")
	if peak := memstat.PeakRSS(); peak > 0 {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
}
