package databricks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weftdata/weft/extractors"
)

// fuzzNames are the export files FuzzExport can replace or add: every
// file of the demo export and one name for each kind it lacks.
func fuzzNames(f *testing.F) (names []string, demo map[string][]byte) {
	f.Helper()
	entries, err := os.ReadDir(demoExport)
	if err != nil {
		f.Fatal(err)
	}
	demo = map[string][]byte{}
	for _, e := range entries {
		if fileKind(e.Name()) == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(demoExport, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		demo[e.Name()] = b
		names = append(names, e.Name())
	}
	names = append(names, "jobs-list.json", "job-7.json", "queries.json", "query-abc.json", "openlineage.json",
		"pipelines.json", "lineage-table-main.risk.features.json", "lineage-column-main.risk.features.amount.json")
	return names, demo
}

// FuzzExport replaces one file of the demo export (or adds one of a kind
// the demo lacks) with arbitrary bytes and extracts the export: no
// panics, an error names the file, and what is emitted keeps the
// contract: statements with SQL, a dialect, a namespace and an origin,
// evidence with an extractor and an origin, watermarks that never go
// back. Seeds are the demo's files and small documents of each kind.
func FuzzExport(f *testing.F) {
	names, demo := fuzzNames(f)
	for i, n := range names {
		if b, ok := demo[n]; ok {
			f.Add(uint8(i), b)
		}
	}
	index := func(name string) uint8 {
		for i, n := range names {
			if n == name {
				return uint8(i)
			}
		}
		f.Fatalf("no fuzz name %s", name)
		return 0
	}
	for name, doc := range map[string]string{
		"jobs-list.json":                        `{"jobs":[{"job_id":7,"settings":{"name":"j","tasks":[{"task_key":"t","sql_task":{"query":{"query_id":"abc"}}}]}}]}`,
		"job-7.json":                            `{"job_id":7,"settings":{"name":"j"}}`,
		"queries.json":                          `{"results":[{"id":"abc","query_text":"insert into main.a.b select 1","catalog":"main","schema":"a"}]}`,
		"query-abc.json":                        `{"id":"abc","query":"insert into main.a.b select 1"}`,
		"openlineage.json":                      `[{"eventType":"COMPLETE","run":{"runId":"r1"},"job":{"namespace":"n","name":"j"},"inputs":[{"namespace":"databricks://h","name":"main.a.b"}],"outputs":[{"namespace":"databricks://h","name":"main.a.c","facets":{"columnLineage":{"fields":{"x":{"inputFields":[{"namespace":"databricks://h","name":"main.a.b","field":"x"}]}}}}}]}]`,
		"pipelines.json":                        `{"statuses":[{"pipeline_id":"p1","name":"dlt","spec":{"catalog":"main","target":"a"}}]}`,
		"lineage-table-main.risk.features.json": `{"upstreams":[{"tableInfo":{"name":"t","catalog_name":"main","schema_name":"raw"}}]}`,
		"lineage-column-main.risk.features.amount.json": `{"upstream_cols":[{"name":"amt","catalog_name":"main","schema_name":"raw","table_name":"t"}]}`,
		"query-history.json":                            `{"res":[{"query_id":"q1","status":"FINISHED","statement_type":"INSERT","query_text":"insert into main.a.b select 1","query_start_time_ms":1732665600000}]}`,
		"table_lineage.json":                            `{"manifest":{"schema":{"columns":[{"name":"source_table_full_name"},{"name":"target_table_full_name"}]}},"result":{"data_array":[["main.a.b","main.a.c"]]}}`,
	} {
		f.Add(index(name), []byte(doc))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := names[int(which)%len(names)]
		// The fuzzer has no timeout: crash the worker on a hang so that it
		// records the input.
		hang := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("%s of %d bytes still extracting after 10s: %q", name, len(data), data))
		})
		defer hang.Stop()
		dir := t.TempDir()
		for n, b := range demo {
			if n != name {
				if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := New(Config{Name: "ml", Host: "https://adb-4711.12.azuredatabricks.net", Export: dir})
		if err != nil {
			t.Fatal(err)
		}
		var last time.Time
		err = e.Extract(context.Background(), func(b extractors.Batch) error {
			if !b.Watermark.IsZero() {
				if b.Watermark.Before(last) {
					t.Fatalf("watermark %v after %v", b.Watermark, last)
				}
				last = b.Watermark
			}
			for _, s := range b.Statements {
				o := s.Origin
				if strings.TrimSpace(s.SQL) == "" || s.Dialect == "" || s.Namespace == "" || o.Extractor == "" ||
					(o.File == "" && o.NodeID == "" && o.QueryID == "" && o.RunID == "") {
					t.Fatalf("incomplete statement %+v", s)
				}
			}
			if g := b.Graph; g != nil {
				for _, e := range g.Edges {
					for _, ev := range e.Evidence {
						if ev.Extractor == "" || ev.Origin == "" {
							t.Fatalf("edge %s -> %s: incomplete evidence %+v", e.From, e.To, ev)
						}
					}
				}
				for _, e := range g.ColumnEdges {
					for _, ev := range e.Evidence {
						if ev.Extractor == "" || ev.Origin == "" {
							t.Fatalf("column edge %s -> %s: incomplete evidence %+v", e.From, e.To, ev)
						}
					}
				}
			}
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), name) {
			t.Fatalf("error does not name %s: %v", name, err)
		}
	})
}
