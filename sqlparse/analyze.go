package sqlparse

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
)

// Analyze returns the lineage of one statement. It never panics and never
// fails: when the statement cannot be parsed even after the dialect
// rewrite, the lexer fallback gives table-level lineage with status
// table_only and the parse error as a diagnostic. A nil schema is allowed.
func Analyze(in Input, schema Schema) (res Result) {
	if in.Dialect == "" {
		in.Dialect = Postgres
	}
	toks := &tokens{src: in.SQL, toks: lex(in.SQL, optsFor(in.Dialect))}
	scan := scanTables(toks, in.Dialect, in.DefaultDatabase, in.DefaultSchema)
	defer func() {
		if r := recover(); r != nil {
			// A bug in a deeper layer must not take the caller down: keep
			// the table-level answer and say what happened.
			res = tableOnly(in, scan)
			res.Diagnostics = append(res.Diagnostics, Diagnostic{Line: 0, Col: 0, Severity: SeverityError,
				Message: fmt.Sprintf("internal error in column analysis (please report): %v", r)})
			res.finish()
		}
	}()
	if scan.kind == KindSkipped {
		res = Result{Kind: KindSkipped, Status: StatusFull}
		res.finish()
		return res
	}
	if start, end, ok := blockBody(toks); ok {
		res = analyzeBlock(in, start, end, scan, schema)
		res.finish()
		return res
	}
	res = analyzeColumns(in, toks, scan, schema)
	res.finish()
	return res
}

