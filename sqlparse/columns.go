package sqlparse

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"github.com/pganalyze/pg_query_go/v5/parser"

	"github.com/weftdata/weft/graph"
)

// analyzeColumns runs the column layers on one statement and falls back to
// the table-level scan when they cannot.
func analyzeColumns(in Input, toks *tokens, scan tableScan, schema Schema) Result {
	switch scan.kind {
	case KindCopy, KindRename, KindSwap, KindDrop:
		// Table-level is all these statements have: COPY INTO moves files
		// from a stage, RENAME/SWAP change identities.
		res := tableOnly(in, scan)
		if res.Status != StatusFailed {
			res.Status = StatusFull
		}
		return res
	case KindInsertAll:
		return insertAll(in, toks, scan, schema)
	}
	if operatorDepth(toks) > maxOperatorDepth {
		res := tableOnly(in, scan)
		res.Diagnostics = append(res.Diagnostics, Diagnostic{Severity: SeverityError,
			Message: fmt.Sprintf("expression nests more than %d operators (table-level lineage only)", maxOperatorDepth)})
		return res
	}
	rw := rewrite(in.SQL, toks.toks, in.Dialect)
	tree, err := pg.Parse(rw.text)
	if err != nil {
		res := tableOnly(in, scan)
		res.Diagnostics = append(res.Diagnostics, parseDiag(in, rw, err))
		return res
	}
	a := &analyzer{in: in, rw: rw, schema: schema, reads: map[Table]bool{}, quoted: quotedNames(rw.text)}
	a.otoks = toks
	res := Result{Kind: scan.kind, Status: StatusFull}
	for _, raw := range tree.Stmts {
		a.statement(raw.Stmt, &res)
	}
	for t := range a.reads {
		res.Reads = append(res.Reads, t)
	}
	// A table the statement writes is not also a read unless it is.
	for k, n := range rw.notes {
		switch n.kind {
		case notePivot:
			if !a.pivotUsed[k] {
				a.diag(-1, SeverityWarning, "%s: output columns approximated by the source columns", strings.ToUpper(n.detail[0]))
				a.partial = true
			}
		case noteStarReplace:
			a.diag(-1, SeverityInfo, "* %s: replaced columns keep their source lineage", strings.ToUpper(n.detail[0]))
		}
	}
	if scan.kind == KindSelect && len(tree.Stmts) > 1 {
		a.partial = true
	}
	res.Indirect = append(res.Indirect, a.indirect...)
	res.Diagnostics = append(res.Diagnostics, a.diags...)
	if a.partial && res.Status == StatusFull {
		res.Status = StatusPartial
	}
	if len(res.Reads) == 0 && len(res.Writes) == 0 && (len(scan.reads) > 0 || len(scan.writes) > 0) {
		// The parse lost tables the lexer saw (a construct the rewrite
		// blanked): keep the lexer's answer.
		res.Reads, res.Writes = scan.reads, scan.writes
	}
	return res
}

// maxOperatorDepth bounds how deeply a statement's operators may nest
// before pg_query sees it. Each operator of a chain (a + b + c ...) is a
// level of recursion in pg_query's C code, which overflows the thread's
// stack near 25,000 levels: a crash of the whole process, not an error.
// Past about 5,000 the parse tree is already too deep for the protobuf
// decoder, so the bound costs no column lineage.
const maxOperatorDepth = 10000

// operatorDepth estimates, from the tokens, the deepest nesting of
// operators: operators chain within one level of brackets until a comma,
// a semicolon or a keyword that pg_query flattens or that starts a new
// expression, and a bracket's depth adds to the chain around it.
func operatorDepth(t *tokens) int {
	type level struct{ base, n, peak int }
	levels := []level{{}}
	deepest := 0
	for i, tk := range t.toks {
		top := &levels[len(levels)-1]
		switch {
		case t.punct(i, '(') || t.punct(i, '['):
			levels = append(levels, level{base: top.n, n: top.n, peak: top.n})
		case t.punct(i, ')') || t.punct(i, ']'):
			if len(levels) > 1 {
				peak := top.peak
				levels = levels[:len(levels)-1]
				top = &levels[len(levels)-1]
				top.n = max(top.n, peak)
				top.peak = max(top.peak, top.n)
			}
		case t.punct(i, ',') || t.punct(i, ';') ||
			t.isAny(i, "and", "or", "when", "then", "else", "select", "from", "where", "on", "values", "set"):
			top.n = top.base
		case tk.kind == tOp:
			top.n++
			top.peak = max(top.peak, top.n)
			deepest = max(deepest, top.n)
		}
	}
	return deepest
}

