package snowflake

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weftdata/weft/extractors"
)

// genExport writes a raw export of n logged queries of shapes query shapes
// over 7 days, each with ACCESS_HISTORY column lineage, like a busy
// account's QUERY_HISTORY ⋈ ACCESS_HISTORY.
func genExport(path string, n, shapes int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC)
	step := 7 * 24 * time.Hour / time.Duration(n)
	for i := range n {
		s := (i * 7919) % shapes
		ts := start.Add(time.Duration(i) * step)
		src, dst := fmt.Sprintf("RAW.S%d.SRC_%d", s%20, s), fmt.Sprintf("ANALYTICS.M%d.T_%d", s%10, s)
		fmt.Fprintf(w, `{"QUERY_ID":"01bd%04x-0602-%04x-0000-%012x","QUERY_TEXT":"INSERT INTO %s (ID, AMOUNT, STATUS) SELECT id, amount * 1.%d, status FROM %s WHERE loaded_at > '%s' AND batch_id = %d","QUERY_TYPE":"INSERT",`+
			`"START_TIME":"%s","DATABASE_NAME":"ANALYTICS","SCHEMA_NAME":"M%d","USER_NAME":"ETL_%d","ROLE_NAME":"ETL","WAREHOUSE_NAME":"ETL_WH","SESSION_ID":%d,"QUERY_TAG":"","EXECUTION_STATUS":"SUCCESS",`+
			`"QUERY_PARAMETERIZED_HASH":"%032x","ROOT_QUERY_ID":null,`+
			`"DIRECT_OBJECTS_ACCESSED":[{"objectDomain":"Table","objectName":"%s","columns":[{"columnName":"ID"},{"columnName":"AMOUNT"},{"columnName":"STATUS"},{"columnName":"LOADED_AT"}]}],"BASE_OBJECTS_ACCESSED":null,`+
			`"OBJECTS_MODIFIED":[{"objectDomain":"Table","objectName":"%s","columns":[{"columnName":"ID","directSources":[{"columnName":"ID","objectDomain":"Table","objectName":"%s"}]},{"columnName":"AMOUNT","directSources":[{"columnName":"AMOUNT","objectDomain":"Table","objectName":"%s"}]}]}]}`+"\n",
			i>>16, i&0xffff, i, dst, s%7, src, ts.Format("2006-01-02"), i, ts.Format("2006-01-02 15:04:05.000 -0700"), s%10, s%5, 1000+i/500, s, src, dst, src, src)
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// bench holds the generated export, made once per test binary run (the
// benchmark function is called several times: b.N = 1, then the real N)
// and removed by TestMain.
var bench struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func benchFile() (string, error) {
	bench.once.Do(func() {
		n := 1_000_000
		if testing.Short() {
			n = 100_000
		}
		bench.dir, bench.err = os.MkdirTemp("", "weft-snowflake-bench")
		if bench.err != nil {
			return
		}
		bench.path = filepath.Join(bench.dir, fmt.Sprintf("history_%d.jsonl", n))
		_, bench.err = genExport(bench.path, n, 2000)
	})
	return bench.path, bench.err
}

// peakRSS returns the process's peak resident set size in MB (Linux), or 0.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkExport measures the offline path end to end except parsing
// (the extractor must not import sqlparse): read and decode 1,000,000
// logged queries of 2,000 shapes, deduplicate, and build the batches.
// It reports logged queries per second and the peak heap.
func BenchmarkExport(b *testing.B) {
	path, err := benchFile()
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(Config{Account: "acme-bench", Export: path})
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	runtime.GC()
	b.ResetTimer()
	var queries, shapes int64
	for range b.N {
		queries, shapes = 0, 0
		err := e.Extract(context.Background(), func(bt extractors.Batch) error {
			for _, st := range bt.Statements {
				queries += st.Count
				shapes++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	if !strings.Contains(path, fmt.Sprint(queries)) {
		b.Fatalf("counted %d queries", queries)
	}
	b.ReportMetric(float64(queries)*float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	b.ReportMetric(float64(shapes), "shapes")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(peakRSS(), "peak-RSS-MB")
}
