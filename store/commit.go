package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weftdata/weft/graph"
)

// DefaultRetention is how long a query-log edge stays current after it was
// last seen, when Expire is given no retention.
const DefaultRetention = 30 * 24 * time.Hour

// CommitOptions tune one commit.
type CommitOptions struct {
	// Now is the commit's time. Edges the commit records for the first time
	// are valid from Now; edges it ends are valid until Now. Zero means
	// time.Now(). A Now before the store's last commit is raised to it, so
	// validity periods never run backwards when a clock does.
	Now time.Time
	// RunID is the weft run (see BeginRun) the commit belongs to; 0 if none.
	RunID int64
}

// CommitStats counts what one commit or Expire changed.
type CommitStats struct {
	Datasets    int64 // datasets written (new or changed)
	NewEdges    int64 // table edges that became current
	NewColumns  int64 // column edges that became current
	Evidence    int64 // evidence rows inserted or updated
	EndedEdges  int64 // table edges that ended
	EndedColumn int64 // column edges that ended
	// EndedDatasets counts datasets that a source stopped describing: a
	// replace-mode snapshot without them, or expiry.
	EndedDatasets int64
}

// Commit merges g, everything extractor observed in one batch, into the
// store and advances extractor's watermark to watermark (unless watermark is
// zero or not later than the stored one), all in one transaction: either
// all of it is committed or none of it.
//
// Datasets, jobs and runs merge with the graph package's rules. Edges
// absent from the store become current from opts.Now. Evidence merges by
// its key (extractor, origin, method, job), keeping the earliest first seen
// and the latest last seen, count and confidence, so committing the same
// batch twice leaves the store as it was. Edges of an incremental extractor
// end only through Expire.
func (s *Store) Commit(ctx context.Context, extractor string, g *graph.Graph, watermark time.Time, opts CommitOptions) (CommitStats, error) {
	st, err := s.commit(ctx, extractor, g, watermark, false, opts)
	if err != nil {
		return st, fmt.Errorf("commit %s: %w", extractor, err)
	}
	return st, nil
}

// ReplaceSource commits g as the whole current truth of extractor (a dbt
// manifest): it merges g as Commit does, then ends what extractor recorded
// before and g no longer has. An edge whose evidence all came from
// extractor ends (valid_to = now) and stays queryable by time; an edge that
// other extractors also saw stays current with their evidence only (its
// period is split, so the earlier period keeps extractor's evidence).
// From then on, Expire leaves extractor's evidence alone.
func (s *Store) ReplaceSource(ctx context.Context, extractor string, g *graph.Graph, opts CommitOptions) (CommitStats, error) {
	st, err := s.commit(ctx, extractor, g, time.Time{}, true, opts)
	if err != nil {
		return st, fmt.Errorf("replace %s: %w", extractor, err)
	}
	return st, nil
}

