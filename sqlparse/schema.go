package sqlparse

import "strings"

// MapSchema is a Schema backed by a map from dotted table names to ordered
// column names. A lookup matches on the dotted suffix, case-insensitively:
// "orders" finds "PROD.SALES.ORDERS" when that is the only table called
// ORDERS, and a fully qualified lookup finds a table registered under its
// short name. Ambiguous matches are treated as unknown. The zero value is
// empty and usable; MapSchema is not safe for concurrent writes.
type MapSchema struct {
	tables map[string][]string // lower-cased full name → columns
	byName map[string][]string // lower-cased last part → full names
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
	key := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(name, `"`, ""), "`", ""))
	if _, ok := m.tables[key]; !ok {
		last := key
		if k := strings.LastIndexByte(key, '.'); k >= 0 {
			last = key[k+1:]
		}
		m.byName[last] = append(m.byName[last], key)
	}
	m.tables[key] = cols
}

// Columns implements Schema.
func (m *MapSchema) Columns(t Table) ([]string, bool) {
	if m == nil || m.tables == nil {
		return nil, false
	}
	full := strings.ToLower(t.String())
	if c, ok := m.tables[full]; ok {
		return c, true
	}
	var found []string
	for _, cand := range m.byName[strings.ToLower(t.Name)] {
		// Either name may be the more qualified one.
		if strings.HasSuffix("."+full, "."+cand) || strings.HasSuffix("."+cand, "."+full) {
			found = append(found, cand)
		}
	}
	if len(found) != 1 {
		return nil, false
	}
	return m.tables[found[0]], true
}
