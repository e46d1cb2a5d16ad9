package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/weftdata/weft/graph"
)

// maxAffected caps how many downstream nodes one finding lists; the count
// in the message and AffectedCount stay exact.
const maxAffected = 200

// setAffected stores the first maxAffected of all in f, and the total
// when it cuts.
func setAffected(f *Finding, all []Affected) {
	f.Affected = all
	if len(all) > maxAffected {
		f.Affected = all[:maxAffected]
		f.AffectedCount = len(all)
	}
}

// affectedCount is how many downstream nodes and columns f affects.
func affectedCount(f Finding) int { return max(f.AffectedCount, len(f.Affected)) }

// uses describes what reads a changed node or column: "3 downstream
// columns in 2 datasets", "1 downstream dataset".
func uses(all []Affected) string {
	datasets := map[string]bool{}
	cols := 0
	for _, a := range all {
		datasets[a.Name] = true
		if a.Column != "" {
			cols++
		}
	}
	if cols == 0 {
		return countNoun(len(datasets), "downstream dataset")
	}
	return countNoun(cols, "downstream column") + " in " + countNoun(len(datasets), "dataset")
}

// downstreamOfColumn walks the base graph's column edges from col, DIRECT
// and INDIRECT alike (a column used only in a filter still breaks when
// dropped). An INDIRECT edge into a dataset as a whole affects that
// dataset, and through it everything downstream of it at table level.
func (c *checker) downstreamOfColumn(col graph.ColumnID) []Affected {
	type item struct {
		col  graph.ColumnID
		path []Hop
	}
	seen := map[graph.ColumnID]bool{col: true}
	var out []Affected
	queue := []item{{col: col}}
	var datasets []item // dataset-level hits, walked at table level below
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		edges := c.columnsFrom(it.col)
		for _, e := range edges {
			if seen[e.To] {
				continue
			}
			seen[e.To] = true
			hop := Hop{
				From: it.col.String(),
				To:   e.To.String(),
				Type: e.Type + "/" + e.Subtype,
				Via:  c.via(e.From.Dataset, e.To.Dataset, e.Evidence),
			}
			path := append(slices.Clone(it.path), hop)
			out = append(out, c.affected(e.To, path))
			if e.To.Column == "" {
				datasets = append(datasets, item{col: e.To, path: path})
				continue
			}
			queue = append(queue, item{col: e.To, path: path})
		}
	}
	// A dataset broken by a missing filter or join column breaks its own
	// downstream too.
	for _, d := range datasets {
		for _, a := range c.walkTables(d.col.Dataset, d.path, seen) {
			out = append(out, a)
		}
	}
	return out
}

// downstreamOfDataset walks table edges from id.
func (c *checker) downstreamOfDataset(id graph.DatasetID) []Affected {
	seen := map[graph.ColumnID]bool{{Dataset: id}: true}
	return c.walkTables(id, nil, seen)
}

func (c *checker) walkTables(start graph.DatasetID, prefix []Hop, seen map[graph.ColumnID]bool) []Affected {
	type item struct {
		id   graph.DatasetID
		path []Hop
	}
	var out []Affected
	queue := []item{{id: start, path: prefix}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		edges := c.baseDown[it.id]
		slices.SortFunc(edges, func(a, b *graph.Edge) int { return a.To.Compare(b.To) })
		for _, e := range edges {
			key := graph.ColumnID{Dataset: e.To}
			if seen[key] {
				continue
			}
			seen[key] = true
			hop := Hop{From: it.id.String(), To: e.To.String(), Type: "table", Via: c.via(e.From, e.To, e.Evidence)}
			path := append(slices.Clone(it.path), hop)
			out = append(out, c.affected(key, path))
			queue = append(queue, item{id: e.To, path: path})
		}
	}
	return out
}

func (c *checker) affected(col graph.ColumnID, path []Hop) Affected {
	a := Affected{ID: col.String(), Name: col.Dataset.Name, Column: col.Column, Path: path}
	if d, ok := c.base.Datasets[col.Dataset]; ok {
		a.Platform = string(d.Platform)
		a.Kind = string(d.Kind)
	}
	return a
}

// via names the evidence of an edge, and when the edge crosses platforms,
// the identity link that joins them (a foreign catalog, say): the reader
// sees the name it used and why weft knows it is the same table.
func (c *checker) via(from, to graph.DatasetID, evs []graph.Evidence) string {
	var parts []string
	for _, ev := range evs {
		s := ev.Origin
		if !strings.HasPrefix(s, ev.Extractor+" ") {
			s = ev.Extractor + " " + s // "dbt model.x", not "snowflake snowflake query 01…"
		}
		if ev.Method != "" {
			s += " (" + ev.Method + ")"
		}
		parts = append(parts, s)
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)
	if len(parts) > 3 {
		parts = append(parts[:3], fmt.Sprintf("and %d more", len(parts)-3))
	}
	s := strings.Join(parts, "; ")
	if from.Namespace != to.Namespace {
		if d, ok := c.base.Datasets[from]; ok {
			for _, ident := range d.Identities {
				if ident.ID.Namespace == to.Namespace {
					s += fmt.Sprintf("; read as %s: %s", ident.ID.Name, ident.Reason)
				}
			}
		}
	}
	return s
}

func compareColumnEdge(a, b *graph.ColumnEdge) int {
	return cmp.Or(
		cmp.Compare(a.To.Dataset.Namespace, b.To.Dataset.Namespace),
		cmp.Compare(a.To.Dataset.Name, b.To.Dataset.Name),
		cmp.Compare(a.To.Column, b.To.Column),
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.Subtype, b.Subtype),
	)
}
