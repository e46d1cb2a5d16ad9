package dbt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/graph"
)

// Supported manifest schema versions. Newer versions load best-effort with
// a warning; dbt has only ever added fields between versions.
const (
	minSchemaVersion = 4
	maxSchemaVersion = 12
)

// defaultAccount stands in for Options.Account when it is empty, so that
// the namespace is still well formed ("snowflake://default").
const defaultAccount = "default"

// Options configure Load.
type Options struct {
	// Account is the warehouse account or host that the dbt profile
	// points at ("acme-prod" for Snowflake, the workspace host for
	// Databricks, "host:5432" for Postgres). It makes the namespace
	// "<adapter_type>://<Account>", the one the warehouse extractors use.
	Account string
	// Name overrides the dbt project name used in the "dbt://<name>"
	// namespace.
	Name string
	// ManifestFile, CatalogFile and RunResultsFile name the inputs in
	// messages and finding locations; defaults are the dbt file names.
	ManifestFile, CatalogFile, RunResultsFile string
}

// Load parses a dbt manifest and, when they are non-empty, a catalog and a
// run_results document. The manifest is parsed once; nodes are walked with
// ForEach, never looked up by path in the whole document.
//
// Load fails only on input it cannot use: invalid JSON (the error names the
// file, line, column, byte offset and JSON path) or a file that is not the
// artifact it should be. Everything else (an unknown schema version, a
// dangling depends_on) becomes a Finding.
func Load(ctx context.Context, manifest, catalog, runResults []byte, opts Options) (*Project, error) {
	return load(ctx, string(manifest), string(catalog), string(runResults), opts)
}

// load is Load on strings. gjson works on strings, and the parsed nodes'
// strings point into the document instead of being copied, so a caller
// that reads the files straight into strings (Extractor.Load) holds the
// manifest in memory once.
func load(ctx context.Context, manifest, catalog, runResults string, opts Options) (*Project, error) {
	files := fileNames{
		manifest:   cmp.Or(opts.ManifestFile, "manifest.json"),
		catalog:    cmp.Or(opts.CatalogFile, "catalog.json"),
		runResults: cmp.Or(opts.RunResultsFile, "run_results.json"),
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkJSON(files.manifest, manifest); err != nil {
		return nil, err
	}
	p := &Project{
		byID:     map[string]*Node{},
		disabled: map[string]bool{},
		files:    files,
	}
	doc := gjson.Parse(manifest)
	if !doc.IsObject() {
		return nil, notArtifact(files.manifest, "manifest", "target/manifest.json", "")
	}
	sections := map[string]gjson.Result{}
	doc.ForEach(func(k, v gjson.Result) bool {
		sections[k.String()] = v
		return true
	})
	meta := sections["metadata"]
	schemaURL := meta.Get("dbt_schema_version").String()
	if err := p.readMetadata(meta, schemaURL); err != nil {
		return nil, err
	}

	// Nodes first, so that the project name (older manifests lack it)
	// can be inferred from them before identities are computed.
	for _, key := range []string{"nodes", "sources", "exposures", "metrics", "semantic_models", "saved_queries", "unit_tests"} {
		if err := p.readNodes(ctx, key, sections[key]); err != nil {
			return nil, err
		}
	}
	p.readDisabled(sections["disabled"])

	p.Name = cmp.Or(opts.Name, p.Name, p.inferName(), "default")
	p.DBTNamespace = "dbt://" + p.Name
	p.setPlatform(opts.Account)

	slices.SortFunc(p.Nodes, func(a, b *Node) int { return strings.Compare(a.UniqueID, b.UniqueID) })
	for _, n := range p.Nodes {
		p.setIdentity(n)
		p.foldManifestColumns(n)
	}
	if len(catalog) > 0 {
		if err := p.readCatalog(ctx, catalog); err != nil {
			return nil, err
		}
	}
	for _, n := range p.Nodes {
		p.addSnapshotColumns(n)
		p.addPartitionColumns(n)
	}
	p.attachTests()
	if len(runResults) > 0 {
		if err := p.readRunResults(runResults); err != nil {
			return nil, err
		}
	}
	p.checkRefs()
	p.checkCompiled()
	slices.SortFunc(p.Findings, compareFinding)
	return p, nil
}

// notArtifact is the error for a JSON file that is not the dbt artifact
// expected. found is the schema URL the file does have, if any.
func notArtifact(file, what, hint, found string) error {
	if found == "" {
		return fmt.Errorf("%s: not a dbt %s (no metadata.dbt_schema_version); pass %s", file, what, hint)
	}
	return fmt.Errorf("%s: not a dbt %s (metadata.dbt_schema_version is %s); pass %s", file, what, found, hint)
}

var schemaVersionRE = regexp.MustCompile(`/([a-z-]+)/v(\d+)\.json$`)

// schemaKind splits a dbt schema URL
// ("https://schemas.getdbt.com/dbt/manifest/v12.json") into the artifact
// kind and version; ok is false for anything else.
func schemaKind(url string) (kind string, version int, ok bool) {
	m := schemaVersionRE.FindStringSubmatch(url)
	if m == nil {
		return "", 0, false
	}
	v, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, false
	}
	return m[1], v, true
}

