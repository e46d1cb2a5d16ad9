package dbt

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/weftdata/weft/graph"
)

// MetricInfo is what a MetricFlow metric reads.
type MetricInfo struct {
	// Measures are the semantic-model measures a simple, cumulative or
	// conversion metric aggregates: type_params.measure,
	// cumulative_type_params or conversion_type_params' measures, else
	// input_measures.
	Measures []MetricInput
	// Metrics are the metrics a derived, ratio or cumulative metric is
	// computed from: type_params.metrics, numerator and denominator,
	// cumulative_type_params.metric.
	Metrics []MetricInput
	// SemanticModel, Agg, Expr and AggTimeDimension describe a metric
	// defined straight on a semantic model's columns, without a measure
	// (type_params.metric_aggregation_params, dbt 1.11+). Expr is
	// type_params.expr; empty means the column named like the metric.
	SemanticModel, Agg, Expr, AggTimeDimension string
	// NonAdditive is metric_aggregation_params.non_additive_dimension.
	NonAdditive *NonAdditiveDimension
	// Filters are the metric's own filter.where_filters templates
	// ("{{ Dimension('loan__loan_status') }} = 'ACTIVE'").
	Filters []string
}

// MetricInput is one measure or metric a metric reads, with the filters
// applied to it alone.
type MetricInput struct {
	Name    string
	Alias   string
	Filters []string
}

// SavedQueryInfo is what a saved query selects.
type SavedQueryInfo struct {
	Metrics []string // metric names
	// GroupBy are the group-by items as written: "Entity('customer')",
	// "Dimension('order_id__ordered_at')",
	// "TimeDimension('metric_time', 'day')".
	GroupBy []string
	Where   []string // where_filters templates
	// Exports are the tables and views the saved query's result is
	// written to (dbt 1.7+), in manifest order.
	Exports []Export
}

// Export is one entry of a saved query's exports: the query's result
// written to a warehouse table or view.
type Export struct {
	Name string
	// As is config.export_as: table or view.
	As string
	// Database, Schema and Alias place the relation: config.database,
	// config.schema_name (else the saved query's config.schema) and
	// config.alias (else the export's name).
	Database, Schema, Alias string
	// Relation is the relation the export writes, in the project's
	// namespace; zero when the export names no schema.
	Relation graph.DatasetID
}

func parseMetric(tp, filter gjson.Result) *MetricInfo {
	m := &MetricInfo{Filters: whereFilters(filter)}
	input := func(v gjson.Result) (MetricInput, bool) {
		if v.Type == gjson.String {
			return MetricInput{Name: v.Str}, v.Str != ""
		}
		in := MetricInput{Name: v.Get("name").String(), Alias: v.Get("alias").String(), Filters: whereFilters(v.Get("filter"))}
		return in, in.Name != ""
	}
	addMeasure := func(v gjson.Result) {
		if in, ok := input(v); ok {
			m.Measures = append(m.Measures, in)
		}
	}
	addMetric := func(v gjson.Result) {
		if in, ok := input(v); ok {
			m.Metrics = append(m.Metrics, in)
		}
	}
	var inputMeasures gjson.Result
	tp.ForEach(func(k, v gjson.Result) bool {
		switch k.String() {
		case "measure":
			addMeasure(v)
		case "input_measures":
			inputMeasures = v
		case "numerator", "denominator":
			addMetric(v)
		case "metrics":
			v.ForEach(func(_, x gjson.Result) bool { addMetric(x); return true })
		case "expr":
			m.Expr = v.String()
		case "cumulative_type_params":
			addMetric(v.Get("metric"))
		case "conversion_type_params":
			addMeasure(v.Get("base_measure"))
			addMeasure(v.Get("conversion_measure"))
		case "metric_aggregation_params":
			m.SemanticModel = v.Get("semantic_model").String()
			m.Agg = v.Get("agg").String()
			m.AggTimeDimension = v.Get("agg_time_dimension").String()
			m.NonAdditive = parseNonAdditive(v.Get("non_additive_dimension"))
		}
		return true
	})
	// input_measures repeats, for every metric type, the measures the
	// metric ultimately needs; read it only when nothing more precise
	// names them.
	if len(m.Measures) == 0 && len(m.Metrics) == 0 && m.SemanticModel == "" {
		inputMeasures.ForEach(func(_, x gjson.Result) bool { addMeasure(x); return true })
	}
	return m
}

