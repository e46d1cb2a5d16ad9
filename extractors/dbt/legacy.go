package dbt

import (
	"slices"

	"github.com/tidwall/gjson"

	"github.com/weftdata/weft/graph"
)

// LegacyMetricInfo is what a metric of the dbt_metrics era reads (dbt 1.0
// to 1.5, manifest v4 to v9), before MetricFlow: an aggregation of an
// expression over one model's columns, or (derived, expression) a
// formula over other metrics.
type LegacyMetricInfo struct {
	// Calculation is calculation_method (v7+) or type (v4..v6): count,
	// count_distinct, sum, average, min, max, median; derived (v7+) or
	// expression (v6) for metrics computed from other metrics.
	Calculation string
	// Expression is expression (v7+) or sql: the column or SQL
	// expression aggregated ("*" for count), or for derived metrics the
	// formula ("{{ metric('revenue') }} / {{ metric('orders') }}").
	Expression string
	// Model is model_unique_id (v7+); empty means the model in depends_on.
	Model string
	// Timestamp is the time column the metric is grouped by, at the
	// grains of time_grains.
	Timestamp string
	// Dimensions are the columns the metric may be grouped by.
	Dimensions []string
	// Filters are the metric's filters: field, operator and value, as
	// {"field": "is_paying", "operator": "is", "value": "true"}.
	Filters []LegacyFilter
	// Metrics are the names of the metrics a derived metric reads (the
	// metrics key, [["revenue"], ["my_package", "orders"]]).
	Metrics []string
}

// LegacyFilter is one filter of a legacy metric.
type LegacyFilter struct {
	Field, Operator, Value string
}

// isDerived reports whether the metric is computed from other metrics.
func (m *LegacyMetricInfo) isDerived() bool {
	return m.Calculation == "derived" || m.Calculation == "expression"
}

func parseLegacyMetric(m LegacyMetricInfo, filters, metrics, dims gjson.Result) *LegacyMetricInfo {
	filters.ForEach(func(_, f gjson.Result) bool {
		if lf := (LegacyFilter{Field: f.Get("field").String(), Operator: f.Get("operator").String(), Value: f.Get("value").String()}); lf.Field != "" {
			m.Filters = append(m.Filters, lf)
		}
		return true
	})
	metrics.ForEach(func(_, ref gjson.Result) bool {
		// [name] or [package, name]; the name is last.
		var parts []string
		if ref.IsArray() {
			parts = appendStrings(nil, ref)
		} else if ref.String() != "" {
			parts = []string{ref.String()}
		}
		if len(parts) > 0 && parts[len(parts)-1] != "" {
			m.Metrics = append(m.Metrics, parts[len(parts)-1])
		}
		return true
	})
	m.Dimensions = appendStrings(nil, dims)
	return &m
}

// legacyModel is the model a legacy metric aggregates: model_unique_id,
// else the first dataset in depends_on that is not a metric.
func (p *Project) legacyModel(m *Node) *Node {
	if n := p.byID[m.LegacyMetric.Model]; n != nil && n.IsDataset() {
		return n
	}
	for _, dep := range m.DependsOn {
		if d := p.byID[dep]; d != nil && d.IsDataset() && d.ResourceType != "metric" {
			return d
		}
	}
	return nil
}

// legacyMetricEdges: the metric's one column reads the columns of its
// expression in its model (DIRECT AGGREGATION), or for a derived metric
// the metrics it is computed from (DIRECT TRANSFORMATION); its filters'
// fields are INDIRECT FILTER, and its timestamp and dimensions, the
// columns it is grouped by, INDIRECT GROUP_BY.
func (l *semanticLayer) legacyMetricEdges(g *graph.Graph, m *Node, ev graph.Evidence) {
	info := m.LegacyMetric
	to := graph.ColumnID{Dataset: m.DatasetID(), Column: m.Name}
	if info.isDerived() {
		var inputs []*Node
		for _, dep := range m.DependsOn {
			if d := l.p.byID[dep]; d != nil && d.ResourceType == "metric" {
				inputs = append(inputs, d)
			}
		}
		for _, name := range info.Metrics {
			if d := l.metrics[name]; d != nil && !slices.Contains(inputs, d) {
				inputs = append(inputs, d)
			}
		}
		for _, d := range inputs {
			addColumnEdge(g, graph.ColumnID{Dataset: d.DatasetID(), Column: d.Name}, to, graph.Direct, graph.SubtypeTransformation, ev)
		}
	}
	model := l.p.legacyModel(m)
	if model == nil {
		return
	}
	if !info.isDerived() {
		l.p.exprEdges(g, model, info.Expression, to, graph.SubtypeAggregation, ev)
	}
	for _, f := range info.Filters {
		l.p.readEdges(g, model, f.Field, to, graph.Indirect, graph.SubtypeFilter, ev)
	}
	for _, c := range append([]string{info.Timestamp}, info.Dimensions...) {
		if c != "" {
			l.p.readEdges(g, model, c, to, graph.Indirect, graph.SubtypeGroupBy, ev)
		}
	}
}
