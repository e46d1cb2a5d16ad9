package demo

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// column is a column as the manifest documents it and the warehouse types it.
type column struct {
	name        string
	description string
	dataType    string // as declared (manifest); "" when undeclared
	whType      string // Snowflake catalog type
	meta        map[string]any
	tags        []string
	constraints []map[string]any
	granularity string
}

type node struct {
	uid, rtype, name string
	path, ofp        string
	fqn              []string
	database, schema string
	alias            string
	relation         string // "" for ephemeral models and tests
	materialized     string
	config           *obj
	unrendered       *obj
	raw, compiled    string
	refs             []string
	sources          [][2]string
	deps             []string
	macros           []string
	docCols          []column // documented (manifest)
	outCols          []column // what the relation holds (catalog)
	description      string
	patchPath        any
	checksum         string
	extraCTEs        []*obj
	ymlModel         *yModel
	incremental      bool
	access           string
	group            any
	contract         bool
	constraints      []map[string]any
	tags             []string
	meta             map[string]any
	// tests
	testMeta     *obj
	columnName   any
	attachedNode any
	fileKeyName  string
	severity     string
	parsedConfig *obj
}

type build struct {
	p          *project
	opts       Options
	nodes      map[string]*node
	order      []string // unique ids of models, seeds, snapshots in dependency order
	byName     map[string]*node
	sources    map[string]*sourceDef // "src.table"
	exposures  []*obj
	semModels  []*obj
	metrics    []*obj
	groups     []*obj
	groupMap   map[string][]string
	parentMap  map[string][]string
	checkedOut map[string]bool
}

type sourceDef struct {
	uid      string
	src      ySource
	tbl      ySourceTable
	ymlPath  string
	relation string
	cols     []column
}

func (b *build) pkg() string { return b.p.cfg.Name }

func newBuild(p *project, opts Options) (*build, error) {
	b := &build{p: p, opts: opts, nodes: map[string]*node{}, byName: map[string]*node{}, sources: map[string]*sourceDef{}, groupMap: map[string][]string{}, parentMap: map[string][]string{}}
	if err := b.loadSources(); err != nil {
		return nil, err
	}
	if err := b.loadSeeds(); err != nil {
		return nil, err
	}
	if err := b.loadModels(); err != nil {
		return nil, err
	}
	if err := b.loadSnapshots(); err != nil {
		return nil, err
	}
	if err := b.sortDAG(); err != nil {
		return nil, err
	}
	if err := b.compile(); err != nil {
		return nil, err
	}
	if err := b.loadTests(); err != nil {
		return nil, err
	}
	if err := b.loadOthers(); err != nil {
		return nil, err
	}
	return b, nil
}

func toColumns(ycols []yColumn) []column {
	var out []column
	for _, c := range ycols {
		out = append(out, column{name: c.Name, description: strings.TrimSpace(c.Description), dataType: c.DataType, whType: catalogType(c.DataType), meta: c.Meta, tags: c.Tags, constraints: c.Constraints, granularity: c.Granularity})
	}
	return out
}

func (b *build) loadSources() error {
	for _, yp := range b.p.ymlPath {
		for _, s := range b.p.yamls[yp].Sources {
			for _, t := range s.Tables {
				ident := t.Identifier
				if ident == "" {
					ident = t.Name
				}
				d := &sourceDef{
					uid:      fmt.Sprintf("source.%s.%s.%s", b.pkg(), s.Name, t.Name),
					src:      s,
					tbl:      t,
					ymlPath:  yp,
					relation: s.Database + "." + s.Schema + "." + ident,
					cols:     toColumns(t.Columns),
				}
				b.sources[s.Name+"."+t.Name] = d
			}
		}
	}
	return nil
}

// yamlEntry finds the properties of a model or seed by name.
func (b *build) yamlEntry(name string, seeds bool) (*yModel, string) {
	for _, yp := range b.p.ymlPath {
		list := b.p.yamls[yp].Models
		if seeds {
			list = b.p.yamls[yp].Seeds
		}
		for i := range list {
			if list[i].Name == name {
				return &list[i], yp
			}
		}
	}
	return nil, ""
}