// whereFilters reads a filter: {"where_filters": [{"where_sql_template":
// ...}]} (dbt 1.7+), or {"where_sql_template": ...} (dbt 1.6).
func whereFilters(f gjson.Result) []string {
	var out []string
	if !f.IsObject() {
		return nil
	}
	if t := f.Get("where_sql_template").String(); t != "" {
		out = append(out, t)
	}
	f.Get("where_filters").ForEach(func(_, w gjson.Result) bool {
		if t := w.Get("where_sql_template").String(); t != "" {
			out = append(out, t)
		}
		return true
	})
	return out
}

// parseNonAdditive reads a non_additive_dimension; nil when there is none.
func parseNonAdditive(v gjson.Result) *NonAdditiveDimension {
	if !v.IsObject() {
		return nil
	}
	d := &NonAdditiveDimension{
		Name:            v.Get("name").String(),
		WindowChoice:    v.Get("window_choice").String(),
		WindowGroupings: appendStrings(nil, v.Get("window_groupings")),
	}
	if d.Name == "" && len(d.WindowGroupings) == 0 {
		return nil
	}
	return d
}

// parseSavedQuery reads query_params, and the exports with config (the
// saved query's config), which holds the defaults for export_as and the
// schema.
func parseSavedQuery(q, exports, config gjson.Result) *SavedQueryInfo {
	info := &SavedQueryInfo{
		Metrics: appendStrings(nil, q.Get("metrics")),
		GroupBy: appendStrings(nil, q.Get("group_by")),
		Where:   whereFilters(q.Get("where")),
	}
	exports.ForEach(func(_, e gjson.Result) bool {
		if !e.IsObject() {
			return true
		}
		c := e.Get("config")
		ex := Export{
			Name:     e.Get("name").String(),
			As:       cmp.Or(c.Get("export_as").String(), config.Get("export_as").String(), "table"),
			Database: c.Get("database").String(),
			Schema:   cmp.Or(c.Get("schema_name").String(), config.Get("schema").String()),
		}
		ex.Alias = cmp.Or(c.Get("alias").String(), ex.Name)
		info.Exports = append(info.Exports, ex)
		return true
	})
	return info
}

// semanticRefRE finds the MetricFlow object references in a filter or
// group-by: Dimension('entity__name'), TimeDimension('metric_time',
// 'day'), Entity('customer'), Metric('orders', group_by=[...]).
var semanticRefRE = regexp.MustCompile(`\b(Dimension|TimeDimension|Entity|Metric)\(\s*['"]([^'"]+)['"](?:\s*,\s*['"]([^'"]+)['"])?`)

type semanticRef struct {
	kind, name, grain string
}

func semanticRefs(s string) []semanticRef {
	var out []semanticRef
	for _, m := range semanticRefRE.FindAllStringSubmatch(s, -1) {
		out = append(out, semanticRef{kind: m[1], name: m[2], grain: m[3]})
	}
	return out
}

// semanticLayer indexes the semantic models, measures and metrics by the
// names MetricFlow uses for them.
type semanticLayer struct {
	p        *Project
	models   map[string]*Node // semantic model name → node
	measures map[string]fieldRef
	metrics  map[string]*Node // metric name → node
	sms      []*Node          // semantic models in unique_id order
}

type fieldRef struct {
	sm    *Node
	field SemanticField
}

func (p *Project) semanticLayer() *semanticLayer {
	l := &semanticLayer{p: p, models: map[string]*Node{}, measures: map[string]fieldRef{}, metrics: map[string]*Node{}}
	for _, n := range p.Nodes {
		switch n.ResourceType {
		case "semantic_model":
			l.sms = append(l.sms, n)
			if _, dup := l.models[n.Name]; !dup {
				l.models[n.Name] = n
			}
			for _, f := range n.Fields {
				if _, dup := l.measures[f.Name]; f.Kind == "measure" && !dup {
					l.measures[f.Name] = fieldRef{n, f}
				}
			}
		case "metric":
			if _, dup := l.metrics[n.Name]; !dup {
				l.metrics[n.Name] = n
			}
		}
	}
	return l
}

