package weave

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// A Snowflake session stages rows in a temp table, then writes the lasting
// table from it. The temp table must not appear; its upstreams become the
// lasting table's upstreams, typed through both steps.
func TestTempTablesResolveThrough(t *testing.T) {
	g := graph.New()
	g.AddDataset(graph.Dataset{ID: ds("RAW.CORE.LOANS"), Platform: graph.Snowflake, Kind: graph.KindTable,
		Columns: cols("ID", "RATE", "STATUS")})
	g.AddDataset(graph.Dataset{ID: ds("ANALYTICS.PUBLIC.TMP_LOANS"), Platform: graph.Snowflake, Kind: graph.KindTemp})
	g.AddDataset(graph.Dataset{ID: ds("ANALYTICS.PUBLIC.TMP_RATES"), Platform: graph.Snowflake, Kind: graph.KindTemp})
	stmt := func(id, sql string) extractors.Statement {
		return extractors.Statement{SQL: sql, Dialect: "snowflake", Namespace: sf,
			DefaultDatabase: "ANALYTICS", DefaultSchema: "PUBLIC", Session: "s1",
			Origin: extractors.Origin{Extractor: "snowflake", QueryID: id}}
	}
	w := New(Options{Columns: true})
	w.Add(extractors.Batch{Graph: g, Statements: []extractors.Statement{
		// Out of order on purpose: the reads come before the creates.
		stmt("q3", "insert into analytics.marts.final (loan_id, rate_pct) select id, rate * 100 from tmp_rates"),
		stmt("q2", "create temporary table tmp_rates as select * from tmp_loans"),
		stmt("q1", "create temporary table tmp_loans as select id, rate from raw.core.loans where status = 'ACTIVE'"),
	}})
	out, st, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tmp := range []string{"ANALYTICS.PUBLIC.TMP_LOANS", "ANALYTICS.PUBLIC.TMP_RATES"} {
		if _, ok := out.Datasets[ds(tmp)]; ok {
			t.Errorf("temp table %s is still in the graph", tmp)
		}
	}
	var got []string
	for id := range out.ColumnEdges {
		got = append(got, id.From.Column+" -> "+id.To.Dataset.Name+"."+id.To.Column+" "+id.Type+"/"+id.Subtype)
	}
	want := []string{
		"ID -> ANALYTICS.MARTS.FINAL.LOAN_ID DIRECT/IDENTITY",
		"RATE -> ANALYTICS.MARTS.FINAL.RATE_PCT DIRECT/TRANSFORMATION",
		// The filter on what went into the temp table reaches every
		// column it passed on (graph.CollapseTemp).
		"STATUS -> ANALYTICS.MARTS.FINAL.LOAN_ID INDIRECT/FILTER",
		"STATUS -> ANALYTICS.MARTS.FINAL.RATE_PCT INDIRECT/FILTER",
	}
	if diff := cmp.Diff(want, slices.Sorted(slices.Values(got))); diff != "" {
		t.Errorf("column edges (-want +got):\n%s\nstats %+v", diff, st)
	}
	if _, ok := out.Edges[graph.EdgeID{From: ds("RAW.CORE.LOANS"), To: ds("ANALYTICS.MARTS.FINAL")}]; !ok {
		t.Errorf("missing table edge RAW.CORE.LOANS -> FINAL; have %v", keys(out.Edges))
	}
	if st.Partial != 0 {
		t.Errorf("%d statements stayed partial; the retry should have completed them", st.Partial)
	}
}
