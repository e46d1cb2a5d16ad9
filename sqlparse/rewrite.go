package sqlparse

import (
	"sort"
	"strings"
)

// edit replaces orig[start:end] with repl.
type edit struct {
	start, end int
	repl       string
}

// note records semantics a rewrite removed, at an original offset, for the
// lineage layer to restore.
type note struct {
	kind   string
	pos    int      // original byte offset the note is about
	end    int      // original end offset, when the note covers a span
	detail []string // e.g. the EXCLUDE column list, already folded
	item   int      // PIVOT/UNPIVOT: original offset of the FROM item it applies to, or -1
}

// Note kinds.
const (
	noteStarExcept   = "star_except"  // detail: excluded columns
	noteStarReplace  = "star_replace" // REPLACE/RENAME after a star: approximated
	noteGroupByAll   = "group_by_all" // GROUP BY ALL: group by every non-aggregate output
	noteQualify      = "qualify"      // QUALIFY became HAVING/AND
	noteMergeUpdStar = "merge_update_star"
	noteMergeInsStar = "merge_insert_star"
	noteInsertOverwr = "insert_overwrite"
	noteStaticPart   = "static_partition" // detail: partition column names
	notePivot        = "pivot"            // PIVOT/UNPIVOT clause removed: output columns approximated
	noteSemiJoin     = "semi_join"        // span of the right-hand table of a SEMI/ANTI join
	noteClone        = "clone"
	noteUnsupported  = "unsupported" // detail[0]: construct name
	noteBindAlias    = "bind_alias"  // AS :name: detail[0] is the alias, quoted in the rewrite
)

// rewritten is a statement after the dialect rewrite.
type rewritten struct {
	orig  string
	text  string
	edits []edit // applied edits, sorted by start, non-overlapping
	notes []note
}

// origPos maps an offset in the rewritten text back to the original.
func (r *rewritten) origPos(p int) int {
	delta := 0
	for _, e := range r.edits {
		ns := e.start + delta
		if p < ns {
			break
		}
		if p < ns+len(e.repl) {
			off := p - ns
			if off > e.end-e.start {
				off = e.end - e.start
			}
			return e.start + off
		}
		delta += len(e.repl) - (e.end - e.start)
	}
	q := p - delta
	if q < 0 {
		q = 0
	}
	if q > len(r.orig) {
		q = len(r.orig)
	}
	return q
}

// rewriter collects edits over the original tokens.
type rewriter struct {
	t     *tokens
	d     Dialect
	edits []edit
	notes []note
	used  map[int]bool // token indexes already consumed by a rule
}

func (w *rewriter) add(start, end int, repl string) {
	w.edits = append(w.edits, edit{start, end, repl})
}

// blank replaces tokens i..j (inclusive) with spaces, keeping length.
func (w *rewriter) blank(i, j int) {
	if i > j || i < 0 || j >= len(w.t.toks) {
		return
	}
	s, e := w.t.toks[i].start, w.t.toks[j].end
	w.add(s, e, strings.Repeat(" ", e-s))
}

// replaceTok replaces token i with repl, padding with spaces when shorter.
func (w *rewriter) replaceTok(i int, repl string) {
	tk := w.t.toks[i]
	if n := tk.end - tk.start; len(repl) < n {
		repl += strings.Repeat(" ", n-len(repl))
	}
	w.add(tk.start, tk.end, repl)
}

// pgReserved are PostgreSQL reserved words that other dialects allow as
// names (CTE names, aliases, cast targets).
var pgReserved = map[string]bool{
	"all": true, "analyse": true, "analyze": true, "and": true, "any": true, "array": true, "as": true,
	"asc": true, "asymmetric": true, "both": true, "case": true, "cast": true, "check": true, "collate": true,
	"column": true, "constraint": true, "create": true, "current_catalog": true, "current_date": true,
	"current_role": true, "current_schema": true, "current_time": true, "current_timestamp": true, "current_user": true,
	"default": true, "deferrable": true, "desc": true, "distinct": true, "do": true, "else": true,
	"end": true, "except": true, "false": true, "fetch": true, "for": true, "foreign": true, "from": true,
	"grant": true, "group": true, "having": true, "in": true, "initially": true, "intersect": true,
	"into": true, "lateral": true, "leading": true, "limit": true, "localtime": true, "localtimestamp": true,
	"not": true, "null": true, "offset": true, "on": true, "only": true, "or": true, "order": true,
	"placing": true, "primary": true, "references": true, "returning": true, "select": true,
	"session_user": true, "some": true, "symmetric": true, "table": true, "then": true, "to": true,
	"trailing": true, "true": true, "union": true, "unique": true, "user": true, "using": true,
	"variadic": true, "when": true, "where": true, "window": true, "with": true,
}