func parseDiag(in Input, rw *rewritten, err error) Diagnostic {
	var pe *parser.Error
	line, col := 0, 0
	msg := err.Error()
	if errors.As(err, &pe) && pe.Cursorpos > 0 {
		o := rw.origPos(pe.Cursorpos - 1)
		line, col = lineCol(in.SQL, o)
		msg = pe.Message
	}
	return Diagnostic{Line: line, Col: col, Severity: SeverityError, Message: msg + " (table-level lineage only)"}
}

// quotedNames collects the spellings of double-quoted identifiers.
func quotedNames(s string) map[string]bool {
	m := map[string]bool{}
	for _, tk := range lex(s, lexOpts{}) {
		if tk.kind == tQuoted {
			m[unquote(s[tk.start:tk.end], '"')] = true
		}
	}
	return m
}

// emit adds the lineage of q's outputs into target, named by names
// (positionally) when given.
func (a *analyzer) emit(res *Result, target Table, names []string, q *queryOut) {
	seen := map[string]bool{}
	for i, c := range q.cols {
		name := c.name
		if i < len(names) && !c.star {
			name = names[i]
		}
		if !c.star && i >= len(names) && a.bindAlias(name) {
			continue
		}
		if !c.star {
			res.OutputColumns = append(res.OutputColumns, name)
			// A name the output already has (SELECT * over a join of
			// tables sharing a column): a reference by name finds the
			// first, so the first keeps the lineage.
			if seen[strings.ToLower(name)] {
				continue
			}
			seen[strings.ToLower(name)] = true
		}
		res.Columns = append(res.Columns, ColumnLineage{Target: target, Column: name, Sources: append([]Source{}, c.deps...)})
	}
	res.Indirect = append(res.Indirect, q.indirect...)
}

// bindAlias reports whether an output column is named by a bind variable
// (AS :name): its real name is only known at run time, so the column is
// left out, with a warning, rather than recorded under a made-up name.
func (a *analyzer) bindAlias(name string) bool {
	for _, n := range a.rw.notes {
		if n.kind == noteBindAlias && n.detail[0] == name {
			line, col := lineCol(a.in.SQL, n.pos)
			a.diags = append(a.diags, Diagnostic{Line: line, Col: col, Severity: SeverityWarning,
				Message: fmt.Sprintf("output column named by bind variable %s: its name is only known at run time", name)})
			a.partial = true
			return true
		}
	}
	return false
}

func (a *analyzer) statement(n *pg.Node, res *Result) {
	if n == nil {
		return
	}
	switch v := n.Node.(type) {
	case *pg.Node_SelectStmt:
		q := a.selectStmt(v.SelectStmt, nil)
		a.emit(res, Table{}, nil, q)
	case *pg.Node_CreateTableAsStmt:
		ct := v.CreateTableAsStmt
		if ct.Into == nil || ct.Into.Rel == nil {
			return
		}
		t := a.tableOf(ct.Into.Rel)
		res.Writes = append(res.Writes, t)
		if ct.Objtype == pg.ObjectType_OBJECT_MATVIEW && res.Kind == KindCreateTableAs {
			res.Kind = KindCreateView
		}
		q := a.selectStmt(ct.Query.GetSelectStmt(), nil)
		a.emit(res, t, a.names(ct.Into.ColNames), q)
	case *pg.Node_ViewStmt:
		vs := v.ViewStmt
		t := a.tableOf(vs.View)
		res.Writes = append(res.Writes, t)
		q := a.selectStmt(vs.Query.GetSelectStmt(), nil)
		a.emit(res, t, a.names(vs.Aliases), q)
	case *pg.Node_InsertStmt:
		a.insert(v.InsertStmt, res)
	case *pg.Node_UpdateStmt:
		a.update(v.UpdateStmt, res)
	case *pg.Node_MergeStmt:
		a.merge(v.MergeStmt, res)
	case *pg.Node_DeleteStmt:
		ds := v.DeleteStmt
		a.withClause(ds.WithClause, nil)
		defer func() { a.ctes = a.ctes[:len(a.ctes)-1] }()
		t := a.tableOf(ds.Relation)
		res.Writes = append(res.Writes, t)
		sc := &scope{using: map[string]bool{}}
		sc.rels = append(sc.rels, a.targetRelation(ds.Relation, t))
		q := &queryOut{}
		for _, u := range ds.UsingClause {
			a.fromItem(u, sc, q)
		}
		a.expr(ds.WhereClause, &exprCtx{sc: sc, indirect: graph.SubtypeFilter})
	case *pg.Node_CreateStmt:
		cs := v.CreateStmt
		t := a.tableOf(cs.Relation)
		res.Writes = append(res.Writes, t)
		for _, e := range cs.TableElts {
			if cd := e.GetColumnDef(); cd != nil {
				res.OutputColumns = append(res.OutputColumns, a.name(cd.Colname))
			}
		}
		res.Kind = KindCreateTable
	default:
		// Statements with no lineage that the classifier did not skip
		// (CREATE SCHEMA, GRANT variants, ...).
	}
}

