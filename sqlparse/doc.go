// Package sqlparse turns one SQL statement plus a schema lookup into table
// and column lineage.
//
// It works in layers, each able to fail without taking down the next:
//
//  1. Split a script into statements and classify them; statements without
//     lineage (USE, SHOW, ALTER SESSION, ...) are skipped, not failed.
//     A BEGIN ... END block is analysed statement by statement.
//  2. A token-level dialect rewrite turns Snowflake, Databricks/Spark and
//     BigQuery syntax that PostgreSQL cannot parse into equivalent PostgreSQL
//     (QUALIFY, * EXCLUDE, variant paths, backticks, INSERT OVERWRITE, ...).
//     Most edits keep byte lengths, and an offset map takes every position
//     back to the original text. Each edit leaves a note when it removes
//     semantics the lineage layer must restore.
//  3. pg_query parses the rewritten text and a scope resolver in the spirit
//     of sqlglot walks the tree: CTEs, subqueries, set operations, star
//     expansion from the Schema, unqualified columns, lateral aliases, INSERT
//     column lists, MERGE and UPDATE assignments, CTAS and views.
//  4. Targeted handling for what PostgreSQL cannot express: COPY INTO,
//     INSERT ALL, PIVOT/UNPIVOT, ASOF JOIN.
//  5. A lexer-only table-level fallback that cannot fail.
//
// Analyze never panics and never returns an error: at worst a statement
// gets table-level lineage with status table_only and a diagnostic.
//
// This is the only package that imports pg_query_go; its types never leave
// the package.
package sqlparse
