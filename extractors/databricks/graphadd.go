package databricks

import "github.com/weftdata/weft/graph"

// The graph's Add* builders merge observations. The helpers here keep the
// extractor's hot paths (one call per lineage row) from re-merging what a
// batch already holds.

// ensureDataset adds a bare dataset unless the graph already has it.
func ensureDataset(g *graph.Graph, id graph.DatasetID, p graph.Platform, k graph.Kind) {
	if _, ok := g.Datasets[id]; ok {
		return
	}
	g.AddDataset(graph.Dataset{ID: id, Platform: p, Kind: k})
}

// ensureRun adds a run that lineage rows refer to unless the graph already
// has it.
func ensureRun(g *graph.Graph, id string, job graph.JobID) {
	if id == "" {
		return
	}
	if _, ok := g.Runs[id]; ok {
		return
	}
	g.AddRun(graph.Run{ID: id, Job: job})
}
