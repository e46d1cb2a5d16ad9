package sqlparse

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzAnalyze checks that Analyze never panics, is deterministic, and that
// every column it names comes from the input text or the schema.
func FuzzAnalyze(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sql"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(string(b), uint8(0))
		}
	}
	dialects := []Dialect{Snowflake, Databricks, Postgres, BigQuery, ANSI}
	f.Fuzz(func(t *testing.T, sql string, di uint8) {
		d := dialects[int(di)%len(dialects)]
		_, db, sch, schema := goldenHeader(sql)
		in := Input{SQL: sql, Dialect: d, DefaultDatabase: db, DefaultSchema: sch}
		// An input that takes seconds is a bug (something superlinear) the
		// fuzzer would otherwise report only as a stall: crash, so it
		// saves the input.
		watchdog := time.AfterFunc(20*time.Second, func() {
			panic(fmt.Sprintf("Analyze took over 20s on a %d-byte input", len(sql)))
		})
		defer watchdog.Stop()
		r1 := Analyze(in, schema)
		r2 := Analyze(in, schema)
		if !reflect.DeepEqual(r1, r2) {
			t.Fatalf("nondeterministic result for %q", sql)
		}
		known := map[string]bool{}
		for _, cols := range schema.tables {
			for _, c := range cols {
				known[strings.ToLower(c)] = true
			}
		}
		// Quoted names unescape doubled quotes.
		lower := strings.ToLower(sql)
		lower += "\x00" + strings.NewReplacer("``", "`", `""`, `"`).Replace(lower)
		check := func(s Source) {
			c := strings.ToLower(s.Column)
			if c == "*" || known[c] || strings.Contains(lower, c) {
				return
			}
			t.Fatalf("source column %q appears neither in the input nor in the schema: %q", s.Column, sql)
		}
		for _, cl := range r1.Columns {
			for _, s := range cl.Sources {
				check(s)
			}
		}
		for _, s := range r1.Indirect {
			check(s)
		}
		_ = Split(sql, d)
		_ = Fingerprint(in)
	})
}
