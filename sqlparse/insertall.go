package sqlparse

// insertAll handles Snowflake INSERT ALL/FIRST, which PostgreSQL cannot
// express: each INTO target maps the trailing query's outputs, through its
// VALUES list by name or by position.
func insertAll(in Input, toks *tokens, scan tableScan) Result {
	res := tableOnly(in, scan)
	res.Diagnostics = append(res.Diagnostics, Diagnostic{Severity: SeverityInfo, Message: "INSERT ALL: table-level lineage only"})
	return res
}