// blockBody finds the body of an anonymous BEGIN ... END block (Snowflake
// Scripting, with an optional DECLARE section): the byte span between the
// block's BEGIN and its final END.
func blockBody(t *tokens) (start, end int, ok bool) {
	n := len(t.toks)
	if n < 2 {
		return 0, 0, false
	}
	b := 0
	switch {
	case t.is(0, "begin"):
		// BEGIN; BEGIN TRANSACTION; BEGIN WORK start a transaction.
		if t.isAny(1, "transaction", "work", "tran", "name") || t.punct(1, ';') {
			return 0, 0, false
		}
	case t.is(0, "declare"):
		for b = 1; b < n && !t.is(b, "begin"); b++ {
		}
		if b == n {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	e := n - 1
	for e > b && t.punct(e, ';') {
		e--
	}
	if e <= b || !t.is(e, "end") {
		return 0, 0, false
	}
	return t.toks[b].end, t.toks[e].start, true
}

// analyzeBlock analyses the statements of a block body one by one, as a
// script, and merges their lineage. Statements the block's control flow
// wraps (IF ... THEN, LET, RETURN) may not parse; they keep table-level
// lineage and their diagnostics, and the block is then partial. The
// lexer's tables of the whole block are kept, so a DECLARE section's
// cursor query still counts as a read.
func analyzeBlock(in Input, start, end int, scan tableScan, schema Schema) Result {
	res := Result{Kind: scan.kind, Writes: scan.writes, Reads: scan.reads}
	body := in.SQL[start:end]
	columnLevel, complete := false, true
	for _, p := range Split(body, in.Dialect) {
		pin := in
		pin.SQL = p.SQL
		r := Analyze(pin, schema)
		switch r.Status {
		case StatusFull, StatusPartial:
			columnLevel = true
		}
		if r.Status != StatusFull {
			complete = false
		}
		res.Writes = append(res.Writes, r.Writes...)
		res.Reads = append(res.Reads, r.Reads...)
		res.Columns = append(res.Columns, r.Columns...)
		res.Indirect = append(res.Indirect, r.Indirect...)
		res.Renames = append(res.Renames, r.Renames...)
		pl, pc := lineCol(in.SQL, start+p.Offset)
		for _, d := range r.Diagnostics {
			switch {
			case d.Line == 0:
				d.Line, d.Col = pl, pc
			case d.Line == 1:
				d.Line, d.Col = pl, pc+d.Col-1
			default:
				d.Line += pl - 1
			}
			res.Diagnostics = append(res.Diagnostics, d)
		}
	}
	switch {
	case !columnLevel:
		res.Status = StatusTableOnly
		if len(res.Writes) == 0 && len(res.Reads) == 0 {
			res.Status = StatusFull // a block without tables (SET vars, RETURN)
		}
	case complete:
		res.Status = StatusFull
	default:
		res.Status = StatusPartial
	}
	return res
}

// tableOnly builds the table-level result of the lexer fallback.
func tableOnly(in Input, scan tableScan) Result {
	res := Result{Kind: scan.kind, Status: StatusTableOnly, Writes: scan.writes, Reads: scan.reads, Renames: scan.renames}
	if len(scan.writes) == 0 && len(scan.reads) == 0 && len(scan.renames) == 0 && scan.kind != KindSelect && scan.kind != KindOther {
		res.Status = StatusFailed
	}
	return res
}

// finish sorts every slice and removes duplicates so that equal inputs give
// equal Results, and replaces nil slices by empty ones for stable JSON.
func (r *Result) finish() {
	r.Writes = sortTables(r.Writes)
	r.Reads = sortTables(r.Reads)
	// One entry per target column: MERGE can assign a column in UPDATE and
	// INSERT, INSERT ALL can write it from several branches.
	merged := r.Columns[:0]
	type colKey struct {
		t Table
		c string
	}
	index := map[colKey]int{}
	for _, c := range r.Columns {
		key := colKey{c.Target, c.Column}
		if k, ok := index[key]; ok {
			merged[k].Sources = append(merged[k].Sources, c.Sources...)
			continue
		}
		index[key] = len(merged)
		merged = append(merged, c)
	}
	r.Columns = merged
	for i := range r.Columns {
		r.Columns[i].Sources = sortSources(r.Columns[i].Sources)
	}
	sort.SliceStable(r.Columns, func(i, j int) bool {
		a, b := r.Columns[i], r.Columns[j]
		if a.Target != b.Target {
			return a.Target.less(b.Target)
		}
		return a.Column < b.Column
	})
	r.Indirect = sortSources(r.Indirect)
	sort.Slice(r.Renames, func(i, j int) bool {
		a, b := r.Renames[i], r.Renames[j]
		if a.From != b.From {
			return a.From.less(b.From)
		}
		return a.To.less(b.To)
	})
	sort.SliceStable(r.Diagnostics, func(i, j int) bool {
		a, b := r.Diagnostics[i], r.Diagnostics[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Message < b.Message
	})
	if r.Writes == nil {
		r.Writes = []Table{}
	}
	if r.Reads == nil {
		r.Reads = []Table{}
	}
	if r.Columns == nil {
		r.Columns = []ColumnLineage{}
	}
	if r.Indirect == nil {
		r.Indirect = []Source{}
	}
	if r.OutputColumns == nil {
		r.OutputColumns = []string{}
	}
	if r.Renames == nil {
		r.Renames = []Rename{}
	}
	if r.Diagnostics == nil {
		r.Diagnostics = []Diagnostic{}
	}
}

func (s Source) less(o Source) bool {
	if s.Table != o.Table {
		return s.Table.less(o.Table)
	}
	if s.Column != o.Column {
		return s.Column < o.Column
	}
	if s.Type != o.Type {
		return s.Type < o.Type
	}
	return s.Subtype < o.Subtype
}

func sortSources(ss []Source) []Source {
	sort.Slice(ss, func(i, j int) bool { return ss[i].less(ss[j]) })
	k := 0
	for i := range ss {
		if i > 0 && ss[i] == ss[k-1] {
			continue
		}
		ss[k] = ss[i]
		k++
	}
	if ss == nil {
		return []Source{}
	}
	return ss[:k]
}

// Fingerprint returns a key for the statement's shape: equal for
// statements that differ only in literals, bind variables, whitespace,
// comments and keyword case, and that have the same dialect and defaults.
// Callers use it to analyse each distinct statement once. It is computed
// from the token stream, so it never fails and costs far less than a parse.
func Fingerprint(in Input) uint64 {
	h := fnv.New64a()
	write := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	write(string(in.Dialect))
	write(in.DefaultDatabase)
	write(in.DefaultSchema)
	for _, tk := range lex(in.SQL, optsFor(in.Dialect)) {
		s := in.SQL[tk.start:tk.end]
		switch tk.kind {
		case tString, tNumber, tVar:
			write("?")
		case tIdent:
			write(strings.ToLower(s))
		default:
			write(s)
		}
	}
	return h.Sum64()
}
