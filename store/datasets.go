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

// Each source's description of a dataset is kept on its own, per period,
// in dataset_periods: a dbt manifest that drops a column replaces dbt's
// description (the column is gone, as of then) without touching what
// Snowflake said about the same table. The dataset is the merge, with the
// graph package's rules, of the descriptions current at a time; datasets,
// columns, dataset_identities and dataset_properties hold that merge for
// the current time, rewritten whenever a description starts or ends.

// datasets records g's dataset descriptions as extractor c.source's. A
// replace-mode source's description replaces its previous one; an
// incremental source's merges into it (a batch may describe part of a
// table).
func (c *committer) datasets(ctx context.Context, g *graph.Graph, replace bool, st *CommitStats) error {
	if len(g.Datasets) == 0 {
		return nil
	}
	getPeriod, err := c.prepare(ctx, `
SELECT rowid, description FROM dataset_periods WHERE dataset_id = ? AND source = ? AND valid_to IS NULL`)
	if err != nil {
		return err
	}
	touch, err := c.prepare(ctx, `UPDATE dataset_periods SET recorded_at = ?, commit_seq = ? WHERE rowid = ?`)
	if err != nil {
		return err
	}
	end, err := c.prepare(ctx, `UPDATE dataset_periods SET valid_to = ? WHERE rowid = ?`)
	if err != nil {
		return err
	}
	open, err := c.prepare(ctx, `
INSERT INTO dataset_periods (dataset_id, source, valid_from, description, recorded_at, commit_seq)
VALUES (?1, ?2, ?3, ?4, ?3, ?5)`)
	if err != nil {
		return err
	}
	ids := slices.SortedFunc(maps.Keys(g.Datasets), graph.DatasetID.Compare)
	m := newMissing()
	for _, id := range ids {
		c.dataset(id, m)
	}
	if err := c.resolve(ctx, m, nil); err != nil {
		return err
	}
	for _, id := range ids {
		rowID, _ := c.datasetID(id)
		n := graph.New()
		n.AddDataset(*g.Datasets[id])
		next := n.Datasets[id]
		var prow int64
		var prev string
		err := getPeriod.QueryRowContext(ctx, rowID, c.source).Scan(&prow, &prev)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read dataset %s: %w", id, err)
		}
		if found && !replace {
			old, err := decodeDataset(prev)
			if err != nil {
				return fmt.Errorf("read dataset %s: %w", id, err)
			}
			n.AddDataset(old)
			next = n.Datasets[id]
		}
		enc, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("write dataset %s: %w", id, err)
		}
		if found && string(enc) == prev {
			if _, err := touch.ExecContext(ctx, c.at, c.seq, prow); err != nil {
				return fmt.Errorf("record dataset %s: %w", id, err)
			}
			continue
		}
		if found {
			if _, err := end.ExecContext(ctx, c.at, prow); err != nil {
				return fmt.Errorf("record dataset %s: %w", id, err)
			}
		}
		if _, err := open.ExecContext(ctx, rowID, c.source, c.at, string(enc), c.seq); err != nil {
			return fmt.Errorf("record dataset %s: %w", id, err)
		}
		c.dirty = append(c.dirty, rowID)
		st.Datasets++
	}
	return nil
}

func decodeDataset(s string) (graph.Dataset, error) {
	var d graph.Dataset
	err := json.Unmarshal([]byte(s), &d)
	return d, err
}

// endDatasets runs query, an UPDATE of dataset_periods ... RETURNING
// dataset_id, and returns the datasets whose periods it ended.
func endDatasets(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("end datasets: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("end datasets: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("end datasets: %w", err)
	}
	return ids, nil
}

// materialize rewrites the current merged view of datasets ids from their
// current periods.
func materialize(ctx context.Context, tx *sql.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var stmts []*sql.Stmt
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	prep := func(q string) (*sql.Stmt, error) {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("prepare %q: %w", firstLine(q), err)
		}
		stmts = append(stmts, st)
		return st, nil
	}
	var (
		get, put, putCol, putID, putProp *sql.Stmt
		clear                            [3]*sql.Stmt
		err                              error
	)
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&get, `SELECT d.namespace, d.name, p.description FROM datasets d
LEFT JOIN dataset_periods p ON p.dataset_id = d.id AND p.valid_to IS NULL WHERE d.id = ?`},
		{&put, `UPDATE datasets SET platform = ?, kind = ?, description = ? WHERE id = ?`},
		{&clear[0], `DELETE FROM columns WHERE dataset_id = ?`},
		{&clear[1], `DELETE FROM dataset_identities WHERE dataset_id = ?`},
		{&clear[2], `DELETE FROM dataset_properties WHERE dataset_id = ?`},
		{&putCol, `INSERT INTO columns (dataset_id, position, name, type, description, tests) VALUES (?, ?, ?, ?, ?, ?)`},
		{&putID, `INSERT INTO dataset_identities (dataset_id, namespace, name, reason) VALUES (?, ?, ?, ?)`},
		{&putProp, `INSERT INTO dataset_properties (dataset_id, key, value) VALUES (?, ?, ?)`},
	} {
		if *p.st, err = prep(p.q); err != nil {
			return err
		}
	}
	for _, rowID := range ids {
		d, err := mergedDataset(ctx, get, rowID)
		if err != nil {
			return fmt.Errorf("dataset %d: %w", rowID, err)
		}
		if _, err := put.ExecContext(ctx, string(d.Platform), string(d.Kind), d.Description, rowID); err != nil {
			return fmt.Errorf("write dataset %s: %w", d.ID, err)
		}
		for _, cl := range clear {
			if _, err := cl.ExecContext(ctx, rowID); err != nil {
				return fmt.Errorf("write dataset %s: %w", d.ID, err)
			}
		}
		for i, col := range d.Columns {
			tests, err := json.Marshal(nonNil(col.Tests))
			if err != nil {
				return fmt.Errorf("write dataset %s column %s: %w", d.ID, col.Name, err)
			}
			if _, err := putCol.ExecContext(ctx, rowID, i, col.Name, col.Type, col.Description, string(tests)); err != nil {
				return fmt.Errorf("write dataset %s column %s: %w", d.ID, col.Name, err)
			}
		}
		for _, ident := range d.Identities {
			if _, err := putID.ExecContext(ctx, rowID, ident.ID.Namespace, ident.ID.Name, ident.Reason); err != nil {
				return fmt.Errorf("write dataset %s identity %s: %w", d.ID, ident.ID, err)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(d.Properties)) {
			if _, err := putProp.ExecContext(ctx, rowID, k, d.Properties[k]); err != nil {
				return fmt.Errorf("write dataset %s property %s: %w", d.ID, k, err)
			}
		}
	}
	return nil
}

// mergedDataset merges the current descriptions of dataset rowID.
func mergedDataset(ctx context.Context, get *sql.Stmt, rowID int64) (*graph.Dataset, error) {
	rows, err := get.QueryContext(ctx, rowID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	g := graph.New()
	var id graph.DatasetID
	for rows.Next() {
		var desc sql.NullString
		if err := rows.Scan(&id.Namespace, &id.Name, &desc); err != nil {
			return nil, err
		}
		g.AddDataset(graph.Dataset{ID: id})
		if desc.Valid {
			d, err := decodeDataset(desc.String)
			if err != nil {
				return nil, err
			}
			g.AddDataset(d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	d, ok := g.Datasets[id]
	if !ok {
		return nil, errors.New("not recorded")
	}
	return d, nil
}
