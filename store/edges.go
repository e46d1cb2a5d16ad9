package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/weftdata/weft/graph"
)

// Edges are the bulk of a commit, so they go through SQL set operations
// rather than one round trip per edge: the batch is loaded into a
// temporary table with multi-row INSERTs from prepared statements, then a
// handful of INSERT ... SELECT statements create missing datasets, jobs and
// current edge periods and upsert the evidence with the merge rules.

// edgeKind describes the two edge tables, which share their structure.
type edgeKind struct {
	edges    string   // table of edge periods
	evidence string   // evidence table
	key      []string // columns identifying an edge, besides its period
}

func tableEdges() edgeKind {
	return edgeKind{"edges", "edge_evidence", []string{"from_id", "to_id"}}
}

func columnEdges() edgeKind {
	return edgeKind{"column_edges", "column_edge_evidence",
		[]string{"from_id", "from_column", "to_id", "to_column", "type", "subtype"}}
}

const evidenceCols = "extractor, origin, method, job_id, first_seen, last_seen, count, confidence, source, recorded_at, commit_seq"

// evidenceUpsert is the ON CONFLICT clause that merges evidence: earliest
// non-zero first seen, latest last seen, largest count and confidence.
const evidenceUpsert = `
ON CONFLICT DO UPDATE SET
	first_seen = CASE WHEN first_seen = 0 THEN excluded.first_seen
		WHEN excluded.first_seen = 0 THEN first_seen
		ELSE min(first_seen, excluded.first_seen) END,
	last_seen = max(last_seen, excluded.last_seen),
	count = max(count, excluded.count),
	confidence = max(confidence, excluded.confidence),
	source = excluded.source,
	recorded_at = excluded.recorded_at,
	commit_seq = excluded.commit_seq`

// Columns of the temporary tables; the evidence columns come last and
// extractor is NULL for an edge without evidence.
const (
	inEdgeCols   = "from_id, to_id"
	inColumnCols = "from_id, from_column, to_id, to_column, type, subtype"
	inEvCols     = "extractor, origin, method, job_id, first_seen, last_seen, count, confidence"
)

// edgeRow is one (edge, evidence) pair of a batch, with its datasets and
// job resolved to row ids.
type edgeRow struct {
	from, to                     int64
	fromCol, toCol, typ, subtype string // column edges only
	ev                           *graph.Evidence
	evi                          int // index of ev in its edge's evidence
	job                          int64
	fromDS, toDS                 *graph.DatasetID // the names of from and to
}

// compareTableEdgeRow is compareEdgeRow for table edges, whose column
// fields are empty.
func compareTableEdgeRow(a, b *edgeRow) int {
	if c := cmp.Compare(a.from, b.from); c != 0 {
		return c
	}
	if c := cmp.Compare(a.to, b.to); c != 0 {
		return c
	}
	return cmp.Compare(a.evi, b.evi)
}

// compareEdgeRow orders rows by edge, then by evidence. It returns at the
// first difference rather than using cmp.Or, which would compare every
// field, strings included, each time: a batch's sort makes millions of
// comparisons.
func compareEdgeRow(a, b *edgeRow) int {
	if c := cmp.Compare(a.from, b.from); c != 0 {
		return c
	}
	if c := strings.Compare(a.fromCol, b.fromCol); c != 0 {
		return c
	}
	if c := cmp.Compare(a.to, b.to); c != 0 {
		return c
	}
	if c := strings.Compare(a.toCol, b.toCol); c != 0 {
		return c
	}
	if c := strings.Compare(a.typ, b.typ); c != 0 {
		return c
	}
	if c := strings.Compare(a.subtype, b.subtype); c != 0 {
		return c
	}
	return cmp.Compare(a.evi, b.evi)
}

