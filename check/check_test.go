package check

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/weave"
)

// model is a compact description of a dbt model for test manifests.
type model struct {
	sql      string   // compiled SQL; "{{s}}" is the raw source, "{{m:name}}" a model relation
	deps     []string // model names and "source:loans"
	columns  []string // documented columns
	contract bool
}

const ns = "snowflake://acme"

func relation(name string) string { return "ANALYTICS.MARTS." + strings.ToUpper(name) }

// manifest renders a v12 manifest with one source (raw.core.loans) and the
// given models.
func manifest(models map[string]model) []byte {
	nodes := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(models)) {
		m := models[name]
		sql := strings.ReplaceAll(m.sql, "{{s}}", "RAW.CORE.LOANS")
		for other := range models {
			sql = strings.ReplaceAll(sql, "{{m:"+other+"}}", relation(other))
		}
		var deps []string
		for _, d := range m.deps {
			if src, ok := strings.CutPrefix(d, "source:"); ok {
				deps = append(deps, "source.acme.core."+src)
			} else {
				deps = append(deps, "model.acme."+d)
			}
		}
		cols := map[string]any{}
		for _, c := range m.columns {
			cols[c] = map[string]any{"name": c, "description": "", "data_type": "number"}
		}
		nodes["model.acme."+name] = map[string]any{
			"unique_id": "model.acme." + name, "resource_type": "model", "name": name,
			"package_name": "acme", "path": name + ".sql", "original_file_path": "models/" + name + ".sql",
			"database": "ANALYTICS", "schema": "MARTS", "alias": name, "relation_name": relation(name),
			"config":        map[string]any{"enabled": true, "materialized": "table", "contract": map[string]any{"enforced": m.contract}},
			"contract":      map[string]any{"enforced": m.contract},
			"columns":       cols,
			"depends_on":    map[string]any{"nodes": deps, "macros": []string{}},
			"raw_code":      "-- " + name + "\n" + m.sql,
			"compiled_code": sql, "language": "sql",
		}
	}
	doc := map[string]any{
		"metadata": map[string]any{
			"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
			"dbt_version":        "1.8.0", "adapter_type": "snowflake", "project_name": "acme",
		},
		"nodes": nodes,
		"sources": map[string]any{
			"source.acme.core.loans": map[string]any{
				"unique_id": "source.acme.core.loans", "resource_type": "source", "name": "loans",
				"source_name": "core", "package_name": "acme", "original_file_path": "models/sources.yml",
				"database": "RAW", "schema": "CORE", "identifier": "LOANS", "relation_name": "RAW.CORE.LOANS",
				"columns": map[string]any{},
			},
		},
		"exposures": map[string]any{}, "metrics": map[string]any{}, "disabled": map[string]any{},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// catalog gives the source its columns and types, and optionally the
// models' column types.
func catalog(types map[string]map[string]string) []byte {
	nodes := map[string]any{}
	for id, cols := range types {
		cm := map[string]any{}
		i := 1
		for _, name := range slices.Sorted(maps.Keys(cols)) {
			cm[name] = map[string]any{"name": name, "type": cols[name], "index": i}
			i++
		}
		nodes[id] = map[string]any{"unique_id": id, "metadata": map[string]any{"type": "BASE TABLE"}, "columns": cm}
	}
	src := map[string]any{"source.acme.core.loans": map[string]any{
		"unique_id": "source.acme.core.loans", "metadata": map[string]any{"type": "BASE TABLE"},
		"columns": map[string]any{
			"ID":     map[string]any{"name": "ID", "type": "NUMBER", "index": 1},
			"RATE":   map[string]any{"name": "RATE", "type": "FLOAT", "index": 2},
			"AMOUNT": map[string]any{"name": "AMOUNT", "type": "NUMBER", "index": 3},
			"STATUS": map[string]any{"name": "STATUS", "type": "VARCHAR", "index": 4},
		},
	}}
	b, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"},
		"nodes":    nodes, "sources": src, "errors": nil,
	})
	return b
}

type built struct {
	project *dbt.Project
	g       *graph.Graph
	outputs map[graph.DatasetID][]string
}

