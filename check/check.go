// Package check compares a pull request's dbt project with the production
// lineage graph and reports what the change would break downstream, in dbt
// and beyond it: Snowflake views and scheduled queries, Databricks jobs and
// tables.
//
// Rules:
//
//	removed_node       a model, source, seed or snapshot is gone but still used downstream
//	removed_column     a column is gone but still used downstream (DIRECT or INDIRECT)
//	renamed_column     a column has a new name and the same upstream expression; its uses break
//	unknown_column     compiled SQL reads a column its upstream does not have
//	dangling_ref       compiled SQL reads a relation that is neither a dbt node nor known in production
//	type_changed       a column used downstream changed type (warning)
//	contract_violation an enforced contract's columns differ from the SQL's output columns
//	cycle              the dbt DAG has a dependency cycle
package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
)

// Rule identifiers.
const (
	RuleRemovedNode       = "removed_node"
	RuleRemovedColumn     = "removed_column"
	RuleRenamedColumn     = "renamed_column"
	RuleUnknownColumn     = "unknown_column"
	RuleDanglingRef       = "dangling_ref"
	RuleTypeChanged       = "type_changed"
	RuleContractViolation = "contract_violation"
	RuleCycle             = "cycle"
)

// Rules lists every rule with its default severity and a one-line
// description, for SARIF and documentation.
var Rules = []RuleInfo{
	{RuleRemovedNode, graph.SeverityError, "A removed model, source, seed or snapshot is still used downstream."},
	{RuleRemovedColumn, graph.SeverityError, "A removed column is still used downstream (DIRECT or INDIRECT)."},
	{RuleRenamedColumn, graph.SeverityError, "A column was renamed (same expression, new name) and its downstream uses still read the old name."},
	{RuleUnknownColumn, graph.SeverityError, "Compiled SQL reads a column that its upstream relation does not have."},
	{RuleDanglingRef, graph.SeverityError, "Compiled SQL reads a relation that is neither a dbt node nor a table known in production."},
	{RuleTypeChanged, graph.SeverityWarning, "A column used downstream changed type."},
	{RuleContractViolation, graph.SeverityError, "An enforced contract's columns differ from the compiled SQL's output columns."},
	{RuleCycle, graph.SeverityError, "The dbt dependency graph has a cycle."},
}

// RuleInfo describes a rule.
type RuleInfo struct {
	ID, Severity, Description string
}

// Finding is one problem the change causes.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	// Subject is the changed node or column, as "NAME" or "NAME.COLUMN".
	Subject string `json:"subject"`
	Message string `json:"message"`
	// File and Line locate the change in the dbt project when known.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Affected are the downstream nodes and columns that break, nearest
	// first, at most 200 of them.
	Affected []Affected `json:"affected,omitempty"`
	// AffectedCount is how many there are in all, when Affected is cut.
	AffectedCount int `json:"affected_count,omitempty"`
}

// Affected is one downstream node or column and the path that reaches it.
type Affected struct {
	ID       string `json:"id"` // dataset or dataset.column, namespace included
	Name     string `json:"name"`
	Column   string `json:"column,omitempty"`
	Platform string `json:"platform"`
	Kind     string `json:"kind"`
	Path     []Hop  `json:"path"`
}

// Hop is one edge on an evidence path.
type Hop struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Type is DIRECT/INDIRECT with its subtype for column edges, "table"
	// for table edges.
	Type string `json:"type"`
	// Via says how the edge is known ("dbt model.acme.fct_loans",
	// "databricks run 123") and, when it crosses platforms, through which
	// identity link.
	Via string `json:"via"`
}

// Input is what Run compares.
type Input struct {
	// Base is the production graph: a snapshot, the store's current graph,
	// or the graph of the production manifest.
	Base *graph.Graph
	// PR is the pull request's graph, built with column lineage.
	PR *graph.Graph
	// Project is the pull request's parsed dbt project.
	Project *dbt.Project
	// Outputs are the output columns the SQL of each PR model produces, as
	// analysed (weave's Outputs); they are the truth for what a model
	// provides, whatever its YAML documents.
	Outputs map[graph.DatasetID][]string
	// BaseOutputs are the same for the base, when the base was built from
	// a manifest (--base-manifest); nil for a snapshot or store. A base
	// column its own SQL does not produce (documented in YAML only) is not
	// something the PR can remove.
	BaseOutputs map[graph.DatasetID][]string
}

