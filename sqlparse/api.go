package sqlparse

import (
	"fmt"
	"strings"
)

// Dialect is the SQL dialect of a statement. It decides the rewrite rules
// and how unquoted identifiers fold.
type Dialect string

// Known dialects. BigQuery is best-effort (what dbt emits for it). ANSI
// is generic SQL, for a warehouse that is none of the others: standard
// strings and quoting (quoted names keep their case, others fold to lower
// case, as most engines store them), an unaliased expression named by its
// text, and no lateral column aliases unless the schema shows the FROM
// tables lack the name.
const (
	Snowflake  Dialect = "snowflake"
	Databricks Dialect = "databricks"
	Postgres   Dialect = "postgres"
	BigQuery   Dialect = "bigquery"
	ANSI       Dialect = "ansi"
)

// ParseDialect maps a dialect name (case-insensitive; "spark", "hive" and
// "sparksql" mean Databricks) to a Dialect. Unknown names are an error that
// lists the known ones.
func ParseDialect(name string) (Dialect, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "snowflake":
		return Snowflake, nil
	case "databricks", "spark", "sparksql", "hive":
		return Databricks, nil
	case "postgres", "postgresql", "redshift", "duckdb", "":
		return Postgres, nil
	case "bigquery":
		return BigQuery, nil
	case "ansi", "generic":
		return ANSI, nil
	}
	return "", fmt.Errorf("unknown dialect %q (known: ansi, bigquery, databricks, postgres, snowflake)", name)
}

// Input is one statement to analyse.
type Input struct {
	SQL     string
	Dialect Dialect
	// DefaultDatabase and DefaultSchema qualify table names that omit them.
	// They are used as given (callers pass them in the platform's case).
	DefaultDatabase string
	DefaultSchema   string
}

// Table names a table, view or stage. Unquoted parts are folded per dialect
// (Snowflake upper-cases; Databricks, Postgres and BigQuery lower-case);
// quoted parts keep their case. Stages keep their text ("@raw.loans_stage").
type Table struct {
	Database string `json:"database,omitempty"`
	Schema   string `json:"schema,omitempty"`
	Name     string `json:"name"`
}

// String returns the dotted name, for display.
func (t Table) String() string {
	var parts []string
	for _, p := range []string{t.Database, t.Schema, t.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// IsZero reports whether t is the zero Table.
func (t Table) IsZero() bool { return t == Table{} }

func (t Table) less(u Table) bool {
	if t.Database != u.Database {
		return t.Database < u.Database
	}
	if t.Schema != u.Schema {
		return t.Schema < u.Schema
	}
	return t.Name < u.Name
}

// Schema is the consumer's table lookup. Columns returns the table's
// columns in table order, folded like Table names, and whether the table is
// known. A table may be given partially qualified; implementations decide
// how to match (MapSchema matches on the dotted suffix). A nil Schema means
// nothing is known.
type Schema interface {
	Columns(t Table) ([]string, bool)
}

// ColumnOrder is implemented by a Schema that knows, per table, whether
// the order of its columns is the table's real order (a catalog's ordinal
// positions) or only a list of names (documentation, a JSON object). A
// Schema without it is trusted to list every table in table order.
//
// The order matters where SQL maps columns by position: an INSERT without
// a column list. Into a table whose order is unknown, weft maps the
// query's outputs to the target's columns by name instead, leaves out
// outputs the target has no column for, and warns, rather than pair
// columns by a guessed order.
type ColumnOrder interface {
	OrderKnown(t Table) bool
}

// Kind is what a statement does.
type Kind string

// Statement kinds.
const (
	KindSelect        Kind = "select"
	KindCreateTableAs Kind = "create_table_as"
	KindCreateTable   Kind = "create_table" // DDL without a query: no lineage
	KindCreateView    Kind = "create_view"
	KindInsert        Kind = "insert"
	KindInsertAll     Kind = "insert_all"
	KindMerge         Kind = "merge"
	KindUpdate        Kind = "update"
	KindDelete        Kind = "delete"
	KindCopy          Kind = "copy"
	KindClone         Kind = "clone"
	KindRename        Kind = "rename"
	KindSwap          Kind = "swap"
	KindDrop          Kind = "drop"
	KindSkipped       Kind = "skipped" // no lineage by nature: USE, SHOW, SET, GRANT, transaction control
	KindOther         Kind = "other"
)

// Status says how much of a statement was understood.
type Status string

// Statuses, from best to worst.
const (
	// StatusFull: parsed, and every output column was resolved.
	StatusFull Status = "full"
	// StatusPartial: parsed, but some columns could not be resolved (no
	// schema for a star, an ambiguous unqualified column, an unsupported
	// construct inside an otherwise understood statement).
	StatusPartial Status = "partial"
	// StatusTableOnly: only table-level lineage, from the lexer fallback.
	StatusTableOnly Status = "table_only"
	// StatusFailed: not even tables were found in a statement that should
	// have some.
	StatusFailed Status = "failed"
)

// Source is one upstream column of a downstream column, or one
// dataset-level dependency. Type is graph.Direct or graph.Indirect and
// Subtype one of the graph.Subtype* constants.
type Source struct {
	Table   Table  `json:"table"`
	Column  string `json:"column"`
	Type    string `json:"type"`
	Subtype string `json:"subtype"`
}

// ColumnLineage is one downstream column and its sources, sorted. A zero
// Target means the statement's own output (a bare SELECT, whose result the
// caller may materialise, as dbt does).
type ColumnLineage struct {
	Target  Table    `json:"target"`
	Column  string   `json:"column"`
	Sources []Source `json:"sources"`
}

// Severities of a Diagnostic.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Diagnostic is a finding about the statement, positioned in the original
// text (1-based line and column, in bytes; 0 when it applies to the whole
// statement).
type Diagnostic struct {
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	// Column is set when the diagnostic is a column reference that no
	// source in scope provides: the column as written (folded). Callers
	// use it instead of reading the message.
	Column string `json:"column,omitempty"`
}

// String renders "line:col: severity: message".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%d:%d: %s: %s", d.Line, d.Col, d.Severity, d.Message)
}

// Rename is an identity change: From is now known as To. For SWAP WITH
// both directions are reported.
type Rename struct {
	From Table `json:"from"`
	To   Table `json:"to"`
}

// Result is the lineage of one statement. Every slice is sorted, so equal
// inputs give equal Results.
type Result struct {
	Kind   Kind    `json:"kind"`
	Status Status  `json:"status"`
	Writes []Table `json:"writes"`
	Reads  []Table `json:"reads"`
	// Columns holds the column-level lineage, sorted by target and column.
	Columns []ColumnLineage `json:"columns"`
	// Indirect holds dataset-level INDIRECT sources (join keys, filters,
	// GROUP BY and ORDER BY columns) that affect every written column, the
	// way OpenLineage's column-lineage facet models them.
	Indirect []Source `json:"indirect"`
	// OutputColumns are the output column names of the query (or of the
	// written table, for INSERT with a column list), in order. Downstream
	// schema inference uses them.
	OutputColumns []string     `json:"output_columns"`
	Renames       []Rename     `json:"renames"`
	Diagnostics   []Diagnostic `json:"diagnostics"`
}

// Piece is one statement of a script.
type Piece struct {
	SQL    string `json:"sql"`
	Offset int    `json:"offset"` // byte offset of SQL in the script
	Line   int    `json:"line"`   // 1-based line of the first byte
	Col    int    `json:"col"`    // 1-based column of the first byte
}