func build(t *testing.T, man, cat []byte, extra ...extractors.Batch) built {
	t.Helper()
	ctx := context.Background()
	p, err := dbt.Load(ctx, man, cat, nil, dbt.Options{Account: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	w := weave.New(weave.Options{Columns: true})
	w.Add(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
	for _, b := range extra {
		w.Add(b)
	}
	g, _, err := w.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return built{project: p, g: g, outputs: w.Outputs()}
}

func baseModels() map[string]model {
	return map[string]model{
		"fct_loans": {sql: "select id as loan_id, rate as interest_rate, amount as principal from {{s}} where status = 'ACTIVE'",
			deps: []string{"source:loans"}, columns: []string{"loan_id", "interest_rate", "principal"}},
		"rpt_rates": {sql: "select loan_id, interest_rate from {{m:fct_loans}}", deps: []string{"fct_loans"}},
		"rpt_big":   {sql: "select loan_id from {{m:fct_loans}} where principal > 1000000", deps: []string{"fct_loans"}},
	}
}

func run(t *testing.T, base, pr built) []Finding {
	t.Helper()
	return Run(Input{Base: base.g, PR: pr.g, Project: pr.project, Outputs: pr.outputs})
}

func rules(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Subject)
	}
	return out
}

func find(t testing.TB, fs []Finding, rule, subject string) Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule && f.Subject == subject {
			return f
		}
	}
	t.Fatalf("no %s finding for %s; findings: %q", rule, subject, rules(fs))
	return Finding{}
}

func affectedIDs(f Finding) []string {
	var out []string
	for _, a := range f.Affected {
		out = append(out, a.ID)
	}
	return out
}

func TestUnchangedProjectHasNoFindings(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(nil))
	pr := build(t, manifest(baseModels()), catalog(nil))
	if fs := run(t, base, pr); len(fs) != 0 {
		t.Errorf("unchanged project: findings %q, want none", rules(fs))
	}
}

func TestRemovedColumnUsedDownstream(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(nil))
	m := baseModels()
	m["fct_loans"] = model{sql: "select id as loan_id, amount as principal from {{s}} where status = 'ACTIVE'",
		deps: []string{"source:loans"}, columns: []string{"loan_id", "principal"}}
	pr := build(t, manifest(m), catalog(nil))
	fs := run(t, base, pr)
	f := find(t, fs, RuleRemovedColumn, "ANALYTICS.MARTS.FCT_LOANS.INTEREST_RATE")
	if f.Severity != graph.SeverityError || f.File != "models/fct_loans.sql" {
		t.Errorf("finding = %+v", f)
	}
	if got := affectedIDs(f); !slices.Contains(got, ns+"/ANALYTICS.MARTS.RPT_RATES.INTEREST_RATE") {
		t.Errorf("affected = %q, want RPT_RATES.INTEREST_RATE", got)
	}
	for _, x := range fs {
		if x.Rule == RuleUnknownColumn && x.Subject == f.Subject {
			t.Errorf("the removed column is reported twice (also as %s)", x.Rule)
		}
	}
}

func TestColumnUsedOnlyInAFilterStillBreaks(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(nil))
	m := baseModels()
	m["fct_loans"] = model{sql: "select id as loan_id, rate as interest_rate from {{s}} where status = 'ACTIVE'",
		deps: []string{"source:loans"}}
	pr := build(t, manifest(m), catalog(nil))
	f := find(t, run(t, base, pr), RuleRemovedColumn, "ANALYTICS.MARTS.FCT_LOANS.PRINCIPAL")
	if got := affectedIDs(f); !slices.Contains(got, ns+"/ANALYTICS.MARTS.RPT_BIG") {
		t.Errorf("affected = %q, want RPT_BIG (INDIRECT FILTER use)", got)
	}
	if f.Affected[0].Path[0].Type != graph.Indirect+"/"+graph.SubtypeFilter {
		t.Errorf("path = %+v, want an INDIRECT/FILTER hop", f.Affected[0].Path)
	}
}

func TestRenamedColumn(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(nil))
	m := baseModels()
	m["fct_loans"] = model{sql: "select id as loan_id, rate as annual_rate, amount as principal from {{s}} where status = 'ACTIVE'",
		deps: []string{"source:loans"}}
	pr := build(t, manifest(m), catalog(nil))
	f := find(t, run(t, base, pr), RuleRenamedColumn, "ANALYTICS.MARTS.FCT_LOANS.INTEREST_RATE")
	if !strings.Contains(f.Message, "renamed to ANNUAL_RATE") {
		t.Errorf("message = %q", f.Message)
	}
	if f.Line != 2 {
		t.Errorf("line = %d, want 2 (where annual_rate is written)", f.Line)
	}
}

