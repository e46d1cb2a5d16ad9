package graph

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"
)

// Merge rules
//
// Every Add method and Merge combine values with rules that do not depend on
// the order in which observations arrive, so that the extractors, the store
// and `weft snapshot` may merge fragments in any order and still write the
// same bytes:
//
//   - Scalars (descriptions, types, SQL, run state, ...): a non-empty value
//     wins over an empty one; between two different non-empty values the
//     longer wins (NUMBER(38,0) says more than NUMBER), then the lexically
//     smaller.
//   - Property maps: union; on a conflicting key the lexically greater value
//     wins (for RFC 3339 timestamps that is the later one).
//   - Kind and Platform: the more specific wins, by the precedence lists
//     kindRank and platformRank; unknown values rank after known ones and
//     compare lexically.
//   - Columns: merged by name. The column order is that of the longer
//     column list (ties: the lexically smaller list of names); columns only
//     the other side has are appended in its order.
//   - Lists of identities, tests and findings: set union, sorted.
//   - Evidence: keyed by (Extractor, Origin, Method, Job). For one key,
//     FirstSeen is the earliest non-zero time, LastSeen the latest, Count and
//     Confidence the maximum. The same origin seen twice is one observation,
//     which is what makes Merge idempotent.

// AddDataset adds d to g, merging it into the dataset with the same ID if
// there is one. d's slices and maps are copied, never retained.
func (g *Graph) AddDataset(d Dataset) {
	cur, ok := g.Datasets[d.ID]
	if !ok {
		n := cloneDataset(d)
		g.Datasets[d.ID] = &n
		return
	}
	mergeDataset(cur, d)
}

func cloneDataset(d Dataset) Dataset {
	d.Columns = mergeColumns(nil, d.Columns)
	d.Identities = normIdentities(slices.Clone(d.Identities))
	d.Properties = maps.Clone(d.Properties)
	return d
}

func mergeDataset(cur *Dataset, d Dataset) {
	cur.Platform = Platform(pickRanked(string(cur.Platform), string(d.Platform), platformRank))
	cur.Kind = Kind(pickRanked(string(cur.Kind), string(d.Kind), kindRank))
	cur.Description = pickString(cur.Description, d.Description)
	cur.Columns = mergeColumns(cur.Columns, d.Columns)
	if len(d.Identities) > 0 {
		cur.Identities = normIdentities(append(cur.Identities, d.Identities...))
	}
	cur.Properties = mergeProps(cur.Properties, d.Properties)
}

// mergeColumns merges b into a (a may be modified) following the column
// rule above.
func mergeColumns(a, b []Column) []Column {
	if len(b) == 0 {
		return a
	}
	// Even with a empty, b goes through the loop below: a column listed
	// twice in one observation is merged into one.
	base, other := a, b
	if columnOrderLess(b, a) {
		base, other = b, a
	}
	out := make([]Column, 0, max(len(a), len(b)))
	index := make(map[string]int, cap(out))
	for _, c := range base {
		if i, ok := index[c.Name]; ok {
			out[i] = mergeColumn(out[i], c)
			continue
		}
		index[c.Name] = len(out)
		c.Tests = normStrings(slices.Clone(c.Tests))
		out = append(out, c)
	}
	for _, c := range other {
		if i, ok := index[c.Name]; ok {
			out[i] = mergeColumn(out[i], c)
			continue
		}
		index[c.Name] = len(out)
		c.Tests = normStrings(slices.Clone(c.Tests))
		out = append(out, c)
	}
	return out
}

// columnOrderLess reports whether column list a should give the order
// instead of b: the longer list wins, then the lexically smaller names.
func columnOrderLess(a, b []Column) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return a[i].Name < b[i].Name
		}
	}
	return false
}

func mergeColumn(a, b Column) Column {
	a.Type = pickString(a.Type, b.Type)
	a.Description = pickString(a.Description, b.Description)
	if len(b.Tests) > 0 {
		a.Tests = normStrings(append(slices.Clone(a.Tests), b.Tests...))
	}
	return a
}

// AddJob adds j to g, merging it into the job with the same ID.
func (g *Graph) AddJob(j Job) {
	cur, ok := g.Jobs[j.ID]
	if !ok {
		j.Properties = maps.Clone(j.Properties)
		g.Jobs[j.ID] = &j
		return
	}
	cur.Type = pickString(cur.Type, j.Type)
	cur.SQL = pickString(cur.SQL, j.SQL)
	cur.Properties = mergeProps(cur.Properties, j.Properties)
}