// Run applies every rule and returns the findings, sorted by severity,
// rule and subject.
func Run(in Input) []Finding {
	c := &checker{in: in, base: in.Base, pr: in.PR}
	c.index()
	c.removed()
	c.unknownColumns()
	c.danglingRefs()
	c.contracts()
	c.cycles()
	slices.SortFunc(c.out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Subject, b.Subject),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return c.out
}

// severityRank orders errors before warnings before info.
func severityRank(s string) int {
	switch s {
	case graph.SeverityError:
		return 0
	case graph.SeverityWarning:
		return 1
	}
	return 2
}

// AtLeast reports whether severity s is at or above threshold.
func AtLeast(s, threshold string) bool { return severityRank(s) <= severityRank(threshold) }

type checker struct {
	in       Input
	base, pr *graph.Graph
	out      []Finding

	// prByUID maps dbt unique_id → PR dataset; baseByUID the same for base.
	prByUID, baseByUID map[string]graph.DatasetID
	// prNode maps a PR dataset to its dbt node.
	prNode map[graph.DatasetID]*dbt.Node
	// baseColDown indexes the base's column edges by upstream dataset,
	// baseColUp by downstream dataset (both built on first use, in one
	// pass), baseDown its table edges; upCache holds upstreamOf's results.
	baseColDown, baseColUp map[graph.DatasetID][]*graph.ColumnEdge
	baseDown               map[graph.DatasetID][]*graph.Edge
	upCache                map[upKey]map[string][]*graph.ColumnEdge
	// baseFindings holds findingKey of the base's analysis findings.
	baseFindings map[string]bool
}

func (c *checker) index() {
	c.prByUID = byUniqueID(c.pr)
	c.baseByUID = byUniqueID(c.base)
	c.prNode = map[graph.DatasetID]*dbt.Node{}
	if c.in.Project != nil {
		for _, n := range c.in.Project.Nodes {
			if id := n.DatasetID(); !id.IsZero() {
				c.prNode[id] = n
			}
		}
	}
	c.baseDown = make(map[graph.DatasetID][]*graph.Edge, len(c.base.Edges))
	for _, e := range c.base.Edges {
		c.baseDown[e.From] = append(c.baseDown[e.From], e)
	}
}

// The column edge indexes are built on first use: a large graph has
// hundreds of thousands of column edges, and a PR that removes or renames
// no column needs none of them.

func (c *checker) indexColumnEdges() {
	if c.baseColDown != nil {
		return
	}
	// Keyed by dataset, not column: a tenth of the keys, and a walk from
	// one column filters its dataset's few hundred edges.
	c.baseColDown = make(map[graph.DatasetID][]*graph.ColumnEdge, len(c.base.Datasets))
	c.baseColUp = make(map[graph.DatasetID][]*graph.ColumnEdge, len(c.base.Datasets))
	for _, e := range c.base.ColumnEdges {
		c.baseColDown[e.From.Dataset] = append(c.baseColDown[e.From.Dataset], e)
		c.baseColUp[e.To.Dataset] = append(c.baseColUp[e.To.Dataset], e)
	}
}

