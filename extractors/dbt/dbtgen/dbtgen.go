// Package dbtgen writes synthetic dbt manifests (schema v12) of any size,
// for benchmarks and scale tests: sources, a DAG of models in staging,
// intermediate and mart layers, columns, generic tests and, optionally,
// compiled SQL with the shapes real projects have (CTEs, joins,
// aggregates, select * from upstream models).
//
// Output is deterministic for a given Options value, and streamed: memory
// stays flat whatever the size.
package dbtgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Options size and shape the manifest.
type Options struct {
	Models  int // number of models; at least 1
	Sources int // number of sources; at least 1
	Columns int // columns per model and source; at least 1
	// TestsPerModel generic tests (not_null, unique, accepted_values,
	// relationships, in turn) are attached to each model's columns.
	TestsPerModel int
	// SQL adds compiled_code to every model: staging models select
	// columns from a source, later models join a select * CTE of one
	// upstream model with an aggregate of another, and every tenth model
	// is a plain select * from its upstream.
	SQL bool
	// Project is the dbt project name; default "synthetic".
	Project string
	// Seed makes the DAG shape reproducible; the same Options give the
	// same bytes.
	Seed uint64
}

const (
	database = "ANALYTICS"
	rawDB    = "RAW"
)

var columnTypes = []string{"NUMBER(38,0)", "TEXT", "TIMESTAMP_NTZ", "FLOAT", "BOOLEAN", "DATE", "VARIANT"}

// Generate writes a manifest to w.
func Generate(w io.Writer, opts Options) error {
	if opts.Models < 1 || opts.Sources < 1 || opts.Columns < 1 {
		return fmt.Errorf("dbtgen: models, sources and columns must be at least 1 (got %d, %d, %d)", opts.Models, opts.Sources, opts.Columns)
	}
	if opts.Project == "" {
		opts.Project = "synthetic"
	}
	g := &generator{
		opts: opts,
		bw:   bufio.NewWriterSize(w, 1<<20),
		rng:  rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)),
	}
	g.plan()
	g.write()
	if g.err != nil {
		return g.err
	}
	return g.bw.Flush()
}

type model struct {
	layer string // STAGING, INTERMEDIATE, MARTS
	deps  []int  // upstream model indexes; staging models read a source
	src   int    // source index for staging models
}

type generator struct {
	opts   Options
	bw     *bufio.Writer
	rng    *rand.Rand
	models []model
	err    error
}

