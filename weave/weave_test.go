package weave

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

const sf = "snowflake://acme"

func ds(name string) graph.DatasetID { return graph.DatasetID{Namespace: sf, Name: name} }

func cols(names ...string) []graph.Column {
	out := make([]graph.Column, len(names))
	for i, n := range names {
		out[i] = graph.Column{Name: n}
	}
	return out
}

// dbtBatch is a small dbt-shaped project: a source with known columns, a
// staging model whose columns are known only from its SQL, and a mart that
// selects * from the staging model and filters on a joined table.
func dbtBatch() extractors.Batch {
	g := graph.New()
	g.AddDataset(graph.Dataset{ID: ds("RAW.CORE.LOANS"), Platform: graph.Snowflake, Kind: graph.KindSource,
		Columns: cols("ID", "RATE", "AMOUNT", "STATUS")})
	g.AddDataset(graph.Dataset{ID: ds("RAW.CORE.BORROWERS"), Platform: graph.Snowflake, Kind: graph.KindSource,
		Columns: cols("ID", "REGION")})
	g.AddDataset(graph.Dataset{ID: ds("ANALYTICS.STAGING.STG_LOANS"), Platform: graph.Snowflake, Kind: graph.KindModel})
	g.AddDataset(graph.Dataset{ID: ds("ANALYTICS.MARTS.FCT_LOANS"), Platform: graph.Snowflake, Kind: graph.KindModel})
	dep := graph.Evidence{Extractor: "dbt", Origin: "model.x", Method: "depends_on"}
	g.AddEdge(ds("RAW.CORE.LOANS"), ds("ANALYTICS.STAGING.STG_LOANS"), dep)
	g.AddEdge(ds("ANALYTICS.STAGING.STG_LOANS"), ds("ANALYTICS.MARTS.FCT_LOANS"), dep)
	g.AddEdge(ds("RAW.CORE.BORROWERS"), ds("ANALYTICS.MARTS.FCT_LOANS"), dep)
	stmt := func(node, target, sql string) extractors.Statement {
		return extractors.Statement{
			SQL: sql, Dialect: "snowflake", Namespace: sf,
			DefaultDatabase: "ANALYTICS", DefaultSchema: "STAGING",
			Target: ds(target), Origin: extractors.Origin{Extractor: "dbt", NodeID: node, File: node + ".sql", Line: 1},
		}
	}
	return extractors.Batch{Graph: g, Statements: []extractors.Statement{
		// The mart comes first on purpose: levels must reorder it.
		stmt("model.fct_loans", "ANALYTICS.MARTS.FCT_LOANS",
			"select l.*, b.region from analytics.staging.stg_loans l join raw.core.borrowers b on b.id = l.loan_id where b.region <> 'XX'"),
		stmt("model.stg_loans", "ANALYTICS.STAGING.STG_LOANS",
			"select id as loan_id, rate as interest_rate, amount * 1.0 as principal from raw.core.loans where status = 'ACTIVE'"),
	}}
}