// baseModel is the model (or seed, snapshot) a semantic model sits on.
func (l *semanticLayer) baseModel(sm *Node) *Node {
	for _, dep := range sm.DependsOn {
		if d := l.p.byID[dep]; d != nil && d.IsDataset() && d.ResourceType != "semantic_model" {
			return d
		}
	}
	return nil
}

// field finds a semantic model's field by kind and name.
func field(sm *Node, kind, name string) (SemanticField, bool) {
	for _, f := range sm.Fields {
		if f.Kind == kind && f.Name == name {
			return f, true
		}
	}
	return SemanticField{}, false
}

// resolveDimension finds the semantic model column a Dimension or Entity
// reference names. "loan__loan_status" is dimension loan_status reached
// through entity loan: the semantic model with that entity and that
// dimension wins; otherwise the only one with the dimension, else the one
// of the metric being read (home). Ambiguous or unknown names resolve to
// nothing.
func (l *semanticLayer) resolveDimension(ref semanticRef, home []*Node) (graph.ColumnID, bool) {
	parts := strings.Split(ref.name, "__")
	name := parts[len(parts)-1]
	entity := ""
	if len(parts) > 1 {
		entity = parts[len(parts)-2]
	}
	kind := "dimension"
	if ref.kind == "Entity" {
		kind = "entity"
		entity = name
	}
	if name == "metric_time" {
		return graph.ColumnID{}, false
	}
	var withField, withBoth []*Node
	for _, sm := range l.sms {
		if _, ok := field(sm, kind, name); !ok {
			continue
		}
		withField = append(withField, sm)
		if f, ok := field(sm, "entity", entity); ok && (kind == "dimension" || f.Type != "foreign") {
			withBoth = append(withBoth, sm)
		}
	}
	pick := func(sm *Node) (graph.ColumnID, bool) {
		return graph.ColumnID{Dataset: sm.DatasetID(), Column: name}, true
	}
	switch {
	case len(withBoth) == 1:
		return pick(withBoth[0])
	case len(withField) == 1:
		return pick(withField[0])
	}
	for _, h := range home {
		for _, sm := range withField {
			if sm == h {
				return pick(sm)
			}
		}
	}
	return graph.ColumnID{}, false
}

// homes are the semantic models a metric reads, through its measures and
// input metrics.
func (l *semanticLayer) homes(m *Node, seen map[*Node]bool) []*Node {
	if m == nil || m.Metric == nil || seen[m] {
		return nil
	}
	seen[m] = true
	var out []*Node
	for _, in := range m.Metric.Measures {
		if r, ok := l.measures[in.Name]; ok {
			out = append(out, r.sm)
		}
	}
	if sm := l.models[m.Metric.SemanticModel]; sm != nil {
		out = append(out, sm)
	}
	for _, in := range m.Metric.Metrics {
		out = append(out, l.homes(l.metrics[in.Name], seen)...)
	}
	return out
}

// timeDimensions are the columns metric_time stands for in metric m: the
// agg_time_dimension of each semantic model it reads.
func (l *semanticLayer) timeDimensions(m *Node, seen map[*Node]bool) []graph.ColumnID {
	if m == nil || m.Metric == nil || seen[m] {
		return nil
	}
	seen[m] = true
	var out []graph.ColumnID
	add := func(sm *Node, dim string) {
		if sm != nil && dim != "" {
			out = append(out, graph.ColumnID{Dataset: sm.DatasetID(), Column: dim})
		}
	}
	for _, in := range m.Metric.Measures {
		if r, ok := l.measures[in.Name]; ok {
			add(r.sm, cmp.Or(r.field.AggTimeDimension, r.sm.AggTimeDimension))
		}
	}
	if sm := l.models[m.Metric.SemanticModel]; sm != nil {
		add(sm, cmp.Or(m.Metric.AggTimeDimension, sm.AggTimeDimension))
	}
	for _, in := range m.Metric.Metrics {
		out = append(out, l.timeDimensions(l.metrics[in.Name], seen)...)
	}
	return out
}

