// Package snowflake extracts lineage from a Snowflake account's query
// history: SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY joined with ACCESS_HISTORY,
// read online through the gosnowflake driver or offline from an export file
// the user produced with the documented export query (docs/snowflake.md).
//
// The package is split the way STYLE §2 asks:
//
//   - config.go: Config, validation (New does no I/O), secret redaction.
//   - history.go: the SQL weft runs (and the export query users run), which
//     deduplicates inside Snowflake by QUERY_PARAMETERIZED_HASH per chunk.
//   - row.go, export.go: rows from the driver or from a CSV / JSON-lines
//     export, and the local deduplication of raw (one row per query)
//     exports.
//   - decode.go: pure rows → statements and a graph fragment (datasets,
//     jobs, runs, and the edges ACCESS_HISTORY already knows).
//   - driver.go: the only file that imports gosnowflake (the seam for the
//     v2 upgrade).
//   - extract.go: the Extractor: time chunks, one Batch per chunk with the
//     chunk end as its watermark.
//
// The extractor never parses SQL. It emits every write statement (and
// SELECTs when asked) once per query shape and chunk, with its count and
// first/last times, for sqlparse to type the edges; the column lineage
// Snowflake records itself becomes column edges with Evidence.Method
// "access_history". The only look at query text is a keyword check for
// CREATE TEMPORARY TABLE, which marks session temp tables so that
// graph.CollapseTemp can resolve through them after parsing.
package snowflake