// keywordsBeforeColon are words after which ":name" is a bind variable,
// not a variant path.
var keywordsBeforeColon = map[string]bool{
	"where": true, "and": true, "or": true, "not": true, "then": true, "else": true, "when": true,
	"into": true, "select": true, "set": true, "values": true, "in": true, "is": true, "like": true,
	"by": true, "on": true, "limit": true, "offset": true, "between": true, "case": true, "return": true,
	"as": true, "from": true, "having": true, "using": true, "returning": true, "with": true,
}

// rewrite applies the dialect rules to one statement. It is panic-free by
// construction and guarded anyway: on a panic it returns the text as is.
func rewrite(src string, toks []token, d Dialect) (r *rewritten) {
	r = &rewritten{orig: src, text: src}
	defer func() {
		if recover() != nil {
			r = &rewritten{orig: src, text: src}
		}
	}()
	w := &rewriter{t: &tokens{src: src, toks: toks}, d: d, used: map[int]bool{}}
	w.run()
	// Insertions (empty spans) go before a replacement at the same offset.
	sort.SliceStable(w.edits, func(i, j int) bool {
		a, b := w.edits[i], w.edits[j]
		if a.start != b.start {
			return a.start < b.start
		}
		return a.end-a.start < b.end-b.start
	})
	var b strings.Builder
	b.Grow(len(src) + 64)
	last := 0
	for _, e := range w.edits {
		if e.start < last || e.end < e.start || e.end > len(src) || (e.start == last && e.start == e.end && len(r.edits) > 0 && r.edits[len(r.edits)-1].end == e.start && r.edits[len(r.edits)-1].start == e.start) {
			continue // overlapping edit: the first rule wins
		}
		b.WriteString(src[last:e.start])
		b.WriteString(e.repl)
		r.edits = append(r.edits, e)
		last = e.end
	}
	b.WriteString(src[last:])
	r.text = b.String()
	r.notes = w.notes
	return r
}

