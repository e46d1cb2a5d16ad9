package weave

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/weftdata/weft/graph"
)

// Identity rules. The same physical table is often seen under several
// names: a Databricks foreign-catalog table mirrors a Snowflake table, two
// tables share a storage location, a table was renamed. weft keeps one node
// per physical table:
//
//   - A dataset whose Identities name another dataset in the graph is
//     another name of that dataset ("A is also known as X"): A is merged
//     into X, which stays canonical. Extractors use this for foreign
//     catalogs (the mirror names the source table) and renames (the old name
//     names the new one).
//   - Datasets with the same storage location (Properties
//     "storage_location") are one table; the lexically smallest ID is
//     canonical.
//
// The merged node keeps every name it was known by as an Identity, with the
// reason the link was made, so `weft lineage` finds it under any of them.
// Edges of the merged-away name are rewritten to the canonical node, and
// column names are matched case-insensitively to the canonical spelling
// (Databricks lower-cases what Snowflake upper-cases).

// Link is a user-declared or derived identity link: From is another name of
// To.
type Link struct {
	From, To graph.DatasetID
	Reason   string
}

// Unify merges the datasets of g that are one physical table, following
// the rules above, plus extra links. Build calls it; a reader of graphs
// woven separately (the store's batches) calls it on their union.
func Unify(g *graph.Graph, extra ...Link) {
	links := collectLinks(g, extra)
	if len(links) == 0 {
		return
	}
	// canonical follows From → To chains; a cycle keeps its smallest ID.
	target := map[graph.DatasetID]Link{}
	for _, l := range links {
		if l.From == l.To {
			continue
		}
		if cur, ok := target[l.From]; ok && graph.DatasetID.Compare(cur.To, l.To) <= 0 {
			continue
		}
		target[l.From] = l
	}
	canonical := func(id graph.DatasetID) graph.DatasetID {
		seen := map[graph.DatasetID]bool{}
		for {
			l, ok := target[id]
			if !ok || seen[id] {
				return id
			}
			seen[id] = true
			id = l.To
		}
	}
	rename := map[graph.DatasetID]graph.DatasetID{}
	for from := range target {
		if to := canonical(from); to != from {
			rename[from] = to
		}
	}
	if len(rename) == 0 {
		return
	}

	// Merge datasets, recording the identities.
	froms := make([]graph.DatasetID, 0, len(rename))
	for f := range rename {
		froms = append(froms, f)
	}
	sort.Slice(froms, func(i, j int) bool { return graph.DatasetID.Compare(froms[i], froms[j]) < 0 })
	for _, from := range froms {
		to := rename[from]
		d, ok := g.Datasets[from]
		if !ok {
			continue
		}
		moved := *d
		moved.ID = to
		moved.Kind = ""
		moved.Platform = ""
		// Identities that named the canonical node itself are now implied.
		moved.Identities = slices.DeleteFunc(slices.Clone(moved.Identities), func(i graph.Identity) bool {
			return rename[i.ID] == to || i.ID == to
		})
		moved.Identities = append(moved.Identities, graph.Identity{ID: from, Reason: target[from].Reason})
		if cur, ok := g.Datasets[to]; ok {
			moved.Columns = renameColumns(cur, moved.Columns)
			if from.Namespace != to.Namespace {
				// The canonical platform's types are the table's types: a
				// Databricks mirror reports DECIMAL(38,6) where Snowflake
				// says NUMBER, and merging keeps the longer text.
				moved.Columns = dropKnownTypes(cur, moved.Columns)
			}
		}
		delete(g.Datasets, from)
		g.AddDataset(moved)
	}

	colName := func(id graph.ColumnID) graph.ColumnID {
		to, ok := rename[id.Dataset]
		if !ok {
			return id
		}
		out := graph.ColumnID{Dataset: to, Column: id.Column}
		if d, ok := g.Datasets[to]; ok && id.Column != "" {
			out.Column = matchColumn(d, id.Column)
		}
		return out
	}
	for id, e := range g.Edges {
		from, to := id.From, id.To
		if r, ok := rename[from]; ok {
			from = r
		}
		if r, ok := rename[to]; ok {
			to = r
		}
		if from == id.From && to == id.To {
			continue
		}
		delete(g.Edges, id)
		if from == to {
			continue
		}
		for _, ev := range e.Evidence {
			g.AddEdge(from, to, ev)
		}
	}
	for id, e := range g.ColumnEdges {
		nid := id
		nid.From, nid.To = colName(id.From), colName(id.To)
		if nid == id {
			continue
		}
		delete(g.ColumnEdges, id)
		if nid.From == nid.To {
			continue
		}
		for _, ev := range e.Evidence {
			g.AddColumnEdge(nid, ev)
		}
	}
}

// mirrorRule says that every table under catalog Catalog in namespace NS
// mirrors a table of database Database in namespace Target (a Databricks
// foreign catalog over a Snowflake database).
type mirrorRule struct {
	ns, catalog      string
	target, database string
	reason           string
}

