package databricks

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/weftdata/weft/graph"
)

// lineageColumns is the result schema of weft's column_lineage query.
var lineageColumns = []string{
	"source_table_full_name", "source_path", "source_type", "source_column_name",
	"target_table_full_name", "target_path", "target_type", "target_column_name",
	"entity_type", "entity_id", "entity_run_id", "job_id", "job_run_id",
	"first_seen", "last_seen", "event_count",
}

// genColumnChunk writes chunk n of a generated column_lineage result, as
// GET .../result/chunks/{n} returns it: rows [first, first+count) of a
// workload with 20,000 distinct column pairs (1,000 source tables, 500
// targets, 50 jobs) each seen in 50 runs. Every 50th row has a NULL
// source path-less read (target NULL) like real data.
func genColumnChunk(buf *bytes.Buffer, n, first, count, total int) {
	buf.Reset()
	fmt.Fprintf(buf, `{"chunk_index":%d,"row_offset":%d,"row_count":%d,`, n, first, count)
	if first+count < total {
		fmt.Fprintf(buf, `"next_chunk_index":%d,"next_chunk_internal_link":"/api/2.0/sql/statements/s/result/chunks/%d",`, n+1, n+1)
	}
	buf.WriteString(`"data_array":[`)
	for i := first; i < first+count; i++ {
		if i > first {
			buf.WriteByte(',')
		}
		p := i % 20000
		run := i / 20000
		job := 1000 + p%50
		jobRun := strconv.Itoa(900000000 + run*100 + p%50)
		day := 1 + run%28
		target := fmt.Sprintf(`"main.marts.fct_%d"`, p/40)
		tcol := fmt.Sprintf(`"col_%d"`, p%40)
		if i%50 == 49 {
			target, tcol = "null", "null"
		}
		fmt.Fprintf(buf, `["main.staging.stg_%d",null,"TABLE","col_%d",%s,null,"TABLE",%s,"JOB","%d","%s","%d","%s","2024-11-%02dT06:00:00.000Z","2024-11-%02dT06:05:00.000Z","1"]`,
			p/20, p%20, target, tcol, job, jobRun, job, jobRun, day, day)
	}
	buf.WriteString(`]}`)
}

// BenchmarkColumnLineage decodes 1,000,000 generated column_lineage rows,
// as the Statement Execution API's JSON chunks of 10,000 rows, into graph
// column edges. It reports rows/s and the peak live heap (sampled after
// every chunk).
func BenchmarkColumnLineage(b *testing.B) {
	const total, per = 1_000_000, 10_000
	var buf bytes.Buffer
	var peak uint64
	var ms runtime.MemStats
	var edges int
	for range b.N {
		b.StopTimer()
		runtime.GC()
		d := newDecoder("adb-1.2.azuredatabricks.net", "databricks://adb-1.2.azuredatabricks.net")
		g := graph.New()
		ld, err := d.newLineageDecoder(g, lineageColumn, lineageColumns)
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n*per < total; n++ {
			genColumnChunk(&buf, n, n*per, per, total)
			b.StartTimer()
			rd, err := decodeChunk("bench", buf.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			if err := ld.decodeChunk(rd); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		edges = len(g.ColumnEdges)
		if ld.rows != total {
			b.Fatalf("decoded %d rows, want %d", ld.rows, total)
		}
		runtime.KeepAlive(g)
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(edges), "column-edges")
}
