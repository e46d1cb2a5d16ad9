package weave

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
)

func TestBuildDBTLineage(t *testing.T) {
	w := New(Options{Columns: true, Workers: 2})
	w.Add(dbtBatch())
	g, st, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Distinct != 2 || st.Full+st.Partial != 2 {
		t.Errorf("stats = %+v, want 2 distinct statements parsed", st)
	}

	// The staging model's columns were learned from its SQL.
	var stg []string
	for _, c := range g.Datasets[ds("ANALYTICS.STAGING.STG_LOANS")].Columns {
		stg = append(stg, c.Name)
	}
	if diff := cmp.Diff([]string{"LOAN_ID", "INTEREST_RATE", "PRINCIPAL"}, stg); diff != "" {
		t.Errorf("STG_LOANS columns (-want +got):\n%s", diff)
	}

	has := func(from, to graph.ColumnID, typ, sub string) bool {
		_, ok := g.ColumnEdges[graph.ColumnEdgeID{From: from, To: to, Type: typ, Subtype: sub}]
		return ok
	}
	col := func(d, c string) graph.ColumnID { return graph.ColumnID{Dataset: ds(d), Column: c} }
	want := []struct {
		from, to graph.ColumnID
		typ, sub string
	}{
		{col("RAW.CORE.LOANS", "RATE"), col("ANALYTICS.STAGING.STG_LOANS", "INTEREST_RATE"), graph.Direct, graph.SubtypeIdentity},
		{col("RAW.CORE.LOANS", "AMOUNT"), col("ANALYTICS.STAGING.STG_LOANS", "PRINCIPAL"), graph.Direct, graph.SubtypeTransformation},
		{col("RAW.CORE.LOANS", "STATUS"), col("ANALYTICS.STAGING.STG_LOANS", ""), graph.Indirect, graph.SubtypeFilter},
		// select l.* expanded through the learned columns.
		{col("ANALYTICS.STAGING.STG_LOANS", "INTEREST_RATE"), col("ANALYTICS.MARTS.FCT_LOANS", "INTEREST_RATE"), graph.Direct, graph.SubtypeIdentity},
		{col("ANALYTICS.STAGING.STG_LOANS", "LOAN_ID"), col("ANALYTICS.MARTS.FCT_LOANS", ""), graph.Indirect, graph.SubtypeJoin},
		{col("RAW.CORE.BORROWERS", "REGION"), col("ANALYTICS.MARTS.FCT_LOANS", ""), graph.Indirect, graph.SubtypeFilter},
	}
	for _, e := range want {
		if !has(e.from, e.to, e.typ, e.sub) {
			t.Errorf("missing column edge %s -> %s %s/%s", e.from, e.to, e.typ, e.sub)
		}
	}
	// Parsed evidence sits beside the depends_on evidence.
	e := g.Edges[graph.EdgeID{From: ds("RAW.CORE.LOANS"), To: ds("ANALYTICS.STAGING.STG_LOANS")}]
	if e == nil {
		t.Fatal("missing table edge RAW.CORE.LOANS -> STG_LOANS")
	}
	var methods []string
	for _, ev := range e.Evidence {
		methods = append(methods, ev.Method)
	}
	slices.Sort(methods)
	if diff := cmp.Diff([]string{"depends_on", "parsed"}, methods); diff != "" {
		t.Errorf("evidence methods (-want +got):\n%s", diff)
	}
}

func TestForeignCatalogColumnEdgeCrossesPlatforms(t *testing.T) {
	out := buildForeignCatalog(t)
	edge := graph.ColumnEdgeID{
		From: graph.ColumnID{Dataset: ds("ANALYTICS.MARTS.FCT_LOANS"), Column: "INTEREST_RATE"},
		To:   graph.ColumnID{Dataset: graph.DatasetID{Namespace: "databricks://adb-1", Name: "main.risk_features.loan_features"}, Column: "rate_pct"},
		Type: graph.Direct, Subtype: graph.SubtypeTransformation,
	}
	if _, ok := out.ColumnEdges[edge]; !ok {
		t.Errorf("missing cross-platform column edge %v; have %v", edge, keys(out.ColumnEdges))
	}
}
