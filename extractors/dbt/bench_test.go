package dbt

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt/dbtgen"
	"github.com/weftdata/weft/internal/memstat"
)

// BenchmarkLoad measures what weft snapshot does with a dbt project:
// read the manifest file, parse it, build the graph and the statements.
// Inputs: the largest corpus manifest (with its catalog), and the
// synthetic project of the foundation issue (10,000 models, 2,000
// sources, 50 columns each, a test per model), without and with compiled
// SQL, generated once into a temporary file outside the timed loop.
// Besides time it reports peak-heap-MB, the highest heap seen while the
// loop ran (live data and not yet collected garbage), and VmHWM-MB, the
// process's peak RSS so far (it includes generating the input).
func BenchmarkLoad(b *testing.B) {
	b.Run("corpus_largest", func(b *testing.B) {
		var largest corpusCase
		var size int64
		for _, c := range corpusCases(b) {
			if fi, err := os.Stat(c.manifest); err == nil && fi.Size() > size {
				largest, size = c, fi.Size()
			}
		}
		b.Logf("%s: %d bytes", largest.name, size)
		benchExtract(b, Config{Manifest: largest.manifest, Catalog: largest.catalog, Account: "bench"}, size)
	})
	for _, sql := range []bool{false, true} {
		name := "synthetic_10k"
		if sql {
			name += "_sql"
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "manifest.json")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			opts := dbtgen.Options{Models: 10000, Sources: 2000, Columns: 50, TestsPerModel: 1, SQL: sql, Seed: 1}
			if err := dbtgen.Generate(f, opts); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%d bytes", fi.Size())
			benchExtract(b, Config{Manifest: path, Account: "bench"}, fi.Size())
		})
	}
}

func benchExtract(b *testing.B, cfg Config, size int64) {
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	runtime.GC()
	peak := startPeakSampler()
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		err := e.Extract(ctx, func(batch extractors.Batch) error {
			if len(batch.Graph.Datasets) == 0 || len(batch.Statements) == 0 && strings.Contains(b.Name(), "sql") {
				b.Fatal("empty output")
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peak.stop())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(retained(b, e))/(1<<20), "live-MB")
	memstat.Report(b)
}

// retained is the heap that one Extract's output keeps alive (the batch
// and the manifest text its strings point into), measured between two
// forced collections: the floor under peak-heap-MB, which also counts
// garbage the collector has not reclaimed yet.
func retained(b *testing.B, e *Extractor) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var kept extractors.Batch
	if err := e.Extract(context.Background(), func(batch extractors.Batch) error {
		kept = batch
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

// peakSampler polls the live heap (runtime/metrics is cheap: no stop the
// world) and keeps the maximum.
type peakSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	max  uint64
}

func startPeakSampler() *peakSampler {
	s := &peakSampler{done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > s.max {
			s.max = v
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return s
}

func (s *peakSampler) stop() uint64 {
	close(s.done)
	s.wg.Wait()
	return s.max
}
