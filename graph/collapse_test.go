package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCollapseTemp(t *testing.T) {
	ns := "snowflake://acme"
	id := func(n string) DatasetID { return DatasetID{Namespace: ns, Name: n} }
	col := func(n, c string) ColumnID { return ColumnID{Dataset: id(n), Column: c} }
	ev := func(origin string) Evidence {
		return Evidence{Extractor: "snowflake", Origin: origin, Method: "access_history", Count: 1}
	}

	g := New()
	g.AddDataset(Dataset{ID: id("RAW.PAYMENTS"), Kind: KindTable})
	g.AddDataset(Dataset{ID: id("RAW.LOANS"), Kind: KindTable})
	// a temp table seen by a parser as a plain table: the property marks it
	g.AddDataset(Dataset{ID: id("SANDBOX.TMP_LATE"), Kind: KindTable, Properties: map[string]string{PropTemporary: "true"}})
	g.AddDataset(Dataset{ID: id("SANDBOX.TMP_CHAIN"), Kind: KindTemp})
	g.AddDataset(Dataset{ID: id("SANDBOX.WORKLIST"), Kind: KindTable})

	g.AddEdge(id("RAW.PAYMENTS"), id("SANDBOX.TMP_LATE"), ev("q1"))
	g.AddEdge(id("SANDBOX.TMP_LATE"), id("SANDBOX.TMP_CHAIN"), ev("q2"))
	g.AddEdge(id("SANDBOX.TMP_CHAIN"), id("SANDBOX.WORKLIST"), ev("q3"))
	g.AddEdge(id("RAW.LOANS"), id("SANDBOX.WORKLIST"), ev("q3"))
	g.AddEdge(id("SANDBOX.TMP_LATE"), id("SANDBOX.TMP_LATE"), ev("q9")) // INSERT INTO tmp SELECT FROM tmp

	add := func(from, to ColumnID, typ, sub, origin string) {
		g.AddColumnEdge(ColumnEdgeID{From: from, To: to, Type: typ, Subtype: sub}, ev(origin))
	}
	add(col("RAW.PAYMENTS", "LOAN_ID"), col("SANDBOX.TMP_LATE", "LOAN_ID"), Direct, SubtypeIdentity, "q1")
	add(col("RAW.PAYMENTS", "AMOUNT"), col("SANDBOX.TMP_LATE", "SHORTFALL"), Direct, SubtypeAggregation, "q1")
	add(col("RAW.PAYMENTS", "STATUS"), col("SANDBOX.TMP_LATE", ""), Indirect, SubtypeFilter, "q1")
	add(col("SANDBOX.TMP_LATE", "LOAN_ID"), col("SANDBOX.TMP_CHAIN", "LOAN_ID"), Direct, SubtypeIdentity, "q2")
	add(col("SANDBOX.TMP_LATE", "SHORTFALL"), col("SANDBOX.TMP_CHAIN", "SHORTFALL"), Direct, SubtypeTransformation, "q2")
	add(col("SANDBOX.TMP_CHAIN", "LOAN_ID"), col("SANDBOX.WORKLIST", "LOAN_ID"), Direct, SubtypeIdentity, "q3")
	add(col("SANDBOX.TMP_CHAIN", "LOAN_ID"), col("SANDBOX.WORKLIST", ""), Indirect, SubtypeJoin, "q3")
	add(col("SANDBOX.TMP_CHAIN", "SHORTFALL"), col("SANDBOX.WORKLIST", "SHORTFALL"), Direct, SubtypeIdentity, "q3")
	add(col("RAW.LOANS", "LOAN_ID"), col("SANDBOX.WORKLIST", ""), Indirect, SubtypeJoin, "q3")

	removed := g.CollapseTemp()
	if diff := cmp.Diff([]DatasetID{id("SANDBOX.TMP_CHAIN"), id("SANDBOX.TMP_LATE")}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	var names []string
	for d := range g.Datasets {
		names = append(names, d.Name)
	}
	if len(g.Datasets) != 3 || g.Datasets[id("SANDBOX.TMP_LATE")] != nil || g.Datasets[id("SANDBOX.TMP_CHAIN")] != nil {
		t.Errorf("datasets after collapse: %v", names)
	}

	type edge struct {
		From, To string
		Origins  []string
	}
	var edges []edge
	for _, e := range g.Edges {
		var o []string
		for _, ev := range e.Evidence {
			o = append(o, ev.Origin)
		}
		edges = append(edges, edge{e.From.Name, e.To.Name, o})
	}
	wantEdges := []edge{
		{"RAW.LOANS", "SANDBOX.WORKLIST", []string{"q3"}},
		{"RAW.PAYMENTS", "SANDBOX.WORKLIST", []string{"q1", "q2", "q3"}},
	}
	sortBy := cmp.Transformer("sort", func(in []edge) []edge {
		out := append([]edge(nil), in...)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if out[j].From+out[j].To < out[i].From+out[i].To {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	})
	if diff := cmp.Diff(wantEdges, edges, sortBy); diff != "" {
		t.Errorf("table edges (-want +got):\n%s", diff)
	}

	got := map[string]int{}
	for id, e := range g.ColumnEdges {
		got[id.From.String()+" -> "+id.To.String()+" "+id.Type+"/"+id.Subtype] = len(e.Evidence)
	}
	want := map[string]int{
		ns + "/RAW.PAYMENTS.LOAN_ID -> " + ns + "/SANDBOX.WORKLIST.LOAN_ID DIRECT/IDENTITY":     3,
		ns + "/RAW.PAYMENTS.LOAN_ID -> " + ns + "/SANDBOX.WORKLIST INDIRECT/JOIN":               3,
		ns + "/RAW.PAYMENTS.AMOUNT -> " + ns + "/SANDBOX.WORKLIST.SHORTFALL DIRECT/AGGREGATION": 3,
		ns + "/RAW.PAYMENTS.STATUS -> " + ns + "/SANDBOX.WORKLIST.LOAN_ID INDIRECT/FILTER":      3,
		ns + "/RAW.PAYMENTS.STATUS -> " + ns + "/SANDBOX.WORKLIST.SHORTFALL INDIRECT/FILTER":    3,
		ns + "/RAW.PAYMENTS.STATUS -> " + ns + "/SANDBOX.WORKLIST INDIRECT/FILTER":              3,
		ns + "/RAW.LOANS.LOAN_ID -> " + ns + "/SANDBOX.WORKLIST INDIRECT/JOIN":                  1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("column edges (-want +got):\n%s", diff)
	}

	// idempotent: nothing left to collapse
	if again := g.CollapseTemp(); len(again) != 0 {
		t.Errorf("second collapse removed %v", again)
	}
}

func TestComposeTransform(t *testing.T) {
	for _, c := range []struct{ t1, s1, t2, s2, t, s string }{
		{Direct, SubtypeIdentity, Direct, SubtypeIdentity, Direct, SubtypeIdentity},
		{Direct, SubtypeIdentity, Direct, SubtypeAggregation, Direct, SubtypeAggregation},
		{Direct, SubtypeTransformation, Direct, SubtypeIdentity, Direct, SubtypeTransformation},
		{Direct, SubtypeTransformation, Direct, SubtypeAggregation, Direct, SubtypeAggregation},
		{Direct, SubtypeAggregation, Direct, SubtypeTransformation, Direct, SubtypeAggregation},
		{Direct, SubtypeTransformation, Direct, SubtypeTransformation, Direct, SubtypeTransformation},
		{Indirect, SubtypeFilter, Direct, SubtypeIdentity, Indirect, SubtypeFilter},
		{Direct, SubtypeIdentity, Indirect, SubtypeJoin, Indirect, SubtypeJoin},
		{Indirect, SubtypeFilter, Indirect, SubtypeJoin, Indirect, SubtypeFilter},
	} {
		if gt, gs := composeTransform(c.t1, c.s1, c.t2, c.s2); gt != c.t || gs != c.s {
			t.Errorf("compose(%s/%s, %s/%s) = %s/%s, want %s/%s", c.t1, c.s1, c.t2, c.s2, gt, gs, c.t, c.s)
		}
	}
}
