package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/weftdata/weft/graph"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./export -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

const hostileSQL = "select 1 as x -- </script><script>alert('pwned')</script> \u2028 & <b>"

// testGraph is a slice of the demo: Snowflake raw → dbt staging → mart →
// Databricks features, with a dbt invocation as the parent run, and a job
// whose SQL tries to break out of the HTML page.
func testGraph() *graph.Graph {
	sf, dbx := "snowflake://acmebank-prod", "databricks://adb-1.azuredatabricks.net"
	raw := graph.DatasetID{Namespace: sf, Name: "RAW.LOANS.LOANS"}
	stg := graph.DatasetID{Namespace: sf, Name: "ANALYTICS.STAGING.STG_LOANS"}
	fct := graph.DatasetID{Namespace: sf, Name: "ANALYTICS.MARTS.FCT_LOANS"}
	feat := graph.DatasetID{Namespace: dbx, Name: "main.risk.loan_features"}
	stgJob := graph.JobID{Namespace: "dbt://acmebank", Name: "model.acme_risk.stg_loans"}
	fctJob := graph.JobID{Namespace: "dbt://acmebank", Name: "model.acme_risk.fct_loans"}
	dbxJob := graph.JobID{Namespace: dbx, Name: "job 881.task build_features"}
	t0 := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)

	g := graph.New()
	g.AddDataset(graph.Dataset{ID: raw, Platform: graph.Snowflake, Kind: graph.KindSource,
		Columns: []graph.Column{{Name: "ID", Type: "NUMBER"}, {Name: "PRINCIPAL", Type: "NUMBER(18,2)"}, {Name: "STATUS", Type: "VARCHAR"}}})
	g.AddDataset(graph.Dataset{ID: stg, Platform: graph.Snowflake, Kind: graph.KindModel,
		Columns: []graph.Column{{Name: "LOAN_ID", Type: "NUMBER"}, {Name: "PRINCIPAL", Type: "NUMBER(18,2)"}}})
	g.AddDataset(graph.Dataset{ID: fct, Platform: graph.Snowflake, Kind: graph.KindModel, Description: "Loans <b>& risk</b>",
		Columns: []graph.Column{{Name: "LOAN_ID", Type: "NUMBER", Description: "Loan key."}, {Name: "PRINCIPAL"}}})
	g.AddDataset(graph.Dataset{ID: feat, Platform: graph.Databricks, Kind: graph.KindTable,
		Columns: []graph.Column{{Name: "loan_id", Type: "bigint"}, {Name: "log_principal", Type: "double"}}})
	g.AddJob(graph.Job{ID: stgJob, Type: "dbt_model", SQL: "select id as loan_id, principal from RAW.LOANS.LOANS where status <> 'void'"})
	g.AddJob(graph.Job{ID: fctJob, Type: "dbt_model", SQL: hostileSQL})
	g.AddJob(graph.Job{ID: dbxJob, Type: "databricks_task"})
	g.AddRun(graph.Run{ID: "inv-1", Job: graph.JobID{Namespace: "dbt://acmebank", Name: "dbt build"}, State: "success", Start: t0, End: t0.Add(4 * time.Minute)})
	g.AddRun(graph.Run{ID: "inv-1.model.acme_risk.fct_loans", Job: fctJob, Parent: "inv-1", State: "success", Start: t0, End: t0.Add(time.Minute)})
	g.AddRun(graph.Run{ID: "881-4431", Job: dbxJob, State: "FAILED", Start: t0.Add(time.Hour)})

	ev := func(job graph.JobID) graph.Evidence {
		return graph.Evidence{Extractor: "sql", Origin: job.Name, Method: "parsed", Job: job, LastSeen: t0, Count: 1, Confidence: 1}
	}
	g.AddEdge(raw, stg, ev(stgJob))
	g.AddEdge(stg, fct, ev(fctJob))
	g.AddEdge(fct, feat, graph.Evidence{Extractor: "databricks", Origin: "databricks run 881-4431", Method: "unity_catalog", Job: dbxJob})
	g.AddEdge(raw, graph.DatasetID{Namespace: sf, Name: "AUDIT.LOG.COPY"}, graph.Evidence{Extractor: "snowflake", Origin: "snowflake query 01b2"})
	ce := func(from, to graph.ColumnID, typ, sub string, e graph.Evidence) {
		g.AddColumnEdge(graph.ColumnEdgeID{From: from, To: to, Type: typ, Subtype: sub}, e)
	}
	c := func(d graph.DatasetID, name string) graph.ColumnID { return graph.ColumnID{Dataset: d, Column: name} }
	ce(c(raw, "ID"), c(stg, "LOAN_ID"), graph.Direct, graph.SubtypeIdentity, ev(stgJob))
	ce(c(raw, "PRINCIPAL"), c(stg, "PRINCIPAL"), graph.Direct, graph.SubtypeIdentity, ev(stgJob))
	ce(c(raw, "STATUS"), graph.ColumnID{Dataset: stg}, graph.Indirect, graph.SubtypeFilter, ev(stgJob))
	ce(c(stg, "LOAN_ID"), c(fct, "LOAN_ID"), graph.Direct, graph.SubtypeIdentity, ev(fctJob))
	ce(c(stg, "LOAN_ID"), c(fct, "LOAN_ID"), graph.Indirect, graph.SubtypeJoin, ev(fctJob))
	ce(c(stg, "PRINCIPAL"), c(fct, "PRINCIPAL"), graph.Direct, graph.SubtypeAggregation, ev(fctJob))
	ce(c(fct, "PRINCIPAL"), c(feat, "log_principal"), graph.Direct, graph.SubtypeTransformation, ev(dbxJob))
	return g
}

