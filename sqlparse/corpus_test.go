package sqlparse

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// corpusDir returns the shared corpus directory, or skips the test.
func corpusDir(t testing.TB, sub string) string {
	t.Helper()
	dir := os.Getenv("WEFT_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	p := filepath.Join(dir, sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus %s not found (set WEFT_CORPUS to the shared corpus directory): %v", p, err)
	}
	return p
}

type corpusCase struct {
	ID            string                       `json:"id"`
	Dialect       string                       `json:"dialect"`
	SQL           string                       `json:"sql"`
	DefaultDB     *string                      `json:"default_db"`
	DefaultSchema *string                      `json:"default_schema"`
	Schema        map[string]map[string]string `json:"schema"`
	Semantics     string                       `json:"semantics"`
	Expected      struct {
		ColumnLineage []struct {
			Downstream struct {
				Table  *string `json:"table"`
				Column string  `json:"column"`
			} `json:"downstream"`
			Upstreams []struct {
				Table  *string `json:"table"`
				Column string  `json:"column"`
			} `json:"upstreams"`
		} `json:"column_lineage"`
	} `json:"expected"`
	// schemaOrder keeps each table's columns in file order.
	schemaOrder map[string][]string
}

func loadCases(t testing.TB) []corpusCase {
	dir := corpusDir(t, "sql_lineage")
	f, err := os.Open(filepath.Join(dir, "cases.jsonl"))
	if err != nil {
		t.Fatalf("open cases: %v", err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var c corpusCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("cases.jsonl: %v", err)
		}
		c.schemaOrder = map[string][]string{}
		var raw struct {
			Schema map[string]json.RawMessage `json:"schema"`
		}
		_ = json.Unmarshal(sc.Bytes(), &raw)
		for tbl, cols := range raw.Schema {
			c.schemaOrder[tbl] = orderedKeys(cols)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("cases.jsonl: %v", err)
	}
	return cases
}

// orderedKeys returns a JSON object's keys in document order.
func orderedKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	var keys []string
	if _, err := dec.Token(); err != nil {
		return nil
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

// dialectGroup maps a case's dialect to a report group and the Dialect we
// analyse it with: ANSI/generic SQL with weft's ANSI dialect (standard SQL:
// no lateral column aliases where a FROM table could hold the name; an
// unaliased expression named by its text, as most engines and both
// sqllineage and sqlglot name it). The other dialects, outside weft's
// targets, are read as PostgreSQL, which scores best on them.
func dialectGroup(d string) (string, Dialect) {
	switch strings.ToLower(d) {
	case "ansi", "":
		return "ansi", ANSI
	case "snowflake":
		return "snowflake", Snowflake
	case "postgres":
		return "postgres", Postgres
	case "databricks", "spark", "sparksql", "hive":
		return "databricks-spark-hive", Databricks
	case "bigquery":
		return "other", BigQuery
	}
	return "other", Postgres
}

type edgeKey struct{ down, table, col string }

func normName(s string) string {
	return strings.ToLower(strings.NewReplacer(`"`, "", "`", "", "[", "", "]", "").Replace(s))
}

// scoreCase compares our edges with the expected ones as SOURCES.md
// explains: (downstream column, upstream table, upstream column),
// case-insensitive, quotes stripped, tables matched on the dotted suffix
// the expected name has; sqllineage only asserts lineage into written
// tables, between path ends (see pathEnds). rs holds the results of the
// case's statements in script order.
func scoreCase(c corpusCase, rs []Result) (matchedGot, got, matchedWant, want int) {
	ours, exp := caseEdges(c, rs)
	for _, o := range ours {
		for _, e := range exp {
			if edgeMatch(o, e) {
				matchedGot++
				break
			}
		}
	}
	for _, e := range exp {
		for _, o := range ours {
			if edgeMatch(o, e) {
				matchedWant++
				break
			}
		}
	}
	return matchedGot, len(ours), matchedWant, len(exp)
}

// caseEdges returns our edges and the expected ones of a case, normalised
// and deduplicated.
func caseEdges(c corpusCase, rs []Result) (ours, exp []edgeKey) {
	sqllineage := c.Semantics == "sqllineage" || c.Semantics == "collate-sqllineage"
	if sqllineage {
		var renames []map[string]string
		if len(rs) == 1 {
			in, _, _ := caseInput(c)
			renames = append(renames, sqllineageNames(in, rs[0]))
		}
		ours = pathEnds(rs, renames)
	} else {
		for _, r := range rs {
			rename := map[string]string{}
			if c.Semantics == "openlineage" && len(rs) == 1 {
				rename = openlineageNames(c.SQL, r)
			}
			for _, cl := range r.Columns {
				down := cl.Column
				if n, ok := rename[down]; ok && cl.Target.IsZero() {
					down = n
				}
				for _, s := range cl.Sources {
					ours = append(ours, edgeKey{normName(down), normName(s.Table.String()), normName(s.Column)})
				}
			}
		}
	}
	for _, cl := range c.Expected.ColumnLineage {
		for _, u := range cl.Upstreams {
			tbl := ""
			if u.Table != nil {
				tbl = normName(*u.Table)
			}
			exp = append(exp, edgeKey{normName(cl.Downstream.Column), tbl, normName(u.Column)})
		}
	}
	return uniqEdges(ours), uniqEdges(exp)
}

// edgeMatch reports whether our edge o matches the expected edge e: an
// expected table matches on its dotted suffix, and no table (sqllineage's
// ambiguous column) matches any.
func edgeMatch(o, e edgeKey) bool {
	if o.down != e.down || o.col != e.col {
		return false
	}
	return e.table == "" || o.table == e.table || strings.HasSuffix(o.table, "."+e.table)
}

// edgeDiff renders a case's unmatched edges, ours then the expected ones,
// one per line, for WEFT_CORPUS_VERBOSE.
func edgeDiff(c corpusCase, rs []Result) (extra, missing string) {
	ours, exp := caseEdges(c, rs)
	render := func(from, to []edgeKey) string {
		var b strings.Builder
		for _, x := range from {
			found := false
			for _, y := range to {
				if edgeMatch(x, y) || edgeMatch(y, x) {
					found = true
					break
				}
			}
			if !found {
				b.WriteString("\n\t" + x.down + " <- " + x.table + "." + x.col)
			}
		}
		return b.String()
	}
	return render(ours, exp), render(exp, ours)
}

// openlineageNames maps our names of a plain SELECT's unnamed expression
// outputs to openlineage-sql's: "_0", "_1", ... in order (SOURCES.md).
// Only names that occur once in the output are mapped.
func openlineageNames(sql string, r Result) map[string]string {
	out := map[string]string{}
	tree, err := pg.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return out
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != len(r.OutputColumns) {
		return out
	}
	count := map[string]int{}
	for _, n := range r.OutputColumns {
		count[n]++
	}
	k := 0
	for i, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil || rt.Name != "" || isColumnish(rt.Val) {
			continue
		}
		if name := r.OutputColumns[i]; count[name] == 1 {
			out[name] = "_" + itoa(k)
		}
		k++
	}
	return out
}

// sqllineageNames maps our names of a statement's unaliased outputs to
// sqllineage's, which names every unaliased projection but a bare column
// by its expression text (SOURCES.md). Our dialect may name a cast of a
// column after the column, as Spark does; sqllineage names it
// "cast(col1 as timestamp)", though col1::timestamp stays col1. Only names
// that occur once are mapped.
func sqllineageNames(in Input, r Result) map[string]string {
	out := map[string]string{}
	toks := &tokens{src: in.SQL, toks: lex(in.SQL, optsFor(in.Dialect))}
	rw := rewrite(in.SQL, toks.toks, in.Dialect)
	tree, err := pg.Parse(rw.text)
	if err != nil || len(tree.Stmts) != 1 {
		return out
	}
	var sel *pg.SelectStmt
	st := tree.Stmts[0].Stmt
	if is := st.GetInsertStmt(); is != nil && len(is.Cols) == 0 && is.SelectStmt != nil {
		sel = is.SelectStmt.GetSelectStmt()
	} else if ct := st.GetCreateTableAsStmt(); ct != nil && ct.Query != nil {
		sel = ct.Query.GetSelectStmt()
	}
	if sel == nil || len(sel.TargetList) != len(r.OutputColumns) {
		return out
	}
	a := &analyzer{in: in, rw: rw, otoks: toks}
	count := map[string]int{}
	for _, n := range r.OutputColumns {
		count[n]++
	}
	for i, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil || rt.Name != "" || rt.Val.GetColumnRef() != nil || !isColumnish(rt.Val) {
			continue
		}
		name, text := r.OutputColumns[i], a.exprText(rt.Location)
		// sqllineage's parser reads col1::timestamp as the column col1
		// (its test_postgres_style_type_cast), so only CAST(...) is renamed.
		if count[name] == 1 && strings.EqualFold(name, figureColname(rt.Val)) && !strings.Contains(text, "::") {
			out[name] = text
		}
	}
	return out
}

