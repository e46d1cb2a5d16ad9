package check

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
)

// knownColumns returns the columns of a PR dataset when they are known
// completely: from the analysed SQL, or from the catalog (every column has
// a type). Documented columns alone are often partial, so they make no
// claim.
func (c *checker) knownColumns(id graph.DatasetID) ([]string, bool) {
	if out, ok := c.in.Outputs[id]; ok && len(out) > 0 {
		if n := c.prNode[id]; n != nil && n.ResourceType == "snapshot" {
			return append(slices.Clone(out), snapshotColumns...), true
		}
		return out, true
	}
	d, ok := c.pr.Datasets[id]
	if !ok || len(d.Columns) == 0 {
		return nil, false
	}
	names := make([]string, 0, len(d.Columns))
	for _, col := range d.Columns {
		if col.Type == "" {
			return nil, false
		}
		names = append(names, col.Name)
	}
	return names, true
}

// unknownColumns reports PR column edges that read a column their upstream
// does not have.
func (c *checker) unknownColumns() {
	reported := map[string]bool{}
	for _, f := range c.out {
		if f.Rule == RuleRemovedColumn || f.Rule == RuleRenamedColumn {
			reported[strings.ToUpper(f.Subject)] = true
		}
	}
	type use struct {
		col    graph.ColumnID
		reader graph.DatasetID
	}
	uses := map[use]bool{}
	for id := range c.pr.ColumnEdges {
		if id.From.Column == "" {
			continue
		}
		if isPseudoColumn(id.From.Column) {
			continue
		}
		known, ok := c.knownColumns(id.From.Dataset)
		if !ok || slices.ContainsFunc(known, func(k string) bool { return strings.EqualFold(k, id.From.Column) }) {
			continue
		}
		// Production already reading the column is no news: the PR did
		// not cause it (a documented-only column that a view reads, say).
		if _, inBase := c.base.ColumnEdges[id]; !inBase {
			uses[use{id.From, id.To.Dataset}] = true
		}
	}
	c.unresolvedColumns(reported)
	keys := make([]use, 0, len(uses))
	for u := range uses {
		keys = append(keys, u)
	}
	slices.SortFunc(keys, func(a, b use) int {
		return strings.Compare(a.col.String()+" "+a.reader.String(), b.col.String()+" "+b.reader.String())
	})
	for _, u := range keys {
		subject := u.col.Dataset.Name + "." + u.col.Column
		if reported[strings.ToUpper(subject)] {
			continue
		}
		f := Finding{
			Rule: RuleUnknownColumn, Severity: graph.SeverityError,
			Subject: subject,
			Message: fmt.Sprintf("%s reads column %s, which %s does not have", u.reader.Name, u.col.Column, u.col.Dataset.Name),
		}
		c.locate(&f, c.prNode[u.reader], u.col.Column)
		c.out = append(c.out, f)
	}
}

// unresolvedColumns turns the analysis's unresolved column references into
// unknown_column findings when every upstream of the reading model has
// known columns and none has the column: then the reference really names
// nothing, rather than something weft could not see.
func (c *checker) unresolvedColumns(reported map[string]bool) {
	upstreams := map[graph.DatasetID][]graph.DatasetID{}
	for id := range c.pr.Edges {
		upstreams[id.To] = append(upstreams[id.To], id.From)
	}
	for _, pf := range c.pr.Findings {
		if pf.Code != "unresolved_column" || c.inBase(pf) {
			continue
		}
		nodeID, _, _ := strings.Cut(pf.Location, ":")
		n := c.nodeByOrigin(nodeID)
		if n == nil || n.Relation.IsZero() {
			continue
		}
		col := lastPart(pf.Subject)
		if isPseudoColumn(col) {
			continue
		}
		ups := upstreams[n.Relation]
		if len(ups) == 0 {
			continue
		}
		slices.SortFunc(ups, graph.DatasetID.Compare)
		allKnown := true
		for _, up := range ups {
			known, ok := c.knownColumns(up)
			if !ok || slices.ContainsFunc(known, func(k string) bool { return strings.EqualFold(k, col) }) {
				allKnown = false
				break
			}
		}
		if !allKnown {
			continue
		}
		subject := n.Relation.Name + "." + col
		names := make([]string, len(ups))
		for i, up := range ups {
			names[i] = up.Name
		}
		if len(ups) == 1 {
			subject = ups[0].Name + "." + col
		}
		if reported[strings.ToUpper(subject)] {
			continue
		}
		reported[strings.ToUpper(subject)] = true
		f := Finding{
			Rule: RuleUnknownColumn, Severity: graph.SeverityError,
			Subject: subject,
			Message: fmt.Sprintf("%s reads column %s, which its upstream %s does not have", n.UniqueID, col, strings.Join(names, ", ")),
		}
		c.locate(&f, n, col)
		c.out = append(c.out, f)
	}
}

// danglingRefs reports relations read by compiled SQL that are neither a
// dbt node nor known to production, and depends_on entries that point at
// nothing.
func (c *checker) danglingRefs() {
	for _, pf := range c.pr.Findings {
		if c.inBase(pf) {
			continue
		}
		switch pf.Code {
		case "unresolved_table":
			if c.knownInBase(pf.Subject) {
				continue
			}
			f := Finding{
				Rule: RuleDanglingRef, Severity: graph.SeverityError,
				Subject: pf.Subject,
				Message: pf.Message + ", and production does not know it either",
			}
			c.locate(&f, c.nodeByOrigin(pf.Location), lastPart(pf.Subject))
			c.out = append(c.out, f)
		case "dangling_ref":
			c.out = append(c.out, Finding{
				Rule: RuleDanglingRef, Severity: graph.SeverityError,
				Subject: pf.Subject,
				Message: pf.Message,
				File:    pf.Location,
			})
		}
	}
}

