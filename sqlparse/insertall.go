package sqlparse

import "strings"

// insertAll handles Snowflake INSERT ALL/FIRST, which PostgreSQL cannot
// express. Each INTO branch becomes an ordinary INSERT over the trailing
// query:
//
//	INSERT INTO t (cols) SELECT <VALUES list, or *> FROM (<query>) AS src
//	    [WHERE <WHEN condition>]
//
// so the VALUES list maps the query's outputs by name (or the outputs map
// by position when it is absent) and the WHEN conditions become filters.
// The branches are analysed together; their diagnostics are reported for
// the whole statement. When the structure is not recognised, or the
// branches do not parse, the answer is the table-level one.
func insertAll(in Input, toks *tokens, scan tableScan, schema Schema) Result {
	fallback := func(msg string) Result {
		res := tableOnly(in, scan)
		res.Diagnostics = append(res.Diagnostics, Diagnostic{Severity: SeverityInfo, Message: "INSERT ALL: " + msg + "; table-level lineage only"})
		return res
	}
	t := toks
	i := firstWord(t)
	if !t.is(i, "insert") {
		return fallback("not recognised")
	}
	i++
	if t.is(i, "overwrite") {
		i++
	}
	if !t.isAny(i, "all", "first") {
		return fallback("not recognised")
	}
	i++
	type branch struct {
		target, cols, values, cond string
	}
	var branches []branch
	var conds []string
	cond := ""
	src := t.src
	span := func(a, b int) string { // tokens a..b inclusive
		if a > b || a < 0 || b >= len(t.toks) {
			return ""
		}
		return src[t.toks[a].start:t.toks[b].end]
	}
	n := len(t.toks)
	for i < n {
		switch {
		case t.is(i, "when"):
			j := i + 1
			for j < n && !t.is(j, "then") {
				if t.punct(j, '(') {
					j = t.matchParen(j)
				}
				j++
			}
			if j >= n {
				return fallback("WHEN without THEN")
			}
			cond = span(i+1, j-1)
			conds = append(conds, "("+cond+")")
			i = j + 1
		case t.is(i, "else"):
			cond = ""
			if len(conds) > 0 {
				cond = "NOT (" + strings.Join(conds, " OR ") + ")"
			}
			i++
		case t.is(i, "into"):
			_, j := t.qualifiedName(i+1, in.Dialect)
			if j == i+1 {
				return fallback("INTO without a table")
			}
			b := branch{target: span(i+1, j-1), cond: cond}
			if t.punct(j, '(') {
				k := t.matchParen(j)
				b.cols = span(j, k)
				j = k + 1
			}
			if t.is(j, "values") && t.punct(j+1, '(') {
				k := t.matchParen(j + 1)
				b.values = span(j+2, k-1)
				j = k + 1
			}
			branches = append(branches, b)
			i = j
		default:
			goto query
		}
	}
query:
	if len(branches) == 0 || i >= n {
		return fallback("no INTO branch or no query")
	}
	end := n - 1
	for end > i && t.punct(end, ';') {
		end--
	}
	q := span(i, end)
	var b strings.Builder
	for _, br := range branches {
		b.WriteString("INSERT INTO ")
		b.WriteString(br.target)
		if br.cols != "" {
			b.WriteString(" " + br.cols)
		}
		b.WriteString(" SELECT ")
		if br.values != "" {
			b.WriteString(br.values)
		} else {
			b.WriteString("*")
		}
		b.WriteString(" FROM (\n")
		b.WriteString(q)
		b.WriteString("\n) AS _insert_all_src")
		if br.cond != "" {
			b.WriteString(" WHERE " + br.cond)
		}
		b.WriteString(";\n")
	}
	sub := Input{SQL: b.String(), Dialect: in.Dialect, DefaultDatabase: in.DefaultDatabase, DefaultSchema: in.DefaultSchema}
	stoks := &tokens{src: sub.SQL, toks: lex(sub.SQL, optsFor(in.Dialect))}
	sscan := tableScan{kind: KindInsert}
	res := analyzeColumns(sub, stoks, sscan, schema)
	if res.Status == StatusTableOnly || res.Status == StatusFailed {
		return fallback("branches did not parse")
	}
	res.Kind = KindInsertAll
	// Positions refer to the synthesised text: keep the messages only.
	for k := range res.Diagnostics {
		res.Diagnostics[k].Line, res.Diagnostics[k].Col = 0, 0
	}
	return res
}