// sortRows returns pointers to rows in the order of cmp. Sorting pointers
// swaps 8 bytes instead of a whole row.
func sortRows(rows []edgeRow, cmp func(a, b *edgeRow) int) []*edgeRow {
	sorted := make([]*edgeRow, len(rows))
	for i := range rows {
		sorted[i] = &rows[i]
	}
	slices.SortFunc(sorted, cmp)
	return sorted
}

// missing collects the datasets and jobs a batch's edges use that have no
// known row id yet.
type missing struct {
	datasets map[graph.DatasetID]struct{}
	jobs     map[graph.JobID]struct{}
}

func newMissing() *missing {
	return &missing{datasets: map[graph.DatasetID]struct{}{}, jobs: map[graph.JobID]struct{}{}}
}

// dataset returns the row id of id, or 0 (no dataset has it) after noting
// it in m.
func (c *committer) dataset(id graph.DatasetID, m *missing) int64 {
	if n, ok := c.datasetID(id); ok {
		return n
	}
	m.datasets[id] = struct{}{}
	return 0
}

// job returns the row id of id, or -1 (0 is "no job") after noting it in m.
func (c *committer) job(id graph.JobID, m *missing) int64 {
	if n, ok := c.jobID(id); ok {
		return n
	}
	m.jobs[id] = struct{}{}
	return -1
}

// resolve creates the rows m lists that the store lacks, in sorted order
// so that the same commits always number rows the same way, then fills in
// the row ids rows lack.
func (c *committer) resolve(ctx context.Context, m *missing, rows []edgeRow) error {
	if len(m.datasets) == 0 && len(m.jobs) == 0 {
		return nil
	}
	missingDS := slices.SortedFunc(maps.Keys(m.datasets), graph.DatasetID.Compare)
	missingJobs := slices.SortedFunc(maps.Keys(m.jobs), graph.JobID.Compare)
	if len(missingDS) > 0 {
		slices.SortFunc(missingDS, graph.DatasetID.Compare)
		names := make([]string, 0, 2*len(missingDS))
		for _, id := range missingDS {
			names = append(names, id.Namespace, id.Name)
		}
		ids, err := c.resolveNames(ctx, "datasets", names)
		if err != nil {
			return fmt.Errorf("record datasets: %w", err)
		}
		for i, id := range missingDS {
			c.newDatasets[id] = ids[i]
		}
	}
	if len(missingJobs) > 0 {
		slices.SortFunc(missingJobs, graph.JobID.Compare)
		names := make([]string, 0, 2*len(missingJobs))
		for _, id := range missingJobs {
			names = append(names, id.Namespace, id.Name)
		}
		ids, err := c.resolveNames(ctx, "jobs", names)
		if err != nil {
			return fmt.Errorf("record jobs: %w", err)
		}
		for i, id := range missingJobs {
			c.newJobs[id] = ids[i]
		}
	}
	for i := range rows {
		r := &rows[i]
		if r.from == 0 {
			r.from = c.newDatasets[*r.fromDS]
		}
		if r.to == 0 {
			r.to = c.newDatasets[*r.toDS]
		}
		if r.job == -1 {
			r.job = c.newJobs[r.ev.Job]
		}
	}
	return nil
}

// resolveNames returns the row ids in table (datasets or jobs) of the
// (namespace, name) pairs in names, inserting the rows that are missing in
// the order given.
func (c *committer) resolveNames(ctx context.Context, table string, names []string) ([]int64, error) {
	ins, err := c.newInserter(ctx, "in_names", "namespace, name")
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(names); i += 2 {
		ins.args = append(ins.args, names[i], names[i+1])
		if err := ins.endRow(ctx); err != nil {
			return nil, err
		}
	}
	if err := ins.flush(ctx); err != nil {
		return nil, err
	}
	if _, err := c.tx.ExecContext(ctx, fmt.Sprintf(`
INSERT OR IGNORE INTO %s (namespace, name, created_at)
SELECT namespace, name, ?1 FROM temp.in_names ORDER BY rowid`, table), c.at); err != nil {
		return nil, err
	}
	rows, err := c.tx.QueryContext(ctx, fmt.Sprintf(`
SELECT i.rowid, t.id FROM temp.in_names i JOIN %s t ON t.namespace = i.namespace AND t.name = i.name`, table))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]int64, len(names)/2)
	found := 0
	for rows.Next() {
		var i, id int64
		if err := rows.Scan(&i, &id); err != nil {
			return nil, err
		}
		if i < 1 || int(i) > len(ids) {
			return nil, fmt.Errorf("staging row %d out of range", i)
		}
		ids[i-1] = id
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if found != len(ids) {
		return nil, fmt.Errorf("resolved %d of %d names", found, len(ids))
	}
	return ids, nil
}

