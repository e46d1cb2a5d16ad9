package sqlparse

import (
	"sort"
	"strings"
)

// fold applies the dialect's identifier case rule. Snowflake upper-cases
// unquoted names; Postgres and BigQuery lower-case them; quoted names keep
// their case. Databricks (Unity Catalog, Spark) is case-insensitive and
// stores names in lower case, so it lower-cases quoted names too.
func fold(name string, quoted bool, d Dialect) string {
	switch {
	case d == Databricks:
		return strings.ToLower(name)
	case quoted:
		return name
	case d == Snowflake:
		return strings.ToUpper(name)
	}
	return strings.ToLower(name)
}

// identAt returns the folded identifier of token i and whether token i is
// an identifier at all.
func (t *tokens) identAt(i int, d Dialect) (string, bool) {
	if i < 0 || i >= len(t.toks) {
		return "", false
	}
	tk := t.toks[i]
	s := t.src[tk.start:tk.end]
	switch tk.kind {
	case tIdent:
		return fold(s, false, d), true
	case tQuoted:
		return fold(unquote(s, '"'), true, d), true
	case tBacktick:
		return fold(unquote(s, '`'), true, d), true
	}
	return "", false
}

func unquote(s string, q byte) string {
	if len(s) >= 2 && s[0] == q && s[len(s)-1] == q {
		s = s[1 : len(s)-1]
	} else if len(s) >= 1 && s[0] == q {
		s = s[1:]
	}
	return strings.ReplaceAll(s, string([]byte{q, q}), string(q))
}

// qualifiedName reads a dotted name starting at token i. It returns the
// parts and the index after the name. BigQuery backticked names may hold
// dots (`project.dataset.table`); they are split.
func (t *tokens) qualifiedName(i int, d Dialect) ([]string, int) {
	var parts []string
	for {
		if t.toks != nil && i < len(t.toks) && t.toks[i].kind == tBacktick {
			raw := unquote(t.text(i), '`')
			for _, p := range strings.Split(raw, ".") {
				parts = append(parts, fold(p, true, d))
			}
		} else {
			p, ok := t.identAt(i, d)
			if !ok {
				return parts, i
			}
			parts = append(parts, p)
		}
		i++
		if !t.punct(i, '.') || !t.isName(i+1) {
			return parts, i
		}
		i++
	}
}

// tableFromParts turns 1-4 name parts into a Table, qualified with the
// defaults. Four-part names keep the last three.
func tableFromParts(parts []string, defDB, defSchema string) Table {
	switch len(parts) {
	case 0:
		return Table{}
	case 1:
		if defSchema == "" {
			return Table{Name: parts[0]}
		}
		return Table{Database: defDB, Schema: defSchema, Name: parts[0]}
	case 2:
		return Table{Database: defDB, Schema: parts[0], Name: parts[1]}
	}
	n := len(parts)
	return Table{Database: parts[n-3], Schema: parts[n-2], Name: parts[n-1]}
}

// clauseEnd are words that end a FROM list at the current depth.
var clauseEnd = map[string]bool{
	"where": true, "group": true, "having": true, "order": true, "limit": true, "union": true,
	"intersect": true, "except": true, "minus": true, "qualify": true, "window": true, "on": true,
	"using": true, "select": true, "set": true, "when": true, "values": true, "offset": true,
	"fetch": true, "returning": true, "lateral": false, "sample": true, "tablesample": true,
	"pivot": true, "unpivot": true, "match_condition": true, "connect": true, "start": true,
	"distribute": true, "sort": true, "cluster": true, "into": true, "format": true, "file_format": true,
	"match_recognize": true, "for": true, "at": true, "before": true, "changes": true,
}

// tableScan is what the lexer fallback found.
type tableScan struct {
	kind    Kind
	writes  []Table
	reads   []Table
	renames []Rename
}

