package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
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
	r := &reader{conn: conn, t: t, g: graph.New(), datasets: map[int64]*graph.Dataset{}, visible: map[int64]bool{},
		jobs: map[int64]*graph.Job{}, strs: map[string]string{}}
	steps := []func(context.Context) error{r.sizeEdges, r.readDatasets, r.readJobs, r.readRuns, r.readEdges, r.readColumnEdges, r.addDatasets}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("read graph: %w", err)
		}
	}
	return r.g, nil
}

// reader reads one graph. Edges name datasets and jobs by row id, so each
// name is read once and its strings are shared by every edge that uses it.
type reader struct {
	conn     *sql.Conn
	t        int64
	g        *graph.Graph
	datasets map[int64]*graph.Dataset // every dataset recorded by t
	visible  map[int64]bool           // row ids of the datasets to include
	jobs     map[int64]*graph.Job     // every job, recorded by t or not; 0 is nil
	strs     map[string]string        // interned extractor and method names
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

// sizeEdges makes the graph's edge maps as large as the current graph, a
// good guess for any time: growing a map of a million edges step by step
// costs as much as reading them. The partial indexes of current edges
// make the counts cheap.
func (r *reader) sizeEdges(ctx context.Context) error {
	var edges, columns int
	if err := r.conn.QueryRowContext(ctx, `
SELECT (SELECT count(*) FROM edges WHERE valid_to IS NULL), (SELECT count(*) FROM column_edges WHERE valid_to IS NULL)`,
	).Scan(&edges, &columns); err != nil {
		return fmt.Errorf("count edges: %w", err)
	}
	r.g.Edges = make(map[graph.EdgeID]*graph.Edge, edges)
	r.g.ColumnEdges = make(map[graph.ColumnEdgeID]*graph.ColumnEdge, columns)
	return nil
}

// intern returns b as a string, the same string for the same bytes.
func (r *reader) intern(b sql.RawBytes) string {
	if s, ok := r.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	r.strs[s] = s
	return s
}

// readDatasets reads the name of every dataset recorded by t, and the
// descriptions current at t, which make their datasets visible.
func (r *reader) readDatasets(ctx context.Context) error {
	if err := r.each(ctx, `SELECT id, namespace, name FROM datasets WHERE created_at <= ?1`, func(rows *sql.Rows) error {
		var id int64
		var d graph.Dataset
		if err := rows.Scan(&id, &d.ID.Namespace, &d.ID.Name); err != nil {
			return err
		}
		r.datasets[id] = &d
		return nil
	}); err != nil {
		return err
	}
	descs := graph.New()
	if err := r.each(ctx, `SELECT dataset_id, description FROM dataset_periods p WHERE `+valid("p"), func(rows *sql.Rows) error {
		var id int64
		var desc string
		if err := rows.Scan(&id, &desc); err != nil {
			return err
		}
		d, ok := r.datasets[id]
		if !ok {
			return fmt.Errorf("a description names dataset %d, which is not recorded", id)
		}
		dd, err := decodeDataset(desc)
		if err != nil {
			return fmt.Errorf("dataset %s: %w", d.ID, err)
		}
		if dd.ID != d.ID {
			return fmt.Errorf("dataset %s: description of %s", d.ID, dd.ID)
		}
		descs.AddDataset(dd)
		r.visible[id] = true
		return nil
	}); err != nil {
		return err
	}
	for _, d := range r.datasets {
		if m, ok := descs.Datasets[d.ID]; ok {
			*d = *m
		}
	}
	return nil
}

// dataset returns the ID of dataset row id and marks it visible.
func (r *reader) dataset(id int64) (graph.DatasetID, error) {
	d, ok := r.datasets[id]
	if !ok {
		return graph.DatasetID{}, fmt.Errorf("edge names dataset %d, which is not recorded", id)
	}
	r.visible[id] = true
	return d.ID, nil
}

// addDatasets adds the visible datasets to the graph.
func (r *reader) addDatasets(context.Context) error {
	for id, d := range r.datasets {
		if r.visible[id] {
			r.g.Datasets[d.ID] = d
		}
	}
	return nil
}

// readJobs reads every job: those recorded by t go into the graph, the
// others only when evidence names them (evidence is not versioned, so a
// period current at t may carry evidence with a job recorded later).
func (r *reader) readJobs(ctx context.Context) error {
	return r.each(ctx, `SELECT id, namespace, name, type, sql, properties, created_at <= ?1 FROM jobs WHERE id <> 0`,
		func(rows *sql.Rows) error {
			var id int64
			var j graph.Job
			var props string
			var recorded bool
			if err := rows.Scan(&id, &j.ID.Namespace, &j.ID.Name, &j.Type, &j.SQL, &props, &recorded); err != nil {
				return err
			}
			var err error
			if j.Properties, err = decodeMap(props); err != nil {
				return fmt.Errorf("job %s properties: %w", j.ID, err)
			}
			r.jobs[id] = &j
			if recorded {
				r.g.Jobs[j.ID] = &j
			}
			return nil
		})
}

// job returns the ID of job row id (0: no job) and makes sure the graph
// has it.
func (r *reader) job(id int64) (graph.JobID, error) {
	if id == 0 {
		return graph.JobID{}, nil
	}
	j, ok := r.jobs[id]
	if !ok {
		return graph.JobID{}, fmt.Errorf("job %d is not recorded", id)
	}
	r.g.Jobs[j.ID] = j
	return j.ID, nil
}

func (r *reader) readRuns(ctx context.Context) error {
	return r.each(ctx, `SELECT id, job_id, parent, state, started_at, ended_at, properties FROM runs WHERE created_at <= ?1`,
		func(rows *sql.Rows) error {
			var run graph.Run
			var job, start, end int64
			var props string
			if err := rows.Scan(&run.ID, &job, &run.Parent, &run.State, &start, &end, &props); err != nil {
				return err
			}
			var err error
			if run.Job, err = r.job(job); err != nil {
				return fmt.Errorf("run %s: %w", run.ID, err)
			}
			run.Start, run.End = fromNanos(start), fromNanos(end)
			if run.Properties, err = decodeMap(props); err != nil {
				return fmt.Errorf("run %s properties: %w", run.ID, err)
			}
			r.g.Runs[run.ID] = &run
			return nil
		})
}

// edgeQuery selects the edges of table edges valid at ?1, after keyCols,
// joined with their evidence (has_evidence false for an edge without),
// in edge order.
func edgeQuery(edges, evidence, keyCols string) string {
	return fmt.Sprintf(`
SELECT e.id, %[3]s, v.edge_id IS NOT NULL, coalesce(v.extractor, ''), coalesce(v.origin, ''), coalesce(v.method, ''),
	coalesce(v.job_id, 0), coalesce(v.first_seen, 0), coalesce(v.last_seen, 0), coalesce(v.count, 0), coalesce(v.confidence, 0)
FROM %[1]s e LEFT JOIN %[2]s v ON v.edge_id = e.id
WHERE %[4]s
ORDER BY e.id`, edges, evidence, keyCols, valid("e"))
}

// evidenceRow receives the evidence columns of edgeQuery.
type evidenceRow struct {
	has               bool
	extractor, method sql.RawBytes
	ev                graph.Evidence
	job, first, last  int64
}

func (v *evidenceRow) dest() []any {
	return []any{&v.has, &v.extractor, &v.ev.Origin, &v.method, &v.job, &v.first, &v.last, &v.ev.Count, &v.ev.Confidence}
}

// evidence returns the evidence scanned into v.
func (r *reader) evidence(v *evidenceRow) (graph.Evidence, error) {
	ev := v.ev
	ev.Extractor, ev.Method = r.intern(v.extractor), r.intern(v.method)
	var err error
	if ev.Job, err = r.job(v.job); err != nil {
		return ev, fmt.Errorf("evidence: %w", err)
	}
	ev.FirstSeen, ev.LastSeen = fromNanos(v.first), fromNanos(v.last)
	return ev, nil
}

func (r *reader) readEdges(ctx context.Context) error {
	var (
		id, last, from, to int64
		cur                *graph.Edge
		v                  evidenceRow
	)
	dest := append([]any{&id, &from, &to}, v.dest()...)
	err := r.each(ctx, edgeQuery("edges", "edge_evidence", "e.from_id, e.to_id"), func(rows *sql.Rows) error {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if cur == nil || id != last {
			if cur != nil {
				sortEvidence(cur.Evidence)
			}
			cur, last = &graph.Edge{}, id
			var err error
			if cur.From, err = r.dataset(from); err != nil {
				return err
			}
			if cur.To, err = r.dataset(to); err != nil {
				return err
			}
			r.g.Edges[cur.EdgeID] = cur
		}
		if v.has {
			ev, err := r.evidence(&v)
			if err != nil {
				return err
			}
			cur.Evidence = append(cur.Evidence, ev)
		}
		return nil
	})
	if cur != nil {
		sortEvidence(cur.Evidence)
	}
	return err
}

func (r *reader) readColumnEdges(ctx context.Context) error {
	var (
		id, last, from, to int64
		key                graph.ColumnEdgeID
		cur                *graph.ColumnEdge
		v                  evidenceRow
	)
	dest := append([]any{&id, &from, &key.From.Column, &to, &key.To.Column, &key.Type, &key.Subtype}, v.dest()...)
	err := r.each(ctx, edgeQuery("column_edges", "column_edge_evidence",
		"e.from_id, e.from_column, e.to_id, e.to_column, e.type, e.subtype"), func(rows *sql.Rows) error {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if cur == nil || id != last {
			if cur != nil {
				sortEvidence(cur.Evidence)
			}
			cur, last = &graph.ColumnEdge{ColumnEdgeID: key}, id
			var err error
			if cur.From.Dataset, err = r.dataset(from); err != nil {
				return err
			}
			if cur.To.Dataset, err = r.dataset(to); err != nil {
				return err
			}
			r.g.ColumnEdges[cur.ColumnEdgeID] = cur
		}
		if v.has {
			ev, err := r.evidence(&v)
			if err != nil {
				return err
			}
			cur.Evidence = append(cur.Evidence, ev)
		}
		return nil
	})
	if cur != nil {
		sortEvidence(cur.Evidence)
	}
	return err
}

// sortEvidence puts evs in the graph package's order: by extractor,
// origin, method and job.
func sortEvidence(evs []graph.Evidence) {
	if len(evs) < 2 {
		return
	}
	slices.SortFunc(evs, func(a, b graph.Evidence) int {
		return cmp.Or(cmp.Compare(a.Extractor, b.Extractor), cmp.Compare(a.Origin, b.Origin),
			cmp.Compare(a.Method, b.Method), graph.JobID.Compare(a.Job, b.Job))
	})
}

// Counts are the sizes of the store's main tables.
type Counts struct {
	Datasets           int64 // datasets ever recorded
	DatasetPeriods     int64 // descriptions of datasets by sources, current and ended
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
	(SELECT count(*) FROM dataset_periods),
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
	).Scan(&c.Datasets, &c.DatasetPeriods, &c.Edges, &c.EdgePeriods, &c.EdgeEvidence, &c.ColumnEdges, &c.ColumnEdgePeriods,
		&c.ColumnEdgeEvidence, &c.Jobs, &c.Runs, &c.Observations)
	if err != nil {
		return c, fmt.Errorf("count store %s: %w", s.path, err)
	}
	return c, nil
}
