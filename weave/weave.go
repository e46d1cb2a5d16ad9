// Package weave turns what the extractors observed into one lineage graph.
//
// It merges the graph fragments of every Batch, builds a schema catalog
// from all the datasets seen (catalog.json, documented columns, warehouse
// metadata), then analyses the queued SQL statements with sqlparse:
// statements that build a known target (dbt models) are parsed in
// dependency order, so that a `select *` from an upstream model whose
// columns are known only from its own SQL still expands; statements of the
// same level run in parallel, and each distinct statement is parsed once.
// The resulting table and column edges are merged into the graph with
// provenance.
package weave

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/sqlparse"
)

// Options configure a Weaver.
type Options struct {
	// Columns enables column-level analysis of SQL statements. Without it
	// statements still give table-level edges.
	Columns bool
	// Workers is the number of statements parsed at once; 0 means one per
	// CPU.
	Workers int
	// Logger receives progress at debug level; nil discards.
	Logger *slog.Logger
	// Progress, when set, is called after each dependency level with the
	// number of statements analysed so far and the total.
	Progress func(done, total int)
	// Links are user-declared identity links (weft.yaml `links:`).
	Links []Link
	// Schema holds datasets whose columns statements may read (for star
	// expansion and column resolution) without being part of the result:
	// the graph already stored when a scheduled job weaves one batch.
	Schema *graph.Graph
}

// Stats counts what Build did.
type Stats struct {
	Datasets    int `json:"datasets"`
	Edges       int `json:"edges"`
	ColumnEdges int `json:"column_edges"`
	Statements  int `json:"statements"` // statements received
	Distinct    int `json:"distinct"`   // distinct statements parsed
	Full        int `json:"full"`
	Partial     int `json:"partial"`
	TableOnly   int `json:"table_only"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"` // statements without lineage (USE, SHOW, ...)
	Findings    int `json:"findings"`
}

// Weaver accumulates batches and builds the graph. It is not safe for
// concurrent use; Build parallelises internally.
type Weaver struct {
	opts    Options
	g       *graph.Graph
	stmts   []extractors.Statement
	outputs map[graph.DatasetID][]string
	// constants are output columns the SQL computes from no column at all
	// (literals, count(*), current_timestamp()).
	constants map[graph.DatasetID][]string
}

// New returns an empty Weaver.
func New(opts Options) *Weaver {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Weaver{opts: opts, g: graph.New(), outputs: map[graph.DatasetID][]string{}, constants: map[graph.DatasetID][]string{}}
}

// Outputs returns, after Build, the output columns of each statement
// Target (dbt model) whose SQL was fully analysed: what the model really
// produces, whatever its YAML documents. weft check compares them with
// production.
func (w *Weaver) Outputs() map[graph.DatasetID][]string { return w.outputs }

// Constants returns, after Build, the output columns of each dataset whose
// SQL computes them from no column at all (a literal, count(*), a
// timestamp): honestly without upstream, not missing lineage.
func (w *Weaver) Constants() map[graph.DatasetID][]string { return w.constants }

// Add merges a batch's graph fragment and queues its statements.
func (w *Weaver) Add(b extractors.Batch) {
	if b.Graph != nil {
		w.g.Merge(b.Graph)
	}
	w.stmts = append(w.stmts, b.Statements...)
}

