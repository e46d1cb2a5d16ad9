package dbt

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLegacyMetrics checks the metrics of the dbt_metrics era, one
// manifest per shape: dbt 1.0 (v4: type and sql), dbt 1.2 (v6: type
// expression over other metrics) and dbt 1.4 (v8: calculation_method,
// expression, derived). Each metric's one column reads its expression's
// columns, its input metrics, its filters' fields and the columns it is
// grouped by.
func TestLegacyMetrics(t *testing.T) {
	tests := []struct {
		file string
		want []string // column edges into metrics: "from -> metric TYPE SUBTYPE", names without namespaces
	}{
		{
			file: "v4_snowflake",
			want: []string{
				"ANALYTICS.MARTS.DIM_CUSTOMERS.COUNTRY -> new_customers INDIRECT GROUP_BY",
				"ANALYTICS.MARTS.DIM_CUSTOMERS.COUNTRY -> paid_lifetime_value INDIRECT GROUP_BY",
				"ANALYTICS.MARTS.DIM_CUSTOMERS.CUSTOMER_ID -> new_customers DIRECT AGGREGATION",
				"ANALYTICS.MARTS.DIM_CUSTOMERS.IS_PAYING -> new_customers INDIRECT FILTER",
				"ANALYTICS.MARTS.DIM_CUSTOMERS.LIFETIME_VALUE -> paid_lifetime_value DIRECT AGGREGATION",
				"ANALYTICS.MARTS.DIM_CUSTOMERS.PLAN -> new_customers INDIRECT GROUP_BY",
				// case when plan != 'free' then lifetime_value end
				"ANALYTICS.MARTS.DIM_CUSTOMERS.PLAN -> paid_lifetime_value DIRECT AGGREGATION",
				"ANALYTICS.MARTS.DIM_CUSTOMERS.PLAN -> signups INDIRECT GROUP_BY",
				"ANALYTICS.MARTS.DIM_CUSTOMERS.SIGNUP_DATE -> new_customers INDIRECT GROUP_BY",
				"ANALYTICS.MARTS.DIM_CUSTOMERS.SIGNUP_DATE -> paid_lifetime_value INDIRECT GROUP_BY",
				// count(*) reads no column; its timestamp still groups it
				"ANALYTICS.MARTS.DIM_CUSTOMERS.SIGNUP_DATE -> signups INDIRECT GROUP_BY",
			},
		},
		{
			file: "v6_bigquery",
			want: []string{
				"metric.shop.order_count.order_count -> average_order_value DIRECT TRANSFORMATION",
				"metric.shop.revenue.revenue -> average_order_value DIRECT TRANSFORMATION",
				"shop-analytics.marts.fct_orders.amount -> revenue DIRECT AGGREGATION",
				"shop-analytics.marts.fct_orders.channel -> order_count INDIRECT GROUP_BY",
				"shop-analytics.marts.fct_orders.channel -> revenue INDIRECT GROUP_BY",
				"shop-analytics.marts.fct_orders.order_id -> order_count DIRECT AGGREGATION",
				"shop-analytics.marts.fct_orders.ordered_at -> order_count INDIRECT GROUP_BY",
				"shop-analytics.marts.fct_orders.ordered_at -> revenue INDIRECT GROUP_BY",
				"shop-analytics.marts.fct_orders.status -> order_count INDIRECT FILTER",
				"shop-analytics.marts.fct_orders.status -> revenue INDIRECT FILTER",
			},
		},
		{
			file: "v8_postgres",
			want: []string{
				"analytics.dbt_prod.orders.amount -> total_order_amount DIRECT AGGREGATION",
				"analytics.dbt_prod.orders.coupon_amount -> coupon_share DIRECT AGGREGATION",
				"analytics.dbt_prod.orders.customer_id -> rolling_customers DIRECT AGGREGATION",
				"analytics.dbt_prod.orders.order_date -> coupon_share INDIRECT GROUP_BY",
				"analytics.dbt_prod.orders.order_date -> order_count INDIRECT GROUP_BY",
				"analytics.dbt_prod.orders.order_date -> rolling_customers INDIRECT GROUP_BY",
				"analytics.dbt_prod.orders.order_date -> total_order_amount INDIRECT GROUP_BY",
				"analytics.dbt_prod.orders.order_id -> order_count DIRECT AGGREGATION",
				"analytics.dbt_prod.orders.status -> order_count INDIRECT GROUP_BY",
				"analytics.dbt_prod.orders.status -> total_order_amount INDIRECT FILTER",
				"analytics.dbt_prod.orders.status -> total_order_amount INDIRECT GROUP_BY",
				// [["total_order_amount"], ["jaffle", "order_count"]]
				"metric.jaffle.order_count.order_count -> average_order_amount DIRECT TRANSFORMATION",
				"metric.jaffle.total_order_amount.total_order_amount -> average_order_amount DIRECT TRANSFORMATION",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e, err := New(Config{Manifest: filepath.Join("testdata", "legacy_metrics", tt.file+".json"), Account: "acct"})
			if err != nil {
				t.Fatal(err)
			}
			b := extractOne(t, e)
			checkGolden(t, filepath.Join("legacy_metrics", tt.file+".golden"), dumpBatch(b))

			g := b.Graph
			var got []string
			for id, e := range g.ColumnEdges {
				if ev := e.Evidence[0]; ev.Method != "metric" || ev.Origin != id.To.Dataset.Name || ev.Confidence != 1 {
					t.Errorf("%s -> %s: evidence %+v", id.From, id.To, ev)
				}
				got = append(got, fmt.Sprintf("%s.%s -> %s %s %s", id.From.Dataset.Name, id.From.Column, id.To.Column, id.Type, id.Subtype))
				// Every edge starts in a column its model lists.
				if d := g.Datasets[id.From.Dataset]; d == nil {
					t.Errorf("%s: no dataset", id.From)
				} else if _, ok := d.Column(id.From.Column); !ok {
					t.Errorf("%s: no such column", id.From)
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("column edges (-want +got):\n%s", diff)
			}
			for _, f := range g.Findings {
				if f.Code != "no_compiled_sql" {
					t.Errorf("finding %s %s: %s", f.Code, f.Location, f.Message)
				}
			}
		})
	}
}

// TestLegacyMetricInfo checks what is read from each shape.
func TestLegacyMetricInfo(t *testing.T) {
	load := func(file string) *Project {
		t.Helper()
		e, err := New(Config{Manifest: filepath.Join("testdata", "legacy_metrics", file+".json")})
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		file, id string
		want     *LegacyMetricInfo
	}{
		{"v4_snowflake", "metric.growth.new_customers", &LegacyMetricInfo{
			Calculation: "count", Expression: "customer_id", Timestamp: "signup_date", Dimensions: []string{"plan", "country"},
			Filters: []LegacyFilter{{Field: "is_paying", Operator: "is", Value: "true"}},
		}},
		{"v6_bigquery", "metric.shop.average_order_value", &LegacyMetricInfo{
			Calculation: "expression", Expression: "{{ metric('revenue') }} / {{ metric('order_count') }}", Timestamp: "ordered_at",
			Dimensions: []string{"channel"}, Metrics: []string{"revenue", "order_count"},
		}},
		{"v8_postgres", "metric.jaffle.total_order_amount", &LegacyMetricInfo{
			Calculation: "sum", Expression: "amount", Model: "model.jaffle.orders", Timestamp: "order_date", Dimensions: []string{"status"},
			Filters: []LegacyFilter{{Field: "status", Operator: "!=", Value: "'returned'"}},
		}},
		{"v8_postgres", "metric.jaffle.average_order_amount", &LegacyMetricInfo{
			Calculation: "derived", Expression: "{{metric('total_order_amount')}} / {{metric('order_count')}}", Timestamp: "order_date",
			Dimensions: []string{"status"}, Metrics: []string{"total_order_amount", "order_count"},
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.id, "metric."), func(t *testing.T) {
			n := load(tt.file).Node(tt.id)
			if n == nil {
				t.Fatalf("no node %s", tt.id)
			}
			if n.Metric != nil {
				t.Errorf("a legacy metric read as a MetricFlow one: %+v", n.Metric)
			}
			if diff := cmp.Diff(tt.want, n.LegacyMetric); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(n.Fields) > 0 {
				t.Errorf("a legacy metric's dimensions read as semantic fields: %+v", n.Fields)
			}
		})
	}
}
