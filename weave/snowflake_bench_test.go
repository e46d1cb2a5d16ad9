package weave

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/snowflake"
	"github.com/weftdata/weft/extractors/snowflake/snowgen"
	"github.com/weftdata/weft/internal/memstat"
)

// BenchmarkSnowflakeExportEndToEnd measures the offline Snowflake path end
// to end: 1,000,000 logged queries of 2,000 shapes read from an export
// (streamed, deduplicated per daily chunk), every distinct shape parsed
// once, and the lineage merged into the graph.
func BenchmarkSnowflakeExportEndToEnd(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	path := filepath.Join(b.TempDir(), "history.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := snowgen.Generate(f, snowgen.Options{Queries: n, Shapes: 2000}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	ctx := context.Background()
	memstat.ResetPeak() // this benchmark's own peak, with its input loaded
	b.ResetTimer()
	var st Stats
	var logged int64
	for range b.N {
		e, err := snowflake.New(snowflake.Config{Account: "bench", Export: path})
		if err != nil {
			b.Fatal(err)
		}
		w := New(Options{Columns: true})
		logged = 0
		err = e.Extract(ctx, func(bt extractors.Batch) error {
			for _, s := range bt.Statements {
				logged += max(s.Count, 1)
			}
			w.Add(bt)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, st, err = w.Build(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(logged)*float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	b.ReportMetric(float64(st.Distinct), "parsed")
	b.ReportMetric(float64(st.Statements), "shape_rows")
	memstat.Report(b)
}
