package snowflake

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/weftdata/weft/graph"
)

// fetchHistory runs the history query of one chunk and returns its rows.
// Only database/sql is used here: the driver is opened in driver.go.
func fetchHistory(ctx context.Context, db *sql.DB, q historyQuery, bucket time.Time) ([]Row, error) {
	rs, err := db.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []Row
	for rs.Next() {
		var (
			hash, rootHash, firstID, lastID, text, typ, db_, schema, user, role, wh, session, rootID, tag, status sql.NullString
			direct, base, modified                                                                                sql.NullString
			bkt, first, last                                                                                      sql.NullTime
			count                                                                                                 sql.NullInt64
		)
		if err := rs.Scan(&hash, &rootHash, &bkt, &count, &firstID, &lastID, &first, &last,
			&text, &typ, &db_, &schema, &user, &role, &wh, &session, &rootID, &tag, &status,
			&direct, &base, &modified); err != nil {
			return nil, fmt.Errorf("row %d: %w", len(out)+1, err)
		}
		r := Row{
			Hash: hash.String, RootHash: rootHash.String, Bucket: bucket,
			Count: count.Int64, FirstQueryID: firstID.String, LastQueryID: lastID.String,
			FirstStart: first.Time.UTC(), LastStart: last.Time.UTC(),
			QueryText: text.String, QueryType: typ.String, Database: db_.String, Schema: schema.String,
			User: user.String, Role: role.String, Warehouse: wh.String, SessionID: session.String,
			RootQueryID: rootID.String, QueryTag: tag.String, ExecutionStatus: status.String,
			DirectObjectsAccessed: nullJSON(direct), BaseObjectsAccessed: nullJSON(base), ObjectsModified: nullJSON(modified),
		}
		if !first.Valid {
			r.FirstStart = time.Time{}
		}
		if !last.Valid {
			r.LastStart = time.Time{}
		}
		if r.Count <= 0 {
			r.Count = 1
		}
		if r.Hash == "" {
			r.Hash = shape("", "", r.QueryText)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// fetchColumns reads ACCOUNT_USAGE.COLUMNS into datasets with columns.
func fetchColumns(ctx context.Context, db *sql.DB, q historyQuery, ns string) (*graph.Graph, error) {
	rs, err := db.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	g := graph.New()
	var cur *graph.Dataset
	flush := func() {
		if cur != nil {
			g.AddDataset(*cur)
		}
	}
	for rs.Next() {
		var dbName, schema, table, column, typ sql.NullString
		var pos sql.NullInt64
		if err := rs.Scan(&dbName, &schema, &table, &column, &pos, &typ); err != nil {
			return nil, err
		}
		// ACCOUNT_USAGE holds resolved names (upper case unless quoted at
		// creation), which is the canonical spelling already.
		name := dbName.String + "." + schema.String + "." + table.String
		id := graph.DatasetID{Namespace: ns, Name: name}
		if cur == nil || cur.ID != id {
			flush()
			cur = &graph.Dataset{ID: id, Platform: graph.Snowflake, Kind: graph.KindTable}
		}
		cur.Columns = append(cur.Columns, graph.Column{Name: column.String, Type: typ.String})
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	flush()
	return g, nil
}

// epochMillis is how times are bound: TO_TIMESTAMP_LTZ(?, 3) reads them
// unambiguously whatever the session time zone.
func epochMillis(t time.Time) int64 { return t.UnixMilli() }

// formatChunk names a chunk in messages.
func formatChunk(from, to time.Time) string {
	return "chunk " + from.UTC().Format(time.RFC3339) + ".." + to.UTC().Format(time.RFC3339)
}

func nullJSON(s sql.NullString) NullJSON { return NullJSON{Text: s.String, Valid: s.Valid} }