func (p *Project) readMetadata(meta gjson.Result, schemaURL string) error {
	file := p.files.manifest
	if schemaURL == "" {
		return notArtifact(file, "manifest", "target/manifest.json", "")
	}
	kind, version, ok := schemaKind(schemaURL)
	switch {
	case ok && kind != "manifest":
		return notArtifact(file, "manifest", "target/manifest.json", schemaURL)
	case !ok && !strings.Contains(schemaURL, "manifest"):
		return notArtifact(file, "manifest", "target/manifest.json", schemaURL)
	case !ok:
		p.SchemaVersion = maxSchemaVersion
		p.addFinding(graph.SeverityWarning, "unknown_schema_version", file+": metadata.dbt_schema_version", "",
			fmt.Sprintf("cannot read the version in %q; loading it as v%d, best-effort", schemaURL, maxSchemaVersion))
	case version > maxSchemaVersion:
		p.SchemaVersion = version
		p.addFinding(graph.SeverityWarning, "unknown_schema_version", file+": metadata.dbt_schema_version", "",
			fmt.Sprintf("manifest schema v%d is newer than the newest weft knows (v%d); loading it best-effort", version, maxSchemaVersion))
	case version < minSchemaVersion:
		p.SchemaVersion = version
		p.addFinding(graph.SeverityWarning, "unknown_schema_version", file+": metadata.dbt_schema_version", "",
			fmt.Sprintf("manifest schema v%d is older than the oldest weft supports (v%d); loading it best-effort", version, minSchemaVersion))
	default:
		p.SchemaVersion = version
	}
	meta.ForEach(func(k, v gjson.Result) bool {
		switch k.String() {
		case "dbt_version":
			p.DBTVersion = v.String()
		case "adapter_type":
			p.AdapterType = v.String()
		case "project_name":
			p.Name = v.String()
		case "generated_at":
			p.GeneratedAt = v.String()
		case "invocation_id":
			p.InvocationID = v.String()
		}
		return true
	})
	return nil
}

// readNodes reads one top-level map of nodes (nodes, sources, exposures,
// ...). Operations (hooks) are skipped: they build nothing and read
// nothing a lineage graph can use. Disabled nodes go to p.disabled.
func (p *Project) readNodes(ctx context.Context, key string, section gjson.Result) error {
	if !section.IsObject() {
		return nil
	}
	var err error
	var scratch []Column
	i := 0
	section.ForEach(func(k, v gjson.Result) bool {
		if i++; i%512 == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		if !v.IsObject() {
			return true
		}
		n, enabled := parseNode(v, &scratch)
		n.mapKey = key
		if n.UniqueID == "" {
			n.UniqueID = k.String()
		}
		if n.ResourceType == "" {
			n.ResourceType = defaultResourceType(key)
		}
		switch n.ResourceType {
		case "operation", "sql_operation", "rpc", "macro", "doc", "group", "function":
			return true
		}
		if !enabled {
			p.disabled[n.UniqueID] = true
			return true
		}
		if _, dup := p.byID[n.UniqueID]; dup {
			p.addFinding(graph.SeverityWarning, "duplicate_node", p.files.manifest+": "+key+"."+n.UniqueID, n.UniqueID,
				"unique_id appears twice; keeping the first")
			return true
		}
		p.byID[n.UniqueID] = n
		p.Nodes = append(p.Nodes, n)
		return true
	})
	return err
}

