package graph

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNotFound is returned (wrapped) by Lookup and LookupColumn when nothing
// matches.
var ErrNotFound = errors.New("not found")

// AmbiguousError is returned by Lookup and LookupColumn when a reference
// matches more than one dataset or column at the same level of precision.
type AmbiguousError struct {
	Ref        string
	Candidates []string // sorted
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q is ambiguous: it matches %s", e.Ref, strings.Join(e.Candidates, ", "))
}

// Lookup finds the dataset a user means by ref. ref may be a full ID
// ("snowflake://acme-prod/ANALYTICS.MARTS.FCT_LOANS"), a name
// ("ANALYTICS.MARTS.FCT_LOANS"), either of those for one of a dataset's
// other identities, or a suffix of a name by whole parts ("MARTS.FCT_LOANS",
// "fct_loans"). Matching tries, in order: exact, case-insensitive, then
// case-insensitive suffix; the first level with any match decides. More
// than one match at that level returns an *AmbiguousError and the
// candidates; no match returns an error wrapping ErrNotFound.
//
// Datasets that only appear as edge endpoints are found too. On success the
// result has exactly one element.
func (g *Graph) Lookup(ref string) ([]DatasetID, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("empty dataset reference")
	}
	type cand struct {
		id    DatasetID // the dataset in the graph
		alias DatasetID // the name it is matched by
	}
	var cands []cand
	for id, d := range g.Datasets {
		cands = append(cands, cand{id, id})
		for _, ident := range d.Identities {
			cands = append(cands, cand{id, ident.ID})
		}
	}
	for _, id := range g.endpointsWithoutDataset() {
		cands = append(cands, cand{id, id})
	}

	match := func(ok func(alias DatasetID) bool) []DatasetID {
		var out []DatasetID
		for _, c := range cands {
			if ok(c.alias) {
				out = append(out, c.id)
			}
		}
		slices.SortFunc(out, compareDatasetID)
		return slices.Compact(out)
	}
	levels := []func(DatasetID) bool{
		func(a DatasetID) bool { return ref == a.String() || ref == a.Name },
		func(a DatasetID) bool { return strings.EqualFold(ref, a.String()) || strings.EqualFold(ref, a.Name) },
	}
	if parts, err := SplitName(ref); err == nil && !strings.Contains(ref, "://") {
		levels = append(levels, func(a DatasetID) bool { return nameHasSuffix(a.Name, parts) })
	}
	for _, level := range levels {
		ids := match(level)
		switch {
		case len(ids) == 1:
			return ids, nil
		case len(ids) > 1:
			return ids, &AmbiguousError{Ref: ref, Candidates: datasetStrings(ids)}
		}
	}
	return nil, fmt.Errorf("no dataset matches %q: %w", ref, ErrNotFound)
}

// nameHasSuffix reports whether the dotted name ends with the given parts,
// comparing whole parts case-insensitively.
func nameHasSuffix(name string, suffix []Ident) bool {
	parts, err := SplitName(name)
	if err != nil || len(parts) < len(suffix) {
		return false
	}
	parts = parts[len(parts)-len(suffix):]
	for i := range suffix {
		if !strings.EqualFold(parts[i].Text, suffix[i].Text) {
			return false
		}
	}
	return true
}

// endpointsWithoutDataset lists edge endpoints that have no Dataset entry,
// sorted.
func (g *Graph) endpointsWithoutDataset() []DatasetID {
	seen := map[DatasetID]bool{}
	add := func(id DatasetID) {
		if _, ok := g.Datasets[id]; !ok && !id.IsZero() {
			seen[id] = true
		}
	}
	for id := range g.Edges {
		add(id.From)
		add(id.To)
	}
	for id := range g.ColumnEdges {
		add(id.From.Dataset)
		add(id.To.Dataset)
	}
	out := make([]DatasetID, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.SortFunc(out, compareDatasetID)
	return out
}

func datasetStrings(ids []DatasetID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// LookupColumn finds the column a user means by ref, written as a dataset
// reference (anything Lookup accepts) followed by "." and the column name:
// "MARTS.FCT_LOANS.LOAN_ID", "snowflake://acme-prod/ANALYTICS.MARTS.FCT_LOANS.loan_id".
// The column must be one of the dataset's columns or appear in a column
// edge; its name matches exactly, then case-insensitively. Errors are as
// for Lookup. On success the result has exactly one element.
func (g *Graph) LookupColumn(ref string) ([]ColumnID, error) {
	ref = strings.TrimSpace(ref)
	dot := lastUnquotedDot(ref)
	if dot < 0 {
		return nil, fmt.Errorf("column reference %q: want DATASET.COLUMN", ref)
	}
	dsRef, colRef := ref[:dot], ref[dot+1:]
	col := strings.TrimSpace(colRef)
	if parts, err := SplitName(col); err == nil && len(parts) == 1 {
		col = parts[0].Text
	}
	if col == "" {
		return nil, fmt.Errorf("column reference %q: empty column name", ref)
	}
	ids, err := g.Lookup(dsRef)
	if err != nil {
		var amb *AmbiguousError
		if errors.As(err, &amb) {
			// Report the candidates as columns so the user can copy one.
			cands := make([]string, len(amb.Candidates))
			for i, c := range amb.Candidates {
				cands[i] = c + "." + col
			}
			out := make([]ColumnID, len(ids))
			for i, id := range ids {
				out[i] = ColumnID{Dataset: id, Column: col}
			}
			return out, &AmbiguousError{Ref: ref, Candidates: cands}
		}
		return nil, fmt.Errorf("column reference %q: %w", ref, err)
	}
	ds := ids[0]
	names := g.columnNames(ds)
	if slices.Contains(names, col) {
		return []ColumnID{{Dataset: ds, Column: col}}, nil
	}
	var folded []ColumnID
	for _, n := range names {
		if strings.EqualFold(n, col) {
			folded = append(folded, ColumnID{Dataset: ds, Column: n})
		}
	}
	switch len(folded) {
	case 0:
		return nil, fmt.Errorf("dataset %s has no column %q: %w", ds, col, ErrNotFound)
	case 1:
		return folded, nil
	}
	cands := make([]string, len(folded))
	for i, c := range folded {
		cands[i] = c.String()
	}
	return folded, &AmbiguousError{Ref: ref, Candidates: cands}
}

// columnNames lists the columns of ds known from its schema or from column
// edges, sorted and distinct.
func (g *Graph) columnNames(ds DatasetID) []string {
	var names []string
	if d, ok := g.Datasets[ds]; ok {
		for _, c := range d.Columns {
			names = append(names, c.Name)
		}
	}
	for id := range g.ColumnEdges {
		if id.From.Dataset == ds && id.From.Column != "" {
			names = append(names, id.From.Column)
		}
		if id.To.Dataset == ds && id.To.Column != "" {
			names = append(names, id.To.Column)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// lastUnquotedDot returns the index of the last '.' outside double quotes
// and backticks, or -1.
func lastUnquotedDot(s string) int {
	last := -1
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0 // a doubled quote closes and reopens: same state overall
			}
		case c == '"' || c == '`':
			q = c
		case c == '.':
			last = i
		}
	}
	return last
}
