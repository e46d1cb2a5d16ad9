package databricks

import (
	"fmt"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/catalog"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// catalogInfo is what weft keeps of a Unity Catalog catalog.
type catalogInfo struct {
	Name       string
	Type       string // MANAGED_CATALOG, FOREIGN_CATALOG, DELTASHARING_CATALOG, ...
	Connection string // foreign catalogs: the connection's name
	Database   string // foreign catalogs: options.database, the remote database
}

// connectionInfo is what weft keeps of a Lakehouse Federation connection.
type connectionInfo struct {
	Name string
	Type string // SNOWFLAKE, POSTGRESQL, ...
	Host string // options.host
	Port string
}

// addCatalog remembers a catalog; foreign catalogs give identities to the
// tables in them.
func (d *decoder) addCatalog(c catalog.CatalogInfo) {
	name := lowerName(c.Name)
	if name == "" {
		return
	}
	ci := catalogInfo{Name: name, Type: string(c.CatalogType), Connection: c.ConnectionName}
	if c.Options != nil {
		ci.Database = c.Options["database"]
		if ci.Database == "" {
			ci.Database = c.Options["catalog"] // some connection types call it catalog
		}
	}
	d.catalogs[name] = ci
}

// addConnection remembers a connection.
func (d *decoder) addConnection(c catalog.ConnectionInfo) {
	if c.Name == "" {
		return
	}
	ci := connectionInfo{Name: c.Name, Type: string(c.ConnectionType)}
	if c.Options != nil {
		ci.Host = c.Options["host"]
		ci.Port = c.Options["port"]
	}
	d.connections[c.Name] = ci
}

// snowflakeAccount turns a Snowflake host into the account part of the
// namespace: "acmebank-prod.snowflakecomputing.com" -> "acmebank-prod",
// "xy12345.eu-west-1.privatelink.snowflakecomputing.com" ->
// "xy12345.eu-west-1".
func snowflakeAccount(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	h, _, _ = strings.Cut(h, "/")
	h, _, _ = strings.Cut(h, ":")
	h = strings.TrimSuffix(h, ".snowflakecomputing.com")
	h = strings.TrimSuffix(h, ".privatelink")
	return h
}

// identity returns the dataset's identity on the remote platform when id
// lies in a foreign catalog (Lakehouse Federation) whose connection weft
// understands.
func (d *decoder) identity(id graph.DatasetID) (graph.Identity, bool) {
	if id.Namespace != d.ns {
		return graph.Identity{}, false
	}
	cat, rest, ok := strings.Cut(id.Name, ".")
	if !ok {
		return graph.Identity{}, false
	}
	ci, ok := d.catalogs[cat]
	if !ok || ci.Connection == "" || ci.Database == "" {
		return graph.Identity{}, false
	}
	conn, ok := d.connections[ci.Connection]
	if !ok {
		return graph.Identity{}, false
	}
	schema, table, ok := strings.Cut(rest, ".")
	if !ok {
		return graph.Identity{}, false
	}
	switch conn.Type {
	case "SNOWFLAKE":
		acct := snowflakeAccount(conn.Host)
		if acct == "" {
			return graph.Identity{}, false
		}
		// Unity Catalog lowercases the remote names; Snowflake folds
		// unquoted identifiers to upper case.
		name := graph.Name(graph.Snowflake, ci.Database, schema, table)
		return graph.Identity{
			ID: graph.DatasetID{Namespace: "snowflake://" + acct, Name: name},
			Reason: fmt.Sprintf("foreign catalog %s mirrors Snowflake database %s (connection %s)",
				ci.Name, strings.ToUpper(ci.Database), conn.Name),
		}, true
	case "POSTGRESQL":
		port := conn.Port
		if port == "" {
			port = "5432"
		}
		return graph.Identity{
			ID: graph.DatasetID{Namespace: "postgres://" + strings.ToLower(conn.Host) + ":" + port,
				Name: graph.Name(graph.Postgres, ci.Database, schema, table)},
			Reason: fmt.Sprintf("foreign catalog %s mirrors PostgreSQL database %s (connection %s)",
				ci.Name, ci.Database, conn.Name),
		}, true
	}
	return graph.Identity{}, false
}

// ensureTable adds a bare Unity Catalog dataset unless the graph has it,
// with its foreign identity when it lives in a foreign catalog.
func (d *decoder) ensureTable(g *graph.Graph, id graph.DatasetID, k graph.Kind) {
	if _, ok := g.Datasets[id]; ok {
		return
	}
	ds := graph.Dataset{ID: id, Platform: graph.Databricks, Kind: k}
	if ident, ok := d.identity(id); ok {
		ds.Identities = []graph.Identity{ident}
		ds.Kind = graph.KindExternal
		cat, _, _ := strings.Cut(id.Name, ".")
		ds.Properties = d.foreignProps(cat)
	}
	g.AddDataset(ds)
}

func (d *decoder) foreignProps(cat string) map[string]string {
	ci := d.catalogs[cat]
	p := map[string]string{"foreign_catalog": ci.Name}
	setProp(p, "connection", ci.Connection)
	setProp(p, "connection_type", d.connections[ci.Connection].Type)
	setProp(p, "foreign_database", ci.Database)
	return p
}

// tableKind maps a Unity Catalog table_type to a dataset kind.
func tableKind(t string) graph.Kind {
	switch t {
	case "VIEW", "MATERIALIZED_VIEW", "METRIC_VIEW":
		return graph.KindView
	case "FOREIGN":
		return graph.KindExternal
	}
	return graph.KindTable
}

// lineageKind maps a lineage row's source_type/target_type to a kind.
func lineageKind(t string) graph.Kind {
	switch t {
	case "VIEW", "MATERIALIZED_VIEW":
		return graph.KindView
	case "PATH":
		return graph.KindStage
	}
	return graph.KindTable
}

// addTable records a Unity Catalog table with its columns. A view's
// definition becomes a Statement whose Target is the view.
func (d *decoder) addTable(g *graph.Graph, b *extractors.Batch, t catalog.TableInfo) {
	full := t.FullName
	if full == "" {
		full = t.CatalogName + "." + t.SchemaName + "." + t.Name
	}
	id := d.table(full)
	ds := graph.Dataset{
		ID:          id,
		Platform:    graph.Databricks,
		Kind:        tableKind(string(t.TableType)),
		Description: t.Comment,
		Properties:  map[string]string{},
	}
	setProp(ds.Properties, "table_type", string(t.TableType))
	setProp(ds.Properties, "data_source_format", string(t.DataSourceFormat))
	setProp(ds.Properties, "storage_location", t.StorageLocation)
	setProp(ds.Properties, "table_id", t.TableId)
	setProp(ds.Properties, "pipeline_id", t.PipelineId)
	cat := lowerName(t.CatalogName)
	if cat == "" {
		cat, _, _ = strings.Cut(id.Name, ".")
	}
	if ident, ok := d.identity(id); ok {
		ds.Identities = []graph.Identity{ident}
		for k, v := range d.foreignProps(cat) {
			ds.Properties[k] = v
		}
	}
	for _, c := range t.Columns {
		typ := c.TypeText
		if typ == "" {
			typ = string(c.TypeName)
		}
		ds.Columns = append(ds.Columns, graph.Column{Name: lowerName(c.Name), Type: strings.ToLower(typ), Description: c.Comment})
	}
	g.AddDataset(ds)
	if def := strings.TrimSpace(t.ViewDefinition); def != "" {
		b.Statements = append(b.Statements, extractors.Statement{
			SQL:             def,
			Dialect:         extractors.DialectDatabricks,
			Namespace:       d.ns,
			DefaultDatabase: cat,
			DefaultSchema:   lowerName(t.SchemaName),
			Target:          id,
			Origin:          extractors.Origin{Extractor: extractorName, NodeID: "view " + id.Name},
		})
	}
}