// pathEnds returns the column edges of a script the way sqllineage's
// get_column_lineage reports them: it joins the statements' edges into one
// graph of (table, column) nodes and reports paths from end to end. A
// column that one statement writes and a later one reads is an
// intermediate node: sqllineage reports lineage through it, not to it.
// Within one statement a table may be read and written (INSERT INTO t
// SELECT ... FROM t); the read is the table as it was, so that is an edge
// like any other. Lineage into a statement's own output (a bare SELECT) is
// not asserted. renames[i], when present, renames the columns statement i
// writes (see sqllineageNames).
func pathEnds(rs []Result, renames []map[string]string) []edgeKey {
	type node struct{ table, col string }
	ends := map[node][]node{} // written node → the path ends it comes from
	var written []node
	consumed := map[node]bool{}
	for i, r := range rs {
		defs := map[node][]node{}
		var order []node
		for _, cl := range r.Columns {
			if cl.Target.IsZero() {
				continue
			}
			col := cl.Column
			if i < len(renames) {
				if n, ok := renames[i][col]; ok {
					col = n
				}
			}
			to := node{normName(cl.Target.String()), normName(col)}
			if _, ok := defs[to]; !ok {
				order = append(order, to)
				defs[to] = []node{}
			}
			for _, s := range cl.Sources {
				from := node{normName(s.Table.String()), normName(s.Column)}
				if prev, ok := ends[from]; ok {
					consumed[from] = true
					defs[to] = append(defs[to], prev...)
					continue
				}
				defs[to] = append(defs[to], from)
			}
		}
		for _, n := range order {
			if _, ok := ends[n]; !ok {
				written = append(written, n)
			}
			ends[n] = append(ends[n], defs[n]...)
		}
	}
	var out []edgeKey
	for _, n := range written {
		if consumed[n] {
			continue
		}
		for _, u := range ends[n] {
			out = append(out, edgeKey{n.col, u.table, u.col})
		}
	}
	return out
}

