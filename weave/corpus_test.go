package weave

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/internal/corpus"
)

// corpusProject is one corpus folder's artifacts.
type corpusProject struct {
	name              string
	manifest, catalog []byte
}

func corpusProjects(t testing.TB) []corpusProject {
	t.Helper()
	var out []corpusProject
	for _, p := range corpus.DBTProjects(t) {
		cp := corpusProject{name: p.Name, manifest: mustRead(t, p.Manifest)}
		if p.Catalog != "" {
			cp.catalog = mustRead(t, p.Catalog)
		}
		out = append(out, cp)
	}
	return out
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// coverage is the measure: of the model columns weft knows (from
// the catalog or the manifest's documentation), how many get at least one
// upstream column edge, and how many are honestly constant.
type coverage struct {
	models, columns, withEdge, constant, edges, unresolved int
	missing                                                []string
}

func measure(t *testing.T, p corpusProject) coverage {
	t.Helper()
	ctx := context.Background()
	proj, err := dbt.Load(ctx, p.manifest, p.catalog, nil, dbt.Options{Account: "corpus"})
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	w := New(Options{Columns: true})
	w.Add(extractors.Batch{Graph: proj.Graph(), Statements: proj.Statements()})
	g, _, err := w.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	into := map[graph.ColumnID]bool{}
	for id := range g.ColumnEdges {
		if id.To.Column != "" {
			into[graph.ColumnID{Dataset: id.To.Dataset, Column: strings.ToUpper(id.To.Column)}] = true
		}
	}
	var c coverage
	c.edges = len(g.ColumnEdges)
	for _, f := range g.Findings {
		if f.Code == "unresolved_table" {
			c.unresolved++
		}
	}
	for _, n := range proj.Nodes {
		if n.ResourceType != "model" || n.CompiledSQL == "" || n.Language == "python" {
			continue
		}
		c.models++
		id := n.DatasetID()
		consts := w.Constants()[id]
		for _, col := range n.Columns {
			c.columns++
			key := graph.ColumnID{Dataset: id, Column: strings.ToUpper(col.Name)}
			switch {
			case into[key]:
				c.withEdge++
			case slices.ContainsFunc(consts, func(k string) bool { return strings.EqualFold(k, col.Name) }):
				c.constant++
			default:
				c.missing = append(c.missing, n.Name+"."+col.Name)
			}
		}
	}
	return c
}

// TestCorpusColumnCoverage reports, per corpus manifest with compiled SQL,
// the share of model columns with upstream lineage, and holds the two
// Snowflake production projects (they ship catalogs) to the 95%.
func TestCorpusColumnCoverage(t *testing.T) {
	for _, p := range corpusProjects(t) {
		t.Run(p.name, func(t *testing.T) {
			c := measure(t, p)
			if c.columns == 0 {
				t.Logf("%-34s %d models with SQL, no documented or catalogued columns", p.name, c.models)
				return
			}
			share := float64(c.withEdge+c.constant) / float64(c.columns)
			t.Logf("%-34s models %3d  columns %4d  with upstream %4d  constant %3d  covered %5.1f%%  column edges %5d  unresolved refs %d",
				p.name, c.models, c.columns, c.withEdge, c.constant, 100*share, c.edges, c.unresolved)
			if len(c.missing) > 0 {
				shown := c.missing[:min(len(c.missing), 8)]
				t.Logf("    without lineage (first %d of %d): %s", len(shown), len(c.missing), strings.Join(shown, ", "))
			}
			if strings.HasPrefix(p.name, "flipside_") && share < 0.95 {
				t.Errorf("%s: %.1f%% of model columns covered, want at least 95%%", p.name, 100*share)
			}
		})
	}
}
