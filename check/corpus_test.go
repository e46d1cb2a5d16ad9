package check

import (
	"context"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/internal/corpus"
	"github.com/weftdata/weft/weave"
)

// buildFiles loads a manifest (and catalog) and weaves it with column
// lineage, as weft check does for --manifest and --base-manifest.
func buildFiles(t *testing.T, manifest, catalog string) built {
	t.Helper()
	ctx := context.Background()
	ex, err := dbt.New(dbt.Config{Manifest: manifest, Catalog: catalog})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ex.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := weave.New(weave.Options{Columns: true})
	w.Add(extractors.Batch{Graph: p.Graph(), Statements: p.Statements()})
	g, _, err := w.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return built{project: p, g: g, outputs: w.Outputs()}
}

// TestCorpusAgainstItself checks every corpus manifest against itself
// (--base-manifest = --manifest): a PR that changes nothing breaks nothing,
// so there must be no error. Warnings are logged.
func TestCorpusAgainstItself(t *testing.T) {
	for _, p := range corpus.DBTProjects(t) {
		t.Run(p.Name, func(t *testing.T) {
			base := buildFiles(t, p.Manifest, p.Catalog)
			pr := buildFiles(t, p.Manifest, p.Catalog)
			fs := Run(Input{Base: base.g, PR: pr.g, Project: pr.project, Outputs: pr.outputs, BaseOutputs: base.outputs})
			r := NewReport(p.Name, fs)
			for _, f := range fs {
				if f.Severity == graph.SeverityError {
					t.Errorf("error against itself: %s: [%s] %s", location(f), f.Rule, f.Message)
				} else {
					t.Logf("%s against itself: %s: [%s] %s", f.Severity, location(f), f.Rule, f.Message)
				}
			}
			t.Logf("%d nodes, %d column edges: %d errors, %d warnings", len(pr.project.Nodes), len(pr.g.ColumnEdges), r.Errors, r.Warnings)
		})
	}
}