// defaultResourceType is the resource type of entries in a top-level map
// whose entries do not say (older metrics and exposures).
func defaultResourceType(key string) string {
	switch key {
	case "sources":
		return "source"
	case "exposures":
		return "exposure"
	case "metrics":
		return "metric"
	case "semantic_models":
		return "semantic_model"
	case "saved_queries":
		return "saved_query"
	case "unit_tests":
		return "unit_test"
	}
	return ""
}

// readDisabled records the unique_ids of disabled nodes: a map from
// unique_id to a list of node variants (v4+), or a plain list (older).
func (p *Project) readDisabled(section gjson.Result) {
	switch {
	case section.IsObject():
		section.ForEach(func(k, _ gjson.Result) bool {
			p.disabled[k.String()] = true
			return true
		})
	case section.IsArray():
		section.ForEach(func(_, v gjson.Result) bool {
			if id := v.Get("unique_id").String(); id != "" {
				p.disabled[id] = true
			}
			return true
		})
	}
}

// parseNode reads one node in a single pass over its fields. enabled is
// false when config.enabled is false.
//
// scratch is reused across nodes to collect columns, so that each node's
// column slice is allocated once at its exact size: with 50 columns on
// 12,000 nodes, append's doubling would waste tens of megabytes.
func parseNode(v gjson.Result, scratch *[]Column) (n *Node, enabled bool) {
	n = &Node{}
	enabled = true
	var testMeta, columnName, attached, fileKey, model gjson.Result
	var snap SnapshotConfig
	var typeParams, filter, queryParams, exports, config, external gjson.Result
	// Legacy metrics' fields (manifest v4..v9).
	var legacy LegacyMetricInfo
	var legacyFilters, legacyMetrics, legacyDims gjson.Result
	manifestCols := (*scratch)[:0]
	var quoteCols []bool
	v.ForEach(func(k, f gjson.Result) bool {
		switch k.String() {
		case "unique_id":
			n.UniqueID = f.String()
		case "resource_type":
			n.ResourceType = f.String()
		case "name":
			n.Name = f.String()
		case "package_name":
			n.PackageName = f.String()
		case "path":
			n.Path = f.String()
		case "original_file_path":
			n.OriginalFilePath = f.String()
		case "compiled_path":
			n.CompiledPath = f.String()
		case "description":
			n.Description = f.String()
		case "database":
			n.Database = f.String()
		case "schema":
			n.Schema = f.String()
		case "alias", "identifier":
			n.Alias = f.String()
		case "relation_name":
			n.RelationName = f.String()
		case "source_name":
			n.SourceName = f.String()
		case "language":
			n.Language = f.String()
		case "access":
			n.Access = f.String()
		case "version":
			n.Version = f.String()
		case "latest_version":
			n.LatestVersion = f.String()
		case "type":
			n.Type = f.String()
		case "calculation_method":
			// Legacy metrics (v7..v9) name the aggregation here.
			n.Type = cmp.Or(n.Type, f.String())
		case "compiled_code", "compiled_sql":
			n.CompiledSQL = f.String()
		case "raw_code", "raw_sql":
			n.RawSQL = f.String()
		case "quoting":
			n.quoting = parseQuoting(f)
		case "contract":
			if f.Get("enforced").Bool() {
				n.ContractEnforced = true
			}
		case "config":
			config = f
			f.ForEach(func(ck, cv gjson.Result) bool {
				switch ck.String() {
				case "enabled":
					if cv.Type == gjson.False {
						enabled = false
					}
				case "materialized":
					n.Materialized = cv.String()
				case "quoting":
					if q := parseQuoting(cv); q != (quoting{}) {
						n.quoting = q
					}
				case "contract":
					if cv.Get("enforced").Bool() {
						n.ContractEnforced = true
					}
				case "access":
					n.Access = cmp.Or(n.Access, cv.String())
				case "delimiter":
					n.seedDelimiter = cv.String()
				case "quote_columns":
					if cv.Type == gjson.True || cv.Type == gjson.False {
						b := cv.Bool()
						n.seedQuoteColumns = &b
					}
				default:
					snap.readConfig(ck.String(), cv)
				}
				return true
			})
		case "depends_on":
			f.ForEach(func(dk, dv gjson.Result) bool {
				switch dk.String() {
				case "nodes":
					n.DependsOn = appendStrings(n.DependsOn, dv)
				case "macros":
					n.DependsOnMacros = appendStrings(n.DependsOnMacros, dv)
				}
				return true
			})
		case "columns":
			f.ForEach(func(ck, cv gjson.Result) bool {
				c := Column{Name: ck.String(), Documented: true}
				quoted := false
				cv.ForEach(func(fk, fv gjson.Result) bool {
					switch fk.String() {
					case "name":
						c.Name = cmp.Or(fv.String(), c.Name)
					case "description":
						c.Description = fv.String()
					case "data_type":
						c.Type = fv.String()
					case "quote":
						quoted = fv.Bool()
					}
					return true
				})
				if quoted && quoteCols == nil {
					quoteCols = make([]bool, len(manifestCols), len(manifestCols)+1)
				}
				manifestCols = append(manifestCols, c)
				if quoteCols != nil {
					quoteCols = append(quoteCols, quoted)
				}
				return true
			})
		case "test_metadata":
			testMeta = f
		case "column_name":
			columnName = f
		case "attached_node":
			attached = f
		case "file_key_name":
			fileKey = f
		case "model":
			model = f
		case "root_path":
			n.RootPath = f.String()
		case "defaults":
			n.AggTimeDimension = f.Get("agg_time_dimension").String()
		case "type_params":
			typeParams = f
		case "filter":
			filter = f
		case "query_params":
			queryParams = f
		case "exports":
			exports = f
		case "external":
			external = f
		case "sql", "expression":
			// Legacy metrics: sql (v4..v6), expression (v7..v9).
			legacy.Expression = cmp.Or(legacy.Expression, f.String())
		case "timestamp":
			legacy.Timestamp = f.String()
		case "model_unique_id":
			legacy.Model = f.String()
		case "filters":
			legacyFilters = f
		case "metrics":
			legacyMetrics = f
		case "entities", "dimensions", "measures":
			kind := strings.TrimSuffix(k.String(), "s")
			if kind == "entitie" {
				kind = "entity"
			}
			f.ForEach(func(_, fv gjson.Result) bool {
				if !fv.IsObject() {
					// A legacy metric's dimensions are column names.
					if kind == "dimension" {
						legacyDims = f
					}
					return true
				}
				sf := SemanticField{Kind: kind}
				fv.ForEach(func(fk, x gjson.Result) bool {
					switch fk.String() {
					case "name":
						sf.Name = x.String()
					case "type":
						sf.Type = cmp.Or(sf.Type, x.String())
					case "agg":
						sf.Type = x.String()
					case "expr":
						sf.Expr = x.String()
					case "agg_time_dimension":
						sf.AggTimeDimension = x.String()
					case "non_additive_dimension":
						sf.NonAdditive = parseNonAdditive(x)
					}
					return true
				})
				n.Fields = append(n.Fields, sf)
				return true
			})
		}
		return true
	})
	if len(manifestCols) > 0 {
		n.Columns = slices.Clone(manifestCols)
	}
	*scratch = manifestCols
	// Manifest column names are folded once the platform is known.
	n.colQuoted = quoteCols
	switch n.ResourceType {
	case "snapshot":
		if snap.Strategy != "" {
			n.Snapshot = &snap
		}
	case "metric":
		switch {
		case typeParams.IsObject():
			n.Metric = parseMetric(typeParams, filter)
		case n.Type != "" || legacy.Expression != "":
			legacy.Calculation = n.Type
			n.LegacyMetric = parseLegacyMetric(legacy, legacyFilters, legacyMetrics, legacyDims)
		}
	case "saved_query":
		if queryParams.IsObject() || exports.IsArray() {
			n.Query = parseSavedQuery(queryParams, exports, config)
		}
	case "source":
		n.External = parseExternal(external)
	case "test":
		n.Test = parseTest(n, testMeta, columnName, attached, fileKey)
	case "unit_test":
		n.Test = &TestInfo{Label: "unit_test:" + n.Name}
		if s := model.String(); s != "" {
			n.Test.AttachedTo = []string{"name:" + s}
		}
	}
	return n, enabled
}

