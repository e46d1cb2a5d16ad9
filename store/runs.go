package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Statuses of weft runs and of each extractor in a run.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusFailed  = "failed"
)

// Run is one of weft's own runs (one `weft extract`).
type Run struct {
	ID         int64
	Started    time.Time
	Finished   time.Time // zero while running, or when the run was killed
	Status     string    // running, ok, failed
	Extractors []ExtractorRun
}

// ExtractorRun is how one extractor did in a run.
type ExtractorRun struct {
	Extractor string
	Status    string // ok or failed
	Error     string // the error message when failed
}

// BeginRun records the start of a weft run at started (time.Now() if zero)
// and returns its id. A run that is never finished (the process was
// killed) stays "running" with no finish time.
func (s *Store) BeginRun(ctx context.Context, started time.Time) (int64, error) {
	if started.IsZero() {
		started = time.Now()
	}
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO weft_runs (started_at, status) VALUES (?, ?) RETURNING id`,
			nanos(started), StatusRunning).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	return id, nil
}

// FinishRun records the end of run id at finished (time.Now() if zero):
// each extractor's outcome (a nil error is success) and the run's status,
// which is "failed" if any extractor failed and "ok" otherwise. runErr, if
// not nil, is a failure of the run itself (bad config, store error) and
// also makes it "failed"; it is recorded under the extractor name "".
func (s *Store) FinishRun(ctx context.Context, id int64, finished time.Time, extractors map[string]error, runErr error) error {
	if finished.IsZero() {
		finished = time.Now()
	}
	status := StatusOK
	if runErr != nil {
		status = StatusFailed
	}
	for _, err := range extractors {
		if err != nil {
			status = StatusFailed
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE weft_runs SET finished_at = ?, status = ? WHERE id = ?`, nanos(finished), status, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("no run %d", id)
		}
		put := func(name string, e error) error {
			st, msg := StatusOK, ""
			if e != nil {
				st, msg = StatusFailed, e.Error()
			}
			_, err := tx.ExecContext(ctx, `
INSERT INTO weft_run_extractors (run_id, extractor, status, error) VALUES (?, ?, ?, ?)
ON CONFLICT (run_id, extractor) DO UPDATE SET status = excluded.status, error = excluded.error`, id, name, st, msg)
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(extractors)) {
			if err := put(name, extractors[name]); err != nil {
				return err
			}
		}
		if runErr != nil {
			return put("", runErr)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	return nil
}

// Runs returns weft's runs, oldest first.
func (s *Store) Runs(ctx context.Context) ([]Run, error) {
	var runs []Run
	index := map[int64]int{}
	rows, err := s.db.QueryContext(ctx, `SELECT id, started_at, finished_at, status FROM weft_runs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	for rows.Next() {
		var r Run
		var started, finished int64
		if err := rows.Scan(&r.ID, &started, &finished, &r.Status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read runs: %w", err)
		}
		r.Started, r.Finished = fromNanos(started), fromNanos(finished)
		index[r.ID] = len(runs)
		runs = append(runs, r)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT run_id, extractor, status, error FROM weft_run_extractors ORDER BY run_id, extractor`)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	for rows.Next() {
		var id int64
		var e ExtractorRun
		if err := rows.Scan(&id, &e.Extractor, &e.Status, &e.Error); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read runs: %w", err)
		}
		if i, ok := index[id]; ok {
			runs[i].Extractors = append(runs[i].Extractors, e)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	return runs, nil
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}
