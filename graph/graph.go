// Package graph is weft's lineage model: datasets with columns, jobs and
// runs, table edges and typed column edges, each with provenance.
//
// Everything here is plain data. Maps are keyed by comparable ID structs so
// that merging is a map union, and every encoder sorts before it writes so
// the same graph always gives the same bytes.
package graph

import (
	"strings"
	"time"
)

// FormatVersion is the version of the JSON encoding written by Encode.
// Bump it when a field changes meaning or is removed; adding a field is
// backwards compatible and does not bump it.
const FormatVersion = 1

// Platform names the system a dataset lives in. It decides the identifier
// case rules (see Fold).
type Platform string

// Known platforms.
const (
	Snowflake  Platform = "snowflake"
	Databricks Platform = "databricks"
	Postgres   Platform = "postgres"
	BigQuery   Platform = "bigquery"
	DuckDB     Platform = "duckdb"
	Spark      Platform = "spark"
	Athena     Platform = "athena"
	Redshift   Platform = "redshift"
	DBT        Platform = "dbt"  // dbt-only entities: exposures, metrics, semantic models
	Stage      Platform = "file" // storage locations and stages (s3://, @stage)
)

// DatasetID names a dataset the OpenLineage way: a namespace per platform
// instance ("snowflake://acme-prod", "databricks://adb-123.azuredatabricks.net")
// and a dotted name ("ANALYTICS.MARTS.FCT_LOANS", "main.risk.features").
type DatasetID struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// String returns "namespace/name", the form users type on the command line.
func (d DatasetID) String() string { return d.Namespace + "/" + d.Name }

// IsZero reports whether d is the zero DatasetID.
func (d DatasetID) IsZero() bool { return d == DatasetID{} }

// Compare orders IDs by namespace, then name, as every sorted output of
// weft does; it returns -1, 0 or +1 like strings.Compare.
func (d DatasetID) Compare(o DatasetID) int {
	if c := strings.Compare(d.Namespace, o.Namespace); c != 0 {
		return c
	}
	return strings.Compare(d.Name, o.Name)
}

// ColumnID names one column of one dataset. An empty Column means "the
// dataset as a whole"; it is used only as the downstream end of an INDIRECT
// column edge that affects every column (a WHERE filter, a JOIN key), which
// is how OpenLineage's column-lineage facet models dataset-level
// dependencies.
type ColumnID struct {
	Dataset DatasetID `json:"dataset"`
	Column  string    `json:"column,omitempty"`
}

// Compare orders column IDs by dataset, then column.
func (c ColumnID) Compare(o ColumnID) int {
	if r := c.Dataset.Compare(o.Dataset); r != 0 {
		return r
	}
	return strings.Compare(c.Column, o.Column)
}

// String returns "namespace/name.column".
func (c ColumnID) String() string {
	if c.Column == "" {
		return c.Dataset.String()
	}
	return c.Dataset.String() + "." + c.Column
}

// Kind says what a dataset is.
type Kind string

// Dataset kinds. Consumers (exposures, metrics, semantic models) are
// datasets too, so that "what reads this column" is one traversal.
const (
	KindTable         Kind = "table"
	KindView          Kind = "view"
	KindSource        Kind = "source"
	KindSeed          Kind = "seed"
	KindSnapshot      Kind = "snapshot"
	KindModel         Kind = "model"
	KindExternal      Kind = "external"
	KindExposure      Kind = "exposure"
	KindMetric        Kind = "metric"
	KindSemanticModel Kind = "semantic_model"
	KindSavedQuery    Kind = "saved_query"
	KindStage         Kind = "stage"
	KindTemp          Kind = "temp"
)

// Column is one column of a dataset, in the dataset's column order.
type Column struct {
	Name        string   `json:"name"`
	Type        string   `json:"type,omitempty"`
	Description string   `json:"description,omitempty"`
	Tests       []string `json:"tests,omitempty"` // dbt tests attached to this column, sorted
}

// Identity is another name the same physical dataset is known by, and why
// weft believes it is the same (for example "dbt relation_name", "foreign
// catalog main_sf mirrors Snowflake database ANALYTICS").
type Identity struct {
	ID     DatasetID `json:"id"`
	Reason string    `json:"reason"`
}

// Dataset is a table, view, dbt node or consumer.
type Dataset struct {
	ID          DatasetID  `json:"id"`
	Platform    Platform   `json:"platform"`
	Kind        Kind       `json:"kind"`
	Description string     `json:"description,omitempty"`
	Columns     []Column   `json:"columns,omitempty"`
	Identities  []Identity `json:"identities,omitempty"`
	// Properties hold source-specific facts: dbt unique_id, materialization,
	// original_file_path, last run status; Snowflake table type; storage
	// location. Keys are lowercase snake_case.
	Properties map[string]string `json:"properties,omitempty"`
}