// semanticEdges adds the column edges of semantic models, metrics and
// saved queries: each consumer column from the columns it reads.
func (p *Project) semanticEdges(g *graph.Graph, base graph.Evidence) {
	l := p.semanticLayer()
	for _, n := range p.Nodes {
		ev := base
		ev.Origin = n.UniqueID
		switch n.ResourceType {
		case "semantic_model":
			ev.Method = "semantic_model"
			l.semanticModelEdges(g, n, ev)
		case "metric":
			ev.Method = "metric"
			if n.LegacyMetric != nil {
				l.legacyMetricEdges(g, n, ev)
			} else {
				l.metricEdges(g, n, ev)
			}
		case "saved_query":
			ev.Method = "saved_query"
			l.savedQueryEdges(g, n, ev)
			ev.Method = "saved_query_export"
			l.exportEdges(g, n, ev)
		}
	}
}

func addColumnEdge(g *graph.Graph, from, to graph.ColumnID, typ, subtype string, ev graph.Evidence) {
	if from.Dataset.IsZero() || to.Dataset.IsZero() || from.Column == "" || from == to {
		return
	}
	g.AddColumnEdge(graph.ColumnEdgeID{From: from, To: to, Type: typ, Subtype: subtype}, ev)
}

// semanticModelEdges: every entity, dimension and measure reads the
// columns of its expr (default: the column named like the field).
func (l *semanticLayer) semanticModelEdges(g *graph.Graph, sm *Node, ev graph.Evidence) {
	model := l.baseModel(sm)
	if model == nil {
		return
	}
	for _, f := range sm.Fields {
		if f.Name == "" {
			continue
		}
		to := graph.ColumnID{Dataset: sm.DatasetID(), Column: f.Name}
		subtype := graph.SubtypeTransformation
		if f.Kind == "measure" {
			subtype = graph.SubtypeAggregation
		}
		l.p.exprEdges(g, model, cmp.Or(f.Expr, f.Name), to, subtype, ev)
		if f.NonAdditive != nil {
			l.nonAdditiveEdges(g, sm, model, f.NonAdditive, cmp.Or(f.AggTimeDimension, sm.AggTimeDimension), to, ev)
		}
	}
}

// nonAdditiveEdges: a measure or metric with a non_additive_dimension
// keeps only the rows at that dimension's first or last value within each
// window grouping, so it depends on the dimension and the groupings the
// way a window function depends on its ORDER BY and PARTITION BY columns:
// INDIRECT WINDOW from each. They are the semantic model's columns when it
// has them as fields (metric_time is aggTime, the agg_time_dimension),
// else the model's columns of that name.
func (l *semanticLayer) nonAdditiveEdges(g *graph.Graph, sm, model *Node, d *NonAdditiveDimension, aggTime string, to graph.ColumnID, ev graph.Evidence) {
	name := d.Name
	if name == "metric_time" {
		name = aggTime
	}
	add := func(name string, kinds ...string) {
		if name == "" {
			return
		}
		for _, kind := range kinds {
			if _, ok := field(sm, kind, name); ok {
				addColumnEdge(g, graph.ColumnID{Dataset: sm.DatasetID(), Column: name}, to, graph.Indirect, graph.SubtypeWindow, ev)
				return
			}
		}
		if model != nil {
			l.p.readEdges(g, model, name, to, graph.Indirect, graph.SubtypeWindow, ev)
		}
	}
	add(name, "dimension")
	for _, w := range d.WindowGroupings {
		add(w, "entity", "dimension")
	}
}

// exprEdges adds DIRECT edges from the columns of model that expr reads
// to to. A plain column is IDENTITY (unless subtype is AGGREGATION); the
// columns of an expression get subtype. When the catalog lists model's
// columns, an expression's identifiers that are not among them (functions
// without parentheses, keywords weft does not list) are dropped; without
// a catalog they are kept with confidence 0.5 unless documented. A plain
// column is kept either way, so that a field naming a missing column
// shows up as a broken reference.
func (p *Project) exprEdges(g *graph.Graph, model *Node, expr string, to graph.ColumnID, subtype string, ev graph.Evidence) {
	p.readEdges(g, model, expr, to, graph.Direct, subtype, ev)
}