func TestDiagrams(t *testing.T) {
	g := testGraph()
	fct := graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.MARTS.FCT_LOANS"}
	tests := []struct {
		name  string
		write func(*bytes.Buffer, *graph.Graph, ViewOptions) error
		opts  ViewOptions
	}{
		{"all.dot", func(b *bytes.Buffer, g *graph.Graph, o ViewOptions) error { return DOT(b, g, o) }, ViewOptions{}},
		{"focus-columns.dot", func(b *bytes.Buffer, g *graph.Graph, o ViewOptions) error { return DOT(b, g, o) }, ViewOptions{Focus: []graph.DatasetID{fct}, Depth: 1, Columns: true}},
		{"all.mmd", func(b *bytes.Buffer, g *graph.Graph, o ViewOptions) error { return Mermaid(b, g, o) }, ViewOptions{}},
		{"focus-columns.mmd", func(b *bytes.Buffer, g *graph.Graph, o ViewOptions) error { return Mermaid(b, g, o) }, ViewOptions{Focus: []graph.DatasetID{fct}, Depth: 1, Columns: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b, g, tt.opts); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, b.Bytes())
		})
	}
}

func TestFocusDepth(t *testing.T) {
	g := testGraph()
	stg := graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: "ANALYTICS.STAGING.STG_LOANS"}
	v := selectView(g, ViewOptions{Focus: []graph.DatasetID{stg}, Depth: 1})
	var got []string
	for _, id := range v.datasets {
		got = append(got, id.Name)
	}
	want := []string{"ANALYTICS.MARTS.FCT_LOANS", "ANALYTICS.STAGING.STG_LOANS", "RAW.LOANS.LOANS"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("focus depth 1 (-want +got):\n%s", d)
	}
}

// olSchemas compiles the OpenLineage schemas in testdata/openlineage. The
// facet files refer to the core by three versioned URLs; all resolve to
// the one core file, so nothing is fetched.
func olSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	dir := filepath.Join("testdata", "openlineage")
	load := func(name string) any {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return doc
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, v := range []string{"1-0-1", "1-0-2", "2-0-2"} {
		core := load("OpenLineage.json").(map[string]any)
		core["$id"] = "https://openlineage.io/spec/" + v + "/OpenLineage.json"
		if err := c.AddResource(core["$id"].(string), core); err != nil {
			t.Fatal(err)
		}
	}
	facets := map[string]string{
		"SQLJobFacet.json":               sqlFacetURL,
		"ParentRunFacet.json":            parentFacetURL,
		"SchemaDatasetFacet.json":        schemaFacetURL,
		"ColumnLineageDatasetFacet.json": columnLineageFacetURL,
	}
	out := map[string]*jsonschema.Schema{}
	for file, url := range facets {
		base, _, _ := strings.Cut(url, "#")
		if err := c.AddResource(base, load(file)); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(url)
		if err != nil {
			t.Fatalf("compile %s: %v", url, err)
		}
		out[url] = s
	}
	s, err := c.Compile(runEventSchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	out[runEventSchemaURL] = s
	return out
}

// validateEvent validates one JSON event and each facet in it against the
// schema its _schemaURL names.
func validateEvent(t *testing.T, schemas map[string]*jsonschema.Schema, line []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, line)
	}
	if err := schemas[runEventSchemaURL].Validate(doc); err != nil {
		t.Errorf("event does not validate: %v\n%s", err, line)
	}
	var facets []map[string]any
	ev := doc.(map[string]any)
	collect := func(obj any) {
		if m, ok := obj.(map[string]any); ok {
			if fs, ok := m["facets"].(map[string]any); ok {
				for _, f := range fs {
					facets = append(facets, f.(map[string]any))
				}
			}
		}
	}
	collect(ev["run"])
	collect(ev["job"])
	for _, key := range []string{"inputs", "outputs"} {
		for _, d := range ev[key].([]any) {
			collect(d)
		}
	}
	for _, f := range facets {
		url, _ := f["_schemaURL"].(string)
		s, ok := schemas[url]
		if !ok {
			t.Errorf("facet with unknown _schemaURL %q", url)
			continue
		}
		if err := s.Validate(f); err != nil {
			t.Errorf("facet %s does not validate: %v", url, err)
		}
	}
}

