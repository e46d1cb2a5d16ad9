package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weftdata/weft/sqlparse"
)

type sqlOptions struct {
	io iostreams

	file          string // "-" for stdin
	dialect       string
	schemaPath    string
	defaultDB     string
	defaultSchema string
	json          bool
}

func newSQLCmd(a *app, runF func(context.Context, *sqlOptions) error) *cobra.Command {
	opts := &sqlOptions{}
	cmd := &cobra.Command{
		Use:   "sql [FILE | -]",
		Short: "Show the column-level lineage of SQL statements",
		Long: strings.TrimSpace(`
Analyse a SQL script the way weft analyses the SQL it extracts, and show
each statement's lineage: what it is (kind), how well weft understood it
(status: full, partial, table_only or failed), the tables it writes and
reads, each written column with its source columns and transformation
type (DIRECT: IDENTITY, TRANSFORMATION, AGGREGATION; INDIRECT: JOIN,
FILTER, GROUP_BY, SORT, WINDOW, CONDITIONAL), and diagnostics positioned at
FILE:LINE:COL.

The script is read from FILE, or from stdin when FILE is "-" or absent.
Without --schema, "select *" cannot be expanded and unqualified columns in
joins may stay unresolved (status partial). --schema names a JSON file
mapping table names to their columns in table order:

  {"ANALYTICS.STAGING.STG_LOANS": ["LOAN_ID", "AMOUNT"], "RAW.LOANS.LOANS": ["ID", "AMT"]}

or to objects of column types, {"RAW.LOANS.LOANS": {"ID": "int"}}, which
give names without an order: an INSERT without a column list into such a
table is then mapped by name, with a warning, instead of by position.

Unquoted names fold as the dialect does (Snowflake to upper case,
Databricks, Postgres and ansi to lower case). Use --dialect ansi for
generic SQL from another warehouse. --json prints one object per
statement with the fields documented in docs/sql-json.md. The exit code is
0 even when a statement is only understood in part: the status says so.`),
		Example: examples(`
  weft sql models/fct_loans.sql
  echo 'insert into t select a, sum(b) from s group by a' | weft sql --dialect postgres
  weft sql --dialect databricks --default-db main --default-schema risk job.sql
  weft sql --schema schema.json --json query.sql | jq '.[].columns'`),
		Args: maxArgs(1, "one file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.io = a.io
			opts.file = "-"
			if len(args) == 1 {
				opts.file = args[0]
			}
			if _, err := sqlparse.ParseDialect(opts.dialect); err != nil || opts.dialect == "" {
				return usageErrorf("invalid --dialect %q (valid: ansi, bigquery, databricks, postgres, snowflake)", opts.dialect)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSQL(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.dialect, "dialect", "snowflake", "SQL dialect: snowflake, databricks (also spark, hive), postgres, bigquery, or ansi (generic SQL)")
	f.StringVar(&opts.schemaPath, "schema", "", "JSON `file` mapping table names to column lists, for * expansion and column resolution")
	f.StringVar(&opts.defaultDB, "default-db", "", "`database` (catalog) for table names that omit it")
	f.StringVar(&opts.defaultSchema, "default-schema", "", "`schema` for table names that omit it")
	f.BoolVar(&opts.json, "json", false, "print JSON: one object per statement")
	return cmd
}

// sqlStatement is one statement of the script with its lineage: the JSON
// output of weft sql. Diagnostics are positioned in the script.
type sqlStatement struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	SQL  string `json:"sql"`
	sqlparse.Result
}

func runSQL(ctx context.Context, opts *sqlOptions) error {
	name, text, err := readInput(opts.file, opts.io.In)
	if err != nil {
		return err
	}
	var schema sqlparse.Schema
	if opts.schemaPath != "" {
		s, err := readSchemaFile(opts.schemaPath)
		if err != nil {
			return err
		}
		schema = s
	}
	dialect, _ := sqlparse.ParseDialect(opts.dialect)

	stmts := []sqlStatement{}
	for _, p := range sqlparse.Split(text, dialect) {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := sqlparse.Analyze(sqlparse.Input{
			SQL:             p.SQL,
			Dialect:         dialect,
			DefaultDatabase: opts.defaultDB,
			DefaultSchema:   opts.defaultSchema,
		}, schema)
		for i, d := range res.Diagnostics {
			res.Diagnostics[i].Line, res.Diagnostics[i].Col = scriptPosition(p, d.Line, d.Col)
		}
		stmts = append(stmts, sqlStatement{File: name, Line: p.Line, Col: p.Col, SQL: p.SQL, Result: res})
	}
	if len(stmts) == 0 {
		fmt.Fprintf(opts.io.Err, "%s: no SQL statements\n", name)
	}
	if opts.json {
		return writeJSON(opts.io.Out, stmts)
	}
	var b strings.Builder
	for i, s := range stmts {
		if i > 0 {
			b.WriteString("\n")
		}
		formatStatement(&b, s)
	}
	_, err = io.WriteString(opts.io.Out, b.String())
	return err
}

// scriptPosition turns a line:col inside a statement into one in the
// script. Line 0 (the whole statement) becomes the statement's start.
func scriptPosition(p sqlparse.Piece, line, col int) (int, int) {
	switch {
	case line <= 0:
		return p.Line, p.Col
	case line == 1:
		return p.Line, p.Col + col - 1
	}
	return p.Line + line - 1, col
}

// formatStatement renders one statement for people.
func formatStatement(b *strings.Builder, s sqlStatement) {
	fmt.Fprintf(b, "%s:%d:%d: %s (%s)\n", s.File, s.Line, s.Col, s.Kind, s.Status)
	tables := func(ts []sqlparse.Table) string {
		parts := make([]string, len(ts))
		for i, t := range ts {
			parts[i] = t.String()
		}
		return strings.Join(parts, ", ")
	}
	if len(s.Writes) > 0 {
		fmt.Fprintf(b, "  writes    %s\n", tables(s.Writes))
	}
	if len(s.Reads) > 0 {
		fmt.Fprintf(b, "  reads     %s\n", tables(s.Reads))
	}
	for _, r := range s.Renames {
		fmt.Fprintf(b, "  renames   %s -> %s\n", r.From, r.To)
	}
	if len(s.Columns) > 0 {
		b.WriteString("  columns\n")
		for _, c := range s.Columns {
			target := c.Column
			if !c.Target.IsZero() {
				target = c.Target.String() + "." + c.Column
			}
			if len(c.Sources) == 0 {
				fmt.Fprintf(b, "    %s <- (no source column)\n", target)
				continue
			}
			for _, src := range c.Sources {
				fmt.Fprintf(b, "    %s <- %s  %s\n", target, sourceName(src), transformation(src))
			}
		}
	}
	if len(s.Indirect) > 0 {
		b.WriteString("  all columns depend on\n")
		for _, src := range s.Indirect {
			fmt.Fprintf(b, "    %s  %s\n", sourceName(src), transformation(src))
		}
	}
	for _, d := range s.Diagnostics {
		fmt.Fprintf(b, "  %s:%d:%d: %s: %s\n", s.File, d.Line, d.Col, d.Severity, d.Message)
	}
}

func sourceName(s sqlparse.Source) string {
	if s.Table.IsZero() {
		return s.Column
	}
	return s.Table.String() + "." + s.Column
}

func transformation(s sqlparse.Source) string {
	return s.Type + " " + s.Subtype
}

// readInput reads FILE, or stdin for "-".
func readInput(file string, stdin io.Reader) (name, text string, err error) {
	if file == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", "", fmt.Errorf("read stdin: %w", err)
		}
		return "<stdin>", string(b), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	return file, string(b), nil
}

// readSchemaFile reads a schema file: table names mapped to their columns,
// either as a list in table order, {"DB.SCHEMA.T": ["A", "B"]}, or as an
// object of column types, {"DB.SCHEMA.T": {"A": "int", "B": "text"}} (the
// shape sqlglot takes). JSON does not order an object's members, so the
// second form gives the names only: an INSERT without a column list into
// such a table is mapped by name, with a warning, not by position.
func readSchemaFile(path string) (*sqlparse.MapSchema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	var tables map[string]json.RawMessage
	if err := json.Unmarshal(data, &tables); err != nil {
		return nil, schemaFileError(path, data, err)
	}
	names := make([]string, 0, len(tables))
	for name := range tables {
		names = append(names, name)
	}
	sort.Strings(names)
	schema := &sqlparse.MapSchema{}
	for _, name := range names {
		raw := tables[name]
		var cols []string
		if err := json.Unmarshal(raw, &cols); err == nil {
			schema.Add(name, cols)
			continue
		}
		var types map[string]json.RawMessage
		if err := json.Unmarshal(raw, &types); err != nil {
			return nil, schemaFileError(path, data, &json.UnmarshalTypeError{Value: "value", Offset: valueOffset(data, raw)})
		}
		cols = make([]string, 0, len(types))
		for c := range types {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		schema.AddUnordered(name, cols)
	}
	return schema, nil
}

// schemaFileError positions a schema file's JSON error and says what the
// file should hold.
func schemaFileError(path string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := offsetPosition(data, syn.Offset)
		return fmt.Errorf("%s:%d:%d: %v", path, line, col, syn)
	case errors.As(err, &typ):
		line, col := offsetPosition(data, typ.Offset)
		return fmt.Errorf("%s:%d:%d: want an object mapping table names to lists of column names, like {\"DB.SCHEMA.T\": [\"A\", \"B\"]}, or to objects of column types, like {\"DB.SCHEMA.T\": {\"A\": \"int\"}}", path, line, col)
	}
	return fmt.Errorf("%s: %v", path, err)
}

// valueOffset is where raw, a table's value, starts in data (its first
// occurrence: the decoder hands values over as copies).
func valueOffset(data, raw []byte) int64 {
	if i := bytes.Index(data, raw); i >= 0 {
		return int64(i)
	}
	return 0
}

// offsetPosition turns a byte offset into a 1-based line and column.
func offsetPosition(data []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
