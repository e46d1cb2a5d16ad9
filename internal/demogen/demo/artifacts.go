package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Fixed identity of the production `dbt build` the artifacts pretend to come from.
const (
	dbtVersion         = "1.9.4"
	invocationID       = "5e0c4a57-2b8e-4f1d-9a63-c1d27f4b8e19"
	docsInvocationID   = "a91d6e02-7c4b-4b8a-8f35-0e6b2d9c7a14"
	projectID          = "3f6b2a9c1d0e4f5a8b7c6d5e4f3a2b1c"
	runStarted         = "2025-07-01T04:30:07.118234Z"
	catalogGeneratedAt = "2025-07-01T04:41:52.604177Z"
	createdAtBase      = 1751344200.0 // 2025-07-01T04:30:00Z, parse time
)

var reRefArg = regexp.MustCompile(`^ref\('(\w+)'\)$`)

func refObj(name string) *obj { return o("name", name, "package", nil, "version", nil) }

func (b *build) createdAt(uid string) float64 {
	h := fnv.New32a()
	h.Write([]byte(uid))
	return createdAtBase + float64(h.Sum32()%5000000)/1e6
}

func (b *build) loadOthers() error {
	for _, yp := range b.p.ymlPath {
		y := b.p.yamls[yp]
		dirs := strings.Split(path.Dir(strings.TrimPrefix(yp, "models/")), "/")
		if dirs[0] == "." {
			dirs = nil
		}
		for _, e := range y.Exposures {
			uid := "exposure." + b.pkg() + "." + e.Name
			var refs []any
			var deps []string
			for _, d := range e.DependsOn {
				m := reRefArg.FindStringSubmatch(d)
				if m == nil || b.byName[m[1]] == nil {
					return fmt.Errorf("%s: exposure %s: depends_on %s", yp, e.Name, d)
				}
				refs = append(refs, refObj(m[1]))
				deps = append(deps, b.byName[m[1]].uid)
			}
			sort.Strings(deps)
			owner := o("email", e.Owner["email"], "name", e.Owner["name"])
			meta := newObj()
			for _, k := range sortedKeys(e.Meta) {
				meta.set(k, e.Meta[k])
			}
			b.exposures = append(b.exposures, o(
				"name", e.Name, "resource_type", "exposure", "package_name", b.pkg(),
				"path", strings.TrimPrefix(yp, "models/"), "original_file_path", yp, "unique_id", uid,
				"fqn", append(append([]string{b.pkg()}, dirs...), e.Name),
				"type", e.Type, "owner", owner, "description", strings.TrimSpace(e.Description),
				"label", e.Label, "maturity", e.Maturity, "meta", meta, "tags", []string{},
				"config", o("enabled", true, "tags", []string{}, "meta", newObj()), "unrendered_config", newObj(),
				"url", e.URL, "depends_on", o("macros", []string{}, "nodes", deps),
				"refs", refs, "sources", []any{}, "metrics", []any{}, "created_at", b.createdAt(uid),
			))
			b.parentMap[uid] = deps
		}
		for _, g := range y.Groups {
			uid := "group." + b.pkg() + "." + g.Name
			b.groups = append(b.groups, o(
				"name", g.Name, "resource_type", "group", "package_name", b.pkg(),
				"path", strings.TrimPrefix(yp, "models/"), "original_file_path", yp, "unique_id", uid,
				"owner", o("email", g.Owner["email"], "name", g.Owner["name"]),
				"description", nil, "config", o("meta", newObj()),
			))
		}
		for _, s := range y.SemanticModels {
			uid := "semantic_model." + b.pkg() + "." + s.Name
			m := reRefArg.FindStringSubmatch(s.Model)
			if m == nil || b.byName[m[1]] == nil {
				return fmt.Errorf("%s: semantic model %s: model %s", yp, s.Name, s.Model)
			}
			mn := b.byName[m[1]]
			var ents, dims, meas []any
			for _, e := range s.Entities {
				ents = append(ents, o("name", e.Name, "type", e.Type, "description", nil, "label", nil, "role", nil, "expr", nilIfEmpty(e.Expr), "config", o("meta", newObj())))
			}
			for _, d := range s.Dimensions {
				var tp any
				if d.TypeParams != nil {
					tp = o("time_granularity", d.TypeParams.TimeGranularity, "validity_params", nil)
				}
				dims = append(dims, o("name", d.Name, "type", d.Type, "description", nil, "label", nil, "is_partition", false, "type_params", tp, "expr", nil, "metadata", nil, "config", o("meta", newObj())))
			}
			for _, ms := range s.Measures {
				meas = append(meas, o("name", ms.Name, "agg", ms.Agg, "description", nil, "label", nil, "create_metric", false, "expr", nilIfEmpty(ms.Expr), "agg_params", nil, "non_additive_dimension", nil, "agg_time_dimension", nil, "config", o("meta", newObj())))
			}
			b.semModels = append(b.semModels, o(
				"name", s.Name, "resource_type", "semantic_model", "package_name", b.pkg(),
				"path", strings.TrimPrefix(yp, "models/"), "original_file_path", yp, "unique_id", uid,
				"fqn", append(append([]string{b.pkg()}, dirs...), s.Name),
				"model", s.Model,
				"node_relation", o("alias", mn.alias, "schema_name", mn.schema, "database", mn.database, "relation_name", mn.relation),
				"description", strings.TrimSpace(s.Description), "label", nil,
				"defaults", o("agg_time_dimension", s.Defaults.AggTimeDimension),
				"entities", ents, "measures", meas, "dimensions", dims, "metadata", nil,
				"depends_on", o("macros", []string{}, "nodes", []string{mn.uid}),
				"refs", []any{refObj(mn.name)}, "created_at", b.createdAt(uid),
				"config", o("enabled", true, "group", nil, "meta", newObj()), "unrendered_config", newObj(),
				"primary_entity", nil, "group", nil,
			))
			b.parentMap[uid] = []string{mn.uid}
		}
		for _, mt := range y.Metrics {
			uid := "metric." + b.pkg() + "." + mt.Name
			var sm string
			for _, s := range b.p.yamls[yp].SemanticModels {
				for _, ms := range s.Measures {
					if ms.Name == mt.TypeParams.Measure {
						sm = "semantic_model." + b.pkg() + "." + s.Name
					}
				}
			}
			if sm == "" {
				return fmt.Errorf("%s: metric %s: measure %s is not defined in the same file", yp, mt.Name, mt.TypeParams.Measure)
			}
			measure := o("name", mt.TypeParams.Measure, "filter", nil, "alias", nil, "join_to_timespine", false, "fill_nulls_with", nil)
			b.metrics = append(b.metrics, o(
				"name", mt.Name, "resource_type", "metric", "package_name", b.pkg(),
				"path", strings.TrimPrefix(yp, "models/"), "original_file_path", yp, "unique_id", uid,
				"fqn", append(append([]string{b.pkg()}, dirs...), mt.Name),
				"description", mt.Description, "label", mt.Label, "type", mt.Type,
				"type_params", o("measure", measure, "input_measures", []any{measure}, "numerator", nil, "denominator", nil,
					"expr", nil, "window", nil, "grain_to_date", nil, "metrics", []any{}, "conversion_type_params", nil, "cumulative_type_params", nil),
				"filter", nil, "metadata", nil, "time_granularity", nil, "meta", newObj(), "tags", []string{},
				"config", o("enabled", true, "group", nil, "meta", newObj()), "unrendered_config", newObj(),
				"sources", []any{}, "depends_on", o("macros", []string{}, "nodes", []string{sm}),
				"refs", []any{}, "metrics", []any{}, "created_at", b.createdAt(uid), "group", nil,
			))
			b.parentMap[uid] = []string{sm}
		}
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func columnsObj(cols []column) *obj {
	out := newObj()
	for _, c := range cols {
		meta := newObj()
		for _, k := range sortedKeys(c.meta) {
			meta.set(k, c.meta[k])
		}
		tags := c.tags
		if tags == nil {
			tags = []string{}
		}
		var cons []any
		for _, cn := range c.constraints {
			cons = append(cons, o("type", cn["type"], "name", nil, "expression", nil, "warn_unenforced", true, "warn_unsupported", true, "to", nil, "to_columns", []any{}))
		}
		if cons == nil {
			cons = []any{}
		}
		out.set(c.name, o(
			"name", c.name, "description", c.description, "meta", meta, "data_type", nilIfEmpty(c.dataType),
			"constraints", cons, "quote", nil, "tags", tags, "granularity", nilIfEmpty(c.granularity),
		))
	}
	return out
}

func (b *build) nodeJSON(n *node) *obj {
	tags := n.tags
	if tags == nil {
		tags = []string{}
	}
	checksum := o("name", "sha256", "checksum", n.checksum)
	if n.checksum == "" {
		checksum = o("name", "none", "checksum", "")
	}
	var relation any
	if n.relation != "" && n.rtype != "test" {
		relation = n.relation
	}
	refs := []any{}
	for _, r := range n.refs {
		refs = append(refs, refObj(r))
	}
	sources := []any{}
	for _, s := range n.sources {
		sources = append(sources, []string{s[0], s[1]})
	}
	macros := n.macros
	if macros == nil {
		macros = []string{}
	}
	deps := n.deps
	if deps == nil {
		deps = []string{}
	}
	desc := n.description
	var patch any = n.patchPath
	j := o(
		"database", n.database, "schema", n.schema, "name", n.name, "resource_type", n.rtype,
		"package_name", b.pkg(), "path", n.path, "original_file_path", n.ofp, "unique_id", n.uid,
		"fqn", n.fqn, "alias", n.alias, "checksum", checksum, "config", n.config, "tags", tags,
		"description", desc, "columns", columnsObj(n.docCols), "meta", newObj(), "group", n.group,
		"docs", o("show", true, "node_color", nil), "patch_path", patch, "build_path", nil,
		"unrendered_config", n.unrendered, "created_at", b.createdAt(n.uid), "relation_name", relation,
		"raw_code", n.raw, "language", "sql", "refs", refs, "sources", sources, "metrics", []any{},
		"depends_on", o("macros", macros, "nodes", deps),
	)
	if n.rtype == "seed" {
		// seeds carry no compiled code; dbt writes root_path and depends_on.macros only
		j.set("raw_code", "")
		j.set("root_path", "/usr/app/acme_risk")
		j.set("depends_on", o("macros", []string{}))
		for _, k := range []string{"language", "refs", "sources", "metrics"} {
			delete(j.vals, k)
			j.keys = remove(j.keys, k)
		}
		return j
	}
	compiledPath := "target/compiled/" + b.pkg() + "/" + n.ofp
	if n.rtype == "test" && strings.HasSuffix(n.ofp, ".yml") {
		compiledPath += "/" + n.path
	}
	extra := []any{}
	for _, e := range n.extraCTEs {
		extra = append(extra, e)
	}
	j.set("compiled_path", compiledPath).set("compiled", true).set("compiled_code", n.compiled).
		set("extra_ctes_injected", true).set("extra_ctes", extra)
	var contractChecksum any
	if n.contract {
		var sig []string
		for _, c := range n.docCols {
			sig = append(sig, c.name+":"+c.dataType)
		}
		s := sha256.Sum256([]byte(strings.Join(sig, ",")))
		contractChecksum = hex.EncodeToString(s[:])
	}
	j.set("contract", o("enforced", n.contract, "alias_types", true, "checksum", contractChecksum))
	switch n.rtype {
	case "model":
		cons := []any{}
		for _, c := range n.constraints {
			cons = append(cons, o("type", c["type"], "name", nil, "expression", nil, "warn_unenforced", true, "warn_unsupported", true, "to", nil, "to_columns", []any{}, "columns", c["columns"]))
		}
		var ts any
		if n.ymlModel.TimeSpine != nil {
			ts = o("standard_granularity_column", n.ymlModel.TimeSpine.StandardGranularityColumn, "custom_granularities", []any{})
		}
		j.set("access", n.access).set("constraints", cons).set("version", nil).set("latest_version", nil).
			set("deprecation_date", nil).set("primary_key", b.primaryKey(n)).set("time_spine", ts)
	case "test":
		if n.testMeta != nil {
			j.set("column_name", n.columnName).set("file_key_name", n.fileKeyName).
				set("attached_node", n.attachedNode).set("test_metadata", n.testMeta)
		}
	}
	return j
}

func remove(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// primaryKey follows dbt 1.9: a primary_key constraint, else a column with unique and
// not_null tests.
func (b *build) primaryKey(n *node) []string {
	for _, c := range n.constraints {
		if c["type"] == "primary_key" {
			return stringList(c["columns"])
		}
	}
	for _, c := range n.ymlModel.Columns {
		var u, nn bool
		for _, t := range c.Tests {
			if t.Value == "unique" {
				u = true
			}
			if t.Value == "not_null" {
				nn = true
			}
		}
		if u && nn {
			return []string{c.Name}
		}
	}
	return []string{}
}

func (b *build) sourceJSON(s *sourceDef) *obj {
	dirs := strings.Split(path.Dir(strings.TrimPrefix(s.ymlPath, "models/")), "/")
	fresh := func(p *yPeriod) *obj {
		if p == nil {
			return o("count", nil, "period", nil)
		}
		return o("count", p.Count, "period", p.Period)
	}
	var fr *obj
	if s.src.Freshness != nil {
		fr = o("warn_after", fresh(s.src.Freshness.WarnAfter), "error_after", fresh(s.src.Freshness.ErrorAfter), "filter", nil)
	} else {
		fr = o("warn_after", fresh(nil), "error_after", fresh(nil), "filter", nil)
	}
	loadedAt := s.tbl.LoadedAtField
	if loadedAt == "" {
		loadedAt = s.src.LoadedAtField
	}
	ident := s.tbl.Identifier
	if ident == "" {
		ident = s.tbl.Name
	}
	return o(
		"database", s.src.Database, "schema", s.src.Schema, "name", s.tbl.Name, "resource_type", "source",
		"package_name", b.pkg(), "path", s.ymlPath, "original_file_path", s.ymlPath, "unique_id", s.uid,
		"fqn", append(append([]string{b.pkg()}, dirs...), s.src.Name, s.tbl.Name),
		"source_name", s.src.Name, "source_description", strings.TrimSpace(s.src.Description),
		"loader", s.src.Loader, "identifier", ident,
		"quoting", o("database", nil, "schema", nil, "identifier", nil, "column", nil),
		"loaded_at_field", nilIfEmpty(loadedAt), "freshness", fr, "external", nil,
		"description", strings.TrimSpace(s.tbl.Description), "columns", columnsObj(s.cols),
		"meta", newObj(), "source_meta", newObj(), "tags", []string{},
		"config", o("enabled", true, "event_time", nil), "patch_path", nil, "unrendered_config", newObj(),
		"relation_name", s.relation, "created_at", b.createdAt(s.uid),
		"unrendered_database", s.src.Database, "unrendered_schema", s.src.Schema,
	)
}

func (b *build) manifest() *obj {
	nodes := newObj()
	for _, uid := range b.allNodeIDs() {
		nodes.set(uid, b.nodeJSON(b.nodes[uid]))
	}
	sources := newObj()
	for _, k := range sortedKeys(b.sources) {
		s := b.sources[k]
		sources.set(s.uid, b.sourceJSON(s))
	}
	byID := func(list []*obj) *obj {
		out := newObj()
		sort.Slice(list, func(i, j int) bool {
			a, _ := list[i].get("unique_id")
			c, _ := list[j].get("unique_id")
			return a.(string) < c.(string)
		})
		for _, x := range list {
			id, _ := x.get("unique_id")
			out.set(id.(string), x)
		}
		return out
	}
	// parent and child maps over every resource
	parents := map[string][]string{}
	for uid, n := range b.nodes {
		parents[uid] = append([]string{}, n.deps...)
	}
	for uid, ps := range b.parentMap {
		parents[uid] = ps
	}
	children := map[string][]string{}
	for uid := range parents {
		children[uid] = nil
	}
	for _, s := range b.sources {
		children[s.uid] = nil
	}
	for uid, ps := range parents {
		for _, p := range ps {
			children[p] = append(children[p], uid)
		}
	}
	mapObj := func(m map[string][]string) *obj {
		out := newObj()
		for _, k := range sortedKeys(m) {
			v := append([]string{}, m[k]...)
			sort.Strings(v)
			if v == nil {
				v = []string{}
			}
			out.set(k, v)
		}
		return out
	}
	groupMap := newObj()
	for _, g := range sortedKeys(b.groupMap) {
		groupMap.set(g, b.groupMap[g])
	}
	return o(
		"metadata", o(
			"dbt_schema_version", "https://schemas.getdbt.com/dbt/manifest/v12.json",
			"dbt_version", dbtVersion,
			"generated_at", "2025-07-01T04:30:11.402561Z",
			"invocation_id", invocationID,
			"env", newObj(),
			"project_name", b.pkg(),
			"project_id", projectID,
			"user_id", nil,
			"send_anonymous_usage_stats", false,
			"adapter_type", "snowflake",
		),
		"nodes", nodes,
		"sources", sources,
		"macros", b.macrosJSON(),
		"docs", b.docsJSON(),
		"exposures", byID(b.exposures),
		"metrics", byID(b.metrics),
		"groups", byID(b.groups),
		"selectors", newObj(),
		"disabled", newObj(),
		"parent_map", mapObj(parents),
		"child_map", mapObj(children),
		"group_map", groupMap,
		"saved_queries", newObj(),
		"semantic_models", byID(b.semModels),
		"unit_tests", newObj(),
	)
}

// allNodeIDs lists nodes in dependency order, each test right after the last node it tests.
func (b *build) allNodeIDs() []string {
	var tests []string
	for uid, n := range b.nodes {
		if n.rtype == "test" {
			tests = append(tests, uid)
		}
	}
	sort.Strings(tests)
	pos := map[string]int{}
	for i, uid := range b.order {
		pos[uid] = i
	}
	after := map[string][]string{}
	for _, t := range tests {
		last := ""
		for _, d := range b.nodes[t].deps {
			if last == "" || pos[d] > pos[last] {
				last = d
			}
		}
		after[last] = append(after[last], t)
	}
	var out []string
	for _, uid := range b.order {
		out = append(out, uid)
		out = append(out, after[uid]...)
	}
	return out
}

var reMacro = regexp.MustCompile(`(?s)\{%-?\s*macro\s+(\w+)\((.*?)\)\s*-?%\}`)

func (b *build) macrosJSON() *obj {
	out := newObj()
	for _, f := range b.p.macros {
		for _, m := range reMacro.FindAllStringSubmatch(f.content, -1) {
			uid := "macro." + b.pkg() + "." + m[1]
			var args []any
			for _, a := range strings.Split(m[2], ",") {
				args = append(args, o("name", strings.TrimSpace(a), "type", nil, "description", ""))
			}
			out.set(uid, o(
				"name", m[1], "resource_type", "macro", "package_name", b.pkg(),
				"path", f.path, "original_file_path", f.path, "unique_id", uid,
				"macro_sql", strings.TrimSpace(f.content[strings.Index(f.content, "{% macro"):]),
				"depends_on", o("macros", []string{"macro.dbt.default__generate_schema_name"}),
				"description", "", "meta", newObj(), "docs", o("show", true, "node_color", nil),
				"patch_path", nil, "arguments", args, "created_at", b.createdAt(uid), "supported_languages", nil,
			))
		}
	}
	return out
}

var reDocs = regexp.MustCompile(`(?s)\{%\s*docs\s+(\w+)\s*%\}(.*?)\{%\s*enddocs\s*%\}`)

func (b *build) docsJSON() *obj {
	out := newObj()
	for _, f := range b.p.docs {
		for _, m := range reDocs.FindAllStringSubmatch(f.content, -1) {
			uid := "doc." + b.pkg() + "." + m[1]
			out.set(uid, o(
				"name", m[1], "resource_type", "doc", "package_name", b.pkg(),
				"path", strings.TrimPrefix(f.path, "models/"), "original_file_path", f.path,
				"unique_id", uid, "block_contents", strings.TrimSpace(m[2]),
			))
		}
	}
	return out
}

// ---- catalog.json ---------------------------------------------------------------------

func (b *build) catalog() *obj {
	nodes := newObj()
	for _, uid := range sortedKeys(b.nodes) {
		n := b.nodes[uid]
		if n.rtype == "test" || n.relation == "" {
			continue
		}
		typ := "BASE TABLE"
		if n.materialized == "view" {
			typ = "VIEW"
		}
		var comment any
		if pd, ok := n.config.get("persist_docs"); ok && pd.(*obj).len() > 0 && n.description != "" {
			comment = n.description
		}
		nodes.set(uid, o(
			"metadata", o("type", typ, "schema", strings.ToUpper(n.schema), "name", strings.ToUpper(n.alias),
				"database", strings.ToUpper(n.database), "comment", comment, "owner", "TRANSFORMER"),
			"columns", b.catalogColumns(n.outCols, n),
			"stats", b.stats(uid, typ, n.materialized),
			"unique_id", uid,
		))
	}
	sources := newObj()
	for _, k := range sortedKeys(b.sources) {
		s := b.sources[k]
		sources.set(s.uid, o(
			"metadata", o("type", "BASE TABLE", "schema", strings.ToUpper(s.src.Schema), "name", strings.ToUpper(s.tbl.Name),
				"database", strings.ToUpper(s.src.Database), "comment", nil, "owner", "LOADER"),
			"columns", b.catalogColumns(s.cols, nil),
			"stats", b.stats(s.uid, "BASE TABLE", "source"),
			"unique_id", s.uid,
		))
	}
	return o(
		"metadata", o(
			"dbt_schema_version", "https://schemas.getdbt.com/dbt/catalog/v1.json",
			"dbt_version", dbtVersion,
			"generated_at", catalogGeneratedAt,
			"invocation_id", docsInvocationID,
			"env", newObj(),
		),
		"nodes", nodes,
		"sources", sources,
		"errors", nil,
	)
}

func (b *build) catalogColumns(cols []column, n *node) *obj {
	out := newObj()
	persist := false
	if n != nil {
		if pd, ok := n.config.get("persist_docs"); ok {
			if v, ok := pd.(*obj).get("columns"); ok && v == true {
				persist = true
			}
		}
	}
	for i, c := range cols {
		name := strings.ToUpper(c.name)
		var comment any
		if persist && c.description != "" {
			comment = c.description
		}
		out.set(name, o("type", c.whType, "index", i+1, "name", name, "comment", comment))
	}
	return out
}

func stat(id, label string, value any, include bool, desc string) *obj {
	return o("id", id, "label", label, "value", value, "include", include, "description", desc)
}

func (b *build) stats(uid, typ, mat string) *obj {
	if typ == "VIEW" {
		return o("has_stats", stat("has_stats", "Has Stats?", false, false, "Indicates whether there are statistics for this table"))
	}
	h := fnv.New64a()
	h.Write([]byte(uid))
	x := h.Sum64()
	rows := float64(1000 + x%2000000)
	switch mat {
	case "seed":
		rows = float64(10 + x%20)
	}
	bytes := rows * float64(60+x%140)
	bytes = float64(int64(bytes)/512*512 + 512)
	modified := "2025-07-01 04:3" + fmt.Sprint(x%10) + "UTC"
	if mat == "source" {
		modified = "2025-07-01 02:1" + fmt.Sprint(x%10) + "UTC"
	}
	s := o(
		"bytes", stat("bytes", "Approximate Size", bytes, true, "Approximate size of the table as reported by Snowflake"),
		"last_modified", stat("last_modified", "Last Modified", modified, true, "The timestamp for last update/change"),
	)
	if strings.HasPrefix(uid, "model.") && (strings.HasSuffix(uid, ".fct_payments") || strings.HasSuffix(uid, ".fct_loan_risk")) {
		key := "LINEAR(DUE_DATE)"
		if strings.HasSuffix(uid, ".fct_loan_risk") {
			key = "LINEAR(REPORTING_DATE)"
		}
		s.set("clustering_key", stat("clustering_key", "Clustering Key", key, true, "The key used to cluster this table"))
	}
	s.set("row_count", stat("row_count", "Row Count", rows, true, "An approximate count of rows in this table"))
	s.set("has_stats", stat("has_stats", "Has Stats?", true, false, "Indicates whether there are statistics for this table"))
	return s
}

// ---- run_results.json -----------------------------------------------------------------

// warnings are the tests (by name prefix) that found rows in the production run: payment
// hub started sending a new channel value, and three loans are above the LTV policy limit.
var warnings = map[string]int{
	"accepted_values_stg_core_banking__payments_payment_channel": 2,
	"assert_loan_to_value_within_policy":                         3,
}

func warnFailures(name string) (int, bool) {
	for p, f := range warnings {
		if strings.HasPrefix(name, p) {
			return f, true
		}
	}
	return 0, false
}

func (b *build) runResults() (*obj, error) {
	start, err := time.Parse(time.RFC3339Nano, runStarted)
	if err != nil {
		return nil, err
	}
	const threads = 4
	free := make([]time.Time, threads)
	for i := range free {
		free[i] = start
	}
	done := map[string]time.Time{}
	var results []any
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
	end := start
	for _, uid := range b.allNodeIDs() {
		n := b.nodes[uid]
		if n.materialized == "ephemeral" {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(uid))
		x := h.Sum64()
		var dur time.Duration
		switch n.materialized {
		case "view":
			dur = time.Duration(600+x%900) * time.Millisecond
		case "test":
			dur = time.Duration(450+x%2600) * time.Millisecond
		case "seed":
			dur = time.Duration(1800+x%1500) * time.Millisecond
		default:
			dur = time.Duration(2500+x%38000) * time.Millisecond
		}
		ready := start
		for _, d := range n.deps {
			if t, ok := done[d]; ok && t.After(ready) {
				ready = t
			}
		}
		th := 0
		for i := range free {
			if free[i].Before(free[th]) {
				th = i
			}
		}
		begin := ready
		if free[th].After(begin) {
			begin = free[th]
		}
		compileEnd := begin.Add(time.Duration(8+x%40) * time.Millisecond)
		finish := compileEnd.Add(dur)
		free[th] = finish.Add(2 * time.Millisecond)
		done[uid] = finish
		if finish.After(end) {
			end = finish
		}
		status, failures, message := "success", any(nil), any(nil)
		rows := 1
		resp := "SUCCESS 1"
		switch n.materialized {
		case "test":
			status, failures = "pass", 0
			if f, ok := warnFailures(n.name); ok && strings.EqualFold(n.severity, "warn") {
				status, failures = "warn", f
				message = fmt.Sprintf("Got %d results, configured to warn if != 0", f)
			}
		case "incremental":
			rows = int(1200 + x%800)
			resp = fmt.Sprintf("%d rows affected", rows)
		case "seed":
			rows = int(10 + x%4)
			resp = fmt.Sprintf("INSERT %d", rows)
		case "snapshot":
			rows = int(20 + x%200)
			resp = fmt.Sprintf("%d rows affected", rows)
		}
		if n.materialized == "table" {
			resp = "SUCCESS 1"
		}
		var rel any
		if n.rtype != "test" {
			rel = n.relation
		}
		results = append(results, o(
			"status", status,
			"timing", []any{
				o("name", "compile", "started_at", ts(begin), "completed_at", ts(compileEnd)),
				o("name", "execute", "started_at", ts(compileEnd), "completed_at", ts(finish)),
			},
			"thread_id", fmt.Sprintf("Thread-%d (worker)", th+1),
			"execution_time", float64(finish.Sub(begin).Microseconds())/1e6,
			"adapter_response", o("_message", resp, "code", "SUCCESS", "rows_affected", rows, "query_id", queryID(uid)),
			"message", message,
			"failures", failures,
			"unique_id", uid,
			"compiled", n.rtype != "seed",
			"compiled_code", compiledOrNil(n),
			"relation_name", rel,
			"batch_results", nil,
		))
	}
	return o(
		"metadata", o(
			"dbt_schema_version", "https://schemas.getdbt.com/dbt/run-results/v6.json",
			"dbt_version", dbtVersion,
			"generated_at", ts(end.Add(412*time.Millisecond)),
			"invocation_id", invocationID,
			"env", newObj(),
		),
		"results", results,
		"elapsed_time", float64(end.Add(1900*time.Millisecond).Sub(start).Microseconds())/1e6,
		"args", o(
			"invocation_command", `dbt build --target prod --vars {"reporting_date": "2025-06-30"}`,
			"which", "build",
			"target", "prod",
			"vars", o("reporting_date", "2025-06-30"),
			"select", []any{},
			"exclude", []any{},
			"resource_types", []any{},
			"full_refresh", false,
			"indirect_selection", "eager",
			"favor_state", false,
			"defer", false,
			"fail_fast", false,
			"store_failures", false,
			"threads", threads,
			"project_dir", "/usr/app/acme_risk",
			"profiles_dir", "/usr/app/acme_risk/profiles",
			"log_path", "/usr/app/acme_risk/logs",
			"write_json", true,
			"partial_parse", true,
			"static_parser", true,
			"send_anonymous_usage_stats", false,
			"use_colors", false,
			"log_format", "json",
			"quiet", false,
			"print", true,
			"printer_width", 80,
			"version_check", true,
			"populate_cache", true,
			"introspect", true,
			"cache_selected_only", false,
			"macro_debugging", false,
			"warn_error_options", o("include", []any{}, "exclude", []any{}),
			"show_resource_report", false,
			"strict_mode", false,
		),
	), nil
}

func compiledOrNil(n *node) any {
	if n.rtype == "seed" {
		return nil
	}
	return n.compiled
}

// queryID makes a Snowflake-shaped query id, stable per node.
func queryID(uid string) string {
	s := sha256.Sum256([]byte("acmebank-prod/" + uid))
	h := hex.EncodeToString(s[:])
	return "01bd" + h[0:4] + "-0306-" + h[4:8] + "-0000-" + h[8:20]
}
