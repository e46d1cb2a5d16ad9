package dbt

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/weftdata/weft/graph"
)

// SnapshotConfig is a snapshot's strategy: how dbt decides that a row
// changed, which fills the meta columns it adds to the table.
type SnapshotConfig struct {
	Strategy  string   // timestamp, check (or a custom strategy's name)
	UniqueKey []string // config.unique_key: one column, a list, or an expression
	UpdatedAt string   // config.updated_at (timestamp strategy; optional for check)
	// CheckCols is config.check_cols: the columns compared (check
	// strategy); ["all"] means every column.
	CheckCols []string
	// MetaColumns are config.snapshot_meta_column_names (dbt 1.9+):
	// renamed meta columns, keyed by their default name (dbt_scd_id, ...).
	MetaColumns map[string]string
	// HardDeletes is config.hard_deletes (ignore, invalidate, new_record),
	// or "invalidate" for invalidate_hard_deletes: true.
	HardDeletes string
}

// readConfig reads the snapshot keys of a node's config; others are
// ignored.
func (s *SnapshotConfig) readConfig(key string, v gjson.Result) {
	switch key {
	case "strategy":
		s.Strategy = v.String()
	case "unique_key":
		if v.IsArray() {
			s.UniqueKey = appendStrings(nil, v)
		} else if v.String() != "" {
			s.UniqueKey = []string{v.String()}
		}
	case "updated_at":
		s.UpdatedAt = v.String()
	case "check_cols":
		if v.IsArray() {
			s.CheckCols = appendStrings(nil, v)
		} else if v.String() != "" {
			s.CheckCols = []string{v.String()}
		}
	case "snapshot_meta_column_names":
		v.ForEach(func(k, name gjson.Result) bool {
			if name.String() != "" {
				if s.MetaColumns == nil {
					s.MetaColumns = map[string]string{}
				}
				s.MetaColumns[k.String()] = name.String()
			}
			return true
		})
	case "hard_deletes":
		if v.String() != "" {
			s.HardDeletes = v.String()
		}
	case "invalidate_hard_deletes":
		if v.Bool() && s.HardDeletes == "" {
			s.HardDeletes = "invalidate"
		}
	}
}

// Snapshot meta columns, by their default names.
const (
	metaSCDID     = "dbt_scd_id"
	metaUpdatedAt = "dbt_updated_at"
	metaValidFrom = "dbt_valid_from"
	metaValidTo   = "dbt_valid_to"
	metaIsDeleted = "dbt_is_deleted"
)

// metaColumn is the warehouse name of a snapshot meta column: renamed by
// snapshot_meta_column_names or the default, folded like an unquoted
// column.
func (p *Project) metaColumn(n *Node, name string) string {
	if n.Snapshot != nil && n.Snapshot.MetaColumns[name] != "" {
		name = n.Snapshot.MetaColumns[name]
	}
	return graph.Fold(p.Platform, name, false)
}

// snapshotMetaNames are the meta columns n's table has, in the order dbt
// adds them.
func (p *Project) snapshotMetaNames(n *Node) []string {
	names := []string{metaSCDID, metaUpdatedAt, metaValidFrom, metaValidTo}
	if n.Snapshot != nil && n.Snapshot.HardDeletes == "new_record" {
		names = append(names, metaIsDeleted)
	}
	return names
}

// addSnapshotColumns appends to a snapshot's columns the meta columns dbt
// adds to its table, when the catalog does not list them already. They
// get types only when the other columns have them (a catalog), so that
// the column list still reads as complete.
//
// A snapshot with no known columns gets none: a column list of only the
// meta columns would read as the whole table, and the SQL analysis would
// not learn the snapshot's real columns from its SQL. Its meta columns
// are still the targets of the strategy's column edges.
func (p *Project) addSnapshotColumns(n *Node) {
	if n.ResourceType != "snapshot" || len(n.Columns) == 0 {
		return
	}
	typed := len(n.Columns) > 0
	for _, c := range n.Columns {
		if c.Type == "" {
			typed = false
		}
	}
	tsType := ""
	if typed {
		tsType = p.timestampType()
		if n.Snapshot != nil && n.Snapshot.UpdatedAt != "" {
			if ids, plain := exprColumns(n.Snapshot.UpdatedAt); plain {
				if name, known := p.columnName(n, ids[0]); known {
					tsType = n.Columns[columnIndex(n.Columns, name, name)].Type
				}
			}
		}
	}
	for _, meta := range p.snapshotMetaNames(n) {
		name := p.metaColumn(n, meta)
		if columnIndex(n.Columns, name, name) >= 0 {
			continue
		}
		c := Column{Name: name, Description: "added by the dbt snapshot"}
		if typed {
			switch meta {
			case metaSCDID:
				c.Type = p.textType()
			case metaIsDeleted:
				c.Type = p.textType()
			default:
				c.Type = tsType
			}
		}
		n.Columns = append(n.Columns, c)
	}
}

