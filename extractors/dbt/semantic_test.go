package dbt

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
)

func mrrConfig() Config {
	return Config{Manifest: filepath.Join("testdata", "mrr", "target", "manifest.json"), Account: "adb-1234.5.azuredatabricks.net"}
}

// TestMRR checks the whole output for a subscription-revenue project
// (dbt 1.11 on Databricks) with a non-additive measure, a metric defined
// straight on its semantic model, and a saved query exported to a table
// and a view.
func TestMRR(t *testing.T) {
	e, err := New(mrrConfig())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "mrr/extract.golden", dumpBatch(extractOne(t, e)))
}

// TestExports: an export is a warehouse table or view fed by its saved
// query, column for column, named the way the warehouse spells
// MetricFlow's unquoted names.
func TestExports(t *testing.T) {
	dbx := func(name string) graph.DatasetID {
		return graph.DatasetID{Namespace: "databricks://adb-1234.5.azuredatabricks.net", Name: name}
	}
	sf := func(name string) graph.DatasetID { return graph.DatasetID{Namespace: "snowflake://shop", Name: name} }
	tests := []struct {
		name    string
		cfg     Config
		query   graph.DatasetID
		exports map[graph.DatasetID]graph.Kind
		columns []string // the exports' columns, in order
	}{
		{
			name:  "databricks",
			cfg:   mrrConfig(),
			query: graph.DatasetID{Namespace: "dbt://saas", Name: "saved_query.saas.mrr_report"},
			exports: map[graph.DatasetID]graph.Kind{
				dbx("main.reporting.mrr_monthly"):     graph.KindTable,
				dbx("main.reporting.mrr_report_view"): graph.KindView,
			},
			columns: []string{"mrr", "new_mrr", "metric_time__month", "subscription__region"},
		},
		{
			name:    "snowflake",
			cfg:     Config{Manifest: filepath.Join("testdata", "semantic", "target", "manifest.json"), Account: "shop"},
			query:   graph.DatasetID{Namespace: "dbt://shop", Name: "saved_query.shop.weekly_revenue"},
			exports: map[graph.DatasetID]graph.Kind{sf("ANALYTICS.MARTS.WEEKLY_REVENUE"): graph.KindTable},
			columns: []string{"REVENUE", "FOOD_SHARE", "METRIC_TIME__WEEK", "CUSTOMER__SEGMENT", "ORDER"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			g := extractOne(t, e).Graph
			query := g.Datasets[tt.query]
			if query == nil {
				t.Fatalf("no saved query %s", tt.query)
			}
			var got []graph.DatasetID
			for id := range g.Edges {
				if id.From == tt.query {
					got = append(got, id.To)
				}
			}
			slices.SortFunc(got, graph.DatasetID.Compare)
			want := slices.SortedFunc(maps.Keys(tt.exports), graph.DatasetID.Compare)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("datasets fed by the saved query (-want +got):\n%s", diff)
			}
			for id, kind := range tt.exports {
				d := g.Datasets[id]
				if d == nil {
					t.Errorf("no export dataset %s", id)
					continue
				}
				if d.Kind != kind || d.Platform == graph.DBT {
					t.Errorf("%s: kind %s on %s, want %s in the warehouse", id, d.Kind, d.Platform, kind)
				}
				if uid := d.Properties["dbt_unique_id"]; uid != "" {
					t.Errorf("%s: dbt_unique_id %q: an export is not a dbt node", id, uid)
				}
				if d.Properties["dbt_saved_query"] != tt.query.Name {
					t.Errorf("%s: dbt_saved_query = %q", id, d.Properties["dbt_saved_query"])
				}
				if ev := g.Edges[graph.EdgeID{From: tt.query, To: id}].Evidence[0]; ev.Method != "saved_query_export" || ev.Origin != tt.query.Name {
					t.Errorf("%s: table edge evidence %+v", id, ev)
				}
				var cols []string
				for _, c := range d.Columns {
					cols = append(cols, c.Name)
				}
				if diff := cmp.Diff(tt.columns, cols); diff != "" {
					t.Errorf("%s columns (-want +got):\n%s", id, diff)
				}
				// Column for column, from the saved query's column of
				// the same name.
				for i, c := range query.Columns {
					from := graph.ColumnID{Dataset: tt.query, Column: c.Name}
					to := graph.ColumnID{Dataset: id, Column: tt.columns[i]}
					if g.ColumnEdges[graph.ColumnEdgeID{From: from, To: to, Type: graph.Direct, Subtype: graph.SubtypeIdentity}] == nil {
						t.Errorf("no column edge %s -> %s", from, to)
					}
				}
			}
		})
	}
}

// TestExportUpstream follows an exported column back to the model's
// columns: through the metric and measure, the non-additive dimension's
// window, and the saved query's filter.
func TestExportUpstream(t *testing.T) {
	e, err := New(mrrConfig())
	if err != nil {
		t.Fatal(err)
	}
	g := extractOne(t, e).Graph
	ns := "databricks://adb-1234.5.azuredatabricks.net"
	start := graph.ColumnID{Dataset: graph.DatasetID{Namespace: ns, Name: "main.reporting.mrr_monthly"}, Column: "mrr"}
	fct := graph.DatasetID{Namespace: ns, Name: "main.saas.fct_subscriptions"}
	var got []string
	for _, s := range g.UpstreamColumns(start, 0) {
		if s.ID.Dataset == fct {
			got = append(got, s.ID.Column)
		}
	}
	slices.Sort(got)
	// mrr_amount is summed; snapshot_date and customer_id pick the rows
	// (the window); plan_id filters the saved query. region only groups
	// the saved query's other columns.
	want := []string{"customer_id", "mrr_amount", "plan_id", "snapshot_date"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("upstream of %s in fct_subscriptions (-want +got):\n%s", start, diff)
	}
}