// scanTables finds written and read tables from tokens alone. It knows
// CTE names (so they are not tables), FROM/JOIN lists with commas,
// subqueries, INSERT/MERGE/UPDATE/DELETE/COPY/CREATE targets, CLONE
// sources, stages and ALTER ... RENAME/SWAP. It cannot fail.
func scanTables(t *tokens, d Dialect, defDB, defSchema string) tableScan {
	ts := tableScan{kind: classify(t)}
	ctes := map[string]bool{}
	n := len(t.toks)
	readName := func(i int) (Table, int, bool) {
		if i < n && t.toks[i].kind == tStage {
			return Table{Name: t.text(i)}, i + 1, true
		}
		parts, j := t.qualifiedName(i, d)
		if len(parts) == 0 {
			return Table{}, i, false
		}
		return tableFromParts(parts, defDB, defSchema), j, true
	}
	addRead := func(i int) int {
		// Skip ONLY, LATERAL and TABLE( wrappers.
		for t.isAny(i, "only", "lateral") {
			i++
		}
		if t.is(i, "table") && t.punct(i+1, '(') {
			return i + 1
		}
		if t.punct(i, '(') {
			return i
		}
		tb, j, ok := readName(i)
		if !ok {
			return i
		}
		if t.punct(j, '(') {
			return j // a table function: its arguments are scanned as usual
		}
		if tb.Database == "" && tb.Schema == defSchema && ctes[strings.ToLower(tb.Name)] {
			return j
		}
		if ctes[strings.ToLower(tb.Name)] && (tb.Schema == "" || tb.Schema == defSchema) && (tb.Database == "" || tb.Database == defDB) {
			return j
		}
		ts.reads = append(ts.reads, tb)
		return j
	}
	addWrite := func(i int) int {
		for t.isAny(i, "if", "not", "exists", "only", "table", "into", "overwrite") {
			i++
		}
		tb, j, ok := readName(i)
		if ok {
			ts.writes = append(ts.writes, tb)
		}
		return j
	}
	// CTE names first, so that references before the definition order do
	// not matter.
	for i := 0; i+2 < n; i++ {
		if (t.is(i, "with") || t.is(i, "recursive") || t.punct(i, ',')) && t.isName(i+1) {
			j := i + 2
			if t.punct(j, '(') && !t.is(i, "with") || t.punct(j, '(') {
				// name (cols) AS (
				k := t.matchParen(j)
				if t.is(k+1, "as") {
					j = k + 1
				}
			}
			if t.is(j, "as") && (t.punct(j+1, '(') || t.isAny(j+1, "materialized", "not")) {
				if name, ok := t.identAt(i+1, d); ok {
					ctes[strings.ToLower(name)] = true
				}
			}
		}
	}
	inFrom := map[int]bool{}
	depth := 0
	for i := 0; i < n; i++ {
		tk := t.toks[i]
		if tk.kind == tPunct {
			switch t.src[tk.start] {
			case '(':
				depth++
				inFrom[depth] = false
				continue
			case ')':
				delete(inFrom, depth)
				depth--
				continue
			case ',':
				if inFrom[depth] {
					i = addRead(i+1) - 1
				}
				continue
			}
		}
		if tk.kind != tIdent {
			continue
		}
		w := strings.ToLower(t.src[tk.start:tk.end])
		switch {
		case w == "from" && !t.is(i-1, "distinct") && !(t.punct(i-1, '(') && false):
			// EXTRACT(x FROM y), TRIM(.. FROM ..), SUBSTRING(.. FROM ..)
			// are not table lists: they sit right after '(' + word.
			if isFromInFunction(t, i) {
				continue
			}
			inFrom[depth] = true
			if ts.kind == KindDelete && len(ts.writes) == 0 {
				i = addWrite(i+1) - 1
				continue
			}
			if ts.kind == KindCopy {
				i = addRead(i+1) - 1
				continue
			}
			i = addRead(i+1) - 1
		case w == "join":
			inFrom[depth] = true
			i = addRead(i+1) - 1
		case w == "using" && (ts.kind == KindMerge || ts.kind == KindDelete) && depth == 0:
			inFrom[depth] = true
			i = addRead(i+1) - 1
		case w == "into" && (t.isAny(i-1, "insert", "merge", "copy", "overwrite") || (ts.kind == KindInsertAll && depth == 0)):
			i = addWrite(i+1) - 1
		case w == "overwrite" && t.is(i-1, "insert") && !t.is(i+1, "into"):
			i = addWrite(i+1) - 1
		case w == "update" && i == firstWord(t) || (w == "update" && ts.kind == KindUpdate && len(ts.writes) == 0 && depth == 0 && !t.is(i-1, "then") && !t.is(i-1, "for")):
			i = addWrite(i+1) - 1
			inFrom[depth] = false
		case (w == "table" || w == "view") && (ts.kind == KindCreateTableAs || ts.kind == KindCreateView || ts.kind == KindClone || ts.kind == KindCreateTable) && len(ts.writes) == 0:
			i = addWrite(i+1) - 1
		case w == "clone" && ts.kind == KindClone:
			i = addRead(i+1) - 1
		case (w == "rename" && (t.is(i+1, "to") || t.is(i+1, "as"))) || (w == "swap" && t.is(i+1, "with")):
			// ALTER TABLE a RENAME TO b / SWAP WITH b.
			var from Table
			for k := 0; k < i; k++ {
				if t.isAny(k, "table", "view") {
					from, _, _ = readName(k + 1 + skipIfExists(t, k+1))
					break
				}
			}
			to, _, ok := readName(i + 2)
			if ok && !from.IsZero() {
				ts.renames = append(ts.renames, Rename{From: from, To: to})
				if w == "swap" {
					ts.renames = append(ts.renames, Rename{From: to, To: from})
				}
				ts.writes = append(ts.writes, from, to)
			}
		case clauseEnd[w]:
			inFrom[depth] = false
		}
	}
	ts.writes = sortTables(ts.writes)
	ts.reads = sortTables(ts.reads)
	return ts
}

func skipIfExists(t *tokens, i int) int {
	if t.is(i, "if") && t.is(i+1, "exists") {
		return 2
	}
	return 0
}

func firstWord(t *tokens) int {
	i := 0
	for t.punct(i, '(') {
		i++
	}
	return i
}

// isFromInFunction reports whether the FROM at i belongs to a function's
// argument syntax: EXTRACT(part FROM x), TRIM(LEADING x FROM y),
// SUBSTRING(x FROM 1), POSITION(a IN b) and the like.
func isFromInFunction(t *tokens, i int) bool {
	// Walk back to the enclosing '(' at the same level.
	depth := 0
	for j := i - 1; j >= 0 && j >= i-8; j-- {
		if t.punct(j, ')') {
			depth++
			continue
		}
		if t.punct(j, '(') {
			if depth == 0 {
				return t.isAny(j-1, "extract", "trim", "substring", "substr", "overlay", "position", "date_part", "datepart")
			}
			depth--
			continue
		}
		if t.isAny(j, "select", "from", "where", "join") {
			return false
		}
	}
	return false
}

// sortTables sorts and removes duplicates and zero tables.
func sortTables(ts []Table) []Table {
	out := make([]Table, 0, len(ts))
	for _, t := range ts {
		if !t.IsZero() {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].less(out[j]) })
	k := 0
	for i := range out {
		if i > 0 && out[i] == out[k-1] {
			continue
		}
		out[k] = out[i]
		k++
	}
	return out[:k]
}