// Build analyses the queued statements and returns the merged graph. The
// Weaver must not be used afterwards.
func (w *Weaver) Build(ctx context.Context) (*graph.Graph, Stats, error) {
	st := Stats{Statements: len(w.stmts)}
	cat := newCatalog(w.g)
	if w.opts.Schema != nil {
		cat.addSchema(w.opts.Schema)
	}
	groups := groupStatements(w.stmts)
	st.Distinct = len(groups)
	levels := levelize(groups, cat, w.g)

	done := 0
	var deferred []*group
	for li, level := range levels {
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		results := make([]sqlparse.Result, len(level))
		if err := w.parseLevel(ctx, cat, level, results); err != nil {
			return nil, st, err
		}
		// Apply sequentially: the catalog learns each target's output
		// columns before the next level parses.
		before := len(deferred)
		for i, grp := range level {
			if results[i].Status == sqlparse.StatusPartial && !grp.hasTarget() {
				// A query-log statement may read a table another statement
				// creates (a session's temp table): try again once the
				// catalog has learned more.
				deferred = append(deferred, grp)
				continue
			}
			w.apply(cat, grp, results[i], &st)
		}
		done += len(level) - (len(deferred) - before)
		w.opts.Logger.Debug("analysed dependency level", "level", li, "statements", len(level))
		if w.opts.Progress != nil {
			w.opts.Progress(done, len(groups))
		}
	}
	// Retry deferred statements while the catalog keeps learning (chains of
	// temp tables), then apply whatever they give.
	for round := 0; len(deferred) > 0; round++ {
		results := make([]sqlparse.Result, len(deferred))
		learned := cat.learned()
		if err := w.parseLevel(ctx, cat, deferred, results); err != nil {
			return nil, st, err
		}
		var again []*group
		for i, grp := range deferred {
			if results[i].Status == sqlparse.StatusPartial && round < maxRetryRounds {
				again = append(again, grp)
				continue
			}
			w.apply(cat, grp, results[i], &st)
		}
		if len(again) == len(deferred) && cat.learned() == learned {
			// No progress: the partial results are final.
			for i, grp := range deferred {
				w.apply(cat, grp, results[i], &st)
			}
			break
		}
		// Statements that became complete taught the catalog; retry the
		// rest against it.
		deferred = again
	}

	w.g.CollapseTemp()
	Unify(w.g, w.opts.Links...)
	completeSnapshotColumns(w.g)
	if !w.opts.Columns {
		// A table-level graph: drop the column edges extractors knew too
		// (access history, Unity Catalog, dbt semantic models).
		clear(w.g.ColumnEdges)
	}

	st.Datasets = len(w.g.Datasets)
	st.Edges = len(w.g.Edges)
	st.ColumnEdges = len(w.g.ColumnEdges)
	st.Findings = len(w.g.Findings)
	return w.g, st, nil
}

// maxRetryRounds bounds how often a partially analysed query-log statement
// is tried again as the catalog learns tables from other statements.
const maxRetryRounds = 3

// group is one distinct statement text and every statement that carried it.
type group struct {
	in    sqlparse.Input
	ns    string
	stmts []extractors.Statement
}

// hasTarget reports whether the group's statements build a known target
// (dbt models), which levelize already orders.
func (g *group) hasTarget() bool {
	for _, s := range g.stmts {
		if !s.Target.IsZero() {
			return true
		}
	}
	return false
}

// groupStatements gathers statements of the same shape: the same text up
// to literals, bind variables, whitespace and comments (sqlparse's
// Fingerprint, which includes the dialect and defaults), in the same
// namespace. Lineage does not depend on literals, so each shape is parsed
// once, however many times the query log saw it.
func groupStatements(stmts []extractors.Statement) []*group {
	type key struct {
		fp uint64
		ns string
	}
	byKey := map[key]*group{}
	var out []*group
	for _, s := range stmts {
		if strings.TrimSpace(s.SQL) == "" {
			continue
		}
		d, err := sqlparse.ParseDialect(s.Dialect)
		if err != nil {
			d = sqlparse.Postgres
		}
		in := sqlparse.Input{SQL: s.SQL, Dialect: d, DefaultDatabase: s.DefaultDatabase, DefaultSchema: s.DefaultSchema}
		k := key{sqlparse.Fingerprint(in), s.Namespace}
		g, ok := byKey[k]
		if !ok {
			g = &group{in: in, ns: s.Namespace}
			byKey[k] = g
			out = append(out, g)
		}
		g.stmts = append(g.stmts, s)
	}
	return out
}