func uniqEdges(es []edgeKey) []edgeKey {
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.down != b.down {
			return a.down < b.down
		}
		if a.table != b.table {
			return a.table < b.table
		}
		return a.col < b.col
	})
	var out []edgeKey
	for i, e := range es {
		if i == 0 || e != es[i-1] {
			out = append(out, e)
		}
	}
	return out
}

// analyzeCase analyses a case as weft's product does: `weft sql` splits
// a script into statements, and weave teaches its schema catalog the
// output columns of each table a statement writes (unless the catalog
// already lists that table's columns) before it analyses the statements
// that read it. So a view or table created earlier in the same script can
// be expanded by * and resolves its columns.
func analyzeCase(c corpusCase) ([]Result, string) {
	in, schema, group := caseInput(c)
	pieces := Split(in.SQL, in.Dialect)
	if len(pieces) <= 1 {
		return []Result{Analyze(in, schema)}, group
	}
	learned := &MapSchema{}
	lookup := layeredSchema{schema, learned}
	var rs []Result
	for _, p := range pieces {
		pin := in
		pin.SQL = p.SQL
		r := Analyze(pin, lookup)
		if len(r.OutputColumns) > 0 {
			for _, t := range r.Writes {
				if _, ok := lookup.Columns(t); !ok {
					learned.Add(t.String(), r.OutputColumns)
				}
			}
		}
		rs = append(rs, r)
	}
	return rs, group
}

// layeredSchema looks a table up in each Schema in turn.
type layeredSchema []Schema

func (l layeredSchema) Columns(t Table) ([]string, bool) {
	for _, s := range l {
		if s == nil {
			continue
		}
		if cols, ok := s.Columns(t); ok {
			return cols, true
		}
	}
	return nil, false
}