func (b *build) add(n *node) error {
	if _, dup := b.byName[n.name]; dup {
		return fmt.Errorf("two resources named %s", n.name)
	}
	b.nodes[n.uid] = n
	b.byName[n.name] = n
	return nil
}

func stripExt(p string) string { return strings.TrimSuffix(p, path.Ext(p)) }

func (b *build) loadSeeds() error {
	for _, f := range b.p.seeds {
		rel := strings.TrimPrefix(f.path, "seeds/")
		name := path.Base(stripExt(rel))
		dirs := strings.Split(path.Dir(rel), "/")
		if dirs[0] == "." {
			dirs = nil
		}
		cfg := dirConfig(b.p.cfg.Seeds, b.pkg(), dirs)
		ym, yp := b.yamlEntry(name, true)
		colTypes := map[string]any{}
		if ym != nil {
			if ct, ok := ym.Config["column_types"].(map[string]any); ok {
				colTypes = ct
			}
		}
		header, types, err := readSeed(f, colTypes)
		if err != nil {
			return err
		}
		n := &node{
			uid: "seed." + b.pkg() + "." + name, rtype: "seed", name: name,
			path: rel, ofp: f.path, fqn: append(append([]string{b.pkg()}, dirs...), name),
			database: targetDatabase, schema: schemaFor(cfg), alias: name,
			materialized: "seed", raw: "", checksum: f.checksum(), ymlModel: ym,
		}
		n.relation = n.database + "." + n.schema + "." + n.alias
		n.tags = stringList(cfg["tags"])
		if ym != nil {
			n.docCols = toColumns(ym.Columns)
			n.description = strings.TrimSpace(ym.Description)
			n.patchPath = b.pkg() + "://" + yp
		}
		for i, h := range header {
			c := column{name: h, whType: catalogType(types[i])}
			n.outCols = append(n.outCols, c)
		}
		n.config = b.baseConfig(n, cfg, newObj())
		n.config.set("delimiter", ",").set("quote_columns", nil)
		if len(colTypes) > 0 {
			ct := newObj()
			for _, k := range sortedKeys(colTypes) {
				ct.set(k, colTypes[k])
			}
			n.config.set("column_types", ct)
		}
		n.unrendered = newObj()
		for _, k := range sortedKeys(cfg) {
			n.unrendered.set(k, cfg[k])
		}
		if err := b.add(n); err != nil {
			return err
		}
	}
	return nil
}

// schemaFor applies the project's generate_schema_name macro for the prod target:
// the custom schema as written, else the target schema.
func schemaFor(cfg map[string]any) string {
	if s, ok := cfg["schema"].(string); ok && s != "" {
		return strings.TrimSpace(s)
	}
	return targetSchema
}