// plan lays out the DAG: the first fifth of the models (at least one per
// source, capped by the models) are staging models over the sources; each
// later model reads one to three earlier models, biased to recent ones so
// that the DAG is deep as well as wide.
func (g *generator) plan() {
	n := g.opts.Models
	staging := max(1, min(n, max(n/5, g.opts.Sources)))
	g.models = make([]model, n)
	for i := range n {
		switch {
		case i < staging:
			g.models[i] = model{layer: "STAGING", src: i % g.opts.Sources}
		default:
			layer := "INTERMEDIATE"
			if i >= n-n/4 {
				layer = "MARTS"
			}
			k := 1 + g.rng.IntN(3)
			var deps []int
			for range k {
				lo := max(0, i-200)
				d := lo + g.rng.IntN(i-lo)
				if !contains(deps, d) {
					deps = append(deps, d)
				}
			}
			g.models[i] = model{layer: layer, deps: deps, src: -1}
		}
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (g *generator) modelID(i int) string {
	return fmt.Sprintf("model.%s.m_%05d", g.opts.Project, i)
}

func (g *generator) modelName(i int) string { return fmt.Sprintf("m_%05d", i) }

func (g *generator) sourceGroup(s int) string { return fmt.Sprintf("raw_%02d", s%20) }

func (g *generator) sourceID(s int) string {
	return fmt.Sprintf("source.%s.%s.src_%05d", g.opts.Project, g.sourceGroup(s), s)
}

func (g *generator) relation(i int) string {
	return fmt.Sprintf("%s.%s.%s", database, g.models[i].layer, g.modelName(i))
}

func (g *generator) sourceRelation(s int) string {
	return fmt.Sprintf("%s.%s.src_%05d", rawDB, strings.ToUpper(g.sourceGroup(s)), s)
}

func col(k int) string { return fmt.Sprintf("col_%02d", k) }

// str writes a JSON string.
func (g *generator) str(s string) {
	if g.err != nil {
		return
	}
	b, err := json.Marshal(s)
	if err != nil {
		g.err = err
		return
	}
	_, g.err = g.bw.Write(b)
}

// raw writes text as is.
func (g *generator) raw(format string, args ...any) {
	if g.err != nil {
		return
	}
	_, g.err = fmt.Fprintf(g.bw, format, args...)
}

func (g *generator) write() {
	p := g.opts.Project
	g.raw(`{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v12.json","dbt_version":"1.8.7",`)
	g.raw(`"generated_at":"2025-01-01T00:00:00.000000Z","invocation_id":"00000000-0000-4000-8000-000000000000","env":{},`)
	g.raw(`"project_name":%q,"adapter_type":"snowflake"},"nodes":{`, p)
	first := true
	sep := func() {
		if !first {
			g.raw(",")
		}
		first = false
	}
	for i := range g.models {
		sep()
		g.writeModel(i)
		for t := range g.opts.TestsPerModel {
			sep()
			g.writeTest(i, t)
		}
	}
	g.raw(`},"sources":{`)
	for s := range g.opts.Sources {
		if s > 0 {
			g.raw(",")
		}
		g.writeSource(s)
	}
	g.raw(`},"macros":{},"docs":{},"exposures":{},"metrics":{},"groups":{},"selectors":{},"disabled":{},`)
	g.raw(`"parent_map":{},"child_map":{},"group_map":{},"saved_queries":{},"semantic_models":{},"unit_tests":{}}`)
	g.raw("\n")
}

func (g *generator) writeColumns(owner string) {
	g.raw(`"columns":{`)
	for k := range g.opts.Columns {
		if k > 0 {
			g.raw(",")
		}
		g.raw(`%q:{"name":%q,"description":`, col(k), col(k))
		g.str(fmt.Sprintf("Column %d of %s: a synthetic attribute with a sentence of documentation.", k, owner))
		g.raw(`,"meta":{},"data_type":%q,"constraints":[],"quote":null,"tags":[]}`, columnTypes[k%len(columnTypes)])
	}
	g.raw(`}`)
}

func (g *generator) writeModel(i int) {
	p, m, name := g.opts.Project, g.models[i], g.modelName(i)
	id := g.modelID(i)
	path := strings.ToLower(m.layer) + "/" + name + ".sql"
	var deps []string
	if m.src >= 0 {
		deps = []string{g.sourceID(m.src)}
	}
	for _, d := range m.deps {
		deps = append(deps, g.modelID(d))
	}
	mat := "view"
	switch {
	case m.layer == "MARTS":
		mat = "table"
	case i%7 == 3:
		mat = "incremental"
	}
	g.raw(`%q:{"database":%q,"schema":%q,"name":%q,"resource_type":"model","package_name":%q,`, id, database, m.layer, name, p)
	g.raw(`"path":%q,"original_file_path":%q,"unique_id":%q,"fqn":[%q,%q,%q],"alias":%q,`,
		path, "models/"+path, id, p, strings.ToLower(m.layer), name, name)
	g.raw(`"checksum":{"name":"sha256","checksum":"%064x"},`, i)
	g.raw(`"config":{"enabled":true,"alias":null,"schema":null,"database":null,"tags":[],"meta":{},"materialized":%q,`, mat)
	g.raw(`"persist_docs":{},"quoting":{},"column_types":{},"on_schema_change":"ignore","contract":{"enforced":false,"alias_types":true},"access":"protected"},`)
	g.raw(`"tags":[],"description":`)
	g.str(fmt.Sprintf("Synthetic %s model %d.", strings.ToLower(m.layer), i))
	g.raw(`,`)
	g.writeColumns(name)
	g.raw(`,"meta":{},"relation_name":%q,"language":"sql","refs":[],"sources":[],"metrics":[],`, g.relation(i))
	g.raw(`"depends_on":{"macros":[],"nodes":[`)
	for k, d := range deps {
		if k > 0 {
			g.raw(",")
		}
		g.raw(`%q`, d)
	}
	g.raw(`]},"compiled_path":%q,"compiled":true,`, "target/compiled/"+p+"/models/"+path)
	g.raw(`"raw_code":`)
	g.str(g.rawCode(i))
	if g.opts.SQL {
		g.raw(`,"compiled_code":`)
		g.str(g.compiledSQL(i))
	}
	g.raw(`,"extra_ctes_injected":true,"extra_ctes":[],"contract":{"enforced":false,"alias_types":true,"checksum":null},`)
	g.raw(`"access":"protected","constraints":[],"version":null,"latest_version":null,"deprecation_date":null}`)
}

func (g *generator) rawCode(i int) string {
	m := g.models[i]
	if m.src >= 0 {
		return fmt.Sprintf("select * from {{ source('%s', 'src_%05d') }}", g.sourceGroup(m.src), m.src)
	}
	var refs []string
	for _, d := range m.deps {
		refs = append(refs, fmt.Sprintf("{{ ref('%s') }}", g.modelName(d)))
	}
	return "-- reads " + strings.Join(refs, ", ")
}

// compiledSQL renders a model's compiled SQL. All models share the column
// names col_00.., so select * and positional shapes line up.
func (g *generator) compiledSQL(i int) string {
	m := g.models[i]
	var b strings.Builder
	if m.src >= 0 {
		b.WriteString("select\n")
		for k := range g.opts.Columns {
			sep := ","
			if k == g.opts.Columns-1 {
				sep = ""
			}
			switch k % 6 {
			case 1:
				fmt.Fprintf(&b, "    trim(%s) as %s%s\n", col(k), col(k), sep)
			case 2:
				fmt.Fprintf(&b, "    %s::timestamp_ntz as %s%s\n", col(k), col(k), sep)
			default:
				fmt.Fprintf(&b, "    %s%s\n", col(k), sep)
			}
		}
		fmt.Fprintf(&b, "from %s\nwhere %s is not null", g.sourceRelation(m.src), col(0))
		return b.String()
	}
	up := m.deps[0]
	if i%10 == 0 || len(m.deps) == 1 {
		fmt.Fprintf(&b, "select *\nfrom %s", g.relation(up))
		if len(m.deps) == 1 {
			return b.String()
		}
		fmt.Fprintf(&b, "\nwhere %s in (select %s from %s)", col(0), col(0), g.relation(m.deps[1]))
		return b.String()
	}
	other := m.deps[1]
	fmt.Fprintf(&b, "with base as (\n    select * from %s\n),\n", g.relation(up))
	b.WriteString("agg as (\n    select\n        " + col(0))
	for k := 1; k < g.opts.Columns; k += 5 {
		fmt.Fprintf(&b, ",\n        sum(%s) as %s", col(k), col(k))
	}
	fmt.Fprintf(&b, "\n    from %s\n    group by %s\n)", g.relation(other), col(0))
	if len(m.deps) > 2 {
		fmt.Fprintf(&b, ",\nlookup as (\n    select distinct %s from %s\n)", col(0), g.relation(m.deps[2]))
	}
	b.WriteString("\nselect\n")
	for k := range g.opts.Columns {
		sep := ","
		if k == g.opts.Columns-1 {
			sep = ""
		}
		switch {
		case k == 0:
			fmt.Fprintf(&b, "    base.%s%s\n", col(k), sep)
		case k%5 == 1:
			fmt.Fprintf(&b, "    coalesce(agg.%s, 0) as %s%s\n", col(k), col(k), sep)
		case k%7 == 3:
			fmt.Fprintf(&b, "    case when base.%s > 0 then base.%s * 2 else null end as %s%s\n", col(k), col(k), col(k), sep)
		default:
			fmt.Fprintf(&b, "    base.%s%s\n", col(k), sep)
		}
	}
	fmt.Fprintf(&b, "from base\nleft join agg on agg.%s = base.%s", col(0), col(0))
	if len(m.deps) > 2 {
		fmt.Fprintf(&b, "\njoin lookup on lookup.%s = base.%s", col(0), col(0))
	}
	fmt.Fprintf(&b, "\nwhere base.%s is not null\nqualify row_number() over (partition by base.%s order by base.%s desc) = 1", col(min(2, g.opts.Columns-1)), col(0), col(0))
	return b.String()
}

func (g *generator) writeTest(i, t int) {
	p, name := g.opts.Project, g.modelName(i)
	c := col(t % g.opts.Columns)
	kinds := []string{"not_null", "unique", "accepted_values", "relationships"}
	kind := kinds[t%len(kinds)]
	testName := fmt.Sprintf("%s_%s_%s", kind, name, c)
	id := fmt.Sprintf("test.%s.%s.%010x", p, testName, i*131+t)
	deps := []string{g.modelID(i)}
	kwargs := fmt.Sprintf(`{"column_name":%q,"model":"{{ get_where_subquery(ref('%s')) }}"}`, c, name)
	switch kind {
	case "accepted_values":
		kwargs = fmt.Sprintf(`{"column_name":%q,"values":["a","b","c"],"model":"{{ get_where_subquery(ref('%s')) }}"}`, c, name)
	case "relationships":
		if len(g.models[i].deps) > 0 {
			to := g.models[i].deps[0]
			deps = append([]string{g.modelID(to)}, deps...)
			kwargs = fmt.Sprintf(`{"column_name":%q,"to":"ref('%s')","field":%q,"model":"{{ get_where_subquery(ref('%s')) }}"}`, c, g.modelName(to), c, name)
		} else {
			kind = "not_null"
		}
	}
	g.raw(`%q:{"database":%q,"schema":"DBT_TEST__AUDIT","name":%q,"resource_type":"test","package_name":%q,`, id, database, testName, p)
	g.raw(`"path":%q,"original_file_path":"models/schema.yml","unique_id":%q,"fqn":[%q,%q],"alias":%q,`, testName+".sql", id, p, testName, testName)
	g.raw(`"config":{"enabled":true,"materialized":"test","severity":"ERROR"},"tags":[],"description":"","columns":{},"meta":{},`)
	g.raw(`"relation_name":null,"language":"sql","depends_on":{"macros":["macro.dbt.test_%s"],"nodes":[`, kind)
	for k, d := range deps {
		if k > 0 {
			g.raw(",")
		}
		g.raw(`%q`, d)
	}
	g.raw(`]},"compiled":true,"compiled_code":`)
	g.str(fmt.Sprintf("select %s from %s where %s is null", c, g.relation(i), c))
	g.raw(`,"column_name":%q,"attached_node":%q,"test_metadata":{"name":%q,"kwargs":%s,"namespace":null}}`, c, g.modelID(i), kind, kwargs)
}

func (g *generator) writeSource(s int) {
	p, group := g.opts.Project, g.sourceGroup(s)
	name := fmt.Sprintf("src_%05d", s)
	id := g.sourceID(s)
	g.raw(`%q:{"database":%q,"schema":%q,"name":%q,"resource_type":"source","package_name":%q,`, id, rawDB, strings.ToUpper(group), name, p)
	g.raw(`"path":"models/sources.yml","original_file_path":"models/sources.yml","unique_id":%q,"fqn":[%q,%q,%q],`, id, p, group, name)
	g.raw(`"source_name":%q,"source_description":"Synthetic raw data.","loader":"snowpipe","identifier":%q,`, group, name)
	g.raw(`"quoting":{"database":null,"schema":null,"identifier":null,"column":null},"loaded_at_field":"_loaded_at",`)
	g.raw(`"freshness":{"warn_after":{"count":12,"period":"hour"},"error_after":{"count":24,"period":"hour"},"filter":null},`)
	g.raw(`"external":null,"description":`)
	g.str(fmt.Sprintf("Synthetic source table %d.", s))
	g.raw(`,`)
	g.writeColumns(name)
	g.raw(`,"meta":{},"source_meta":{},"tags":[],"config":{"enabled":true},"patch_path":null,"unrendered_config":{},`)
	g.raw(`"relation_name":%q,"created_at":1735689600.0}`, g.sourceRelation(s))
}