func (p *Project) textType() string {
	switch p.Platform {
	case graph.Snowflake:
		return "TEXT"
	case graph.Databricks, graph.Spark:
		return "string"
	case graph.BigQuery:
		return "STRING"
	}
	return "text"
}

func (p *Project) timestampType() string {
	switch p.Platform {
	case graph.Snowflake:
		return "TIMESTAMP_NTZ"
	case graph.BigQuery:
		return "TIMESTAMP"
	}
	return "timestamp"
}

// snapshotEdges says where a snapshot's meta columns come from: the
// strategy's columns, not the upstream tables.
//
//   - timestamp: updated_at → dbt_updated_at, dbt_valid_from, dbt_valid_to
//     (DIRECT TRANSFORMATION); unique_key and updated_at → dbt_scd_id (the
//     hash of both, DIRECT TRANSFORMATION).
//   - check: check_cols → dbt_scd_id, dbt_updated_at, dbt_valid_from,
//     dbt_valid_to (INDIRECT CONDITIONAL: a change in them starts a new
//     version, stamped with the snapshot time); unique_key → dbt_scd_id
//     (DIRECT TRANSFORMATION); updated_at, when set, as for timestamp.
//   - hard deletes (invalidate, new_record): unique_key → dbt_valid_to and
//     dbt_is_deleted (INDIRECT CONDITIONAL: a key that disappears closes
//     its row).
func (p *Project) snapshotEdges(g *graph.Graph, n *Node, ev graph.Evidence) {
	s := n.Snapshot
	if s == nil {
		return
	}
	ds := n.DatasetID()
	col := func(name string) graph.ColumnID { return graph.ColumnID{Dataset: ds, Column: name} }
	meta := func(name string) graph.ColumnID { return col(p.metaColumn(n, name)) }
	// columns reads the columns of config values (a column, or an
	// expression such as "id || '-' || region").
	columns := func(values ...string) []graph.ColumnID {
		var out []graph.ColumnID
		for _, v := range values {
			ids, _ := exprColumns(v)
			for _, id := range ids {
				name, _ := p.columnName(n, id)
				out = append(out, col(name))
			}
		}
		return out
	}
	keys := columns(s.UniqueKey...)
	var updated []graph.ColumnID
	if s.UpdatedAt != "" {
		updated = columns(s.UpdatedAt)
	}
	direct := func(from []graph.ColumnID, to ...string) {
		for _, f := range from {
			for _, t := range to {
				addColumnEdge(g, f, meta(t), graph.Direct, graph.SubtypeTransformation, ev)
			}
		}
	}
	conditional := func(from []graph.ColumnID, to ...string) {
		for _, f := range from {
			for _, t := range to {
				addColumnEdge(g, f, meta(t), graph.Indirect, graph.SubtypeConditional, ev)
			}
		}
	}
	direct(updated, metaUpdatedAt, metaValidFrom, metaValidTo)
	direct(keys, metaSCDID)
	direct(updated, metaSCDID)
	if strings.EqualFold(s.Strategy, "check") {
		conditional(p.checkColumns(n), metaSCDID, metaUpdatedAt, metaValidFrom, metaValidTo)
	}
	switch s.HardDeletes {
	case "invalidate":
		conditional(keys, metaValidTo)
	case "new_record":
		conditional(keys, metaValidTo, metaIsDeleted)
	}
}

// checkColumns are the check strategy's compared columns; "all" is every
// column of the snapshot that is not a meta column (unknown without a
// catalog or documented columns).
func (p *Project) checkColumns(n *Node) []graph.ColumnID {
	s := n.Snapshot
	ds := n.DatasetID()
	if len(s.CheckCols) == 1 && strings.EqualFold(s.CheckCols[0], "all") {
		metas := map[string]bool{}
		for _, m := range p.snapshotMetaNames(n) {
			metas[p.metaColumn(n, m)] = true
		}
		var out []graph.ColumnID
		for _, c := range n.Columns {
			if !metas[c.Name] {
				out = append(out, graph.ColumnID{Dataset: ds, Column: c.Name})
			}
		}
		return out
	}
	var out []graph.ColumnID
	for _, v := range s.CheckCols {
		ids, _ := exprColumns(v)
		for _, id := range ids {
			name, _ := p.columnName(n, id)
			out = append(out, graph.ColumnID{Dataset: ds, Column: name})
		}
	}
	return out
}
