package graph

import (
	"maps"
	"slices"
)

// PropTemporary is the dataset property that marks a session temporary
// table ("true"). Extractors set it, with Kind KindTemp, on tables created
// by CREATE TEMPORARY; the property survives merging with observations
// that only know the table as a table (merging keeps the more specific
// kind, and a parser sees just a table).
const PropTemporary = "temporary"

// IsTemp reports whether d is a session temporary table.
func (d *Dataset) IsTemp() bool {
	return d.Kind == KindTemp || d.Properties[PropTemporary] == "true"
}

// CollapseTemp resolves lineage through session temporary tables. For
// each temporary dataset T (see IsTemp), every path U → T → D becomes an
// edge U → D, at table level and at column level, carrying the evidence of
// both hops; then T and the edges that touch it are removed. Chains of
// temporary tables collapse completely. It returns the removed datasets,
// sorted.
//
// Column edges compose by type: if either hop is INDIRECT the result is
// INDIRECT with that hop's subtype (the upstream hop's first); two DIRECT
// hops stay DIRECT, an IDENTITY hop taking the other hop's subtype, and
// AGGREGATION winning over TRANSFORMATION. A column edge into the whole
// of T (an empty column: a filter or join that affects every row) reaches
// every column that T passes on.
//
// Call it after everything of a run is merged (extractors' observations
// and parsed statements), because a temporary table's upstreams and
// downstreams usually come from different statements.
func (g *Graph) CollapseTemp() []DatasetID {
	var temps []DatasetID
	for id, d := range g.Datasets {
		if d.IsTemp() {
			temps = append(temps, id)
		}
	}
	slices.SortFunc(temps, compareDatasetID)
	for _, t := range temps {
		g.collapseOne(t)
	}
	return temps
}

func (g *Graph) collapseOne(t DatasetID) {
	// table level
	var in, out []*Edge
	for _, id := range slices.SortedFunc(maps.Keys(g.Edges), compareEdgeID) {
		e := g.Edges[id]
		switch {
		case id.From == t && id.To == t:
			delete(g.Edges, id)
		case id.To == t:
			in = append(in, e)
			delete(g.Edges, id)
		case id.From == t:
			out = append(out, e)
			delete(g.Edges, id)
		}
	}
	for _, i := range in {
		for _, o := range out {
			if i.From == o.To {
				continue
			}
			for _, ev := range i.Evidence {
				g.AddEdge(i.From, o.To, ev)
			}
			for _, ev := range o.Evidence {
				g.AddEdge(i.From, o.To, ev)
			}
		}
	}

	// column level
	var cin, cout []*ColumnEdge
	for _, id := range slices.SortedFunc(maps.Keys(g.ColumnEdges), compareColumnEdgeID) {
		e := g.ColumnEdges[id]
		switch {
		case id.From.Dataset == t && id.To.Dataset == t:
			delete(g.ColumnEdges, id)
		case id.To.Dataset == t:
			cin = append(cin, e)
			delete(g.ColumnEdges, id)
		case id.From.Dataset == t:
			cout = append(cout, e)
			delete(g.ColumnEdges, id)
		}
	}
	for _, i := range cin {
		for _, o := range cout {
			if i.To.Column != "" && i.To.Column != o.From.Column {
				continue
			}
			if i.From == o.To {
				continue
			}
			typ, sub := composeTransform(i.Type, i.Subtype, o.Type, o.Subtype)
			id := ColumnEdgeID{From: i.From, To: o.To, Type: typ, Subtype: sub}
			for _, ev := range i.Evidence {
				g.AddColumnEdge(id, ev)
			}
			for _, ev := range o.Evidence {
				g.AddColumnEdge(id, ev)
			}
		}
	}
	delete(g.Datasets, t)
}

// composeTransform types the edge a → c made of the hops a → b (t1, s1)
// and b → c (t2, s2).
func composeTransform(t1, s1, t2, s2 string) (string, string) {
	switch {
	case t1 == Indirect:
		return Indirect, s1
	case t2 == Indirect:
		return Indirect, s2
	case s1 == SubtypeIdentity:
		return Direct, s2
	case s2 == SubtypeIdentity:
		return Direct, s1
	case s1 == SubtypeAggregation || s2 == SubtypeAggregation:
		return Direct, SubtypeAggregation
	}
	return Direct, SubtypeTransformation
}
