package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/weftdata/weft/graph"
)

const defaultGraphFile = "graph.json"

type lineageOptions struct {
	io        iostreams
	direction string // "upstream" or "downstream"
	ref       string

	graphPath string
	storePath string
	asOf      string
	depth     int
	json      bool
	columns   bool
	direct    bool
}

func newLineageCmd(a *app, runF func(context.Context, *lineageOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lineage <upstream|downstream> <dataset | dataset.column>",
		Short: "Show what a dataset or column comes from, or what it feeds",
		Long: strings.TrimSpace(`
Walk the lineage graph written by "weft snapshot" from one dataset or
column, upstream (where its data comes from) or downstream (what reads it),
and print the result as a tree.

A reference can be any name the dataset is known by, in any case: a full
ID (snowflake://acme-prod/ANALYTICS.MARTS.FCT_LOANS), a dotted name, a
unique suffix of one (MARTS.FCT_LOANS, fct_loans) or a dbt unique_id
(model.risk.fct_loans). Add .COLUMN for column-level lineage. When a
reference matches several datasets, weft lists them; pick one.`),
		Example: examples(`
  weft lineage upstream fct_loan_risk
  weft lineage downstream RAW.LOANS.LOANS --depth 1
  weft lineage upstream fct_loan_risk.expected_loss --graph demo-out/graph.json`),
	}
	directions := []string{"upstream", "downstream"}
	requireSubcommand(cmd)
	// The subcommands are directions: name a wrong one as such. The root's
	// flag error func calls this too, so the flags of a direction after a
	// wrong one ("sideways x --graph g.json") do not hide it.
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		return usageErrorf("unknown direction %q: use %s", args[0], strings.Join(directions, " or "))
	}
	for _, dir := range directions {
		cmd.AddCommand(newLineageDirCmd(a, dir, runF))
	}
	return cmd
}

