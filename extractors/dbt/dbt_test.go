package dbt

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got with testdata/<name>, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./extractors/dbt -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func acmeConfig() Config {
	return Config{
		Manifest:   filepath.Join("testdata", "acme_risk", "manifest.json"),
		Catalog:    filepath.Join("testdata", "acme_risk", "catalog.json"),
		RunResults: filepath.Join("testdata", "acme_risk", "run_results.json"),
		Account:    "acme-prod",
	}
}

// extractOne runs e and returns its single batch.
func extractOne(t *testing.T, e extractors.Extractor) extractors.Batch {
	t.Helper()
	var batches []extractors.Batch
	err := e.Extract(t.Context(), func(b extractors.Batch) error {
		batches = append(batches, b)
		return nil
	})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if len(batches) != 1 {
		t.Fatalf("got %d batches, want 1", len(batches))
	}
	return batches[0]
}

// TestAcme checks the whole output for a small project that has one of
// everything: the golden is a readable dump of the graph and statements.
func TestAcme(t *testing.T) {
	e, err := New(acmeConfig())
	if err != nil {
		t.Fatal(err)
	}
	b := extractOne(t, e)
	checkGolden(t, "acme_risk/extract.golden", dumpBatch(b))
}

// TestAcmeProject checks what other packages read from Project directly.
func TestAcmeProject(t *testing.T) {
	e, err := New(acmeConfig())
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		ResourceType, Relation, Materialized, Language, Version string
		Contract                                                bool
		DependsOn, Tests                                        []string
		Test                                                    *TestInfo
	}
	got := map[string]summary{}
	for _, n := range p.Nodes {
		got[n.UniqueID] = summary{
			ResourceType: n.ResourceType, Relation: n.Relation.Name, Materialized: n.Materialized,
			Language: n.Language, Version: n.Version, Contract: n.ContractEnforced,
			DependsOn: n.DependsOn, Tests: n.Tests, Test: n.Test,
		}
	}
	want := map[string]summary{
		"model.acme_risk.fct_loans": {
			ResourceType: "model", Relation: "ANALYTICS.MARTS.FCT_LOANS", Materialized: "incremental", Language: "sql", Contract: true,
			DependsOn: []string{"model.acme_risk.int_loan_payments", "model.acme_risk.stg_loans", "seed.acme_risk.country_codes"},
			Tests:     []string{"dbt_utils.expression_is_true(expression=paid <= principal)", "not_null on lower(status)", "unit_test:test_net_outstanding"},
		},
		"model.acme_risk.int_loan_payments": {
			ResourceType: "model", Materialized: "ephemeral", Language: "sql",
			DependsOn: []string{"model.acme_risk.stg_loans", "model.acme_risk.stg_payments"},
		},
		"model.acme_risk.stg_payments": {
			ResourceType: "model", Relation: "ANALYTICS.STAGING.STG_PAYMENTS", Materialized: "view", Language: "sql",
			DependsOn: []string{"source.acme_risk.raw_loans.payments"},
			Tests:     []string{"assert_payments_match_loans"},
		},
		"test.acme_risk.relationships_fct_loans_borrower_id__borrower_id__ref_dim_borrower_.7a8b9c": {
			ResourceType: "test", Materialized: "test", Language: "sql",
			DependsOn: []string{"model.acme_risk.dim_borrower.v2", "model.acme_risk.fct_loans"},
			Test: &TestInfo{
				AttachedTo: []string{"model.acme_risk.fct_loans"},
				Column:     "borrower_id",
				Label:      "relationships(to=ref('dim_borrower'), field=borrower_id)",
			},
		},
		"model.acme_risk.dim_borrower.v1": {
			ResourceType: "model", Relation: "ANALYTICS.MARTS.dim_borrower_v1", Materialized: "table", Language: "sql", Version: "1",
			DependsOn: []string{"model.acme_risk.stg_loans"},
		},
	}
	for id, w := range want {
		if diff := cmp.Diff(w, got[id]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", id, diff)
		}
	}
	for _, gone := range []string{"model.acme_risk.legacy_report", "model.acme_risk.old_loans", "operation.acme_risk.acme_risk-on-run-end-0"} {
		if p.Node(gone) != nil {
			t.Errorf("%s: disabled node or hook was kept", gone)
		}
	}
	if !p.Disabled("model.acme_risk.legacy_report") || !p.Disabled("model.acme_risk.old_loans") {
		t.Errorf("disabled nodes not recorded")
	}
}

