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
//  5. Call extractortest.Run(t, newExtractor) in the package's tests, with a
//     constructor over each fixture (and over the fetch fake, for a
//     networked source). It checks the contract above in subtests: prompt
//     return on a cancelled ctx, stable order, batches not retained,
//     Statements with an Origin, a known Dialect, a Namespace and SQL,
//     Evidence with an Extractor and an Origin, watermarks that never go
//     back, emit's error returned unchanged, and a repeatable Close.
//  6. Add the source to the registry in cmd/weft and document its config in
//     the README.
package extractors