func appendStrings(dst []string, arr gjson.Result) []string {
	// gjson calls ForEach's iterator once for a scalar; a null or malformed
	// list must add nothing, not an empty name.
	if !arr.IsArray() {
		return dst
	}
	arr.ForEach(func(_, v gjson.Result) bool {
		dst = append(dst, v.String())
		return true
	})
	return dst
}

func parseQuoting(v gjson.Result) quoting {
	var q quoting
	v.ForEach(func(k, x gjson.Result) bool {
		if x.Type != gjson.True && x.Type != gjson.False {
			return true
		}
		b := x.Bool()
		switch k.String() {
		case "database":
			q.database = &b
		case "schema":
			q.schema = &b
		case "identifier":
			q.identifier = &b
		}
		return true
	})
	return q
}

// parseTest builds a test's label and the hints for what it is attached
// to. The attachment itself is resolved in attachTests, once every node is
// known. AttachedTo holds unique_ids, or "ref:<name>", "source:<s>.<t>"
// and "name:<name>" hints.
func parseTest(n *Node, meta, columnName, attached, fileKey gjson.Result) *TestInfo {
	t := &TestInfo{Column: columnName.String(), Label: n.Name}
	if meta.IsObject() {
		name := meta.Get("name").String()
		if ns := meta.Get("namespace").String(); ns != "" {
			name = ns + "." + name
		}
		var args []string
		var model string
		meta.Get("kwargs").ForEach(func(k, v gjson.Result) bool {
			switch k.String() {
			case "column_name":
				t.Column = cmp.Or(t.Column, v.String())
			case "model":
				model = v.String()
			default:
				args = append(args, k.String()+"="+kwargValue(v))
			}
			return true
		})
		t.Label = name
		if len(args) > 0 {
			t.Label += "(" + strings.Join(args, ", ") + ")"
		}
		switch {
		case attached.String() != "":
			t.AttachedTo = []string{attached.String()}
		case refHint(model) != "":
			t.AttachedTo = []string{refHint(model)}
		case strings.Contains(fileKey.String(), "."):
			_, after, _ := strings.Cut(fileKey.String(), ".")
			t.AttachedTo = []string{"name:" + after}
		}
	} else if attached.String() != "" {
		t.AttachedTo = []string{attached.String()}
	}
	return t
}

