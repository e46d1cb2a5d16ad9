package sqlparse

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/weftdata/weft/graph"
)

// outCol is one output column of a query scope with its base-level
// sources (already composed down to tables).
type outCol struct {
	name string
	deps []Source
	star bool // an unexpanded star: deps name the sources with "*"
}

// queryOut is the result of resolving one query (SELECT, set operation,
// VALUES).
type queryOut struct {
	cols     []outCol
	indirect []Source
	// missing resolves a column the query does not list because a star
	// could not be expanded (no schema). Nil when every column is known.
	missing func(name string) []Source
}

// relation is one FROM item visible in a scope.
type relation struct {
	alias string // matching key, lower case
	table Table  // base table; zero for derived relations
	base  bool
	out   *queryOut // derived: CTE, subquery, function; base: schema columns, or nil when unknown
}

// scope is one SELECT's name space.
type scope struct {
	parent *scope
	rels   []*relation
	using  map[string]bool // USING join columns, lower case
	// aliases are this SELECT's earlier output columns, for lateral column
	// aliases and references from WHERE/GROUP BY/ORDER BY.
	aliases []outCol
	// srcCols are unqualified names this SELECT resolved to source
	// columns, lower case: evidence that a later alias of the same name
	// does not hide them.
	srcCols map[string]bool
}

func (s *scope) markSrc(lname string) {
	if s.srcCols == nil {
		s.srcCols = map[string]bool{}
	}
	s.srcCols[lname] = true
}

// exprCtx says how the expression being walked relates to the output.
type exprCtx struct {
	indirect string // an INDIRECT subtype, or "" for DIRECT
	agg      bool   // inside an aggregate
	xform    bool   // inside a transformation
	lambdas  map[string]bool
	sc       *scope
}

// analyzer holds one statement's state.
type analyzer struct {
	in       Input
	rw       *rewritten
	schema   Schema
	quoted   map[string]bool // quoted identifier spellings in the rewritten text
	ctes     []map[string]*queryOut
	reads    map[Table]bool
	diags    []Diagnostic
	partial  bool
	indirect []Source // statement-level indirect sources from sub-scopes
	otoks    *tokens  // the original text's tokens
	// pivotUsed marks the PIVOT/UNPIVOT notes applied to a FROM item.
	pivotUsed map[int]bool
}

