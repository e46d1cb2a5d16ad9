package graph

import (
	"slices"
)

// Step is a dataset reached by a traversal.
type Step struct {
	ID    DatasetID `json:"id"`
	Depth int       `json:"depth"` // number of edges from the start, 1 for direct neighbours
	// Path lists the edges from the start to ID, in traversal order: for
	// Upstream Path[0].To is the start and Path[len-1].From is ID; for
	// Downstream Path[0].From is the start and Path[len-1].To is ID. It is
	// one shortest path, the first in ID order.
	Path []*Edge `json:"path"`
}

// ColumnStep is a column reached by a column traversal. A ColumnID with an
// empty Column stands for every column of its dataset (see ColumnID).
type ColumnStep struct {
	ID    ColumnID      `json:"id"`
	Depth int           `json:"depth"`
	Path  []*ColumnEdge `json:"path"` // as Step.Path
}

// Index holds adjacency lists for traversals. Build it once with NewIndex
// to run many traversals; it does not see changes made to the graph after
// it was built.
type Index struct {
	up, down           map[DatasetID][]*Edge
	colUp, colDown     map[ColumnID][]*ColumnEdge
	colUpDS, colDownDS map[DatasetID][]*ColumnEdge // column edges by the dataset of To / From
}

// NewIndex indexes g's edges for traversal.
func NewIndex(g *Graph) *Index {
	ix := &Index{
		up:        map[DatasetID][]*Edge{},
		down:      map[DatasetID][]*Edge{},
		colUp:     map[ColumnID][]*ColumnEdge{},
		colDown:   map[ColumnID][]*ColumnEdge{},
		colUpDS:   map[DatasetID][]*ColumnEdge{},
		colDownDS: map[DatasetID][]*ColumnEdge{},
	}
	for _, e := range g.Edges {
		ix.up[e.To] = append(ix.up[e.To], e)
		ix.down[e.From] = append(ix.down[e.From], e)
	}
	for _, e := range g.ColumnEdges {
		ix.colUp[e.To] = append(ix.colUp[e.To], e)
		ix.colDown[e.From] = append(ix.colDown[e.From], e)
		ix.colUpDS[e.To.Dataset] = append(ix.colUpDS[e.To.Dataset], e)
		ix.colDownDS[e.From.Dataset] = append(ix.colDownDS[e.From.Dataset], e)
	}
	// Sorted adjacency makes the first-found path, and so the output,
	// deterministic.
	byEdge := func(a, b *Edge) int { return compareEdgeID(a.EdgeID, b.EdgeID) }
	byColEdge := func(a, b *ColumnEdge) int { return compareColumnEdgeID(a.ColumnEdgeID, b.ColumnEdgeID) }
	for _, m := range []map[DatasetID][]*Edge{ix.up, ix.down} {
		for _, l := range m {
			slices.SortFunc(l, byEdge)
		}
	}
	for _, m := range []map[ColumnID][]*ColumnEdge{ix.colUp, ix.colDown} {
		for _, l := range m {
			slices.SortFunc(l, byColEdge)
		}
	}
	for _, m := range []map[DatasetID][]*ColumnEdge{ix.colUpDS, ix.colDownDS} {
		for _, l := range m {
			slices.SortFunc(l, byColEdge)
		}
	}
	return ix
}

// Upstream returns the datasets start reads from, directly or through
// others, up to depth edges away (0 means no limit). See Index.Upstream.
func (g *Graph) Upstream(start DatasetID, depth int) []Step {
	return NewIndex(g).Upstream(start, depth)
}

// Downstream returns the datasets that read from start. See
// Index.Downstream.
func (g *Graph) Downstream(start DatasetID, depth int) []Step {
	return NewIndex(g).Downstream(start, depth)
}

// UpstreamColumns returns the columns start is derived from. See
// Index.UpstreamColumns.
func (g *Graph) UpstreamColumns(start ColumnID, depth int) []ColumnStep {
	return NewIndex(g).UpstreamColumns(start, depth)
}

// DownstreamColumns returns the columns derived from start. See
// Index.DownstreamColumns.
func (g *Graph) DownstreamColumns(start ColumnID, depth int) []ColumnStep {
	return NewIndex(g).DownstreamColumns(start, depth)
}