func (a *analyzer) names(ns []*pg.Node) []string {
	var out []string
	for _, n := range ns {
		if s := n.GetString_(); s != nil {
			out = append(out, a.name(s.Sval))
		} else if rt := n.GetResTarget(); rt != nil {
			out = append(out, a.name(rt.Name))
		}
	}
	return out
}

// targetRelation is the written table as a relation, without counting it
// as a read.
func (a *analyzer) targetRelation(rv *pg.RangeVar, t Table) *relation {
	alias := rv.Relname
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
	}
	had := a.reads[t]
	r := a.baseRelation(t, a.name(alias))
	if !had {
		delete(a.reads, t)
	}
	return r
}

// targetColumns returns the written table's columns from the schema.
func (a *analyzer) targetColumns(t Table) []string {
	if a.schema == nil {
		return nil
	}
	cols, _ := a.schema.Columns(t)
	return cols
}

// targetOrderKnown reports whether the schema knows t's column order (or
// does not know t at all, when there is nothing to map against).
func (a *analyzer) targetOrderKnown(t Table) bool {
	co, ok := a.schema.(ColumnOrder)
	if !ok {
		return true
	}
	if _, known := a.schema.Columns(t); !known {
		return true
	}
	return co.OrderKnown(t)
}

// matchByName maps q's outputs to t's columns by name, for an INSERT
// without a column list into a table whose column order the schema does
// not know (see ColumnOrder). Outputs t has no column of that name for are
// left out, with a warning naming them; an unexpanded star stays.
func (a *analyzer) matchByName(t Table, q *queryOut, loc int32) (*queryOut, []string) {
	target := a.targetColumns(t)
	out := &queryOut{indirect: q.indirect, missing: q.missing}
	var names, unmatched []string
	for _, c := range q.cols {
		if c.star {
			out.cols = append(out.cols, c)
			names = append(names, c.name)
			continue
		}
		i := slices.IndexFunc(target, func(tc string) bool { return strings.EqualFold(tc, c.name) })
		if i < 0 {
			unmatched = append(unmatched, c.name)
			continue
		}
		out.cols = append(out.cols, c)
		names = append(names, target[i])
	}
	if len(unmatched) > 0 {
		a.diag(loc, SeverityWarning, "INSERT without a column list maps by position, and the schema does not give the column order of %s: outputs matched to its columns by name; %s matched none",
			t, strings.Join(unmatched, ", "))
		a.partial = true
	}
	return out, names
}

func (a *analyzer) insert(is *pg.InsertStmt, res *Result) {
	a.withClause(is.WithClause, nil)
	defer func() { a.ctes = a.ctes[:len(a.ctes)-1] }()
	t := a.tableOf(is.Relation)
	res.Writes = append(res.Writes, t)
	sel := is.SelectStmt.GetSelectStmt()
	if sel == nil {
		return // INSERT ... DEFAULT VALUES
	}
	q := a.selectStmt(sel, nil)
	names := a.names(is.Cols)
	if len(names) == 0 && !a.targetOrderKnown(t) {
		q, names = a.matchByName(t, q, is.Relation.GetLocation())
	} else if len(names) == 0 {
		names = a.targetColumns(t)
		var static map[string]bool
		for _, n := range a.rw.notes {
			if n.kind == noteStaticPart {
				static = map[string]bool{}
				for _, d := range n.detail {
					static[strings.ToLower(d)] = true
				}
			}
		}
		if static != nil && len(names) > 0 {
			var keep []string
			for _, nm := range names {
				if !static[strings.ToLower(nm)] {
					keep = append(keep, nm)
				}
			}
			names = keep
		}
	}
	a.emit(res, t, names, q)
}