// TestBadInput runs each testdata/bad/*.json through Load; the golden
// holds the exact error, or the findings of input that loads.
func TestBadInput(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/bad/*.json")
	}
	wantErr := map[string]bool{
		"catalog_as_manifest.json": true,
		"empty.json":               true,
		"not_manifest.json":        true,
		"syntax.json":              true,
		"truncated.json":           true,
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			e, err := New(Config{Manifest: f})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			err = e.Extract(t.Context(), func(b extractors.Batch) error {
				for _, f := range b.Graph.Findings {
					fmt.Fprintf(&out, "%s %s %s: %s\n", f.Severity, f.Code, f.Location, f.Message)
				}
				return nil
			})
			if (err != nil) != wantErr[name] {
				t.Fatalf("error = %v, want error: %v", err, wantErr[name])
			}
			if err != nil {
				out.WriteString("error: " + err.Error() + "\n")
			}
			checkGolden(t, filepath.Join("bad", strings.TrimSuffix(name, ".json")+".golden"), out.String())
		})
	}
}

// TestWrongArtifacts checks that a catalog or run_results that is really
// something else is refused with the file's name.
func TestWrongArtifacts(t *testing.T) {
	manifest := filepath.Join("testdata", "acme_risk", "manifest.json")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{
			name: "manifest as catalog",
			cfg:  Config{Manifest: manifest, Catalog: manifest},
			want: "testdata/acme_risk/manifest.json: not a dbt catalog (metadata.dbt_schema_version is https://schemas.getdbt.com/dbt/manifest/v12.json); pass target/catalog.json (from \"dbt docs generate\")",
		},
		{
			name: "catalog as run results",
			cfg:  Config{Manifest: manifest, RunResults: filepath.Join("testdata", "acme_risk", "catalog.json")},
			want: "testdata/acme_risk/catalog.json: not a dbt run_results (metadata.dbt_schema_version is https://schemas.getdbt.com/dbt/catalog/v1.json); pass target/run_results.json",
		},
		{
			name: "truncated catalog",
			cfg:  Config{Manifest: manifest, Catalog: filepath.Join("testdata", "bad", "truncated.json")},
			want: "testdata/bad/truncated.json:733:23: truncated JSON: input ends at byte 20000 (inside nodes.test.acme_risk.unique_fct_loans_loan_id.4d5e6f.contract.enforced); re-run dbt to regenerate it",
		},
		{
			name: "missing file",
			cfg:  Config{Manifest: filepath.Join("testdata", "nope.json")},
			want: "read dbt manifest: open testdata/nope.json: no such file or directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Extract(t.Context(), func(extractors.Batch) error { return nil })
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "manifest is required") {
		t.Errorf("New(Config{}) error = %v, want manifest is required", err)
	}
	// New does no I/O: a path that does not exist is fine until Extract.
	if _, err := New(Config{Manifest: "does/not/exist.json"}); err != nil {
		t.Errorf("New with a missing file: %v", err)
	}
}

// TestRelationNames covers the identity rules per adapter.
func TestRelationNames(t *testing.T) {
	tr, fa := true, false
	tests := []struct {
		name    string
		adapter string
		node    Node
		want    string
	}{
		{"snowflake relation_name folds unquoted", "snowflake", Node{RelationName: "analytics.marts.fct_loans"}, "ANALYTICS.MARTS.FCT_LOANS"},
		{"snowflake quoted part keeps case", "snowflake", Node{RelationName: `ANALYTICS.MARTS."FctLoans"`}, "ANALYTICS.MARTS.FctLoans"},
		{"snowflake parts, default unquoted", "snowflake", Node{Database: "analytics", Schema: "marts", Alias: "fct"}, "ANALYTICS.MARTS.FCT"},
		{"snowflake parts, identifier quoted", "snowflake", Node{Database: "analytics", Schema: "marts", Alias: "Fct", quoting: quoting{identifier: &tr}}, "ANALYTICS.MARTS.Fct"},
		{"postgres parts, default quoted", "postgres", Node{Database: "Shop", Schema: "public", Alias: "orders"}, "Shop.public.orders"},
		{"postgres parts, quoting off", "postgres", Node{Database: "Shop", Schema: "public", Alias: "Orders", quoting: quoting{database: &fa, identifier: &fa}}, "shop.public.orders"},
		{"postgres relation_name", "postgres", Node{RelationName: `"shop"."public"."orders"`}, "shop.public.orders"},
		{"bigquery as written", "bigquery", Node{RelationName: "`my-project`.`Sales`.`Orders`"}, "my-project.Sales.Orders"},
		{"databricks three parts", "databricks", Node{RelationName: "Main.Risk.Features"}, "main.risk.features"},
		{"databricks hive metastore", "databricks", Node{RelationName: "`cosmos`.`customers`"}, "hive_metastore.cosmos.customers"},
		{"spark two parts", "spark", Node{RelationName: "default.orders"}, "default.orders"},
		{"alias falls back to name", "duckdb", Node{Name: "orders", Database: "db", Schema: "main"}, "db.main.orders"},
		{"source identifier", "snowflake", Node{ResourceType: "source", Name: "loans", Database: "raw", Schema: "loans", Alias: "LOANS_V2"}, "RAW.LOANS.LOANS_V2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Project{AdapterType: tt.adapter}
			p.setPlatform("acct")
			n := tt.node
			if n.ResourceType == "" {
				n.ResourceType = "model"
			}
			p.setIdentity(&n)
			if diff := cmp.Diff(graph.DatasetID{Namespace: tt.adapter + "://acct", Name: tt.want}, n.Relation); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// dumpBatch renders a batch as sorted text for goldens.
func dumpBatch(b extractors.Batch) string {
	var w strings.Builder
	g := b.Graph
	ids := sortedKeys(g.Datasets, func(id graph.DatasetID) string { return id.String() })
	for _, id := range ids {
		d := g.Datasets[id]
		fmt.Fprintf(&w, "dataset %s (%s %s)\n", id, d.Platform, d.Kind)
		if d.Description != "" {
			fmt.Fprintf(&w, "  description: %s\n", d.Description)
		}
		for _, ident := range d.Identities {
			fmt.Fprintf(&w, "  identity %s (%s)\n", ident.ID, ident.Reason)
		}
		for _, k := range sortedKeys(d.Properties, func(k string) string { return k }) {
			fmt.Fprintf(&w, "  %s = %s\n", k, d.Properties[k])
		}
		for _, c := range d.Columns {
			fmt.Fprintf(&w, "  column %s %s", c.Name, c.Type)
			if c.Description != "" {
				fmt.Fprintf(&w, " %q", c.Description)
			}
			if len(c.Tests) > 0 {
				fmt.Fprintf(&w, " tests=%s", strings.Join(c.Tests, "; "))
			}
			w.WriteString("\n")
		}
	}
	for _, id := range sortedKeys(g.Edges, func(id graph.EdgeID) string { return id.From.String() + " " + id.To.String() }) {
		e := g.Edges[id]
		fmt.Fprintf(&w, "edge %s -> %s\n", id.From, id.To)
		for _, ev := range e.Evidence {
			fmt.Fprintf(&w, "  evidence %s %s %s job=%s seen=%s..%s count=%d\n", ev.Extractor, ev.Origin, ev.Method, ev.Job,
				ev.FirstSeen.Format(time.RFC3339), ev.LastSeen.Format(time.RFC3339), ev.Count)
		}
	}
	for _, id := range sortedKeys(g.ColumnEdges, func(id graph.ColumnEdgeID) string {
		return id.From.String() + " " + id.To.String() + " " + id.Type + " " + id.Subtype
	}) {
		e := g.ColumnEdges[id]
		fmt.Fprintf(&w, "column edge %s -> %s %s %s\n", id.From, id.To, id.Type, id.Subtype)
		for _, ev := range e.Evidence {
			fmt.Fprintf(&w, "  evidence %s %s %s job=%s confidence=%g\n", ev.Extractor, ev.Origin, ev.Method, ev.Job, ev.Confidence)
		}
	}
	for _, id := range sortedKeys(g.Jobs, func(id graph.JobID) string { return id.String() }) {
		j := g.Jobs[id]
		fmt.Fprintf(&w, "job %s %s props=%v sql=%d bytes\n", id, j.Type, j.Properties, len(j.SQL))
	}
	for _, id := range sortedKeys(g.Runs, func(id string) string { return id }) {
		r := g.Runs[id]
		fmt.Fprintf(&w, "run %s job=%s parent=%s state=%s %s..%s\n", id, r.Job, r.Parent, r.State,
			r.Start.Format(time.RFC3339Nano), r.End.Format(time.RFC3339Nano))
	}
	for _, f := range g.Findings {
		fmt.Fprintf(&w, "finding %s %s %s [%s]: %s\n", f.Severity, f.Code, f.Location, f.Subject, f.Message)
	}
	for _, s := range b.Statements {
		fmt.Fprintf(&w, "statement %s dialect=%s ns=%s default=%s.%s target=%s job=%s node=%s\n",
			s.Origin, s.Dialect, s.Namespace, s.DefaultDatabase, s.DefaultSchema, s.Target, s.Job, s.Origin.NodeID)
		for line := range strings.Lines(s.SQL) {
			w.WriteString("  | " + strings.TrimRight(line, "\n") + "\n")
		}
	}
	return w.String()
}

func sortedKeys[K comparable, V any](m map[K]V, key func(K) string) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int { return strings.Compare(key(a), key(b)) })
	return keys
}