// readEdges is exprEdges for edges of any type: the columns of model that
// expr reads, to to. Only DIRECT TRANSFORMATION becomes IDENTITY for a
// plain column.
func (p *Project) readEdges(g *graph.Graph, model *Node, expr string, to graph.ColumnID, typ, subtype string, ev graph.Evidence) {
	idents, plain := exprColumns(expr)
	complete := slices.ContainsFunc(model.Columns, func(c Column) bool { return c.Index > 0 })
	for _, id := range idents {
		name, known := p.columnName(model, id)
		if !plain && !known && complete {
			continue
		}
		st := subtype
		if plain && typ == graph.Direct && st == graph.SubtypeTransformation {
			st = graph.SubtypeIdentity
		}
		e := ev
		if !plain && !known {
			e.Confidence = 0.5 // a guess from the expression's words
		}
		addColumnEdge(g, graph.ColumnID{Dataset: model.DatasetID(), Column: name}, to, typ, st, e)
	}
}

// columnName spells an identifier the way n's dataset names the column:
// the known column it matches, else the identifier folded by the
// platform's rules. known reports whether n lists the column.
func (p *Project) columnName(n *Node, id exprIdent) (name string, known bool) {
	folded := graph.Fold(p.Platform, id.text, id.quoted)
	if i := columnIndex(n.Columns, folded, id.text); i >= 0 {
		return n.Columns[i].Name, true
	}
	return folded, false
}

// metricEdges: the metric's one column (named like the metric) reads the
// measures, metrics or columns it aggregates, and, as INDIRECT FILTER, the
// dimensions its filters name.
func (l *semanticLayer) metricEdges(g *graph.Graph, m *Node, ev graph.Evidence) {
	info := m.Metric
	if info == nil {
		return
	}
	to := graph.ColumnID{Dataset: m.DatasetID(), Column: m.Name}
	filters := slices.Clone(info.Filters)
	subtype := graph.SubtypeTransformation
	switch m.Type {
	case "simple", "":
		subtype = graph.SubtypeIdentity
	case "cumulative":
		subtype = graph.SubtypeAggregation
	}
	for _, in := range info.Metrics {
		filters = append(filters, in.Filters...)
		if up := l.metrics[in.Name]; up != nil {
			addColumnEdge(g, graph.ColumnID{Dataset: up.DatasetID(), Column: up.Name}, to, graph.Direct, subtype, ev)
		} else if r, ok := l.measures[in.Name]; ok {
			// Early ratio metrics named measures as numerator and
			// denominator.
			addColumnEdge(g, graph.ColumnID{Dataset: r.sm.DatasetID(), Column: r.field.Name}, to, graph.Direct, subtype, ev)
		}
	}
	for _, in := range info.Measures {
		filters = append(filters, in.Filters...)
		if r, ok := l.measures[in.Name]; ok {
			addColumnEdge(g, graph.ColumnID{Dataset: r.sm.DatasetID(), Column: r.field.Name}, to, graph.Direct, subtype, ev)
		}
	}
	if sm := l.models[info.SemanticModel]; sm != nil {
		model := l.baseModel(sm)
		if model != nil {
			l.p.exprEdges(g, model, cmp.Or(info.Expr, m.Name), to, graph.SubtypeAggregation, ev)
		}
		if info.NonAdditive != nil {
			l.nonAdditiveEdges(g, sm, model, info.NonAdditive, cmp.Or(info.AggTimeDimension, sm.AggTimeDimension), to, ev)
		}
	}
	home := l.homes(m, map[*Node]bool{})
	for _, f := range filters {
		for _, ref := range semanticRefs(f) {
			l.filterEdge(g, ref, home, to, ev)
		}
	}
}

// filterEdge adds the INDIRECT FILTER edge for one reference in a where
// filter.
func (l *semanticLayer) filterEdge(g *graph.Graph, ref semanticRef, home []*Node, to graph.ColumnID, ev graph.Evidence) {
	var from graph.ColumnID
	switch ref.kind {
	case "Metric":
		up := l.metrics[ref.name]
		if up == nil {
			return
		}
		from = graph.ColumnID{Dataset: up.DatasetID(), Column: up.Name}
	default:
		var ok bool
		if from, ok = l.resolveDimension(ref, home); !ok {
			return
		}
	}
	addColumnEdge(g, from, to, graph.Indirect, graph.SubtypeFilter, ev)
}