// columnsFrom returns the base's column edges out of col, sorted.
func (c *checker) columnsFrom(col graph.ColumnID) []*graph.ColumnEdge {
	c.indexColumnEdges()
	var out []*graph.ColumnEdge
	for _, e := range c.baseColDown[col.Dataset] {
		if e.From.Column == col.Column {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, compareColumnEdge)
	return out
}

// upstreamOf returns the column edges of g into columns of dataset ds,
// by upper-cased column. For the base it reads the index; for the PR it
// scans every column edge once per dataset: only datasets that lost a
// column need it, and they are few.
func (c *checker) upstreamOf(g *graph.Graph, ds graph.DatasetID) map[string][]*graph.ColumnEdge {
	key := upKey{g: g, ds: ds}
	if m, ok := c.upCache[key]; ok {
		return m
	}
	m := map[string][]*graph.ColumnEdge{}
	add := func(e *graph.ColumnEdge) {
		if e.To.Dataset == ds {
			m[strings.ToUpper(e.To.Column)] = append(m[strings.ToUpper(e.To.Column)], e)
		}
	}
	if g == c.base {
		c.indexColumnEdges()
		for _, e := range c.baseColUp[ds] {
			add(e)
		}
	} else {
		for _, e := range g.ColumnEdges {
			add(e)
		}
	}
	if c.upCache == nil {
		c.upCache = map[upKey]map[string][]*graph.ColumnEdge{}
	}
	c.upCache[key] = m
	return m
}

type upKey struct {
	g  *graph.Graph
	ds graph.DatasetID
}

func byUniqueID(g *graph.Graph) map[string]graph.DatasetID {
	out := map[string]graph.DatasetID{}
	for id, d := range g.Datasets {
		if uid := d.Properties["dbt_unique_id"]; uid != "" {
			out[uid] = id
		}
	}
	return out
}

// prDataset finds the PR's version of a base dataset: same relation, or
// same dbt unique_id.
func (c *checker) prDataset(baseID graph.DatasetID) (*graph.Dataset, bool) {
	if d, ok := c.pr.Datasets[baseID]; ok {
		return d, true
	}
	if uid := c.base.Datasets[baseID].Properties["dbt_unique_id"]; uid != "" {
		if id, ok := c.prByUID[uid]; ok {
			return c.pr.Datasets[id], true
		}
	}
	return nil, false
}

// isDBTBuilt reports whether a base dataset is something a dbt project
// defines and a PR can therefore remove.
func isDBTBuilt(d *graph.Dataset) bool {
	switch d.Properties["resource_type"] {
	case "model", "source", "seed", "snapshot":
		return true
	}
	return false
}

// removed finds removed nodes and columns, renames, and type changes.
func (c *checker) removed() {
	for _, id := range sortedIDs(c.base.Datasets) {
		bd := c.base.Datasets[id]
		if !isDBTBuilt(bd) || !c.sameProject(bd) {
			continue
		}
		pd, ok := c.prDataset(id)
		if !ok {
			affected := c.downstreamOfDataset(id)
			if len(affected) == 0 {
				continue
			}
			f := Finding{
				Rule: RuleRemovedNode, Severity: graph.SeverityError,
				Subject: id.Name,
				Message: fmt.Sprintf("%s %s was removed but %s still read it", bd.Properties["resource_type"], bd.Properties["dbt_unique_id"], uses(affected)),
				File:    bd.Properties["original_file_path"],
			}
			setAffected(&f, affected)
			c.out = append(c.out, f)
			continue
		}
		c.removedColumns(bd, pd)
	}
}

// sameProject reports whether a base dataset belongs to the PR's project;
// a base graph may hold several dbt projects and a PR changes one.
func (c *checker) sameProject(d *graph.Dataset) bool {
	if c.in.Project == nil {
		return true
	}
	uid := d.Properties["dbt_unique_id"]
	if uid == "" {
		return false
	}
	// unique_ids are "<type>.<package>.<name>": the project is the package.
	parts := strings.SplitN(uid, ".", 3)
	return len(parts) == 3 && (parts[1] == c.in.Project.Name || c.in.Project.Node(uid) != nil || c.ownsPackage(parts[1]))
}

func (c *checker) ownsPackage(pkg string) bool {
	for _, n := range c.in.Project.Nodes {
		if n.PackageName == pkg {
			return true
		}
	}
	return false
}

// snapshotColumns are the columns dbt adds to every snapshot table; they
// are in the table but not in the snapshot's SQL.
var snapshotColumns = []string{"DBT_SCD_ID", "DBT_UPDATED_AT", "DBT_VALID_FROM", "DBT_VALID_TO"}

// prColumns is what the PR version of a dataset provides: the analysed SQL
// output when there is one (plus dbt's meta columns for a snapshot), else
// its known columns. A column's Type is set only when the PR's catalog
// gives it: a YAML data_type ("number(18,2)") is a declaration in another
// vocabulary than the warehouse's ("NUMBER"), and comparing the two would
// report type changes nobody made.
func (c *checker) prColumns(pd *graph.Dataset) []graph.Column {
	node := c.prNode[pd.ID]
	typeOf := func(i int, name string) string {
		if node == nil {
			if known, ok := findColumn(pd, name); ok {
				return known.Type
			}
			return ""
		}
		if i < len(node.Columns) && node.Columns[i].Index > 0 && strings.EqualFold(node.Columns[i].Name, name) {
			return node.Columns[i].Type
		}
		for _, col := range node.Columns {
			if col.Index > 0 && strings.EqualFold(col.Name, name) {
				return col.Type
			}
		}
		return ""
	}
	var names []string
	if out, ok := c.in.Outputs[pd.ID]; ok && len(out) > 0 {
		names = out
		if node != nil && node.ResourceType == "snapshot" {
			names = append(slices.Clone(out), snapshotColumns...)
		}
	} else {
		for _, col := range pd.Columns {
			names = append(names, col.Name)
		}
	}
	cols := make([]graph.Column, len(names))
	for i, name := range names {
		cols[i] = graph.Column{Name: name, Type: typeOf(i, name)}
	}
	return cols
}

func (c *checker) removedColumns(bd, pd *graph.Dataset) {
	prCols := c.prColumns(pd)
	if len(prCols) == 0 {
		return // nothing known about the PR's columns: no claim either way
	}
	// Mostly the PR has the base's columns in the base's order: compare
	// by position, and search only when that fails.
	same := len(prCols) == len(bd.Columns)
	for i := 0; same && i < len(prCols); i++ {
		same = strings.EqualFold(prCols[i].Name, bd.Columns[i].Name)
	}
	has := func(i int, name string) (graph.Column, bool) {
		if same {
			return prCols[i], true
		}
		for _, col := range prCols {
			if strings.EqualFold(col.Name, name) {
				return col, true
			}
		}
		return graph.Column{}, false
	}
	var added []graph.Column
	if !same {
		for _, col := range prCols {
			if _, ok := findColumn(bd, col.Name); !ok {
				added = append(added, col)
			}
		}
	}
	node := c.prNode[pd.ID]
	baseOut, baseOutKnown := c.in.BaseOutputs[bd.ID]
	baseOutKnown = baseOutKnown && len(baseOut) > 0
	for i, bc := range bd.Columns {
		if baseOutKnown && !containsFold(baseOut, bc.Name) && !(bd.Properties["resource_type"] == "snapshot" && containsFold(snapshotColumns, bc.Name)) {
			continue // production's SQL never produced it either
		}
		colID := graph.ColumnID{Dataset: bd.ID, Column: bc.Name}
		pc, ok := has(i, bc.Name)
		if ok {
			if bc.Type != "" && pc.Type != "" && !sameType(bc.Type, pc.Type) {
				if affected := c.downstreamOfColumn(colID); len(affected) > 0 {
					f := Finding{
						Rule: RuleTypeChanged, Severity: graph.SeverityWarning,
						Subject: bd.ID.Name + "." + bc.Name,
						Message: fmt.Sprintf("column %s changed type from %s to %s and %s read it", bc.Name, bc.Type, pc.Type, uses(affected)),
					}
					setAffected(&f, affected)
					c.locate(&f, node, bc.Name)
					c.out = append(c.out, f)
				}
			}
			continue
		}
		affected := c.downstreamOfColumn(colID)
		if len(affected) == 0 {
			continue
		}
		f := Finding{
			Rule: RuleRemovedColumn, Severity: graph.SeverityError,
			Subject: bd.ID.Name + "." + bc.Name,
			Message: fmt.Sprintf("column %s was removed from %s but %s still read it", bc.Name, bd.ID.Name, uses(affected)),
		}
		setAffected(&f, affected)
		if newName, ok := c.renamedTo(colID, pd.ID, added); ok {
			f.Rule = RuleRenamedColumn
			f.Message = fmt.Sprintf("column %s of %s was renamed to %s but %s still read %s", bc.Name, bd.ID.Name, newName, uses(affected), bc.Name)
			c.locate(&f, node, newName)
		} else {
			c.locate(&f, node, "")
		}
		c.out = append(c.out, f)
	}
}

// renamedTo reports whether one of the PR's new columns has exactly the
// upstream sources (and transformation types) the removed column had.
func (c *checker) renamedTo(removed graph.ColumnID, prID graph.DatasetID, added []graph.Column) (string, bool) {
	want := upstreamKey(c.baseUpstream(removed))
	if want == "" {
		return "", false
	}
	for _, col := range added {
		got := upstreamKey(c.upstreamOf(c.pr, prID)[strings.ToUpper(col.Name)])
		if got == want {
			return col.Name, true
		}
	}
	return "", false
}

// baseUpstream returns the base's column edges into col that dbt's SQL
// gives, when there are any: the PR's edges all come from dbt, and a
// Snowflake ACCESS_HISTORY edge to the same column (straight to a base
// table, say) would make a rename look like a new column.
func (c *checker) baseUpstream(col graph.ColumnID) []*graph.ColumnEdge {
	all := c.upstreamOf(c.base, col.Dataset)[strings.ToUpper(col.Column)]
	var fromDBT []*graph.ColumnEdge
	for _, e := range all {
		if slices.ContainsFunc(e.Evidence, func(ev graph.Evidence) bool { return ev.Extractor == "dbt" }) {
			fromDBT = append(fromDBT, e)
		}
	}
	if len(fromDBT) > 0 {
		return fromDBT
	}
	return all
}

// upstreamKey renders a column's upstream edges (source column and
// transformation) as a comparable string.
func upstreamKey(edges []*graph.ColumnEdge) string {
	keys := make([]string, 0, len(edges))
	for _, e := range edges {
		keys = append(keys, strings.ToUpper(e.From.String())+" "+e.Type+"/"+e.Subtype)
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), "\n")
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func findColumn(d *graph.Dataset, name string) (graph.Column, bool) {
	for _, c := range d.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return graph.Column{}, false
}

// sameType compares warehouse types loosely: case and spacing do not
// matter, Snowflake's synonyms are equal (TEXT = STRING = VARCHAR(n),
// INT = NUMBER(38,0) = DECIMAL, DOUBLE = FLOAT, TIMESTAMP = TIMESTAMP_NTZ),
// and parameters count only when both sides have them: a catalog reports
// NUMBER where the DDL said NUMBER(18,2).
func sameType(a, b string) bool {
	fa, pa := normType(a)
	fb, pb := normType(b)
	if fa != fb {
		return false
	}
	return pa == "" || pb == "" || pa == pb || fa == "VARCHAR"
}

// normType splits a type into its family and its parameters ("(18,2)").
func normType(s string) (family, params string) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	family, params = s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		family, params = s[:i], s[i:]
	}
	switch family {
	case "TEXT", "STRING", "VARCHAR", "CHAR", "CHARACTER", "NVARCHAR", "NCHAR":
		return "VARCHAR", params
	case "NUMBER", "NUMERIC", "DECIMAL", "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT":
		if params == "(38,0)" {
			params = ""
		}
		return "NUMBER", params
	case "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLEPRECISION", "REAL":
		return "FLOAT", ""
	case "TIMESTAMP", "DATETIME", "TIMESTAMP_NTZ":
		return "TIMESTAMP_NTZ", params
	case "BOOL", "BOOLEAN":
		return "BOOLEAN", ""
	}
	return family, params
}

func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func sortedIDs[V any](m map[graph.DatasetID]V) []graph.DatasetID {
	ids := make([]graph.DatasetID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, graph.DatasetID.Compare)
	return ids
}