func (c *committer) edges(ctx context.Context, g *graph.Graph, st *CommitStats) error {
	if len(g.Edges) == 0 {
		return nil
	}
	rows := make([]edgeRow, 0, len(g.Edges))
	m := newMissing()
	for _, e := range g.Edges {
		r := edgeRow{from: c.dataset(e.From, m), to: c.dataset(e.To, m), fromDS: &e.From, toDS: &e.To}
		if len(e.Evidence) == 0 {
			rows = append(rows, r)
		}
		for i := range e.Evidence {
			r.ev, r.evi = &e.Evidence[i], i
			r.job = c.job(r.ev.Job, m)
			rows = append(rows, r)
		}
	}
	if err := c.resolve(ctx, m, rows); err != nil {
		return err
	}
	sorted := sortRows(rows, compareTableEdgeRow)
	ins, err := c.newInserter(ctx, "in_edges", inEdgeCols+", "+inEvCols)
	if err != nil {
		return err
	}
	for _, r := range sorted {
		ins.args = append(ins.args, r.from, r.to)
		ins.args = appendEvidence(ins.args, r.ev, r.job)
		if err := ins.endRow(ctx); err != nil {
			return err
		}
	}
	if err := ins.flush(ctx); err != nil {
		return err
	}
	const (
		newEdges = `
INSERT OR IGNORE INTO edges (from_id, to_id, valid_from)
SELECT from_id, to_id, ?1 FROM temp.in_edges ORDER BY rowid`
		upsertEvidence = `
INSERT INTO edge_evidence (edge_id, ` + evidenceCols + `)
SELECT e.id, i.extractor, i.origin, i.method, i.job_id, i.first_seen, i.last_seen, i.count, i.confidence, ?2, ?1, ?3
FROM temp.in_edges i
JOIN edges e ON e.from_id = i.from_id AND e.to_id = i.to_id AND e.valid_to IS NULL
WHERE i.extractor IS NOT NULL` + evidenceUpsert
	)
	return c.applyEdges(ctx, st, &st.NewEdges, newEdges, upsertEvidence)
}