// kwargValue renders one generic-test argument: strings as written, other
// JSON compacted.
func kwargValue(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(v.Raw)); err != nil {
		return v.Raw
	}
	return b.String()
}

var (
	refRE    = regexp.MustCompile(`\bref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?`)
	sourceRE = regexp.MustCompile(`\bsource\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]`)
)

// refHint turns a generic test's model argument
// ("{{ get_where_subquery(ref('orders')) }}") into an attachment hint.
func refHint(model string) string {
	if m := sourceRE.FindStringSubmatch(model); m != nil {
		return "source:" + m[1] + "." + m[2]
	}
	if m := refRE.FindStringSubmatch(model); m != nil {
		if m[2] != "" { // ref('package', 'model')
			return "ref:" + m[2]
		}
		return "ref:" + m[1]
	}
	return ""
}

// inferName guesses the project name for manifests without
// metadata.project_name: the package that owns the most models (then
// seeds, snapshots, any node), ties broken by name.
func (p *Project) inferName() string {
	for _, rt := range []string{"model", "seed", "snapshot", ""} {
		count := map[string]int{}
		for _, n := range p.Nodes {
			if (rt == "" || n.ResourceType == rt) && n.PackageName != "" {
				count[n.PackageName]++
			}
		}
		best := ""
		for name, c := range count {
			if best == "" || c > count[best] || c == count[best] && name < best {
				best = name
			}
		}
		if best != "" {
			return best
		}
	}
	return ""
}

