// Package extractors defines what every weft source emits: graph fragments
// (datasets, jobs, runs, edges the source already knows) and SQL statements
// for sqlparse to analyse. Extractors never parse SQL themselves.
//
// How to add an extractor:
//
//  1. Create extractors/<source> with a typed Config and New(Config) (*Extractor, error).
//     New validates the config and does no I/O; it never reads env vars.
//  2. Implement Extract(ctx, emit). Read the source, and call emit with one
//     Batch per unit of progress (a whole manifest, one time chunk of a query
//     log). Stream: never hold a whole query history in memory.
//  3. Give every Statement an Origin and a Dialect, and every Edge Evidence.
//  4. Split fetch (thin HTTP/SQL) from decode (bytes → Batch) and test decode
//     with fixtures and goldens.
//  5. Run extractortest.Run(t, e) in the package's tests.
//  6. Add the source to the registry in cmd/weft and document its config in
//     the README.
package extractors
