package store

import (
	"context"
	"database/sql"
	"fmt"
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
	inEdgeCols   = "from_ns, from_name, to_ns, to_name"
	inColumnCols = "from_ns, from_name, from_column, to_ns, to_name, to_column, type, subtype"
	inEvCols     = "extractor, origin, method, job_ns, job_name, first_seen, last_seen, count, confidence"
)

func (c *committer) edges(ctx context.Context, g *graph.Graph, st *CommitStats) error {
	if len(g.Edges) == 0 {
		return nil
	}
	ins, err := c.newInserter(ctx, "in_edges", inEdgeCols+", "+inEvCols, 13)
	if err != nil {
		return err
	}
	for _, e := range g.Edges {
		if len(e.Evidence) == 0 {
			ins.args = append(ins.args, e.From.Namespace, e.From.Name, e.To.Namespace, e.To.Name,
				nil, nil, nil, nil, nil, nil, nil, nil, nil)
			if err := ins.endRow(ctx); err != nil {
				return err
			}
			continue
		}
		for i := range e.Evidence {
			ev := &e.Evidence[i]
			ins.args = append(ins.args, e.From.Namespace, e.From.Name, e.To.Namespace, e.To.Name)
			ins.args = appendEvidence(ins.args, ev)
			if err := ins.endRow(ctx); err != nil {
				return err
			}
		}
	}
	if err := ins.flush(ctx); err != nil {
		return err
	}
	const (
		join = `
FROM temp.in_edges i
JOIN datasets f ON f.namespace = i.from_ns AND f.name = i.from_name
JOIN datasets t ON t.namespace = i.to_ns AND t.name = i.to_name`
		ensureDatasets = `
INSERT OR IGNORE INTO datasets (namespace, name, created_at)
SELECT ns, name, ?1 FROM (
	SELECT from_ns AS ns, from_name AS name FROM temp.in_edges
	UNION SELECT to_ns, to_name FROM temp.in_edges)
ORDER BY ns, name`
		ensureJobs = `
INSERT OR IGNORE INTO jobs (namespace, name, created_at)
SELECT DISTINCT job_ns, job_name, ?1 FROM temp.in_edges WHERE extractor IS NOT NULL ORDER BY 1, 2`
		newEdges = `
INSERT OR IGNORE INTO edges (from_id, to_id, valid_from)
SELECT DISTINCT f.id, t.id, ?1` + join + `
ORDER BY f.id, t.id`
		upsertEvidence = `
INSERT INTO edge_evidence (edge_id, ` + evidenceCols + `)
SELECT e.id, i.extractor, i.origin, i.method, j.id, i.first_seen, i.last_seen, i.count, i.confidence, ?2, ?1, ?3` + join + `
JOIN edges e ON e.from_id = f.id AND e.to_id = t.id AND e.valid_to IS NULL
JOIN jobs j ON j.namespace = i.job_ns AND j.name = i.job_name
WHERE i.extractor IS NOT NULL` + evidenceUpsert
	)
	return c.applyEdges(ctx, st, &st.NewEdges, ensureDatasets, ensureJobs, newEdges, upsertEvidence)
}

func (c *committer) columnEdges(ctx context.Context, g *graph.Graph, st *CommitStats) error {
	if len(g.ColumnEdges) == 0 {
		return nil
	}
	ins, err := c.newInserter(ctx, "in_column_edges", inColumnCols+", "+inEvCols, 17)
	if err != nil {
		return err
	}
	for _, e := range g.ColumnEdges {
		if len(e.Evidence) == 0 {
			ins.args = append(ins.args, e.From.Dataset.Namespace, e.From.Dataset.Name, e.From.Column,
				e.To.Dataset.Namespace, e.To.Dataset.Name, e.To.Column, e.Type, e.Subtype,
				nil, nil, nil, nil, nil, nil, nil, nil, nil)
			if err := ins.endRow(ctx); err != nil {
				return err
			}
			continue
		}
		for i := range e.Evidence {
			ev := &e.Evidence[i]
			ins.args = append(ins.args, e.From.Dataset.Namespace, e.From.Dataset.Name, e.From.Column,
				e.To.Dataset.Namespace, e.To.Dataset.Name, e.To.Column, e.Type, e.Subtype)
			ins.args = appendEvidence(ins.args, ev)
			if err := ins.endRow(ctx); err != nil {
				return err
			}
		}
	}
	if err := ins.flush(ctx); err != nil {
		return err
	}
	const (
		join = `
FROM temp.in_column_edges i
JOIN datasets f ON f.namespace = i.from_ns AND f.name = i.from_name
JOIN datasets t ON t.namespace = i.to_ns AND t.name = i.to_name`
		ensureDatasets = `
INSERT OR IGNORE INTO datasets (namespace, name, created_at)
SELECT ns, name, ?1 FROM (
	SELECT from_ns AS ns, from_name AS name FROM temp.in_column_edges
	UNION SELECT to_ns, to_name FROM temp.in_column_edges)
ORDER BY ns, name`
		ensureJobs = `
INSERT OR IGNORE INTO jobs (namespace, name, created_at)
SELECT DISTINCT job_ns, job_name, ?1 FROM temp.in_column_edges WHERE extractor IS NOT NULL ORDER BY 1, 2`
		newEdges = `
INSERT OR IGNORE INTO column_edges (from_id, from_column, to_id, to_column, type, subtype, valid_from)
SELECT DISTINCT f.id, i.from_column, t.id, i.to_column, i.type, i.subtype, ?1` + join + `
ORDER BY 1, 2, 3, 4, 5, 6`
		upsertEvidence = `
INSERT INTO column_edge_evidence (edge_id, ` + evidenceCols + `)
SELECT e.id, i.extractor, i.origin, i.method, j.id, i.first_seen, i.last_seen, i.count, i.confidence, ?2, ?1, ?3` + join + `
JOIN column_edges e ON e.from_id = f.id AND e.from_column = i.from_column AND e.to_id = t.id
	AND e.to_column = i.to_column AND e.type = i.type AND e.subtype = i.subtype AND e.valid_to IS NULL
JOIN jobs j ON j.namespace = i.job_ns AND j.name = i.job_name
WHERE i.extractor IS NOT NULL` + evidenceUpsert
	)
	return c.applyEdges(ctx, st, &st.NewColumns, ensureDatasets, ensureJobs, newEdges, upsertEvidence)
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
		case 2:
			*newEdges += n
		case 3:
			st.Evidence += n
		}
	}
	return nil
}

func appendEvidence(args []any, ev *graph.Evidence) []any {
	return append(args, ev.Extractor, ev.Origin, ev.Method, ev.Job.Namespace, ev.Job.Name,
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

func (c *committer) newInserter(ctx context.Context, table, cols string, ncols int) (*inserter, error) {
	defs := strings.Split(cols, ", ")
	if len(defs) != ncols {
		return nil, fmt.Errorf("temporary table %s: %d columns, want %d", table, len(defs), ncols)
	}
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