// Column returns the named column and whether it exists. Names compare
// exactly: callers fold them first with Fold.
func (d *Dataset) Column(name string) (Column, bool) {
	for _, c := range d.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// JobID names a job: a dbt model's build, a Snowflake query shape, a
// Databricks job or task.
type JobID struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// String returns "namespace/name".
func (j JobID) String() string { return j.Namespace + "/" + j.Name }

// IsZero reports whether j is the zero JobID.
func (j JobID) IsZero() bool { return j == JobID{} }

// Compare orders job IDs by namespace, then name.
func (j JobID) Compare(o JobID) int { return DatasetID(j).Compare(DatasetID(o)) }

// Job is something that reads and writes datasets.
type Job struct {
	ID   JobID  `json:"id"`
	Type string `json:"type"` // dbt_model, dbt_snapshot, snowflake_query, snowflake_procedure, databricks_task, ...
	// SQL is the statement text the job runs, when known (compiled dbt SQL,
	// one example of a Snowflake query shape).
	SQL        string            `json:"sql,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Run is one execution of a job.
type Run struct {
	ID         string            `json:"id"` // platform run id: dbt invocation_id, Snowflake query id, Databricks run_id
	Job        JobID             `json:"job"`
	Parent     string            `json:"parent,omitempty"` // parent run id (dbt invocation, Databricks job run, stored procedure call)
	State      string            `json:"state,omitempty"`
	Start      time.Time         `json:"start,omitzero"`
	End        time.Time         `json:"end,omitzero"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Evidence is one observation of an edge: which extractor saw it, in which
// origin (a dbt node, a Snowflake query shape or query id, a Databricks run),
// when it was first and last seen there and how many times. The same origin
// seen twice is the same observation, so merging keeps the maximum count
// rather than adding: that keeps Merge idempotent.
type Evidence struct {
	Extractor string    `json:"extractor"`        // dbt, snowflake, databricks, sql
	Origin    string    `json:"origin"`           // "model.shop.orders", "snowflake query 01b2...", "databricks run 123"
	Method    string    `json:"method,omitempty"` // how the edge was derived: depends_on, parsed, access_history, unity_catalog
	Job       JobID     `json:"job,omitzero"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Count     int64     `json:"count,omitempty"`
	// Confidence is 1 for a full parse or a platform's own lineage and lower
	// for partial or table-level results; 0 means unknown.
	Confidence float64 `json:"confidence,omitempty"`
}

// EdgeID identifies a table-level edge.
type EdgeID struct {
	From DatasetID `json:"from"`
	To   DatasetID `json:"to"`
}

// Edge is a table-level edge: data flows from From to To.
type Edge struct {
	EdgeID
	Evidence []Evidence `json:"evidence"`
}

// Transformation types, the OpenLineage column-lineage vocabulary.
const (
	Direct   = "DIRECT"
	Indirect = "INDIRECT"

	// Subtypes of DIRECT.
	SubtypeIdentity       = "IDENTITY"
	SubtypeTransformation = "TRANSFORMATION"
	SubtypeAggregation    = "AGGREGATION"

	// Subtypes of INDIRECT.
	SubtypeJoin        = "JOIN"
	SubtypeFilter      = "FILTER"
	SubtypeGroupBy     = "GROUP_BY"
	SubtypeSort        = "SORT"
	SubtypeWindow      = "WINDOW"
	SubtypeConditional = "CONDITIONAL"
)

// ColumnEdgeID identifies a column-level edge: one upstream column, one
// downstream column, one transformation. Two transformations between the
// same pair of columns (an IDENTITY and a JOIN use of the same key) are two
// edges.
type ColumnEdgeID struct {
	From    ColumnID `json:"from"`
	To      ColumnID `json:"to"`
	Type    string   `json:"type"`    // DIRECT or INDIRECT
	Subtype string   `json:"subtype"` // IDENTITY, TRANSFORMATION, AGGREGATION, JOIN, FILTER, ...
}

// ColumnEdge is a typed column-level edge with its evidence.
type ColumnEdge struct {
	ColumnEdgeID
	Evidence []Evidence `json:"evidence"`
}

// Severity of a finding.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding is something an extractor or the analysis noticed about the input
// that the user should know: a dangling depends_on, an unresolved table
// reference, a statement that parsed only at table level.
type Finding struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`               // dangling_ref, unresolved_table, unknown_schema_version, ...
	Location string `json:"location,omitempty"` // "manifest.json: nodes.model.x.depends_on.nodes[0]"
	Subject  string `json:"subject,omitempty"`  // the dataset, column or node it is about
	Message  string `json:"message"`
}

// Graph is the lineage graph. The zero value is not usable; call New.
type Graph struct {
	Datasets    map[DatasetID]*Dataset
	Jobs        map[JobID]*Job
	Runs        map[string]*Run
	Edges       map[EdgeID]*Edge
	ColumnEdges map[ColumnEdgeID]*ColumnEdge
	Findings    []Finding
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{
		Datasets:    map[DatasetID]*Dataset{},
		Jobs:        map[JobID]*Job{},
		Runs:        map[string]*Run{},
		Edges:       map[EdgeID]*Edge{},
		ColumnEdges: map[ColumnEdgeID]*ColumnEdge{},
	}
}