func (c *committer) columnEdges(ctx context.Context, g *graph.Graph, st *CommitStats) error {
	if len(g.ColumnEdges) == 0 {
		return nil
	}
	rows := make([]edgeRow, 0, len(g.ColumnEdges))
	m := newMissing()
	for _, e := range g.ColumnEdges {
		r := edgeRow{fromCol: e.From.Column, toCol: e.To.Column, typ: e.Type, subtype: e.Subtype,
			from: c.dataset(e.From.Dataset, m), to: c.dataset(e.To.Dataset, m),
			fromDS: &e.From.Dataset, toDS: &e.To.Dataset}
		if len(e.Evidence) == 0 {
			rows = append(rows, r)
		}
		for i := range e.Evidence {
			r.ev, r.evi = &e.Evidence[i], i
			r.job = c.job(r.ev.Job, m)
			rows = append(rows, r)
		}
	}
	if err := c.resolve(ctx, m, rows); err != nil {
		return err
	}
	sorted := sortRows(rows, compareEdgeRow)
	ins, err := c.newInserter(ctx, "in_column_edges", inColumnCols+", "+inEvCols)
	if err != nil {
		return err
	}
	for _, r := range sorted {
		ins.args = append(ins.args, r.from, r.fromCol, r.to, r.toCol, r.typ, r.subtype)
		ins.args = appendEvidence(ins.args, r.ev, r.job)
		if err := ins.endRow(ctx); err != nil {
			return err
		}
	}
	if err := ins.flush(ctx); err != nil {
		return err
	}
	const (
		newEdges = `
INSERT OR IGNORE INTO column_edges (from_id, from_column, to_id, to_column, type, subtype, valid_from)
SELECT from_id, from_column, to_id, to_column, type, subtype, ?1 FROM temp.in_column_edges ORDER BY rowid`
		upsertEvidence = `
INSERT INTO column_edge_evidence (edge_id, ` + evidenceCols + `)
SELECT e.id, i.extractor, i.origin, i.method, i.job_id, i.first_seen, i.last_seen, i.count, i.confidence, ?2, ?1, ?3
FROM temp.in_column_edges i
JOIN column_edges e ON e.from_id = i.from_id AND e.from_column = i.from_column AND e.to_id = i.to_id
	AND e.to_column = i.to_column AND e.type = i.type AND e.subtype = i.subtype AND e.valid_to IS NULL
WHERE i.extractor IS NOT NULL` + evidenceUpsert
	)
	return c.applyEdges(ctx, st, &st.NewColumns, newEdges, upsertEvidence)
}