// Upstream returns the datasets start reads from, directly or through
// others, up to depth edges away (0 means no limit). Cycles are followed
// once. The start itself is never in the result. Steps are ordered by depth,
// then ID.
func (ix *Index) Upstream(start DatasetID, depth int) []Step {
	nodes := walk(start, depth, compareDatasetID, func(n DatasetID) []hop[DatasetID, *Edge] {
		return hops(ix.up[n], func(e *Edge) DatasetID { return e.From })
	})
	return datasetSteps(nodes)
}

// Downstream returns the datasets that read from start, directly or
// through others. Depth, cycles and order are as for Upstream.
func (ix *Index) Downstream(start DatasetID, depth int) []Step {
	nodes := walk(start, depth, compareDatasetID, func(n DatasetID) []hop[DatasetID, *Edge] {
		return hops(ix.down[n], func(e *Edge) DatasetID { return e.To })
	})
	return datasetSteps(nodes)
}

// UpstreamColumns returns the columns start is derived from or depends on,
// following column edges of every transformation type. The edges into
// "every column" of start's dataset (INDIRECT edges with an empty To.Column,
// from a filter or a join) count as edges into start. A start with an empty
// Column means the whole dataset: every column edge into the dataset.
// Depth, cycles and order are as for Upstream.
func (ix *Index) UpstreamColumns(start ColumnID, depth int) []ColumnStep {
	nodes := walk(start, depth, compareColumnID, func(n ColumnID) []hop[ColumnID, *ColumnEdge] {
		var in []*ColumnEdge
		if n.Column == "" {
			in = ix.colUpDS[n.Dataset]
		} else {
			in = append(slices.Clone(ix.colUp[n]), ix.colUp[ColumnID{Dataset: n.Dataset}]...)
		}
		return hops(in, func(e *ColumnEdge) ColumnID { return e.From })
	})
	return columnSteps(nodes)
}

// DownstreamColumns returns the columns derived from start or affected by
// it. An edge to "every column" of a dataset (empty To.Column) is reported
// as that ColumnID and continues through every column edge out of the
// dataset. A start with an empty Column means the whole dataset. Depth,
// cycles and order are as for Upstream.
func (ix *Index) DownstreamColumns(start ColumnID, depth int) []ColumnStep {
	nodes := walk(start, depth, compareColumnID, func(n ColumnID) []hop[ColumnID, *ColumnEdge] {
		out := ix.colDown[n]
		if n.Column == "" {
			out = ix.colDownDS[n.Dataset]
		}
		return hops(out, func(e *ColumnEdge) ColumnID { return e.To })
	})
	return columnSteps(nodes)
}

type hop[N comparable, E any] struct {
	to   N
	edge E
}

func hops[N comparable, E any](edges []E, end func(E) N) []hop[N, E] {
	out := make([]hop[N, E], len(edges))
	for i, e := range edges {
		out[i] = hop[N, E]{to: end(e), edge: e}
	}
	return out
}

type reached[N comparable, E any] struct {
	id    N
	depth int
	path  []E
}

// walk is a breadth-first search from start. Each level is expanded in node
// order and each node's hops in the order given, so the path recorded for a
// node (the first one found) is deterministic.
func walk[N comparable, E any](start N, depth int, compare func(a, b N) int, next func(N) []hop[N, E]) []reached[N, E] {
	paths := map[N][]E{start: nil}
	var out []reached[N, E]
	frontier := []N{start}
	for level := 1; len(frontier) > 0 && (depth <= 0 || level <= depth); level++ {
		var found []N
		for _, n := range frontier {
			for _, h := range next(n) {
				if _, seen := paths[h.to]; seen {
					continue
				}
				p := make([]E, len(paths[n])+1)
				copy(p, paths[n])
				p[len(p)-1] = h.edge
				paths[h.to] = p
				found = append(found, h.to)
			}
		}
		slices.SortFunc(found, compare)
		for _, n := range found {
			out = append(out, reached[N, E]{id: n, depth: level, path: paths[n]})
		}
		frontier = found
	}
	return out
}

func datasetSteps(nodes []reached[DatasetID, *Edge]) []Step {
	out := make([]Step, len(nodes))
	for i, n := range nodes {
		out[i] = Step{ID: n.id, Depth: n.depth, Path: n.path}
	}
	return out
}

func columnSteps(nodes []reached[ColumnID, *ColumnEdge]) []ColumnStep {
	out := make([]ColumnStep, len(nodes))
	for i, n := range nodes {
		out[i] = ColumnStep{ID: n.id, Depth: n.depth, Path: n.path}
	}
	return out
}
