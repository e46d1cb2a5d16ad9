package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
)

func finding(code, location string) graph.Finding {
	return graph.Finding{Severity: graph.SeverityWarning, Code: code, Location: location, Subject: "A.S." + code,
		Message: code + " at " + location}
}

// withFindings returns g with fs added.
func withFindings(g *graph.Graph, fs ...graph.Finding) *graph.Graph {
	g = canon(g)
	for _, f := range fs {
		g.AddFinding(f)
	}
	return g
}

// checkFindings compares the findings of the store's graph at asOf with
// want.
func checkFindings(t *testing.T, s *Store, asOf time.Time, want ...graph.Finding) {
	t.Helper()
	got, err := s.Graph(t.Context(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(withFindings(graph.New(), want...).Findings, got.Findings); diff != "" {
		t.Errorf("findings as of %v (-want +got):\n%s", asOf, diff)
	}
}

func TestFindingsRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	g := withFindings(richGraph(),
		graph.Finding{Severity: graph.SeverityError, Code: "dangling_ref", Location: "manifest.json: nodes.model.x.depends_on.nodes[0]",
			Subject: "model.risk.x", Message: "depends on model.risk.gone, which the manifest lacks"},
		graph.Finding{Severity: graph.SeverityInfo, Code: "unknown_schema_version", Message: "manifest v13 read with v12 rules"},
		graph.Finding{Severity: graph.SeverityWarning, Code: "table_level_only", Location: "snowflake query 01b2", Message: "ünïcode \"quoted\"\nline"})
	st, err := s.Commit(ctx, "snowflake", g, t0, CommitOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if st.Findings != 3 {
		t.Errorf("Commit recorded %d findings, want 3", st.Findings)
	}
	checkGraph(t, s, time.Time{}, g)
	checkGraph(t, s, t0, g)
	checkGraph(t, s, t0.Add(-time.Nanosecond), graph.New())

	// The same batch again: nothing new, nothing doubled.
	if st, err := s.Commit(ctx, "snowflake", g, t0, CommitOptions{Now: t0.Add(hour)}); err != nil || st.Findings != 0 {
		t.Fatalf("second Commit = %+v, %v; want no new findings", st, err)
	}
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM findings`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 3 {
		t.Errorf("findings table has %d rows after committing the same batch twice, want 3", rows)
	}
	checkGraph(t, s, time.Time{}, g)
}

// A replace-mode source's findings are its latest snapshot's; another
// source's report of the same finding is kept on its own.
func TestFindingsReplace(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	t1, t2, t3 := t0, t0.Add(24*hour), t0.Add(48*hour)
	a, b, c := finding("a", "models/a.sql:1:1"), finding("b", "models/b.sql:2:1"), finding("c", "models/c.sql:3:1")
	for _, step := range []struct {
		at time.Time
		fs []graph.Finding
		st CommitStats
	}{
		{t1, []graph.Finding{a, b}, CommitStats{Findings: 2}},
		{t2, []graph.Finding{b, c}, CommitStats{Findings: 1, EndedFindings: 1}},
	} {
		st, err := s.ReplaceSource(ctx, "dbt", withFindings(manifest("LOANS"), step.fs...), CommitOptions{Now: step.at})
		if err != nil {
			t.Fatal(err)
		}
		if st.Findings != step.st.Findings || st.EndedFindings != step.st.EndedFindings {
			t.Errorf("ReplaceSource at %v: %d new and %d ended findings, want %d and %d",
				step.at, st.Findings, st.EndedFindings, step.st.Findings, step.st.EndedFindings)
		}
	}
	// Snowflake reports b too (an unparsed statement of the same model).
	if _, err := s.Commit(ctx, "snowflake", withFindings(graph.New(), b), t2, CommitOptions{Now: t2}); err != nil {
		t.Fatal(err)
	}
	checkFindings(t, s, t1.Add(-time.Nanosecond))
	checkFindings(t, s, t1, a, b)
	checkFindings(t, s, t2.Add(-time.Nanosecond), a, b)
	checkFindings(t, s, t2, b, c)
	checkFindings(t, s, time.Time{}, b, c)

	// A manifest without findings ends dbt's; Snowflake's b stays.
	st, err := s.ReplaceSource(ctx, "dbt", manifest("LOANS"), CommitOptions{Now: t3})
	if err != nil {
		t.Fatal(err)
	}
	if st.EndedFindings != 2 {
		t.Errorf("empty manifest ended %d findings, want 2", st.EndedFindings)
	}
	checkFindings(t, s, t3, b)
	checkFindings(t, s, t2, b, c)
	// Replace-mode findings never expire.
	if _, err := s.ReplaceSource(ctx, "dbt", withFindings(manifest("LOANS"), a), CommitOptions{Now: t3.Add(hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expire(ctx, t3.Add(90*24*hour), 0); err != nil {
		t.Fatal(err)
	}
	checkFindings(t, s, time.Time{}, a)
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// An incremental source's findings accumulate over its batches and runs,
// and expire when not reported within the retention; the store records
// which runs reported them.
func TestFindingsIncremental(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	f, g, h := finding("f", "snowflake query 01"), finding("g", "snowflake query 02"), finding("h", "snowflake query 03")
	run := func(at time.Time) int64 {
		id, err := s.BeginRun(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	day := 24 * hour
	r1 := run(t0)
	for _, fs := range [][]graph.Finding{{f}, {g}} { // two batches of run 1
		if _, err := s.Commit(ctx, "snowflake", withFindings(graph.New(), fs...), t0, CommitOptions{Now: t0, RunID: r1}); err != nil {
			t.Fatal(err)
		}
	}
	r2 := run(t0.Add(20 * day))
	if _, err := s.Commit(ctx, "snowflake", withFindings(graph.New(), g, h), t0, CommitOptions{Now: t0.Add(20 * day), RunID: r2}); err != nil {
		t.Fatal(err)
	}
	checkFindings(t, s, t0, f, g)
	checkFindings(t, s, time.Time{}, f, g, h)

	type row struct {
		Code                  string
		ValidTo               *int64
		Run, LastRun          int64
		RecordedAt, ValidFrom int64
	}
	read := func() []row {
		t.Helper()
		rows, err := s.db.QueryContext(ctx, `SELECT code, valid_to, run_id, last_run_id, recorded_at, valid_from FROM findings ORDER BY code`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.Code, &r.ValidTo, &r.Run, &r.LastRun, &r.RecordedAt, &r.ValidFrom); err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	ns := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	want := []row{
		{Code: "f", Run: r1, LastRun: r1, RecordedAt: ns(0), ValidFrom: ns(0)},
		{Code: "g", Run: r1, LastRun: r2, RecordedAt: ns(20 * day), ValidFrom: ns(0)},
		{Code: "h", Run: r2, LastRun: r2, RecordedAt: ns(20 * day), ValidFrom: ns(20 * day)},
	}
	if diff := cmp.Diff(want, read()); diff != "" {
		t.Errorf("findings rows (-want +got):\n%s", diff)
	}

	// 35 days on: f, last reported 35 days ago, ends; g and h stay.
	st, err := s.Expire(ctx, t0.Add(35*day), 30*day)
	if err != nil {
		t.Fatal(err)
	}
	if st.EndedFindings != 1 {
		t.Errorf("Expire ended %d findings, want 1", st.EndedFindings)
	}
	checkFindings(t, s, time.Time{}, g, h)
	checkFindings(t, s, t0.Add(35*day-time.Nanosecond), f, g, h)
	end := ns(35 * day)
	want[0].ValidTo = &end
	if diff := cmp.Diff(want, read()); diff != "" {
		t.Errorf("findings rows after Expire (-want +got):\n%s", diff)
	}
	// Reported again, f starts a new period; the gap stays empty.
	if _, err := s.Commit(ctx, "snowflake", withFindings(graph.New(), f), t0, CommitOptions{Now: t0.Add(36 * day)}); err != nil {
		t.Fatal(err)
	}
	checkFindings(t, s, t0.Add(35*day), g, h)
	checkFindings(t, s, time.Time{}, f, g, h)
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}
