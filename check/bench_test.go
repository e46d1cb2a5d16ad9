package check

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/extractors/dbt/dbtgen"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/internal/memstat"
	"github.com/weftdata/weft/weave"
)

// BenchmarkSyntheticDroppedColumn checks the 10,000-model synthetic
// manifest (dbtgen, compiled SQL) whose PR drops one staging column that
// about 500 downstream models read, against the base graph of the
// unchanged manifest. Each iteration is what weft check --base does after
// reading the files: decode the base graph, load the PR and weave it with
// column lineage (incremental: only the changed model and its downstream
// are analysed; full: every model, as --full), run the rules. Target:
// under 5 s on 2 cores. Run one sub-benchmark per process for its peak_MB.
func BenchmarkSyntheticDroppedColumn(b *testing.B) {
	var man bytes.Buffer
	if err := dbtgen.Generate(&man, dbtgen.Options{Models: 10000, Sources: 2000, Columns: 50, SQL: true, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	base := weaveManifest(b, man.Bytes())
	var encoded bytes.Buffer
	if err := graph.Encode(&encoded, base.g); err != nil {
		b.Fatal(err)
	}
	model, column, readers := pickColumn(b, base, 500)
	pr := dropColumn(b, man.Bytes(), model, column)
	prodName := base.project.Node("model.synthetic." + model).Relation.Name
	b.Logf("PR drops %s.%s, read by %d downstream models; base graph %d MB, %d column edges",
		model, column, readers, encoded.Len()>>20, len(base.g.ColumnEdges))
	base = built{}
	runtime.GC()
	for _, full := range []bool{false, true} {
		name := "incremental"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			var findings []Finding
			var decode, load, weaving, rules time.Duration
			var analysed int
			for range b.N {
				t0 := time.Now()
				g, err := graph.Decode(bytes.NewReader(encoded.Bytes()))
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				p, err := dbt.Load(context.Background(), pr, nil, nil, dbt.Options{Account: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				prb, err := BuildPR(context.Background(), p, g, BuildOptions{Full: full})
				if err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				findings = Run(Input{Base: g, PR: prb.Graph, Project: p, Outputs: prb.Outputs})
				decode, load, weaving, rules = decode+t1.Sub(t0), load+t2.Sub(t1), weaving+t3.Sub(t2), rules+time.Since(t3)
				analysed = prb.Analysed
			}
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(decode.Seconds()/n, "decode_base_s")
			b.ReportMetric(load.Seconds()/n, "load_pr_s")
			b.ReportMetric(weaving.Seconds()/n, "weave_pr_s")
			b.ReportMetric(rules.Seconds()/n, "rules_s")
			b.ReportMetric(float64(analysed), "analysed")
			f := find(b, findings, RuleRemovedColumn, strings.ToUpper(prodName+"."+column))
			if got := datasetsOf(f.Affected); got < 200 || affectedCount(f) < readers {
				b.Fatalf("finding lists %d datasets of %d affected, want the %d readers: %s", got, affectedCount(f), readers, f.Message)
			}
			b.ReportMetric(float64(affectedCount(f)), "affected")
			memstat.Report(b)
		})
	}
}

func weaveManifest(b *testing.B, man []byte) built {
	b.Helper()
	ctx := context.Background()
	p, err := dbt.Load(ctx, man, nil, nil, dbt.Options{Account: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	w := weave.New(weave.Options{Columns: true, Workers: runtime.GOMAXPROCS(0)})
	w.Add(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
	g, _, err := w.Build(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return built{project: p, g: g, outputs: w.Outputs()}
}

// pickColumn finds an intermediate model's column, selected by name in
// its SQL, whose downstream reaches the number of models closest to want.
func pickColumn(b *testing.B, base built, want int) (model, column string, readers int) {
	b.Helper()
	c := &checker{base: base.g, pr: base.g}
	c.index()
	best := -1
	for i := 2003; i < 7500; i += 61 {
		n := base.project.Node("model.synthetic.m_" + pad(i))
		if n == nil || n.Relation.IsZero() {
			continue
		}
		for _, col := range []string{"col_04", "col_08"} {
			if !strings.Contains(n.CompiledSQL, "    base."+col+",\n") {
				continue
			}
			id := graph.ColumnID{Dataset: n.Relation, Column: strings.ToUpper(col)}
			got := datasetsOf(c.downstreamOfColumn(id))
			if best < 0 || abs(got-want) < abs(best-want) {
				best, model, column = got, "m_"+pad(i), col
			}
		}
	}
	if best < 0 {
		b.Fatal("no candidate column")
	}
	return model, column, best
}

func pad(i int) string { s := strconv.Itoa(i); return strings.Repeat("0", 5-len(s)) + s }

func abs(n int) int { return max(n, -n) }

func datasetsOf(as []Affected) int {
	seen := map[string]bool{}
	for _, a := range as {
		seen[a.Name] = true
	}
	return len(seen)
}

// dropColumn removes column from model's compiled SQL and YAML columns.
func dropColumn(b testing.TB, man []byte, model, column string) []byte {
	b.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(man, &doc); err != nil {
		b.Fatal(err)
	}
	var nodes map[string]map[string]json.RawMessage
	if err := json.Unmarshal(doc["nodes"], &nodes); err != nil {
		b.Fatal(err)
	}
	n := nodes["model.synthetic."+model]
	var sql string
	if err := json.Unmarshal(n["compiled_code"], &sql); err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(sql, "\n")
	out := lines[:0]
	for _, l := range lines {
		if t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), ",")); strings.HasSuffix(t, " "+column) || strings.HasSuffix(t, "."+column) || t == column {
			continue
		}
		out = append(out, l)
	}
	if len(out) == len(lines) {
		b.Fatalf("%s does not select %s:\n%s", model, column, sql)
	}
	var cols map[string]json.RawMessage
	if err := json.Unmarshal(n["columns"], &cols); err != nil {
		b.Fatal(err)
	}
	delete(cols, column)
	n["compiled_code"] = mustJSON(b, strings.Join(out, "\n"))
	n["columns"] = mustJSON(b, cols)
	doc["nodes"] = mustJSON(b, nodes)
	return mustJSON(b, doc)
}

func mustJSON(b testing.TB, v any) []byte {
	b.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