// TestNonAdditiveDimension: a non-additive measure or metric depends on
// its dimension and window groupings (INDIRECT WINDOW); metric_time is
// the agg_time_dimension, and a measure's own agg_time_dimension wins
// over the semantic model's default.
func TestNonAdditiveDimension(t *testing.T) {
	e, err := New(mrrConfig())
	if err != nil {
		t.Fatal(err)
	}
	g := extractOne(t, e).Graph
	sm := graph.DatasetID{Namespace: "dbt://saas", Name: "semantic_model.saas.subscriptions"}
	col := func(c string) graph.ColumnID { return graph.ColumnID{Dataset: sm, Column: c} }
	var got []string
	for id, e := range g.ColumnEdges {
		if id.Subtype == graph.SubtypeWindow {
			if id.Type != graph.Indirect {
				t.Errorf("%s -> %s: %s WINDOW", id.From, id.To, id.Type)
			}
			got = append(got, id.From.Column+" -> "+id.To.Dataset.Name+"."+id.To.Column+" ("+e.Evidence[0].Method+")")
		}
	}
	slices.Sort(got)
	want := []string{
		// metric_aggregation_params.non_additive_dimension (dbt 1.11)
		"plan -> metric.saas.plan_mrr.plan_mrr (metric)",
		"region -> metric.saas.plan_mrr.plan_mrr (metric)",
		"snapshot_date -> metric.saas.plan_mrr.plan_mrr (metric)",
		// name: snapshot_date, window_groupings: [customer]
		"customer -> semantic_model.saas.subscriptions.mrr (semantic_model)",
		"snapshot_date -> semantic_model.saas.subscriptions.mrr (semantic_model)",
		// name: metric_time → defaults.agg_time_dimension
		"snapshot_date -> semantic_model.saas.subscriptions.paying_customers (semantic_model)",
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WINDOW edges (-want +got):\n%s", diff)
	}
	// The measures still read their own columns.
	fct := graph.DatasetID{Namespace: "databricks://adb-1234.5.azuredatabricks.net", Name: "main.saas.fct_subscriptions"}
	if g.ColumnEdges[graph.ColumnEdgeID{From: graph.ColumnID{Dataset: fct, Column: "mrr_amount"}, To: col("mrr"), Type: graph.Direct, Subtype: graph.SubtypeAggregation}] == nil {
		t.Error("mrr does not aggregate mrr_amount")
	}
	// new_mrr's agg_time_dimension is started_at: metric_time in the
	// saved query reads started_at for it, snapshot_date for mrr.
	month := graph.ColumnID{Dataset: graph.DatasetID{Namespace: "dbt://saas", Name: "saved_query.saas.mrr_report"}, Column: "metric_time__month"}
	for _, from := range []string{"started_at", "snapshot_date"} {
		if g.ColumnEdges[graph.ColumnEdgeID{From: col(from), To: month, Type: graph.Direct, Subtype: graph.SubtypeTransformation}] == nil {
			t.Errorf("no edge %s -> %s", col(from), month)
		}
	}
}

// TestExportRelations covers how an export's relation is named: unquoted
// parts folded by the platform, the saved query's schema and the export's
// name as defaults.
func TestExportRelations(t *testing.T) {
	tests := []struct {
		name    string
		adapter string
		export  Export
		want    string
	}{
		{"snowflake folds", "snowflake", Export{Database: "analytics", Schema: "marts", Alias: "weekly_revenue"}, "ANALYTICS.MARTS.WEEKLY_REVENUE"},
		{"postgres unquoted", "postgres", Export{Database: "Shop", Schema: "Reporting", Alias: "Daily"}, "shop.reporting.daily"},
		{"databricks three parts", "databricks", Export{Database: "main", Schema: "reporting", Alias: "mrr"}, "main.reporting.mrr"},
		{"databricks without catalog", "databricks", Export{Schema: "reporting", Alias: "mrr"}, "hive_metastore.reporting.mrr"},
		{"bigquery as written", "bigquery", Export{Database: "my-project", Schema: "Reporting", Alias: "mrr"}, "my-project.Reporting.mrr"},
		{"no schema", "snowflake", Export{Database: "analytics", Alias: "x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Project{AdapterType: tt.adapter, byID: map[string]*Node{}}
			p.setPlatform("acct")
			n := &Node{UniqueID: "saved_query.x.q", ResourceType: "saved_query", mapKey: "saved_queries", Query: &SavedQueryInfo{Exports: []Export{tt.export}}}
			p.setIdentity(n)
			got := n.Query.Exports[0].Relation
			want := graph.DatasetID{Namespace: tt.adapter + "://acct", Name: tt.want}
			if tt.want == "" {
				want = graph.DatasetID{}
				if !slices.ContainsFunc(p.Findings, func(f graph.Finding) bool { return f.Code == "bad_export" }) {
					t.Error("no bad_export finding")
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseSavedQueryExports: the export's own config wins; the saved
// query's config gives export_as and the schema; the alias defaults to
// the export's name.
func TestParseSavedQueryExports(t *testing.T) {
	e, err := New(Config{Manifest: filepath.Join("testdata", "bad", "export_no_schema.json")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := p.Node("saved_query.shop.daily_orders").Query.Exports
	want := []Export{
		{Name: "daily_orders", As: "table", Alias: "daily_orders"},
		{Name: "daily_orders_view", As: "view", Schema: "reporting", Alias: "daily_orders_view",
			Relation: graph.DatasetID{Namespace: "postgres://default", Name: "reporting.daily_orders_view"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exports (-want +got):\n%s", diff)
	}
}
