package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/weftdata/weft/graph"
)

// Graph returns the graph as the store knew it at asOf: the table and
// column edges valid then, with their evidence, and the datasets, jobs and
// runs recorded by then. A zero asOf means now: the current edges.
//
// A dataset is included when an extractor described it in a period that
// contains asOf (see ReplaceSource and Expire) or an edge valid at asOf
// touches it; so a removed model is gone once its edges have ended. Every
// edge endpoint is in Datasets, and every job that evidence or a run names
// is in Jobs, with only its ID when no extractor described it. Evidence is
// not versioned: an edge carries its evidence as merged over the period
// that contains asOf. Findings are not stored.
func (s *Store) Graph(ctx context.Context, asOf time.Time) (*graph.Graph, error) {
	t := int64(math.MaxInt64)
	if !asOf.IsZero() {
		t = nanos(asOf)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read graph: %w", err)
	}
	defer conn.Close()
	// A deferred read transaction: one consistent snapshot without taking
	// the write lock (BeginTx would start an IMMEDIATE transaction).
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return nil, fmt.Errorf("read graph: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	r := &reader{conn: conn, t: t, g: graph.New(), datasets: map[int64]*graph.Dataset{}, visible: map[int64]bool{}}
	for _, step := range []func(context.Context) error{r.readEdges, r.readColumnEdges, r.readDatasets, r.readJobs, r.readRuns} {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("read graph: %w", err)
		}
	}
	return r.g, nil
}

type reader struct {
	conn     *sql.Conn
	t        int64
	g        *graph.Graph
	datasets map[int64]*graph.Dataset
	visible  map[int64]bool // row ids of the datasets to include
}

const validAt = "%[1]s.valid_from <= ?1 AND (%[1]s.valid_to IS NULL OR %[1]s.valid_to > ?1)"

func valid(alias string) string { return fmt.Sprintf(validAt, alias) }

// each runs query with the reader's time as ?1 and calls scan for each row.
func (r *reader) each(ctx context.Context, query string, scan func(*sql.Rows) error) error {
	rows, err := r.conn.QueryContext(ctx, query, r.t)
	if err != nil {
		return fmt.Errorf("%q: %w", firstLine(query), err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%q: %w", firstLine(query), err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%q: %w", firstLine(query), err)
	}
	return nil
}

func (r *reader) readDatasets(ctx context.Context) error {
	if err := r.each(ctx, `SELECT dataset_id FROM dataset_periods p WHERE `+valid("p"), func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		r.visible[id] = true
		return nil
	}); err != nil {
		return err
	}
	q := `SELECT id, namespace, name, platform, kind, description FROM datasets WHERE created_at <= ?1`
	if err := r.each(ctx, q, func(rows *sql.Rows) error {
		var id int64
		var d graph.Dataset
		var platform, kind string
		if err := rows.Scan(&id, &d.ID.Namespace, &d.ID.Name, &platform, &kind, &d.Description); err != nil {
			return err
		}
		if !r.visible[id] {
			return nil
		}
		d.Platform, d.Kind = graph.Platform(platform), graph.Kind(kind)
		r.g.Datasets[d.ID] = &d
		r.datasets[id] = &d
		return nil
	}); err != nil {
		return err
	}
	if err := r.each(ctx, `SELECT dataset_id, name, type, description, tests FROM columns ORDER BY dataset_id, position`,
		func(rows *sql.Rows) error {
			var id int64
			var col graph.Column
			var tests string
			if err := rows.Scan(&id, &col.Name, &col.Type, &col.Description, &tests); err != nil {
				return err
			}
			d, ok := r.datasets[id]
			if !ok {
				return nil
			}
			var err error
			if col.Tests, err = decodeList(tests); err != nil {
				return fmt.Errorf("dataset %s column %s tests: %w", d.ID, col.Name, err)
			}
			d.Columns = append(d.Columns, col)
			return nil
		}); err != nil {
		return err
	}
	if err := r.each(ctx, `SELECT dataset_id, namespace, name, reason FROM dataset_identities ORDER BY dataset_id, namespace, name, reason`,
		func(rows *sql.Rows) error {
			var id int64
			var ident graph.Identity
			if err := rows.Scan(&id, &ident.ID.Namespace, &ident.ID.Name, &ident.Reason); err != nil {
				return err
			}
			if d, ok := r.datasets[id]; ok {
				d.Identities = append(d.Identities, ident)
			}
			return nil
		}); err != nil {
		return err
	}
	return r.each(ctx, `SELECT dataset_id, key, value FROM dataset_properties`, func(rows *sql.Rows) error {
		var id int64
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return err
		}
		if d, ok := r.datasets[id]; ok {
			if d.Properties == nil {
				d.Properties = map[string]string{}
			}
			d.Properties[k] = v
		}
		return nil
	})
}

