package sqlparse

import (
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/weftdata/weft/graph"
)

// pivotItemStart returns the original offset where the FROM item that a
// PIVOT/UNPIVOT at token i applies to starts: the '(' of a subquery or
// the first part of a table name.
func pivotItemStart(t *tokens, i int) int {
	j := i - 1
	if t.punct(j, ')') {
		depth := 0
		for ; j >= 0; j-- {
			if t.punct(j, ')') {
				depth++
			} else if t.punct(j, '(') {
				depth--
				if depth == 0 {
					return t.toks[j].start
				}
			}
		}
		return -1
	}
	// [AS] alias before PIVOT: FROM t AS x PIVOT (...).
	if t.isName(j) && (t.is(j-1, "as") || t.isName(j-1) && !t.isAny(j-1, "from", "join", "lateral")) {
		j--
		if t.is(j, "as") {
			j--
		}
	}
	for t.punct(j-1, '.') && t.isName(j-2) {
		j -= 2
	}
	if !t.isName(j) {
		return -1
	}
	return t.toks[j].start
}

// pivotFor returns the unused PIVOT/UNPIVOT note of the FROM item whose
// original text starts at item (exact) or whose first inner location is
// loc (a subquery).
func (a *analyzer) pivotFor(loc int, exact bool) *note {
	for k := range a.rw.notes {
		n := &a.rw.notes[k]
		if n.kind != notePivot || n.item < 0 || a.pivotUsed[k] {
			continue
		}
		if exact && n.item == loc || !exact && n.item < loc && loc < n.pos && a.onlyOpens(n.item, loc) {
			if a.pivotUsed == nil {
				a.pivotUsed = map[int]bool{}
			}
			a.pivotUsed[k] = true
			return n
		}
	}
	return nil
}

// onlyOpens reports whether the original text between from and to holds
// only '(' and the words that start a SELECT list.
func (a *analyzer) onlyOpens(from, to int) bool {
	t := a.otoks
	for i := sort.Search(len(t.toks), func(i int) bool { return t.toks[i].start >= from }); i < len(t.toks) && t.toks[i].start < to; i++ {
		if !t.punct(i, '(') && !t.isAny(i, "select", "distinct", "all") {
			return false
		}
	}
	return true
}

// firstLoc returns the location of a query's first select item, or -1.
func firstLoc(sel *pg.SelectStmt) int {
	for sel != nil && sel.Op != pg.SetOperation_SETOP_NONE {
		sel = sel.Larg
	}
	if sel == nil || len(sel.TargetList) == 0 {
		return -1
	}
	if rt := sel.TargetList[0].GetResTarget(); rt != nil {
		return int(rt.Location)
	}
	return -1
}

