package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weftdata/weft/graph"
)

// buildStoreAt writes, with raw SQL, a store at schema version (applying
// that many migrations as an older weft did) holding a little lineage:
// RAW.S.SRC → A.S.STG (current; dbt and Snowflake evidence), A.S.STG →
// A.S.OLD (ended at t0+1h) and Snowflake's A → B, last seen 40 days before
// t0, with a column edge beside each of the first two. It returns the
// graphs the store holds now and at t0. The rows use only version 1's
// columns; later columns get what that version's commits would have
// written.
func buildStoreAt(t *testing.T, path string, version int, extraSQL string) (now, atT0 *graph.Graph) {
	t.Helper()
	ctx := t.Context()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	for _, m := range schemaMigrations()[:version] {
		exec(m)
	}
	exec(fmt.Sprintf("PRAGMA application_id = %d", applicationID))
	exec(fmt.Sprintf("PRAGMA user_version = %d", version))

	src, stg, old := ds(sf, "RAW.S.SRC"), ds(sf, "A.S.STG"), ds(sf, "A.S.OLD")
	a, b := ds(sf, "A"), ds(sf, "B")
	described := map[graph.DatasetID]graph.Dataset{
		src: {ID: src, Platform: graph.Snowflake, Kind: graph.KindSource, Columns: []graph.Column{{Name: "ID", Type: "NUMBER"}}},
		stg: {ID: stg, Platform: graph.Snowflake, Kind: graph.KindModel, Columns: []graph.Column{{Name: "ID"}}},
		old: {ID: old, Platform: graph.Snowflake, Kind: graph.KindModel, Columns: []graph.Column{{Name: "ID"}}},
	}
	ns := func(tm time.Time) int64 { return tm.UnixNano() }
	t1 := t0.Add(hour)
	lastSeenAB := t0.Add(-40 * 24 * hour)
	for i, id := range []graph.DatasetID{src, stg, old, a, b} {
		exec(`INSERT INTO datasets (id, namespace, name, platform, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			i+1, id.Namespace, id.Name, string(described[id].Platform), string(described[id].Kind), ns(t0))
		d, ok := described[id]
		if !ok {
			continue
		}
		desc, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var validTo any
		if id == old {
			validTo = ns(t1)
		}
		exec(`INSERT INTO dataset_periods (dataset_id, source, valid_from, valid_to, description, recorded_at, commit_seq)
VALUES (?, 'dbt', ?, ?, ?, ?, 1)`, i+1, ns(t0), validTo, string(desc), ns(t0))
	}
	job := graph.JobID{Namespace: sf, Name: "shape 1"}
	exec(`INSERT INTO jobs (id, namespace, name, type, created_at) VALUES (1, ?, ?, 'snowflake_query', ?)`, job.Namespace, job.Name, ns(t0))
	exec(`INSERT INTO edges (id, from_id, to_id, valid_from, valid_to) VALUES (1, 1, 2, ?1, NULL), (2, 2, 3, ?1, ?2), (3, 4, 5, ?1, NULL)`,
		ns(t0), ns(t1))
	exec(`INSERT INTO column_edges (id, from_id, from_column, to_id, to_column, type, subtype, valid_from, valid_to)
VALUES (1, 1, 'ID', 2, 'ID', 'DIRECT', 'IDENTITY', ?1, NULL), (2, 2, 'ID', 3, 'ID', 'DIRECT', 'IDENTITY', ?1, ?2)`, ns(t0), ns(t1))
	dbtEv := func(origin, method string) graph.Evidence {
		return graph.Evidence{Extractor: "dbt", Origin: origin, Method: method}
	}
	sfEv := graph.Evidence{Extractor: "snowflake", Origin: "snowflake query 01", Method: "parsed", Job: job,
		FirstSeen: t0.Add(-hour), LastSeen: t0, Count: 3, Confidence: 1}
	abEv := graph.Evidence{Extractor: "snowflake", Origin: "snowflake query 02", Method: "parsed", LastSeen: lastSeenAB, Count: 1}
	for _, r := range []struct {
		table  string
		edge   int
		ev     graph.Evidence
		job    int
		source string
		seq    int
	}{
		{"edge_evidence", 1, dbtEv("model.stg", "depends_on"), 0, "dbt", 1},
		{"edge_evidence", 1, sfEv, 1, "snowflake", 2},
		{"edge_evidence", 2, dbtEv("model.old", "depends_on"), 0, "dbt", 1},
		{"edge_evidence", 3, abEv, 0, "snowflake", 2},
		{"column_edge_evidence", 1, dbtEv("model.stg", "parsed"), 0, "dbt", 1},
		{"column_edge_evidence", 2, dbtEv("model.old", "parsed"), 0, "dbt", 1},
	} {
		first, last := int64(0), int64(0)
		if !r.ev.FirstSeen.IsZero() {
			first = ns(r.ev.FirstSeen)
		}
		if !r.ev.LastSeen.IsZero() {
			last = ns(r.ev.LastSeen)
		}
		exec(`INSERT INTO `+r.table+` (edge_id, extractor, origin, method, job_id, first_seen, last_seen, count, confidence,
	source, recorded_at, commit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.edge, r.ev.Extractor, r.ev.Origin, r.ev.Method, r.job, first, last, r.ev.Count, r.ev.Confidence,
			r.source, ns(t0), r.seq)
	}
	exec(`INSERT INTO extractors (name, mode, watermark, committed_at) VALUES ('dbt', 'replace', 0, ?), ('snowflake', 'incremental', ?, ?)`,
		ns(t1), ns(t0), ns(t0))
	exec(`UPDATE meta SET value = CASE key WHEN 'commit_seq' THEN 3 ELSE ? END`, ns(t1))
	if version >= 2 {
		// Version 2's commits mark the evidence of ended periods.
		exec(`UPDATE edge_evidence SET ended = 1 WHERE edge_id = 2`)
		exec(`UPDATE column_edge_evidence SET ended = 1 WHERE edge_id = 2`)
	}
	if extraSQL != "" {
		exec(extraSQL)
	}

	now = graph.New()
	for _, id := range []graph.DatasetID{src, stg} {
		now.AddDataset(described[id])
	}
	now.AddEdge(src, stg, dbtEv("model.stg", "depends_on"))
	now.AddEdge(src, stg, sfEv)
	now.AddEdge(a, b, abEv)
	now.AddColumnEdge(graph.ColumnEdgeID{From: col(src, "ID"), To: col(stg, "ID"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
		dbtEv("model.stg", "parsed"))
	now.AddJob(graph.Job{ID: job, Type: "snowflake_query"})
	atT0 = canon(now)
	atT0.AddDataset(described[old])
	atT0.AddEdge(stg, old, dbtEv("model.old", "depends_on"))
	atT0.AddColumnEdge(graph.ColumnEdgeID{From: col(stg, "ID"), To: col(old, "ID"), Type: graph.Direct, Subtype: graph.SubtypeIdentity},
		dbtEv("model.old", "parsed"))
	return now, atT0
}

// TestUpgrade opens stores written at each earlier schema version: they
// migrate to the current one, keep their lineage, and work.
func TestUpgrade(t *testing.T) {
	for version := 1; version < SchemaVersion(); version++ {
		for _, tc := range []struct {
			name  string
			extra string
		}{
			{"plain", ""},
			// docs/store.md of version 1 suggested this index.
			{"hand-made edges_by_to", "CREATE INDEX IF NOT EXISTS edges_by_to ON edges (to_id)"},
		} {
			t.Run(fmt.Sprintf("v%d/%s", version, tc.name), func(t *testing.T) {
				testUpgrade(t, version, tc.extra)
			})
		}
	}
}

func testUpgrade(t *testing.T, version int, extra string) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	now, atT0 := buildStoreAt(t, path, version, extra)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != SchemaVersion() {
		t.Fatalf("user_version = %d after Open, want %d", got, SchemaVersion())
	}
	for _, ix := range []string{"edges_by_to", "column_edges_by_to", "edge_evidence_by_source", "column_edge_evidence_by_source", "dataset_periods_by_source"} {
		var def string
		if err := s.db.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`, ix).Scan(&def); err != nil {
			t.Errorf("index %s: %v", ix, err)
		}
		if ix == "edges_by_to" && !strings.Contains(def, "(to_id, from_id)") {
			t.Errorf("edges_by_to is %q, want weft's (to_id, from_id)", def)
		}
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err) // includes the ended flags the migration set
	}
	checkGraph(t, s, time.Time{}, now)
	checkGraph(t, s, t0, atT0)
	checkGraph(t, s, t0.Add(hour), now)
	checkGraph(t, s, t0.Add(-time.Nanosecond), graph.New())

	// The upgraded store works: a new manifest without SRC → STG splits
	// that edge (Snowflake's evidence stays), and Expire ends A → B, 40
	// days older than Snowflake's newest observation.
	t2 := t0.Add(2 * hour)
	m := graph.New()
	for _, d := range now.Datasets {
		m.AddDataset(*d)
	}
	st, err := s.ReplaceSource(ctx, "dbt", m, CommitOptions{Now: t2})
	if err != nil {
		t.Fatal(err)
	}
	if st.EndedEdges != 0 || st.EndedColumn != 1 {
		t.Errorf("ReplaceSource ended %d edges and %d column edges, want 0 (split) and 1", st.EndedEdges, st.EndedColumn)
	}
	st, err = s.Expire(ctx, t2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.EndedEdges != 1 {
		t.Errorf("Expire ended %d edges, want 1", st.EndedEdges)
	}
	want := graph.New()
	for _, d := range now.Datasets {
		want.AddDataset(*d)
	}
	for _, ev := range now.Edges[graph.EdgeID{From: ds(sf, "RAW.S.SRC"), To: ds(sf, "A.S.STG")}].Evidence {
		if ev.Extractor == "snowflake" {
			want.AddEdge(ds(sf, "RAW.S.SRC"), ds(sf, "A.S.STG"), ev)
		}
	}
	want.AddJob(*now.Jobs[graph.JobID{Namespace: sf, Name: "shape 1"}])
	checkGraph(t, s, time.Time{}, want)
	checkGraph(t, s, t0, atT0)
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// queryPlan returns the detail lines of SQLite's plan for q.
func queryPlan(t *testing.T, conn *sql.Conn, q string) []string {
	t.Helper()
	// Every parameter gets a value; SQLite plans do not depend on them.
	var args []any
	for _, m := range param.FindAllStringSubmatch(q, -1) {
		n, _ := strconv.Atoi(m[1])
		for len(args) < n {
			args = append(args, 0)
		}
	}
	rows, err := conn.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, q)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

var param = regexp.MustCompile(`\?(\d+)`)

// scanned matches a plan line that reads a whole table or index: "SCAN t"
// or "SCAN t USING INDEX i". Lookups are "SEARCH".
var scanned = regexp.MustCompile(`^SCAN (\S+)`)

// smallScans are the tables ReplaceSource and Expire may read whole: their
// own temporary tables (retire: r; expire cutoffs: cut), which hold what
// the operation ends, and extractors (x), one row per source.
var smallScans = map[string]bool{"r": true, "temp.retire": true, "cut": true, "x": true, "extractors": true, "CONSTANT": true}

// TestRetirePlans checks that every statement of ReplaceSource's and
// Expire's ending seeks an index instead of scanning a store table, so
// their cost follows the evidence they end, not the size of the store.
func TestRetirePlans(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	type check struct {
		name  string
		query string
		want  string // a plan line must contain this
	}
	var checks []check
	for i, q := range expireCutoffQueries() {
		checks = append(checks, check{fmt.Sprintf("expire cutoffs %d", i), q, ""})
	}
	for _, k := range []edgeKind{tableEdges(), columnEdges()} {
		for _, r := range []struct {
			name string
			r    retirement
			want string
		}{
			{"replace", replaced(), "USING INDEX " + k.evidence + "_by_source (source=? AND ended=?)"},
			{"expire", expired(), "USING COVERING INDEX " + k.evidence + "_by_source (source=? AND ended=? AND <expr><?)"},
		} {
			for i, q := range retireQueries(k, r.r) {
				want := ""
				if strings.Contains(q, "INSERT OR IGNORE INTO temp.retire") {
					want = r.want
				}
				checks = append(checks, check{fmt.Sprintf("%s %s %d", r.name, k.edges, i), q, want})
			}
		}
	}
	checks = append(checks,
		check{"replace datasets", replaceDatasets, "USING INDEX dataset_periods_by_source (source=?)"},
		check{"expire datasets", expireDatasets, "USING INDEX dataset_periods_by_source (source=? AND recorded_at<?)"})

	for _, c := range checks {
		q := strings.TrimSpace(c.query)
		switch {
		case strings.HasPrefix(q, "CREATE"):
			// The temporary tables must exist for EXPLAIN.
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
			continue
		case strings.HasPrefix(q, "DELETE"):
			continue
		}
		plan := queryPlan(t, conn, q)
		found := c.want == ""
		for _, line := range plan {
			if m := scanned.FindStringSubmatch(line); m != nil && !smallScans[m[1]] {
				t.Errorf("%s: plan scans %q:\n%s\n%s", c.name, line, strings.Join(plan, "\n"), q)
			}
			if strings.Contains(line, "USE TEMP B-TREE") {
				t.Errorf("%s: plan sorts (%q) instead of reading an index in order:\n%s", c.name, line, q)
			}
			found = found || strings.Contains(line, c.want)
		}
		if !found {
			t.Errorf("%s: no plan line contains %q:\n%s\n%s", c.name, c.want, strings.Join(plan, "\n"), q)
		}
	}
}

// TestLookupPlans checks that lineage lookups seek an index: upstream
// ("what feeds X") now or at any time through schema version 2's indexes
// by target, downstream ("what reads X") now through the current-edge
// indexes.
func TestLookupPlans(t *testing.T) {
	s := openTest(t)
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const asOf = "valid_from <= ?9 AND (valid_to IS NULL OR valid_to > ?9)"
	for _, tc := range []struct {
		query, want string
	}{
		{`SELECT from_id FROM edges WHERE to_id = ?1 AND valid_to IS NULL`, "edges_by_to (to_id=?)"},
		{`SELECT from_id FROM edges WHERE to_id = ?1 AND ` + asOf, "edges_by_to (to_id=?)"},
		{`SELECT from_id, from_column FROM column_edges WHERE to_id = ?1 AND to_column = ?2 AND ` + asOf,
			"column_edges_by_to (to_id=? AND to_column=?)"},
		{`SELECT to_id FROM edges WHERE from_id = ?1 AND valid_to IS NULL`, "edges_current (from_id=?)"},
		{`SELECT to_id, to_column FROM column_edges WHERE from_id = ?1 AND from_column = ?2 AND valid_to IS NULL`,
			"column_edges_current (from_id=? AND from_column=?)"},
		// docs/store.md's upstream query.
		{`WITH RECURSIVE up (id) AS (
  SELECT id FROM datasets WHERE namespace = ?1 AND name = ?2
  UNION
  SELECT e.from_id FROM edges e JOIN up ON e.to_id = up.id WHERE e.valid_to IS NULL
)
SELECT d.namespace, d.name FROM up JOIN datasets d ON d.id = up.id`, "edges_by_to (to_id=?)"},
	} {
		plan := queryPlan(t, conn, tc.query)
		found := false
		for _, line := range plan {
			found = found || strings.Contains(line, "USING INDEX "+tc.want) || strings.Contains(line, "USING COVERING INDEX "+tc.want)
		}
		if !found {
			t.Errorf("plan does not use %s:\n%s\n%s", tc.want, strings.Join(plan, "\n"), tc.query)
		}
	}
}

// TestEndedFollowsPeriods runs replaces, commits and expiries, with edges
// that end, split and come back, and checks after each that every evidence
// row's ended flag is its period's (IntegrityCheck) and that the graph is
// the expected one: the evidence indexes hide nothing from ReplaceSource
// and Expire.
func TestEndedFollowsPeriods(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	versions := [][]string{{"LOANS", "PAYMENTS"}, {"LOANS"}, {"LOANS", "PAYMENTS"}, {}, {"PAYMENTS"}, {"LOANS"}}
	seen := graph.New() // Snowflake's evidence that is recent enough to stay
	for i, v := range versions {
		at := t0.Add(time.Duration(i) * 24 * hour)
		m := manifest(v...)
		if _, err := s.ReplaceSource(ctx, "dbt", m, CommitOptions{Now: at}); err != nil {
			t.Fatal(err)
		}
		// Even rounds see STG → LOANS now; odd rounds bring evidence 40
		// days old, which the Expire below ends at once.
		q := graph.New()
		ev := graph.Evidence{Extractor: "snowflake", Origin: "q" + strconv.Itoa(i%2), LastSeen: at, Count: 1}
		if i%2 == 1 {
			ev.LastSeen = at.Add(-40 * 24 * hour)
		}
		q.AddEdge(ds(sf, "A.S.STG"), ds(sf, "A.S.LOANS"), ev)
		if _, err := s.Commit(ctx, "snowflake", q, at, CommitOptions{Now: at}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			seen = q
		}
		if _, err := s.Expire(ctx, at, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Fatalf("after round %d: %v", i, err)
		}
		want := canon(m)
		want.Merge(seen)
		checkGraph(t, s, time.Time{}, want)
	}
}