func (w *rewriter) run() {
	t := w.t
	n := len(t.toks)
	kind := classify(t)
	if kind == KindCreateTableAs || kind == KindCreateView || kind == KindClone {
		w.createHead()
	}
	// selectHaving[depth] remembers whether the SELECT at this paren depth
	// already has a HAVING, so QUALIFY becomes AND.
	having := map[int]bool{}
	depth := 0
	for i := 0; i < n; i++ {
		tk := t.toks[i]
		txt := t.src[tk.start:tk.end]
		switch tk.kind {
		case tPunct:
			switch txt {
			case ",":
				// A trailing comma before FROM or ')' (Snowflake allows it).
				if t.isAny(i+1, "from") || (t.punct(i+1, ')') && kind != KindOther) {
					w.replaceTok(i, " ")
				}
			case "[":
				// A subscript on a call result, PARSE_JSON(x) ['k']:
				// PostgreSQL needs the call in parentheses.
				if t.punct(i-1, ')') {
					if open, name := callStart(t, i-1); open >= 0 && !keywordsBeforeColon[strings.ToLower(t.text(name))] {
						w.add(t.toks[name].start, t.toks[name].start, "(")
						w.add(t.toks[i-1].end, t.toks[i-1].end, ")")
					}
				}
			case "(":
				depth++
				having[depth] = false
			case ")":
				depth--
			}
			continue
		case tBacktick:
			inner := unquote(txt, '`')
			if d := w.d; d == BigQuery && strings.Contains(inner, ".") {
				parts := strings.Split(inner, ".")
				for k := range parts {
					parts[k] = `"` + strings.ReplaceAll(parts[k], `"`, `""`) + `"`
				}
				w.add(tk.start, tk.end, strings.Join(parts, "."))
				continue
			}
			w.add(tk.start, tk.end, `"`+strings.ReplaceAll(inner, `"`, `""`)+`"`)
			continue
		case tString:
			if w.d != Postgres && w.d != ANSI && txt[0] == '\'' && strings.Contains(txt, `\`) {
				w.add(tk.start, tk.start, "E")
			}
			if (txt[0] == 'r' || txt[0] == 'R') && len(txt) > 1 && txt[1] == '\'' {
				w.replaceTok(i, txt[1:]) // BigQuery/Spark raw string
			}
			continue
		case tVar:
			if strings.HasPrefix(txt, "$") && len(txt) > 1 && !isDigit(txt[1]) {
				w.add(tk.start, tk.end, `"`+txt+`"`)
			} else if txt == "?" || strings.HasPrefix(txt, "%") {
				w.add(tk.start, tk.end, " NULL ")
			}
			continue
		case tStage:
			w.add(tk.start, tk.end, `"`+strings.ReplaceAll(txt, `"`, `""`)+`"`)
			continue
		case tOp:
			switch {
			case txt == ":" && (w.d == Snowflake || w.d == Databricks || w.d == BigQuery):
				if j := w.variantPath(i); j != i {
					i = j
				} else {
					i = w.bindVariable(i)
				}
			case txt == "==":
				w.replaceTok(i, "=")
			case txt == "<=>":
				w.replaceTok(i, "IS NOT DISTINCT FROM")
			case txt == "*" && (t.isAny(i+1, "exclude", "except", "replace", "rename", "ilike")) && (t.punct(i-1, '.') || t.punct(i-1, ',') || t.is(i-1, "select") || t.is(i-1, "distinct")):
				i = w.starModifiers(i)
			}
			continue
		case tIdent:
		default:
			continue
		}
		lw := strings.ToLower(txt)
		switch lw {
		case "offset", "safe_offset", "ordinal", "safe_ordinal":
			// BigQuery arr[OFFSET(0)] → arr[0]
			if t.punct(i-1, '[') && t.punct(i+1, '(') {
				k := t.matchParen(i + 1)
				if t.punct(k+1, ']') {
					w.blank(i, i+1)
					w.blank(k, k)
				}
			}
		case "try_cast", "safe_cast":
			if t.punct(i+1, '(') {
				w.replaceTok(i, "CAST")
			}
		case "qualify":
			if having[depth] {
				w.replaceTok(i, "AND")
			} else {
				w.replaceTok(i, "HAVING")
			}
			w.notes = append(w.notes, note{kind: noteQualify, pos: tk.start})
		case "having":
			having[depth] = true
		case "select":
			having[depth] = false
			if t.is(i+1, "top") && t.toks != nil && i+2 < n && t.toks[i+2].kind == tNumber {
				w.blank(i+1, i+2)
			}
		case "group":
			if t.is(i+1, "by") && t.is(i+2, "all") && !t.punct(i+3, '(') {
				w.replaceTok(i+2, "()")
				w.notes = append(w.notes, note{kind: noteGroupByAll, pos: tk.start})
			}
		case "minus":
			if t.isAny(i+1, "select", "all", "distinct") || t.punct(i+1, '(') {
				w.replaceTok(i, "EXCEPT")
			}
		case "ignore", "respect":
			if t.is(i+1, "nulls") {
				w.blank(i, i+1)
			}
		case "current_date", "current_timestamp", "current_time", "localtimestamp", "localtime", "current_user", "current_role", "session_user":
			if t.punct(i+1, '(') && t.punct(i+2, ')') {
				w.blank(i+1, i+2)
			}
		case "sample", "tablesample":
			if t.punct(i+1, '(') || t.isAny(i+1, "bernoulli", "system", "block", "row") && t.punct(i+2, '(') {
				if lw == "tablesample" && t.isAny(i+1, "bernoulli", "system") {
					// PostgreSQL syntax as is; a REPEATABLE clause follows.
					continue
				}
				j := i + 1
				if !t.punct(j, '(') {
					j++
				}
				k := t.matchParen(j)
				if t.isAny(k+1, "seed", "repeatable") && t.punct(k+2, '(') {
					k = t.matchParen(k + 2)
				}
				w.blank(i, k)
				i = k
			}
		case "at", "before", "changes":
			// Time travel: AT(TIMESTAMP => ...), BEFORE(STATEMENT => ...),
			// CHANGES(INFORMATION => ...). Recognised by the => inside.
			if t.punct(i+1, '(') {
				k := t.matchParen(i + 1)
				if k > i+3 && t.op(i+3, "=>") {
					w.blank(i, k)
					i = k
				}
			}
		case "version", "timestamp", "system_time":
			// VERSION AS OF 3, TIMESTAMP AS OF '...', FOR SYSTEM_TIME AS OF x
			if t.is(i+1, "as") && t.is(i+2, "of") && i+3 < n {
				s := i
				if t.is(i-1, "for") {
					s = i - 1
				}
				k := w.exprEnd(i + 3)
				w.blank(s, k)
				i = k
			}
		case "insert":
			if t.is(i+1, "overwrite") {
				j := i + 2
				if t.isAny(j, "into", "table") {
					w.blank(i+1, j)
					w.add(t.toks[i+1].start, t.toks[i+1].start, "INTO ")
				} else {
					w.replaceTok(i+1, "INTO")
				}
				w.notes = append(w.notes, note{kind: noteInsertOverwr, pos: tk.start})
				i = w.partitionClause(j)
			} else if t.is(i+1, "into") && t.is(i+2, "table") {
				w.blank(i+2, i+2)
				i = w.partitionClause(i + 2)
			} else if t.is(i+1, "into") {
				i = w.partitionClause(i + 1)
			}
		case "then":
			// MERGE ... THEN UPDATE SET * / THEN INSERT *
			if t.is(i+1, "update") && t.is(i+2, "set") && t.op(i+3, "*") {
				w.blank(i+1, i+3)
				w.add(t.toks[i+1].start, t.toks[i+1].start, "DO NOTHING")
				w.notes = append(w.notes, note{kind: noteMergeUpdStar, pos: t.toks[i+1].start})
				i += 3
			} else if t.is(i+1, "insert") && t.op(i+2, "*") {
				w.replaceTok(i+2, "DEFAULT VALUES")
				w.notes = append(w.notes, note{kind: noteMergeInsStar, pos: t.toks[i+1].start})
				i += 2
			}
		case "lateral":
			if t.is(i+1, "view") {
				i = w.lateralView(i)
			}
		case "left":
			if t.isAny(i+1, "semi", "anti") && t.is(i+2, "join") {
				if t.is(i+1, "semi") {
					w.blank(i, i+1)
					w.add(tk.start, tk.start, "INNER")
				} else {
					w.blank(i+1, i+1)
				}
				w.notes = append(w.notes, note{kind: noteSemiJoin, pos: t.toks[i+2].start})
			}
		case "semi", "anti":
			if t.is(i+1, "join") && !t.is(i-1, "left") {
				w.replaceTok(i, "")
			}
		case "sort":
			if t.is(i+1, "by") {
				w.replaceTok(i, "ORDER")
			}
		case "distribute", "cluster":
			if t.is(i+1, "by") && depth >= 0 && kind != KindCreateTableAs || (t.is(i+1, "by") && i > 0 && t.isAny(i-1, ")")) {
				k := i + 2
				for k < n && !t.isAny(k, "sort", "order", "limit", "union", "intersect", "except") && !t.punct(k, ')') && !t.punct(k, ';') {
					if t.punct(k, '(') {
						k = t.matchParen(k)
					}
					k++
				}
				w.blank(i, k-1)
				i = k - 1
			}
		case "join":
			// JOIN without ON (Snowflake allows it): add ON TRUE.
			if !t.isAny(i-1, "cross", "natural") {
				j := i + 1
				for t.is(j, "lateral") {
					j++
				}
				if t.punct(j, '(') {
					j = t.matchParen(j) + 1
				} else {
					_, j = t.qualifiedName(j, w.d)
					if t.punct(j, '(') {
						j = t.matchParen(j) + 1
					}
				}
				if t.is(j, "as") {
					j++
				}
				if t.isName(j) && !t.isAny(j, "on", "using", "where", "group", "order", "limit", "join", "left", "right", "inner", "full", "cross", "union", "having", "qualify", "window", "natural", "lateral", "pivot", "unpivot", "sample", "tablesample", "at", "before", "changes", "match_condition", "except", "intersect", "minus") {
					j++
				}
				if j > i+1 && j-1 < n && !t.isAny(j, "on", "using", "at", "before", "changes", "match_condition", "pivot", "unpivot", "sample", "tablesample", "with", "version", "timestamp", "for") && !t.punct(j, '(') && !t.punct(j, ',') && !t.op(j, ":") && !t.punct(j, '.') {
					w.add(t.toks[j-1].end, t.toks[j-1].end, " ON TRUE ")
				}
			}
		case "rlike", "regexp":
			if t.is(i-1, "not") {
				w.blank(i-1, i-1)
				w.replaceTok(i, "!~")
			} else {
				w.replaceTok(i, "~")
			}
		case "interval":
			// INTERVAL 7 DAYS / INTERVAL 1 day → INTERVAL '7 DAYS'
			if i+2 < n && t.toks[i+1].kind == tNumber && t.toks[i+2].kind == tIdent && isIntervalUnit(t.text(i+2)) {
				w.add(t.toks[i+1].start, t.toks[i+2].end, "'"+t.text(i+1)+" "+t.text(i+2)+"'")
				i += 2
			} else if i+3 < n && t.op(i+1, "-") && t.toks[i+2].kind == tNumber && t.toks[i+3].kind == tIdent && isIntervalUnit(t.text(i+3)) {
				// BigQuery INTERVAL -7 DAY
				w.add(t.toks[i+1].start, t.toks[i+3].end, "'-"+t.text(i+2)+" "+t.text(i+3)+"'")
				i += 3
			} else if t.isName(i+1) && !t.isAny(i+1, "year", "month", "day", "hour", "minute", "second") {
				// BigQuery INTERVAL <expr> DAY → (<expr>) * INTERVAL '1 day'
				k := i + 1
				if t.punct(k+1, '(') {
					k = t.matchParen(k + 1)
				}
				if k+1 < n && t.toks[k+1].kind == tIdent && isIntervalUnit(t.text(k+1)) {
					w.replaceTok(i, "(")
					w.add(t.toks[k].end, t.toks[k].end, ")")
					w.add(t.toks[k+1].start, t.toks[k+1].end, "* INTERVAL '1 "+strings.ToLower(t.text(k+1))+"'")
					i = k + 1
				}
			}
		case "table":
			if t.punct(i+1, '(') && t.isAny(i-1, "from", "join", "lateral") || t.punct(i+1, '(') && t.punct(i-1, ',') {
				k := t.matchParen(i + 1)
				w.blank(i, i+1)
				w.blank(k, k)
			}
		case "like", "ilike":
			if t.isAny(i+1, "any", "all", "some") && t.punct(i+2, '(') && !t.is(i+3, "select") && !t.is(i+3, "array") {
				k := t.matchParen(i + 2)
				w.add(t.toks[i+2].end, t.toks[i+2].end, "ARRAY[")
				w.add(t.toks[k].start, t.toks[k].start, "]")
			}
		case "position":
			// Snowflake POSITION(a, b): call it by a quoted name.
			if t.punct(i+1, '(') {
				k := t.matchParen(i + 1)
				if hasTopComma(t, i+1, k) {
					w.add(tk.start, tk.end, `"position"`)
				}
			}
		case "asof":
			if t.is(i+1, "join") {
				w.blank(i, i)
			}
		case "match_condition":
			if t.punct(i+1, '(') {
				k := t.matchParen(i + 1)
				w.replaceTok(i, "ON")
				if t.is(k+1, "on") {
					w.replaceTok(k+1, "AND")
				}
				i = k
			}
		case "pivot", "unpivot":
			if t.punct(i+1, '(') || (t.isAny(i+1, "include", "exclude") && t.is(i+2, "nulls") && t.punct(i+3, '(')) {
				j := i + 1
				for !t.punct(j, '(') {
					j++
				}
				k := t.matchParen(j)
				w.blank(i, k)
				w.notes = append(w.notes, note{kind: notePivot, pos: tk.start, end: t.toks[k].end, detail: []string{lw}, item: pivotItemStart(t, i)})
				i = k
			}
		case "as":
			// A CTE or alias named with a PostgreSQL reserved word.
			if i+1 < n && t.toks[i+1].kind == tIdent && pgReserved[strings.ToLower(t.text(i+1))] && !t.isAny(i+1, "select", "with", "table", "values") && (t.punct(i+2, ',') || t.punct(i+2, ')') || t.isAny(i+2, "from", "where", "join", "on", "left", "inner", "group", "order")) {
				w.add(t.toks[i+1].start, t.toks[i+1].end, `"`+strings.ToLower(t.text(i+1))+`"`)
			}
		case "with":
			if i+1 < n && t.toks[i+1].kind == tIdent && pgReserved[strings.ToLower(t.text(i+1))] && t.is(i+2, "as") {
				w.add(t.toks[i+1].start, t.toks[i+1].end, `"`+strings.ToLower(t.text(i+1))+`"`)
			}
		}
		// name AS ( in a CTE list after a comma.
		if t.punct(i-1, ',') && tk.kind == tIdent && pgReserved[lw] && t.is(i+1, "as") && t.punct(i+2, '(') {
			w.add(tk.start, tk.end, `"`+lw+`"`)
		}
		// default.orders, FROM both: PostgreSQL-reserved words as names.
		if pgReserved[lw] && ((t.punct(i+1, '.') && t.isName(i+2) && !t.punct(i-1, '.')) ||
			(t.isAny(i-1, "from", "join") && !t.isAny(i, "select", "lateral", "table", "values", "with", "only"))) {
			w.add(tk.start, tk.end, `"`+lw+`"`)
		}
		// ::array, ::table and other reserved type names.
		if t.op(i-1, "::") && pgReserved[lw] {
			w.add(tk.start, tk.end, `"`+lw+`"`)
		}
	}
}

func hasTopComma(t *tokens, open, close int) bool {
	for j := open + 1; j < close; j++ {
		if t.punct(j, '(') || t.punct(j, '[') {
			j = t.matchParen(j)
			continue
		}
		if t.punct(j, ',') {
			return true
		}
		if t.is(j, "in") {
			return false
		}
	}
	return false
}

func isIntervalUnit(s string) bool {
	switch strings.ToLower(strings.TrimSuffix(strings.ToLower(s), "s")) {
	case "year", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond", "quarter":
		return true
	}
	return false
}

// exprEnd returns the last token of a simple expression starting at i: a
// literal, a name, or a function call.
func (w *rewriter) exprEnd(i int) int {
	t := w.t
	j := i
	for j < len(t.toks) {
		if t.punct(j+1, '(') {
			return t.matchParen(j + 1)
		}
		if t.op(j+1, "::") || t.punct(j+1, '.') {
			j += 2
			continue
		}
		return j
	}
	return len(t.toks) - 1
}

// variantPath rewrites col:a.b[0]:"K"::t into col['a']['b'][0]['K']::t.
// i is the ':' token. It returns the last token consumed.
func (w *rewriter) variantPath(i int) int {
	t := w.t
	prev := i - 1
	if prev < 0 {
		return i
	}
	pk := t.toks[prev].kind
	switch {
	case pk == tIdent && !keywordsBeforeColon[strings.ToLower(t.text(prev))]:
	case pk == tQuoted, pk == tBacktick:
	case t.punct(prev, ']'), t.punct(prev, ')'):
	case pk == tVar && strings.HasPrefix(t.text(prev), "$"):
	default:
		return i
	}
	if !t.isName(i+1) && !(i+1 < len(t.toks) && t.toks[i+1].kind == tNumber) {
		return i
	}
	var b strings.Builder
	j := i
	for j < len(t.toks) {
		switch {
		case (t.op(j, ":") || t.punct(j, '.')) && j+1 < len(t.toks) && (t.isName(j+1) || (t.op(j, ":") && t.toks[j+1].kind == tNumber)):
			key := t.text(j + 1)
			switch t.toks[j+1].kind {
			case tQuoted:
				key = unquote(key, '"')
			case tBacktick:
				key = unquote(key, '`')
			}
			b.WriteString("['" + strings.ReplaceAll(key, "'", "''") + "']")
			j += 2
		case t.punct(j, '['):
			k := t.matchParen(j)
			b.WriteString(rewriteInner(t, j, k))
			j = k + 1
		default:
			goto done
		}
	}
done:
	if j <= i {
		return i
	}
	end := t.toks[j-1].end
	repl := b.String()
	if t.punct(prev, ')') {
		// A path on a call result: parenthesise the call, which PostgreSQL
		// needs before a subscript.
		if open, name := callStart(t, prev); open >= 0 {
			w.add(t.toks[name].start, t.toks[name].start, "(")
			repl = ")" + repl
		}
	}
	w.add(t.toks[i].start, end, repl)
	return j - 1
}

// bindVariable rewrites a named or numbered bind variable (Snowflake
// ":name" and ":1", Databricks ":param" parameter markers) that stands
// where a value may: it becomes NULL, as "?" does, since a value carries no
// column lineage. After AS it names an output column, which only the run
// knows: it becomes a quoted name and a note, and the lineage layer leaves
// that column out. i is the ':' token; it returns the last token consumed.
func (w *rewriter) bindVariable(i int) int {
	t := w.t
	if i+1 >= len(t.toks) || t.toks[i+1].start != t.toks[i].end {
		return i
	}
	if k := t.toks[i+1].kind; k != tIdent && k != tNumber {
		return i
	}
	if i > 0 {
		prev := t.toks[i-1]
		switch {
		case prev.kind == tOp, t.punct(i-1, '('), t.punct(i-1, ','):
		case prev.kind == tIdent && keywordsBeforeColon[strings.ToLower(t.text(i-1))]:
		default:
			return i
		}
	}
	start, end := t.toks[i].start, t.toks[i+1].end
	if t.is(i-1, "as") {
		name := t.src[start:end]
		w.add(start, end, `"`+name+`"`)
		w.notes = append(w.notes, note{kind: noteBindAlias, pos: start, end: end, detail: []string{name}, item: -1})
		return i + 1
	}
	w.add(start, end, " NULL ")
	return i + 1
}

// rewriteInner copies tokens open..close verbatim (a subscript).
func rewriteInner(t *tokens, open, close int) string {
	return t.src[t.toks[open].start:t.toks[close].end]
}

// callStart returns the '(' and the first name token of the call whose
// closing paren is at close, or -1.
func callStart(t *tokens, close int) (int, int) {
	depth := 0
	for j := close; j >= 0; j-- {
		if t.punct(j, ')') {
			depth++
		} else if t.punct(j, '(') {
			depth--
			if depth == 0 {
				if t.isName(j - 1) {
					k := j - 1
					for t.punct(k-1, '.') && t.isName(k-2) {
						k -= 2
					}
					return j, k
				}
				return -1, -1
			}
		}
	}
	return -1, -1
}

// starModifiers blanks EXCLUDE/EXCEPT/REPLACE/RENAME/ILIKE after a star and
// records the excluded columns. i is the '*' token.
func (w *rewriter) starModifiers(i int) int {
	t := w.t
	j := i + 1
	var excluded []string
	for t.isAny(j, "exclude", "except", "replace", "rename", "ilike") {
		kw := strings.ToLower(t.text(j))
		var end int
		var names []string
		if t.punct(j+1, '(') {
			end = t.matchParen(j + 1)
			for k := j + 2; k < end; k++ {
				if t.isName(k) && (t.punct(k+1, ',') || k+1 == end) {
					if s, ok := t.identAt(k, w.d); ok {
						names = append(names, s)
					}
				}
			}
		} else {
			end = j + 1
			if s, ok := t.identAt(end, w.d); ok {
				names = append(names, s)
			}
		}
		switch kw {
		case "exclude", "except":
			excluded = append(excluded, names...)
		default:
			w.notes = append(w.notes, note{kind: noteStarReplace, pos: t.toks[i].start, detail: []string{kw}})
		}
		w.blank(j, end)
		j = end + 1
	}
	w.notes = append(w.notes, note{kind: noteStarExcept, pos: t.toks[i].start, detail: excluded})
	return j - 1
}

// partitionClause blanks a static PARTITION (k='v', ...) after the INSERT
// target that starts at i, and returns the last token of the target.
func (w *rewriter) partitionClause(i int) int {
	t := w.t
	_, j := t.qualifiedName(i+1, w.d)
	if t.is(j, "partition") && t.punct(j+1, '(') {
		k := t.matchParen(j + 1)
		var cols []string
		for m := j + 2; m < k; m++ {
			if t.isName(m) && (t.punct(m-1, '(') || t.punct(m-1, ',')) {
				if s, ok := t.identAt(m, w.d); ok {
					cols = append(cols, s)
				}
			}
		}
		w.blank(j, k)
		w.notes = append(w.notes, note{kind: noteStaticPart, pos: t.toks[j].start, detail: cols})
		return k
	}
	return j - 1
}

// lateralView rewrites LATERAL VIEW [OUTER] f(args) t [AS] c1, c2 into
// CROSS JOIN LATERAL f(args) AS t(c1, c2) (LEFT JOIN ... ON TRUE for OUTER).
func (w *rewriter) lateralView(i int) int {
	t := w.t
	j := i + 2
	outer := false
	if t.is(j, "outer") {
		outer = true
		j++
	}
	if !t.isName(j) || !t.punct(j+1, '(') {
		return i
	}
	k := t.matchParen(j + 1)
	m := k + 1
	alias := ""
	if t.isName(m) && !t.is(m, "as") {
		alias = t.text(m)
		m++
	}
	var cols []string
	if t.is(m, "as") {
		m++
		for t.isName(m) {
			cols = append(cols, t.text(m))
			if t.punct(m+1, ',') && t.isName(m+2) && !t.is(m+2, "lateral") {
				m += 2
				continue
			}
			m++
			break
		}
	}
	if alias == "" {
		alias = "_lv"
	}
	head := "CROSS JOIN LATERAL "
	if outer {
		head = "LEFT JOIN LATERAL "
	}
	w.add(t.toks[i].start, t.toks[j].start, head)
	tail := " AS " + alias
	if len(cols) > 0 {
		tail += "(" + strings.Join(cols, ", ") + ")"
	}
	if outer {
		tail += " ON TRUE"
	}
	w.add(t.toks[k].end, t.toks[m-1].end, tail)
	return m - 1
}

// createHead rewrites the head of CREATE ... TABLE/VIEW ... AS into what
// PostgreSQL accepts: no OR REPLACE on tables, no dialect modifiers, column
// lists reduced to names, properties between the name and AS blanked, and
// CLONE turned into AS TABLE.
func (w *rewriter) createHead() {
	t := w.t
	n := len(t.toks)
	i := firstWord(t)
	if !t.is(i, "create") {
		return
	}
	j := i + 1
	isView := false
	materialized := false
	for ; j < n; j++ {
		switch {
		case t.is(j, "or") && t.is(j+1, "replace"):
			w.notes = append(w.notes, note{kind: "or_replace", pos: t.toks[j].start})
			// PostgreSQL has OR REPLACE for plain views only; decided below.
			j++
			continue
		case t.isAny(j, "temporary", "temp"):
			continue
		case t.isAny(j, "transient", "secure", "volatile", "local", "global", "recursive", "dynamic", "iceberg", "hybrid", "multiset", "external", "streaming", "live"):
			w.blank(j, j)
			continue
		case t.is(j, "materialized"):
			materialized = true
			continue
		case t.is(j, "view"):
			isView = true
		case t.is(j, "table"):
		default:
			continue
		}
		break
	}
	if j >= n {
		return
	}
	for k := i + 1; k < j; k++ {
		if t.is(k, "or") && t.is(k+1, "replace") && (!isView || materialized) {
			w.blank(k, k+1)
		}
	}
	j++
	if t.is(j, "if") && t.is(j+1, "not") && t.is(j+2, "exists") {
		if isView {
			w.blank(j, j+2)
		}
		j += 3
	}
	_, j = t.qualifiedName(j, w.d)
	// Optional column list.
	if t.punct(j, '(') {
		k := t.matchParen(j)
		// Keep only the first word of each element: the column name.
		first := true
		for m := j + 1; m < k; m++ {
			if t.punct(m, '(') {
				e := t.matchParen(m)
				w.blank(m, e)
				m = e
				continue
			}
			if t.punct(m, ',') {
				first = true
				continue
			}
			if first {
				first = false
				continue
			}
			w.blank(m, m)
		}
		j = k + 1
	}
	// Properties up to the AS that starts the query, or CLONE.
	start := j
	for m := j; m < n; m++ {
		if t.punct(m, '(') {
			m = t.matchParen(m)
			continue
		}
		if t.is(m, "clone") {
			w.blank(start, m-1)
			w.replaceTok(m, "AS TABLE")
			w.notes = append(w.notes, note{kind: noteClone, pos: t.toks[m].start})
			_, e := t.qualifiedName(m+1, w.d)
			if e < n {
				w.blank(e, n-1) // AT(...)/BEFORE(...) time travel, COPY GRANTS
			}
			return
		}
		if t.is(m, "as") && (t.punct(m+1, '(') || t.isAny(m+1, "select", "with", "values", "table", "from")) {
			if m > start {
				w.blank(start, m-1)
			}
			return
		}
	}
}