func (a *analyzer) diag(loc int32, sev, format string, args ...any) {
	line, col := 0, 0
	if loc >= 0 {
		line, col = lineCol(a.in.SQL, a.rw.origPos(int(loc)))
	}
	a.diags = append(a.diags, Diagnostic{Line: line, Col: col, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// unresolved records a column reference that no source in scope provides.
func (a *analyzer) unresolved(loc int32, column, format string, args ...any) {
	a.diag(loc, SeverityWarning, format, args...)
	a.diags[len(a.diags)-1].Column = column
	a.partial = true
}

// name recovers the dialect spelling of an identifier pg_query returned.
// pg_query lower-cases unquoted names and keeps quoted ones, so a name
// with upper case letters was quoted; an all-lower-case name was quoted
// only if that exact quoted spelling occurs in the text.
func (a *analyzer) name(s string) string {
	if s == "" {
		return s
	}
	quoted := s != strings.ToLower(s) || a.quoted[s]
	return fold(s, quoted, a.in.Dialect)
}

func (a *analyzer) tableOf(rv *pg.RangeVar) Table {
	var parts []string
	for _, p := range []string{rv.Catalogname, rv.Schemaname, rv.Relname} {
		if p != "" {
			parts = append(parts, a.name(p))
		}
	}
	if len(parts) == 1 && strings.HasPrefix(parts[0], "@") {
		return Table{Name: rv.Relname} // a stage, kept as written
	}
	return tableFromParts(parts, a.in.DefaultDatabase, a.in.DefaultSchema)
}

func (a *analyzer) lookupCTE(name string) *queryOut {
	for i := len(a.ctes) - 1; i >= 0; i-- {
		if q, ok := a.ctes[i][name]; ok {
			return q
		}
	}
	return nil
}

// baseRelation builds a relation for a table, with its columns when the
// schema knows them.
func (a *analyzer) baseRelation(t Table, alias string) *relation {
	a.reads[t] = true
	r := &relation{alias: strings.ToLower(alias), table: t, base: true}
	if a.schema != nil {
		if cols, ok := a.schema.Columns(t); ok && len(cols) > 0 {
			out := &queryOut{}
			for _, c := range cols {
				out.cols = append(out.cols, outCol{name: c, deps: []Source{{Table: t, Column: c, Type: graph.Direct, Subtype: graph.SubtypeIdentity}}})
			}
			r.out = out
		}
	}
	return r
}

// column returns the sources of column name of r.
func (a *analyzer) column(r *relation, name string) ([]Source, bool) {
	if r.out != nil {
		for _, c := range r.out.cols {
			if !c.star && strings.EqualFold(c.name, name) {
				return c.deps, true
			}
		}
		if r.out.missing != nil {
			return r.out.missing(name), true
		}
		if !r.base {
			return nil, false
		}
		return nil, false
	}
	if r.base {
		return []Source{{Table: r.table, Column: name, Type: graph.Direct, Subtype: graph.SubtypeIdentity}}, true
	}
	return nil, false
}

// knows reports whether r's column list is complete.
func (r *relation) knows() bool { return r.out != nil && r.out.missing == nil && !hasStar(r.out.cols) }

func hasStar(cols []outCol) bool {
	for _, c := range cols {
		if c.star {
			return true
		}
	}
	return false
}

func (r *relation) has(name string) bool {
	if r.out == nil {
		return false
	}
	for _, c := range r.out.cols {
		if !c.star && strings.EqualFold(c.name, name) {
			return true
		}
	}
	return false
}

// resolveName resolves an unqualified column in sc or its parents.
func (a *analyzer) resolveName(sc *scope, name string, loc int32) ([]Source, bool) {
	lname := strings.ToLower(name)
	for s := sc; s != nil; s = s.parent {
		var found []*relation
		for _, r := range s.rels {
			if r.has(name) {
				found = append(found, r)
			}
		}
		if s.using[lname] {
			found = found[:0]
			for _, r := range s.rels {
				if r.has(name) || !r.knows() {
					found = append(found, r)
				}
			}
		}
		if len(found) > 1 && s.using[lname] {
			var deps []Source
			for _, r := range found {
				d, _ := a.column(r, name)
				deps = append(deps, d...)
			}
			return deps, true
		}
		if len(found) == 1 {
			s.markSrc(lname)
			return a.column(found[0], name)
		}
		if len(found) > 1 {
			a.diag(loc, SeverityWarning, "column %q is ambiguous", name)
			a.partial = true
			return nil, false
		}
		// Lateral column alias: an earlier output of this SELECT.
		// PostgreSQL has none, and a source column wins over an alias:
		// a name this SELECT already read as a source column stays one.
		// Standard SQL has none either: in ANSI a name is an alias only
		// when every FROM item's columns are known and none has it (the
		// one reading under which the statement runs at all).
		var unknown []*relation
		for _, r := range s.rels {
			if !r.knows() {
				unknown = append(unknown, r)
			}
		}
		if a.in.Dialect != Postgres && !s.srcCols[lname] && (a.in.Dialect != ANSI || len(unknown) == 0) {
			for _, c := range s.aliases {
				if strings.EqualFold(c.name, name) {
					return c.deps, true
				}
			}
		}
		if len(unknown) == 1 {
			if d, ok := a.column(unknown[0], name); ok {
				s.markSrc(lname)
				return d, true
			}
		}
		if len(unknown) == 0 && s.parent == nil && loc >= 0 {
			a.unresolved(loc, name, "cannot resolve column %q", name)
			return nil, false
		}
		if len(unknown) > 1 {
			a.diag(loc, SeverityWarning, "column %q could come from several tables without a known schema", name)
			a.partial = true
			return nil, false
		}
	}
	return nil, false
}

// findRel finds the relation a qualifier names, in sc or its parents.
func findRel(sc *scope, qual []string) *relation {
	q := strings.ToLower(qual[len(qual)-1])
	for s := sc; s != nil; s = s.parent {
		for _, r := range s.rels {
			if r.alias == q {
				if len(qual) == 1 || !r.base || strings.EqualFold(r.table.Schema, qual[len(qual)-2]) {
					return r
				}
			}
		}
		// An aliased table referenced by its own name (FROM tab2 a ...
		// tab2.col), which some engines accept.
		for _, r := range s.rels {
			if r.base && strings.EqualFold(r.table.Name, qual[len(qual)-1]) &&
				(len(qual) == 1 || strings.EqualFold(r.table.Schema, qual[len(qual)-2])) {
				return r
			}
		}
	}
	return nil
}

// columnRef resolves a ColumnRef to base sources.
func (a *analyzer) columnRef(cr *pg.ColumnRef, c *exprCtx) []Source {
	var parts []string
	for _, f := range cr.Fields {
		if s := f.GetString_(); s != nil {
			parts = append(parts, s.Sval)
		} else if f.GetAStar() != nil {
			return a.starDeps(c.sc, parts)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	if len(parts) == 1 && c.lambdas[strings.ToLower(parts[0])] {
		return nil
	}
	if len(parts) >= 2 && c.lambdas[strings.ToLower(parts[0])] {
		return nil
	}
	if strings.HasPrefix(parts[0], "$") {
		return nil // session variable
	}
	// Qualified: the longest qualifier that names a relation wins;
	// otherwise the first part is a column and the rest struct fields.
	for k := len(parts) - 1; k >= 1; k-- {
		if r := findRel(c.sc, parts[:k]); r != nil {
			name := a.name(parts[k])
			if d, ok := a.column(r, name); ok {
				if k < len(parts)-1 {
					return asTransformation(d) // struct field access
				}
				return d
			}
			if r.knows() {
				a.unresolved(cr.Location, name, "column %q not found in %s", name, r.alias)
			}
			if r.base {
				// The reference is explicit: trust it over a stale schema.
				return []Source{{Table: r.table, Column: name, Type: graph.Direct, Subtype: graph.SubtypeIdentity}}
			}
			return nil
		}
	}
	name := a.name(parts[0])
	if d, ok := a.resolveName(c.sc, name, cr.Location); ok {
		if len(parts) > 1 {
			return asTransformation(d) // struct field access
		}
		return d
	}
	return nil
}

func asTransformation(ds []Source) []Source {
	out := make([]Source, len(ds))
	for i, d := range ds {
		if d.Type == graph.Direct && d.Subtype == graph.SubtypeIdentity {
			d.Subtype = graph.SubtypeTransformation
		}
		out[i] = d
	}
	return out
}

// starDeps is a star used inside an expression (COUNT(t.*), ROW(t.*)).
func (a *analyzer) starDeps(sc *scope, qual []string) []Source {
	var deps []Source
	for _, oc := range a.expandStar(sc, qual, nil, -1) {
		deps = append(deps, oc.deps...)
	}
	return deps
}

// compose types a base source as seen through the expression context.
func compose(s Source, c *exprCtx) Source {
	if s.Type == graph.Indirect {
		return s
	}
	if c.indirect != "" {
		return Source{Table: s.Table, Column: s.Column, Type: graph.Indirect, Subtype: c.indirect}
	}
	sub := graph.SubtypeIdentity
	switch {
	case c.agg:
		sub = graph.SubtypeAggregation
	case c.xform:
		sub = graph.SubtypeTransformation
	}
	if rank(s.Subtype) > rank(sub) {
		sub = s.Subtype
	}
	return Source{Table: s.Table, Column: s.Column, Type: graph.Direct, Subtype: sub}
}

func rank(sub string) int {
	switch sub {
	case graph.SubtypeAggregation:
		return 2
	case graph.SubtypeTransformation:
		return 1
	}
	return 0
}

// aggregates are function names that aggregate without OVER.
var aggregates = map[string]bool{
	"sum": true, "count": true, "avg": true, "min": true, "max": true, "array_agg": true, "string_agg": true,
	"listagg": true, "median": true, "stddev": true, "stddev_pop": true, "stddev_samp": true, "variance": true,
	"var_pop": true, "var_samp": true, "bool_and": true, "bool_or": true, "every": true, "any_value": true,
	"approx_count_distinct": true, "approx_distinct": true, "count_if": true, "countif": true, "collect_list": true,
	"collect_set": true, "first": true, "last": true, "first_value": false, "group_concat": true, "hll": true,
	"object_agg": true, "array_union_agg": true, "percentile_cont": true, "percentile_disc": true,
	"percentile": true, "approx_percentile": true, "mode": true, "corr": true, "covar_pop": true,
	"covar_samp": true, "max_by": true, "min_by": true, "arg_max": true, "arg_min": true, "kurtosis": true,
	"skewness": true, "bit_and": true, "bit_or": true, "bit_xor": true, "bitand_agg": true, "bitor_agg": true,
	"booland_agg": true, "boolor_agg": true, "json_agg": true, "jsonb_agg": true, "xmlagg": true,
	"logical_or": true, "logical_and": true, "array_concat_agg": true, "sum_distinct": true, "regr_slope": true,
	"try_sum": true, "try_avg": true, "approx_top_k": true, "hll_accumulate": true, "minhash": true,
}

// datePartFuncs take a date part as their first argument, which pg_query
// sees as a column.
var datePartFuncs = map[string]bool{
	"dateadd": true, "datediff": true, "date_trunc": true, "timestampadd": true, "timestampdiff": true,
	"date_part": true, "datepart": true, "timeadd": true, "timediff": true, "time_slice": false,
	"last_day": false, "date_diff": false, "trunc": false, "extract": true, "timestamp_trunc": false,
	"datetime_trunc": false, "date_add": false, "date_sub": false,
}

// lastArgDatePart are BigQuery-style functions whose last argument is the
// date part.
var lastArgDatePart = map[string]bool{
	"timestamp_trunc": true, "datetime_trunc": true, "date_trunc": true, "date_diff": true,
	"timestamp_diff": true, "datetime_diff": true, "last_day": true, "time_slice": true,
}

var dateParts = map[string]bool{
	"year": true, "years": true, "yy": true, "yyyy": true, "quarter": true, "qtr": true, "month": true, "months": true,
	"mm": true, "mon": true, "week": true, "weeks": true, "wk": true, "day": true, "days": true, "dd": true, "d": true,
	"hour": true, "hours": true, "hh": true, "minute": true, "minutes": true, "mi": true, "second": true,
	"seconds": true, "ss": true, "millisecond": true, "milliseconds": true, "ms": true, "microsecond": true,
	"microseconds": true, "us": true, "nanosecond": true, "nanoseconds": true, "ns": true, "dayofweek": true,
	"dow": true, "dayofyear": true, "doy": true, "epoch": true, "isoweek": true, "isodow": true, "week_iso": true,
	"yearofweek": true, "dayofmonth": true, "weekday": true, "isoyear": true, "date": true, "time": true,
}

// lambdaFuncs take lambdas (x -> expr) among their arguments.
var lambdaFuncs = map[string]bool{
	"transform": true, "filter": true, "aggregate": true, "exists": true, "forall": true, "zip_with": true,
	"map_filter": true, "transform_keys": true, "transform_values": true, "array_sort": true, "reduce": true,
	"map_zip_with": true,
}

func funcName(fc *pg.FuncCall) string {
	if len(fc.Funcname) == 0 {
		return ""
	}
	if s := fc.Funcname[len(fc.Funcname)-1].GetString_(); s != nil {
		return strings.ToLower(s.Sval)
	}
	return ""
}

// isDatePartArg reports whether n is a bare word naming a date part.
func isDatePartArg(n *pg.Node) bool {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) != 1 {
		return n.GetAConst() != nil
	}
	s := cr.Fields[0].GetString_()
	return s != nil && dateParts[strings.ToLower(s.Sval)]
}

// expr walks an expression and returns its base sources typed for c.
func (a *analyzer) expr(n *pg.Node, c *exprCtx) []Source {
	if n == nil {
		return nil
	}
	var out []Source
	add := func(ss []Source, cc *exprCtx) {
		for _, s := range ss {
			out = append(out, compose(s, cc))
		}
	}
	sub := func(f func(cc *exprCtx)) *exprCtx { cc := *c; f(&cc); return &cc }
	xf := sub(func(cc *exprCtx) { cc.xform = true })
	switch v := n.Node.(type) {
	case *pg.Node_ColumnRef:
		add(a.columnRef(v.ColumnRef, c), c)
	case *pg.Node_AConst, *pg.Node_ParamRef, *pg.Node_SqlvalueFunction:
	case *pg.Node_TypeCast:
		out = append(out, a.expr(v.TypeCast.Arg, xf)...)
	case *pg.Node_AIndirection:
		out = append(out, a.expr(v.AIndirection.Arg, xf)...)
		for _, i := range v.AIndirection.Indirection {
			out = append(out, a.expr(i, xf)...)
		}
	case *pg.Node_AIndices:
		out = append(out, a.expr(v.AIndices.Lidx, xf)...)
		out = append(out, a.expr(v.AIndices.Uidx, xf)...)
	case *pg.Node_AExpr:
		e := v.AExpr
		if len(e.Name) == 1 && e.Name[0].GetString_() != nil && e.Name[0].GetString_().Sval == "->" && c.lambdas != nil {
			// A Spark lambda x -> body or (x, y) -> body.
			cc := *xf
			cc.lambdas = map[string]bool{}
			for k := range c.lambdas {
				cc.lambdas[k] = true
			}
			for _, p := range lambdaParams(e.Lexpr) {
				cc.lambdas[p] = true
			}
			out = append(out, a.expr(e.Rexpr, &cc)...)
			break
		}
		out = append(out, a.expr(e.Lexpr, xf)...)
		out = append(out, a.expr(e.Rexpr, xf)...)
	case *pg.Node_BoolExpr:
		for _, x := range v.BoolExpr.Args {
			out = append(out, a.expr(x, xf)...)
		}
	case *pg.Node_NullTest:
		out = append(out, a.expr(v.NullTest.Arg, xf)...)
	case *pg.Node_BooleanTest:
		out = append(out, a.expr(v.BooleanTest.Arg, xf)...)
	case *pg.Node_CoalesceExpr:
		for _, x := range v.CoalesceExpr.Args {
			out = append(out, a.expr(x, xf)...)
		}
	case *pg.Node_MinMaxExpr:
		for _, x := range v.MinMaxExpr.Args {
			out = append(out, a.expr(x, xf)...)
		}
	case *pg.Node_RowExpr:
		for _, x := range v.RowExpr.Args {
			out = append(out, a.expr(x, xf)...)
		}
	case *pg.Node_AArrayExpr:
		for _, x := range v.AArrayExpr.Elements {
			out = append(out, a.expr(x, xf)...)
		}
	case *pg.Node_List:
		for _, x := range v.List.Items {
			out = append(out, a.expr(x, c)...)
		}
	case *pg.Node_CollateClause:
		out = append(out, a.expr(v.CollateClause.Arg, c)...)
	case *pg.Node_NamedArgExpr:
		out = append(out, a.expr(v.NamedArgExpr.Arg, c)...)
	case *pg.Node_CaseExpr:
		ce := v.CaseExpr
		cond := sub(func(cc *exprCtx) { cc.indirect = graph.SubtypeConditional })
		if c.indirect != "" {
			cond = c
		}
		out = append(out, a.expr(ce.Arg, cond)...)
		for _, w := range ce.Args {
			if cw := w.GetCaseWhen(); cw != nil {
				out = append(out, a.expr(cw.Expr, cond)...)
				out = append(out, a.expr(cw.Result, xf)...)
			}
		}
		out = append(out, a.expr(ce.Defresult, xf)...)
	case *pg.Node_FuncCall:
		out = append(out, a.funcCall(v.FuncCall, c, xf)...)
	case *pg.Node_SubLink:
		sl := v.SubLink
		out = append(out, a.expr(sl.Testexpr, xf)...)
		if sel := sl.Subselect.GetSelectStmt(); sel != nil {
			q := a.selectStmt(sel, c.sc)
			for _, oc := range q.cols {
				add(oc.deps, xf)
			}
			a.indirect = append(a.indirect, q.indirect...)
		}
	case *pg.Node_GroupingFunc:
		for _, x := range v.GroupingFunc.Args {
			out = append(out, a.expr(x, xf)...)
		}
	case *pg.Node_ResTarget:
		out = append(out, a.expr(v.ResTarget.Val, c)...)
	case *pg.Node_SortBy:
		out = append(out, a.expr(v.SortBy.Node, c)...)
	case *pg.Node_SetToDefault, *pg.Node_String_, *pg.Node_Integer, *pg.Node_Float, *pg.Node_Boolean:
	default:
		// Rare node kinds: walk their children generically so no column
		// is lost.
		for _, ch := range children(n) {
			out = append(out, a.expr(ch, xf)...)
		}
	}
	return out
}

func lambdaParams(n *pg.Node) []string {
	var ps []string
	switch v := n.Node.(type) {
	case *pg.Node_ColumnRef:
		if len(v.ColumnRef.Fields) == 1 {
			if s := v.ColumnRef.Fields[0].GetString_(); s != nil {
				ps = append(ps, strings.ToLower(s.Sval))
			}
		}
	case *pg.Node_RowExpr:
		for _, x := range v.RowExpr.Args {
			ps = append(ps, lambdaParams(x)...)
		}
	}
	return ps
}

func (a *analyzer) funcCall(fc *pg.FuncCall, c, xf *exprCtx) []Source {
	var out []Source
	name := funcName(fc)
	fctx := xf
	if (aggregates[name] || fc.AggStar || fc.AggWithinGroup || fc.AggDistinct || len(fc.AggOrder) > 0) && c.indirect == "" {
		cc := *xf
		cc.agg = true
		fctx = &cc
	}
	if lambdaFuncs[name] {
		cc := *fctx
		if cc.lambdas == nil {
			cc.lambdas = map[string]bool{}
		}
		fctx = &cc
	}
	args := fc.Args
	if datePartFuncs[name] && len(args) > 1 && isDatePartArg(args[0]) {
		args = args[1:]
	} else if lastArgDatePart[name] && len(args) > 1 && isDatePartArg(args[len(args)-1]) {
		args = args[:len(args)-1]
	}
	condArg := name == "iff" || name == "if" || name == "nvl2" && false
	for i, x := range args {
		if condArg && i == 0 && c.indirect == "" {
			cc := *c
			cc.indirect = graph.SubtypeConditional
			out = append(out, a.expr(x, &cc)...)
			continue
		}
		out = append(out, a.expr(x, fctx)...)
	}
	for _, x := range fc.AggOrder {
		out = append(out, a.expr(x, fctx)...)
	}
	if fc.AggFilter != nil {
		cc := *c
		if cc.indirect == "" {
			cc.indirect = graph.SubtypeConditional
		}
		out = append(out, a.expr(fc.AggFilter, &cc)...)
	}
	if w := fc.Over; w != nil {
		cc := *c
		if cc.indirect == "" {
			cc.indirect = graph.SubtypeWindow
		}
		for _, x := range w.PartitionClause {
			out = append(out, a.expr(x, &cc)...)
		}
		for _, x := range w.OrderClause {
			out = append(out, a.expr(x, &cc)...)
		}
	}
	return out
}

// children lists the direct child nodes of n, by reflection. Only used for
// node kinds the walker has no case for.
func children(n *pg.Node) []*pg.Node {
	var out []*pg.Node
	m := n.ProtoReflect()
	// n is a oneof wrapper: find the set field, then its message fields.
	m.Range(func(fd protoFieldDescriptor, v protoValue) bool {
		if fd.Message() == nil {
			return true
		}
		inner := v.Message()
		inner.Range(func(fd2 protoFieldDescriptor, v2 protoValue) bool {
			collectNodes(fd2, v2, &out)
			return true
		})
		return true
	})
	return out
}