func (a *analyzer) update(us *pg.UpdateStmt, res *Result) {
	a.withClause(us.WithClause, nil)
	defer func() { a.ctes = a.ctes[:len(a.ctes)-1] }()
	t := a.tableOf(us.Relation)
	res.Writes = append(res.Writes, t)
	sc := &scope{using: map[string]bool{}}
	sc.rels = append(sc.rels, a.targetRelation(us.Relation, t))
	q := &queryOut{}
	for _, f := range us.FromClause {
		a.fromItem(f, sc, q)
	}
	a.assignments(res, t, us.TargetList, sc)
	q.indirect = append(q.indirect, a.expr(us.WhereClause, &exprCtx{sc: sc, indirect: graph.SubtypeFilter})...)
	res.Indirect = append(res.Indirect, q.indirect...)
}

// assignments maps SET col = expr pairs.
func (a *analyzer) assignments(res *Result, t Table, tl []*pg.Node, sc *scope) {
	for _, n := range tl {
		rt := n.GetResTarget()
		if rt == nil {
			continue
		}
		deps := a.expr(rt.Val, &exprCtx{sc: sc})
		name := a.name(rt.Name)
		// SET t.col = ...: pg_query reads t as the column and col as a
		// field; the last field is the column.
		for _, ind := range rt.Indirection {
			if s := ind.GetString_(); s != nil {
				name = a.name(s.Sval)
			}
		}
		res.OutputColumns = append(res.OutputColumns, name)
		res.Columns = append(res.Columns, ColumnLineage{Target: t, Column: name, Sources: deps})
	}
}

func (a *analyzer) merge(ms *pg.MergeStmt, res *Result) {
	a.withClause(ms.WithClause, nil)
	defer func() { a.ctes = a.ctes[:len(a.ctes)-1] }()
	t := a.tableOf(ms.Relation)
	res.Writes = append(res.Writes, t)
	sc := &scope{using: map[string]bool{}}
	target := a.targetRelation(ms.Relation, t)
	sc.rels = append(sc.rels, target)
	q := &queryOut{}
	a.fromItem(ms.SourceRelation, sc, q)
	var src *relation
	if len(sc.rels) > 1 {
		src = sc.rels[len(sc.rels)-1]
	}
	q.indirect = append(q.indirect, a.expr(ms.JoinCondition, &exprCtx{sc: sc, indirect: graph.SubtypeJoin})...)
	updStar, insStar := false, false
	for _, n := range a.rw.notes {
		updStar = updStar || n.kind == noteMergeUpdStar
		insStar = insStar || n.kind == noteMergeInsStar
	}
	for _, w := range ms.MergeWhenClauses {
		mw := w.GetMergeWhenClause()
		if mw == nil {
			continue
		}
		q.indirect = append(q.indirect, a.expr(mw.Condition, &exprCtx{sc: sc, indirect: graph.SubtypeFilter})...)
		switch mw.CommandType {
		case pg.CmdType_CMD_UPDATE:
			a.assignments(res, t, mw.TargetList, sc)
		case pg.CmdType_CMD_INSERT:
			if len(mw.Values) == 0 && insStar {
				a.byName(res, t, target, src)
				continue
			}
			names := a.names(mw.TargetList)
			if len(names) == 0 {
				names = a.targetColumns(t)
			}
			for i, v := range mw.Values {
				if i >= len(names) {
					a.diag(-1, SeverityWarning, "MERGE INSERT has more values than known target columns")
					a.partial = true
					break
				}
				deps := a.expr(v, &exprCtx{sc: sc})
				res.OutputColumns = append(res.OutputColumns, names[i])
				res.Columns = append(res.Columns, ColumnLineage{Target: t, Column: names[i], Sources: deps})
			}
		case pg.CmdType_CMD_NOTHING:
			if updStar {
				a.byName(res, t, target, src)
			}
		}
	}
	res.Indirect = append(res.Indirect, q.indirect...)
	res.OutputColumns = dedupe(res.OutputColumns)
}