func caseInput(c corpusCase) (Input, Schema, string) {
	group, d := dialectGroup(c.Dialect)
	in := Input{SQL: c.SQL, Dialect: d}
	if c.DefaultDB != nil {
		in.DefaultDatabase = *c.DefaultDB
	}
	if c.DefaultSchema != nil {
		in.DefaultSchema = *c.DefaultSchema
	}
	var schema Schema
	if len(c.schemaOrder) > 0 {
		// Every column list in cases.jsonl (752 tables) is in alphabetical
		// order: the file was written with sorted keys, so the tables' real
		// column order is lost. The schema says so (AddUnordered), and an
		// INSERT without a column list, which maps by position, maps by
		// name instead of by a made-up order.
		m := &MapSchema{}
		for tbl, cols := range c.schemaOrder {
			folded := make([]string, len(cols))
			for i, col := range cols {
				folded[i] = fold(col, false, d)
			}
			m.AddUnordered(tbl, folded)
		}
		schema = m
	}
	return in, schema, group
}

// corpusFloors are the figures make test asserts: the current ones,
// raised as they improve, never lowered. WEFT_CORPUS_VERBOSE=1 prints each
// target-dialect case that does not match, with its unmatched edges
// (=all adds the other dialects).
//
// "target-answerable" leaves out the cases whose expected lineage needs
// data the case file does not hold (found by rule, logged by the test):
//   - #170, #171, #172 (INSERT OVERWRITE ... PARTITION (dt=...), one per
//     Spark dialect) and #183, #184 (SELECT * FROM temp.dim_credit_card1
//     UNION SELECT * FROM temp.dim_credit_card2) expect columns that the
//     SQL never names and the case schema does not list for their table:
//     the target's creditcard_id and card_type, the temp.* tables' columns.
//     sqllineage's tests create those tables; the case file lacks them.
//     (unanswerable)
//   - #161, #162 (test_metadata_target_column[_cte]): INSERT INTO
//     marts.dim_date without a column list maps by position, and the
//     SELECT's aliases (dd, prd, ...) are not the target's column names.
//     Every column list in cases.jsonl is alphabetical (752 of 752 tables:
//     the file was written with sorted keys), so the order is lost; the
//     scorer says so (AddUnordered) and weft maps by name and warns.
//     (needsOrder)
//
// Seven more differ by a peer's convention that SOURCES.md does not
// document, or that weft cannot adopt without guessing; weft's answer is
// kept (4 edges of ours, 7 expected):
//   - #78 and the partial_code edge of #140: an unqualified column over
//     several tables without a schema. sqllineage reports an edge with no
//     table (documented); weft has no "unknown table" source and reports
//     the column unresolved with a warning rather than guess a table.
//   - #134, #135: sqllineage gives count(*) the source tab2.*; datahub
//     (test_mssql_select_into) and weft give it none.
//   - #105: SELECT f1, * over a star without a schema; sqllineage keeps
//     only the * -> * edge, weft also the real f1 <- tab1.f1.
//   - #153 (SELECT a FROM t1 UNION ALL SELECT b, a FROM t2): branches of
//     different widths, which every engine rejects; the expected edges
//     (b <- t2.a and t2.b) follow no positional or by-name rule. weft
//     matches by position as far as both go and warns.
//   - datahub test_snowflake_full_table_name_col_reference: datahub names
//     a struct field's source by its path (struct_field.field1, as in its
//     BigQuery struct cases); weft reports the column it reads
//     (STRUCT_FIELD, a TRANSFORMATION).
var corpusFloors = map[string]struct{ exact, precision, recall float64 }{
	"target":                {0.936, 0.977, 0.916},
	"target-answerable":     {0.967, 0.993, 0.985},
	"ansi":                  {0.940, 0.988, 0.906},
	"snowflake":             {0.952, 0.984, 0.984},
	"postgres":              {1.000, 1.000, 1.000},
	"databricks-spark-hive": {0.571, 0.625, 0.625},
}

