package dbt

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/weftdata/weft/graph"
	"github.com/weftdata/weft/internal/corpus"
)

// corpusCase is one project in the shared dbt corpus: a folder with a
// manifest and, sometimes, a catalog and run results.
type corpusCase struct {
	name                          string
	manifest, catalog, runResults string
}

func corpusCases(t testing.TB) []corpusCase {
	t.Helper()
	var cases []corpusCase
	for _, p := range corpus.DBTProjects(t) {
		cases = append(cases, corpusCase{name: p.Name, manifest: p.Manifest, catalog: p.Catalog, runResults: p.RunResults})
	}
	return cases
}

// rawManifest is the part of a manifest the corpus test reads on its own,
// with encoding/json, to check the extractor against.
type rawManifest struct {
	Nodes          map[string]rawNode `json:"nodes"`
	Sources        map[string]rawNode `json:"sources"`
	Exposures      map[string]rawNode `json:"exposures"`
	Metrics        map[string]rawNode `json:"metrics"`
	SemanticModels map[string]rawNode `json:"semantic_models"`
	SavedQueries   map[string]rawNode `json:"saved_queries"`
}

type rawNode struct {
	ResourceType string `json:"resource_type"`
	Config       struct {
		Enabled *bool `json:"enabled"`
	} `json:"config"`
	DependsOn struct {
		Nodes []string `json:"nodes"`
	} `json:"depends_on"`
	Exports []struct {
		Name string `json:"name"`
	} `json:"exports"`
	External *struct {
		Partitions []struct {
			Name string `json:"name"`
		} `json:"partitions"`
	} `json:"external"`
}

// datasetNodes returns the enabled nodes that become datasets, by
// unique_id, from the raw manifest.
func (m rawManifest) datasetNodes() map[string]rawNode {
	out := map[string]rawNode{}
	add := func(nodes map[string]rawNode, types ...string) {
		for id, n := range nodes {
			if n.Config.Enabled != nil && !*n.Config.Enabled {
				continue
			}
			if len(types) > 0 && !slices.Contains(types, n.ResourceType) {
				continue
			}
			out[id] = n
		}
	}
	add(m.Nodes, "model", "seed", "snapshot")
	add(m.Sources)
	add(m.Exposures)
	add(m.Metrics)
	add(m.SemanticModels)
	add(m.SavedQueries)
	return out
}

// edgeObs is one observation of a table edge: the datasets and the node
// whose depends_on produced it.
type edgeObs struct {
	From, To graph.DatasetID
	Origin   string
}

