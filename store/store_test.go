package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
)

var (
	sf   = "snowflake://acme-prod"
	dbx  = "databricks://adb-1.azuredatabricks.net"
	t0   = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	hour = time.Hour
)

func ds(ns, name string) graph.DatasetID { return graph.DatasetID{Namespace: ns, Name: name} }

func col(d graph.DatasetID, c string) graph.ColumnID { return graph.ColumnID{Dataset: d, Column: c} }

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "weft.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// canon returns g normalised by the graph package's merge rules.
func canon(g *graph.Graph) *graph.Graph {
	n := graph.New()
	n.Merge(g)
	return n
}

func encode(t *testing.T, g *graph.Graph) string {
	t.Helper()
	var b bytes.Buffer
	if err := graph.Encode(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// withEndpoints returns canon(g) with a bare dataset for every edge
// endpoint and a bare job for every job evidence names that g does not
// describe, as Store.Graph returns them.
func withEndpoints(g *graph.Graph) *graph.Graph {
	g = canon(g)
	jobs := func(evs []graph.Evidence) {
		for _, ev := range evs {
			if !ev.Job.IsZero() {
				g.AddJob(graph.Job{ID: ev.Job})
			}
		}
	}
	for id, e := range g.Edges {
		g.AddDataset(graph.Dataset{ID: id.From})
		g.AddDataset(graph.Dataset{ID: id.To})
		jobs(e.Evidence)
	}
	for id, e := range g.ColumnEdges {
		g.AddDataset(graph.Dataset{ID: id.From.Dataset})
		g.AddDataset(graph.Dataset{ID: id.To.Dataset})
		jobs(e.Evidence)
	}
	for _, r := range g.Runs {
		if !r.Job.IsZero() {
			g.AddJob(graph.Job{ID: r.Job})
		}
	}
	return g
}

// checkGraph compares the store's graph at asOf with want (and its
// endpoints).
func checkGraph(t *testing.T, s *Store, asOf time.Time, want *graph.Graph) {
	t.Helper()
	got, err := s.Graph(t.Context(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(encode(t, withEndpoints(want)), encode(t, got)); diff != "" {
		t.Errorf("Graph(%v) mismatch (-want +got):\n%s", asOf, diff)
	}
}

func richGraph() *graph.Graph {
	g := graph.New()
	loans := ds(sf, "RAW.LOANS.LOANS")
	stg := ds(sf, "ANALYTICS.STAGING.STG_LOANS")
	fct := ds(sf, "ANALYTICS.MARTS.FCT_LOAN_RISK")
	feat := ds(dbx, "main.risk.features")
	g.AddDataset(graph.Dataset{ID: loans, Platform: graph.Snowflake, Kind: graph.KindTable, Description: "raw loans",
		Columns:    []graph.Column{{Name: "ID", Type: "NUMBER(38,0)"}, {Name: "AMOUNT", Type: "NUMBER(12,2)", Description: "principal"}},
		Properties: map[string]string{"table_type": "BASE TABLE"}})
	g.AddDataset(graph.Dataset{ID: stg, Platform: graph.Snowflake, Kind: graph.KindModel,
		Columns:    []graph.Column{{Name: "LOAN_ID", Type: "NUMBER", Tests: []string{"unique", "not_null"}}, {Name: "AMOUNT"}},
		Identities: []graph.Identity{{ID: ds("dbt://acme", "model.risk.stg_loans"), Reason: "dbt relation_name"}},
		Properties: map[string]string{"unique_id": "model.risk.stg_loans", "materialized": "view"}})
	g.AddDataset(graph.Dataset{ID: fct, Platform: graph.Snowflake, Kind: graph.KindModel,
		Columns: []graph.Column{{Name: "LOAN_ID"}, {Name: "RISK", Description: "ünïcode \"quoted\"\nline"}}})
	g.AddDataset(graph.Dataset{ID: feat, Platform: graph.Databricks, Kind: graph.KindTable,
		Identities: []graph.Identity{{ID: ds(sf, "ANALYTICS.MARTS.FEATURES"), Reason: "foreign catalog"}, {ID: ds(dbx, "x.y.z"), Reason: "location"}}})
	job := graph.JobID{Namespace: "dbt://acme", Name: "model.risk.stg_loans"}
	q := graph.JobID{Namespace: sf, Name: "query shape 42"}
	g.AddJob(graph.Job{ID: job, Type: "dbt_model", SQL: "select * from raw.loans.loans", Properties: map[string]string{"a": "b"}})
	g.AddJob(graph.Job{ID: q, Type: "snowflake_query"})
	g.AddRun(graph.Run{ID: "inv-1", Job: job, State: "success", Start: t0, End: t0.Add(time.Minute),
		Properties: map[string]string{"target": "prod"}})
	g.AddRun(graph.Run{ID: "01b2-query", Job: q, Parent: "inv-1", Start: t0.Add(time.Second)})
	g.AddEdge(loans, stg, graph.Evidence{Extractor: "dbt", Origin: "model.risk.stg_loans", Method: "depends_on", Job: job, Confidence: 1})
	g.AddEdge(loans, stg, graph.Evidence{Extractor: "snowflake", Origin: "snowflake query 01b2", Method: "access_history", Job: q,
		FirstSeen: t0.Add(-hour), LastSeen: t0, Count: 17, Confidence: 0.5})
	g.AddEdge(stg, fct, graph.Evidence{Extractor: "dbt", Origin: "model.risk.fct_loan_risk", Method: "parsed"})
	g.AddEdge(fct, feat, graph.Evidence{Extractor: "databricks", Origin: "databricks run 7", Count: 1, LastSeen: t0})
	g.Edges[graph.EdgeID{From: feat, To: fct}] = &graph.Edge{EdgeID: graph.EdgeID{From: feat, To: fct}} // no evidence
	g.AddColumnEdge(graph.ColumnEdgeID{From: col(loans, "ID"), To: col(stg, "LOAN_ID"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
		graph.Evidence{Extractor: "dbt", Origin: "model.risk.stg_loans", Method: "parsed", Job: job, Confidence: 1})
	g.AddColumnEdge(graph.ColumnEdgeID{From: col(loans, "ID"), To: col(stg, "LOAN_ID"), Type: graph.Indirect, Subtype: graph.SubtypeJoin},
		graph.Evidence{Extractor: "dbt", Origin: "model.risk.stg_loans", Method: "parsed", Job: job, Confidence: 1})
	g.AddColumnEdge(graph.ColumnEdgeID{From: col(stg, "AMOUNT"), To: col(fct, ""), Type: graph.Indirect, Subtype: graph.SubtypeFilter},
		graph.Evidence{Extractor: "snowflake", Origin: "q2", FirstSeen: t0, LastSeen: t0.Add(hour), Count: 3})
	return g
}

func TestRoundTrip(t *testing.T) {
	s := openTest(t)
	g := richGraph()
	if _, err := s.Commit(t.Context(), "snowflake", g, t0, CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	checkGraph(t, s, time.Time{}, g)
	checkGraph(t, s, t0, g)
	checkGraph(t, s, t0.Add(-time.Nanosecond), graph.New())
}

func TestRoundTripReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weft.db")
	ctx := t.Context()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "snowflake", richGraph(), t0, CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkGraph(t, s, time.Time{}, richGraph())
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotent(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	g := richGraph()
	st1, err := s.Commit(ctx, "snowflake", g, t0, CommitOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	c1, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := s.Commit(ctx, "snowflake", g, t0, CommitOptions{Now: t0.Add(hour)})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c1, c2); diff != "" {
		t.Errorf("counts changed by committing the same batch twice (-first +second):\n%s", diff)
	}
	if st1.NewEdges != 4 || st1.NewColumns != 3 || st1.Datasets != 4 {
		t.Errorf("first commit stats = %+v", st1)
	}
	if st2.NewEdges != 0 || st2.NewColumns != 0 || st2.Datasets != 0 {
		t.Errorf("second commit stats = %+v, want nothing new", st2)
	}
	checkGraph(t, s, time.Time{}, g)
	// Merging the batch with itself is what the store must have done.
	twice := canon(g)
	twice.Merge(g)
	checkGraph(t, s, time.Time{}, twice)
}

func TestEvidenceMerge(t *testing.T) {
	a, b := ds(sf, "A"), ds(sf, "B")
	ev := func(first, last time.Time, count int64, conf float64) graph.Evidence {
		return graph.Evidence{Extractor: "snowflake", Origin: "shape 1", Method: "parsed", FirstSeen: first, LastSeen: last, Count: count, Confidence: conf}
	}
	tests := []struct {
		name string
		obs  []graph.Evidence
	}{
		{"later window", []graph.Evidence{ev(t0, t0.Add(hour), 2, 1), ev(t0.Add(hour), t0.Add(2*hour), 5, 1)}},
		{"earlier window", []graph.Evidence{ev(t0.Add(hour), t0.Add(2*hour), 5, 0.5), ev(t0, t0.Add(hour), 2, 1)}},
		{"unknown first seen", []graph.Evidence{ev(time.Time{}, t0, 1, 0), ev(t0, t0, 1, 0)}},
		{"unknown then known", []graph.Evidence{ev(t0, t0, 1, 0), ev(time.Time{}, time.Time{}, 0, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			want := graph.New()
			for i, e := range tt.obs {
				g := graph.New()
				g.AddEdge(a, b, e)
				g.AddColumnEdge(graph.ColumnEdgeID{From: col(a, "X"), To: col(b, "Y"), Type: graph.Direct, Subtype: graph.SubtypeIdentity}, e)
				if _, err := s.Commit(t.Context(), "snowflake", g, time.Time{}, CommitOptions{Now: t0.Add(time.Duration(i) * hour)}); err != nil {
					t.Fatal(err)
				}
				want.Merge(g)
			}
			checkGraph(t, s, time.Time{}, want)
		})
	}
}

// manifest builds a dbt graph: source → stg → each model → report.
func manifest(models ...string) *graph.Graph {
	g := graph.New()
	src, stg, rep := ds(sf, "RAW.S.SRC"), ds(sf, "A.S.STG"), ds(sf, "A.S.REPORT")
	for _, d := range []graph.DatasetID{src, stg, rep} {
		g.AddDataset(graph.Dataset{ID: d, Platform: graph.Snowflake, Kind: graph.KindModel})
	}
	g.AddEdge(src, stg, graph.Evidence{Extractor: "dbt", Origin: "model.stg", Method: "depends_on"})
	for _, m := range models {
		id := ds(sf, "A.S."+m)
		g.AddDataset(graph.Dataset{ID: id, Platform: graph.Snowflake, Kind: graph.KindModel, Columns: []graph.Column{{Name: "X"}}})
		g.AddEdge(stg, id, graph.Evidence{Extractor: "dbt", Origin: "model." + m, Method: "depends_on"})
		g.AddEdge(id, rep, graph.Evidence{Extractor: "dbt", Origin: "model.report", Method: "depends_on"})
		g.AddColumnEdge(graph.ColumnEdgeID{From: col(stg, "X"), To: col(id, "X"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
			graph.Evidence{Extractor: "dbt", Origin: "model." + m, Method: "parsed"})
	}
	return g
}

func TestReplaceSourceAsOf(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	t1, t2, t3 := t0, t0.Add(24*hour), t0.Add(48*hour)
	m1, m2 := manifest("LOANS", "PAYMENTS"), manifest("LOANS")
	if _, err := s.ReplaceSource(ctx, "dbt", m1, CommitOptions{Now: t1}); err != nil {
		t.Fatal(err)
	}
	// Snowflake also saw STG → PAYMENTS: that edge outlives the model.
	stg, pay := ds(sf, "A.S.STG"), ds(sf, "A.S.PAYMENTS")
	q := graph.New()
	q.AddEdge(stg, pay, graph.Evidence{Extractor: "snowflake", Origin: "shape 9", Method: "parsed", LastSeen: t1, Count: 2})
	if _, err := s.Commit(ctx, "snowflake", q, t1, CommitOptions{Now: t1}); err != nil {
		t.Fatal(err)
	}
	st, err := s.ReplaceSource(ctx, "dbt", m2, CommitOptions{Now: t2})
	if err != nil {
		t.Fatal(err)
	}
	if st.EndedEdges != 1 || st.EndedColumn != 1 {
		t.Errorf("second manifest ended %d edges and %d column edges, want 1 and 1", st.EndedEdges, st.EndedColumn)
	}

	before := canon(m1)
	before.Merge(q)
	checkGraph(t, s, t1, before)
	checkGraph(t, s, t2.Add(-time.Nanosecond), before)
	// PAYMENTS stays, as the end of a current edge, but dbt no longer
	// describes it.
	after := canon(m2)
	after.Merge(q)
	checkGraph(t, s, t2, after)
	checkGraph(t, s, time.Time{}, after)

	// Without the Snowflake edge, PAYMENTS would be gone entirely.
	got, err := s.Graph(ctx, t2)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Edges[graph.EdgeID{From: pay, To: ds(sf, "A.S.REPORT")}]; ok {
		t.Error("PAYMENTS → REPORT still current after the model was removed")
	}

	// The model comes back: new periods start; the gap stays empty. STG →
	// PAYMENTS stayed current, so its period, t2 included, now carries the
	// dbt evidence again: evidence is not versioned within a period.
	if _, err := s.ReplaceSource(ctx, "dbt", m1, CommitOptions{Now: t3}); err != nil {
		t.Fatal(err)
	}
	gap := canon(after)
	gap.AddEdge(stg, pay, graph.Evidence{Extractor: "dbt", Origin: "model.PAYMENTS", Method: "depends_on"})
	checkGraph(t, s, t2, gap)
	if _, ok := gap.Edges[graph.EdgeID{From: pay, To: ds(sf, "A.S.REPORT")}]; ok {
		t.Fatal("test bug")
	}
	checkGraph(t, s, t3, before)
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Periods: the 5 table edges of m1, the split of STG → PAYMENTS at t2
	// and PAYMENTS → REPORT again from t3.
	if c.Edges != 5 || c.EdgePeriods != 7 {
		t.Errorf("counts = %+v, want 5 current edges in 7 periods", c)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReplaceSourceRemovedModel(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	t1, t2 := t0, t0.Add(24*hour)
	if _, err := s.ReplaceSource(ctx, "dbt", manifest("LOANS", "PAYMENTS"), CommitOptions{Now: t1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceSource(ctx, "dbt", manifest("LOANS"), CommitOptions{Now: t2}); err != nil {
		t.Fatal(err)
	}
	pay := ds(sf, "A.S.PAYMENTS")
	for _, tc := range []struct {
		asOf time.Time
		want bool
	}{{t1, true}, {t2.Add(-time.Second), true}, {t2, false}, {t2.Add(time.Hour), false}, {time.Time{}, false}} {
		g, err := s.Graph(ctx, tc.asOf)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := g.Datasets[pay]; got != tc.want {
			t.Errorf("as of %v: PAYMENTS present = %v, want %v", tc.asOf, got, tc.want)
		}
	}
}

func TestExpire(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	a, b, c, d := ds(sf, "A"), ds(sf, "B"), ds(sf, "C"), ds(sf, "D")
	old := t0.Add(-40 * 24 * hour)
	q := graph.New()
	q.AddEdge(a, b, graph.Evidence{Extractor: "snowflake", Origin: "old", LastSeen: old, Count: 1})
	q.AddEdge(b, c, graph.Evidence{Extractor: "snowflake", Origin: "recent", LastSeen: t0.Add(-hour), Count: 1})
	q.AddEdge(c, d, graph.Evidence{Extractor: "snowflake", Origin: "old", LastSeen: old, Count: 1})
	q.AddColumnEdge(graph.ColumnEdgeID{From: col(a, "X"), To: col(b, "X"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
		graph.Evidence{Extractor: "snowflake", Origin: "old", LastSeen: old, Count: 1})
	if _, err := s.Commit(ctx, "snowflake", q, t0, CommitOptions{Now: old}); err != nil {
		t.Fatal(err)
	}
	m := graph.New()
	m.AddEdge(c, d, graph.Evidence{Extractor: "dbt", Origin: "model.d"}) // no times: never expires
	if _, err := s.ReplaceSource(ctx, "dbt", m, CommitOptions{Now: old}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Expire(ctx, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.EndedEdges != 1 || st.EndedColumn != 1 {
		t.Errorf("Expire ended %d edges, %d column edges; want 1 and 1", st.EndedEdges, st.EndedColumn)
	}
	want := graph.New()
	want.AddEdge(b, c, graph.Evidence{Extractor: "snowflake", Origin: "recent", LastSeen: t0.Add(-hour), Count: 1})
	want.AddEdge(c, d, graph.Evidence{Extractor: "dbt", Origin: "model.d"})
	for _, id := range []graph.DatasetID{b, c, d} {
		want.AddDataset(graph.Dataset{ID: id})
	}
	checkGraph(t, s, time.Time{}, want)
	before := canon(q)
	before.Merge(m)
	checkGraph(t, s, t0.Add(-time.Nanosecond), before)
	// Expiring again changes nothing.
	if st, err := s.Expire(ctx, t0, 0); err != nil || st.EndedEdges != 0 {
		t.Fatalf("second Expire = %+v, %v", st, err)
	}
	checkGraph(t, s, time.Time{}, want)
	if _, err := s.Expire(ctx, t0, -hour); err == nil {
		t.Error("Expire with a negative retention: no error")
	}
}

// An export of an old query log keeps its edges: a source ages on its own
// newest observation, not on weft's clock.
func TestExpireMeasuresEachSourceOnItsOwnClock(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	a, b, c := ds(sf, "A"), ds(sf, "B"), ds(sf, "C")
	lastYear := t0.Add(-365 * 24 * hour)
	q := graph.New()
	q.AddEdge(a, b, graph.Evidence{Extractor: "snowflake", Origin: "q1", LastSeen: lastYear.Add(-40 * 24 * hour), Count: 1})
	q.AddEdge(b, c, graph.Evidence{Extractor: "snowflake", Origin: "q2", LastSeen: lastYear, Count: 1})
	if _, err := s.Commit(ctx, "snowflake", q, lastYear, CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Expire(ctx, t0, 30*24*hour)
	if err != nil {
		t.Fatal(err)
	}
	// q2 is the source's newest observation: kept. q1 is 40 days older
	// than it: ended.
	if st.EndedEdges != 1 {
		t.Errorf("Expire ended %d edges, want 1 (the one 40 days older than the source's newest)", st.EndedEdges)
	}
	g, err := s.Graph(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Edges[graph.EdgeID{From: b, To: c}]; !ok {
		t.Error("the source's newest edge expired on weft's clock")
	}
	if _, ok := g.Edges[graph.EdgeID{From: a, To: b}]; ok {
		t.Error("an edge unseen for 40 days of the source's own time did not expire")
	}
}

func TestClockGoesBackwards(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if _, err := s.ReplaceSource(ctx, "dbt", manifest("LOANS"), CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceSource(ctx, "dbt", manifest(), CommitOptions{Now: t0.Add(-hour)}); err != nil {
		t.Fatal(err)
	}
	checkGraph(t, s, time.Time{}, manifest())
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWatermark(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	check := func(want time.Time, wantOK bool) {
		t.Helper()
		got, ok, err := s.Watermark(ctx, "snowflake")
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantOK || !got.Equal(want) {
			t.Errorf("Watermark = %v, %v; want %v, %v", got, ok, want, wantOK)
		}
	}
	check(time.Time{}, false)
	steps := []struct {
		wm   time.Time
		want time.Time
	}{
		{t0, t0},
		{t0.Add(hour), t0.Add(hour)},
		{t0, t0.Add(hour)},          // never moves back
		{time.Time{}, t0.Add(hour)}, // a batch without a watermark
	}
	for _, st := range steps {
		if _, err := s.Commit(ctx, "snowflake", graph.New(), st.wm, CommitOptions{}); err != nil {
			t.Fatal(err)
		}
		check(st.want, true)
	}
	if _, err := s.Commit(ctx, "", graph.New(), t0, CommitOptions{}); err == nil {
		t.Error("Commit with an empty extractor name: no error")
	}
}

func TestRuns(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	id, err := s.BeginRun(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "snowflake", graph.New(), t0, CommitOptions{RunID: id}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, id, t0.Add(time.Minute), map[string]error{"snowflake": nil, "dbt": errors.New("manifest.json: bad")}, nil); err != nil {
		t.Fatal(err)
	}
	id2, err := s.BeginRun(ctx, t0.Add(hour))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Run{
		{ID: id, Started: t0, Finished: t0.Add(time.Minute), Status: StatusFailed, Extractors: []ExtractorRun{
			{Extractor: "dbt", Status: StatusFailed, Error: "manifest.json: bad"},
			{Extractor: "snowflake", Status: StatusOK},
		}},
		{ID: id2, Started: t0.Add(hour), Status: StatusRunning},
	}
	if diff := cmp.Diff(want, runs); diff != "" {
		t.Errorf("Runs mismatch (-want +got):\n%s", diff)
	}
	if err := s.FinishRun(ctx, 999, time.Time{}, nil, nil); err == nil {
		t.Error("FinishRun of an unknown run: no error")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()

	newer := filepath.Join(dir, "newer.db")
	s, err := Open(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	setPragma(t, newer, "user_version = 99")
	if _, err := Open(ctx, newer); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open of a newer store: err = %v, want ErrNewerSchema", err)
	}

	other := filepath.Join(dir, "other.db")
	setPragma(t, other, "user_version = 0; CREATE TABLE t (x)")
	if _, err := Open(ctx, other); err == nil {
		t.Error("Open of a foreign database: no error")
	}

	if _, err := Open(ctx, ""); err == nil {
		t.Error("Open with an empty path: no error")
	}
}

func setPragma(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "PRAGMA "+stmt); err != nil {
		t.Fatal(err)
	}
}

// TestDocQueries runs the SQL examples of docs/store.md against a store.
func TestDocQueries(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "store.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a runaway recursive query
	defer cancel()
	if _, err := s.ReplaceSource(ctx, "dbt", manifest("LOANS", "PAYMENTS"), CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "snowflake", richGraph(), t0, CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplaceSource(ctx, "dbt", manifest("LOANS"), CommitOptions{Now: t0.Add(hour)}); err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, part := range strings.Split(string(doc), "```sql\n")[1:] {
		query, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatalf("unterminated sql block: %.40q", part)
		}
		blocks++
		if _, err := s.db.ExecContext(ctx, query); err != nil {
			t.Errorf("docs/store.md query failed: %v\n%s", err, query)
		}
	}
	if blocks < 5 {
		t.Errorf("found %d sql blocks in docs/store.md", blocks)
	}
}

// TestConcurrentWriters commits from several goroutines and from two
// Stores on the same file (as two processes would): SQLite serialises the
// writers, nobody gets "database is locked", and the result is the merge.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weft.db")
	ctx := t.Context()
	var stores [2]*Store
	for i := range stores {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	want := graph.New()
	batches := make([]*graph.Graph, 8)
	for i := range batches {
		g := graph.New()
		syntheticBatch(g, i*500, (i+1)*500+100, 4000) // overlapping ranges
		batches[i] = g
		want.Merge(g)
	}
	errs := make(chan error, len(batches))
	for i, g := range batches {
		go func() {
			_, err := stores[i%2].Commit(ctx, "snowflake", g, t0.Add(time.Duration(i)*hour), CommitOptions{Now: t0})
			errs <- err
		}()
	}
	for range batches {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	checkGraph(t, stores[0], time.Time{}, want)
	checkGraph(t, stores[1], time.Time{}, want)
	wm, _, err := stores[1].Watermark(ctx, "snowflake")
	if err != nil || !wm.Equal(t0.Add(7*hour)) {
		t.Errorf("Watermark = %v, %v; want %v", wm, err, t0.Add(7*hour))
	}
}

// TestFailedCommitChangesNothing: a commit that fails (here, its context
// is cancelled) leaves the store and the watermark as they were.
func TestFailedCommitChangesNothing(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	first := manifest("LOANS")
	if _, err := s.Commit(ctx, "dbt", first, t0, CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	before, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Commit(cancelled, "dbt", richGraph(), t0.Add(hour), CommitOptions{Now: t0.Add(hour)}); err == nil {
		t.Fatal("Commit with a cancelled context: no error")
	}
	after, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a failed commit changed the store (-before +after):\n%s", diff)
	}
	if wm, _, err := s.Watermark(ctx, "dbt"); err != nil || !wm.Equal(t0) {
		t.Errorf("Watermark = %v, %v; want %v", wm, err, t0)
	}
	checkGraph(t, s, time.Time{}, first)
	// The store still works, and the id cache holds nothing from the
	// failed commit.
	if _, err := s.Commit(ctx, "snowflake", richGraph(), t0, CommitOptions{Now: t0.Add(hour)}); err != nil {
		t.Fatal(err)
	}
	want := canon(first)
	want.Merge(richGraph())
	checkGraph(t, s, time.Time{}, want)
}

// TestAsOfEvidenceAddedLater: evidence is not versioned within a period,
// so a graph as of an earlier time shows evidence (and its job) recorded
// later on an edge that was already current.
func TestAsOfEvidenceAddedLater(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	a, b := ds(sf, "A"), ds(sf, "B")
	g1 := graph.New()
	g1.AddEdge(a, b, graph.Evidence{Extractor: "snowflake", Origin: "q1", LastSeen: t0, Count: 1})
	if _, err := s.Commit(ctx, "snowflake", g1, t0, CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	g2 := graph.New()
	g2.AddEdge(a, b, graph.Evidence{Extractor: "snowflake", Origin: "q2", Job: graph.JobID{Namespace: sf, Name: "later"},
		LastSeen: t0.Add(2 * hour), Count: 1})
	if _, err := s.Commit(ctx, "snowflake", g2, t0.Add(2*hour), CommitOptions{Now: t0.Add(2 * hour)}); err != nil {
		t.Fatal(err)
	}
	want := canon(g1)
	want.Merge(g2)
	checkGraph(t, s, t0.Add(hour), want)
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd dir #1 ?x=%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "weft store.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(t.Context(), "dbt", manifest("A"), time.Time{}, CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Name() != "weft store.db" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files in %q = %q, want the store at %q", dir, names, path)
	}
}

// TestDescriptionsPerSource: a manifest that drops a column replaces dbt's
// description of the dataset (the column is gone from then on, and still
// there as of before), while what Snowflake said about the same table stays.
func TestDescriptionsPerSource(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	id := ds(sf, "A.S.LOANS")
	dbt := func(cols ...string) *graph.Graph {
		g := graph.New()
		d := graph.Dataset{ID: id, Platform: graph.Snowflake, Kind: graph.KindModel, Description: "loans"}
		for _, c := range cols {
			d.Columns = append(d.Columns, graph.Column{Name: c, Tests: []string{"not_null"}})
		}
		g.AddDataset(d)
		return g
	}
	snow := graph.New()
	snow.AddDataset(graph.Dataset{ID: id, Platform: graph.Snowflake, Kind: graph.KindTable,
		Columns: []graph.Column{{Name: "ID", Type: "NUMBER(38,0)"}}, Properties: map[string]string{"table_type": "BASE TABLE"}})
	if _, err := s.ReplaceSource(ctx, "dbt", dbt("ID", "AMOUNT", "OLD"), CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "snowflake", snow, t0, CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	st, err := s.ReplaceSource(ctx, "dbt", dbt("ID", "AMOUNT"), CommitOptions{Now: t0.Add(hour)})
	if err != nil {
		t.Fatal(err)
	}
	if st.Datasets != 1 {
		t.Errorf("second manifest changed %d datasets, want 1", st.Datasets)
	}
	before := dbt("ID", "AMOUNT", "OLD")
	before.Merge(snow)
	checkGraph(t, s, t0, before)
	after := dbt("ID", "AMOUNT")
	after.Merge(snow)
	checkGraph(t, s, time.Time{}, after)

	// The current view for SQL has the same columns.
	rows, err := s.db.QueryContext(ctx, `SELECT c.name, c.type FROM columns c JOIN datasets d ON d.id = c.dataset_id
		WHERE d.name = 'A.S.LOANS' ORDER BY c.position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+" "+typ)
	}
	if diff := cmp.Diff([]string{"ID NUMBER(38,0)", "AMOUNT "}, got); diff != "" {
		t.Errorf("columns table (-want +got):\n%s", diff)
	}

	// Committing the same descriptions again changes nothing.
	c1, _ := s.Counts(ctx)
	if st, err := s.ReplaceSource(ctx, "dbt", dbt("ID", "AMOUNT"), CommitOptions{Now: t0.Add(2 * hour)}); err != nil || st.Datasets != 0 {
		t.Errorf("same manifest again: %+v, %v", st, err)
	}
	if st, err := s.Commit(ctx, "snowflake", snow, t0, CommitOptions{Now: t0.Add(2 * hour)}); err != nil || st.Datasets != 0 {
		t.Errorf("same Snowflake batch again: %+v, %v", st, err)
	}
	if c2, _ := s.Counts(ctx); c1 != c2 {
		t.Errorf("counts changed: %+v, then %+v", c1, c2)
	}
}

// TestForeignKeysAfterCommit: Commit and ReplaceSource write without
// SQLite's foreign key enforcement (see inTxUnchecked); the connection gets
// it back afterwards, whether the commit succeeded or failed, and what they
// wrote passes foreign_key_check.
func TestForeignKeysAfterCommit(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	enforced := func(when string) {
		t.Helper()
		var on int
		if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
			t.Fatal(err)
		}
		if on != 1 {
			t.Errorf("%s: foreign_keys = %d, want 1", when, on)
		}
		if _, err := s.db.ExecContext(ctx, "INSERT INTO edges (from_id, to_id, valid_from) VALUES (1000000, 1000001, 0)"); err == nil {
			t.Errorf("%s: an edge between datasets that do not exist was inserted", when)
		}
	}
	enforced("after Open")
	if _, err := s.Commit(ctx, "snowflake", richGraph(), t0, CommitOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	enforced("after Commit")
	if _, err := s.ReplaceSource(ctx, "dbt", manifest("LOANS"), CommitOptions{Now: t0.Add(hour)}); err != nil {
		t.Fatal(err)
	}
	enforced("after ReplaceSource")
	// A transaction that fails after its context was cancelled.
	cancelled, cancel := context.WithCancel(ctx)
	boom := errors.New("boom")
	err := s.inTxUnchecked(cancelled, func(tx *sql.Tx) error {
		var on int
		if err := tx.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
			return err
		}
		if on != 0 {
			t.Errorf("inside inTxUnchecked: foreign_keys = %d, want 0", on)
		}
		cancel()
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("inTxUnchecked = %v, want %v", err, boom)
	}
	enforced("after a failed transaction")
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// Placeholder dates outside what nanoseconds since 1970 can hold are kept
// in order (clamped), not wrapped around.
func TestFarDatesKeepTheirOrder(t *testing.T) {
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	early := time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)
	if !(nanos(early) < nanos(t0) && nanos(t0) < nanos(far)) {
		t.Errorf("nanos order broken: early %d, t0 %d, far %d", nanos(early), nanos(t0), nanos(far))
	}
	if got := fromNanos(nanos(far)); got.Year() != 2262 {
		t.Errorf("far date reads back as %v, want the latest representable time (2262)", got)
	}
}
