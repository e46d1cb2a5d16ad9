package sqlparse

import (
	"runtime"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// benchInputs runs analysis and the raw pg_query parse of the same texts
// in one benchmark run, so the two figures are comparable.
func benchInputs(b *testing.B, ins []Input) {
	b.Run("analyze", func(b *testing.B) {
		b.ReportAllocs()
		var ms runtime.MemStats
		peak := uint64(0)
		for i := 0; i < b.N; i++ {
			for _, in := range ins {
				Analyze(in, nil)
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak {
				peak = ms.HeapInuse
			}
		}
		b.ReportMetric(float64(b.N*len(ins))/b.Elapsed().Seconds(), "stmts/s")
		b.ReportMetric(float64(len(ins)), "stmts")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	})
	b.Run("pg_query_parse", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, in := range ins {
				_, _ = pg.Parse(in.SQL)
			}
		}
		b.ReportMetric(float64(b.N*len(ins))/b.Elapsed().Seconds(), "stmts/s")
	})
	// The parse Analyze itself must do: the rewritten text, which parses
	// where the original often fails early (and cheaply).
	rws := make([]string, len(ins))
	for i, in := range ins {
		rws[i] = rewrite(in.SQL, lex(in.SQL, optsFor(in.Dialect)), in.Dialect).text
	}
	b.Run("pg_query_parse_rewritten", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, s := range rws {
				_, _ = pg.Parse(s)
			}
		}
		b.ReportMetric(float64(b.N*len(ins))/b.Elapsed().Seconds(), "stmts/s")
	})
}

// parsesAsWritten keeps the inputs pg_query parses without the dialect
// rewrite. On the others its parse stops at the first token PostgreSQL
// does not know (a backtick, a Snowflake ":" path), often the first few
// bytes, so "the raw parse of the same text" times an error, not a parse;
// on these the two figures compare like for like.
func parsesAsWritten(b *testing.B, ins []Input) []Input {
	var ok []Input
	for _, in := range ins {
		if _, err := pg.Parse(in.SQL); err == nil {
			ok = append(ok, in)
		}
	}
	return ok
}

func BenchmarkCorpusCases(b *testing.B) {
	var ins []Input
	for _, c := range loadCases(b) {
		in, _, _ := caseInput(c)
		ins = append(ins, in)
	}
	benchInputs(b, ins)
	b.Run("parses_as_written", func(b *testing.B) { benchInputs(b, parsesAsWritten(b, ins)) })
}

func BenchmarkDBTModels(b *testing.B) {
	var ins []Input
	for _, m := range loadDBTModels(b) {
		ins = append(ins, m.in)
	}
	benchInputs(b, ins)
	b.Run("parses_as_written", func(b *testing.B) { benchInputs(b, parsesAsWritten(b, ins)) })
}