func TestBuildIsDeterministic(t *testing.T) {
	encode := func() string {
		w := New(Options{Columns: true, Workers: 3})
		w.Add(dbtBatch())
		g, _, err := w.Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := graph.Encode(&b, g); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	first := encode()
	for range 5 {
		if got := encode(); got != first {
			t.Fatal("two builds of the same input encode differently")
		}
	}
}

func TestUnresolvedTableInDBTIsAFinding(t *testing.T) {
	b := dbtBatch()
	b.Statements = b.Statements[1:]
	b.Statements[0].SQL = "select id from raw.core.nowhere"
	w := New(Options{Columns: true})
	w.Add(b)
	g, _, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, f := range g.Findings {
		codes = append(codes, f.Code+" "+f.Subject)
	}
	if !slices.Contains(codes, "unresolved_table "+sf+"/RAW.CORE.NOWHERE") {
		t.Errorf("findings = %q, want unresolved_table for RAW.CORE.NOWHERE", codes)
	}
}

func TestQueryLogStatementWritesItsOwnTarget(t *testing.T) {
	w := New(Options{Columns: true})
	w.Add(dbtBatch())
	w.Add(extractors.Batch{Statements: []extractors.Statement{{
		SQL:       "create table analytics.sandbox.high_rate as select loan_id, interest_rate from analytics.marts.fct_loans where interest_rate > 0.2",
		Dialect:   "snowflake",
		Namespace: sf,
		Count:     3,
		Origin:    extractors.Origin{Extractor: "snowflake", QueryID: "01b2"},
	}}})
	g, _, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := g.Edges[graph.EdgeID{From: ds("ANALYTICS.MARTS.FCT_LOANS"), To: ds("ANALYTICS.SANDBOX.HIGH_RATE")}]
	if e == nil {
		t.Fatalf("missing CTAS edge; edges: %v", keys(g.Edges))
	}
	if e.Evidence[0].Count != 3 || e.Evidence[0].Origin != "snowflake query 01b2" {
		t.Errorf("evidence = %+v", e.Evidence[0])
	}
}

func TestForeignCatalogMirrorIsOneNode(t *testing.T) {
	out := buildForeignCatalog(t)
	sfLoans := ds("ANALYTICS.MARTS.FCT_LOANS")
	mirror := graph.DatasetID{Namespace: "databricks://adb-1", Name: "sf_analytics.marts.fct_loans"}
	feat := graph.DatasetID{Namespace: "databricks://adb-1", Name: "main.risk_features.loan_features"}
	if _, ok := out.Datasets[mirror]; ok {
		t.Error("the foreign-catalog mirror is still a separate node")
	}
	d := out.Datasets[sfLoans]
	if d == nil || len(d.Identities) == 0 || d.Identities[0].ID != mirror {
		t.Fatalf("canonical node lacks the mirror identity: %+v", d)
	}
	if c, _ := d.Column("INTEREST_RATE"); c.Type != "NUMBER" {
		t.Errorf("INTEREST_RATE type = %q, want Snowflake's NUMBER, not the mirror's", c.Type)
	}
	if _, ok := out.Edges[graph.EdgeID{From: sfLoans, To: feat}]; !ok {
		t.Errorf("missing cross-platform table edge %s -> %s; have %v", sfLoans, feat, keys(out.Edges))
	}
}

// buildForeignCatalog weaves a Databricks statement that reads a Snowflake
// table through a foreign-catalog mirror.
func buildForeignCatalog(t *testing.T) *graph.Graph {
	t.Helper()

	const dbx = "databricks://adb-1"
	g := graph.New()
	sfLoans := ds("ANALYTICS.MARTS.FCT_LOANS")
	g.AddDataset(graph.Dataset{ID: sfLoans, Platform: graph.Snowflake, Kind: graph.KindModel,
		Columns: []graph.Column{{Name: "LOAN_ID", Type: "NUMBER"}, {Name: "INTEREST_RATE", Type: "NUMBER"}}})
	mirror := graph.DatasetID{Namespace: dbx, Name: "sf_analytics.marts.fct_loans"}
	g.AddDataset(graph.Dataset{ID: mirror, Platform: graph.Databricks, Kind: graph.KindExternal,
		Columns:    []graph.Column{{Name: "loan_id", Type: "bigint"}, {Name: "interest_rate", Type: "decimal(38,6)"}},
		Identities: []graph.Identity{{ID: sfLoans, Reason: "foreign catalog sf_analytics mirrors Snowflake database ANALYTICS"}}})
	feat := graph.DatasetID{Namespace: dbx, Name: "main.risk_features.loan_features"}
	g.AddDataset(graph.Dataset{ID: feat, Platform: graph.Databricks, Kind: graph.KindTable})

	w := New(Options{Columns: true})
	w.Add(extractors.Batch{Graph: g, Statements: []extractors.Statement{{
		SQL:       "insert overwrite main.risk_features.loan_features select loan_id, interest_rate * 100 as rate_pct from sf_analytics.marts.fct_loans",
		Dialect:   "databricks",
		Namespace: dbx,
		Origin:    extractors.Origin{Extractor: "databricks", RunID: "77"},
	}}})
	out, _, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A table of a foreign catalog that only SQL mentions (no metadata from the
// extractor) still joins the table it mirrors, by the catalog-level rule
// learnt from its siblings.
func TestForeignCatalogRuleCoversTablesOnlySQLNames(t *testing.T) {
	const dbx = "databricks://adb-1"
	g := graph.New()
	sfLoans, sfRisk := ds("ANALYTICS.MARTS.FCT_LOANS"), ds("ANALYTICS.MARTS.FCT_LOAN_RISK")
	g.AddDataset(graph.Dataset{ID: sfLoans, Platform: graph.Snowflake, Kind: graph.KindModel, Columns: cols("LOAN_ID")})
	g.AddDataset(graph.Dataset{ID: sfRisk, Platform: graph.Snowflake, Kind: graph.KindModel, Columns: cols("LOAN_ID", "PD")})
	g.AddDataset(graph.Dataset{
		ID: graph.DatasetID{Namespace: dbx, Name: "sf_analytics.marts.fct_loans"}, Platform: graph.Databricks, Kind: graph.KindExternal,
		Identities: []graph.Identity{{ID: sfLoans, Reason: "foreign catalog sf_analytics mirrors Snowflake database ANALYTICS"}},
		Properties: map[string]string{"foreign_catalog": "sf_analytics", "foreign_database": "ANALYTICS"},
	})
	w := New(Options{Columns: true})
	w.Add(extractors.Batch{Graph: g, Statements: []extractors.Statement{{
		SQL:       "create table main.f.x as select loan_id, pd from sf_analytics.marts.fct_loan_risk",
		Dialect:   "databricks",
		Namespace: dbx,
		Origin:    extractors.Origin{Extractor: "databricks", RunID: "9"},
	}}})
	out, _, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mirror := graph.DatasetID{Namespace: dbx, Name: "sf_analytics.marts.fct_loan_risk"}
	if _, ok := out.Datasets[mirror]; ok {
		t.Fatalf("%s is still its own node", mirror)
	}
	if _, ok := out.Edges[graph.EdgeID{From: sfRisk, To: graph.DatasetID{Namespace: dbx, Name: "main.f.x"}}]; !ok {
		t.Errorf("missing edge from the Snowflake table; edges: %v", keys(out.Edges))
	}
}

func TestNoColumnsDropsEveryColumnEdge(t *testing.T) {
	b := dbtBatch()
	// An edge the source itself knew (like Snowflake's access history).
	b.Graph.AddColumnEdge(graph.ColumnEdgeID{
		From: graph.ColumnID{Dataset: ds("RAW.CORE.LOANS"), Column: "ID"},
		To:   graph.ColumnID{Dataset: ds("ANALYTICS.STAGING.STG_LOANS"), Column: "LOAN_ID"},
		Type: graph.Direct, Subtype: graph.SubtypeTransformation,
	}, graph.Evidence{Extractor: "snowflake", Origin: "q", Method: "access_history"})
	w := New(Options{Columns: false})
	w.Add(b)
	g, _, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(g.ColumnEdges) != 0 {
		t.Errorf("%d column edges in a table-level graph", len(g.ColumnEdges))
	}
	if len(g.Edges) == 0 {
		t.Error("no table edges")
	}
}

// A query-log batch woven on its own still expands `select *` from a dbt
// model known only from the store (Options.Schema), and the result names
// the model without copying its metadata.
func TestSchemaOnlyDatasetsResolveButStayOut(t *testing.T) {
	schema := graph.New()
	schema.AddDataset(graph.Dataset{ID: ds("ANALYTICS.MARTS.FCT_LOANS"), Platform: graph.Snowflake, Kind: graph.KindModel,
		Description: "loans mart", Columns: cols("LOAN_ID", "INTEREST_RATE")})
	w := New(Options{Columns: true, Schema: schema})
	w.Add(extractors.Batch{Statements: []extractors.Statement{{
		SQL: "create view analytics.reporting.v_rates as select * from analytics.marts.fct_loans", Dialect: "snowflake",
		Namespace: sf, Origin: extractors.Origin{Extractor: "snowflake", QueryID: "q1"},
	}}})
	g, st, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Full != 1 {
		t.Errorf("stats %+v, want the statement fully analysed", st)
	}
	want := graph.ColumnEdgeID{
		From: graph.ColumnID{Dataset: ds("ANALYTICS.MARTS.FCT_LOANS"), Column: "INTEREST_RATE"},
		To:   graph.ColumnID{Dataset: ds("ANALYTICS.REPORTING.V_RATES"), Column: "INTEREST_RATE"},
		Type: graph.Direct, Subtype: graph.SubtypeIdentity,
	}
	if _, ok := g.ColumnEdges[want]; !ok {
		t.Errorf("missing %v; have %v", want, keys(g.ColumnEdges))
	}
	if d := g.Datasets[ds("ANALYTICS.MARTS.FCT_LOANS")]; d == nil || d.Description != "" || len(d.Columns) != 0 {
		t.Errorf("the schema-only dataset was copied into the result: %+v", d)
	}
}

func TestCreateViewMakesAView(t *testing.T) {
	w := New(Options{Columns: true})
	w.Add(dbtBatch())
	w.Add(extractors.Batch{Statements: []extractors.Statement{{
		SQL: "create or replace view analytics.reporting.v_loans as select loan_id from analytics.marts.fct_loans", Dialect: "snowflake",
		Namespace: sf, Origin: extractors.Origin{Extractor: "snowflake", QueryID: "v1"},
	}}})
	g, _, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := g.Datasets[ds("ANALYTICS.REPORTING.V_LOANS")]; d == nil || d.Kind != graph.KindView {
		t.Errorf("dataset = %+v, want kind view", d)
	}
}

// References to columns nothing in scope provides, unqualified or
// qualified, become unresolved_column findings (weft check's unknown_column).
func TestUnresolvedColumnsAreFindings(t *testing.T) {
	for _, sql := range []string{
		"select id, bogus from raw.core.loans",
		"select l.id, l.bogus from raw.core.loans l",
	} {
		b := dbtBatch()
		b.Statements = b.Statements[1:]
		b.Statements[0].SQL = sql
		w := New(Options{Columns: true})
		w.Add(b)
		g, _, err := w.Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range g.Findings {
			if f.Code == "unresolved_column" {
				got = append(got, f.Subject)
			}
		}
		want := []string{sf + "/ANALYTICS.STAGING.STG_LOANS.BOGUS"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: unresolved_column subjects = %q, want %q", sql, got, want)
		}
	}
}
