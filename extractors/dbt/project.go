package dbt

import (
	"github.com/weftdata/weft/graph"
)

// Project is a parsed dbt project: the manifest's nodes with the catalog's
// column types and the run results' last status folded in. Load builds it;
// Graph and Statements turn it into observations. Other packages (the CI
// check, the column-lineage layer) read it directly instead of parsing the
// manifest again.
type Project struct {
	// SchemaVersion is the manifest schema version (4..12, or the unknown
	// version that was loaded best-effort).
	SchemaVersion int
	DBTVersion    string
	AdapterType   string // metadata.adapter_type: snowflake, databricks, postgres, ...
	// Name is the dbt project name: metadata.project_name, or (manifests
	// before v10 do not record it) the package that owns most models.
	Name         string
	Platform     graph.Platform
	Namespace    string // warehouse namespace, "<adapter_type>://<account>"
	DBTNamespace string // "dbt://<project name>": jobs and dbt-only datasets
	Dialect      string // extractors.Dialect* for the compiled SQL
	GeneratedAt  string // metadata.generated_at, RFC 3339
	InvocationID string

	// Nodes holds every enabled node weft keeps, sorted by unique_id:
	// models, seeds, snapshots, sources, tests, analyses, exposures,
	// metrics, semantic models, saved queries and unit tests. Operations
	// (hooks) and macros are left out.
	Nodes []*Node
	// Findings are what loading noticed: unknown schema versions, dangling
	// depends_on, missing compiled SQL. Sorted.
	Findings []graph.Finding

	byID          map[string]*Node
	disabled      map[string]bool
	files         fileNames
	runs          map[string]runResult
	runInvocation string
}

// fileNames are the names used in messages and locations.
type fileNames struct {
	manifest, catalog, runResults string
}

// Node returns the enabled node with the given unique_id, or nil.
func (p *Project) Node(uniqueID string) *Node { return p.byID[uniqueID] }

// Disabled reports whether uniqueID names a node that the manifest lists as
// disabled.
func (p *Project) Disabled(uniqueID string) bool { return p.disabled[uniqueID] }

// Node is one dbt node as weft needs it. Fields that a manifest version
// does not have are empty.
type Node struct {
	UniqueID     string
	ResourceType string // model, seed, snapshot, source, test, analysis, exposure, metric, semantic_model, saved_query, unit_test
	Name         string
	PackageName  string
	Path         string
	// OriginalFilePath is the file the node was defined in, relative to
	// the project root (models/marts/fct_loans.sql, models/sources.yml).
	OriginalFilePath string
	CompiledPath     string
	Description      string

	// Database, Schema and Alias place the relation the node builds;
	// Alias is the source's identifier for sources. RelationName is
	// dbt's rendered relation ("DB"."SCHEMA"."TABLE"), when the manifest
	// has it.
	Database, Schema, Alias string
	RelationName            string
	SourceName              string // sources only

	// Relation is the warehouse relation the node builds, in the
	// project's namespace; zero for nodes that build none (ephemeral
	// models, tests, analyses, consumers).
	Relation graph.DatasetID
	// DBTID is the node's identity in the dbt namespace: {dbt://<project>,
	// unique_id}.
	DBTID graph.DatasetID

	Materialized     string // config.materialized
	Language         string // sql or python; empty before v7 (always sql)
	Access           string // private, protected, public (v9+)
	Version          string // versioned models (v10+)
	LatestVersion    string
	ContractEnforced bool
	Type             string // exposure type (dashboard, ml, ...), metric type (simple, ratio, ...)

	// CompiledSQL is compiled_code (v7+) or compiled_sql; RawSQL is
	// raw_code or raw_sql.
	CompiledSQL string
	RawSQL      string

	// DependsOn is depends_on.nodes in manifest order, duplicates kept as
	// written; DependsOnMacros is depends_on.macros.
	DependsOn       []string
	DependsOnMacros []string

	// Columns are the catalog's columns in catalog order, then the columns
	// documented only in the manifest, in manifest order. A snapshot with
	// known columns also lists the meta columns dbt adds (dbt_scd_id,
	// dbt_updated_at, dbt_valid_from, dbt_valid_to) when the catalog does
	// not; a seed with none takes its CSV header's (ReadSeedHeaders); an
	// external source lists its partitions when nothing else does.
	Columns []Column
	// Tests are the tests attached to the node as a whole (model-level
	// generic tests, singular tests, unit tests), sorted. Column tests are
	// in Columns[i].Tests.
	Tests []string

	// Test is set for resource_type test: what the test checks.
	Test *TestInfo

	// Fields are a semantic model's entities, dimensions and measures.
	Fields []SemanticField
	// AggTimeDimension is a semantic model's defaults.agg_time_dimension:
	// the dimension metric_time stands for.
	AggTimeDimension string
	// Metric is what a metric reads (MetricFlow metrics, manifest v10+);
	// nil for other nodes and legacy metrics.
	Metric *MetricInfo
	// LegacyMetric is what a legacy metric (dbt 1.0..1.5, manifest
	// v4..v9: type and sql, or calculation_method and expression) reads;
	// nil for other nodes and MetricFlow metrics.
	LegacyMetric *LegacyMetricInfo
	// Query is what a saved query selects and where it exports it; nil
	// for other nodes.
	Query *SavedQueryInfo
	// External is a source's external table config (dbt-external-tables);
	// nil for other nodes and sources without one.
	External *ExternalTable
	// Snapshot is a snapshot's strategy config; nil for other nodes.
	Snapshot *SnapshotConfig

	// RootPath is the project directory dbt ran in (seeds and models
	// record it; it is the machine's path, which may not exist here).
	RootPath string

	// From run_results.json, when given.
	LastStatus    string
	LastRunAt     string
	ExecutionTime float64
	ran           bool

	// CatalogRelationType is the catalog's metadata.type (BASE TABLE, VIEW).
	CatalogRelationType string

	mapKey string // top-level manifest key the node came from (nodes, sources, ...)
	// seedDelimiter and seedQuoteColumns are a seed's config.delimiter
	// and config.quote_columns.
	seedDelimiter    string
	seedQuoteColumns *bool
	quoting          quoting // config.quoting / source quoting
	colQuoted        []bool  // Columns[i] had quote: true (until folded); nil when none had
}

