package store

import (
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
	for _, id := range slices.SortedFunc(maps.Keys(g.Jobs), graph.JobID.Compare) {
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
