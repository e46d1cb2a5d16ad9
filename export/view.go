// Package export writes a lineage graph in the formats other tools read:
// OpenLineage RunEvents (to a file or an HTTP consumer), Graphviz DOT,
// Mermaid and a self-contained HTML page.
//
// Every writer takes an io.Writer and sorts before writing, so the same
// graph gives the same bytes.
package export

import (
	"cmp"
	"slices"
	"strings"

	"github.com/weftdata/weft/graph"
)

// ViewOptions selects the part of a graph a diagram shows, so that a graph
// of thousands of nodes stays readable.
type ViewOptions struct {
	// Focus lists the datasets to centre on; empty means the whole graph.
	Focus []graph.DatasetID
	// Depth limits how many edges upstream and downstream of the focus are
	// shown; 0 means no limit. Ignored without Focus.
	Depth int
	// Columns draws each dataset's columns and the column edges between
	// the datasets shown.
	Columns bool
}

// view is the selected part of a graph, sorted.
type view struct {
	datasets    []graph.DatasetID
	focus       map[graph.DatasetID]bool
	edges       []*graph.Edge
	columnEdges []*graph.ColumnEdge
	columns     map[graph.DatasetID][]string
}

func selectView(g *graph.Graph, opts ViewOptions) view {
	v := view{focus: map[graph.DatasetID]bool{}, columns: map[graph.DatasetID][]string{}}
	in := map[graph.DatasetID]bool{}
	if len(opts.Focus) == 0 {
		for id := range g.Datasets {
			in[id] = true
		}
		for id := range g.Edges {
			in[id.From], in[id.To] = true, true
		}
	} else {
		ix := graph.NewIndex(g)
		for _, f := range opts.Focus {
			in[f], v.focus[f] = true, true
			for _, s := range ix.Upstream(f, opts.Depth) {
				in[s.ID] = true
			}
			for _, s := range ix.Downstream(f, opts.Depth) {
				in[s.ID] = true
			}
		}
	}
	for id, e := range g.Edges {
		if in[id.From] && in[id.To] {
			v.edges = append(v.edges, e)
		}
	}
	slices.SortFunc(v.edges, func(a, b *graph.Edge) int {
		return cmp.Or(graph.DatasetID.Compare(a.From, b.From), graph.DatasetID.Compare(a.To, b.To))
	})
	if opts.Columns {
		seen := map[graph.ColumnID]bool{}
		addCol := func(c graph.ColumnID) {
			if c.Column != "" && !seen[c] {
				seen[c] = true
				v.columns[c.Dataset] = append(v.columns[c.Dataset], c.Column)
			}
		}
		ids := make([]graph.DatasetID, 0, len(in))
		for id := range in {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, graph.DatasetID.Compare)
		for _, id := range ids {
			if d, ok := g.Datasets[id]; ok {
				for _, c := range d.Columns {
					addCol(graph.ColumnID{Dataset: id, Column: c.Name})
				}
			}
		}
		for id, e := range g.ColumnEdges {
			if in[id.From.Dataset] && in[id.To.Dataset] {
				v.columnEdges = append(v.columnEdges, e)
			}
		}
		slices.SortFunc(v.columnEdges, func(a, b *graph.ColumnEdge) int {
			return cmp.Or(graph.ColumnID.Compare(a.From, b.From), graph.ColumnID.Compare(a.To, b.To),
				strings.Compare(a.Type, b.Type), strings.Compare(a.Subtype, b.Subtype))
		})
		// Columns known only from edges come after the schema's columns.
		for _, e := range v.columnEdges {
			addCol(e.From)
			addCol(e.To)
		}
	}
	for id := range in {
		v.datasets = append(v.datasets, id)
	}
	slices.SortFunc(v.datasets, graph.DatasetID.Compare)
	return v
}

// platformOf returns the dataset's platform, or guesses it from the
// namespace scheme for datasets known only from edges.
func platformOf(g *graph.Graph, id graph.DatasetID) string {
	if d, ok := g.Datasets[id]; ok && d.Platform != "" {
		return string(d.Platform)
	}
	if scheme, _, ok := strings.Cut(id.Namespace, "://"); ok {
		return scheme
	}
	return "unknown"
}

// transformLabel names a column edge's transformation: "IDENTITY",
// "INDIRECT FILTER".
func transformLabel(e *graph.ColumnEdge) string {
	if e.Type == graph.Indirect {
		return "INDIRECT " + e.Subtype
	}
	return e.Subtype
}
