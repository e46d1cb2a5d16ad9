package graph

import (
	"bytes"
	"fmt"
	"io"
	"slices"
)

// document is the JSON form of a Graph: every collection a sorted list.
type document struct {
	Version     int          `json:"weft_graph_version"`
	Datasets    []Dataset    `json:"datasets"`
	Jobs        []Job        `json:"jobs"`
	Runs        []Run        `json:"runs"`
	Edges       []Edge       `json:"edges"`
	ColumnEdges []ColumnEdge `json:"column_edges"`
	Findings    []Finding    `json:"findings"`
}

// Encode writes g as an indented, versioned JSON document. Every list is
// sorted (datasets, jobs and edges by ID, runs by ID, evidence by its merge
// key, identities, tests and findings by value), so the same graph always
// gives the same bytes. Column order is kept: it is the dataset's. Small
// leaf objects (a column, an identity, a piece of evidence, a finding) take
// one line each, so that diffs of snapshots read line by line. g is not
// modified.
func Encode(w io.Writer, g *Graph) error {
	doc := toDocument(g)
	e := &encoder{w: w, buf: make([]byte, 0, 128<<10)}
	e.document(doc)
	e.flush()
	if e.err != nil {
		return fmt.Errorf("write graph: %w", e.err)
	}
	return nil
}

// toDocument makes the sorted, normalised document for g without modifying
// g: slices that need sorting are copied first.
func toDocument(g *Graph) document {
	doc := document{
		Version:     FormatVersion,
		Datasets:    make([]Dataset, 0, len(g.Datasets)),
		Jobs:        make([]Job, 0, len(g.Jobs)),
		Runs:        make([]Run, 0, len(g.Runs)),
		Edges:       make([]Edge, 0, len(g.Edges)),
		ColumnEdges: make([]ColumnEdge, 0, len(g.ColumnEdges)),
		Findings:    normFindings(slices.Clone(g.Findings)),
	}
	if doc.Findings == nil {
		doc.Findings = []Finding{}
	}
	for _, d := range g.Datasets {
		ds := *d
		if !isStrict(ds.Identities, compareIdentity) {
			ds.Identities = normIdentities(slices.Clone(ds.Identities))
		}
		cloned := false
		for i, c := range ds.Columns {
			if isNormStrings(c.Tests) {
				continue
			}
			if !cloned {
				ds.Columns, cloned = slices.Clone(ds.Columns), true
			}
			ds.Columns[i].Tests = normStrings(slices.Clone(c.Tests))
		}
		doc.Datasets = append(doc.Datasets, ds)
	}
	slices.SortFunc(doc.Datasets, func(a, b Dataset) int { return compareDatasetID(a.ID, b.ID) })
	for _, j := range g.Jobs {
		doc.Jobs = append(doc.Jobs, *j)
	}
	slices.SortFunc(doc.Jobs, func(a, b Job) int { return compareJobID(a.ID, b.ID) })
	for _, r := range g.Runs {
		doc.Runs = append(doc.Runs, *r)
	}
	slices.SortFunc(doc.Runs, func(a, b Run) int { return compareString(a.ID, b.ID) })
	for _, e := range g.Edges {
		ee := *e
		ee.Evidence = encodableEvidence(ee.Evidence)
		doc.Edges = append(doc.Edges, ee)
	}
	slices.SortFunc(doc.Edges, func(a, b Edge) int { return compareEdgeID(a.EdgeID, b.EdgeID) })
	for _, e := range g.ColumnEdges {
		ee := *e
		ee.Evidence = encodableEvidence(ee.Evidence)
		doc.ColumnEdges = append(doc.ColumnEdges, ee)
	}
	slices.SortFunc(doc.ColumnEdges, func(a, b ColumnEdge) int { return compareColumnEdgeID(a.ColumnEdgeID, b.ColumnEdgeID) })
	return doc
}

// encodableEvidence returns evs normalised, copying it if it is not, and
// never nil so that the JSON always has a list.
func encodableEvidence(evs []Evidence) []Evidence {
	if evs == nil {
		return []Evidence{}
	}
	if !isNormEvidence(evs) {
		return normEvidence(slices.Clone(evs))
	}
	return evs
}

// isNormStrings reports whether s is strictly increasing.
func isNormStrings(s []string) bool { return isStrict(s, compareString) }

// isStrict reports whether s is strictly increasing under cmp: sorted and
// without duplicates.
func isStrict[T any](s []T, cmp func(a, b T) int) bool {
	for i := 1; i < len(s); i++ {
		if cmp(s[i-1], s[i]) >= 0 {
			return false
		}
	}
	return true
}

func compareString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}
