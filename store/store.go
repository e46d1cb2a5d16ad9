// Package store keeps weft's lineage graph over time in an embedded SQLite
// database: datasets, columns, jobs and runs, table and column edges with
// their evidence and validity periods, the extractors' watermarks and weft's
// own runs.
//
// Every write is one transaction. A crash at any point leaves the last
// committed state, and committing the same observations twice changes
// nothing, because evidence is keyed by (extractor, origin, method, job) and
// merged with the graph package's rules (earliest first seen, latest last
// seen, largest count). docs/store.md describes the schema and the rules.
//
// A Store is safe for concurrent use; SQLite serialises the writers, and
// several processes may share one file (WAL mode with a busy timeout).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"sync"
	"time"

	"github.com/weftdata/weft/graph"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// applicationID marks a SQLite file as a weft store ("weft" in ASCII).
const applicationID = 0x77656674

// busyTimeout is how long a writer waits for another writer's lock before
// giving up with "database is locked".
const busyTimeout = 30 * time.Second

// ErrNewerSchema is returned by Open when the store was written by a newer
// weft whose schema this one does not know.
var ErrNewerSchema = errors.New("store schema is newer than this weft")

// Store is a weft lineage store. Open one with Open and Close it when done.
type Store struct {
	db    *sql.DB
	path  string
	cache idCache
}

// idCache remembers the row ids of datasets and jobs, so that a commit
// does not look up the same names again and again. Rows are never deleted
// and their ids never change, so an entry stays right for the life of the
// file; only ids from committed transactions are added.
type idCache struct {
	mu       sync.Mutex
	datasets map[graph.DatasetID]int64
	jobs     map[graph.JobID]int64
}

// maxCached bounds the cache; past it, the cache starts over.
const maxCached = 1 << 20

// dataset and job look up an id; the caller holds mu.
func (c *idCache) dataset(id graph.DatasetID) (int64, bool) {
	n, ok := c.datasets[id]
	return n, ok
}

func (c *idCache) job(id graph.JobID) (int64, bool) {
	n, ok := c.jobs[id]
	return n, ok
}

// add records the ids of a committed transaction.
func (c *idCache) add(datasets map[graph.DatasetID]int64, jobs map[graph.JobID]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.datasets == nil || len(c.datasets)+len(datasets) > maxCached {
		c.datasets = make(map[graph.DatasetID]int64, len(datasets))
	}
	if c.jobs == nil || len(c.jobs)+len(jobs) > maxCached {
		c.jobs = make(map[graph.JobID]int64, len(jobs))
	}
	maps.Copy(c.datasets, datasets)
	maps.Copy(c.jobs, jobs)
}

// Open opens the store at path, creating it if it does not exist and
// migrating its schema to the current version.
//
// The database runs in WAL mode with synchronous=FULL: each commit fsyncs
// the write-ahead log, so a commit that returned is durable even across a
// power loss, not only across a killed process. Commits are large batches
// (one per extractor batch), so that costs one fsync per batch.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: empty path")
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "cache_size(-65536)") // 64 MiB page cache per connection
	q.Add("_pragma", "temp_store(MEMORY)") // Commit's staging tables: one batch
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction,
	// so two writers wait for each other (busy_timeout) instead of failing
	// when a read transaction cannot be upgraded.
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One connection: writes are serialised by SQLite anyway, and the
	// temporary tables Commit uses live on a connection.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// IntegrityCheck runs SQLite's integrity_check and foreign_key_check and
// returns an error describing the first problems found.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check %s: %w", s.path, err)
	}
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return fmt.Errorf("integrity check %s: %w", s.path, err)
		}
		if m != "ok" {
			msgs = append(msgs, m)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("integrity check %s: %w", s.path, err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check %s: %w", s.path, err)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("integrity check %s: %s (and %d more)", s.path, msgs[0], len(msgs)-1)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&n); err != nil {
		return fmt.Errorf("foreign key check %s: %w", s.path, err)
	}
	if n > 0 {
		return fmt.Errorf("foreign key check %s: %d violations", s.path, n)
	}
	return nil
}

// migrate brings the schema to len(migrations), one transaction per step,
// each setting user_version in the same transaction.
func (s *Store) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateStep(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

func (s *Store) migrateStep(ctx context.Context) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	var appID, version int
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return false, fmt.Errorf("read application_id: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("read user_version: %w", err)
	}
	if appID != 0 && appID != applicationID {
		return false, fmt.Errorf("not a weft store (application_id %#x)", appID)
	}
	if appID == 0 && version == 0 {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
			return false, fmt.Errorf("inspect schema: %w", err)
		}
		if n > 0 {
			return false, errors.New("not a weft store (the database already has tables)")
		}
	}
	migrations := schemaMigrations()
	switch {
	case version > len(migrations):
		return false, fmt.Errorf("%w: schema version %d, this weft knows up to %d (upgrade weft)",
			ErrNewerSchema, version, len(migrations))
	case version == len(migrations):
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, migrations[version]); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", version+1, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return false, fmt.Errorf("set application_id: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
		return false, fmt.Errorf("set user_version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration to version %d: %w", version+1, err)
	}
	return false, nil
}

// SchemaVersion is the schema version this package writes.
func SchemaVersion() int { return len(schemaMigrations()) }

// nanos encodes t for the store: Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	// UnixNano is undefined outside 1678-2262; sources do write
	// placeholder dates (9999-12-31), which must still sort last, not wrap
	// around.
	switch {
	case t.Before(minNanoTime):
		return minNanoTime.UnixNano()
	case t.After(maxNanoTime):
		return maxNanoTime.UnixNano()
	}
	return t.UnixNano()
}

// The times an int64 of nanoseconds since 1970 can hold.
var (
	minNanoTime = time.Unix(0, math.MinInt64+1).UTC()
	maxNanoTime = time.Unix(0, math.MaxInt64).UTC()
)

// fromNanos decodes a time written by nanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
