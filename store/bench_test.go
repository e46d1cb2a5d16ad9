package store

import (
	"cmp"
	"flag"
	"maps"
	"path/filepath"
	"slices"
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

var (
	benchSource = flag.Int("store.source", 20_000, "table edges (and as many column edges) of the source that BenchmarkReplaceSource and BenchmarkExpire end and start")
	benchRounds = flag.Int("store.rounds", 10, "ReplaceSource or Expire calls per benchmark iteration")
)

// syntheticManifest is version k of a dbt project with n table and n
// column edges over n/5 models: each version leaves out a tenth of the
// edges and a twentieth of the models, and brings back those the previous
// version left out, so every ReplaceSource ends and starts edges, splits
// none and ends dataset descriptions.
func syntheticManifest(n, k int) *graph.Graph {
	g := graph.New()
	const ns = "snowflake://acme-dbt"
	models := max(n/5, 2)
	model := func(i int) graph.DatasetID {
		return graph.DatasetID{Namespace: ns, Name: "ANALYTICS.DBT.M" + strconv.Itoa(i%models)}
	}
	for m := range models {
		if (m+k)%20 == 0 {
			continue
		}
		g.AddDataset(graph.Dataset{ID: model(m), Platform: graph.Snowflake, Kind: graph.KindModel,
			Columns: []graph.Column{{Name: "ID", Type: "NUMBER"}, {Name: "V"}}})
	}
	for i := range n {
		if (i+k)%10 == 0 {
			continue
		}
		from, to := model(i/5), model(i/5+1+i%5)
		if from == to {
			continue
		}
		ev := graph.Evidence{Extractor: "dbt", Origin: "model.p.m" + strconv.Itoa((i/5+1+i%5)%models), Method: "depends_on"}
		g.AddEdge(from, to, ev)
		ev.Method = "parsed"
		g.AddColumnEdge(graph.ColumnEdgeID{From: graph.ColumnID{Dataset: from, Column: "V"}, To: graph.ColumnID{Dataset: to, Column: "V"},
			Type: graph.Direct, Subtype: graph.SubtypeTransformation}, ev)
	}
	return g
}

// benchmarkStore returns a store holding others table edges of the
// synthetic Snowflake query log, all recent.
func benchmarkStore(b *testing.B, others int) *Store {
	b.Helper()
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	batch := *benchBatch
	for lo := 0; lo < others; lo += batch {
		g := graph.New()
		syntheticBatch(g, lo, min(lo+batch, others), others)
		if _, err := s.Commit(ctx, "snowflake", g, time.Time{}, CommitOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkReplaceSource replaces a dbt manifest of *benchSource table and
// column edges *benchRounds times, on an empty store and on one holding
// another source's *benchEdges edges. The two should take about the same
// time: ReplaceSource's cost is meant to follow the manifest, not the
// store. It reports the time per replace, the manifest's edges (table and
// column) merged per second, and the peak resident memory.
func BenchmarkReplaceSource(b *testing.B) {
	for _, others := range []int{0, *benchEdges} {
		b.Run("others="+strconv.Itoa(others), func(b *testing.B) {
			ctx := b.Context()
			s := benchmarkStore(b, others)
			n, rounds := *benchSource, *benchRounds
			at := t0
			if _, err := s.ReplaceSource(ctx, "dbt", syntheticManifest(n, 0), CommitOptions{Now: at}); err != nil {
				b.Fatal(err)
			}
			memstat.ResetPeak()
			var ended, edges int64
			var cpu time.Duration
			b.ResetTimer()
			for range b.N {
				for k := 1; k <= rounds; k++ {
					b.StopTimer()
					m := syntheticManifest(n, k)
					at = at.Add(time.Hour)
					startCPU := cpuTime()
					b.StartTimer()
					st, err := s.ReplaceSource(ctx, "dbt", m, CommitOptions{Now: at})
					b.StopTimer()
					cpu += cpuTime() - startCPU
					b.StartTimer()
					if err != nil {
						b.Fatal(err)
					}
					ended += st.EndedEdges + st.EndedColumn
					edges += int64(len(m.Edges) + len(m.ColumnEdges))
				}
			}
			b.StopTimer()
			if ended == 0 {
				b.Fatal("no replace ended an edge")
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*rounds), "ms/replace")
			b.ReportMetric(float64(edges)/b.Elapsed().Seconds(), "edges/s")
			// On a shared machine the wall clock also counts other
			// processes' turns; CPU time (all threads) does not.
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N*rounds), "cpu-ms/replace")
			}
			if peak := memstat.PeakRSS(); peak > 0 {
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			}
		})
	}
}

// BenchmarkExpire expires a query log of *benchSource table edges, half of
// them 40 days old, *benchRounds times (recommitting them between rounds,
// untimed), on an empty store and on one holding another source's
// *benchEdges recent edges, which Expire must leave alone without reading
// them. It reports the time per Expire and the edges it ended per second.
func BenchmarkExpire(b *testing.B) {
	for _, others := range []int{0, *benchEdges} {
		b.Run("others="+strconv.Itoa(others), func(b *testing.B) {
			ctx := b.Context()
			s := benchmarkStore(b, others)
			n, rounds := *benchSource, *benchRounds
			// Another account's log: its own datasets, so that no edge is
			// shared with the other source's and every expired edge ends.
			us := graph.New()
			syntheticBatch(us, 0, n, n)
			log := graph.New()
			eu := func(id graph.DatasetID) graph.DatasetID {
				return graph.DatasetID{Namespace: "snowflake://acme-eu", Name: id.Name}
			}
			i := 0
			byEdge := func(a, b graph.EdgeID) int { return cmp.Or(a.From.Compare(b.From), a.To.Compare(b.To)) }
			for _, id := range slices.SortedFunc(maps.Keys(us.Edges), byEdge) {
				for _, ev := range us.Edges[id].Evidence {
					ev.Extractor = "snowflake_eu"
					if i%2 == 0 {
						ev.LastSeen = ev.LastSeen.Add(-40 * 24 * time.Hour)
					}
					log.AddEdge(eu(id.From), eu(id.To), ev)
				}
				i++
			}
			now := t0.Add(time.Duration(n) * time.Second)
			memstat.ResetPeak()
			var ended int64
			var took, cpu time.Duration
			b.ResetTimer()
			at := now
			for range b.N {
				for range rounds {
					at = at.Add(time.Hour)
					b.StopTimer()
					if _, err := s.Commit(ctx, "snowflake_eu", log, time.Time{}, CommitOptions{Now: at}); err != nil {
						b.Fatal(err)
					}
					start, startCPU := time.Now(), cpuTime()
					b.StartTimer()
					st, err := s.Expire(ctx, now, 0)
					b.StopTimer()
					took += time.Since(start)
					cpu += cpuTime() - startCPU
					if err != nil {
						b.Fatal(err)
					}
					ended += st.EndedEdges
				}
			}
			if ended == 0 {
				b.Fatal("no Expire ended an edge")
			}
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N*rounds), "ms/expire")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N*rounds), "cpu-ms/expire")
			}
			b.ReportMetric(float64(ended)/took.Seconds(), "ended-edges/s")
			if peak := memstat.PeakRSS(); peak > 0 {
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			}
		})
	}
}