// AddRun adds r to g, merging it into the run with the same ID. Start is
// the earliest non-zero start and End the latest end.
func (g *Graph) AddRun(r Run) {
	r.Start, r.End = r.Start.UTC(), r.End.UTC()
	cur, ok := g.Runs[r.ID]
	if !ok {
		r.Properties = maps.Clone(r.Properties)
		g.Runs[r.ID] = &r
		return
	}
	if cur.Job != r.Job && (cur.Job.IsZero() || !r.Job.IsZero() && compareJobID(r.Job, cur.Job) < 0) {
		cur.Job = r.Job
	}
	cur.Parent = pickString(cur.Parent, r.Parent)
	cur.State = pickString(cur.State, r.State)
	cur.Start = minTime(cur.Start, r.Start)
	if r.End.After(cur.End) {
		cur.End = r.End
	}
	cur.Properties = mergeProps(cur.Properties, r.Properties)
}

// AddEdge records that data flows from one dataset to another, with one
// piece of evidence.
func (g *Graph) AddEdge(from, to DatasetID, ev Evidence) {
	id := EdgeID{From: from, To: to}
	cur, ok := g.Edges[id]
	if !ok {
		g.Edges[id] = &Edge{EdgeID: id, Evidence: addEvidence(nil, ev)}
		return
	}
	cur.Evidence = addEvidence(cur.Evidence, ev)
}

// AddColumnEdge records a typed column-level edge with one piece of
// evidence.
func (g *Graph) AddColumnEdge(id ColumnEdgeID, ev Evidence) {
	cur, ok := g.ColumnEdges[id]
	if !ok {
		g.ColumnEdges[id] = &ColumnEdge{ColumnEdgeID: id, Evidence: addEvidence(nil, ev)}
		return
	}
	cur.Evidence = addEvidence(cur.Evidence, ev)
}

// AddFinding adds f unless an identical finding is already recorded, and
// keeps Findings sorted.
func (g *Graph) AddFinding(f Finding) {
	i, found := slices.BinarySearchFunc(g.Findings, f, compareFinding)
	if found {
		return
	}
	g.Findings = slices.Insert(g.Findings, i, f)
}

// Merge adds everything in o to g. o is not modified and nothing of it is
// retained. Merge is idempotent and order-independent: merging A and B in
// either order encodes to the same bytes (see the merge rules above).
func (g *Graph) Merge(o *Graph) {
	for _, d := range o.Datasets {
		g.AddDataset(*d)
	}
	for _, j := range o.Jobs {
		g.AddJob(*j)
	}
	for _, r := range o.Runs {
		g.AddRun(*r)
	}
	for id, e := range o.Edges {
		cur, ok := g.Edges[id]
		if !ok {
			g.Edges[id] = &Edge{EdgeID: id, Evidence: normEvidence(slices.Clone(e.Evidence))}
			continue
		}
		cur.Evidence = mergeEvidence(cur.Evidence, e.Evidence)
	}
	for id, e := range o.ColumnEdges {
		cur, ok := g.ColumnEdges[id]
		if !ok {
			g.ColumnEdges[id] = &ColumnEdge{ColumnEdgeID: id, Evidence: normEvidence(slices.Clone(e.Evidence))}
			continue
		}
		cur.Evidence = mergeEvidence(cur.Evidence, e.Evidence)
	}
	if len(o.Findings) > 0 {
		g.Findings = normFindings(append(slices.Clone(g.Findings), o.Findings...))
	}
}

// pickString chooses between two values of a scalar field, independently of
// argument order.
func pickString(a, b string) string {
	switch {
	case a == b || b == "":
		return a
	case a == "":
		return b
	case len(a) != len(b):
		if len(a) > len(b) {
			return a
		}
		return b
	}
	return min(a, b)
}

// kindRank orders dataset kinds from most to least specific. A dbt node
// says more about a relation than the warehouse's table/view (the
// materialisation is kept in the properties), and a view or table says
// more than the fallbacks at the end. Unknown kinds rank last.
func kindRank(k string) int {
	switch Kind(k) {
	case KindExposure:
		return 0
	case KindMetric:
		return 1
	case KindSemanticModel:
		return 2
	case KindSnapshot:
		return 3
	case KindSeed:
		return 4
	case KindModel:
		return 5
	case KindSource:
		return 6
	case KindView:
		return 7
	case KindTable:
		return 8
	case KindExternal:
		return 9
	case KindStage:
		return 10
	case KindTemp:
		return 11
	}
	return 12
}

// platformRank orders platforms from most to least specific: a warehouse
// beats the generic Spark, which beats storage, which beats dbt (a dbt node
// lives in the warehouse it builds into). Unknown platforms rank between
// Spark and storage.
func platformRank(p string) int {
	switch Platform(p) {
	case Snowflake:
		return 0
	case Databricks:
		return 1
	case BigQuery:
		return 2
	case Postgres:
		return 3
	case Redshift:
		return 4
	case Athena:
		return 5
	case DuckDB:
		return 6
	case Spark:
		return 7
	case Stage:
		return 9
	case DBT:
		return 10
	}
	return 8
}

