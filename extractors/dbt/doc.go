// Package dbt reads a dbt project's artifacts and emits its lineage: a
// dataset per model, seed, snapshot and source, consumers (exposures,
// metrics, semantic models, saved queries) as datasets too, table edges
// from depends_on, a job per model, seed, snapshot and analysis, runs from
// run_results.json, and the compiled SQL as statements for sqlparse.
//
// # Inputs
//
//   - target/manifest.json (required): schema v4 (dbt 1.0) to v12 (dbt
//     1.8+), detected from metadata.dbt_schema_version. Newer versions load
//     best-effort with an unknown_schema_version warning. The fields that
//     moved between versions are read under both names: compiled_sql (≤v6)
//     and compiled_code (≥v7), raw_sql and raw_code, contract.enforced on
//     the node and in config, access on the node and in config.
//   - target/catalog.json (optional, "dbt docs generate"): the warehouse's
//     column names, types and order.
//   - target/run_results.json (optional): each node's last status, time and
//     duration, and a graph.Run per node that ran.
//
// The manifest is parsed once with gjson and walked with ForEach: a 140 MB
// manifest of 10,000 models loads in under a second.
//
// # What becomes what
//
//   - Models, seeds, snapshots, sources: datasets of kind model, seed,
//     snapshot, source. Ephemeral models build no relation; they are
//     datasets in the dbt namespace with materialized=ephemeral, so lineage
//     still runs through them. Versioned models are one dataset per version
//     (version and latest_version properties).
//   - Exposures, metrics, semantic models, saved queries: consumer datasets
//     in the dbt namespace. A semantic model's entities, dimensions and
//     measures are its columns (Type says which); a metric has one column
//     named like the metric; a saved query's columns are its metrics and
//     group-by items ("customer", "metric_time__day").
//   - Saved query exports (dbt 1.7+): a dataset of kind table or view in
//     the warehouse namespace, named database.schema_name.alias (unquoted,
//     as MetricFlow writes it; the alias defaults to the export's name, the
//     schema to the saved query's config.schema), with the saved query's
//     columns folded like unquoted identifiers and properties
//     dbt_saved_query, export_name and export_as. It has no dbt_unique_id:
//     it is not a dbt node. An export without a schema is a bad_export
//     finding.
//   - Legacy metrics (dbt 1.0..1.5, manifest v4..v9: type and sql, or
//     calculation_method and expression) are metric datasets like
//     MetricFlow's; Node.LegacyMetric holds what they read.
//   - External tables (dbt-external-tables): a source's
//     external.partitions are added to its columns when neither the catalog
//     nor its YAML lists them (folded like unquoted identifiers, typed by
//     data_type); external.location is the external_location property.
//   - Snapshots: the meta columns dbt adds (dbt_scd_id, dbt_updated_at,
//     dbt_valid_from, dbt_valid_to, dbt_is_deleted for hard_deletes:
//     new_record; renamed by snapshot_meta_column_names) are added to the
//     snapshot's known columns when the catalog does not list them.
//   - Seeds: columns from the catalog, the manifest, or else the header
//     row of the CSV file (Config.ProjectDir, target/.., root_path).
//   - Tests: attached to what they test. A column test is added to
//     Column.Tests as "not_null", "relationships(to=ref('x'), field=id)",
//     "dbt_utils.expression_is_true(expression=...)"; node-level, singular
//     and unit tests go to the "tests" property. A test on a column that is
//     neither documented nor in the catalog (often an expression) stays on
//     the node as "<test> on <column>".
//   - Analyses: a job and a statement with no target; no dataset.
//   - Operations (hooks), macros, docs: skipped. Disabled nodes (the
//     disabled map, or config.enabled: false) are left out; a depends_on
//     that names one is reported.
//
// # Identity
//
// A node's dataset is the warehouse relation it builds, so that the dbt
// model and the table the warehouse extractor sees are one node:
//
//   - Namespace: "<adapter_type>://<account>", the account (or host) from
//     Config.Account. Without it the namespace is "<adapter_type>://default"
//     and an info finding (no_account) asks for it.
//   - Name: relation_name when the manifest has it (it carries the adapter's
//     quoting), else database.schema.alias (identifier for sources) with the
//     node's quoting config or the adapter's default (dbt-snowflake quotes
//     nothing; dbt-postgres, -redshift and -duckdb quote everything). Each
//     part is folded by graph.Fold: Snowflake upper-cases unquoted parts;
//     Databricks, Spark, Postgres, Redshift, DuckDB and Athena lower-case
//     them; BigQuery keeps them as written. dbt-databricks' two-part names
//     for the legacy metastore become hive_metastore.<schema>.<table>, as
//     Unity Catalog names them.
//   - Every dataset also carries its dbt identity {dbt://<project>,
//     <unique_id>} ("dbt unique_id"), which is the dataset's own ID for
//     nodes without a relation. The project name is metadata.project_name,
//     or for manifests before v10, the package that owns the most models;
//     Config.Name overrides it.
//
// # Column edges without SQL
//
// Graph adds the column edges dbt states itself, with Evidence
// {Extractor: "dbt", Origin: the consumer's or snapshot's unique_id}:
//
//   - Method "semantic_model": each entity, dimension and measure from the
//     columns of its expr (default: the column named like the field) in
//     the semantic model's model; DIRECT IDENTITY for a plain column,
//     TRANSFORMATION for an expression, AGGREGATION for measures. Exprs are
//     read with a small tokenizer (no SQL parser): function names,
//     keywords, strings and types are skipped; with a catalog, words that
//     are not columns are dropped, without one they are kept at
//     confidence 0.5.
//   - Method "metric": the metric's column from the measures it
//     aggregates (simple: IDENTITY; cumulative: AGGREGATION; others:
//     TRANSFORMATION), from input metrics (derived, ratio, cumulative), or
//     from the model's columns for metrics defined on a semantic model
//     without a measure (metric_aggregation_params, AGGREGATION); the
//     dimensions, entities and metrics named in its filters
//     ({{ Dimension('loan__status') }}) as INDIRECT FILTER.
//   - A measure's non_additive_dimension (method "semantic_model"), or a
//     metric's metric_aggregation_params.non_additive_dimension (method
//     "metric"): INDIRECT WINDOW from the dimension (metric_time: the
//     agg_time_dimension) and from each window_groupings entity, the
//     semantic model's columns (the model's when the semantic model has no
//     such field).
//   - Method "metric" for legacy metrics: the metric's column from the
//     columns of its expression in its model (DIRECT AGGREGATION; "*"
//     reads none), or for derived and expression metrics from the metrics
//     they name (DIRECT TRANSFORMATION); its filters' fields as INDIRECT
//     FILTER; its timestamp and dimensions, the columns it is grouped by,
//     as INDIRECT GROUP_BY.
//   - Method "saved_query": each metric column (IDENTITY), each group-by
//     dimension or entity (metric_time: the metrics' agg_time_dimension,
//     a measure's own before its semantic model's default,
//     TRANSFORMATION), and the where filters' columns as INDIRECT FILTER
//     on the whole result.
//   - Method "saved_query_export": each saved query column to the same
//     column of each export (DIRECT IDENTITY), and a table edge from the
//     saved query to the export (no job: dbt Cloud or "dbt sl export"
//     writes it, not dbt build).
//   - Method "snapshot_strategy" (Job: the snapshot's): timestamp:
//     updated_at → dbt_updated_at, dbt_valid_from, dbt_valid_to, and
//     unique_key + updated_at → dbt_scd_id (DIRECT TRANSFORMATION); check:
//     unique_key → dbt_scd_id, and check_cols → dbt_scd_id,
//     dbt_updated_at, dbt_valid_from, dbt_valid_to (INDIRECT CONDITIONAL);
//     hard deletes: unique_key → dbt_valid_to (and dbt_is_deleted)
//     (INDIRECT CONDITIONAL).
//
// Exposures name no columns: they stay table-level consumers.
//
// Jobs are {dbt://<project>, <unique_id>}. Table edges carry Evidence
// {Extractor: "dbt", Origin: <downstream unique_id>, Method: "depends_on",
// Job: the downstream node's job (zero for consumers)}, seen at the
// manifest's generated_at.
//
// # Statements
//
// Every SQL model, snapshot and analysis with compiled SQL becomes a
// Statement: dialect from adapter_type (snowflake; databricks and spark →
// databricks; postgres, redshift, duckdb → postgres; bigquery; others →
// postgres with a no_dialect finding), the node's database and schema as
// defaults (folded like dataset names), the node's dataset as Target, and
// Origin {File: original_file_path, Line: 1, NodeID: unique_id}. Python
// models get no statement (python_model finding). Manifests from "dbt parse"
// have no compiled SQL; one no_compiled_sql finding says how many nodes
// lack it.
//
// # Errors and findings
//
// Input that cannot be used fails with the file and position:
// "manifest.json:733:23: truncated JSON: input ends at byte 20000 (inside
// nodes.model.x.columns); re-run dbt to regenerate it", or "catalog.json:
// not a dbt manifest (metadata.dbt_schema_version is .../catalog/v1.json);
// pass target/manifest.json". Everything else is a graph.Finding with a
// location such as "manifest.json: nodes.model.x.depends_on.nodes[0]":
// dangling_ref, self_ref, duplicate_node, bad_relation_name,
// unknown_schema_version, unknown_adapter, no_dialect, no_account,
// python_model, no_compiled_sql, no_seed_columns, bad_seed_file,
// bad_export.
package dbt
