package check

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/weave"
)

// BuildOptions configure BuildPR.
type BuildOptions struct {
	// Full analyses the SQL of every model, whatever the base knows.
	Full bool
	// Workers is weave's parallelism; 0 means one per CPU.
	Workers int
	// Logger is told at info level how much was analysed; nil discards.
	Logger *slog.Logger
	// BaseOutputs are the base build's weave outputs when the base was
	// built from a manifest (--base-manifest): then a reused model's output
	// columns are known exactly, constants included.
	BaseOutputs map[graph.DatasetID][]string
}

// PRBuild is the pull request's graph as Run reads it.
type PRBuild struct {
	Graph *graph.Graph
	// Outputs are the output columns of each model whose SQL is fully
	// analysed (Input.Outputs).
	Outputs map[graph.DatasetID][]string
	// Analysed counts the statements whose SQL was parsed, Reused the
	// models whose analysis was taken from the base.
	Analysed, Reused int
	// Full is set when every statement was analysed; FullReason says why.
	Full       bool
	FullReason string
}

// BuildPR weaves the pull request's project with column lineage, as Run
// needs it. Unless opts.Full is set, it is incremental: a model whose
// compiled SQL equals the base's (the SQL of the same dbt job) and none of
// whose upstreams changed, transitively, keeps the base's analysis
// instead of being parsed again. Changed means a different compiled SQL
// or depends_on, a node added or removed, or other column names (which
// the SQL analysis sees) on a source, seed or documented model.
//
// A reused model contributes what Run reads of it: its output columns.
// Its column edges and analysis findings are the base's own, which Run
// skips as older than the PR, so they are left out. Its output columns
// come from the base: exactly from opts.BaseOutputs, or else from the base
// dataset's columns (a model without documented columns: weave gave it its
// SQL's output columns) or from the columns dbt's parse of the model
// reaches in the base (Evidence{Extractor: "dbt", Method: "parsed",
// Origin: unique_id}). The last misses output columns computed from no
// column (literals, count(*)); wherever Run would ask about such a column
// (a removed column with downstream uses, a column a changed model newly
// reads) the model is analysed after all. The result gives the same
// findings as a full analysis; BuildPR falls back to one when the base
// has no dbt parse evidence for the project (a base from another tool).
func BuildPR(ctx context.Context, p *dbt.Project, base *graph.Graph, opts BuildOptions) (*PRBuild, error) {
	stmts := p.Statements()
	if opts.Full {
		return buildFull(ctx, p, stmts, opts, "--full")
	}
	if base == nil {
		return buildFull(ctx, p, stmts, opts, "no base graph")
	}
	ix := indexBase(base, p)
	if ix.parsedNodes == 0 {
		return buildFull(ctx, p, stmts, opts, "the base has no dbt parse evidence for the project's models")
	}
	pg := p.Graph()
	plan := planBuild(p, pg, base, ix, stmts, opts.BaseOutputs)

	w := weave.New(weave.Options{Columns: true, Workers: opts.Workers, Logger: opts.Logger})
	w.Add(extractors.Batch{Graph: pg, Statements: plan.analyse})
	g, _, err := w.Build(ctx)
	if err != nil {
		return nil, err
	}
	outputs := w.Outputs()
	for id, out := range plan.outputs {
		if _, ok := outputs[id]; !ok {
			outputs[id] = out
		}
	}
	// Run may ask a reused model for a column its base edges do not show:
	// analyse those models now, against the same catalog.
	again := plan.ambiguous(g, base)
	if len(again) > 0 {
		w2 := weave.New(weave.Options{Columns: true, Workers: opts.Workers, Logger: opts.Logger})
		pg2 := p.Graph()
		plan.seed(pg2)
		w2.Add(extractors.Batch{Graph: pg2, Statements: again})
		if _, _, err := w2.Build(ctx); err != nil {
			return nil, err
		}
		for _, s := range again {
			if out, ok := w2.Outputs()[s.Target]; ok {
				outputs[s.Target] = out
			} else {
				delete(outputs, s.Target) // not fully analysed: no claim, as in a full build
			}
		}
	}
	analysed := len(plan.analyse) + len(again)
	if opts.Logger != nil {
		opts.Logger.Info("incremental analysis: the SQL of changed models and their downstream parsed, the rest taken from the base",
			"statements", len(stmts), "analysed", analysed, "reused", len(stmts)-analysed)
	}
	return &PRBuild{Graph: g, Outputs: outputs, Analysed: analysed, Reused: len(stmts) - analysed}, nil
}

