package sqlparse

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/weftdata/weft/graph"
)

// withClause registers CTEs in a new CTE frame; the caller pops it.
func (a *analyzer) withClause(w *pg.WithClause, sc *scope) {
	frame := map[string]*queryOut{}
	a.ctes = append(a.ctes, frame)
	if w == nil {
		return
	}
	for _, n := range w.Ctes {
		cte := n.GetCommonTableExpr()
		if cte == nil {
			continue
		}
		name := strings.ToLower(a.name(cte.Ctename))
		sel := cte.Ctequery.GetSelectStmt()
		if sel == nil {
			continue
		}
		if w.Recursive && sel.Op != pg.SetOperation_SETOP_NONE && sel.Larg != nil {
			// The base branch defines the names the recursive branch sees.
			base := a.selectStmt(sel.Larg, sc)
			frame[name] = renameCols(base, cte.Aliascolnames, a)
		}
		q := a.selectStmt(sel, sc)
		frame[name] = renameCols(q, cte.Aliascolnames, a)
	}
}

// renameCols applies an alias column list (t(a, b), cte(a, b)) by position.
func renameCols(q *queryOut, names []*pg.Node, a *analyzer) *queryOut {
	if len(names) == 0 {
		return q
	}
	out := &queryOut{indirect: q.indirect, missing: q.missing}
	for i, c := range q.cols {
		if i < len(names) && !c.star {
			if s := names[i].GetString_(); s != nil {
				c.name = a.name(s.Sval)
			}
		}
		out.cols = append(out.cols, c)
	}
	for i := len(q.cols); i < len(names); i++ {
		if s := names[i].GetString_(); s != nil {
			out.cols = append(out.cols, outCol{name: a.name(s.Sval)})
		}
	}
	return out
}

// selectStmt resolves a query. parent is the enclosing scope for
// correlated references (nil at the top).
func (a *analyzer) selectStmt(sel *pg.SelectStmt, parent *scope) *queryOut {
	if sel == nil {
		return &queryOut{}
	}
	a.withClause(sel.WithClause, parent)
	defer func() { a.ctes = a.ctes[:len(a.ctes)-1] }()
	if sel.Op != pg.SetOperation_SETOP_NONE {
		l := a.selectStmt(sel.Larg, parent)
		r := a.selectStmt(sel.Rarg, parent)
		out := &queryOut{indirect: append(append([]Source{}, l.indirect...), r.indirect...)}
		if len(l.cols) != len(r.cols) && !hasStar(l.cols) && !hasStar(r.cols) {
			// Every engine rejects this; the columns are still matched by
			// position as far as both sides go.
			a.diag(setOpLoc(sel.Rarg), SeverityWarning, "each %s query must have the same number of columns", setOpName(sel.Op))
			a.partial = true
		}
		for i, c := range l.cols {
			nc := outCol{name: c.name, star: c.star, deps: append([]Source{}, c.deps...)}
			if !c.star && i < len(r.cols) {
				nc.deps = append(nc.deps, r.cols[i].deps...)
			}
			out.cols = append(out.cols, nc)
		}
		if l.missing != nil || r.missing != nil {
			out.missing = func(name string) []Source {
				var d []Source
				if l.missing != nil {
					d = append(d, l.missing(name)...)
				}
				if r.missing != nil {
					d = append(d, r.missing(name)...)
				}
				return d
			}
		}
		a.sortAndLimit(sel, &scope{parent: parent}, out)
		return out
	}
	sc := &scope{parent: parent, using: map[string]bool{}}
	out := &queryOut{}
	if len(sel.ValuesLists) > 0 {
		for _, row := range sel.ValuesLists {
			items := row.GetList().GetItems()
			for i, x := range items {
				deps := a.expr(x, &exprCtx{sc: sc, xform: true})
				if i >= len(out.cols) {
					out.cols = append(out.cols, outCol{name: "column" + itoa(i+1)})
				}
				out.cols[i].deps = append(out.cols[i].deps, deps...)
			}
		}
		return out
	}
	for _, f := range sel.FromClause {
		a.fromItem(f, sc, out)
	}
	// Output columns.
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			continue
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && isStar(cr) {
			var qual []string
			for _, f := range cr.Fields {
				if s := f.GetString_(); s != nil {
					qual = append(qual, s.Sval)
				}
			}
			cols := a.expandStar(sc, qual, a.excluded(cr.Location), cr.Location)
			out.cols = append(out.cols, cols...)
			sc.aliases = append(sc.aliases, cols...)
			continue
		}
		deps := a.expr(rt.Val, &exprCtx{sc: sc})
		name := rt.Name
		if name != "" {
			name = a.name(name)
		} else {
			name = a.exprName(rt)
		}
		oc := outCol{name: name, deps: deps}
		out.cols = append(out.cols, oc)
		sc.aliases = append(sc.aliases, oc)
	}
	if hasStar(out.cols) {
		out.missing = func(name string) []Source {
			d, _ := a.resolveName(&scope{rels: sc.rels, using: sc.using}, name, -1)
			return d
		}
	}
	// Dataset-level indirect sources.
	ind := func(n *pg.Node, sub string) {
		out.indirect = append(out.indirect, a.expr(n, &exprCtx{sc: sc, indirect: sub})...)
	}
	ind(sel.WhereClause, graph.SubtypeFilter)
	ind(sel.HavingClause, graph.SubtypeFilter)
	for _, g := range sel.GroupClause {
		if a.isGroupByAll(g) {
			for _, t := range sel.TargetList {
				if rt := t.GetResTarget(); rt != nil && !containsAggregate(rt.Val) {
					ind(rt.Val, graph.SubtypeGroupBy)
				}
			}
			continue
		}
		if d, ok := a.outputRef(g, sc, out); ok {
			out.indirect = append(out.indirect, retype(d, graph.SubtypeGroupBy)...)
			continue
		}
		ind(g, graph.SubtypeGroupBy)
	}
	for _, d := range sel.DistinctClause {
		if d != nil {
			ind(d, graph.SubtypeGroupBy)
		}
	}
	for _, w := range sel.WindowClause {
		if wd := w.GetWindowDef(); wd != nil {
			for _, x := range wd.PartitionClause {
				ind(x, graph.SubtypeWindow)
			}
			for _, x := range wd.OrderClause {
				ind(x, graph.SubtypeWindow)
			}
		}
	}
	a.sortAndLimit(sel, sc, out)
	return out
}