// setPlatform derives platform, namespace and dialect from adapter_type.
func (p *Project) setPlatform(account string) {
	adapter := strings.ToLower(p.AdapterType)
	if adapter == "" {
		adapter = "unknown"
		p.addFinding(graph.SeverityWarning, "unknown_adapter", p.files.manifest+": metadata.adapter_type", "",
			"the manifest does not name its adapter; identifiers keep their case and SQL is parsed as postgres")
	}
	p.Platform = graph.Platform(adapter)
	switch adapter {
	case "snowflake":
		p.Dialect = extractors.DialectSnowflake
	case "databricks", "spark":
		p.Dialect = extractors.DialectDatabricks
	case "bigquery":
		p.Dialect = extractors.DialectBigQuery
	case "postgres", "redshift", "duckdb":
		p.Dialect = extractors.DialectPostgres
	default:
		// athena (Trino), trino, sqlserver, ... have no dialect of their
		// own in sqlparse yet; postgres is the closest common ground.
		p.Dialect = extractors.DialectPostgres
		if adapter != "unknown" {
			p.addFinding(graph.SeverityInfo, "no_dialect", p.files.manifest+": metadata.adapter_type", "",
				fmt.Sprintf("adapter %q has no SQL dialect in weft; compiled SQL is parsed as postgres", adapter))
		}
	}
	if account == "" {
		account = defaultAccount
		p.addFinding(graph.SeverityInfo, "no_account", p.files.manifest, "",
			fmt.Sprintf("no account given: dbt datasets are in namespace %q; set account: (the %s account or host) so they join the warehouse's own lineage",
				adapter+"://"+account, adapter))
	}
	p.Namespace = adapter + "://" + account
}

// setIdentity sets the node's dbt identity and, for nodes that build a
// warehouse relation, the relation's ID.
func (p *Project) setIdentity(n *Node) {
	n.DBTID = graph.DatasetID{Namespace: p.DBTNamespace, Name: n.UniqueID}
	switch n.ResourceType {
	case "model", "seed", "snapshot", "source":
	case "saved_query":
		p.setExportRelations(n)
		return
	default:
		return
	}
	if n.Materialized == "ephemeral" {
		return
	}
	name, err := p.relationName(n)
	if err != nil {
		p.addFinding(graph.SeverityWarning, "bad_relation_name", p.location(n, "relation_name"), n.UniqueID, err.Error())
		return
	}
	if name == "" {
		return
	}
	n.Relation = graph.DatasetID{Namespace: p.Namespace, Name: name}
}

// relationName is the canonical dotted name of the relation n builds.
// dbt's relation_name already carries the adapter's quoting; without it the
// name is assembled from database, schema and alias with the node's quoting
// config or the adapter's default.
func (p *Project) relationName(n *Node) (string, error) {
	if n.RelationName != "" {
		parts, err := graph.SplitName(n.RelationName)
		if err != nil {
			return "", fmt.Errorf("cannot split relation_name: %v", err)
		}
		return p.joinRelation(parts), nil
	}
	alias := cmp.Or(n.Alias, n.Name)
	if n.Schema == "" || alias == "" {
		return "", nil
	}
	var parts []graph.Ident
	dq, sq, iq := p.defaultQuoting()
	if n.Database != "" {
		parts = append(parts, graph.Ident{Text: n.Database, Quoted: orBool(n.quoting.database, dq)})
	}
	parts = append(parts,
		graph.Ident{Text: n.Schema, Quoted: orBool(n.quoting.schema, sq)},
		graph.Ident{Text: alias, Quoted: orBool(n.quoting.identifier, iq)})
	return p.joinRelation(parts), nil
}

