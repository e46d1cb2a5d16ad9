package weave

import (
	"slices"

	"github.com/weftdata/weft/graph"
)

// collapseTemp resolves session temporary tables (datasets of kind temp)
// through: a temp table's upstreams become its downstreams' upstreams, at
// table and column level, and the temp table leaves the graph. Chains of
// temp tables collapse one after another. The new edges carry the evidence
// of the statement that read the temp table, which is the one that wrote
// the lasting table.
func collapseTemp(g *graph.Graph) {
	var temps []graph.DatasetID
	for id, d := range g.Datasets {
		if d.Kind == graph.KindTemp {
			temps = append(temps, id)
		}
	}
	slices.SortFunc(temps, compareID)
	for _, t := range temps {
		collapseOne(g, t)
	}
}

func collapseOne(g *graph.Graph, t graph.DatasetID) {
	// Table level.
	var ins, outs []*graph.Edge
	for id, e := range g.Edges {
		switch {
		case id.To == t && id.From != t:
			ins = append(ins, e)
		case id.From == t && id.To != t:
			outs = append(outs, e)
		}
	}
	for id := range g.Edges {
		if id.From == t || id.To == t {
			delete(g.Edges, id)
		}
	}
	for _, in := range ins {
		for _, out := range outs {
			if in.From == out.To {
				continue
			}
			for _, ev := range out.Evidence {
				g.AddEdge(in.From, out.To, ev)
			}
		}
	}

	// Column level. into[x] are the edges into column x of t (x == "" for
	// dataset-level INDIRECT edges); from[x] the edges out of it.
	into := map[string][]*graph.ColumnEdge{}
	var outOf []*graph.ColumnEdge
	for id, e := range g.ColumnEdges {
		switch {
		case id.To.Dataset == t && id.From.Dataset != t:
			into[id.To.Column] = append(into[id.To.Column], e)
		case id.From.Dataset == t && id.To.Dataset != t:
			outOf = append(outOf, e)
		}
	}
	for id := range g.ColumnEdges {
		if id.From.Dataset == t || id.To.Dataset == t {
			delete(g.ColumnEdges, id)
		}
	}
	// Which downstream datasets read t at all: a dataset-level edge into t
	// (a filter on what went into it) affects each of them as a whole.
	readers := map[graph.DatasetID][]graph.Evidence{}
	for _, out := range outOf {
		readers[out.To.Dataset] = append(readers[out.To.Dataset], out.Evidence...)
		for _, in := range into[out.From.Column] {
			typ, sub := compose(in.Type, in.Subtype, out.Type, out.Subtype)
			to := out.To
			if typ == graph.Indirect && in.Type == graph.Indirect {
				// Indirect upstream influence reaches the downstream
				// dataset as a whole, as it did t.
				to = graph.ColumnID{Dataset: out.To.Dataset}
			}
			id := graph.ColumnEdgeID{From: in.From, To: to, Type: typ, Subtype: sub}
			for _, ev := range out.Evidence {
				g.AddColumnEdge(id, ev)
			}
		}
	}
	for d, evs := range readers {
		for _, in := range into[""] {
			id := graph.ColumnEdgeID{From: in.From, To: graph.ColumnID{Dataset: d}, Type: in.Type, Subtype: in.Subtype}
			for _, ev := range evs {
				g.AddColumnEdge(id, ev)
			}
		}
	}
	delete(g.Datasets, t)
}

// compose types the edge a → c made from a → b (t1/s1) and b → c (t2/s2).
// An INDIRECT step makes the whole path INDIRECT (the downstream use
// decides the subtype when it is the indirect one); a DIRECT path is an
// IDENTITY only when both steps are, an AGGREGATION when either is.
func compose(t1, s1, t2, s2 string) (string, string) {
	switch {
	case t2 == graph.Indirect:
		return graph.Indirect, s2
	case t1 == graph.Indirect:
		return graph.Indirect, s1
	case s1 == graph.SubtypeAggregation || s2 == graph.SubtypeAggregation:
		return graph.Direct, graph.SubtypeAggregation
	case s1 == graph.SubtypeIdentity && s2 == graph.SubtypeIdentity:
		return graph.Direct, graph.SubtypeIdentity
	}
	return graph.Direct, graph.SubtypeTransformation
}