// sortAndLimit adds ORDER BY sources as SORT.
// setOpName is the SQL keyword of a set operation.
func setOpName(op pg.SetOperation) string {
	switch op {
	case pg.SetOperation_SETOP_INTERSECT:
		return "INTERSECT"
	case pg.SetOperation_SETOP_EXCEPT:
		return "EXCEPT"
	}
	return "UNION"
}

// setOpLoc is the position of a set operation branch's first output, or
// -1 (the whole statement) when it has none.
func setOpLoc(sel *pg.SelectStmt) int32 {
	for sel != nil && sel.Op != pg.SetOperation_SETOP_NONE {
		sel = sel.Larg
	}
	if sel != nil && len(sel.TargetList) > 0 {
		if rt := sel.TargetList[0].GetResTarget(); rt != nil {
			return rt.Location
		}
	}
	return -1
}

func (a *analyzer) sortAndLimit(sel *pg.SelectStmt, sc *scope, out *queryOut) {
	for _, s := range sel.SortClause {
		sb := s.GetSortBy()
		if sb == nil {
			continue
		}
		if d, ok := a.outputRef(sb.Node, sc, out); ok {
			out.indirect = append(out.indirect, retype(d, graph.SubtypeSort)...)
			continue
		}
		out.indirect = append(out.indirect, a.expr(sb.Node, &exprCtx{sc: sc, indirect: graph.SubtypeSort})...)
	}
}

// outputRef resolves GROUP BY 1 and references to output aliases that are
// not source columns.
func (a *analyzer) outputRef(n *pg.Node, sc *scope, out *queryOut) ([]Source, bool) {
	if n == nil {
		return nil, false
	}
	if c := n.GetAConst(); c != nil {
		if iv := c.GetIval(); iv != nil {
			i := int(iv.Ival) - 1
			if i >= 0 && i < len(out.cols) {
				return out.cols[i].deps, true
			}
		}
		return nil, true
	}
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) != 1 {
		return nil, false
	}
	s := cr.Fields[0].GetString_()
	if s == nil {
		return nil, false
	}
	name := a.name(s.Sval)
	for _, r := range sc.rels {
		if r.has(name) {
			return nil, false
		}
	}
	for _, c := range out.cols {
		if !c.star && strings.EqualFold(c.name, name) {
			return c.deps, true
		}
	}
	return nil, false
}

func retype(ss []Source, sub string) []Source {
	out := make([]Source, 0, len(ss))
	for _, s := range ss {
		if s.Type == graph.Indirect {
			out = append(out, s)
			continue
		}
		out = append(out, Source{Table: s.Table, Column: s.Column, Type: graph.Indirect, Subtype: sub})
	}
	return out
}

