package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ds(name string) DatasetID { return DatasetID{Namespace: "snowflake://acme", Name: name} }

func col(dsName, c string) ColumnID { return ColumnID{Dataset: ds(dsName), Column: c} }

// stepString renders a step as "depth name via from>to,..." with the path
// in traversal order.
func stepString(s Step) string {
	var path []string
	for _, e := range s.Path {
		path = append(path, e.From.Name+">"+e.To.Name)
	}
	return fmt.Sprintf("%d %s via %s", s.Depth, s.ID.Name, strings.Join(path, ","))
}

func columnStepString(s ColumnStep) string {
	var path []string
	for _, e := range s.Path {
		path = append(path, fmt.Sprintf("%s.%s>%s.%s(%s)", e.From.Dataset.Name, e.From.Column, e.To.Dataset.Name, e.To.Column, e.Subtype))
	}
	return fmt.Sprintf("%d %s.%s via %s", s.Depth, s.ID.Dataset.Name, s.ID.Column, strings.Join(path, ","))
}

func TestDatasetTraversal(t *testing.T) {
	// raw1 -> stg -> int -> mart -> report
	// raw2 -> stg, raw2 -> mart, and a cycle mart -> loop -> int.
	g := New()
	for _, e := range [][2]string{
		{"raw1", "stg"}, {"raw2", "stg"}, {"stg", "int"}, {"int", "mart"},
		{"mart", "report"}, {"raw2", "mart"}, {"mart", "loop"}, {"loop", "int"},
	} {
		g.AddEdge(ds(e[0]), ds(e[1]), Evidence{Extractor: "dbt", Origin: e[1]})
	}
	tests := []struct {
		name  string
		up    bool
		start string
		depth int
		want  []string
	}{
		{name: "upstream unlimited with a cycle", up: true, start: "mart", want: []string{
			"1 int via int>mart",
			"1 raw2 via raw2>mart",
			"2 loop via int>mart,loop>int",
			"2 stg via int>mart,stg>int",
			"3 raw1 via int>mart,stg>int,raw1>stg",
		}},
		{name: "upstream depth 1", up: true, start: "mart", depth: 1, want: []string{
			"1 int via int>mart",
			"1 raw2 via raw2>mart",
		}},
		{name: "downstream unlimited", start: "raw2", want: []string{
			"1 mart via raw2>mart",
			"1 stg via raw2>stg",
			"2 int via raw2>stg,stg>int",
			"2 loop via raw2>mart,mart>loop",
			"2 report via raw2>mart,mart>report",
		}},
		{name: "downstream depth 2 from the cycle", start: "int", depth: 2, want: []string{
			"1 mart via int>mart",
			"2 loop via int>mart,mart>loop",
			"2 report via int>mart,mart>report",
		}},
		{name: "no edges", start: "unknown", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var steps []Step
			if tt.up {
				steps = g.Upstream(ds(tt.start), tt.depth)
			} else {
				steps = g.Downstream(ds(tt.start), tt.depth)
			}
			var got []string
			for _, s := range steps {
				got = append(got, stepString(s))
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestColumnTraversal(t *testing.T) {
	g := New()
	add := func(from, to ColumnID, typ, sub string) {
		g.AddColumnEdge(ColumnEdgeID{From: from, To: to, Type: typ, Subtype: sub}, Evidence{Extractor: "sql", Origin: "q"})
	}
	// stg.amount = raw.amt; stg filtered on raw.status (every column of stg).
	add(col("raw", "amt"), col("stg", "amount"), Direct, SubtypeIdentity)
	add(col("raw", "status"), ColumnID{Dataset: ds("stg")}, Indirect, SubtypeFilter)
	add(col("raw", "id"), col("stg", "id"), Direct, SubtypeIdentity)
	// mart.total = sum(stg.amount) grouped by stg.id.
	add(col("stg", "amount"), col("mart", "total"), Direct, SubtypeAggregation)
	add(col("stg", "id"), col("mart", "total"), Indirect, SubtypeGroupBy)
	add(col("stg", "id"), col("mart", "id"), Direct, SubtypeIdentity)
	// A column cycle: mart.total feeds back into stg.amount (a recursive job).
	add(col("mart", "total"), col("stg", "amount"), Direct, SubtypeTransformation)

	tests := []struct {
		name  string
		up    bool
		start ColumnID
		depth int
		want  []string
	}{
		{name: "upstream includes dataset-level filter", up: true, start: col("mart", "total"), want: []string{
			"1 stg.amount via stg.amount>mart.total(AGGREGATION)",
			"1 stg.id via stg.id>mart.total(GROUP_BY)",
			"2 raw.amt via stg.amount>mart.total(AGGREGATION),raw.amt>stg.amount(IDENTITY)",
			"2 raw.id via stg.id>mart.total(GROUP_BY),raw.id>stg.id(IDENTITY)",
			"2 raw.status via stg.amount>mart.total(AGGREGATION),raw.status>stg.(FILTER)",
		}},
		{name: "upstream depth 1", up: true, start: col("stg", "id"), depth: 1, want: []string{
			"1 raw.id via raw.id>stg.id(IDENTITY)",
			"1 raw.status via raw.status>stg.(FILTER)",
		}},
		{name: "downstream through every column", start: col("raw", "status"), want: []string{
			"1 stg. via raw.status>stg.(FILTER)",
			"2 mart.id via raw.status>stg.(FILTER),stg.id>mart.id(IDENTITY)",
			"2 mart.total via raw.status>stg.(FILTER),stg.amount>mart.total(AGGREGATION)",
			// The cycle leads back to one named column of stg.
			"3 stg.amount via raw.status>stg.(FILTER),stg.amount>mart.total(AGGREGATION),mart.total>stg.amount(TRANSFORMATION)",
		}},
		{name: "downstream with a cycle", start: col("raw", "amt"), want: []string{
			"1 stg.amount via raw.amt>stg.amount(IDENTITY)",
			"2 mart.total via raw.amt>stg.amount(IDENTITY),stg.amount>mart.total(AGGREGATION)",
		}},
		{name: "whole dataset upstream", up: true, start: ColumnID{Dataset: ds("mart")}, depth: 1, want: []string{
			"1 stg.amount via stg.amount>mart.total(AGGREGATION)",
			"1 stg.id via stg.id>mart.id(IDENTITY)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var steps []ColumnStep
			if tt.up {
				steps = g.UpstreamColumns(tt.start, tt.depth)
			} else {
				steps = g.DownstreamColumns(tt.start, tt.depth)
			}
			var got []string
			for _, s := range steps {
				got = append(got, columnStepString(s))
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestTraversalLongChain checks depth on a long chain and that the path of
// each step is a connected walk from the start.
func TestTraversalLongChain(t *testing.T) {
	g := New()
	const n = 200
	for i := range n {
		g.AddEdge(ds(fmt.Sprint(i)), ds(fmt.Sprint(i+1)), Evidence{Extractor: "x"})
	}
	g.AddEdge(ds(fmt.Sprint(n)), ds("0"), Evidence{Extractor: "x"}) // close the ring
	ix := NewIndex(g)
	steps := ix.Downstream(ds("0"), 0)
	if len(steps) != n {
		t.Fatalf("got %d steps, want %d", len(steps), n)
	}
	for _, s := range steps {
		if len(s.Path) != s.Depth || s.Path[0].From != ds("0") || s.Path[len(s.Path)-1].To != s.ID {
			t.Fatalf("step %s: bad path", stepString(s))
		}
		for i := 1; i < len(s.Path); i++ {
			if s.Path[i-1].To != s.Path[i].From {
				t.Fatalf("step %s: path not connected", stepString(s))
			}
		}
	}
	if got := len(ix.Upstream(ds("0"), 5)); got != 5 {
		t.Errorf("upstream depth 5: %d steps, want 5", got)
	}
}
