package dbt

import (
	"cmp"

	"github.com/tidwall/gjson"

	"github.com/weftdata/weft/graph"
)

// parseExternal reads a source's external config (dbt-external-tables):
// its location and partitions. Sources without one have "external": null,
// or (older manifests) an object whose fields are all null; both give nil.
func parseExternal(v gjson.Result) *ExternalTable {
	if !v.IsObject() {
		return nil
	}
	ext := &ExternalTable{Location: v.Get("location").String()}
	v.Get("partitions").ForEach(func(_, pv gjson.Result) bool {
		part := Partition{
			Name:        pv.Get("name").String(),
			DataType:    pv.Get("data_type").String(),
			Expression:  pv.Get("expression").String(),
			Description: pv.Get("description").String(),
		}
		if part.Name != "" {
			ext.Partitions = append(ext.Partitions, part)
		}
		return true
	})
	if ext.Location == "" && len(ext.Partitions) == 0 {
		return nil
	}
	return ext
}

// addPartitionColumns appends an external table's partition columns to
// the source's columns when neither the catalog nor the source's YAML
// lists them; a listed one without a type or description takes the
// partition's. dbt-external-tables declares them as columns of the table
// (Snowflake: "name type as (expression)"; Spark, Databricks: "partitioned
// by"), unquoted, so their names fold like unquoted identifiers.
func (p *Project) addPartitionColumns(n *Node) {
	if n.External == nil {
		return
	}
	for _, part := range n.External.Partitions {
		name := graph.Fold(p.Platform, part.Name, false)
		if i := columnIndex(n.Columns, name, part.Name); i >= 0 {
			c := &n.Columns[i]
			c.Type = cmp.Or(c.Type, part.DataType)
			c.Description = cmp.Or(c.Description, part.Description)
			continue
		}
		desc := part.Description
		if desc == "" && part.Expression != "" {
			desc = "partition: " + part.Expression
		}
		n.Columns = append(n.Columns, Column{Name: name, Type: part.DataType, Description: desc, Documented: true})
	}
}