func TestRemovedModelUsedDownstream(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(nil))
	m := baseModels()
	delete(m, "fct_loans")
	delete(m, "rpt_big")
	m["rpt_rates"] = model{sql: "select 1 as loan_id", deps: nil}
	// Production also has a Snowflake view on the mart, outside dbt.
	view := graph.New()
	view.AddEdge(graph.DatasetID{Namespace: ns, Name: relation("fct_loans")},
		graph.DatasetID{Namespace: ns, Name: "ANALYTICS.REPORTING.V_RATES"},
		graph.Evidence{Extractor: "snowflake", Origin: "snowflake query 01ab", Method: "parsed"})
	base = build(t, manifest(baseModels()), catalog(nil), extractors.Batch{Graph: view})
	pr := build(t, manifest(m), catalog(nil))
	f := find(t, run(t, base, pr), RuleRemovedNode, "ANALYTICS.MARTS.FCT_LOANS")
	if got := affectedIDs(f); !slices.Contains(got, ns+"/ANALYTICS.REPORTING.V_RATES") {
		t.Errorf("affected = %q, want the Snowflake view", got)
	}
}

func TestUnknownColumnAndDanglingRef(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(nil))
	m := baseModels()
	m["new_model"] = model{sql: "select loan_id, bogus_rate from {{m:fct_loans}}", deps: []string{"fct_loans"}}
	m["orphan"] = model{sql: "select id from RAW.CORE.NOWHERE", deps: []string{}}
	pr := build(t, manifest(m), catalog(nil))
	fs := run(t, base, pr)
	f := find(t, fs, RuleUnknownColumn, "ANALYTICS.MARTS.FCT_LOANS.BOGUS_RATE")
	if f.File != "models/new_model.sql" || f.Line != 2 {
		t.Errorf("location = %s:%d, want models/new_model.sql:2", f.File, f.Line)
	}
	find(t, fs, RuleDanglingRef, ns+"/RAW.CORE.NOWHERE")
}

func TestTypeChangeIsAWarning(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(map[string]map[string]string{
		"model.acme.fct_loans": {"LOAN_ID": "NUMBER", "INTEREST_RATE": "FLOAT", "PRINCIPAL": "NUMBER"}}))
	pr := build(t, manifest(baseModels()), catalog(map[string]map[string]string{
		"model.acme.fct_loans": {"LOAN_ID": "NUMBER", "INTEREST_RATE": "VARCHAR", "PRINCIPAL": "NUMBER"}}))
	fs := run(t, base, pr)
	f := find(t, fs, RuleTypeChanged, "ANALYTICS.MARTS.FCT_LOANS.INTEREST_RATE")
	if f.Severity != graph.SeverityWarning {
		t.Errorf("severity = %s, want warning", f.Severity)
	}
	if AtLeast(f.Severity, graph.SeverityError) || !AtLeast(f.Severity, graph.SeverityWarning) {
		t.Error("AtLeast disagrees with the severity order")
	}
}

func TestContractViolation(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(nil))
	m := baseModels()
	m["fct_loans"] = model{sql: baseModels()["fct_loans"].sql, deps: []string{"source:loans"},
		columns: []string{"loan_id", "interest_rate"}, contract: true}
	pr := build(t, manifest(m), catalog(nil))
	f := find(t, run(t, base, pr), RuleContractViolation, "ANALYTICS.MARTS.FCT_LOANS")
	if !strings.Contains(f.Message, "produced by the SQL but not declared: PRINCIPAL") {
		t.Errorf("message = %q", f.Message)
	}
}

func TestCycle(t *testing.T) {
	base := build(t, manifest(baseModels()), catalog(nil))
	m := baseModels()
	m["a"] = model{sql: "select loan_id from {{m:b}}", deps: []string{"b"}}
	m["b"] = model{sql: "select loan_id from {{m:a}}", deps: []string{"a"}}
	pr := build(t, manifest(m), catalog(nil))
	f := find(t, run(t, base, pr), RuleCycle, "model.acme.a")
	if f.Message != "dependency cycle: model.acme.a -> model.acme.b -> model.acme.a" {
		t.Errorf("message = %q", f.Message)
	}
}

func ExampleAtLeast() {
	fmt.Println(AtLeast(graph.SeverityWarning, graph.SeverityError), AtLeast(graph.SeverityError, graph.SeverityWarning))
	// Output: false true
}