func TestOpenLineage(t *testing.T) {
	var b bytes.Buffer
	if err := OpenLineage(&b, testGraph(), OpenLineageOptions{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "events.jsonl", b.Bytes())

	schemas := olSchemas(t)
	n := 0
	sc := bufio.NewScanner(&b)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		validateEvent(t, schemas, sc.Bytes())
		n++
	}
	if n != 5 {
		t.Errorf("got %d events, want 5 (3 jobs, 1 job without a job id, 1 parent run)", n)
	}

	events := OpenLineageEvents(testGraph(), OpenLineageOptions{})
	var fct *Event
	for i := range events {
		if events[i].Job.Name == "model.acme_risk.fct_loans" {
			fct = &events[i]
		}
	}
	if fct == nil {
		t.Fatal("no event for model.acme_risk.fct_loans")
	}
	if _, ok := fct.Run.Facets["parent"]; !ok {
		t.Error("fct_loans run has no parent facet")
	}
	cl := fct.Outputs[0].Facets["columnLineage"].(*columnLineageFacet)
	want := []transformation{{Type: "DIRECT", Subtype: "IDENTITY"}, {Type: "INDIRECT", Subtype: "JOIN"}}
	if d := cmp.Diff(want, cl.Fields["LOAN_ID"].InputFields[0].Transformations); d != "" {
		t.Errorf("LOAN_ID transformations (-want +got):\n%s", d)
	}
}

// TestOpenLineageParentWithEdges: a run that is both a parent (a
// Databricks job run with task runs) and its job's latest run gets one
// event, with its inputs and outputs: a second, empty event for the same
// run sorted against the first in no fixed order (weft export of the demo
// differed from run to run).
func TestOpenLineageParentWithEdges(t *testing.T) {
	dbx := "databricks://adb-1.azuredatabricks.net"
	job := graph.JobID{Namespace: dbx, Name: "jobs/881"}
	task := graph.JobID{Namespace: dbx, Name: "jobs/881/tasks/build"}
	in := graph.DatasetID{Namespace: dbx, Name: "main.risk.loans"}
	out := graph.DatasetID{Namespace: dbx, Name: "main.risk.loan_features"}
	t0 := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
	g := graph.New()
	g.AddRun(graph.Run{ID: "881", Job: job, State: "SUCCESS", Start: t0, End: t0.Add(time.Hour)})
	g.AddRun(graph.Run{ID: "881-1", Job: task, Parent: "881", State: "SUCCESS", Start: t0, End: t0.Add(time.Minute)})
	g.AddEdge(in, out, graph.Evidence{Extractor: "databricks", Origin: "databricks run 881", Method: "unity_catalog", Job: job})
	g.AddEdge(in, out, graph.Evidence{Extractor: "databricks", Origin: "databricks run 881-1", Method: "unity_catalog", Job: task})

	events := OpenLineageEvents(g, OpenLineageOptions{})
	n := 0
	for _, ev := range events {
		if ev.Run.RunID == runUUID("881") {
			n++
			if len(ev.Inputs) != 1 || len(ev.Outputs) != 1 {
				t.Errorf("run 881: %d inputs, %d outputs, want 1 and 1", len(ev.Inputs), len(ev.Outputs))
			}
		}
	}
	if n != 1 {
		t.Errorf("run 881 has %d events, want 1", n)
	}
}

// TestOpenLineageSchemaRejects makes sure the validation can fail: an
// event without a run id and a column lineage facet without fields.
func TestOpenLineageSchemaRejects(t *testing.T) {
	schemas := olSchemas(t)
	bad := []struct {
		schema string
		doc    string
	}{
		{runEventSchemaURL, `{"eventTime": "2025-01-01T00:00:00Z", "producer": "https://x", "schemaURL": "https://x", "run": {}, "job": {"namespace": "n", "name": "j"}}`},
		{runEventSchemaURL, `{"eventTime": "2025-01-01T00:00:00Z", "producer": "https://x", "schemaURL": "https://x", "run": {"runId": "not-a-uuid"}, "job": {"namespace": "n", "name": "j"}}`},
		{columnLineageFacetURL, `{"_producer": "https://x", "_schemaURL": "https://x"}`},
		{columnLineageFacetURL, `{"_producer": "https://x", "_schemaURL": "https://x", "fields": {"a": {"inputFields": [{"namespace": "n", "name": "t", "field": "f", "transformations": [{"subtype": "JOIN"}]}]}}}`},
	}
	for _, tt := range bad {
		var doc any
		if err := json.Unmarshal([]byte(tt.doc), &doc); err != nil {
			t.Fatal(err)
		}
		if err := schemas[tt.schema].Validate(doc); err == nil {
			t.Errorf("%s accepted %s", tt.schema, tt.doc)
		}
	}
}