// pivotRel applies a PIVOT or UNPIVOT clause (read from the original
// tokens) to the relation src and returns the pivoted relation.
func (a *analyzer) pivotRel(src *relation, n *note) *relation {
	t := a.otoks
	i := sort.Search(len(t.toks), func(i int) bool { return t.toks[i].start >= n.pos })
	kind := strings.ToLower(t.text(i))
	j := i + 1
	for j < len(t.toks) && !t.punct(j, '(') {
		j++
	}
	if j >= len(t.toks) {
		return nil
	}
	end := t.matchParen(j)
	forAt := -1
	for k := j + 1; k < end; k++ {
		if t.punct(k, '(') {
			k = t.matchParen(k)
			continue
		}
		if t.is(k, "for") {
			forAt = k
			break
		}
	}
	if forAt < 0 || !t.is(forAt+2, "in") && !t.punct(forAt+2, '.') {
		return nil
	}
	forCols, k := t.qualifiedName(forAt+1, a.in.Dialect)
	if len(forCols) == 0 || !t.is(k, "in") || !t.punct(k+1, '(') {
		return nil
	}
	inEnd := t.matchParen(k + 1)
	forCol := forCols[len(forCols)-1]
	items := splitTop(t, k+2, inEnd)
	colDeps := func(name string) []Source {
		d, _ := a.column(src, name)
		return d
	}
	out := &queryOut{}
	if src.out != nil {
		out.indirect = src.out.indirect
	}
	drop := map[string]bool{}
	var added []outCol
	if kind == "unpivot" {
		// UNPIVOT (value FOR name IN (c1, c2, ...)).
		valCols, _ := t.qualifiedName(j+1, a.in.Dialect)
		if len(valCols) != 1 {
			return nil
		}
		var vdeps []Source
		for _, it := range items {
			if s, ok := t.identAt(it[0], a.in.Dialect); ok {
				drop[strings.ToLower(s)] = true
				vdeps = append(vdeps, colDeps(s)...)
			}
		}
		added = []outCol{{name: forCol}, {name: valCols[0], deps: vdeps}}
	} else {
		// PIVOT (agg(x) [AS a], ... FOR col IN (v [AS alias], ...)).
		aggs := splitTop(t, j+1, forAt)
		type agg struct {
			alias string
			deps  []Source
		}
		var as []agg
		for _, g := range aggs {
			var ag agg
			for m := g[0]; m <= g[1]; m++ {
				if t.is(m, "as") && m+1 <= g[1] {
					ag.alias, _ = t.identAt(m+1, a.in.Dialect)
					break
				}
				if t.isName(m) && !t.punct(m+1, '(') && !t.punct(m+1, '.') && !t.isAny(m, "distinct", "as") {
					s, _ := t.identAt(m, a.in.Dialect)
					drop[strings.ToLower(s)] = true
					for _, d := range colDeps(s) {
						if d.Type == graph.Direct {
							d.Subtype = graph.SubtypeAggregation
						}
						ag.deps = append(ag.deps, d)
					}
				}
			}
			as = append(as, ag)
		}
		cond := retype(colDeps(forCol), graph.SubtypeConditional)
		if t.isAny(k+2, "any", "select") {
			// Dynamic pivot: the values are known only at run time.
			a.diag(-1, SeverityInfo, "PIVOT over ANY or a subquery: value columns are not known")
			a.partial = true
		}
		for _, it := range items {
			if t.isAny(k+2, "any", "select") {
				break
			}
			name := ""
			for m := it[0]; m <= it[1]; m++ {
				if t.is(m, "as") && m+1 <= it[1] {
					name, _ = t.identAt(m+1, a.in.Dialect)
				}
			}
			if name == "" {
				name = a.in.SQL[t.toks[it[0]].start:t.toks[it[1]].end]
				if a.in.Dialect != Snowflake {
					name = strings.Trim(name, `'"`)
				}
			}
			for _, ag := range as {
				nm := name
				if len(as) > 1 && ag.alias != "" {
					nm = name + "_" + ag.alias
				}
				added = append(added, outCol{name: nm, deps: append(append([]Source{}, ag.deps...), cond...)})
			}
		}
	}
	drop[strings.ToLower(forCol)] = true
	if src.knows() {
		for _, c := range src.out.cols {
			if !drop[strings.ToLower(c.name)] {
				out.cols = append(out.cols, c)
			}
		}
	} else {
		// The pass-through columns are the source's, unknown here.
		addedNames := map[string]bool{}
		for _, c := range added {
			addedNames[strings.ToLower(c.name)] = true
		}
		out.missing = func(name string) []Source {
			if drop[strings.ToLower(name)] || addedNames[strings.ToLower(name)] {
				return nil
			}
			d, _ := a.column(src, name)
			return d
		}
		out.cols = append(out.cols, outCol{name: "*", star: true, deps: starSources(src)})
		a.diag(-1, SeverityInfo, "%s: the pass-through columns of %s are not known", strings.ToUpper(kind), src.alias)
		a.partial = true
	}
	out.cols = append(out.cols, added...)
	return &relation{alias: src.alias, out: out}
}

// splitTop splits tokens from..to-1 at top-level commas into [first, last]
// index pairs.
func splitTop(t *tokens, from, to int) [][2]int {
	var out [][2]int
	start := from
	for k := from; k < to; k++ {
		if t.punct(k, '(') || t.punct(k, '[') {
			k = t.matchParen(k)
			continue
		}
		if t.punct(k, ',') {
			if k > start {
				out = append(out, [2]int{start, k - 1})
			}
			start = k + 1
		}
	}
	if to > start {
		out = append(out, [2]int{start, to - 1})
	}
	return out
}

func (a *analyzer) noteIndex(n *note) int {
	for k := range a.rw.notes {
		if &a.rw.notes[k] == n {
			return k
		}
	}
	return -1
}