func stringList(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (b *build) loadModels() error {
	for _, f := range b.p.models {
		rel := strings.TrimPrefix(f.path, "models/")
		name := path.Base(stripExt(rel))
		dirs := strings.Split(path.Dir(rel), "/")
		if dirs[0] == "." {
			dirs = nil
		}
		ps, err := parseSQL(f.content)
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		cfg := dirConfig(b.p.cfg.Models, b.pkg(), dirs)
		ym, yp := b.yamlEntry(name, false)
		if ym == nil {
			return fmt.Errorf("%s: model %s has no properties in a .yml file", f.path, name)
		}
		for k, v := range ym.Config {
			mergeConfig(cfg, k, v)
		}
		for _, k := range ps.config.keys {
			v := ps.config.vals[k]
			if d, ok := v.(*obj); ok {
				m := map[string]any{}
				for _, dk := range d.keys {
					m[dk] = d.vals[dk]
				}
				v = m
			}
			mergeConfig(cfg, k, v)
		}
		n := &node{
			uid: "model." + b.pkg() + "." + name, rtype: "model", name: name,
			path: rel, ofp: f.path, fqn: append(append([]string{b.pkg()}, dirs...), name),
			database: targetDatabase, schema: schemaFor(cfg), alias: name,
			materialized: fmt.Sprint(cfg["materialized"]), raw: f.content, checksum: f.checksum(),
			refs: ps.refs, sources: ps.sources, ymlModel: ym, incremental: ps.incr,
			description: strings.TrimSpace(ym.Description), patchPath: b.pkg() + "://" + yp,
			docCols: toColumns(ym.Columns), access: "protected", constraints: ym.Constraints,
			parsedConfig: ps.config,
		}
		if ym.Access != "" {
			n.access = ym.Access
		}
		if ym.Group != "" {
			n.group = ym.Group
			b.groupMap[ym.Group] = append(b.groupMap[ym.Group], n.uid)
		}
		if c, ok := cfg["contract"].(map[string]any); ok && c["enforced"] == true {
			n.contract = true
		}
		n.tags = stringList(cfg["tags"])
		if n.materialized != "ephemeral" {
			n.relation = n.database + "." + n.schema + "." + n.alias
		}
		for _, c := range n.docCols {
			if c.dataType == "" {
				return fmt.Errorf("%s: column %s.%s: declare data_type (it feeds catalog.json)", yp, name, c.name)
			}
		}
		n.outCols = n.docCols
		if ps.incr {
			n.macros = append(n.macros, "macro.dbt.is_incremental")
		}
		n.config = b.baseConfig(n, cfg, ps.config)
		n.unrendered = newObj()
		// unrendered_config: what the SQL config() call and the YAML said, then the project dirs
		dirOnly := dirConfig(b.p.cfg.Models, b.pkg(), dirs)
		for _, k := range sortedKeys(dirOnly) {
			n.unrendered.set(k, dirOnly[k])
		}
		for _, k := range sortedKeys(ym.Config) {
			n.unrendered.set(k, ym.Config[k])
		}
		for _, k := range ps.config.keys {
			n.unrendered.set(k, ps.config.vals[k])
		}
		if err := b.add(n); err != nil {
			return err
		}
	}
	return nil
}

// mergeConfig applies a more specific config value: tags add up, everything else replaces.
func mergeConfig(cfg map[string]any, k string, v any) {
	if k == "tags" {
		var all []any
		for _, t := range append(stringList(cfg[k]), stringList(v)...) {
			all = append(all, t)
		}
		cfg[k] = all
		return
	}
	cfg[k] = v
}

func (b *build) loadSnapshots() error {
	for _, f := range b.p.snaps {
		ps, err := parseSQL(f.content)
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		if ps.snapshot == "" {
			return fmt.Errorf("%s: no {%% snapshot %%} block", f.path)
		}
		rel := strings.TrimPrefix(f.path, "snapshots/")
		cfg := dirConfig(b.p.cfg.Snapshots, b.pkg(), nil)
		for _, k := range ps.config.keys {
			mergeConfig(cfg, k, ps.config.vals[k])
		}
		db := targetDatabase
		if s, ok := cfg["target_database"].(string); ok {
			db = s
		}
		n := &node{
			uid: "snapshot." + b.pkg() + "." + ps.snapshot, rtype: "snapshot", name: ps.snapshot,
			path: rel, ofp: f.path, fqn: []string{b.pkg(), stripExt(rel), ps.snapshot},
			database: db, schema: fmt.Sprint(cfg["target_schema"]), alias: ps.snapshot,
			materialized: "snapshot", raw: ps.body, checksum: f.checksum(),
			refs: ps.refs, sources: ps.sources, parsedConfig: ps.config, access: "protected",
		}
		n.relation = n.database + "." + n.schema + "." + n.alias
		n.tags = stringList(cfg["tags"])
		n.config = b.baseConfig(n, cfg, ps.config)
		n.unrendered = newObj()
		dirOnly := dirConfig(b.p.cfg.Snapshots, b.pkg(), nil)
		for _, k := range sortedKeys(dirOnly) {
			n.unrendered.set(k, dirOnly[k])
		}
		for _, k := range ps.config.keys {
			n.unrendered.set(k, ps.config.vals[k])
		}
		if err := b.add(n); err != nil {
			return err
		}
	}
	return nil
}

// baseConfig renders a node config with the fields dbt 1.9 writes, in its order.
func (b *build) baseConfig(n *node, cfg map[string]any, sqlCfg *obj) *obj {
	str := func(k string) any {
		if v, ok := cfg[k]; ok {
			return v
		}
		return nil
	}
	tags := stringList(cfg["tags"])
	if tags == nil {
		tags = []string{}
	}
	persist := newObj()
	if pd, ok := cfg["persist_docs"].(map[string]any); ok {
		for _, k := range sortedKeys(pd) {
			persist.set(k, pd[k])
		}
	}
	onSchema := "ignore"
	if v, ok := cfg["on_schema_change"].(string); ok {
		onSchema = v
	}
	c := o(
		"enabled", true,
		"alias", nil,
		"schema", str("schema"),
		"database", nil,
		"tags", tags,
		"meta", newObj(),
		"group", n.group,
		"materialized", n.materialized,
		"incremental_strategy", str("incremental_strategy"),
		"batch_size", nil,
		"lookback", 1,
		"begin", nil,
		"persist_docs", persist,
		"post-hook", []any{},
		"pre-hook", []any{},
		"quoting", newObj(),
		"column_types", newObj(),
		"full_refresh", nil,
		"unique_key", str("unique_key"),
		"on_schema_change", onSchema,
		"on_configuration_change", "apply",
		"grants", newObj(),
		"packages", []any{},
		"docs", o("show", true, "node_color", nil),
		"contract", o("enforced", n.contract, "alias_types", true),
		"event_time", nil,
		"concurrent_batches", nil,
	)
	if n.rtype == "model" {
		c.set("access", n.access)
	}
	if n.rtype == "snapshot" {
		c.set("strategy", str("strategy")).
			set("target_schema", str("target_schema")).
			set("target_database", str("target_database")).
			set("updated_at", str("updated_at")).
			set("check_cols", str("check_cols")).
			set("snapshot_meta_column_names", o("dbt_valid_to", nil, "dbt_valid_from", nil, "dbt_scd_id", nil, "dbt_updated_at", nil, "dbt_is_deleted", nil)).
			set("dbt_valid_to_current", nil).
			set("invalidate_hard_deletes", cfg["invalidate_hard_deletes"] == true)
	}
	// adapter-specific configs (dbt-snowflake) appear only when set
	for _, k := range []string{"cluster_by", "transient", "snowflake_warehouse", "copy_grants"} {
		if v, ok := cfg[k]; ok {
			c.set(k, v)
		}
	}
	return c
}

// sortDAG orders models, seeds and snapshots so that every node follows its parents.
func (b *build) sortDAG() error {
	deps := map[string][]string{}
	for uid, n := range b.nodes {
		for _, r := range n.refs {
			t, ok := b.byName[r]
			if !ok {
				return fmt.Errorf("%s: ref('%s') names no model, seed or snapshot", n.ofp, r)
			}
			deps[uid] = append(deps[uid], t.uid)
		}
		var ds []string
		for _, s := range n.sources {
			d, ok := b.sources[s[0]+"."+s[1]]
			if !ok {
				return fmt.Errorf("%s: source('%s', '%s') is not declared", n.ofp, s[0], s[1])
			}
			ds = append(ds, d.uid)
		}
		n.deps = append(append([]string{}, deps[uid]...), ds...)
		sort.Strings(n.deps)
		n.deps = dedupe(n.deps)
	}
	state := map[string]int{}
	var visit func(uid string) error
	visit = func(uid string) error {
		switch state[uid] {
		case 1:
			if b.opts.Lenient {
				return nil // dbt compile would refuse; the manifest keeps the cycle in depends_on
			}
			return fmt.Errorf("dependency cycle through %s", uid)
		case 2:
			return nil
		}
		state[uid] = 1
		ds := append([]string{}, deps[uid]...)
		sort.Strings(ds)
		for _, d := range ds {
			if err := visit(d); err != nil {
				return err
			}
		}
		state[uid] = 2
		b.order = append(b.order, uid)
		return nil
	}
	for _, uid := range sortedKeys(b.nodes) {
		if err := visit(uid); err != nil {
			return err
		}
	}
	return nil
}

// lenientColumns is what the warehouse holds after building a model whose
// SQL returns got: the SQL's columns, typed from the YAML where a name
// matches.
func lenientColumns(got []string, doc []column) []column {
	out := make([]column, 0, len(got))
	for _, g := range got {
		c := column{name: g, whType: "TEXT"}
		for _, d := range doc {
			if strings.EqualFold(d.name, g) {
				c.whType = d.whType
			}
		}
		out = append(out, c)
	}
	return out
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

var reWith = regexp.MustCompile(`(?i)^(\s*)with\b`)

// compile renders every node in dependency order, injects ephemeral CTEs the way dbt
// does, and checks each relation's declared columns against its compiled SQL.
func (b *build) compile() error {
	relCols := map[string][]string{}
	upper := func(cs []column) []string {
		var out []string
		for _, c := range cs {
			out = append(out, strings.ToUpper(c.name))
		}
		return out
	}
	for _, s := range b.sources {
		relCols[strings.ToUpper(s.relation)] = upper(s.cols)
	}
	lookup := func(rel string) ([]string, bool) {
		if rel == "TABLE()" {
			return nil, true
		}
		c, ok := relCols[strings.ToUpper(rel)]
		return c, ok
	}
	for _, uid := range b.order {
		n := b.nodes[uid]
		if n.rtype == "seed" {
			relCols[strings.ToUpper(n.relation)] = upper(n.outCols)
			continue
		}
		var ephemerals []*node
		ctx := renderCtx{
			vars:        b.p.vars,
			this:        n.relation,
			incremental: n.incremental, // the production run is an incremental run
			ref: func(name string) (string, error) {
				t := b.byName[name]
				if t.materialized == "ephemeral" {
					ephemerals = append(ephemerals, t)
					return "__dbt__cte__" + t.name, nil
				}
				return t.relation, nil
			},
			source: func(src, tbl string) (string, error) {
				return b.sources[src+"."+tbl].relation, nil
			},
		}
		sql, err := render(n.raw, ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", n.ofp, err)
		}
		n.compiled = sql
		if len(ephemerals) > 0 {
			var parts []string
			seen := map[string]bool{}
			for _, e := range ephemerals {
				if seen[e.uid] {
					continue
				}
				seen[e.uid] = true
				if len(e.extraCTEs) > 0 {
					return fmt.Errorf("%s: nested ephemeral models are not supported by demogen", e.ofp)
				}
				cte := " __dbt__cte__" + e.name + " as (\n" + e.compiled + "\n)"
				n.extraCTEs = append(n.extraCTEs, o("id", e.uid, "sql", cte))
				parts = append(parts, cte)
			}
			injected := strings.Join(parts, ", ")
			if m := reWith.FindStringSubmatchIndex(sql); m != nil {
				n.compiled = sql[:m[1]] + injected + "," + sql[m[1]:]
			} else {
				n.compiled = "with" + injected + "\n" + sql
			}
		}
		got, err := outputColumns(n.compiled, lookup)
		if err != nil && b.opts.Lenient {
			got, err = upper(n.outCols), nil // e.g. select * from a model later in a cycle
		}
		if err != nil {
			return fmt.Errorf("%s: reading output columns: %w", n.ofp, err)
		}
		if n.rtype == "snapshot" {
			// the snapshot strategy adds its meta columns; types come from the source
			src := b.sources[n.sources[0][0]+"."+n.sources[0][1]]
			for _, g := range got {
				c := column{name: g}
				for _, sc := range src.cols {
					if strings.EqualFold(sc.name, g) {
						c.whType = sc.whType
					}
				}
				n.outCols = append(n.outCols, c)
			}
			n.outCols = append(n.outCols,
				column{name: "DBT_SCD_ID", whType: "TEXT"},
				column{name: "DBT_UPDATED_AT", whType: "TIMESTAMP_NTZ"},
				column{name: "DBT_VALID_FROM", whType: "TIMESTAMP_NTZ"},
				column{name: "DBT_VALID_TO", whType: "TIMESTAMP_NTZ"})
			relCols[strings.ToUpper(n.relation)] = upper(n.outCols)
			continue
		}
		want := upper(n.outCols)
		if strings.Join(got, ",") != strings.Join(want, ",") && b.opts.Lenient {
			n.outCols = lenientColumns(got, n.docCols)
			want = got
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("%s: compiled SQL returns\n  %s\nbut the YAML declares\n  %s", n.ofp, strings.Join(got, ", "), strings.Join(want, ", "))
		}
		if n.relation != "" {
			relCols[strings.ToUpper(n.relation)] = want
		}
	}
	return nil
}

// ---- tests ----------------------------------------------------------------------------

var reClean = regexp.MustCompile(`[^0-9a-zA-Z_]+`)

type testSpec struct {
	kind   string
	kwargs map[string]any
	config map[string]any
}

func parseTestSpec(y yaml.Node) (testSpec, error) {
	if y.Kind == yaml.ScalarNode {
		return testSpec{kind: y.Value, kwargs: map[string]any{}}, nil
	}
	var m map[string]map[string]any
	if err := y.Decode(&m); err != nil {
		return testSpec{}, err
	}
	for k, v := range m {
		ts := testSpec{kind: k, kwargs: map[string]any{}}
		for ak, av := range v {
			if ak == "config" {
				ts.config, _ = av.(map[string]any)
				continue
			}
			ts.kwargs[ak] = av
		}
		return ts, nil
	}
	return testSpec{}, fmt.Errorf("empty test")
}

func (b *build) loadTests() error {
	var targets []*node
	for _, uid := range sortedKeys(b.nodes) {
		targets = append(targets, b.nodes[uid])
	}
	for _, t := range targets {
		if t.ymlModel == nil {
			continue
		}
		_, yp := b.yamlEntry(t.name, t.rtype == "seed")
		for _, c := range t.ymlModel.Columns {
			for _, ty := range c.Tests {
				spec, err := parseTestSpec(ty)
				if err != nil {
					return fmt.Errorf("%s: %s.%s: %w", yp, t.name, c.Name, err)
				}
				if err := b.genericTest(t, c.Name, spec, yp); err != nil {
					return err
				}
			}
		}
	}
	for _, f := range b.p.tests {
		if err := b.singularTest(f); err != nil {
			return err
		}
	}
	return nil
}

func argString(v any) string {
	switch x := v.(type) {
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, "__")
	}
	return fmt.Sprint(v)
}

func (b *build) genericTest(t *node, col string, spec testSpec, yp string) error {
	flat := []string{col}
	for _, k := range sortedKeys(spec.kwargs) {
		flat = append(flat, reClean.ReplaceAllString(argString(spec.kwargs[k]), "_"))
	}
	testID := spec.kind + "_" + t.name
	full := testID + "_" + strings.Join(flat, "__")
	alias := full
	if len(full) >= 64 {
		h := md5.Sum([]byte(full))
		alias = testID[:min(30, len(testID))] + "_" + hex.EncodeToString(h[:])
	}
	h := md5.Sum([]byte(full + "|" + yp))
	uid := "test." + b.pkg() + "." + full + "." + hex.EncodeToString(h[:])[:10]
	modelArg := fmt.Sprintf("{{ get_where_subquery(ref('%s')) }}", t.name)
	kw := o("column_name", col)
	refs := []string{}
	deps := []string{}
	rel := t.relation
	var compiled string
	switch spec.kind {
	case "not_null":
		compiled = fmt.Sprintf("\n    \n    \n\n\n\nselect %s\nfrom %s\nwhere %s is null\n\n\n", col, rel, col)
	case "unique":
		compiled = fmt.Sprintf("\n    \n    \n\nselect\n    %s as unique_field,\n    count(*) as n_records\n\nfrom %s\nwhere %s is not null\ngroup by %s\nhaving count(*) > 1\n\n\n", col, rel, col, col)
	case "accepted_values":
		vals, _ := spec.kwargs["values"].([]any)
		kw.set("values", vals)
		var qs []string
		for _, v := range vals {
			qs = append(qs, "'"+fmt.Sprint(v)+"'")
		}
		compiled = fmt.Sprintf("\n    \n    \n\nwith all_values as (\n\n    select\n        %s as value_field,\n        count(*) as n_records\n\n    from %s\n    group by %s\n\n)\n\nselect *\nfrom all_values\nwhere value_field not in (\n    %s\n)\n\n\n", col, rel, col, strings.Join(qs, ","))
	case "relationships":
		to := fmt.Sprint(spec.kwargs["to"])
		field := fmt.Sprint(spec.kwargs["field"])
		m := regexp.MustCompile(`^ref\('(\w+)'\)$`).FindStringSubmatch(to)
		if m == nil {
			return fmt.Errorf("%s: relationships to %s: only ref() is supported", yp, to)
		}
		parent, ok := b.byName[m[1]]
		if !ok {
			return fmt.Errorf("%s: relationships to unknown %s", yp, to)
		}
		kw.set("to", to).set("field", field)
		refs = append(refs, parent.name)
		deps = append(deps, parent.uid)
		compiled = fmt.Sprintf("\n    \n    \n\nwith child as (\n    select %s as from_field\n    from %s\n    where %s is not null\n),\n\nparent as (\n    select %s as to_field\n    from %s\n)\n\nselect\n    from_field\n\nfrom child\nleft join parent\n    on child.from_field = parent.to_field\n\nwhere parent.to_field is null\n\n\n", col, rel, col, field, parent.relation)
	default:
		return fmt.Errorf("%s: unsupported generic test %s", yp, spec.kind)
	}
	kw.set("model", modelArg)
	refs = append(refs, t.name)
	deps = append(deps, t.uid)
	sort.Strings(deps)
	severity := "ERROR"
	if s, ok := spec.config["severity"].(string); ok {
		severity = s
	}
	dirs := strings.Split(path.Dir(strings.TrimPrefix(strings.TrimPrefix(yp, "models/"), "seeds/")), "/")
	if dirs[0] == "." || strings.HasPrefix(yp, "seeds/") {
		dirs = nil
	}
	n := &node{
		uid: uid, rtype: "test", name: full, path: alias + ".sql", ofp: yp,
		fqn:      append(append([]string{b.pkg()}, dirs...), full),
		database: targetDatabase, schema: "dbt_test__audit", alias: alias,
		materialized: "test", raw: fmt.Sprintf("{{ test_%s(**_dbt_generic_test_kwargs) }}", spec.kind),
		compiled: compiled, refs: refs, deps: deps, checksum: "",
		macros:     []string{"macro.dbt.test_" + spec.kind, "macro.dbt.get_where_subquery"},
		testMeta:   o("name", spec.kind, "kwargs", kw, "namespace", nil),
		columnName: col, attachedNode: t.uid, severity: severity,
	}
	if strings.HasPrefix(yp, "seeds/") {
		n.fileKeyName = "seeds." + t.name
	} else {
		n.fileKeyName = "models." + t.name
	}
	n.config = b.testConfig(severity)
	if alias != full {
		n.config.set("alias", alias)
	}
	n.unrendered = newObj()
	if spec.config != nil {
		for _, k := range sortedKeys(spec.config) {
			n.unrendered.set(k, spec.config[k])
		}
	}
	b.nodes[uid] = n
	return nil
}

func (b *build) testConfig(severity string) *obj {
	return o(
		"enabled", true, "alias", nil, "schema", "dbt_test__audit", "database", nil,
		"tags", []string{}, "meta", newObj(), "group", nil, "materialized", "test",
		"severity", severity, "store_failures", false, "store_failures_as", nil,
		"where", nil, "limit", nil, "fail_calc", "count(*)", "warn_if", "!= 0", "error_if", "!= 0",
	)
}

func (b *build) singularTest(f file) error {
	ps, err := parseSQL(f.content)
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	rel := strings.TrimPrefix(f.path, "tests/")
	name := path.Base(stripExt(rel))
	n := &node{
		uid: "test." + b.pkg() + "." + name, rtype: "test", name: name, path: rel, ofp: f.path,
		fqn: []string{b.pkg(), name}, database: targetDatabase, schema: "dbt_test__audit", alias: name,
		materialized: "test", raw: f.content, refs: ps.refs, checksum: f.checksum(),
	}
	for _, r := range ps.refs {
		n.deps = append(n.deps, b.byName[r].uid)
	}
	sort.Strings(n.deps)
	n.severity = "ERROR"
	if s, ok := ps.config.get("severity"); ok {
		n.severity = fmt.Sprint(s)
	}
	n.config = b.testConfig(n.severity)
	if t, ok := ps.config.get("tags"); ok {
		n.config.set("tags", t)
		n.tags = stringList(t)
	}
	n.unrendered = ps.config
	n.compiled, err = render(f.content, renderCtx{vars: b.p.vars, ref: func(r string) (string, error) { return b.byName[r].relation, nil }})
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	b.nodes[n.uid] = n
	return nil
}
