// Package snowgen writes synthetic Snowflake query-log exports (QUERY_HISTORY
// joined with ACCESS_HISTORY, one JSON line per logged query) for
// benchmarks: many logged queries of few shapes, as a busy account has.
package snowgen

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// Options size the export.
type Options struct {
	Queries int // logged queries; at least 1
	Shapes  int // distinct query shapes; at least 1
	// Days spreads the queries over this many days from Start (default 7
	// days from 2025-06-24).
	Days  int
	Start time.Time
}

// Generate writes the export to w. Each shape is an INSERT … SELECT with
// literals that change between runs (so the texts differ, the shapes do
// not), each row with ACCESS_HISTORY column lineage. The same Options give
// the same bytes.
func Generate(w io.Writer, opts Options) error {
	if opts.Queries < 1 || opts.Shapes < 1 {
		return fmt.Errorf("snowgen: queries and shapes must be at least 1 (got %d, %d)", opts.Queries, opts.Shapes)
	}
	if opts.Days <= 0 {
		opts.Days = 7
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2025, 6, 24, 0, 0, 0, 0, time.UTC)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	n := opts.Queries
	step := time.Duration(opts.Days) * 24 * time.Hour / time.Duration(n)
	for i := range n {
		s := (i * 7919) % opts.Shapes
		ts := opts.Start.Add(time.Duration(i) * step)
		src, dst := fmt.Sprintf("RAW.S%d.SRC_%d", s%20, s), fmt.Sprintf("ANALYTICS.M%d.T_%d", s%10, s)
		fmt.Fprintf(bw, `{"QUERY_ID":"01bd%04x-0602-%04x-0000-%012x","QUERY_TEXT":"INSERT INTO %s (ID, AMOUNT, STATUS) SELECT id, amount * 1.%d, status FROM %s WHERE loaded_at > '%s' AND batch_id = %d","QUERY_TYPE":"INSERT",`+
			`"START_TIME":"%s","DATABASE_NAME":"ANALYTICS","SCHEMA_NAME":"M%d","USER_NAME":"ETL_%d","ROLE_NAME":"ETL","WAREHOUSE_NAME":"ETL_WH","SESSION_ID":%d,"QUERY_TAG":"","EXECUTION_STATUS":"SUCCESS",`+
			`"QUERY_PARAMETERIZED_HASH":"%032x","ROOT_QUERY_ID":null,`+
			`"DIRECT_OBJECTS_ACCESSED":[{"objectDomain":"Table","objectName":"%s","columns":[{"columnName":"ID"},{"columnName":"AMOUNT"},{"columnName":"STATUS"},{"columnName":"LOADED_AT"}]}],"BASE_OBJECTS_ACCESSED":null,`+
			`"OBJECTS_MODIFIED":[{"objectDomain":"Table","objectName":"%s","columns":[{"columnName":"ID","directSources":[{"columnName":"ID","objectDomain":"Table","objectName":"%s"}]},{"columnName":"AMOUNT","directSources":[{"columnName":"AMOUNT","objectDomain":"Table","objectName":"%s"}]}]}]}`+"\n",
			i>>16, i&0xffff, i, dst, s%7, src, ts.Format("2006-01-02"), i, ts.Format("2006-01-02 15:04:05.000 -0700"), s%10, s%5, 1000+i/500, s, src, dst, src, src)
	}
	return bw.Flush()
}
