package sqlparse

import "strings"

// MapSchema is a Schema backed by a map from dotted table names to ordered
// column names. A lookup matches on the dotted suffix, case-insensitively:
// "orders" finds "PROD.SALES.ORDERS" when that is the only table called
// ORDERS, and a fully qualified lookup finds a table registered under its
// short name. Ambiguous matches are treated as unknown. The zero value is
// empty and usable; MapSchema is not safe for concurrent writes.
type MapSchema struct {
	tables    map[string][]string // lower-cased full name → columns
	byName    map[string][]string // lower-cased last part → full names
	unordered map[string]bool     // full names whose column order is unknown
}

// NewMapSchema builds a MapSchema from dotted table names to columns.
func NewMapSchema(tables map[string][]string) *MapSchema {
	m := &MapSchema{}
	for name, cols := range tables {
		m.Add(name, cols)
	}
	return m
}

// Add registers a table (dotted name, quotes allowed around parts) with
// its ordered columns.
func (m *MapSchema) Add(name string, cols []string) {
	if m.tables == nil {
		m.tables = map[string][]string{}
		m.byName = map[string][]string{}
	}
	key := schemaKey(name)
	if _, ok := m.tables[key]; !ok {
		last := key
		if k := strings.LastIndexByte(key, '.'); k >= 0 {
			last = key[k+1:]
		}
		m.byName[last] = append(m.byName[last], key)
	}
	m.tables[key] = cols
	delete(m.unordered, key) // registered again, in table order
}

// AddUnordered registers a table whose column names are known but not
// their order (see ColumnOrder).
func (m *MapSchema) AddUnordered(name string, cols []string) {
	m.Add(name, cols)
	if m.unordered == nil {
		m.unordered = map[string]bool{}
	}
	m.unordered[schemaKey(name)] = true
}

func schemaKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(name, `"`, ""), "`", ""))
}

// Columns implements Schema.
func (m *MapSchema) Columns(t Table) ([]string, bool) {
	key, ok := m.lookup(t)
	if !ok {
		return nil, false
	}
	return m.tables[key], true
}

// OrderKnown implements ColumnOrder.
func (m *MapSchema) OrderKnown(t Table) bool {
	key, ok := m.lookup(t)
	return !ok || !m.unordered[key]
}

// lookup finds t's key: its full name, or the one registered name that
// t's name is a dotted suffix of (or that is a suffix of t's).
func (m *MapSchema) lookup(t Table) (string, bool) {
	if m == nil || m.tables == nil {
		return "", false
	}
	full := strings.ToLower(t.String())
	if _, ok := m.tables[full]; ok {
		return full, true
	}
	var found []string
	for _, cand := range m.byName[strings.ToLower(t.Name)] {
		// Either name may be the more qualified one.
		if strings.HasSuffix("."+full, "."+cand) || strings.HasSuffix("."+cand, "."+full) {
			found = append(found, cand)
		}
	}
	if len(found) != 1 {
		return "", false
	}
	return found[0], true
}