// knownInBase reports whether a dataset named in a PR finding
// ("namespace/NAME") exists in the base graph under that name or as another
// identity.
func (c *checker) knownInBase(subject string) bool {
	ns, name, ok := strings.Cut(subject, "/")
	if i := strings.Index(subject, "://"); i >= 0 {
		rest := subject[i+3:]
		host, n, found := strings.Cut(rest, "/")
		ns, name, ok = subject[:i+3]+host, n, found
	}
	if !ok {
		return false
	}
	id := graph.DatasetID{Namespace: ns, Name: name}
	if _, ok := c.base.Datasets[id]; ok {
		return true
	}
	for _, d := range c.base.Datasets {
		for _, ident := range d.Identities {
			if ident.ID == id {
				return true
			}
		}
	}
	return false
}

// findingKey identifies an analysis finding across the base and PR builds:
// its code, subject and node, without the manifest's path or the line and
// column (which move when a PR edits the file).
func findingKey(f graph.Finding) string {
	loc := f.Location
	if i := strings.Index(loc, ": "); i >= 0 {
		loc = loc[i+2:]
	}
	loc, _, _ = strings.Cut(loc, ":")
	return f.Code + "\x00" + f.Subject + "\x00" + loc + "\x00" + f.Message
}

// inBase reports whether the base graph has the same analysis finding: the
// problem is older than the PR, which did not cause it. weft check reports
// what a change breaks; a manifest checked against itself has no findings.
func (c *checker) inBase(f graph.Finding) bool {
	if c.baseFindings == nil {
		c.baseFindings = map[string]bool{}
		for _, bf := range c.base.Findings {
			c.baseFindings[findingKey(bf)] = true
		}
	}
	return c.baseFindings[findingKey(f)]
}

func (c *checker) nodeByOrigin(origin string) *dbt.Node {
	if c.in.Project == nil {
		return nil
	}
	return c.in.Project.Node(origin)
}

// isPseudoColumn reports Snowflake's METADATA$ columns, which every staged
// file and external table has without declaring them.
func isPseudoColumn(col string) bool {
	return strings.HasPrefix(strings.ToUpper(col), "METADATA$")
}

func lastPart(subject string) string {
	if i := strings.LastIndexByte(subject, '.'); i >= 0 {
		return subject[i+1:]
	}
	return subject
}

// contracts compares each enforced contract's declared columns with the
// columns its compiled SQL produces.
func (c *checker) contracts() {
	if c.in.Project == nil {
		return
	}
	for _, n := range c.in.Project.Nodes {
		if !n.ContractEnforced || n.Relation.IsZero() {
			continue
		}
		out, ok := c.in.Outputs[n.Relation]
		if !ok {
			continue // the SQL was not fully analysed: no claim
		}
		var declared []string
		for _, col := range n.Columns {
			if col.Documented {
				declared = append(declared, col.Name)
			}
		}
		if len(declared) == 0 {
			continue
		}
		var missing, extra []string
		for _, d := range declared {
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, d) }) {
				missing = append(missing, d)
			}
		}
		for _, o := range out {
			if !slices.ContainsFunc(declared, func(d string) bool { return strings.EqualFold(o, d) }) {
				extra = append(extra, o)
			}
		}
		if len(missing) == 0 && len(extra) == 0 {
			continue
		}
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "declared but not produced by the SQL: "+strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			parts = append(parts, "produced by the SQL but not declared: "+strings.Join(extra, ", "))
		}
		f := Finding{
			Rule: RuleContractViolation, Severity: graph.SeverityError,
			Subject: n.Relation.Name,
			Message: fmt.Sprintf("%s has an enforced contract that its SQL breaks: %s", n.UniqueID, strings.Join(parts, "; ")),
		}
		col := ""
		if len(extra) > 0 {
			col = extra[0]
		}
		c.locate(&f, n, col)
		c.out = append(c.out, f)
	}
}

// cycles reports each strongly connected component of the dbt DAG with
// more than one node, or a node that depends on itself.
func (c *checker) cycles() {
	if c.in.Project == nil {
		return
	}
	p := c.in.Project
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	next := 0
	var strong func(v string)
	strong = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		n := p.Node(v)
		for _, w := range n.DependsOn {
			if p.Node(w) == nil {
				continue
			}
			if _, seen := index[w]; !seen {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) == 1 && !slices.Contains(n.DependsOn, v) {
			return
		}
		slices.Sort(comp)
		f := Finding{
			Rule: RuleCycle, Severity: graph.SeverityError,
			Subject: comp[0],
			Message: "dependency cycle: " + strings.Join(append(comp, comp[0]), " -> "),
		}
		c.locate(&f, p.Node(comp[0]), "")
		c.out = append(c.out, f)
	}
	for _, n := range p.Nodes {
		if _, seen := index[n.UniqueID]; !seen {
			strong(n.UniqueID)
		}
	}
}

// locate points a finding at the node's file and, when column is given and
// appears in the node's SQL, at its line.
func (c *checker) locate(f *Finding, n *dbt.Node, column string) {
	if n == nil {
		return
	}
	f.File = n.OriginalFilePath
	if column == "" || n.RawSQL == "" {
		return
	}
	re, err := regexp.Compile(`(?i)(^|[^A-Za-z0-9_$])` + regexp.QuoteMeta(column) + `($|[^A-Za-z0-9_$])`)
	if err != nil {
		return
	}
	loc := re.FindStringIndex(n.RawSQL)
	if loc == nil {
		return
	}
	f.Line = 1 + strings.Count(n.RawSQL[:loc[0]+1], "\n")
	if loc[0] == 0 {
		f.Line = 1
	}
}