func newLineageDirCmd(a *app, direction string, runF func(context.Context, *lineageOptions) error) *cobra.Command {
	opts := &lineageOptions{direction: direction}
	what := map[string]string{
		"upstream":   "the datasets or columns REF is built from, back to the raw sources",
		"downstream": "the datasets or columns built from REF, down to the consumers",
	}[direction]
	cmd := &cobra.Command{
		Use:   direction + " <dataset | dataset.column>",
		Short: "Show " + what,
		Long: strings.TrimSpace(fmt.Sprintf(`
Show %s, as a tree read from a graph file written by "weft snapshot".

REF is any name of a dataset, in any case: a full ID
(snowflake://acme-prod/ANALYTICS.MARTS.FCT_LOANS), a dotted name, a unique
suffix of one (MARTS.FCT_LOANS, fct_loans) or a dbt unique_id. Add .COLUMN
for column-level lineage: each line then shows the transformation, DIRECT
(IDENTITY, TRANSFORMATION, AGGREGATION) or INDIRECT (JOIN, FILTER, GROUP_BY,
SORT, WINDOW, CONDITIONAL): a column used only in a join or filter still
matters when it changes.

--depth limits how many edges away to go; the default, 0, follows the
whole chain. A node reached a second time is shown once, with "(see
above)" or "(see below)" where it repeats, and "…" marks a node with more
lineage beyond --depth. --columns shows column-level
lineage for every column of a dataset. --direct keeps only DIRECT column
edges: where the values come from, without the joins and filters that
decide which rows. --json prints the nodes and edges with stable field
names instead of the tree.

With --store, the graph comes from the lineage store "weft extract" keeps
instead of a graph file: the current edges, or with --as-of the edges that
were valid at that time (a dbt model removed since still shows; one added
since does not).`, what)),
		Example: examples(fmt.Sprintf(`
  weft lineage %[1]s ANALYTICS.MARTS.FCT_LOANS
  weft lineage %[1]s fct_loans --depth 1 --graph demo-out/graph.json
  weft lineage %[1]s fct_loans.loan_id
  weft lineage %[1]s fct_loans.interest_rate --direct
  weft lineage %[1]s fct_loans --columns --json | jq '.nodes[].id'
  weft lineage %[1]s fct_loans --store weft.db --as-of 2026-10-01T00:00:00Z`, direction)),
		Args: exactArgs(1, "one dataset or column reference"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.io = a.io
			opts.ref = args[0]
			if strings.TrimSpace(opts.ref) == "" {
				return usageErrorf("the dataset or column reference is empty")
			}
			if opts.depth < 0 {
				return usageErrorf("--depth must be 0 (no limit) or more, got %d", opts.depth)
			}
			if opts.storePath != "" && cmd.Flags().Changed("graph") {
				return usageErrorf("give --graph or --store, not both")
			}
			if opts.asOf != "" {
				if opts.storePath == "" {
					return usageErrorf("--as-of needs --store (a graph file has no history)")
				}
				if _, err := parseTime(opts.asOf); err != nil {
					return usageErrorf("--as-of: %v", err)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLineage(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&opts.depth, "depth", "d", 0, "how many edges to follow (0: the whole chain)")
	f.StringVarP(&opts.graphPath, "graph", "g", defaultGraphFile, "graph `file` written by weft snapshot")
	f.StringVar(&opts.storePath, "store", "", "read the lineage store `weft.db` (from weft extract) instead of a graph file")
	f.StringVar(&opts.asOf, "as-of", "", "with --store, the lineage valid at `time` (RFC 3339 or a date) instead of now")
	f.BoolVar(&opts.json, "json", false, "print JSON (nodes and edges) instead of a tree")
	f.BoolVar(&opts.columns, "columns", false, "for a dataset, show the lineage of each of its columns")
	f.BoolVar(&opts.direct, "direct", false, "column lineage: follow DIRECT edges only (where the values come from), leaving out joins and filters")
	return cmd
}

// readGraphFile decodes a graph file, with a hint when it is missing.
func readGraphFile(path string) (*graph.Graph, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file (write one with \"weft snapshot -o %s\", or pass --graph)", path, path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	g, err := graph.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// resolveRef finds the dataset or column ref names: a dataset when one
// matches, else a column.
func resolveRef(g *graph.Graph, ref string) (graph.ColumnID, bool, error) {
	ids, err := g.Lookup(ref)
	if err == nil {
		return graph.ColumnID{Dataset: ids[0]}, false, nil
	}
	if !errors.Is(err, graph.ErrNotFound) {
		return graph.ColumnID{}, false, ambiguity(err)
	}
	cols, cerr := g.LookupColumn(ref)
	if cerr == nil {
		return cols[0], true, nil
	}
	var amb *graph.AmbiguousError
	if errors.As(cerr, &amb) {
		return graph.ColumnID{}, false, ambiguity(cerr)
	}
	if dot := strings.LastIndex(ref, "."); dot > 0 {
		if ids, err := g.Lookup(ref[:dot]); err == nil {
			// The dataset part matched: the column is what is missing.
			var cols []string
			if d, ok := g.Datasets[ids[0]]; ok {
				for _, c := range d.Columns {
					cols = append(cols, c.Name)
				}
			}
			known := "it has no known columns"
			if len(cols) > 0 {
				known = "columns: " + strings.Join(cols, ", ")
			}
			return graph.ColumnID{}, false, fmt.Errorf("%s has no column %q (%s)", ids[0], ref[dot+1:], known)
		}
	}
	return graph.ColumnID{}, false, fmt.Errorf("no dataset or column matches %q (try a longer or shorter name, or \"weft lineage --help\")", ref)
}

// ambiguity renders an *AmbiguousError as a list the user can copy from.
func ambiguity(err error) error {
	var amb *graph.AmbiguousError
	if !errors.As(err, &amb) {
		return err
	}
	return fmt.Errorf("%q matches %d datasets; use one of:\n  %s", amb.Ref, len(amb.Candidates), strings.Join(amb.Candidates, "\n  "))
}

func runLineage(ctx context.Context, opts *lineageOptions) error {
	var g *graph.Graph
	var err error
	if opts.storePath != "" {
		var asOf time.Time
		if opts.asOf != "" {
			asOf, _ = parseTime(opts.asOf)
		}
		g, err = readStoreGraph(ctx, opts.storePath, asOf)
	} else {
		g, err = readGraphFile(opts.graphPath)
	}
	if err != nil {
		return err
	}
	start, isColumn, err := resolveRef(g, opts.ref)
	if err != nil {
		return err
	}
	up := opts.direction == "upstream"
	if !isColumn && !opts.columns {
		t := newDatasetTree(g, up)
		if opts.json {
			return writeJSON(opts.io.Out, t.report(start.Dataset, opts.direction, opts.depth))
		}
		return writeTree(opts.io.Out, t, start.Dataset, opts.depth, opts.direction)
	}

	t := newColumnTree(g, up, opts.direct)
	if opts.json {
		return writeJSON(opts.io.Out, t.report(start, opts.direction, opts.depth))
	}
	if isColumn {
		return writeTree(opts.io.Out, t, start, opts.depth, opts.direction)
	}
	// Every column of the dataset, in the dataset's order, then columns
	// known only from edges.
	cols := datasetColumns(g, start.Dataset, up)
	if len(cols) == 0 {
		fmt.Fprintf(opts.io.Err, "%s has no column-level lineage %s\n", start.Dataset, opts.direction)
		return writeTree(opts.io.Out, t, start, opts.depth, opts.direction)
	}
	for i, c := range cols {
		if i > 0 {
			fmt.Fprintln(opts.io.Out)
		}
		if err := writeTree(opts.io.Out, t, graph.ColumnID{Dataset: start.Dataset, Column: c}, opts.depth, opts.direction); err != nil {
			return err
		}
	}
	return nil
}

// datasetColumns lists ds's columns: its schema's, then those only seen in
// column edges on the side that matters, sorted.
func datasetColumns(g *graph.Graph, ds graph.DatasetID, up bool) []string {
	var cols []string
	seen := map[string]bool{}
	if d, ok := g.Datasets[ds]; ok {
		for _, c := range d.Columns {
			cols = append(cols, c.Name)
			seen[c.Name] = true
		}
	}
	var extra []string
	for id := range g.ColumnEdges {
		end := id.From
		if up {
			end = id.To
		}
		if end.Dataset == ds && end.Column != "" && !seen[end.Column] {
			seen[end.Column] = true
			extra = append(extra, end.Column)
		}
	}
	slices.Sort(extra)
	return append(cols, extra...)
}

// A tree is a lineage graph seen from one direction.
type tree[N comparable] interface {
	// children returns N's neighbours in the tree's direction, sorted,
	// with the label of the edges that lead to each.
	children(n N) []child[N]
	// label describes a node.
	label(n N, root N) string
}

type child[N comparable] struct {
	node  N
	edges string // "" for table edges, "DIRECT IDENTITY", "INDIRECT JOIN"...
}

// levels returns each node's distance from start (breadth first), up to
// depth (0: no limit).
func levels[N comparable](t tree[N], start N, depth int) map[N]int {
	lv := map[N]int{start: 0}
	frontier := []N{start}
	for l := 1; len(frontier) > 0 && (depth == 0 || l <= depth); l++ {
		var next []N
		for _, n := range frontier {
			for _, c := range t.children(n) {
				if _, ok := lv[c.node]; !ok {
					lv[c.node] = l
					next = append(next, c.node)
				}
			}
		}
		frontier = next
	}
	return lv
}

// writeTree prints the lineage of start as an indented tree. Each node is
// expanded once, where it is nearest to start; elsewhere it is marked
// "(see above)" or "(see below)".
func writeTree[N comparable](w io.Writer, t tree[N], start N, depth int, direction string) error {
	lv := levels(t, start, depth)
	expanded := map[N]bool{start: true}
	var b strings.Builder
	b.WriteString(t.label(start, start))
	b.WriteString("\n")
	if len(t.children(start)) == 0 {
		b.WriteString("  (nothing " + direction + ")\n")
	}
	var walk func(n N, level int, prefix string)
	walk = func(n N, level int, prefix string) {
		kids := t.children(n)
		for i, c := range kids {
			branch, indent := "├── ", "│   "
			if i == len(kids)-1 {
				branch, indent = "└── ", "    "
			}
			b.WriteString(prefix + branch + t.label(c.node, start))
			if c.edges != "" {
				b.WriteString("  [" + c.edges + "]")
			}
			switch {
			case expanded[c.node]:
				if len(t.children(c.node)) > 0 || c.node == start {
					b.WriteString("  (see above)")
				}
				b.WriteString("\n")
			case lv[c.node] < level+1:
				b.WriteString("  (see below)\n")
			case depth > 0 && level+1 >= depth:
				// Cut by --depth: say when there is more.
				if len(t.children(c.node)) > 0 {
					b.WriteString("  …")
				}
				b.WriteString("\n")
			default:
				expanded[c.node] = true
				b.WriteString("\n")
				walk(c.node, level+1, prefix+indent)
			}
		}
	}
	walk(start, 0, "")
	_, err := io.WriteString(w, b.String())
	return err
}

// datasetTree is the table-level graph in one direction.
type datasetTree struct {
	g   *graph.Graph
	up  bool
	adj map[graph.DatasetID][]graph.DatasetID
}

func newDatasetTree(g *graph.Graph, up bool) *datasetTree {
	t := &datasetTree{g: g, up: up, adj: map[graph.DatasetID][]graph.DatasetID{}}
	for id := range g.Edges {
		if up {
			t.adj[id.To] = append(t.adj[id.To], id.From)
		} else {
			t.adj[id.From] = append(t.adj[id.From], id.To)
		}
	}
	for _, l := range t.adj {
		slices.SortFunc(l, graph.DatasetID.Compare)
	}
	return t
}

func (t *datasetTree) children(n graph.DatasetID) []child[graph.DatasetID] {
	out := make([]child[graph.DatasetID], len(t.adj[n]))
	for i, id := range t.adj[n] {
		out[i] = child[graph.DatasetID]{node: id}
	}
	return out
}

func (t *datasetTree) label(n, root graph.DatasetID) string {
	return datasetLabel(t.g, n, root.Namespace, n == root)
}

// datasetLabel names a dataset by its name when it shares the root's
// namespace (by its full ID otherwise, and always for the root), with its
// platform and kind.
func datasetLabel(g *graph.Graph, id graph.DatasetID, rootNS string, full bool) string {
	name := id.Name
	if full || id.Namespace != rootNS {
		name = id.String()
	}
	return name + describe(g, id)
}

func describe(g *graph.Graph, id graph.DatasetID) string {
	d, ok := g.Datasets[id]
	if !ok {
		return "  (not in the graph's datasets)"
	}
	return fmt.Sprintf("  (%s %s)", d.Platform, d.Kind)
}

// columnTree is the column-level graph in one direction. A ColumnID with
// an empty Column stands for every column of its dataset (filters, join
// keys), as in graph.ColumnEdge.
type columnTree struct {
	g     *graph.Graph
	up    bool
	byCol map[graph.ColumnID][]*graph.ColumnEdge
	byDS  map[graph.DatasetID][]*graph.ColumnEdge
	kids  map[graph.ColumnID][]child[graph.ColumnID]
}

func newColumnTree(g *graph.Graph, up, directOnly bool) *columnTree {
	t := &columnTree{
		g: g, up: up,
		byCol: map[graph.ColumnID][]*graph.ColumnEdge{},
		byDS:  map[graph.DatasetID][]*graph.ColumnEdge{},
		kids:  map[graph.ColumnID][]child[graph.ColumnID]{},
	}
	for _, e := range g.ColumnEdges {
		if directOnly && e.Type != graph.Direct {
			continue
		}
		near := e.From
		if up {
			near = e.To
		}
		t.byCol[near] = append(t.byCol[near], e)
		t.byDS[near.Dataset] = append(t.byDS[near.Dataset], e)
	}
	return t
}

// edgesOf returns the column edges leading away from n in the tree's
// direction, mirroring graph.Index: upstream of a column includes the
// edges into "every column" of its dataset; the whole-dataset node leads
// through every edge of its dataset.
func (t *columnTree) edgesOf(n graph.ColumnID) []*graph.ColumnEdge {
	if n.Column == "" {
		return t.byDS[n.Dataset]
	}
	es := t.byCol[n]
	if t.up {
		es = append(slices.Clone(es), t.byCol[graph.ColumnID{Dataset: n.Dataset}]...)
	}
	return es
}

func (t *columnTree) far(e *graph.ColumnEdge) graph.ColumnID {
	if t.up {
		return e.From
	}
	return e.To
}

func (t *columnTree) children(n graph.ColumnID) []child[graph.ColumnID] {
	if c, ok := t.kids[n]; ok {
		return c
	}
	types := map[graph.ColumnID][]string{}
	for _, e := range t.edgesOf(n) {
		f := t.far(e)
		types[f] = append(types[f], e.Type+" "+e.Subtype)
	}
	out := make([]child[graph.ColumnID], 0, len(types))
	for id, ts := range types {
		slices.Sort(ts)
		out = append(out, child[graph.ColumnID]{node: id, edges: strings.Join(slices.Compact(ts), ", ")})
	}
	slices.SortFunc(out, func(a, b child[graph.ColumnID]) int { return graph.ColumnID.Compare(a.node, b.node) })
	t.kids[n] = out
	return out
}

func (t *columnTree) label(n, root graph.ColumnID) string {
	name := n.Dataset.Name
	if n == root || n.Dataset.Namespace != root.Dataset.Namespace {
		name = n.Dataset.String()
	}
	if n.Column == "" {
		name += " (all columns)"
	} else {
		name += "." + n.Column
	}
	return name + describe(t.g, n.Dataset)
}

// lineageReport is the --json output of weft lineage. Field names are
// stable; nodes are sorted by depth then ID, edges by ID.
type lineageReport[N any, E any] struct {
	Direction string          `json:"direction"`
	Depth     int             `json:"depth"` // the limit asked for; 0 means none
	Start     N               `json:"start"`
	Nodes     []reportNode[N] `json:"nodes"`
	Edges     []E             `json:"edges"`
}

type reportNode[N any] struct {
	ID       N              `json:"id"`
	Depth    int            `json:"depth"`
	Platform graph.Platform `json:"platform,omitempty"`
	Kind     graph.Kind     `json:"kind,omitempty"`
}

type datasetEdge struct {
	From graph.DatasetID `json:"from"`
	To   graph.DatasetID `json:"to"`
}

type columnEdge struct {
	From    graph.ColumnID `json:"from"`
	To      graph.ColumnID `json:"to"`
	Type    string         `json:"type"`
	Subtype string         `json:"subtype"`
}

func (t *datasetTree) report(start graph.DatasetID, direction string, depth int) lineageReport[graph.DatasetID, datasetEdge] {
	lv := levels[graph.DatasetID](t, start, depth)
	r := lineageReport[graph.DatasetID, datasetEdge]{Direction: direction, Depth: depth, Start: start, Nodes: []reportNode[graph.DatasetID]{}, Edges: []datasetEdge{}}
	for id, l := range lv {
		if id == start {
			continue
		}
		n := reportNode[graph.DatasetID]{ID: id, Depth: l}
		if d, ok := t.g.Datasets[id]; ok {
			n.Platform, n.Kind = d.Platform, d.Kind
		}
		r.Nodes = append(r.Nodes, n)
		_ = l
	}
	for near, l := range lv {
		if depth > 0 && l >= depth {
			continue
		}
		for _, c := range t.children(near) {
			e := datasetEdge{From: c.node, To: near}
			if !t.up {
				e = datasetEdge{From: near, To: c.node}
			}
			r.Edges = append(r.Edges, e)
		}
	}
	slices.SortFunc(r.Nodes, func(a, b reportNode[graph.DatasetID]) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), graph.DatasetID.Compare(a.ID, b.ID))
	})
	slices.SortFunc(r.Edges, func(a, b datasetEdge) int {
		return cmp.Or(graph.DatasetID.Compare(a.From, b.From), graph.DatasetID.Compare(a.To, b.To))
	})
	return r
}

func (t *columnTree) report(start graph.ColumnID, direction string, depth int) lineageReport[graph.ColumnID, columnEdge] {
	lv := levels[graph.ColumnID](t, start, depth)
	r := lineageReport[graph.ColumnID, columnEdge]{Direction: direction, Depth: depth, Start: start, Nodes: []reportNode[graph.ColumnID]{}, Edges: []columnEdge{}}
	for id, l := range lv {
		if id == start {
			continue
		}
		n := reportNode[graph.ColumnID]{ID: id, Depth: l}
		if d, ok := t.g.Datasets[id.Dataset]; ok {
			n.Platform, n.Kind = d.Platform, d.Kind
		}
		r.Nodes = append(r.Nodes, n)
	}
	seen := map[graph.ColumnEdgeID]bool{}
	for near, l := range lv {
		if depth > 0 && l >= depth {
			continue
		}
		for _, e := range t.edgesOf(near) {
			if seen[e.ColumnEdgeID] {
				continue
			}
			seen[e.ColumnEdgeID] = true
			r.Edges = append(r.Edges, columnEdge{From: e.From, To: e.To, Type: e.Type, Subtype: e.Subtype})
		}
	}
	slices.SortFunc(r.Nodes, func(a, b reportNode[graph.ColumnID]) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), graph.ColumnID.Compare(a.ID, b.ID))
	})
	slices.SortFunc(r.Edges, func(a, b columnEdge) int {
		return cmp.Or(graph.ColumnID.Compare(a.From, b.From), graph.ColumnID.Compare(a.To, b.To),
			strings.Compare(a.Type, b.Type), strings.Compare(a.Subtype, b.Subtype))
	})
	return r
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