// levelize orders groups so that a statement building target T comes after
// every statement building one of T's upstreams. Only statements with a
// Target (dbt models) take part; the rest go in the first level. Within a
// level, groups keep input order.
func levelize(groups []*group, cat *catalog, g *graph.Graph) [][]*group {
	builder := map[graph.DatasetID]int{} // target → group index
	for i, grp := range groups {
		for _, s := range grp.stmts {
			if !s.Target.IsZero() {
				builder[s.Target] = i
			}
		}
	}
	upstreams := map[graph.DatasetID][]graph.DatasetID{}
	for id := range g.Edges {
		upstreams[id.To] = append(upstreams[id.To], id.From)
	}
	level := make([]int, len(groups))
	state := make([]uint8, len(groups)) // 0 new, 1 visiting, 2 done
	var visit func(i int) int
	visit = func(i int) int {
		switch state[i] {
		case 1:
			return 0 // a cycle: break it here; weft check reports cycles
		case 2:
			return level[i]
		}
		state[i] = 1
		lv := 0
		for _, s := range groups[i].stmts {
			if s.Target.IsZero() {
				continue
			}
			for _, up := range upstreams[s.Target] {
				if j, ok := builder[up]; ok && j != i {
					if l := visit(j) + 1; l > lv {
						lv = l
					}
				}
			}
		}
		level[i], state[i] = lv, 2
		return lv
	}
	maxLevel := 0
	for i := range groups {
		if l := visit(i); l > maxLevel {
			maxLevel = l
		}
	}
	out := make([][]*group, maxLevel+1)
	for i, grp := range groups {
		out[level[i]] = append(out[level[i]], grp)
	}
	return out
}

// parseLevel analyses one level's groups on opts.Workers goroutines.
func (w *Weaver) parseLevel(ctx context.Context, cat *catalog, level []*group, results []sqlparse.Result) error {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(w.opts.Workers, len(level)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				grp := level[i]
				results[i] = sqlparse.Analyze(grp.in, cat.schema(grp.ns, grp.in))
			}
		}()
	}
	var err error
feed:
	for i := range level {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	return err
}

// completeSnapshotColumns appends to each snapshot the columns its
// strategy adds (dbt_scd_id, dbt_valid_from, ...), known from the column
// edges into them, when its columns were learned from its SQL: the SQL
// selects the source columns, dbt adds the rest.
func completeSnapshotColumns(g *graph.Graph) {
	extra := map[graph.DatasetID][]string{}
	for id := range g.ColumnEdges {
		to := id.To
		d, ok := g.Datasets[to.Dataset]
		if !ok || d.Kind != graph.KindSnapshot || to.Column == "" || len(d.Columns) == 0 {
			continue
		}
		if _, has := d.Column(to.Column); !has && !slices.Contains(extra[to.Dataset], to.Column) {
			extra[to.Dataset] = append(extra[to.Dataset], to.Column)
		}
	}
	for id, names := range extra {
		slices.Sort(names)
		d := g.Datasets[id]
		for _, n := range names {
			d.Columns = append(d.Columns, graph.Column{Name: n})
		}
	}
}

// confidence of edges found by a parse with the given status.
func confidence(s sqlparse.Status) float64 {
	switch s {
	case sqlparse.StatusFull:
		return 1
	case sqlparse.StatusPartial:
		return 0.8
	case sqlparse.StatusTableOnly:
		return 0.5
	}
	return 0.3
}

// apply merges one parse result into the graph for every statement that
// carried the text.
func (w *Weaver) apply(cat *catalog, grp *group, res sqlparse.Result, st *Stats) {
	switch res.Status {
	case sqlparse.StatusFull:
		st.Full++
	case sqlparse.StatusPartial:
		st.Partial++
	case sqlparse.StatusTableOnly:
		st.TableOnly++
	case sqlparse.StatusFailed:
		st.Failed++
	}
	if res.Kind == sqlparse.KindSkipped {
		st.Skipped++
		return
	}
	diagnosed := false
	for _, s := range grp.stmts {
		w.applyOne(cat, grp, s, res)
		// Diagnostics belong to the shape, not to each run of it: a query
		// log reports them once per shape; a dbt model once per model.
		if !s.Target.IsZero() {
			w.recordDiagnostics(s, originString(s.Origin), res)
			diagnosed = true
		}
	}
	if !diagnosed {
		w.recordDiagnostics(grp.stmts[0], originString(grp.stmts[0].Origin), res)
	}
}