// savedQueryColumns are the columns a saved query returns: its metrics,
// then its group-by items, named the way MetricFlow names its output
// ("customer", "order_id__ordered_at", "metric_time__day").
func savedQueryColumns(n *Node) []graph.Column {
	if n.Query == nil {
		return nil
	}
	var cols []graph.Column
	for _, m := range n.Query.Metrics {
		cols = append(cols, graph.Column{Name: m, Type: "metric"})
	}
	for _, gb := range n.Query.GroupBy {
		if name, kind := groupByColumn(gb); name != "" {
			cols = append(cols, graph.Column{Name: name, Type: kind})
		}
	}
	return cols
}

// groupByColumn names a group-by item's output column and its kind.
func groupByColumn(gb string) (name, kind string) {
	refs := semanticRefs(gb)
	if len(refs) != 1 {
		return "", ""
	}
	r := refs[0]
	switch r.kind {
	case "Entity":
		return r.name, "entity"
	case "TimeDimension":
		if r.grain != "" {
			return r.name + "__" + strings.ToLower(r.grain), "dimension"
		}
		return r.name, "dimension"
	case "Dimension":
		return r.name, "dimension"
	}
	return "", ""
}

// savedQueryEdges: each metric column reads the metric (IDENTITY), each
// group-by column the dimension or entity it names (metric_time: the
// metrics' time dimensions, TRANSFORMATION), and the where filters' columns
// affect the whole result (INDIRECT FILTER).
func (l *semanticLayer) savedQueryEdges(g *graph.Graph, n *Node, ev graph.Evidence) {
	q := n.Query
	if q == nil {
		return
	}
	ds := n.DatasetID()
	var metrics []*Node
	var home []*Node
	for _, name := range q.Metrics {
		m := l.metrics[name]
		if m == nil {
			continue
		}
		metrics = append(metrics, m)
		home = append(home, l.homes(m, map[*Node]bool{})...)
		addColumnEdge(g, graph.ColumnID{Dataset: m.DatasetID(), Column: m.Name}, graph.ColumnID{Dataset: ds, Column: name}, graph.Direct, graph.SubtypeIdentity, ev)
	}
	for _, gb := range q.GroupBy {
		name, _ := groupByColumn(gb)
		if name == "" {
			continue
		}
		to := graph.ColumnID{Dataset: ds, Column: name}
		ref := semanticRefs(gb)[0]
		if strings.HasPrefix(ref.name, "metric_time") || strings.HasSuffix(ref.name, "__metric_time") {
			for _, m := range metrics {
				for _, from := range l.timeDimensions(m, map[*Node]bool{}) {
					addColumnEdge(g, from, to, graph.Direct, graph.SubtypeTransformation, ev)
				}
			}
			continue
		}
		subtype := graph.SubtypeIdentity
		if ref.grain != "" {
			subtype = graph.SubtypeTransformation // truncated to the grain
		}
		if from, ok := l.resolveDimension(ref, home); ok {
			addColumnEdge(g, from, to, graph.Direct, subtype, ev)
		}
	}
	for _, w := range q.Where {
		for _, ref := range semanticRefs(w) {
			l.filterEdge(g, ref, home, graph.ColumnID{Dataset: ds}, ev)
		}
	}
}

// exportEdges: each export of a saved query is a copy of its result in a
// warehouse table or view. Each of the saved query's columns feeds the
// export's column of the same name (DIRECT IDENTITY), folded the way the
// warehouse spells MetricFlow's unquoted output names. The saved query's
// own filters reach the export through it.
func (l *semanticLayer) exportEdges(g *graph.Graph, n *Node, ev graph.Evidence) {
	if n.Query == nil {
		return
	}
	for _, ex := range n.Query.Exports {
		if ex.Relation.IsZero() {
			continue
		}
		for _, c := range savedQueryColumns(n) {
			from := graph.ColumnID{Dataset: n.DatasetID(), Column: c.Name}
			to := graph.ColumnID{Dataset: ex.Relation, Column: graph.Fold(l.p.Platform, c.Name, false)}
			addColumnEdge(g, from, to, graph.Direct, graph.SubtypeIdentity, ev)
		}
	}
}
