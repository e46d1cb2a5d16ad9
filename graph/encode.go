package graph

import (
	"bytes"
	"encoding/json"
	"errors"
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

// Decode reads a graph written by Encode. It rejects documents of another
// format version and reports JSON errors with their line and column.
func Decode(r io.Reader) (*Graph, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read graph: %w", err)
	}
	var doc document
	err = json.Unmarshal(data, &doc)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(data, syn.Offset)
		return nil, fmt.Errorf("decode graph: line %d, column %d: %v", line, col, syn)
	}
	if doc.Version != FormatVersion {
		if doc.Version == 0 {
			return nil, fmt.Errorf("decode graph: no weft_graph_version field (not a weft graph?)")
		}
		return nil, fmt.Errorf("decode graph: weft_graph_version %d is not supported (this weft reads version %d)", doc.Version, FormatVersion)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		line, col := lineCol(data, typ.Offset)
		return nil, fmt.Errorf("decode graph: line %d, column %d: %s: cannot use JSON %s as %s", line, col, typ.Field, typ.Value, typ.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("decode graph: %w", err)
	}
	return fromDocument(doc)
}

func fromDocument(doc document) (*Graph, error) {
	g := New()
	for i, d := range doc.Datasets {
		if d.ID.Name == "" {
			return nil, fmt.Errorf("decode graph: datasets[%d]: empty id.name", i)
		}
		if _, dup := g.Datasets[d.ID]; dup {
			g.AddDataset(d)
			continue
		}
		d.Identities = normIdentities(d.Identities)
		for j := range d.Columns {
			d.Columns[j].Tests = normStrings(d.Columns[j].Tests)
		}
		g.Datasets[d.ID] = &d
	}
	for i, j := range doc.Jobs {
		if j.ID.IsZero() {
			return nil, fmt.Errorf("decode graph: jobs[%d]: empty id", i)
		}
		g.AddJob(j)
	}
	for i, r := range doc.Runs {
		if r.ID == "" {
			return nil, fmt.Errorf("decode graph: runs[%d]: empty id", i)
		}
		g.AddRun(r)
	}
	for i, e := range doc.Edges {
		if e.From.IsZero() || e.To.IsZero() {
			return nil, fmt.Errorf("decode graph: edges[%d]: empty from or to", i)
		}
		if cur, dup := g.Edges[e.EdgeID]; dup {
			cur.Evidence = mergeEvidence(cur.Evidence, e.Evidence)
			continue
		}
		g.Edges[e.EdgeID] = &Edge{EdgeID: e.EdgeID, Evidence: normEvidence(e.Evidence)}
	}
	for i, e := range doc.ColumnEdges {
		if e.From.Dataset.IsZero() || e.To.Dataset.IsZero() {
			return nil, fmt.Errorf("decode graph: column_edges[%d]: empty from or to dataset", i)
		}
		if cur, dup := g.ColumnEdges[e.ColumnEdgeID]; dup {
			cur.Evidence = mergeEvidence(cur.Evidence, e.Evidence)
			continue
		}
		g.ColumnEdges[e.ColumnEdgeID] = &ColumnEdge{ColumnEdgeID: e.ColumnEdgeID, Evidence: normEvidence(e.Evidence)}
	}
	g.Findings = normFindings(doc.Findings)
	return g, nil
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}