func TestCorpusLineage(t *testing.T) {
	cases := loadCases(t)
	type stats struct{ n, exact, mg, g, mw, w int }
	groups := map[string]*stats{}
	verbose := os.Getenv("WEFT_CORPUS_VERBOSE") != ""
	for _, c := range cases {
		rs, group := analyzeCase(c)
		mg, g, mw, w := scoreCase(c, rs)
		keys := []string{group, map[bool]string{true: "target", false: "other-total"}[group != "other"]}
		if group != "other" {
			if names := unanswerable(c); len(names) > 0 {
				t.Logf("unanswerable from the case: %s expects %s, named nowhere in its SQL or schema", c.ID, strings.Join(names, ", "))
			} else if needsOrder(rs) {
				t.Logf("unanswerable from the case: %s maps by position into a table whose column order the case file does not hold", c.ID)
			} else {
				keys = append(keys, "target-answerable")
			}
		}
		for _, key := range keys {
			st := groups[key]
			if st == nil {
				st = &stats{}
				groups[key] = st
			}
			st.n++
			st.mg += mg
			st.g += g
			st.mw += mw
			st.w += w
			if mg == g && mw == w {
				st.exact++
			}
		}
		if verbose && (mg != g || mw != w) && (group != "other" || os.Getenv("WEFT_CORPUS_VERBOSE") == "all") {
			var text []string
			for _, r := range rs {
				text = append(text, formatResult(r))
			}
			extra, missing := edgeDiff(c, rs)
			t.Logf("MISMATCH %s [%s] got %d/%d want %d/%d\n%s\nfalse positives (got, not expected):%s\nfalse negatives (expected, not got):%s\n%s",
				c.ID, c.Dialect, mg, g, mw, w, c.SQL, extra, missing, strings.Join(text, "\n"))
		}
	}
	var names []string
	for k := range groups {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		st := groups[k]
		p, rc := ratio(st.mg, st.g), ratio(st.mw, st.w)
		t.Logf("%-22s cases %3d  exact %3d (%.1f%%)  precision %.4f (%d/%d)  recall %.4f (%d/%d)", k, st.n, st.exact, 100*ratio(st.exact, st.n), p, st.mg, st.g, rc, st.mw, st.w)
		if f, ok := corpusFloors[k]; ok {
			if ex := ratio(st.exact, st.n); ex < f.exact || p < f.precision || rc < f.recall {
				t.Errorf("%s below floor: exact %.3f precision %.3f recall %.3f, floor %+v", k, ex, p, rc, f)
			}
		}
	}
}

// unanswerable returns the expected columns of a case that nothing in the
// case names: a column whose name is not a word of the SQL and which the
// case's schema does not list (for an upstream column: for its table). Such a
// case tests a table fixture its source project had and the case file
// does not carry (INSERT OVERWRITE into a table whose columns differ from
// the SELECT's names; SELECT * from tables missing from the schema), not
// SQL analysis: no analyser can produce those names from the case. The
// figures are reported with and without these cases ("target-answerable").
// A star and openlineage-sql's names for unnamed expressions (_0, _1, ...)
// are conventions, not names, and are not checked.
func unanswerable(c corpusCase) []string {
	words := map[string]bool{}
	for _, w := range identWords(c.SQL) {
		words[w] = true
	}
	// listed reports whether the schema lists col for table, or for any
	// table when table is nil.
	listed := func(table *string, col string) bool {
		for tbl, cols := range c.Schema {
			if table != nil {
				t, want := normName(tbl), normName(*table)
				if t != want && !strings.HasSuffix(t, "."+want) && !strings.HasSuffix(want, "."+t) {
					continue
				}
			}
			for have := range cols {
				if strings.EqualFold(have, col) {
					return true
				}
			}
		}
		return false
	}
	seen := map[string]bool{}
	var out []string
	check := func(table *string, col string) {
		if col == "*" || c.Semantics == "openlineage" && strings.HasPrefix(col, "_") || listed(table, col) {
			return
		}
		for _, w := range identWords(col) {
			if !words[w] && !seen[col] {
				seen[col] = true
				out = append(out, col)
			}
		}
	}
	for _, cl := range c.Expected.ColumnLineage {
		// A downstream column may take its name from any table the
		// statement reads; an upstream one must belong to its table.
		check(nil, cl.Downstream.Column)
		for _, u := range cl.Upstreams {
			if u.Table != nil {
				check(u.Table, u.Column)
			}
		}
	}
	sort.Strings(out)
	return out
}

// needsOrder reports whether a case's answer depends on a table's column
// order, which no case schema holds (see caseInput): an INSERT without a
// column list whose outputs do not all share a name with the target's
// columns, so that only a positional mapping could pair them. The analysis
// says so with a warning.
func needsOrder(rs []Result) bool {
	for _, r := range rs {
		for _, d := range r.Diagnostics {
			if strings.Contains(d.Message, "does not give the column order") {
				return true
			}
		}
	}
	return false
}

// identWords splits text into lower-cased identifier words.
func identWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
