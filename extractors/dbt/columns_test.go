package dbt

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
)

// TestExprColumns covers the tokenizer that finds the columns of
// semantic-model exprs and snapshot keys.
func TestExprColumns(t *testing.T) {
	tests := []struct {
		expr  string
		want  []string // quoted identifiers are written "X"
		plain bool
	}{
		{"loan_id", []string{"loan_id"}, true},
		{"  orders.loan_id ", []string{"loan_id"}, true},
		{`"Loan Id"`, []string{`"Loan Id"`}, true},
		{"1", nil, false},
		{"date_trunc('day', ordered_at)", []string{"ordered_at"}, false},
		{"case when is_food then amount else 0 end", []string{"is_food", "amount"}, false},
		{"coalesce(amount, 0)::number(38, 2)", []string{"amount"}, false},
		{"cast(amount as decimal(10, 2)) / nullif(qty, 0)", []string{"amount", "qty"}, false},
		{"payload:customer.id::string", []string{"payload"}, false},
		{"extract(year from ordered_at)", []string{"ordered_at"}, false},
		{"amount -- a comment with words\n + tax /* more words */", []string{"amount", "tax"}, false},
		{"status = 'it''s paid' and amount > 100", []string{"status", "amount"}, false},
		{"{{ var('x') }} + amount", []string{"amount"}, false},
		{"amount + amount", []string{"amount"}, false},
		{"current_timestamp", nil, false},
		{"id || '-' || region", []string{"id", "region"}, false},
		{`t."Mixed"`, []string{`"Mixed"`}, true},
		{`"unterminated`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			ids, plain := exprColumns(tt.expr)
			var got []string
			for _, id := range ids {
				if id.quoted {
					got = append(got, `"`+id.text+`"`)
				} else {
					got = append(got, id.text)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || plain != tt.plain {
				t.Errorf("exprColumns(%q) = %q, plain %v; want %q, plain %v", tt.expr, got, plain, tt.want, tt.plain)
			}
		})
	}
}

// TestSemantic checks a project made for the semantic layer, snapshots
// and seeds: every column edge dbt states without SQL, every consumer's
// columns and the findings.
func TestSemantic(t *testing.T) {
	e, err := New(Config{Manifest: filepath.Join("testdata", "semantic", "target", "manifest.json"), Account: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	b := extractOne(t, e)
	checkGolden(t, "semantic/extract.golden", dumpBatch(b))

	// The seed files are found from the manifest (target/..) without
	// any option, and not at all when seed files are off.
	g := b.Graph
	seed := g.Datasets[graph.DatasetID{Namespace: "snowflake://shop", Name: "ANALYTICS.REFERENCE.COUNTRY_CODES"}]
	if seed == nil || len(seed.Columns) != 2 {
		t.Fatalf("country_codes seed: %+v, want the two columns of its CSV header", seed)
	}
	e, err = New(Config{Manifest: filepath.Join("testdata", "semantic", "target", "manifest.json"), Account: "shop", SkipSeedFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	g = extractOne(t, e).Graph
	if seed := g.Datasets[seed.ID]; len(seed.Columns) != 0 {
		t.Errorf("SkipSeedFiles: seed has columns %v", seed.Columns)
	}
}

// TestSeedProjectDir finds seed files under Config.ProjectDir when the
// manifest is elsewhere, and fails on nothing when they are absent.
func TestSeedProjectDir(t *testing.T) {
	manifest, err := os.ReadFile(filepath.Join("testdata", "semantic", "target", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(elsewhere, manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		projectDir string
		want       []string
	}{
		{"project dir", filepath.Join("testdata", "semantic"), []string{"CURRENCY", "RATE"}},
		{"no project dir", "", nil},
		{"missing project dir", filepath.Join("testdata", "nope"), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Config{Manifest: elsewhere, ProjectDir: tt.projectDir})
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range p.Node("seed.shop.fx_rates").Columns {
				got = append(got, c.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fx_rates columns (-want +got):\n%s", diff)
			}
			hasFinding := slices.ContainsFunc(p.Findings, func(f graph.Finding) bool { return f.Code == "no_seed_columns" })
			if !hasFinding {
				t.Errorf("no no_seed_columns finding for the seed without a file")
			}
		})
	}
}

// demoConfig is the demo dbt project's artifacts (fixtures/demo).
func demoConfig(t *testing.T) Config {
	t.Helper()
	dir := filepath.Join("..", "..", "fixtures", "demo", "dbt", "target")
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Skipf("demo fixtures not found: %v", err)
	}
	return Config{
		Manifest:   filepath.Join(dir, "manifest.json"),
		Catalog:    filepath.Join(dir, "catalog.json"),
		RunResults: filepath.Join(dir, "run_results.json"),
		Account:    "acmebank-prod",
	}
}

// TestDemo checks what the demo's dbt project states about columns and
// consumers without any SQL: the golden lists the column edges; the test
// spells out the ones the demo's story relies on.
func TestDemo(t *testing.T) {
	e, err := New(demoConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	g := p.Graph()

	var w strings.Builder
	for _, id := range sortedKeys(g.ColumnEdges, func(id graph.ColumnEdgeID) string {
		return id.From.String() + " " + id.To.String() + " " + id.Type + " " + id.Subtype
	}) {
		fmt.Fprintf(&w, "%s -> %s %s %s (%s)\n", id.From, id.To, id.Type, id.Subtype, g.ColumnEdges[id].Evidence[0].Method)
	}
	checkGolden(t, "demo_column_edges.golden", w.String())

	sf := func(name string) graph.DatasetID {
		return graph.DatasetID{Namespace: "snowflake://acmebank-prod", Name: name}
	}
	dbtID := func(uid string) graph.DatasetID { return graph.DatasetID{Namespace: "dbt://acme_risk", Name: uid} }
	col := func(ds graph.DatasetID, c string) graph.ColumnID { return graph.ColumnID{Dataset: ds, Column: c} }
	fct := sf("ANALYTICS.MARTS.FCT_LOANS")
	loans := dbtID("semantic_model.acme_risk.loans")
	snap := sf("ANALYTICS.SNAPSHOTS.BORROWERS_SNAPSHOT")
	for _, want := range []graph.ColumnEdgeID{
		{From: col(fct, "LOAN_ID"), To: col(loans, "loan"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
		{From: col(fct, "ORIGINATION_DATE"), To: col(loans, "origination_date"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
		{From: col(fct, "OUTSTANDING_PRINCIPAL_USD"), To: col(loans, "outstanding_principal_usd"), Type: graph.Direct, Subtype: graph.SubtypeAggregation},
		{From: col(fct, "INTEREST_RATE"), To: col(loans, "avg_interest_rate"), Type: graph.Direct, Subtype: graph.SubtypeAggregation},
		{From: col(fct, "LOAN_ID"), To: col(loans, "loan_count"), Type: graph.Direct, Subtype: graph.SubtypeAggregation},
		{From: col(loans, "outstanding_principal_usd"), To: col(dbtID("metric.acme_risk.total_outstanding_usd"), "total_outstanding_usd"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
		{From: col(loans, "avg_interest_rate"), To: col(dbtID("metric.acme_risk.average_interest_rate"), "average_interest_rate"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
		{From: col(snap, "UPDATED_AT"), To: col(snap, "DBT_UPDATED_AT"), Type: graph.Direct, Subtype: graph.SubtypeTransformation},
		{From: col(snap, "UPDATED_AT"), To: col(snap, "DBT_VALID_FROM"), Type: graph.Direct, Subtype: graph.SubtypeTransformation},
		{From: col(snap, "UPDATED_AT"), To: col(snap, "DBT_VALID_TO"), Type: graph.Direct, Subtype: graph.SubtypeTransformation},
		{From: col(snap, "CUSTOMER_ID"), To: col(snap, "DBT_SCD_ID"), Type: graph.Direct, Subtype: graph.SubtypeTransformation},
		{From: col(snap, "UPDATED_AT"), To: col(snap, "DBT_SCD_ID"), Type: graph.Direct, Subtype: graph.SubtypeTransformation},
		// invalidate_hard_deletes: a customer that disappears closes its row.
		{From: col(snap, "CUSTOMER_ID"), To: col(snap, "DBT_VALID_TO"), Type: graph.Indirect, Subtype: graph.SubtypeConditional},
	} {
		if g.ColumnEdges[want] == nil {
			t.Errorf("missing column edge %s -> %s %s %s", want.From, want.To, want.Type, want.Subtype)
		}
	}
	// Every column edge ends in a column its dataset lists (the
	// semantic model's fields, the metric's one column, the snapshot's
	// meta columns from the catalog), and starts in one too.
	for id := range g.ColumnEdges {
		for _, c := range []graph.ColumnID{id.From, id.To} {
			d := g.Datasets[c.Dataset]
			if d == nil {
				t.Errorf("%s: no dataset", c)
				continue
			}
			if _, ok := d.Column(c.Column); !ok {
				t.Errorf("%s: dataset has no such column", c)
			}
		}
	}

	// Tests on columns are attached to the column nodes.
	d := g.Datasets[fct]
	loanID, ok := d.Column("LOAN_ID")
	if !ok {
		t.Fatal("FCT_LOANS has no LOAN_ID")
	}
	for _, want := range []string{"not_null", "unique"} {
		if !slices.Contains(loanID.Tests, want) {
			t.Errorf("FCT_LOANS.LOAN_ID tests = %q, want %s among them", loanID.Tests, want)
		}
	}

	// The exposure names no columns: it is a table-level consumer of its
	// four marts.
	exposure := dbtID("exposure.acme_risk.credit_risk_model")
	var from []string
	for id, e := range g.Edges {
		if id.To == exposure {
			from = append(from, id.From.Name)
			if e.Evidence[0].Method != "depends_on" {
				t.Errorf("%s -> exposure: method %q", id.From, e.Evidence[0].Method)
			}
		}
	}
	slices.Sort(from)
	want := []string{"ANALYTICS.MARTS.DIM_BORROWERS", "ANALYTICS.MARTS.FCT_LOANS", "ANALYTICS.MARTS.FCT_LOAN_RISK", "ANALYTICS.MARTS.FCT_PAYMENTS"}
	if diff := cmp.Diff(want, from); diff != "" {
		t.Errorf("credit_risk_model's upstream (-want +got):\n%s", diff)
	}
	for id := range g.ColumnEdges {
		if id.To.Dataset == exposure {
			t.Errorf("column edge into the exposure: %s", id.From)
		}
	}
}

// TestPythonModel: a Python model is table level only, from depends_on,
// with an info finding that says so and no statement.
func TestPythonModel(t *testing.T) {
	e, err := New(Config{Manifest: filepath.Join("testdata", "semantic", "target", "manifest.json"), Account: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	b := extractOne(t, e)
	id := graph.DatasetID{Namespace: "snowflake://shop", Name: "ANALYTICS.MARTS.PY_SCORES"}
	if b.Graph.Edges[graph.EdgeID{From: graph.DatasetID{Namespace: "snowflake://shop", Name: "ANALYTICS.MARTS.ORDERS"}, To: id}] == nil {
		t.Error("no table edge orders -> py_scores from depends_on")
	}
	for _, s := range b.Statements {
		if s.Origin.NodeID == "model.shop.py_scores" {
			t.Error("python model has a statement")
		}
	}
	var got []graph.Finding
	for _, f := range b.Graph.Findings {
		if f.Code == "python_model" {
			got = append(got, f)
		}
	}
	want := []graph.Finding{{
		Severity: graph.SeverityInfo, Code: "python_model",
		Location: filepath.Join("testdata", "semantic", "target", "manifest.json") + ": nodes.model.shop.py_scores",
		Subject:  "model.shop.py_scores",
		Message:  "python model: weft does not analyse Python code, so its lineage is table-level only (from depends_on) and its columns have no upstream column edges",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("python_model finding (-want +got):\n%s", diff)
	}
}

// FuzzExprColumns: the tokenizer never panics, and every identifier it
// returns is non-empty and appears in the input.
func FuzzExprColumns(f *testing.F) {
	for _, s := range []string{"loan_id", "date_trunc('day', x)", `"A"."B"`, "{{ x }", "a:b::c", "'unterminated", "/* x", "t.", "{%", "x -- c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, plain := exprColumns(s)
		if plain && len(ids) != 1 {
			t.Fatalf("plain with %d identifiers", len(ids))
		}
		for _, id := range ids {
			if id.text == "" || !strings.Contains(s, id.text) {
				t.Fatalf("identifier %q not in %q", id.text, s)
			}
		}
	})
}