// Expire ends the edges that have not been seen for retention
// (DefaultRetention if retention is 0): evidence from incremental
// extractors whose last seen time (or, when the source gave none, the time
// it was last committed) is more than retention before that source's newest
// observation (or now, if that is earlier) no longer counts, and an edge
// left without evidence ends at now. Measuring each source on its own
// clock keeps an old export, or a log that stopped arriving, from ageing
// away on weft's clock. Evidence of replace-mode extractors (see
// ReplaceSource) never expires.
func (s *Store) Expire(ctx context.Context, now time.Time, retention time.Duration) (CommitStats, error) {
	if retention == 0 {
		retention = DefaultRetention
	}
	if retention < 0 {
		return CommitStats{}, fmt.Errorf("expire: negative retention %v", retention)
	}
	if now.IsZero() {
		now = time.Now()
	}
	cutoff := nanos(now.Add(-retention))
	var st CommitStats
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		at, _, err := beginCommit(ctx, tx, now)
		if err != nil {
			return err
		}
		// Each source's clock is its own newest observation: an export of
		// last year's query log, or a log that stopped arriving, does not
		// age away on weft's clock. "Not seen for retention" means not seen
		// in the retention before the newest thing that source saw (or now,
		// whichever is earlier).
		for _, q := range []string{
			`CREATE TEMP TABLE IF NOT EXISTS expire_cutoffs (source TEXT PRIMARY KEY, cutoff INTEGER NOT NULL)`,
			`DELETE FROM temp.expire_cutoffs`,
			`INSERT INTO temp.expire_cutoffs (source, cutoff)
SELECT source, MIN(?1, MAX(seen)) - ?2 FROM (
	SELECT source, CASE WHEN last_seen <> 0 THEN last_seen ELSE recorded_at END AS seen FROM edge_evidence
	UNION ALL
	SELECT source, CASE WHEN last_seen <> 0 THEN last_seen ELSE recorded_at END AS seen FROM column_edge_evidence
) GROUP BY source`,
		} {
			var args []any
			if strings.Contains(q, "?") {
				args = []any{nanos(now), int64(retention)}
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("source horizons: %w", err)
			}
		}
		pred := func(a string) string {
			return fmt.Sprintf("%[1]s.source NOT IN (SELECT name FROM extractors WHERE mode = 'replace')"+
				" AND (CASE WHEN %[1]s.last_seen <> 0 THEN %[1]s.last_seen ELSE %[1]s.recorded_at END)"+
				" < COALESCE((SELECT c.cutoff FROM temp.expire_cutoffs c WHERE c.source = %[1]s.source), ?2)", a)
		}
		if st.EndedEdges, err = retire(ctx, tx, tableEdges(), pred, at, cutoff); err != nil {
			return err
		}
		if st.EndedColumn, err = retire(ctx, tx, columnEdges(), pred, at, cutoff); err != nil {
			return err
		}
		ended, err := endDatasets(ctx, tx, `
UPDATE dataset_periods SET valid_to = ?1
WHERE valid_to IS NULL AND recorded_at < ?2 AND source NOT IN (SELECT name FROM extractors WHERE mode = 'replace')
RETURNING dataset_id`,
			at, cutoff)
		if err != nil {
			return err
		}
		st.EndedDatasets = int64(len(ended))
		return materialize(ctx, tx, ended)
	})
	if err != nil {
		return st, fmt.Errorf("expire: %w", err)
	}
	return st, nil
}

func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// inTxUnchecked is inTx without SQLite's foreign key enforcement, for
// Commit and ReplaceSource. Enforcement checks each referenced row for each
// row inserted (two datasets per edge, an edge and a job per evidence), by
// opening a cursor per row: that was a third of a commit's time. A commit
// cannot break a reference: it writes only dataset and job ids it just
// resolved or inserted in the same transaction, or cached from committed
// ones (rows are never deleted), and evidence only by joining the edge it
// belongs to. IntegrityCheck's foreign_key_check verifies the references,
// and the tests run it after commits, replaces, expiry and crashes.
//
// foreign_keys is a connection setting that SQLite ignores inside a
// transaction, so it is switched off on a pinned connection before BEGIN
// and on again after; a connection that cannot be switched back is
// discarded.
func (s *Store) inTxUnchecked(ctx context.Context, f func(*sql.Tx) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); rerr != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
			if err == nil {
				err = fmt.Errorf("restore foreign key enforcement: %w", rerr)
			}
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// beginCommit numbers a new commit and fixes its time: now, raised to the
// last commit's time if the clock went backwards.
func beginCommit(ctx context.Context, tx *sql.Tx, now time.Time) (at, seq int64, err error) {
	var last int64
	if err := tx.QueryRowContext(ctx,
		`SELECT (SELECT value FROM meta WHERE key = 'last_commit_at'), (SELECT value FROM meta WHERE key = 'commit_seq')`,
	).Scan(&last, &seq); err != nil {
		return 0, 0, fmt.Errorf("read commit sequence: %w", err)
	}
	at = max(nanos(now), last)
	seq++
	if _, err := tx.ExecContext(ctx,
		`UPDATE meta SET value = CASE key WHEN 'last_commit_at' THEN ?1 ELSE ?2 END WHERE key IN ('last_commit_at', 'commit_seq')`,
		at, seq); err != nil {
		return 0, 0, fmt.Errorf("advance commit sequence: %w", err)
	}
	return at, seq, nil
}

