package weave

import (
	"slices"
	"strings"
	"sync"

	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/sqlparse"
)

// catalog is the schema lookup sqlparse sees: every dataset weft knows,
// per namespace, with its ordered column names. Parses of one level read
// it concurrently; results are applied between levels, under the lock.
type catalog struct {
	mu   sync.RWMutex
	byNS map[string]*nsCatalog
	// additions counts tables that gained columns, so callers can tell
	// whether retrying a partial parse may help.
	additions int
}

type nsCatalog struct {
	exact map[string]*entry   // canonical name → entry
	lower map[string][]*entry // lower-cased name → entries (a fallback for case mismatches)
	last  map[string][]*entry // lower-cased last part → entries (partly qualified names)
}

type entry struct {
	id   graph.DatasetID
	cols []string
}

func newCatalog(g *graph.Graph) *catalog {
	c := &catalog{byNS: map[string]*nsCatalog{}}
	for id, d := range g.Datasets {
		var cols []string
		for _, col := range d.Columns {
			cols = append(cols, col.Name)
		}
		c.addLocked(id, cols)
	}
	return c
}

// addSchema adds the datasets of g, for lookup only. A dataset the batch
// knows too keeps the longer column list first (a batch often lists only
// the columns a query touched, as Snowflake's access history does), then
// the other list's extra columns.
func (c *catalog) addSchema(g *graph.Graph) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, d := range g.Datasets {
		cols := make([]string, 0, len(d.Columns))
		for _, col := range d.Columns {
			cols = append(cols, col.Name)
		}
		if e, ok := c.ns(id.Namespace).exact[id.Name]; ok {
			e.cols = unionColumns(cols, e.cols)
			continue
		}
		c.addLocked(id, cols)
	}
}

// unionColumns returns the longer of a and b, then the other's columns it
// lacks (compared case-insensitively), in order.
func unionColumns(a, b []string) []string {
	if len(b) > len(a) {
		a, b = b, a
	}
	out := slices.Clone(a)
	for _, col := range b {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, col) }) {
			out = append(out, col)
		}
	}
	return out
}

func (c *catalog) ns(name string) *nsCatalog {
	n, ok := c.byNS[name]
	if !ok {
		n = &nsCatalog{exact: map[string]*entry{}, lower: map[string][]*entry{}, last: map[string][]*entry{}}
		c.byNS[name] = n
	}
	return n
}

// add records id with columns cols. It returns true when the catalog
// learned columns it did not have (a new table, or one without columns).
func (c *catalog) add(id graph.DatasetID, cols []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addLocked(id, cols)
}

func (c *catalog) addLocked(id graph.DatasetID, cols []string) bool {
	n := c.ns(id.Namespace)
	if e, ok := n.exact[id.Name]; ok {
		if len(e.cols) == 0 && len(cols) > 0 {
			e.cols = cols
			c.additions++
			return true
		}
		return false
	}
	if len(cols) > 0 {
		c.additions++
	}
	e := &entry{id: id, cols: cols}
	n.exact[id.Name] = e
	low := strings.ToLower(id.Name)
	n.lower[low] = append(n.lower[low], e)
	parts := splitCanonical(id.Name)
	lastPart := strings.ToLower(parts[len(parts)-1])
	n.last[lastPart] = append(n.last[lastPart], e)
	return len(cols) > 0
}

// learned returns how many tables have gained columns so far.
func (c *catalog) learned() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.additions
}

// resolve maps a table named in SQL to a dataset. Missing database and
// schema come from the statement's defaults. It tries the exact canonical
// name, then a case-insensitive match, then a unique match on the parts
// given. When nothing matches it returns the fully qualified ID it would
// have, and false.
func (c *catalog) resolve(ns string, in sqlparse.Input, t sqlparse.Table) (graph.DatasetID, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.lookupLocked(ns, in, t)
	if ok {
		return e.id, true
	}
	return graph.DatasetID{Namespace: ns, Name: qualifiedName(in, t)}, false
}

func (c *catalog) lookupLocked(ns string, in sqlparse.Input, t sqlparse.Table) (*entry, bool) {
	n, ok := c.byNS[ns]
	if !ok {
		return nil, false
	}
	if strings.HasPrefix(t.Name, "@") || strings.Contains(t.Name, "://") {
		e, ok := n.exact[t.Name]
		return e, ok
	}
	name := qualifiedName(in, t)
	if e, ok := n.exact[name]; ok {
		return e, true
	}
	if es := n.lower[strings.ToLower(name)]; len(es) == 1 {
		return es[0], true
	}
	// Partly qualified names (no defaults known): match on the parts
	// given, when exactly one dataset fits.
	given := splitCanonical(graph.JoinName(nonEmpty(t.Database, t.Schema, t.Name)...))
	var match *entry
	for _, e := range n.last[strings.ToLower(t.Name)] {
		if hasSuffixFold(splitCanonical(e.id.Name), given) {
			if match != nil {
				return nil, false
			}
			match = e
		}
	}
	return match, match != nil
}

// schema returns the sqlparse.Schema a statement in namespace ns sees.
func (c *catalog) schema(ns string, in sqlparse.Input) sqlparse.Schema {
	return nsSchema{c: c, ns: ns, in: in}
}

type nsSchema struct {
	c  *catalog
	ns string
	in sqlparse.Input
}

func (s nsSchema) Columns(t sqlparse.Table) ([]string, bool) {
	s.c.mu.RLock()
	defer s.c.mu.RUnlock()
	e, ok := s.c.lookupLocked(s.ns, s.in, t)
	if !ok || len(e.cols) == 0 {
		return nil, false
	}
	return e.cols, true
}

// columnName returns the dataset's own spelling of col when it has a
// column of that name in another case (documented columns in a dbt YAML are
// often lower case while Snowflake reports upper case), else col.
func (c *catalog) columnName(id graph.DatasetID, col string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.byNS[id.Namespace]
	if !ok {
		return col
	}
	e, ok := n.exact[id.Name]
	if !ok {
		return col
	}
	for _, have := range e.cols {
		if have == col {
			return col
		}
	}
	for _, have := range e.cols {
		if strings.EqualFold(have, col) {
			return have
		}
	}
	return col
}

// qualifiedName fills in the statement's default database and schema and
// joins the parts canonically.
func qualifiedName(in sqlparse.Input, t sqlparse.Table) string {
	db, schema := t.Database, t.Schema
	if schema == "" {
		schema = in.DefaultSchema
		if db == "" {
			db = in.DefaultDatabase
		}
	}
	return graph.JoinName(nonEmpty(db, schema, t.Name)...)
}

func nonEmpty(parts ...string) []string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitCanonical splits a canonical dataset name into its parts. Names
// weft builds always split; a malformed one is treated as one part.
func splitCanonical(name string) []string {
	ids, err := graph.SplitName(name)
	if err != nil || len(ids) == 0 {
		return []string{name}
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Text
	}
	return out
}

func hasSuffixFold(parts, suffix []string) bool {
	if len(suffix) > len(parts) {
		return false
	}
	off := len(parts) - len(suffix)
	for i, s := range suffix {
		if !strings.EqualFold(parts[off+i], s) {
			return false
		}
	}
	return true
}
