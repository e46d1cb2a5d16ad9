package sqlparse

import "strings"

// Split cuts a script into statements at top-level semicolons. Semicolons
// inside strings, quoted names, comments and $$ bodies do not split.
// Pieces that hold only comments or whitespace are dropped. Each Piece
// keeps its offset and line:col in the script, so diagnostics can be
// reported against the file.
func Split(sql string, d Dialect) []Piece {
	toks := lex(sql, optsFor(d))
	var out []Piece
	start := -1
	// BEGIN ... END blocks (Snowflake Scripting, anonymous blocks) hold
	// semicolons that do not end the statement.
	depth := 0
	// declared: the block opened with DECLARE, whose BEGIN does not open
	// another one (DECLARE ... BEGIN ... END is one block).
	declared := false
	t := &tokens{src: sql, toks: toks}
	flush := func(endTok int) {
		if start < 0 {
			return
		}
		s := toks[start].start
		e := toks[endTok].end
		line, col := lineCol(sql, s)
		out = append(out, Piece{SQL: sql[s:e], Offset: s, Line: line, Col: col})
		start = -1
	}
	for i, tk := range toks {
		if tk.kind == tPunct && sql[tk.start] == ';' {
			if depth > 0 {
				continue
			}
			if start >= 0 {
				flush(i - 1)
			}
			continue
		}
		if start < 0 {
			start = i
			// A block starts with BEGIN or DECLARE unless it is
			// transaction control (BEGIN; BEGIN TRANSACTION; BEGIN WORK).
			if (t.is(i, "begin") && !t.isAny(i+1, "transaction", "work", "tran", "name") && !t.punct(i+1, ';') && i+1 < len(toks)) || t.is(i, "declare") {
				depth = 1
				declared = t.is(i, "declare")
			}
			continue
		}
		if depth > 0 {
			switch {
			case declared && depth == 1 && t.is(i, "begin"):
				declared = false
			case t.is(i, "for") && t.is(i-1, "cursor"):
				// CURSOR FOR <query> declares a cursor; it opens no block.
			case t.is(i, "begin") || (t.isAny(i, "if", "loop", "case", "for", "while", "repeat") && !t.is(i-1, "end")):
				depth++
			case t.is(i, "end"):
				depth--
			}
		}
	}
	if start >= 0 {
		flush(len(toks) - 1)
	}
	return out
}

// classify returns the statement kind from its leading keywords.
func classify(t *tokens) Kind {
	i := 0
	for t.punct(i, '(') {
		i++
	}
	w := strings.ToLower(t.text(i))
	if t.toks == nil || len(t.toks) == 0 {
		return KindOther
	}
	switch w {
	case "select", "values", "table", "from":
		return KindSelect
	case "with":
		// The statement after the CTEs decides: WITH ... INSERT (Spark),
		// WITH ... SELECT.
		for j := i + 1; j < len(t.toks); j++ {
			if t.punct(j, '(') {
				j = t.matchParen(j)
				continue
			}
			switch {
			case t.is(j, "select"):
				return KindSelect
			case t.is(j, "insert"):
				return KindInsert
			case t.is(j, "merge"):
				return KindMerge
			case t.is(j, "update"):
				return KindUpdate
			case t.is(j, "delete"):
				return KindDelete
			}
		}
		return KindSelect
	case "create", "replace":
		for j := i + 1; j < len(t.toks) && j < i+12; j++ {
			switch {
			case t.is(j, "view"):
				return KindCreateView
			case t.is(j, "table"):
				for k := j + 1; k < len(t.toks); k++ {
					if t.punct(k, '(') {
						k = t.matchParen(k)
						continue
					}
					if t.is(k, "clone") {
						return KindClone
					}
					if t.is(k, "as") || t.is(k, "like") {
						return KindCreateTableAs
					}
				}
				return KindCreateTable
			case t.isAny(j, "or", "replace", "temp", "temporary", "transient", "secure", "materialized", "recursive",
				"volatile", "global", "local", "if", "not", "exists", "dynamic", "iceberg", "hybrid", "multiset",
				"external", "streaming", "live", "unlogged", "force"):
				continue
			default:
				return KindOther
			}
		}
		return KindOther
	case "insert":
		if t.isAny(i+1, "all", "first") {
			return KindInsertAll
		}
		return KindInsert
	case "merge":
		return KindMerge
	case "update":
		return KindUpdate
	case "delete":
		return KindDelete
	case "copy":
		return KindCopy
	case "drop", "undrop":
		return KindDrop
	case "alter":
		if t.is(i+1, "session") || t.is(i+1, "user") || t.is(i+1, "warehouse") || t.is(i+1, "account") {
			return KindSkipped
		}
		for j := i + 1; j < len(t.toks); j++ {
			if t.is(j, "rename") && (t.is(j+1, "to") || t.is(j+1, "as")) {
				return KindRename
			}
			if t.is(j, "swap") && t.is(j+1, "with") {
				return KindSwap
			}
		}
		return KindOther
	case "use", "show", "desc", "describe", "set", "unset", "grant", "revoke", "begin", "commit",
		"rollback", "start", "end", "put", "get", "list", "ls", "rm", "remove", "explain", "analyze",
		"vacuum", "optimize", "refresh", "msck", "cache", "uncache", "comment", "savepoint", "release",
		"abort", "reset", "discard", "lock", "truncate", "call", "execute", "declare", "fetch", "close":
		// A procedural block (Snowflake Scripting, anonymous blocks) holds
		// statements: table-level lineage from the fallback.
		if w == "truncate" || w == "declare" || (w == "begin" && i+1 < len(t.toks) && !t.isAny(i+1, "transaction", "work", "tran", "name") && !t.punct(i+1, ';')) {
			return KindOther
		}
		return KindSkipped
	}
	return KindOther
}
