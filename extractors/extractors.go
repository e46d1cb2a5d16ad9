package extractors

import (
	"context"
	"fmt"
	"time"

	"github.com/weftdata/weft/graph"
)

// Dialects understood by sqlparse.
const (
	DialectSnowflake  = "snowflake"
	DialectDatabricks = "databricks"
	DialectPostgres   = "postgres"
	DialectBigQuery   = "bigquery"
)

// Origin says where a statement or observation came from: everything an
// error message needs later.
type Origin struct {
	Extractor string `json:"extractor"`          // dbt, snowflake, databricks
	File      string `json:"file,omitempty"`     // models/marts/fct_loans.sql, manifest.json
	Line      int    `json:"line,omitempty"`     // 1-based line in File, 0 if unknown
	NodeID    string `json:"node_id,omitempty"`  // dbt unique_id
	QueryID   string `json:"query_id,omitempty"` // Snowflake query id, Databricks statement id
	RunID     string `json:"run_id,omitempty"`   // dbt invocation, Databricks run id
}

// String renders the origin compiler-style: "file:line", or
// "snowflake query 01b2...", or "databricks run 123".
func (o Origin) String() string {
	switch {
	case o.File != "" && o.Line > 0:
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	case o.File != "":
		return o.File
	case o.QueryID != "":
		return fmt.Sprintf("%s query %s", o.Extractor, o.QueryID)
	case o.RunID != "":
		return fmt.Sprintf("%s run %s", o.Extractor, o.RunID)
	case o.NodeID != "":
		return o.NodeID
	}
	return o.Extractor
}

// Statement is one SQL statement to analyse.
type Statement struct {
	SQL     string
	Dialect string
	// Namespace is the OpenLineage namespace of the platform the statement
	// ran on; table names it references resolve into this namespace.
	Namespace       string
	DefaultDatabase string
	DefaultSchema   string
	// Target is set when the statement is a bare query whose result the
	// caller materialises (dbt compiled SQL builds Target); it is zero when
	// the statement itself names what it writes (INSERT, CTAS, MERGE).
	Target graph.DatasetID
	// Job is the job the statement belongs to; edges found in it are
	// attributed to this job.
	Job    graph.JobID
	Origin Origin
	// Count, FirstSeen and LastSeen describe how often this statement shape
	// ran (query logs deduplicate by shape). Count 0 means once.
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
	// Session groups statements that ran in one session, in order, so that
	// temporary tables can be resolved through; empty when unknown.
	Session string
}

// Batch is one unit of extractor output. A batch is complete on its own:
// when Watermark is set, everything up to it has been emitted and a
// scheduled job may commit it.
type Batch struct {
	Graph      *graph.Graph // datasets, columns, jobs, runs and edges the source knows; may be nil
	Statements []Statement
	Watermark  time.Time // zero when the source has no notion of time (a manifest)
}

// Extractor reads one source.
//
// Extract calls emit once per Batch, in a deterministic order, and returns
// when the source is exhausted, ctx is cancelled (returning ctx.Err()), or
// emit returns an error (returned unchanged). Extract must not retain
// batches after emit returns. Extractors that hold resources also
// implement io.Closer; the caller closes them.
type Extractor interface {
	Extract(ctx context.Context, emit func(Batch) error) error
}