func (w *Weaver) applyOne(cat *catalog, grp *group, s extractors.Statement, res sqlparse.Result) {
	origin := originString(s.Origin)
	ev := graph.Evidence{
		Extractor:  s.Origin.Extractor,
		Origin:     origin,
		Method:     "parsed",
		Job:        s.Job,
		FirstSeen:  s.FirstSeen,
		LastSeen:   s.LastSeen,
		Count:      s.Count,
		Confidence: confidence(res.Status),
	}
	if ev.Count == 0 {
		ev.Count = 1
	}
	platform := platformOf(grp.ns)
	isDBT := !s.Target.IsZero()

	resolve := func(t sqlparse.Table) graph.DatasetID {
		id, ok := cat.resolve(grp.ns, grp.in, t)
		if ok {
			if _, in := w.g.Datasets[id]; !in {
				// Known from Options.Schema only: the result names it.
				w.g.AddDataset(graph.Dataset{ID: id, Platform: platform})
			}
			return id
		}
		// A table weft has not seen: add it, so its lineage is kept, and
		// say so when the statement came from a project that should know
		// all its inputs (dbt).
		w.g.AddDataset(graph.Dataset{ID: id, Platform: platform, Kind: graph.KindTable})
		cat.add(id, nil)
		if isDBT {
			w.g.AddFinding(graph.Finding{
				Severity: graph.SeverityWarning,
				Code:     "unresolved_table",
				Location: origin,
				Subject:  id.String(),
				Message:  fmt.Sprintf("%s reads %s, which is neither a dbt node nor a source", s.Origin.NodeID, t),
			})
		}
		return id
	}

	// Targets: a bare query builds the statement's Target; otherwise the
	// tables the statement writes.
	var writes []graph.DatasetID
	if isDBT && (res.Kind == sqlparse.KindSelect || len(res.Writes) == 0) {
		writes = []graph.DatasetID{s.Target}
	} else {
		for _, t := range res.Writes {
			writes = append(writes, resolve(t))
		}
	}
	// A statement that creates a view says what it built.
	if res.Kind == sqlparse.KindCreateView && !isDBT {
		for _, id := range writes {
			w.g.AddDataset(graph.Dataset{ID: id, Platform: platform, Kind: graph.KindView})
		}
	}
	var reads []graph.DatasetID
	for _, t := range res.Reads {
		reads = append(reads, resolve(t))
	}
	for _, to := range writes {
		for _, from := range reads {
			if from != to {
				w.g.AddEdge(from, to, ev)
			}
		}
	}

	for _, r := range res.Renames {
		from, to := resolve(r.From), resolve(r.To)
		w.g.AddFinding(graph.Finding{
			Severity: graph.SeverityInfo,
			Code:     "renamed",
			Location: origin,
			Subject:  to.String(),
			Message:  fmt.Sprintf("%s is now known as %s", from, to),
		})
		// The old name is another name of the new one (see identity.go).
		w.g.AddDataset(graph.Dataset{ID: from, Platform: platform, Kind: graph.KindTable,
			Identities: []graph.Identity{{ID: to, Reason: "renamed by " + origin}}})
	}

	if !w.opts.Columns {
		return
	}

	targetOf := func(t sqlparse.Table) (graph.DatasetID, bool) {
		if t.IsZero() {
			if len(writes) == 1 {
				return writes[0], true
			}
			return graph.DatasetID{}, false
		}
		if isDBT && len(writes) == 1 && res.Kind == sqlparse.KindSelect {
			return writes[0], true
		}
		return resolve(t), true
	}
	for _, cl := range res.Columns {
		to, ok := targetOf(cl.Target)
		if !ok {
			continue
		}
		toCol := graph.ColumnID{Dataset: to, Column: cat.columnName(to, cl.Column)}
		if len(cl.Sources) == 0 {
			w.constants[to] = append(w.constants[to], toCol.Column)
		}
		for _, src := range cl.Sources {
			from := resolve(src.Table)
			w.g.AddColumnEdge(graph.ColumnEdgeID{
				From:    graph.ColumnID{Dataset: from, Column: cat.columnName(from, src.Column)},
				To:      toCol,
				Type:    src.Type,
				Subtype: src.Subtype,
			}, ev)
		}
	}
	for _, src := range res.Indirect {
		from := resolve(src.Table)
		for _, to := range writes {
			w.g.AddColumnEdge(graph.ColumnEdgeID{
				From:    graph.ColumnID{Dataset: from, Column: cat.columnName(from, src.Column)},
				To:      graph.ColumnID{Dataset: to},
				Type:    src.Type,
				Subtype: src.Subtype,
			}, ev)
		}
	}
	// Teach the catalog the output columns of what was built, so later
	// levels can expand `select *` from it, and give the dataset its columns
	// when no metadata listed them.
	if isDBT && res.Status == sqlparse.StatusFull && len(res.OutputColumns) > 0 {
		w.outputs[s.Target] = res.OutputColumns
	}
	if len(res.OutputColumns) > 0 {
		for _, to := range writes {
			if cat.add(to, res.OutputColumns) {
				cols := make([]graph.Column, len(res.OutputColumns))
				for i, c := range res.OutputColumns {
					cols[i] = graph.Column{Name: c}
				}
				w.g.AddDataset(graph.Dataset{ID: to, Platform: platform, Columns: cols})
			}
		}
	}
}

