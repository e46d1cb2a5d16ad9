package weave

import (
	"bytes"
	"context"
	"runtime"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/extractors/dbt/dbtgen"
	"github.com/weftdata/weft/internal/memstat"
)

// BenchmarkSyntheticColumnLineage measures the time from a 10,000-model
// manifest with realistic compiled SQL (CTEs, joins, aggregates, select *
// from upstream models) to the full column-level graph, on all cores.
func BenchmarkSyntheticColumnLineage(b *testing.B) {
	var man bytes.Buffer
	if err := dbtgen.Generate(&man, dbtgen.Options{Models: 10000, Sources: 2000, Columns: 50, SQL: true, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(man.Len()))
	memstat.ResetPeak() // this benchmark's own peak, with its input loaded
	b.ResetTimer()
	var edges, statements int
	for range b.N {
		p, err := dbt.Load(ctx, man.Bytes(), nil, nil, dbt.Options{Account: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		w := New(Options{Columns: true, Workers: runtime.GOMAXPROCS(0)})
		w.Add(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
		g, st, err := w.Build(ctx)
		if err != nil {
			b.Fatal(err)
		}
		edges, statements = len(g.ColumnEdges), st.Statements
		if st.Full == 0 {
			b.Fatalf("no statement parsed fully: %+v", st)
		}
	}
	b.ReportMetric(float64(statements)*float64(b.N)/b.Elapsed().Seconds(), "models/s")
	b.ReportMetric(float64(edges), "column_edges")
	memstat.Report(b)
}

// BenchmarkCorpusColumnLineage measures the largest real manifest in the
// corpus (with its catalog) to the full column-level graph.
func BenchmarkCorpusColumnLineage(b *testing.B) {
	var largest corpusProject
	for _, p := range corpusProjects(b) {
		if len(p.manifest) > len(largest.manifest) {
			largest = p
		}
	}
	ctx := context.Background()
	memstat.ResetPeak() // this benchmark's own peak, with its input loaded
	b.ResetTimer()
	var models int
	for range b.N {
		p, err := dbt.Load(ctx, largest.manifest, largest.catalog, nil, dbt.Options{Account: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		w := New(Options{Columns: true})
		w.Add(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
		if _, _, err := w.Build(ctx); err != nil {
			b.Fatal(err)
		}
		models = len(p.Statements())
	}
	b.ReportMetric(float64(models)*float64(b.N)/b.Elapsed().Seconds(), "models/s")
	b.Logf("%s: %d models with SQL", largest.name, models)
	memstat.Report(b)
}
