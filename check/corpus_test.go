package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weftdata/weft/extractors"
	"github.com/weftdata/weft/extractors/dbt"
	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/internal/corpus"
	"github.com/weftdata/weft/weave"
)

// corpusDBT is the shared corpus's dbt folder (see internal/corpus).
func corpusDBT(t *testing.T) string { return corpus.Dir(t, "dbt") }

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
	dir := corpusDBT(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var manifest, catalog string
		for _, f := range files {
			name := strings.ToLower(f.Name())
			switch {
			case strings.Contains(name, "manifest") && strings.HasSuffix(name, ".json"):
				manifest = filepath.Join(dir, e.Name(), f.Name())
			case strings.Contains(name, "catalog") && strings.HasSuffix(name, ".json"):
				catalog = filepath.Join(dir, e.Name(), f.Name())
			}
		}
		if manifest == "" {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			base := buildFiles(t, manifest, catalog)
			pr := buildFiles(t, manifest, catalog)
			fs := Run(Input{Base: base.g, PR: pr.g, Project: pr.project, Outputs: pr.outputs, BaseOutputs: base.outputs})
			r := NewReport(e.Name(), fs)
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
	if n == 0 {
		t.Fatalf("no manifest found under %s", dir)
	}
}