// joinRelation folds the parts of a relation name by the platform's rules
// and joins them.
func (p *Project) joinRelation(parts []graph.Ident) string {
	folded := make([]string, 0, len(parts)+1)
	// Unity Catalog names the legacy metastore's tables
	// hive_metastore.<schema>.<table>; dbt-databricks writes only
	// <schema>.<table> for them.
	if p.Platform == graph.Databricks && len(parts) == 2 {
		folded = append(folded, "hive_metastore")
	}
	for _, part := range parts {
		folded = append(folded, graph.Fold(p.Platform, part.Text, part.Quoted))
	}
	return graph.JoinName(folded...)
}

// setExportRelations names the relation each export of a saved query
// writes: database.schema.alias, unquoted, as MetricFlow writes them. An
// export without a schema (dbt fills it in from the target; a hand-edited
// manifest may not) gets none, and a finding.
func (p *Project) setExportRelations(n *Node) {
	if n.Query == nil {
		return
	}
	for i := range n.Query.Exports {
		ex := &n.Query.Exports[i]
		if ex.Schema == "" || ex.Alias == "" {
			p.addFinding(graph.SeverityWarning, "bad_export", p.location(n, fmt.Sprintf("exports[%d]", i)), n.UniqueID,
				fmt.Sprintf("export %q names no schema or alias, so the relation it writes is unknown and left out", ex.Name))
			continue
		}
		var parts []graph.Ident
		if ex.Database != "" {
			parts = append(parts, graph.Ident{Text: ex.Database})
		}
		parts = append(parts, graph.Ident{Text: ex.Schema}, graph.Ident{Text: ex.Alias})
		ex.Relation = graph.DatasetID{Namespace: p.Namespace, Name: p.joinRelation(parts)}
	}
}

// defaultQuoting is the adapter's default quoting policy for database,
// schema and identifier: dbt-snowflake quotes nothing, dbt-postgres and
// its relatives quote everything.
func (p *Project) defaultQuoting() (database, schema, identifier bool) {
	switch p.Platform {
	case graph.Postgres, graph.Redshift, graph.DuckDB:
		return true, true, true
	}
	return false, false, false
}