// Column is one column of a node.
type Column struct {
	// Name is the column as the warehouse spells it: the catalog's name
	// when the catalog has the column, else the manifest's name folded by
	// the platform's case rules (kept as written when quote: true).
	Name        string
	Type        string
	Description string
	// Index is the catalog's 1-based position; 0 for manifest-only columns.
	Index int
	Tests []string // sorted
	// Documented is true when the manifest declares the column (in YAML),
	// as opposed to a column only the catalog knows. Enforced contracts
	// are checked against the documented columns.
	Documented bool
}

// TestInfo says what a test node checks.
type TestInfo struct {
	// AttachedTo are the unique_ids of the nodes the test is attached to:
	// one for generic tests, every dependency for singular tests.
	AttachedTo []string
	Column     string // tested column as written in the test, empty for node-level tests
	// Label renders the test the way a user reads it:
	// "not_null", "relationships(to=ref('customers'), field=id)",
	// "dbt_utils.expression_is_true(expression=a > 0)", or the singular
	// test's name.
	Label string
}

// SemanticField is one entity, dimension or measure of a semantic model.
type SemanticField struct {
	Kind string // entity, dimension, measure
	Name string
	Type string // primary/foreign (entity), categorical/time (dimension), sum/count (measure agg)
	Expr string // the column or SQL expression it reads; empty means the column named Name
	// AggTimeDimension is a measure's own agg_time_dimension; empty means
	// the semantic model's default.
	AggTimeDimension string
	// NonAdditive is a measure's non_additive_dimension; nil for most.
	NonAdditive *NonAdditiveDimension
}

// NonAdditiveDimension is a measure that cannot be summed over a time
// dimension (an account balance, MRR): MetricFlow keeps only the rows at
// the dimension's first or last value, per window grouping.
type NonAdditiveDimension struct {
	Name            string   // the time dimension; metric_time means the agg_time_dimension
	WindowChoice    string   // min or max
	WindowGroupings []string // entities (or dimensions) the window is partitioned by
}

// ExternalTable is a source's external config, as dbt-external-tables
// reads it.
type ExternalTable struct {
	Location   string // stage or storage path
	Partitions []Partition
}

// Partition is one partition column of an external table.
type Partition struct {
	Name, DataType, Expression, Description string
}

// quoting is dbt's quoting config for one node; nil means "adapter
// default".
type quoting struct {
	database, schema, identifier *bool
}

// IsDataset reports whether the node becomes a dataset in the graph.
func (n *Node) IsDataset() bool {
	switch n.ResourceType {
	case "model", "seed", "snapshot", "source", "exposure", "metric", "semantic_model", "saved_query":
		return true
	}
	return false
}

// DatasetID returns the ID of the node's dataset: the warehouse relation
// when it builds one, else its dbt identity. It is zero for nodes that are
// not datasets (tests, analyses, unit tests).
func (n *Node) DatasetID() graph.DatasetID {
	if !n.IsDataset() {
		return graph.DatasetID{}
	}
	if !n.Relation.IsZero() {
		return n.Relation
	}
	return n.DBTID
}

// HasJob reports whether the node gets a job: it builds or computes
// something from SQL or a seed file.
func (n *Node) HasJob() bool {
	switch n.ResourceType {
	case "model", "seed", "snapshot", "analysis":
		return true
	}
	return false
}