func buildFull(ctx context.Context, p *dbt.Project, stmts []extractors.Statement, opts BuildOptions, reason string) (*PRBuild, error) {
	w := weave.New(weave.Options{Columns: true, Workers: opts.Workers, Logger: opts.Logger})
	w.Add(extractors.Batch{Graph: p.Graph(), Statements: stmts})
	g, _, err := w.Build(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Logger != nil {
		opts.Logger.Info("full analysis", "statements", len(stmts), "reason", reason)
	}
	return &PRBuild{Graph: g, Outputs: w.Outputs(), Analysed: len(stmts), Full: true, FullReason: reason}, nil
}

// baseParse is what the base knows of dbt's parse of one node.
type baseParse struct {
	cols    map[string]bool // upper-cased columns its column edges reach
	partial bool            // some edge has less than full confidence
}

// baseIndex is what one pass over the base's edges gives.
type baseIndex struct {
	parsed      map[string]*baseParse                 // unique_id → parse evidence
	deps        map[string]map[graph.DatasetID]bool   // unique_id → depends_on upstreams
	down        map[graph.DatasetID][]graph.DatasetID // table edges of dbt evidence
	parsedNodes int                                   // PR statements with parse evidence
}

func indexBase(base *graph.Graph, p *dbt.Project) *baseIndex {
	ix := &baseIndex{
		parsed: map[string]*baseParse{},
		deps:   map[string]map[graph.DatasetID]bool{},
		down:   map[graph.DatasetID][]graph.DatasetID{},
	}
	parse := func(uid string) *baseParse {
		bp := ix.parsed[uid]
		if bp == nil {
			bp = &baseParse{cols: map[string]bool{}}
			ix.parsed[uid] = bp
		}
		return bp
	}
	for _, e := range base.Edges {
		dbtEdge := false
		for _, ev := range e.Evidence {
			if ev.Extractor != "dbt" {
				continue
			}
			dbtEdge = true
			switch ev.Method {
			case "parsed":
				bp := parse(ev.Origin)
				bp.partial = bp.partial || ev.Confidence != 1
			case "depends_on":
				m := ix.deps[ev.Origin]
				if m == nil {
					m = map[graph.DatasetID]bool{}
					ix.deps[ev.Origin] = m
				}
				m[e.From] = true
			}
		}
		if dbtEdge {
			ix.down[e.From] = append(ix.down[e.From], e.To)
		}
	}
	for _, e := range base.ColumnEdges {
		for _, ev := range e.Evidence {
			if ev.Extractor != "dbt" || ev.Method != "parsed" {
				continue
			}
			bp := parse(ev.Origin)
			bp.partial = bp.partial || ev.Confidence != 1
			if e.To.Column != "" {
				bp.cols[strings.ToUpper(e.To.Column)] = true
			}
		}
	}
	for _, n := range p.Nodes {
		if ix.parsed[n.UniqueID] != nil {
			ix.parsedNodes++
		}
	}
	return ix
}

// buildPlan says which statements to analyse and what the reused models
// provide.
type buildPlan struct {
	analyse []extractors.Statement
	// outputs of reused models; seeds are the columns to give reused
	// models that have none of their own (a full build learns them from
	// the SQL).
	outputs map[graph.DatasetID][]string
	seeds   map[graph.DatasetID][]string
	// inexact are reused models whose outputs are the columns the base's
	// edges reach (constants may be missing), with those columns; stmt
	// holds every reused model's statement.
	inexact map[graph.DatasetID]map[string]bool
	stmt    map[graph.DatasetID]extractors.Statement
	project *dbt.Project
}

func planBuild(p *dbt.Project, pg, base *graph.Graph, ix *baseIndex, stmts []extractors.Statement, baseOutputs map[graph.DatasetID][]string) *buildPlan {
	baseByUID := byUniqueID(base)
	// The analysis of a model's SQL depends on the SQL and on the columns
	// the catalog gives each relation it reads: a node's own columns
	// (catalog.json, YAML), or for a model without any, its SQL's output
	// columns. changed holds the models whose own analysis may differ from
	// the base's; visible the datasets whose columns, as their readers'
	// analysis sees them, may differ.
	changed := map[graph.DatasetID]bool{}
	visible := map[graph.DatasetID]bool{}
	prDeps := map[string]map[graph.DatasetID]bool{}
	for _, e := range pg.Edges {
		for _, ev := range e.Evidence {
			if ev.Extractor == "dbt" && ev.Method == "depends_on" {
				m := prDeps[ev.Origin]
				if m == nil {
					m = map[graph.DatasetID]bool{}
					prDeps[ev.Origin] = m
				}
				m[e.From] = true
			}
		}
	}
	ownColumns := func(id graph.DatasetID) bool {
		d := pg.Datasets[id]
		return d != nil && len(d.Columns) > 0
	}
	packages := map[string]bool{}
	for _, n := range p.Nodes {
		packages[n.PackageName] = true
		if !n.IsDataset() {
			continue
		}
		id := n.DatasetID()
		bid, ok := baseByUID[n.UniqueID]
		bd := base.Datasets[id]
		if !ok || bid != id || bd == nil {
			changed[id], visible[id] = true, true // new, or builds another relation
			continue
		}
		if !sameDeps(prDeps[n.UniqueID], ix.deps[n.UniqueID]) {
			changed[id] = true
		}
		if j, isJob := pg.Jobs[p.JobID(n)]; isJob {
			if bj := base.Jobs[p.JobID(n)]; bj == nil || bj.SQL != j.SQL {
				changed[id] = true
			}
		}
		// A model without columns of its own is compared by its analysis.
		if cols := pg.Datasets[id].Columns; (len(cols) > 0 || n.ResourceType != "model") && !sameColumnNames(cols, bd.Columns) {
			changed[id], visible[id] = true, true
		}
	}
	// Relations models read by name that production knows the columns of
	// (a Snowflake table): the base's analysis saw them, the PR's does not.
	for from := range ix.down {
		if _, inPR := pg.Datasets[from]; !inPR {
			if bd := base.Datasets[from]; bd != nil && len(bd.Columns) > 0 {
				visible[from] = true
			}
		}
	}
	// Nodes of the project that the PR removed.
	for uid, bid := range baseByUID {
		parts := strings.SplitN(uid, ".", 3)
		if len(parts) == 3 && packages[parts[1]] && p.Node(uid) == nil {
			visible[bid] = true
		}
	}
	// A changed model without columns of its own shows its readers other
	// columns; so does a reader of such a change, and so on. A model with
	// columns of its own stops the wave: its readers see those.
	var queue []graph.DatasetID
	for id := range changed {
		if !ownColumns(id) {
			visible[id] = true
		}
	}
	for id := range visible {
		queue = append(queue, id)
	}
	down := map[graph.DatasetID][]graph.DatasetID{}
	for id := range pg.Edges {
		down[id.From] = append(down[id.From], id.To)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, list := range [][]graph.DatasetID{down[id], ix.down[id]} {
			for _, to := range list {
				changed[to] = true
				if !visible[to] && !ownColumns(to) {
					visible[to] = true
					queue = append(queue, to)
				}
			}
		}
	}
	dirty := changed

	plan := &buildPlan{
		outputs: map[graph.DatasetID][]string{},
		seeds:   map[graph.DatasetID][]string{},
		inexact: map[graph.DatasetID]map[string]bool{},
		stmt:    map[graph.DatasetID]extractors.Statement{},
		project: p,
	}
	candidates := map[graph.ColumnID]graph.DatasetID{}
	for _, s := range stmts {
		n := p.Node(s.Origin.NodeID)
		bp := ix.parsed[s.Origin.NodeID]
		if n == nil || s.Target.IsZero() || dirty[s.Target] || n.ResourceType != "model" || n.ContractEnforced || bp == nil || bp.partial {
			// Contracts compare the outputs in order; snapshots and
			// analyses are few: analyse them.
			plan.analyse = append(plan.analyse, s)
			continue
		}
		bd := base.Datasets[s.Target]
		own := pg.Datasets[s.Target].Columns
		switch {
		case baseOutputs != nil:
			out, ok := baseOutputs[s.Target]
			if !ok {
				plan.analyse = append(plan.analyse, s) // not fully analysed in the base
				continue
			}
			plan.outputs[s.Target] = out
			if len(own) == 0 {
				plan.seeds[s.Target] = out
			}
		case len(own) == 0:
			// weave gave the base dataset its SQL's output columns.
			names := columnNames(bd.Columns)
			if len(names) == 0 || !coversFold(names, bp.cols) {
				plan.analyse = append(plan.analyse, s)
				continue
			}
			plan.outputs[s.Target] = names
			plan.seeds[s.Target] = names
		default:
			// Documented columns: the outputs are the columns the parse
			// reaches, in the base's order.
			var out []string
			seen := map[string]bool{}
			for _, c := range bd.Columns {
				up := strings.ToUpper(c.Name)
				if bp.cols[up] {
					out = append(out, c.Name)
					seen[up] = true
				} else {
					// Unknown whether the SQL produces it: ask the base
					// whether anything reads it (removed_column).
					candidates[graph.ColumnID{Dataset: s.Target, Column: c.Name}] = s.Target
				}
			}
			for _, c := range slices.Sorted(maps.Keys(bp.cols)) {
				if !seen[c] {
					out = append(out, c)
				}
			}
			plan.outputs[s.Target] = out
			plan.inexact[s.Target] = bp.cols
		}
		plan.stmt[s.Target] = s
	}
	if len(candidates) > 0 {
		read := map[graph.DatasetID]bool{}
		for id := range base.ColumnEdges {
			if ds, ok := candidates[id.From]; ok {
				read[ds] = true
			}
		}
		for ds := range read {
			plan.analyse = append(plan.analyse, plan.stmt[ds])
			plan.drop(ds)
		}
	}
	plan.seed(pg)
	return plan
}

func (plan *buildPlan) drop(id graph.DatasetID) {
	delete(plan.outputs, id)
	delete(plan.seeds, id)
	delete(plan.inexact, id)
	delete(plan.stmt, id)
}

// seed gives reused models without columns of their own the columns a
// full build learns from their SQL, so that `select *` over them expands.
func (plan *buildPlan) seed(pg *graph.Graph) {
	for id, names := range plan.seeds {
		d := pg.Datasets[id]
		if d == nil || len(d.Columns) > 0 {
			continue
		}
		d.Columns = make([]graph.Column, len(names))
		for i, n := range names {
			d.Columns[i] = graph.Column{Name: n}
		}
	}
}

// ambiguous returns the statements of reused models with inexact outputs
// that Run will ask about a column their base edges do not reach: the
// upstream of a new column edge, or of a new unresolved column.
func (plan *buildPlan) ambiguous(g, base *graph.Graph) []extractors.Statement {
	if len(plan.inexact) == 0 {
		return nil
	}
	need := map[graph.DatasetID]bool{}
	ask := func(ds graph.DatasetID, col string) {
		if cols, ok := plan.inexact[ds]; ok && !cols[strings.ToUpper(col)] {
			need[ds] = true
		}
	}
	for id := range g.ColumnEdges {
		if id.From.Column == "" || isPseudoColumn(id.From.Column) {
			continue
		}
		if _, inBase := base.ColumnEdges[id]; !inBase {
			ask(id.From.Dataset, id.From.Column)
		}
	}
	c := &checker{base: base, in: Input{Project: plan.project}}
	var upstreams map[graph.DatasetID][]graph.DatasetID
	for _, f := range g.Findings {
		if f.Code != "unresolved_column" || c.inBase(f) {
			continue
		}
		nodeID, _, _ := strings.Cut(f.Location, ":")
		n := c.nodeByOrigin(nodeID)
		if n == nil || n.Relation.IsZero() {
			continue
		}
		if upstreams == nil {
			upstreams = map[graph.DatasetID][]graph.DatasetID{}
			for id := range g.Edges {
				upstreams[id.To] = append(upstreams[id.To], id.From)
			}
		}
		for _, up := range upstreams[n.Relation] {
			ask(up, lastPart(f.Subject))
		}
	}
	var out []extractors.Statement
	for _, id := range sortedIDs(need) {
		out = append(out, plan.stmt[id])
	}
	return out
}

func sameDeps(a, b map[graph.DatasetID]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for id := range a {
		if !b[id] {
			return false
		}
	}
	return true
}

func sameColumnNames(a, b []graph.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i].Name, b[i].Name) {
			return false
		}
	}
	return true
}

func columnNames(cols []graph.Column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

// coversFold reports whether every upper-cased name in set is in names.
func coversFold(names []string, set map[string]bool) bool {
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[strings.ToUpper(n)] = true
	}
	for n := range set {
		if !have[n] {
			return false
		}
	}
	return true
}