func orBool(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// foldManifestColumns gives manifest-only columns their warehouse
// spelling; catalog columns already have it.
func (p *Project) foldManifestColumns(n *Node) {
	for i := range n.Columns {
		quoted := i < len(n.colQuoted) && n.colQuoted[i]
		n.Columns[i].Name = graph.Fold(p.Platform, n.Columns[i].Name, quoted)
	}
	n.colQuoted = nil
}

// attachTests resolves each test's target and adds the test's label to the
// target's column or node test list.
func (p *Project) attachTests() {
	for _, t := range p.Nodes {
		if t.Test == nil {
			continue
		}
		targets := p.resolveAttach(t)
		t.Test.AttachedTo = targets
		for _, id := range targets {
			target := p.byID[id]
			if target == nil {
				continue
			}
			if t.Test.Column == "" || len(targets) > 1 {
				target.Tests = append(target.Tests, t.Test.Label)
				continue
			}
			if i := columnIndex(target.Columns, graph.Fold(p.Platform, t.Test.Column, false), t.Test.Column); i >= 0 {
				target.Columns[i].Tests = append(target.Columns[i].Tests, t.Test.Label)
				continue
			}
			// The column is an expression, or undocumented and not in
			// the catalog: keep the test on the node, naming the column.
			target.Tests = append(target.Tests, t.Test.Label+" on "+t.Test.Column)
		}
	}
	for _, n := range p.Nodes {
		n.Tests = sortedSet(n.Tests)
		for i := range n.Columns {
			n.Columns[i].Tests = sortedSet(n.Columns[i].Tests)
		}
	}
}

// resolveAttach turns a test's hints into unique_ids among the test's own
// dependencies. Without a usable hint, a test is attached to every node it
// depends on (singular tests read several).
func (p *Project) resolveAttach(t *Node) []string {
	deps := sortedSet(slices.Clone(t.DependsOn))
	for _, hint := range t.Test.AttachedTo {
		if p.byID[hint] != nil {
			return []string{hint}
		}
		kind, value, _ := strings.Cut(hint, ":")
		for _, d := range deps {
			n := p.byID[d]
			if n == nil {
				continue
			}
			switch {
			case (kind == "ref" || kind == "name") && n.ResourceType != "source" && n.Name == value,
				kind == "source" && n.ResourceType == "source" && n.SourceName+"."+n.Name == value:
				return []string{d}
			}
		}
	}
	if t.ResourceType == "unit_test" && len(deps) > 0 {
		return deps[:1]
	}
	return deps
}

// columnIndex finds a column by its folded name, then by a
// case-insensitive match with the name as written.
func columnIndex(cols []Column, folded, written string) int {
	for i, c := range cols {
		if c.Name == folded {
			return i
		}
	}
	for i, c := range cols {
		if strings.EqualFold(c.Name, written) {
			return i
		}
	}
	return -1
}

func sortedSet(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// checkRefs reports depends_on entries that name no enabled node.
func (p *Project) checkRefs() {
	for _, n := range p.Nodes {
		for i, dep := range n.DependsOn {
			if p.byID[dep] != nil {
				if d := p.byID[dep]; d.IsDataset() && n.IsDataset() && d.DatasetID() == n.DatasetID() {
					p.addFinding(graph.SeverityWarning, "self_ref", p.location(n, fmt.Sprintf("depends_on.nodes[%d]", i)), n.UniqueID,
						fmt.Sprintf("depends on %s, which builds the same relation %s; the edge is left out", dep, n.DatasetID().Name))
				}
				continue
			}
			msg := fmt.Sprintf("depends on %s, which is not in the manifest", dep)
			if p.disabled[dep] {
				msg = fmt.Sprintf("depends on %s, which is disabled", dep)
			}
			p.addFinding(graph.SeverityWarning, "dangling_ref", p.location(n, fmt.Sprintf("depends_on.nodes[%d]", i)), n.UniqueID, msg)
		}
	}
}

// checkCompiled notes SQL nodes without compiled SQL (a manifest from
// "dbt parse") and Python models, whose lineage stays at table level.
func (p *Project) checkCompiled() {
	var missing []string
	total := 0
	for _, n := range p.Nodes {
		if n.ResourceType != "model" && n.ResourceType != "snapshot" {
			continue
		}
		if n.Language == "python" {
			p.addFinding(graph.SeverityInfo, "python_model", p.location(n, ""), n.UniqueID,
				"python model: weft does not analyse Python code, so its lineage is table-level only (from depends_on) and its columns have no upstream column edges")
			continue
		}
		total++
		if n.CompiledSQL == "" {
			missing = append(missing, n.UniqueID)
		}
	}
	if len(missing) == 0 {
		return
	}
	examples := strings.Join(missing[:min(3, len(missing))], ", ")
	if len(missing) > 3 {
		examples += ", ..."
	}
	p.addFinding(graph.SeverityInfo, "no_compiled_sql", p.files.manifest, "",
		fmt.Sprintf("%d of %d SQL models and snapshots have no compiled SQL (%s), so they get no column lineage; run \"dbt compile\" or \"dbt docs generate\"",
			len(missing), total, examples))
}

// location is a finding location inside the manifest:
// "manifest.json: nodes.model.x.depends_on.nodes[0]".
func (p *Project) location(n *Node, field string) string {
	loc := p.files.manifest + ": " + n.mapKey + "." + n.UniqueID
	if field != "" {
		loc += "." + field
	}
	return loc
}

func (p *Project) addFinding(severity, code, location, subject, message string) {
	p.Findings = append(p.Findings, graph.Finding{Severity: severity, Code: code, Location: location, Subject: subject, Message: message})
}

// compareFinding sorts findings the way graph keeps them.
func compareFinding(a, b graph.Finding) int {
	return cmp.Or(
		strings.Compare(a.Location, b.Location),
		strings.Compare(a.Code, b.Code),
		strings.Compare(a.Subject, b.Subject),
		strings.Compare(a.Severity, b.Severity),
		strings.Compare(a.Message, b.Message),
	)
}