// recordDiagnostics turns a statement's diagnostics into findings when the
// parse was not complete: users see what weft could not understand. Each
// column reference that matched no source becomes its own
// unresolved_column finding, which weft check turns into unknown_column
// errors when the upstream columns are known.
func (w *Weaver) recordDiagnostics(s extractors.Statement, origin string, res sqlparse.Result) {
	if res.Status == sqlparse.StatusFull {
		return
	}
	for _, d := range res.Diagnostics {
		col := d.Column
		if col == "" {
			continue
		}
		subject := graph.ColumnID{Dataset: s.Target, Column: col}.String()
		if s.Target.IsZero() {
			subject = col
		}
		w.g.AddFinding(graph.Finding{
			Severity: graph.SeverityInfo,
			Code:     "unresolved_column",
			Location: fmt.Sprintf("%s:%d:%d", origin, d.Line, d.Col),
			Subject:  subject,
			Message:  fmt.Sprintf("column %s matches no column of the tables in scope", col),
		})
	}
	sev := graph.SeverityInfo
	if res.Status == sqlparse.StatusFailed {
		sev = graph.SeverityWarning
	}
	msgs := make([]string, 0, len(res.Diagnostics))
	for _, d := range res.Diagnostics {
		if d.Severity == sqlparse.SeverityInfo {
			continue
		}
		msgs = append(msgs, d.String())
	}
	sort.Strings(msgs)
	msg := fmt.Sprintf("SQL parsed with status %s", res.Status)
	if len(msgs) > 0 {
		msg += ": " + msgs[0]
		if len(msgs) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(msgs)-1)
		}
	}
	w.g.AddFinding(graph.Finding{
		Severity: sev,
		Code:     "sql_" + string(res.Status),
		Location: origin,
		Message:  msg,
	})
}

// originString names where a statement came from, stably across runs: the
// dbt node, the query shape or query id, the run.
func originString(o extractors.Origin) string {
	switch {
	case o.NodeID != "":
		return o.NodeID
	case o.QueryID != "":
		return o.Extractor + " query " + o.QueryID
	case o.RunID != "":
		return o.Extractor + " run " + o.RunID
	}
	return o.String()
}

// platformOf reads the platform from an OpenLineage namespace
// ("snowflake://acct" → snowflake).
func platformOf(ns string) graph.Platform {
	if i := strings.Index(ns, "://"); i > 0 {
		return graph.Platform(ns[:i])
	}
	return graph.Platform(ns)
}