func (r *reader) readJobs(ctx context.Context) error {
	return r.each(ctx, `SELECT namespace, name, type, sql, properties FROM jobs WHERE id <> 0 AND created_at <= ?1`,
		func(rows *sql.Rows) error {
			var j graph.Job
			var props string
			if err := rows.Scan(&j.ID.Namespace, &j.ID.Name, &j.Type, &j.SQL, &props); err != nil {
				return err
			}
			var err error
			if j.Properties, err = decodeMap(props); err != nil {
				return fmt.Errorf("job %s properties: %w", j.ID, err)
			}
			r.g.Jobs[j.ID] = &j
			return nil
		})
}

func (r *reader) readRuns(ctx context.Context) error {
	return r.each(ctx, `
SELECT r.id, j.namespace, j.name, r.parent, r.state, r.started_at, r.ended_at, r.properties
FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.created_at <= ?1`,
		func(rows *sql.Rows) error {
			var run graph.Run
			var start, end int64
			var props string
			if err := rows.Scan(&run.ID, &run.Job.Namespace, &run.Job.Name, &run.Parent, &run.State, &start, &end, &props); err != nil {
				return err
			}
			run.Start, run.End = fromNanos(start), fromNanos(end)
			var err error
			if run.Properties, err = decodeMap(props); err != nil {
				return fmt.Errorf("run %s properties: %w", run.ID, err)
			}
			r.g.Runs[run.ID] = &run
			return nil
		})
}

// evidenceQuery selects the evidence of the edges of table edges valid at
// ?1, in the graph package's evidence order.
func evidenceQuery(edges, evidence string) string {
	return fmt.Sprintf(`
SELECT v.edge_id, v.extractor, v.origin, v.method, j.namespace, j.name, v.first_seen, v.last_seen, v.count, v.confidence
FROM %[2]s v JOIN %[1]s e ON e.id = v.edge_id JOIN jobs j ON j.id = v.job_id
WHERE %[3]s
ORDER BY v.edge_id, v.extractor, v.origin, v.method, j.namespace, j.name`, edges, evidence, valid("e"))
}

func scanEvidence(rows *sql.Rows) (int64, graph.Evidence, error) {
	var id, first, last int64
	var ev graph.Evidence
	err := rows.Scan(&id, &ev.Extractor, &ev.Origin, &ev.Method, &ev.Job.Namespace, &ev.Job.Name,
		&first, &last, &ev.Count, &ev.Confidence)
	ev.FirstSeen, ev.LastSeen = fromNanos(first), fromNanos(last)
	return id, ev, err
}