func (a *analyzer) isGroupByAll(g *pg.Node) bool {
	gs := g.GetGroupingSet()
	if gs == nil || gs.Kind != pg.GroupingSetKind_GROUPING_SET_EMPTY {
		return false
	}
	for _, n := range a.rw.notes {
		if n.kind == noteGroupByAll {
			return true
		}
	}
	return false
}

func containsAggregate(n *pg.Node) bool {
	if n == nil {
		return false
	}
	if fc := n.GetFuncCall(); fc != nil && fc.Over == nil && (aggregates[funcName(fc)] || fc.AggStar) {
		return true
	}
	if n.GetSubLink() != nil {
		return false
	}
	for _, c := range children(n) {
		if containsAggregate(c) {
			return true
		}
	}
	return false
}

func isStar(cr *pg.ColumnRef) bool {
	return len(cr.Fields) > 0 && cr.Fields[len(cr.Fields)-1].GetAStar() != nil
}

// excluded returns the EXCLUDE/EXCEPT list the rewrite removed after the
// star at loc.
func (a *analyzer) excluded(loc int32) map[string]bool {
	o := a.rw.origPos(int(loc))
	for _, n := range a.rw.notes {
		if n.kind == noteStarExcept && n.pos >= o && n.pos <= o+200 && !strings.ContainsAny(a.in.SQL[o:n.pos], ",") {
			m := map[string]bool{}
			for _, d := range n.detail {
				m[strings.ToLower(d)] = true
			}
			return m
		}
	}
	return nil
}