// pickRanked chooses the non-empty value with the best rank, then the
// lexically smaller.
func pickRanked(a, b string, rank func(string) int) string {
	switch {
	case a == b || b == "":
		return a
	case a == "":
		return b
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		if ra < rb {
			return a
		}
		return b
	}
	return min(a, b)
}

func mergeProps(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		return maps.Clone(b)
	}
	for k, v := range b {
		if cur, ok := a[k]; !ok || v > cur {
			a[k] = v
		}
	}
	return a
}

func normStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

func compareDatasetID(a, b DatasetID) int { return a.Compare(b) }

func compareColumnID(a, b ColumnID) int { return a.Compare(b) }

func compareJobID(a, b JobID) int { return a.Compare(b) }

func compareEdgeID(a, b EdgeID) int {
	return cmp.Or(compareDatasetID(a.From, b.From), compareDatasetID(a.To, b.To))
}

func compareColumnEdgeID(a, b ColumnEdgeID) int {
	return cmp.Or(
		compareColumnID(a.From, b.From),
		compareColumnID(a.To, b.To),
		strings.Compare(a.Type, b.Type),
		strings.Compare(a.Subtype, b.Subtype),
	)
}

func compareIdentity(a, b Identity) int {
	return cmp.Or(compareDatasetID(a.ID, b.ID), strings.Compare(a.Reason, b.Reason))
}

func normIdentities(ids []Identity) []Identity {
	if len(ids) == 0 {
		return nil
	}
	slices.SortFunc(ids, compareIdentity)
	return slices.Compact(ids)
}

func compareFinding(a, b Finding) int {
	return cmp.Or(
		strings.Compare(a.Location, b.Location),
		strings.Compare(a.Code, b.Code),
		strings.Compare(a.Subject, b.Subject),
		strings.Compare(a.Severity, b.Severity),
		strings.Compare(a.Message, b.Message),
	)
}

func normFindings(fs []Finding) []Finding {
	if len(fs) == 0 {
		return nil
	}
	slices.SortFunc(fs, compareFinding)
	return slices.Compact(fs)
}

// compareEvidenceKey orders evidence by its merge key.
func compareEvidenceKey(a, b Evidence) int {
	return cmp.Or(
		strings.Compare(a.Extractor, b.Extractor),
		strings.Compare(a.Origin, b.Origin),
		strings.Compare(a.Method, b.Method),
		compareJobID(a.Job, b.Job),
	)
}

// combineEvidence merges two observations with the same key.
func combineEvidence(a, b Evidence) Evidence {
	a.FirstSeen = minTime(a.FirstSeen, b.FirstSeen)
	if b.LastSeen.After(a.LastSeen) {
		a.LastSeen = b.LastSeen
	}
	a.Count = max(a.Count, b.Count)
	a.Confidence = max(a.Confidence, b.Confidence)
	return a
}

// addEvidence merges ev into the sorted list evs.
func addEvidence(evs []Evidence, ev Evidence) []Evidence {
	ev = utcEvidence(ev)
	i, found := slices.BinarySearchFunc(evs, ev, compareEvidenceKey)
	if found {
		evs[i] = combineEvidence(evs[i], ev)
		return evs
	}
	return slices.Insert(evs, i, ev)
}

func mergeEvidence(a, b []Evidence) []Evidence {
	for _, ev := range b {
		a = addEvidence(a, ev)
	}
	return a
}

// normEvidence sorts evs by key and combines entries with the same key, in
// place. An already normalised list is returned as is.
func normEvidence(evs []Evidence) []Evidence {
	for i := range evs {
		evs[i] = utcEvidence(evs[i])
	}
	if isNormEvidence(evs) {
		return evs
	}
	slices.SortStableFunc(evs, compareEvidenceKey)
	out := evs[:0]
	for _, ev := range evs {
		if n := len(out); n > 0 && compareEvidenceKey(out[n-1], ev) == 0 {
			out[n-1] = combineEvidence(out[n-1], ev)
			continue
		}
		out = append(out, ev)
	}
	return out
}

// isNormEvidence reports whether keys are strictly increasing.
func isNormEvidence(evs []Evidence) bool { return isStrict(evs, compareEvidenceKey) }

// utcEvidence puts times in UTC: two observations of the same instant in
// different zones must merge to the same bytes whatever their order.
func utcEvidence(ev Evidence) Evidence {
	ev.FirstSeen = ev.FirstSeen.UTC()
	ev.LastSeen = ev.LastSeen.UTC()
	return ev
}

func minTime(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
