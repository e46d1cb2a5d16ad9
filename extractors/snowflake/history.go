package snowflake

import (
	"strings"
)

// writeQueryTypes are the QUERY_TYPE values read by default: statements
// that write data or define a relation, and CALL, whose child queries form
// one job. It returns a new slice each time (no mutable package state).
func writeQueryTypes() []string {
	return []string{
		"ALTER_TABLE", // ... SWAP WITH
		"CALL",
		"COPY",
		"CREATE_MATERIALIZED_VIEW",
		"CREATE_TABLE", // CLONE, and temp tables filled later
		"CREATE_TABLE_AS_SELECT",
		"CREATE_VIEW",
		"DELETE",
		"INSERT",
		"MERGE",
		"MULTI_TABLE_INSERT",
		"RENAME_TABLE",
		"UNLOAD",
		"UPDATE",
	}
}

// queryTypes returns the QUERY_TYPE values in scope, sorted.
func queryTypes(includeSelects bool) []string {
	ts := writeQueryTypes()
	if includeSelects {
		ts = append(ts, "SELECT")
		// keep sorted: SELECT sorts between RENAME_TABLE and UNLOAD
		for i := len(ts) - 1; i > 0 && ts[i] < ts[i-1]; i-- {
			ts[i], ts[i-1] = ts[i-1], ts[i]
		}
	}
	return ts
}

// historyColumns are the columns of one deduplicated row, in the order
// historySQL selects them and the export files name them.
func historyColumns() []string {
	return []string{
		"QUERY_PARAMETERIZED_HASH", "ROOT_QUERY_HASH", "BUCKET", "QUERY_COUNT",
		"FIRST_QUERY_ID", "LAST_QUERY_ID", "FIRST_START_TIME", "LAST_START_TIME",
		"QUERY_TEXT", "QUERY_TYPE", "DATABASE_NAME", "SCHEMA_NAME",
		"USER_NAME", "ROLE_NAME", "WAREHOUSE_NAME", "SESSION_ID",
		"ROOT_QUERY_ID", "QUERY_TAG", "EXECUTION_STATUS",
		"DIRECT_OBJECTS_ACCESSED", "BASE_OBJECTS_ACCESSED", "OBJECTS_MODIFIED",
	}
}

// historyQuery is the SQL for one chunk, with its bind arguments.
type historyQuery struct {
	SQL  string
	Args []any
}

