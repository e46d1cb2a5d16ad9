package snowflake

import (
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
	"github.com/weftdata/weft/extractors/snowflake/snowgen"
	"github.com/weftdata/weft/internal/memstat"
)

// genExport writes a raw export of n logged queries of shapes query shapes
// over 7 days (see snowgen).
func genExport(path string, n, shapes int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := snowgen.Generate(f, snowgen.Options{Queries: n, Shapes: shapes}); err != nil {
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
	memstat.Report(b)
}