// expandStar expands * or t.* into the relations' columns. A relation
// whose columns are unknown gives one star column naming its sources.
func (a *analyzer) expandStar(sc *scope, qual []string, excl map[string]bool, loc int32) []outCol {
	var rels []*relation
	if len(qual) > 0 {
		if r := findRel(sc, qual); r != nil {
			rels = append(rels, r)
		} else {
			a.diag(loc, SeverityWarning, "%s.* names no table in scope", strings.Join(qual, "."))
			a.partial = true
		}
	} else {
		rels = sc.rels
	}
	var out []outCol
	seenUsing := map[string]bool{}
	for _, r := range rels {
		if r.out == nil {
			if r.base {
				out = append(out, outCol{name: "*", star: true, deps: []Source{{Table: r.table, Column: "*", Type: graph.Direct, Subtype: graph.SubtypeIdentity}}})
				if loc >= 0 {
					a.diag(loc, SeverityInfo, "cannot expand * of %s: no schema for it", r.table)
				}
				a.partial = true
			}
			continue
		}
		for _, c := range r.out.cols {
			if excl[strings.ToLower(c.name)] {
				continue
			}
			if len(qual) == 0 && sc.using[strings.ToLower(c.name)] {
				if seenUsing[strings.ToLower(c.name)] {
					continue
				}
				seenUsing[strings.ToLower(c.name)] = true
				d, _ := a.resolveName(&scope{rels: sc.rels, using: sc.using}, c.name, -1)
				out = append(out, outCol{name: c.name, deps: d})
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

// fromItem adds one FROM item's relations to sc; derived relations'
// indirect sources go to out.
func (a *analyzer) fromItem(n *pg.Node, sc *scope, out *queryOut) {
	switch v := n.Node.(type) {
	case *pg.Node_RangeVar:
		rv := v.RangeVar
		alias := rv.Relname
		if rv.Alias != nil {
			alias = rv.Alias.Aliasname
		}
		alias = a.name(alias)
		pn := a.pivotFor(a.rw.origPos(int(rv.Location)), true)
		pivot := func(r *relation) *relation {
			if pn == nil {
				return r
			}
			if p := a.pivotRel(r, pn); p != nil {
				return p
			}
			a.pivotUsed[a.noteIndex(pn)] = false
			return r
		}
		if rv.Schemaname == "" && rv.Catalogname == "" {
			if q := a.lookupCTE(strings.ToLower(a.name(rv.Relname))); q != nil {
				r := pivot(&relation{alias: strings.ToLower(alias), out: q})
				if rv.Alias != nil {
					r.out = renameCols(r.out, rv.Alias.Colnames, a)
				}
				sc.rels = append(sc.rels, r)
				out.indirect = append(out.indirect, q.indirect...)
				return
			}
		}
		r := pivot(a.baseRelation(a.tableOf(rv), alias))
		if rv.Alias != nil && len(rv.Alias.Colnames) > 0 && r.out != nil {
			r.out = renameCols(r.out, rv.Alias.Colnames, a)
		}
		sc.rels = append(sc.rels, r)
	case *pg.Node_RangeSubselect:
		rs := v.RangeSubselect
		var p *scope
		if rs.Lateral {
			p = &scope{parent: sc.parent, rels: append([]*relation{}, sc.rels...), using: sc.using}
		} else {
			p = sc.parent
		}
		q := a.selectStmt(rs.Subquery.GetSelectStmt(), p)
		if rs.Lateral {
			// A LATERAL subquery's filter picks, for each outer row, the
			// rows its outputs come from: the filter columns (correlated
			// ones included) are INDIRECT sources of every output.
			var filt []Source
			for _, s := range q.indirect {
				if s.Subtype == graph.SubtypeFilter {
					filt = append(filt, s)
				}
			}
			if len(filt) > 0 {
				lq := &queryOut{indirect: q.indirect, missing: q.missing}
				for _, c := range q.cols {
					c.deps = append(append([]Source{}, c.deps...), filt...)
					lq.cols = append(lq.cols, c)
				}
				q = lq
			}
		}
		alias := ""
		if rs.Alias != nil {
			alias = a.name(rs.Alias.Aliasname)
		}
		r := &relation{alias: strings.ToLower(alias), out: q}
		if loc := firstLoc(rs.Subquery.GetSelectStmt()); loc >= 0 {
			if pn := a.pivotFor(a.rw.origPos(loc), false); pn != nil {
				if p := a.pivotRel(r, pn); p != nil {
					r = p
				} else {
					a.pivotUsed[a.noteIndex(pn)] = false
				}
			}
		}
		if rs.Alias != nil {
			r.out = renameCols(r.out, rs.Alias.Colnames, a)
		}
		sc.rels = append(sc.rels, r)
		out.indirect = append(out.indirect, q.indirect...)
	case *pg.Node_JoinExpr:
		j := v.JoinExpr
		a.fromItem(j.Larg, sc, out)
		a.fromItem(j.Rarg, sc, out)
		for _, u := range j.UsingClause {
			if s := u.GetString_(); s != nil {
				name := a.name(s.Sval)
				sc.using[strings.ToLower(name)] = true
				for _, r := range sc.rels {
					if r.has(name) || !r.knows() {
						d, _ := a.column(r, name)
						out.indirect = append(out.indirect, retype(d, graph.SubtypeJoin)...)
					}
				}
			}
		}
		if j.Quals != nil {
			out.indirect = append(out.indirect, a.expr(j.Quals, &exprCtx{sc: sc, indirect: graph.SubtypeJoin})...)
		}
		if j.Alias != nil {
			// (a JOIN b) AS t: one relation over both sides.
			q := &queryOut{}
			q.cols = a.expandStar(sc, nil, nil, -1)
			sc.rels = []*relation{{alias: strings.ToLower(a.name(j.Alias.Aliasname)), out: q}}
		}
	case *pg.Node_RangeFunction:
		rf := v.RangeFunction
		// A table function (FLATTEN, explode, UNNEST, SPLIT_TO_TABLE): its
		// outputs derive from the columns in its arguments.
		cs := &scope{parent: sc.parent, rels: sc.rels, using: sc.using}
		var deps []Source
		fname := ""
		for _, f := range rf.Functions {
			items := f.GetList().GetItems()
			if len(items) > 0 {
				if fc := items[0].GetFuncCall(); fc != nil {
					fname = funcName(fc)
				}
				deps = append(deps, a.expr(items[0], &exprCtx{sc: cs, xform: true})...)
			}
		}
		d := make([]Source, 0, len(deps))
		for _, s := range deps {
			if s.Type == graph.Direct {
				s.Subtype = graph.SubtypeTransformation
			}
			d = append(d, s)
		}
		q := &queryOut{missing: func(string) []Source { return d }}
		alias := fname
		if rf.Alias != nil {
			alias = a.name(rf.Alias.Aliasname)
			for _, c := range rf.Alias.Colnames {
				if s := c.GetString_(); s != nil {
					q.cols = append(q.cols, outCol{name: a.name(s.Sval), deps: d})
				}
			}
			if len(q.cols) > 0 {
				q.missing = nil
			}
		}
		if len(q.cols) == 0 && (fname == "flatten" || fname == "split_to_table") {
			for _, c := range []string{"seq", "key", "path", "index", "value", "this"} {
				q.cols = append(q.cols, outCol{name: fold(c, false, a.in.Dialect), deps: d})
			}
			q.missing = nil
		}
		sc.rels = append(sc.rels, &relation{alias: strings.ToLower(alias), out: q})
	default:
		a.diag(-1, SeverityWarning, "unsupported FROM item %T", n.Node)
		a.partial = true
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