// likePattern turns a glob (* and ?) into an ILIKE pattern with ! as the
// escape character.
func likePattern(glob string) string {
	var b strings.Builder
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '%', '_', '!':
			b.WriteByte('!')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// likeAny appends "col ILIKE ? ESCAPE '!' OR ..." for pats to b and their
// patterns to args.
func likeAny(b *strings.Builder, args []any, col string, pats []string) []any {
	b.WriteString("(")
	for i, p := range pats {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString(col + " ILIKE ? ESCAPE '!'")
		args = append(args, likePattern(p))
	}
	b.WriteString(")")
	return args
}

// buildHistoryQuery returns the query for the chunk [from, to), both in
// epoch milliseconds. Snowflake does the heavy work: it filters to
// successful statements of the types in scope, joins ACCESS_HISTORY over
// the same window (partition pruning on QUERY_START_TIME), resolves a
// stored procedure child's CALL, and groups by query shape, so that a
// million logged queries come back as a few thousand rows. Every value is
// bound; patterns never become SQL text.
func buildHistoryQuery(fromMS, toMS int64, types []string, f filter, accessHistory bool) historyQuery {
	var b strings.Builder
	var args []any
	b.WriteString(`-- weft: snowflake query history, one row per query shape in [from, to)
WITH qh AS (
  SELECT query_id, query_text, query_type, database_name, schema_name, user_name, role_name,
         warehouse_name, session_id, query_tag, execution_status, start_time,
         COALESCE(query_parameterized_hash, query_hash) AS shape,
         TO_VARCHAR(start_time, 'YYYY-MM-DD HH24:MI:SS.FF9') || query_id AS ord
  FROM snowflake.account_usage.query_history
  WHERE start_time >= TO_TIMESTAMP_LTZ(?, 3) AND start_time < TO_TIMESTAMP_LTZ(?, 3)
    AND execution_status = 'SUCCESS'
    AND query_type IN (`)
	args = append(args, fromMS, toMS)
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + t + "'") // constants from writeQueryTypes, never user input
	}
	b.WriteString(")")
	if len(f.inclUser) > 0 {
		b.WriteString("\n    AND ")
		args = likeAny(&b, args, "user_name", f.inclUser)
	}
	if len(f.exclUser) > 0 {
		b.WriteString("\n    AND NOT ")
		args = likeAny(&b, args, "user_name", f.exclUser)
	}
	b.WriteString("\n)")
	if accessHistory {
		b.WriteString(`, ah AS (
  SELECT query_id, root_query_id, direct_objects_accessed, base_objects_accessed, objects_modified
  FROM snowflake.account_usage.access_history
  WHERE query_start_time >= TO_TIMESTAMP_LTZ(?, 3) AND query_start_time < TO_TIMESTAMP_LTZ(?, 3)
), q AS (
  SELECT qh.*, ah.root_query_id, ah.direct_objects_accessed, ah.base_objects_accessed, ah.objects_modified,
         calls.shape AS root_shape
  FROM qh
  LEFT JOIN ah ON ah.query_id = qh.query_id
  LEFT JOIN qh AS calls ON calls.query_id = ah.root_query_id AND calls.query_type = 'CALL'
)`)
		args = append(args, fromMS, toMS)
	} else {
		b.WriteString(`, q AS (
  SELECT qh.*, NULL::VARCHAR AS root_query_id, NULL::ARRAY AS direct_objects_accessed,
         NULL::ARRAY AS base_objects_accessed, NULL::ARRAY AS objects_modified, NULL::VARCHAR AS root_shape
  FROM qh
)`)
	}
	b.WriteString(`
SELECT shape AS query_parameterized_hash, root_shape AS root_query_hash,
       TO_TIMESTAMP_LTZ(?, 3) AS bucket, COUNT(*) AS query_count,
       MIN_BY(query_id, ord) AS first_query_id, MAX_BY(query_id, ord) AS last_query_id,
       MIN(start_time) AS first_start_time, MAX(start_time) AS last_start_time,
       MIN_BY(query_text, ord) AS query_text, MIN_BY(query_type, ord) AS query_type,
       MIN_BY(database_name, ord) AS database_name, MIN_BY(schema_name, ord) AS schema_name,
       MIN_BY(user_name, ord) AS user_name, MIN_BY(role_name, ord) AS role_name,
       MIN_BY(warehouse_name, ord) AS warehouse_name, MIN_BY(session_id, ord) AS session_id,
       MIN_BY(root_query_id, ord) AS root_query_id, MIN_BY(query_tag, ord) AS query_tag,
       MIN_BY(execution_status, ord) AS execution_status,
       MIN_BY(direct_objects_accessed, ord) AS direct_objects_accessed,
       MIN_BY(base_objects_accessed, ord) AS base_objects_accessed,
       MIN_BY(objects_modified, ord) AS objects_modified
FROM q
GROUP BY shape, root_shape, IFF(root_shape IS NULL, root_query_id, NULL)
ORDER BY first_start_time, first_query_id`)
	args = append(args, fromMS)
	return historyQuery{SQL: b.String(), Args: args}
}

// buildColumnsQuery returns the query for ACCOUNT_USAGE.COLUMNS, filtered
// to the databases in scope.
func buildColumnsQuery(f filter) historyQuery {
	var b strings.Builder
	var args []any
	b.WriteString(`-- weft: snowflake columns
SELECT table_catalog, table_schema, table_name, column_name, ordinal_position, data_type
FROM snowflake.account_usage.columns
WHERE deleted IS NULL`)
	if len(f.inclDB) > 0 {
		b.WriteString("\n  AND ")
		args = likeAny(&b, args, "table_catalog", f.inclDB)
	}
	if len(f.exclDB) > 0 {
		b.WriteString("\n  AND NOT ")
		args = likeAny(&b, args, "table_catalog", f.exclDB)
	}
	b.WriteString("\nORDER BY table_catalog, table_schema, table_name, ordinal_position, column_name")
	return historyQuery{SQL: b.String(), Args: args}
}
