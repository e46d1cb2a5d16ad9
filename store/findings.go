package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/weftdata/weft/graph"
)

// Findings (graph.Finding) are kept per source with validity periods, like
// the sources' dataset descriptions: a commit that reports a finding the
// source has no current period of opens one; reporting it again only
// records the commit and run. A replace-mode source's findings are those
// of its latest snapshot, so ReplaceSource ends the ones its snapshot
// lacks; an incremental source's batches each report on their own part of
// the log, so its findings accumulate and Expire ends those the source has
// not reported within the retention. Graph(asOf) returns the findings
// valid at asOf: for each source, what its runs up to then reported and
// still holds.

// findings records g's findings as c.source's, reported by weft run runID
// (0: none).
func (c *committer) findings(ctx context.Context, g *graph.Graph, runID int64, st *CommitStats) error {
	if len(g.Findings) == 0 {
		return nil
	}
	var run any
	if runID != 0 {
		run = runID
	}
	// A statement or two per finding: a batch has few, next to its edges.
	touch, err := c.prepare(ctx, `
UPDATE findings SET last_run_id = coalesce(?7, last_run_id), recorded_at = ?8, commit_seq = ?9
WHERE source = ?1 AND severity = ?2 AND code = ?3 AND location = ?4 AND subject = ?5 AND message = ?6 AND valid_to IS NULL`)
	if err != nil {
		return err
	}
	open, err := c.prepare(ctx, `
INSERT INTO findings (source, severity, code, location, subject, message, valid_from, run_id, last_run_id, recorded_at, commit_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?7, ?7, ?8, ?9)`)
	if err != nil {
		return err
	}
	for _, f := range g.Findings {
		args := []any{c.source, f.Severity, f.Code, f.Location, f.Subject, f.Message, run, c.at, c.seq}
		res, err := touch.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("record finding %s at %q: %w", f.Code, f.Location, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("record finding %s at %q: %w", f.Code, f.Location, err)
		} else if n > 0 {
			continue
		}
		if _, err := open.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("record finding %s at %q: %w", f.Code, f.Location, err)
		}
		st.Findings++
	}
	return nil
}

// The statements that end findings (?1 is the time): a replace-mode
// source's that its snapshot ?3 did not report (?2 is the source), and
// incremental sources' not reported since ?2 (the cutoff). Both seek
// findings_current by source.
const (
	replaceFindings = `UPDATE findings SET valid_to = ?1 WHERE valid_to IS NULL AND source = ?2 AND commit_seq <> ?3`
	expireFindings  = `
UPDATE findings SET valid_to = ?1
WHERE valid_to IS NULL AND source IN (SELECT name FROM extractors WHERE mode = 'incremental') AND recorded_at < ?2`
)

// endFindings runs one of the statements above and returns how many
// findings it ended.
func endFindings(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("end findings: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("end findings: %w", err)
	}
	return n, nil
}

// readFindings adds the findings valid at t to the graph. The same
// finding reported by two sources is one finding in a graph. Rows come in
// the graph package's order (location, code, subject, severity, message;
// SQLite's default collation compares bytes, as strings.Compare does), so
// AddFinding appends.
func (r *reader) readFindings(ctx context.Context) error {
	return r.each(ctx, `
SELECT severity, code, location, subject, message FROM findings f WHERE `+valid("f")+`
ORDER BY location, code, subject, severity, message`, func(rows *sql.Rows) error {
		var f graph.Finding
		if err := rows.Scan(&f.Severity, &f.Code, &f.Location, &f.Subject, &f.Message); err != nil {
			return err
		}
		r.g.AddFinding(f)
		return nil
	})
}