func (s *Store) commit(ctx context.Context, extractor string, g *graph.Graph, watermark time.Time, replace bool, opts CommitOptions) (CommitStats, error) {
	var st CommitStats
	if extractor == "" {
		return st, errors.New("empty extractor name")
	}
	if g == nil {
		g = graph.New()
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var c *committer
	err := s.inTxUnchecked(ctx, func(tx *sql.Tx) error {
		at, seq, err := beginCommit(ctx, tx, now)
		if err != nil {
			return err
		}
		c = &committer{tx: tx, at: at, seq: seq, source: extractor, cache: &s.cache,
			newDatasets: map[graph.DatasetID]int64{}, newJobs: map[graph.JobID]int64{graph.JobID{}: 0}}
		defer c.close()
		// Commits are serialised by the store's one connection, so this
		// lock is never contended; it orders the cache with add below.
		s.cache.mu.Lock()
		defer s.cache.mu.Unlock()
		if err := c.datasets(ctx, g, replace, &st); err != nil {
			return err
		}
		if err := c.jobs(ctx, g); err != nil {
			return err
		}
		if err := c.runs(ctx, g); err != nil {
			return err
		}
		if err := c.edges(ctx, g, &st); err != nil {
			return err
		}
		if err := c.columnEdges(ctx, g, &st); err != nil {
			return err
		}
		if replace {
			pred := func(a string) string {
				return fmt.Sprintf("%[1]s.source = ?2 AND %[1]s.commit_seq <> ?3", a)
			}
			if st.EndedEdges, err = retire(ctx, tx, tableEdges(), pred, at, extractor, seq); err != nil {
				return err
			}
			if st.EndedColumn, err = retire(ctx, tx, columnEdges(), pred, at, extractor, seq); err != nil {
				return err
			}
			ended, err := endDatasets(ctx, tx, `
UPDATE dataset_periods SET valid_to = ?1 WHERE valid_to IS NULL AND source = ?2 AND commit_seq <> ?3
RETURNING dataset_id`,
				at, extractor, seq)
			if err != nil {
				return err
			}
			st.EndedDatasets = int64(len(ended))
			c.dirty = append(c.dirty, ended...)
		}
		if err := materialize(ctx, tx, c.dirty); err != nil {
			return err
		}
		return c.extractor(ctx, watermark, replace, opts.RunID)
	})
	if err == nil {
		s.cache.add(c.newDatasets, c.newJobs)
	}
	return st, err
}

// committer writes one graph inside one transaction.
type committer struct {
	tx     *sql.Tx
	at     int64 // commit time, Unix nanoseconds
	seq    int64 // commit sequence number
	source string
	stmts  []*sql.Stmt

	cache *idCache
	// Row ids this transaction created or looked up; they go to the cache
	// once it commits.
	newDatasets map[graph.DatasetID]int64
	newJobs     map[graph.JobID]int64
	// dirty lists the datasets whose current merged view must be rewritten.
	dirty []int64
}

// datasetID and jobID look in the cache first: once a store has been
// written to, most names are there, and each lookup hashes the name.
func (c *committer) datasetID(id graph.DatasetID) (int64, bool) {
	if n, ok := c.cache.dataset(id); ok {
		return n, true
	}
	n, ok := c.newDatasets[id]
	return n, ok
}

func (c *committer) jobID(id graph.JobID) (int64, bool) {
	if n, ok := c.cache.job(id); ok {
		return n, true
	}
	n, ok := c.newJobs[id]
	return n, ok
}

func (c *committer) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", firstLine(query), err)
	}
	c.stmts = append(c.stmts, st)
	return st, nil
}

func (c *committer) close() {
	for _, st := range c.stmts {
		st.Close()
	}
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i]
	}
	return q
}

func (c *committer) extractor(ctx context.Context, watermark time.Time, replace bool, runID int64) error {
	mode := "incremental"
	if replace {
		mode = "replace"
	}
	var run any
	if runID != 0 {
		run = runID
	}
	// A commit that is not ReplaceSource keeps the extractor's mode.
	_, err := c.tx.ExecContext(ctx, `
INSERT INTO extractors (name, mode, watermark, committed_at, run_id) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (name) DO UPDATE SET
	mode = CASE WHEN ?6 THEN excluded.mode ELSE mode END,
	watermark = max(watermark, excluded.watermark),
	committed_at = excluded.committed_at,
	run_id = coalesce(excluded.run_id, run_id)`,
		c.source, mode, nanos(watermark), c.at, run, replace)
	if err != nil {
		return fmt.Errorf("advance watermark: %w", err)
	}
	return nil
}

// Watermark returns extractor's watermark: the time up to which its source
// has been committed. ok is false when none has been committed yet.
func (s *Store) Watermark(ctx context.Context, extractor string) (t time.Time, ok bool, err error) {
	var n int64
	err = s.db.QueryRowContext(ctx, `SELECT watermark FROM extractors WHERE name = ?`, extractor).Scan(&n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("read watermark of %s: %w", extractor, err)
	case n == 0:
		return time.Time{}, false, nil
	}
	return fromNanos(n), true, nil
}