func TestCorpus(t *testing.T) {
	for _, c := range corpusCases(t) {
		t.Run(c.name, func(t *testing.T) {
			manifest := mustRead(t, c.manifest)
			p, err := Load(t.Context(), manifest, maybeRead(t, c.catalog), maybeRead(t, c.runResults), Options{Account: "corpus"})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			g := p.Graph()
			stmts := p.Statements()

			var raw rawManifest
			if err := json.Unmarshal(manifest, &raw); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			nodes := raw.datasetNodes()
			kept := 0
			for _, n := range p.Nodes {
				if n.IsDataset() {
					kept++
				}
			}
			if kept != len(nodes) {
				t.Errorf("got %d dataset nodes, the manifest has %d enabled models, seeds, snapshots, sources and consumers", kept, len(nodes))
			}
			for id := range nodes {
				n := p.Node(id)
				if n == nil {
					t.Errorf("%s: not loaded", id)
					continue
				}
				d := g.Datasets[n.DatasetID()]
				if d == nil || !slices.ContainsFunc(d.Identities, func(i graph.Identity) bool { return i.ID == n.DBTID }) && d.ID != n.DBTID {
					t.Errorf("%s: no dataset with its dbt identity", id)
				}
			}
			want := map[edgeObs]bool{}
			for id, n := range nodes {
				for _, dep := range n.DependsOn.Nodes {
					if _, ok := nodes[dep]; !ok {
						continue
					}
					from, to := p.Node(dep).DatasetID(), p.Node(id).DatasetID()
					if from.IsZero() || to.IsZero() {
						t.Errorf("%s -> %s: node without a dataset ID", dep, id)
						continue
					}
					if from == to {
						t.Errorf("%s -> %s: both build %s", dep, id, from)
						continue
					}
					want[edgeObs{from, to, id}] = true
				}
			}
			// An external table's partitions are columns of the source.
			for id, n := range nodes {
				if n.External == nil {
					continue
				}
				d := g.Datasets[p.Node(id).DatasetID()]
				for _, part := range n.External.Partitions {
					if !slices.ContainsFunc(d.Columns, func(c graph.Column) bool { return strings.EqualFold(c.Name, part.Name) }) {
						t.Errorf("%s: partition %q is not a column", id, part.Name)
					}
				}
			}
			// A saved query's exports are tables fed by the saved query,
			// with its columns.
			exports := map[[2]string]*graph.Dataset{}
			for _, d := range g.Datasets {
				if sq := d.Properties["dbt_saved_query"]; sq != "" {
					exports[[2]string{sq, d.Properties["export_name"]}] = d
				}
			}
			for id, n := range nodes {
				for _, ex := range n.Exports {
					d := exports[[2]string{id, ex.Name}]
					if d == nil {
						t.Errorf("%s: no dataset for export %q", id, ex.Name)
						continue
					}
					sq := g.Datasets[p.Node(id).DatasetID()]
					if len(d.Columns) != len(sq.Columns) {
						t.Errorf("%s: export %q has %d columns, the saved query %d", id, ex.Name, len(d.Columns), len(sq.Columns))
					}
					want[edgeObs{sq.ID, d.ID, id}] = true
				}
			}
			got := map[edgeObs]bool{}
			for _, e := range g.Edges {
				for _, ev := range e.Evidence {
					got[edgeObs{e.From, e.To, ev.Origin}] = true
				}
			}
			if diff := cmp.Diff(sortedObs(want), sortedObs(got)); diff != "" {
				t.Errorf("table edges differ from depends_on (-want +got):\n%s", diff)
			}
			wantIDs := map[graph.EdgeID]bool{}
			for o := range want {
				wantIDs[graph.EdgeID{From: o.From, To: o.To}] = true
			}
			if len(wantIDs) != len(g.Edges) {
				t.Errorf("got %d edges, want %d", len(g.Edges), len(wantIDs))
			}

			for _, s := range stmts {
				if s.SQL == "" || s.Dialect == "" || s.Origin.File == "" || s.Origin.NodeID == "" {
					t.Errorf("incomplete statement %+v", s.Origin)
				}
			}
			// Column edges dbt states without SQL (semantic layer,
			// snapshot strategies) end in columns their consumer lists,
			// and start in one when the upstream is a dbt consumer too.
			methods := map[string]int{}
			for id, e := range g.ColumnEdges {
				methods[e.Evidence[0].Method]++
				if id.To.Column == "" && id.Type != graph.Indirect {
					t.Errorf("%s -> %s: DIRECT edge to a whole dataset", id.From, id.To)
				}
				ends := []graph.ColumnID{id.To}
				if id.From.Dataset.Namespace == p.DBTNamespace {
					ends = append(ends, id.From)
				}
				for _, c := range ends {
					d := g.Datasets[c.Dataset]
					if d == nil {
						t.Errorf("column edge %s -> %s: no dataset %s", id.From, id.To, c.Dataset)
						continue
					}
					if _, ok := d.Column(c.Column); c.Column != "" && !ok && d.Kind != graph.KindSnapshot {
						t.Errorf("column edge %s -> %s: %s has no column %q", id.From, id.To, c.Dataset, c.Column)
					}
				}
			}
			for _, n := range p.Nodes {
				if n.ResourceType == "snapshot" && n.Snapshot != nil && methods["snapshot_strategy"] == 0 {
					t.Errorf("%s: snapshot with strategy %q but no snapshot_strategy column edges", n.UniqueID, n.Snapshot.Strategy)
				}
				if n.ResourceType == "semantic_model" && methods["semantic_model"] == 0 {
					t.Errorf("%s: no semantic_model column edges", n.UniqueID)
				}
			}
			counts := map[string]int{}
			for _, f := range g.Findings {
				counts[f.Code]++
			}
			columns := 0
			for _, d := range g.Datasets {
				columns += len(d.Columns)
			}
			t.Logf("%s v%d %s: nodes=%d datasets=%d columns=%d edges=%d column_edges=%d %v jobs=%d runs=%d statements=%d findings=%d %v",
				c.name, p.SchemaVersion, p.AdapterType, len(p.Nodes), len(g.Datasets), columns, len(g.Edges),
				len(g.ColumnEdges), methods, len(g.Jobs), len(g.Runs), len(stmts), len(g.Findings), counts)
		})
	}
}

func sortedObs(m map[edgeObs]bool) []edgeObs {
	out := make([]edgeObs, 0, len(m))
	for o := range m {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b edgeObs) int {
		return strings.Compare(a.From.String()+" "+a.To.String()+" "+a.Origin, b.From.String()+" "+b.To.String()+" "+b.Origin)
	})
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

func maybeRead(t testing.TB, path string) []byte {
	t.Helper()
	if path == "" {
		return nil
	}
	return mustRead(t, path)
}