func (r *reader) readEdges(ctx context.Context) error {
	byID := map[int64]*graph.Edge{}
	if err := r.each(ctx, `
SELECT e.id, e.from_id, f.namespace, f.name, e.to_id, t.namespace, t.name
FROM edges e JOIN datasets f ON f.id = e.from_id JOIN datasets t ON t.id = e.to_id
WHERE `+valid("e"), func(rows *sql.Rows) error {
		var id, from, to int64
		var e graph.Edge
		if err := rows.Scan(&id, &from, &e.From.Namespace, &e.From.Name, &to, &e.To.Namespace, &e.To.Name); err != nil {
			return err
		}
		r.visible[from], r.visible[to] = true, true
		r.g.Edges[e.EdgeID] = &e
		byID[id] = &e
		return nil
	}); err != nil {
		return err
	}
	return r.each(ctx, evidenceQuery("edges", "edge_evidence"), func(rows *sql.Rows) error {
		id, ev, err := scanEvidence(rows)
		if err != nil {
			return err
		}
		if e, ok := byID[id]; ok {
			e.Evidence = append(e.Evidence, ev)
		}
		return nil
	})
}

func (r *reader) readColumnEdges(ctx context.Context) error {
	byID := map[int64]*graph.ColumnEdge{}
	if err := r.each(ctx, `
SELECT e.id, e.from_id, f.namespace, f.name, e.from_column, e.to_id, t.namespace, t.name, e.to_column, e.type, e.subtype
FROM column_edges e JOIN datasets f ON f.id = e.from_id JOIN datasets t ON t.id = e.to_id
WHERE `+valid("e"), func(rows *sql.Rows) error {
		var id, from, to int64
		var e graph.ColumnEdge
		if err := rows.Scan(&id, &from, &e.From.Dataset.Namespace, &e.From.Dataset.Name, &e.From.Column,
			&to, &e.To.Dataset.Namespace, &e.To.Dataset.Name, &e.To.Column, &e.Type, &e.Subtype); err != nil {
			return err
		}
		r.visible[from], r.visible[to] = true, true
		r.g.ColumnEdges[e.ColumnEdgeID] = &e
		byID[id] = &e
		return nil
	}); err != nil {
		return err
	}
	return r.each(ctx, evidenceQuery("column_edges", "column_edge_evidence"), func(rows *sql.Rows) error {
		id, ev, err := scanEvidence(rows)
		if err != nil {
			return err
		}
		if e, ok := byID[id]; ok {
			e.Evidence = append(e.Evidence, ev)
		}
		return nil
	})
}

// Counts are the sizes of the store's main tables.
type Counts struct {
	Datasets           int64 // datasets ever recorded
	Edges              int64 // current table edges
	EdgePeriods        int64 // table edge periods, current and ended
	EdgeEvidence       int64 // evidence rows of table edges, all periods
	ColumnEdges        int64 // current column edges
	ColumnEdgePeriods  int64
	ColumnEdgeEvidence int64
	Jobs               int64
	Runs               int64
	Observations       int64 // sum of evidence counts over current table and column edges
}

// Counts returns the sizes of the store's main tables.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.db.QueryRowContext(ctx, `SELECT
	(SELECT count(*) FROM datasets),
	(SELECT count(*) FROM edges WHERE valid_to IS NULL),
	(SELECT count(*) FROM edges),
	(SELECT count(*) FROM edge_evidence),
	(SELECT count(*) FROM column_edges WHERE valid_to IS NULL),
	(SELECT count(*) FROM column_edges),
	(SELECT count(*) FROM column_edge_evidence),
	(SELECT count(*) FROM jobs WHERE id <> 0),
	(SELECT count(*) FROM runs),
	(SELECT coalesce(sum(v.count), 0) FROM edge_evidence v JOIN edges e ON e.id = v.edge_id WHERE e.valid_to IS NULL) +
	(SELECT coalesce(sum(v.count), 0) FROM column_edge_evidence v JOIN column_edges e ON e.id = v.edge_id WHERE e.valid_to IS NULL)`,
	).Scan(&c.Datasets, &c.Edges, &c.EdgePeriods, &c.EdgeEvidence, &c.ColumnEdges, &c.ColumnEdgePeriods,
		&c.ColumnEdgeEvidence, &c.Jobs, &c.Runs, &c.Observations)
	if err != nil {
		return c, fmt.Errorf("count store %s: %w", s.path, err)
	}
	return c, nil
}