// mirrorRules learns catalog-level rules from the datasets an extractor
// marked as foreign-catalog mirrors (properties foreign_catalog and
// foreign_database, and an identity in the mirrored namespace), so that
// tables of that catalog which only SQL mentioned are linked too.
func mirrorRules(g *graph.Graph) []mirrorRule {
	seen := map[mirrorRule]bool{}
	var rules []mirrorRule
	for id, d := range g.Datasets {
		cat, db := d.Properties["foreign_catalog"], d.Properties["foreign_database"]
		if cat == "" || db == "" {
			continue
		}
		for _, ident := range d.Identities {
			if ident.ID.Namespace == id.Namespace {
				continue
			}
			r := mirrorRule{ns: id.Namespace, catalog: cat, target: ident.ID.Namespace, database: db, reason: ident.Reason}
			if !seen[r] {
				seen[r] = true
				rules = append(rules, r)
			}
		}
	}
	return rules
}

// apply returns the mirrored dataset for id, if the rule covers it.
func (r mirrorRule) apply(id graph.DatasetID) (graph.DatasetID, bool) {
	if id.Namespace != r.ns {
		return graph.DatasetID{}, false
	}
	parts := splitCanonical(id.Name)
	if len(parts) != 3 || !strings.EqualFold(parts[0], r.catalog) {
		return graph.DatasetID{}, false
	}
	p := platformOf(r.target)
	return graph.DatasetID{Namespace: r.target, Name: graph.JoinName(r.database, graph.Fold(p, parts[1], false), graph.Fold(p, parts[2], false))}, true
}

// collectLinks gathers identity links from dataset Identities, shared
// storage locations, foreign-catalog rules and extra.
func collectLinks(g *graph.Graph, extra []Link) []Link {
	var links []Link
	rules := mirrorRules(g)
	for id, d := range g.Datasets {
		if len(d.Identities) > 0 && d.Properties["foreign_catalog"] != "" {
			continue // the extractor already linked it
		}
		for _, r := range rules {
			if to, ok := r.apply(id); ok {
				if _, exists := g.Datasets[to]; exists {
					links = append(links, Link{From: id, To: to, Reason: r.reason})
				}
			}
		}
	}
	byLocation := map[string][]graph.DatasetID{}
	for id, d := range g.Datasets {
		for _, ident := range d.Identities {
			if _, ok := g.Datasets[ident.ID]; ok && ident.ID != id {
				links = append(links, Link{From: id, To: ident.ID, Reason: ident.Reason})
			}
		}
		if loc := normalizeLocation(d.Properties["storage_location"]); loc != "" {
			byLocation[loc] = append(byLocation[loc], id)
		}
	}
	for loc, ids := range byLocation {
		if len(ids) < 2 {
			continue
		}
		sort.Slice(ids, func(i, j int) bool { return graph.DatasetID.Compare(ids[i], ids[j]) < 0 })
		for _, id := range ids[1:] {
			links = append(links, Link{From: id, To: ids[0], Reason: "same storage location " + loc})
		}
	}
	for _, l := range extra {
		if _, ok := g.Datasets[l.To]; ok {
			links = append(links, l)
		}
	}
	sort.Slice(links, func(i, j int) bool {
		if c := graph.DatasetID.Compare(links[i].From, links[j].From); c != 0 {
			return c < 0
		}
		if c := graph.DatasetID.Compare(links[i].To, links[j].To); c != 0 {
			return c < 0
		}
		return links[i].Reason < links[j].Reason
	})
	return links
}

// normalizeLocation makes storage locations comparable: scheme and host
// case-insensitive, no trailing slash.
func normalizeLocation(loc string) string {
	loc = strings.TrimSpace(loc)
	loc = strings.TrimRight(loc, "/")
	if i := strings.Index(loc, "://"); i > 0 {
		rest := loc[i+3:]
		host, path, _ := strings.Cut(rest, "/")
		loc = strings.ToLower(loc[:i]) + "://" + strings.ToLower(host)
		if path != "" {
			loc += "/" + path
		}
	}
	return loc
}

// renameColumns maps the merged-away dataset's column names onto the
// canonical dataset's spelling.
func renameColumns(canon *graph.Dataset, cols []graph.Column) []graph.Column {
	out := slices.Clone(cols)
	for i := range out {
		out[i].Name = matchColumn(canon, out[i].Name)
	}
	return out
}

// dropKnownTypes clears the type of each column the canonical dataset
// already types.
func dropKnownTypes(canon *graph.Dataset, cols []graph.Column) []graph.Column {
	for i := range cols {
		if c, ok := canon.Column(cols[i].Name); ok && c.Type != "" {
			cols[i].Type = ""
		}
	}
	return cols
}

func matchColumn(d *graph.Dataset, name string) string {
	for _, c := range d.Columns {
		if c.Name == name {
			return name
		}
	}
	for _, c := range d.Columns {
		if strings.EqualFold(c.Name, name) {
			return c.Name
		}
	}
	// Unknown on the canonical side: spell it the canonical platform's way.
	return graph.Fold(d.Platform, name, false)
}

// String renders a link for messages.
func (l Link) String() string { return fmt.Sprintf("%s = %s (%s)", l.From, l.To, l.Reason) }