// byName maps UPDATE SET * / INSERT *: every source column into the
// target column of the same name.
func (a *analyzer) byName(res *Result, t Table, target, src *relation) {
	if src == nil {
		return
	}
	var names []string
	switch {
	case src.knows():
		for _, c := range src.out.cols {
			names = append(names, c.name)
		}
	case target.knows():
		for _, c := range target.out.cols {
			names = append(names, c.name)
		}
	default:
		a.diag(-1, SeverityInfo, "MERGE with * needs the schema of %s or %s", t, src.alias)
		a.partial = true
		res.Columns = append(res.Columns, ColumnLineage{Target: t, Column: "*", Sources: starSources(src)})
		return
	}
	for _, n := range names {
		deps, _ := a.column(src, n)
		res.OutputColumns = append(res.OutputColumns, n)
		res.Columns = append(res.Columns, ColumnLineage{Target: t, Column: n, Sources: deps})
	}
}

func starSources(r *relation) []Source {
	if r.base {
		return []Source{{Table: r.table, Column: "*", Type: graph.Direct, Subtype: graph.SubtypeIdentity}}
	}
	return nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// exprName names an unaliased output the way the dialect would: a column
// keeps its name; PostgreSQL names other expressions after the function
// ("sum", "?column?"); the other dialects use the expression text. A cast
// of a column keeps the column's name in PostgreSQL and Spark (Spark's
// analyzer aliases Cast(attribute) to the attribute), while Snowflake
// names it by its text like any expression (SELECT id::varchar gives a
// column "ID::VARCHAR").
func (a *analyzer) exprName(rt *pg.ResTarget) string {
	columnish := isColumnish(rt.Val)
	if a.in.Dialect == Snowflake {
		columnish = rt.Val.GetColumnRef() != nil
	}
	if n := figureColname(rt.Val); n != "" && (a.in.Dialect == Postgres || columnish) {
		return a.name(n)
	}
	if a.in.Dialect == Postgres {
		return "?column?"
	}
	return fold(a.exprText(rt.Location), false, a.in.Dialect)
}

func isColumnish(n *pg.Node) bool {
	switch {
	case n.GetColumnRef() != nil:
		return true
	case n.GetTypeCast() != nil:
		return isColumnish(n.GetTypeCast().Arg)
	}
	return false
}

func figureColname(n *pg.Node) string {
	switch v := n.Node.(type) {
	case *pg.Node_ColumnRef:
		f := v.ColumnRef.Fields
		if len(f) > 0 {
			if s := f[len(f)-1].GetString_(); s != nil {
				return s.Sval
			}
		}
	case *pg.Node_TypeCast:
		return figureColname(v.TypeCast.Arg)
	case *pg.Node_AIndirection:
		ind := v.AIndirection.Indirection
		for i := len(ind) - 1; i >= 0; i-- {
			if s := ind[i].GetString_(); s != nil {
				return s.Sval
			}
		}
		return figureColname(v.AIndirection.Arg)
	case *pg.Node_FuncCall:
		return funcName(v.FuncCall)
	case *pg.Node_CaseExpr:
		return "case"
	case *pg.Node_CoalesceExpr:
		return "coalesce"
	}
	return ""
}

// exprText returns the original text of the select item starting at the
// rewritten offset loc, whitespace collapsed.
func (a *analyzer) exprText(loc int32) string {
	o := a.rw.origPos(int(loc))
	t := a.otoks
	i := sort.Search(len(t.toks), func(i int) bool { return t.toks[i].start >= o })
	if i >= len(t.toks) {
		return "?column?"
	}
	depth := 0
	j := i
	for ; j < len(t.toks); j++ {
		if t.punct(j, '(') || t.punct(j, '[') {
			depth++
		} else if t.punct(j, ')') || t.punct(j, ']') {
			depth--
			if depth < 0 {
				break
			}
		} else if depth == 0 && (t.punct(j, ',') || t.isAny(j, "from", "into", "where", "as", "union", "group", "order", "limit", "having", "qualify")) {
			break
		}
	}
	if j == i {
		return "?column?"
	}
	return strings.Join(strings.Fields(a.in.SQL[t.toks[i].start:t.toks[j-1].end]), " ")
}