func (c *committer) applyEdges(ctx context.Context, st *CommitStats, newEdges *int64, queries ...string) error {
	for i, q := range queries {
		res, err := c.tx.ExecContext(ctx, q, c.at, c.source, c.seq)
		if err != nil {
			return fmt.Errorf("merge edges: %q: %w", firstLine(q), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("merge edges: %w", err)
		}
		switch i {
		case 0:
			*newEdges += n
		case 1:
			st.Evidence += n
		}
	}
	return nil
}

// appendEvidence appends the evidence columns of a temporary table row;
// NULLs for an edge without evidence.
func appendEvidence(args []any, ev *graph.Evidence, job int64) []any {
	if ev == nil {
		return append(args, nil, nil, nil, nil, nil, nil, nil, nil)
	}
	return append(args, ev.Extractor, ev.Origin, ev.Method, job,
		nanos(ev.FirstSeen), nanos(ev.LastSeen), ev.Count, ev.Confidence)
}

// inserter loads rows into a temporary table, rowsPerStmt rows per INSERT.
type inserter struct {
	c     *committer
	table string
	cols  string
	ncols int
	full  *sql.Stmt
	args  []any
}

// rowsPerStmt is how many rows one INSERT into a temporary table carries;
// it keeps the statement under SQLite's limit of 32766 parameters.
const rowsPerStmt = 256

func (c *committer) newInserter(ctx context.Context, table, cols string) (*inserter, error) {
	ncols := len(strings.Split(cols, ", "))
	if _, err := c.tx.ExecContext(ctx, fmt.Sprintf("CREATE TEMP TABLE IF NOT EXISTS %s (%s)", table, cols)); err != nil {
		return nil, fmt.Errorf("create temporary table %s: %w", table, err)
	}
	if _, err := c.tx.ExecContext(ctx, "DELETE FROM temp."+table); err != nil {
		return nil, fmt.Errorf("clear temporary table %s: %w", table, err)
	}
	ins := &inserter{c: c, table: table, cols: cols, ncols: ncols, args: make([]any, 0, rowsPerStmt*ncols)}
	var err error
	if ins.full, err = c.prepare(ctx, ins.query(rowsPerStmt)); err != nil {
		return nil, err
	}
	return ins, nil
}

func (ins *inserter) query(rows int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO temp.%s (%s) VALUES ", ins.table, ins.cols)
	row := "(?" + strings.Repeat(", ?", ins.ncols-1) + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// endRow finishes the row just appended to args, and sends a full
// statement's worth of rows.
func (ins *inserter) endRow(ctx context.Context) error {
	if len(ins.args) < rowsPerStmt*ins.ncols {
		return nil
	}
	if _, err := ins.full.ExecContext(ctx, ins.args...); err != nil {
		return fmt.Errorf("load temporary table %s: %w", ins.table, err)
	}
	clear(ins.args)
	ins.args = ins.args[:0]
	return nil
}

// flush sends the remaining rows.
func (ins *inserter) flush(ctx context.Context) error {
	if len(ins.args) == 0 {
		return nil
	}
	if _, err := ins.c.tx.ExecContext(ctx, ins.query(len(ins.args)/ins.ncols), ins.args...); err != nil {
		return fmt.Errorf("load temporary table %s: %w", ins.table, err)
	}
	clear(ins.args)
	ins.args = ins.args[:0]
	return nil
}

// retire ends the evidence pred selects, on current edges of kind k, at
// time at (?1 in pred; args are ?2, ?3, ...). A current edge left without
// evidence ends; one that keeps some evidence is split: its period ends at
// at, with all its evidence, and a new period starts at at with the
// evidence that remains. It returns how many edges ended for good.
func retire(ctx context.Context, tx *sql.Tx, k edgeKind, pred func(alias string) string, at int64, args ...any) (int64, error) {
	keys := strings.Join(k.key, ", ")
	var same []string
	for _, col := range k.key {
		same = append(same, fmt.Sprintf("n.%[1]s = o.%[1]s", col))
	}
	queries := []string{
		`CREATE TEMP TABLE IF NOT EXISTS retire (old_id INTEGER PRIMARY KEY, live INTEGER NOT NULL)`,
		`DELETE FROM temp.retire`,
		fmt.Sprintf(`
INSERT INTO temp.retire (old_id, live)
SELECT e.id, EXISTS (SELECT 1 FROM %[2]s w WHERE w.edge_id = e.id AND NOT (%[4]s))
FROM %[1]s e
WHERE e.valid_to IS NULL AND e.id IN (SELECT v.edge_id FROM %[2]s v WHERE %[3]s)`,
			k.edges, k.evidence, pred("v"), pred("w")),
		fmt.Sprintf(`UPDATE %s SET valid_to = ?1 WHERE id IN (SELECT old_id FROM temp.retire)`, k.edges),
		fmt.Sprintf(`
INSERT INTO %[1]s (%[2]s, valid_from)
SELECT %[2]s, ?1 FROM %[1]s WHERE id IN (SELECT old_id FROM temp.retire WHERE live) ORDER BY id`,
			k.edges, keys),
		fmt.Sprintf(`
INSERT INTO %[2]s (edge_id, %[3]s)
SELECT n.id, %[4]s
FROM temp.retire r
JOIN %[1]s o ON o.id = r.old_id
JOIN %[1]s n ON %[5]s AND n.valid_to IS NULL
JOIN %[2]s v ON v.edge_id = r.old_id
WHERE r.live AND NOT (%[6]s)`,
			k.edges, k.evidence, evidenceCols, "v."+strings.ReplaceAll(evidenceCols, ", ", ", v."),
			strings.Join(same, " AND "), pred("v")),
	}
	all := append([]any{at}, args...)
	for _, q := range queries {
		qargs := all
		if !strings.Contains(q, "?") {
			qargs = nil
		}
		if _, err := tx.ExecContext(ctx, q, qargs...); err != nil {
			return 0, fmt.Errorf("end %s: %q: %w", k.edges, firstLine(q), err)
		}
	}
	var ended int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM temp.retire WHERE NOT live`).Scan(&ended); err != nil {
		return 0, fmt.Errorf("end %s: %w", k.edges, err)
	}
	return ended, nil
}
