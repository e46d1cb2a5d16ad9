package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/weftdata/weft/graph"
)

// Datasets, jobs and runs are few next to edges, so they are merged in Go
// with the graph package's own rules: read the stored value, merge the new
// one into it, and write it back only if it changed. That keeps one set of
// merge rules for snapshots and the store.

func (c *committer) datasets(ctx context.Context, g *graph.Graph, st *CommitStats) error {
	if len(g.Datasets) == 0 {
		return nil
	}
	get, err := c.prepare(ctx, `SELECT id, platform, kind, description FROM datasets WHERE namespace = ? AND name = ?`)
	if err != nil {
		return err
	}
	getCols, err := c.prepare(ctx, `SELECT name, type, description, tests FROM columns WHERE dataset_id = ? ORDER BY position`)
	if err != nil {
		return err
	}
	getIDs, err := c.prepare(ctx, `SELECT namespace, name, reason FROM dataset_identities WHERE dataset_id = ? ORDER BY namespace, name, reason`)
	if err != nil {
		return err
	}
	getProps, err := c.prepare(ctx, `SELECT key, value FROM dataset_properties WHERE dataset_id = ?`)
	if err != nil {
		return err
	}
	put, err := c.prepare(ctx, `
INSERT INTO datasets (namespace, name, platform, kind, description, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (namespace, name) DO UPDATE SET
	platform = excluded.platform, kind = excluded.kind, description = excluded.description
RETURNING id`)
	if err != nil {
		return err
	}
	period, err := c.prepare(ctx, `
INSERT INTO dataset_periods (dataset_id, source, valid_from, recorded_at, commit_seq) VALUES (?1, ?2, ?3, ?3, ?4)
ON CONFLICT (dataset_id, source) WHERE valid_to IS NULL DO UPDATE SET
	recorded_at = excluded.recorded_at, commit_seq = excluded.commit_seq`)
	if err != nil {
		return err
	}
	var clear [3]*sql.Stmt
	for i, q := range []string{
		`DELETE FROM columns WHERE dataset_id = ?`,
		`DELETE FROM dataset_identities WHERE dataset_id = ?`,
		`DELETE FROM dataset_properties WHERE dataset_id = ?`,
	} {
		if clear[i], err = c.prepare(ctx, q); err != nil {
			return err
		}
	}
	putCol, err := c.prepare(ctx, `INSERT INTO columns (dataset_id, position, name, type, description, tests) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	putID, err := c.prepare(ctx, `INSERT INTO dataset_identities (dataset_id, namespace, name, reason) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	putProp, err := c.prepare(ctx, `INSERT INTO dataset_properties (dataset_id, key, value) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}

	for _, id := range slices.SortedFunc(maps.Keys(g.Datasets), compareDatasetID) {
		d := g.Datasets[id]
		rowID, stored, found, err := readDataset(ctx, id, get, getCols, getIDs, getProps)
		if err != nil {
			return fmt.Errorf("read dataset %s: %w", id, err)
		}
		m := graph.New()
		if found {
			m.AddDataset(stored)
		}
		m.AddDataset(*d)
		merged := m.Datasets[id]
		if found {
			c.newDatasets[id] = rowID
		}
		if found && datasetEqual(&stored, merged) {
			if _, err := period.ExecContext(ctx, rowID, c.source, c.at, c.seq); err != nil {
				return fmt.Errorf("record dataset %s: %w", id, err)
			}
			continue
		}
		st.Datasets++
		if err := put.QueryRowContext(ctx, id.Namespace, id.Name, string(merged.Platform), string(merged.Kind),
			merged.Description, c.at).Scan(&rowID); err != nil {
			return fmt.Errorf("write dataset %s: %w", id, err)
		}
		c.newDatasets[id] = rowID
		if _, err := period.ExecContext(ctx, rowID, c.source, c.at, c.seq); err != nil {
			return fmt.Errorf("record dataset %s: %w", id, err)
		}
		if found {
			for _, cl := range clear {
				if _, err := cl.ExecContext(ctx, rowID); err != nil {
					return fmt.Errorf("write dataset %s: %w", id, err)
				}
			}
		}
		for i, col := range merged.Columns {
			tests, err := json.Marshal(nonNil(col.Tests))
			if err != nil {
				return fmt.Errorf("write dataset %s column %s: %w", id, col.Name, err)
			}
			if _, err := putCol.ExecContext(ctx, rowID, i, col.Name, col.Type, col.Description, string(tests)); err != nil {
				return fmt.Errorf("write dataset %s column %s: %w", id, col.Name, err)
			}
		}
		for _, ident := range merged.Identities {
			if _, err := putID.ExecContext(ctx, rowID, ident.ID.Namespace, ident.ID.Name, ident.Reason); err != nil {
				return fmt.Errorf("write dataset %s identity %s: %w", id, ident.ID, err)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(merged.Properties)) {
			if _, err := putProp.ExecContext(ctx, rowID, k, merged.Properties[k]); err != nil {
				return fmt.Errorf("write dataset %s property %s: %w", id, k, err)
			}
		}
	}
	return nil
}

// readDataset reads the stored dataset id and its row id.
func readDataset(ctx context.Context, id graph.DatasetID, get, getCols, getIDs, getProps *sql.Stmt) (rowID int64, d graph.Dataset, found bool, err error) {
	d = graph.Dataset{ID: id}
	var platform, kind string
	err = get.QueryRowContext(ctx, id.Namespace, id.Name).Scan(&rowID, &platform, &kind, &d.Description)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, d, false, nil
	}
	if err != nil {
		return 0, d, false, err
	}
	d.Platform, d.Kind = graph.Platform(platform), graph.Kind(kind)
	rows, err := getCols.QueryContext(ctx, rowID)
	if err != nil {
		return 0, d, false, err
	}
	for rows.Next() {
		var col graph.Column
		var tests string
		if err := rows.Scan(&col.Name, &col.Type, &col.Description, &tests); err != nil {
			rows.Close()
			return 0, d, false, err
		}
		if col.Tests, err = decodeList(tests); err != nil {
			rows.Close()
			return 0, d, false, fmt.Errorf("column %s tests: %w", col.Name, err)
		}
		d.Columns = append(d.Columns, col)
	}
	if err := closeRows(rows); err != nil {
		return 0, d, false, err
	}
	rows, err = getIDs.QueryContext(ctx, rowID)
	if err != nil {
		return 0, d, false, err
	}
	for rows.Next() {
		var ident graph.Identity
		if err := rows.Scan(&ident.ID.Namespace, &ident.ID.Name, &ident.Reason); err != nil {
			rows.Close()
			return 0, d, false, err
		}
		d.Identities = append(d.Identities, ident)
	}
	if err := closeRows(rows); err != nil {
		return 0, d, false, err
	}
	rows, err = getProps.QueryContext(ctx, rowID)
	if err != nil {
		return 0, d, false, err
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return 0, d, false, err
		}
		if d.Properties == nil {
			d.Properties = map[string]string{}
		}
		d.Properties[k] = v
	}
	if err := closeRows(rows); err != nil {
		return 0, d, false, err
	}
	return rowID, d, true, nil
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}

func datasetEqual(a, b *graph.Dataset) bool {
	return a.ID == b.ID && a.Platform == b.Platform && a.Kind == b.Kind && a.Description == b.Description &&
		slices.EqualFunc(a.Columns, b.Columns, func(x, y graph.Column) bool {
			return x.Name == y.Name && x.Type == y.Type && x.Description == y.Description && slices.Equal(x.Tests, y.Tests)
		}) &&
		slices.Equal(a.Identities, b.Identities) &&
		maps.Equal(a.Properties, b.Properties)
}

func (c *committer) jobs(ctx context.Context, g *graph.Graph) error {
	if len(g.Jobs) == 0 {
		return nil
	}
	get, err := c.prepare(ctx, `SELECT type, sql, properties FROM jobs WHERE namespace = ? AND name = ?`)
	if err != nil {
		return err
	}
	put, err := c.prepare(ctx, `
INSERT INTO jobs (namespace, name, type, sql, properties, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (namespace, name) DO UPDATE SET type = excluded.type, sql = excluded.sql, properties = excluded.properties`)
	if err != nil {
		return err
	}
	for _, id := range slices.SortedFunc(maps.Keys(g.Jobs), compareJobID) {
		stored := graph.Job{ID: id}
		var props string
		err := get.QueryRowContext(ctx, id.Namespace, id.Name).Scan(&stored.Type, &stored.SQL, &props)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read job %s: %w", id, err)
		}
		if found {
			if stored.Properties, err = decodeMap(props); err != nil {
				return fmt.Errorf("read job %s properties: %w", id, err)
			}
		}
		m := graph.New()
		if found {
			m.AddJob(stored)
		}
		m.AddJob(*g.Jobs[id])
		merged := m.Jobs[id]
		if found && stored.Type == merged.Type && stored.SQL == merged.SQL && maps.Equal(stored.Properties, merged.Properties) {
			continue
		}
		enc, err := encodeMap(merged.Properties)
		if err != nil {
			return fmt.Errorf("write job %s: %w", id, err)
		}
		if _, err := put.ExecContext(ctx, id.Namespace, id.Name, merged.Type, merged.SQL, enc, c.at); err != nil {
			return fmt.Errorf("write job %s: %w", id, err)
		}
	}
	return nil
}

func (c *committer) runs(ctx context.Context, g *graph.Graph) error {
	if len(g.Runs) == 0 {
		return nil
	}
	get, err := c.prepare(ctx, `
SELECT j.namespace, j.name, r.parent, r.state, r.started_at, r.ended_at, r.properties
FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.id = ?`)
	if err != nil {
		return err
	}
	ensureJob, err := c.prepare(ctx, `INSERT OR IGNORE INTO jobs (namespace, name, created_at) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	put, err := c.prepare(ctx, `
INSERT INTO runs (id, job_id, parent, state, started_at, ended_at, properties, created_at)
VALUES (?1, (SELECT id FROM jobs WHERE namespace = ?2 AND name = ?3), ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (id) DO UPDATE SET job_id = excluded.job_id, parent = excluded.parent, state = excluded.state,
	started_at = excluded.started_at, ended_at = excluded.ended_at, properties = excluded.properties`)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(g.Runs)) {
		stored := graph.Run{ID: id}
		var start, end int64
		var props string
		err := get.QueryRowContext(ctx, id).Scan(&stored.Job.Namespace, &stored.Job.Name, &stored.Parent, &stored.State,
			&start, &end, &props)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read run %s: %w", id, err)
		}
		m := graph.New()
		if found {
			stored.Start, stored.End = fromNanos(start), fromNanos(end)
			if stored.Properties, err = decodeMap(props); err != nil {
				return fmt.Errorf("read run %s properties: %w", id, err)
			}
			m.AddRun(stored)
		}
		m.AddRun(*g.Runs[id])
		r := m.Runs[id]
		if found && runEqual(&stored, r) {
			continue
		}
		if _, err := ensureJob.ExecContext(ctx, r.Job.Namespace, r.Job.Name, c.at); err != nil {
			return fmt.Errorf("write run %s job: %w", id, err)
		}
		enc, err := encodeMap(r.Properties)
		if err != nil {
			return fmt.Errorf("write run %s: %w", id, err)
		}
		if _, err := put.ExecContext(ctx, id, r.Job.Namespace, r.Job.Name, r.Parent, r.State,
			nanos(r.Start), nanos(r.End), enc, c.at); err != nil {
			return fmt.Errorf("write run %s: %w", id, err)
		}
	}
	return nil
}

func runEqual(a, b *graph.Run) bool {
	return a.Job == b.Job && a.Parent == b.Parent && a.State == b.State &&
		a.Start.Equal(b.Start) && a.End.Equal(b.End) && maps.Equal(a.Properties, b.Properties)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func decodeList(s string) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func encodeMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m) // sorts keys
	return string(b), err
}

func decodeMap(s string) (map[string]string, error) {
	var out map[string]string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func compareDatasetID(a, b graph.DatasetID) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

func compareJobID(a, b graph.JobID) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}
